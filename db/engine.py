"""Engines ready for the app: SQLite tuned for concurrent Streamlit threads, schema migrated to head."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import StaticPool

from db.settings import database_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR: Path = Path(__file__).resolve().parent / "migrations"
#: How long a SQLite writer waits for another one before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 15_000
#: Execution option naming the SQLite BEGIN mode (DEFERRED or IMMEDIATE) for a connection.
SQLITE_BEGIN_OPTION = "campus_fer_sqlite_begin"
_BEGIN_MODES = ("DEFERRED", "IMMEDIATE")
#: pg_advisory_xact_lock key: app processes starting together migrate one at a time.
_PG_MIGRATION_LOCK = 0x43465F44


def make_engine(url: str | None = None, migrate: bool = True) -> Engine:
    """Create an engine for `url` (see `db.settings.database_url`) and, if `migrate`, upgrade to head.

    Migrating on start-up means a user's existing database follows app upgrades.
    """
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed)
    else:
        engine = sa.create_engine(parsed, pool_pre_ping=True)
    if migrate:
        upgrade_to_head(engine)
    return engine


def writer(engine: Engine) -> Engine:
    """The same engine, but SQLite transactions take the write lock at BEGIN (BEGIN IMMEDIATE).

    A deferred SQLite transaction that reads and then writes can fail at once with
    SQLITE_BUSY when another writer got in between; taking the lock first makes it wait.
    """
    return engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})


def alembic_config() -> Config:
    """Alembic configuration pointing at db/migrations, independent of the working directory."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@contextmanager
def migration_transaction(engine: Engine) -> Iterator[sa.Connection]:
    """A connection in a transaction that holds the migration lock (SQLite write lock / PG advisory lock)."""
    with writer(engine).connect() as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        yield connection


def upgrade_to_head(engine: Engine) -> None:
    """Run `alembic upgrade head` on `engine` in one transaction (DDL is transactional on both backends)."""
    from alembic import command

    config = alembic_config()
    with migration_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    }
    if in_memory:
        kwargs["poolclass"] = StaticPool  # one shared connection, or every checkout sees a new database
    elif not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Stop the sqlite3 module from issuing its own BEGINs (it skips them before DDL); SQLAlchemy's
    # "begin" event below starts every transaction instead, so migrations and savepoints are atomic.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
        cursor.execute("PRAGMA foreign_keys=ON")  # off by default: needed for ON DELETE CASCADE
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: sa.Connection) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
    if mode not in _BEGIN_MODES:
        raise ValueError(f"{SQLITE_BEGIN_OPTION} must be one of {_BEGIN_MODES}, not {mode!r}")
    connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def scratch_postgres_schema(base_url: str, prefix: str = "scratch") -> Iterator[str]:
    """A URL for a new, empty PostgreSQL schema on `base_url`'s server, dropped with all it holds on
    exit: for tests and benchmarks that need a database of their own beside others."""
    import uuid

    schema = f"{prefix}_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base_url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()
