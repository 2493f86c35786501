"""State: what analysts and the platform change (users, alerts, rules, audit), in SQL.

SQLAlchemy 2 over SQLite (embedded default) or PostgreSQL (scale); Alembic migrations.
Each capability declares its tables in its own ``model`` module on :data:`base.Base`.
"""
