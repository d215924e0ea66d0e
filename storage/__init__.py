"""Storage: SQLAlchemy Core tables, Alembic migrations, repositories and the unit of work.

SQLite through aiosqlite is the embedded default; PostgreSQL through asyncpg is
chosen by the database URL. Both pass the same contract suite (tests/contract).
"""
