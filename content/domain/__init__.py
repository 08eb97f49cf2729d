"""The domain's rules as plain functions of plain values (no session, no I/O): states and their
one transition function, platform limits and previews, reminder planning, languages, the times
people type, the texts of announcements, and the typed payloads of the bot's buttons."""
