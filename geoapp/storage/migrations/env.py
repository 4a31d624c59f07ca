"""Alembic environment for the PostGIS store (run by ``flask --app wsgi db upgrade``).

The URL and schema come from ``config.attributes`` (set by ``geoapp.storage.pg_schema``), not
from an ini file: the URL may hold a password and ``%`` signs an ini file would mangle.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

config = context.config
url: str = config.attributes["url"]
schema: str = config.attributes["schema"]


def run_migrations_online() -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        # The schema name is checked against [a-z_][a-z0-9_]* by geoapp.config.
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        connection.execute(text(f"SET search_path TO {schema}, public"))
        connection.commit()
        context.configure(
            connection=connection, version_table_schema=schema, transaction_per_migration=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `flask --app wsgi db upgrade`")
run_migrations_online()
