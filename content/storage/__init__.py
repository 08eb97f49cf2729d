"""How the records are kept: the ORM mappings, engines and Alembic migrations, read queries, the
organisation, its staff and channels (with the audit trail), tokens encrypted at rest, images on
disk, the staff notice outbox, and SQLite's WAL checkpoints."""
