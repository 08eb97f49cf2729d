"""The domain's rules as plain functions of plain values (no session, no I/O): states and their
one transition function, platform limits and previews, reminder planning, languages, the times
people type, and the texts of announcements."""
