"""The domain: organisations, staff, channels, posts, events, publications and engagement.

`domain` holds their rules, `storage` how they are kept, `queueing` what staff do with posts and
events, `plans` what is imported, and `analytics` the engagement figures; `errors` (the one
error tree) and `i18n` (the catalogs in `locales/`) serve every layer of Afisha.
"""
