"""The domain: organisations, staff, channels, posts, events, publications and engagement; their
rules (limits, reminder planning, state transitions) and their storage."""
