"""Alembic environment: runs on the connection `db.engine.upgrade_to_head` passes in, or on its own.

From the repo root, `alembic upgrade head` migrates the database `db.settings.database_url()`
names ($CAMPUS_FER_DATABASE_URL, else data/campus_fer.sqlite3); `-x url=...` picks another.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from db.models import Base

config = context.config


def _url() -> str:
    from db.settings import database_url

    return context.get_x_argument(as_dictionary=True).get("url") or database_url()


def _run(connection: Connection) -> None:
    # SQLite cannot ALTER most things, so batch mode rebuilds tables. NB for future revisions: with
    # PRAGMA foreign_keys=ON, rebuilding a parent table would cascade-delete its children.
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # db.engine makes SQLite transactions real (explicit BEGIN), so DDL rolls back there too.
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():  # joins the caller's transaction
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # programmatic: db.engine.upgrade_to_head owns the transaction
        _run(connection)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    from db.engine import make_engine, migration_transaction

    engine = make_engine(_url(), migrate=False)
    try:
        with migration_transaction(engine) as connection:
            _run(connection)
    finally:
        engine.dispose()


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
