"""The registry database: engines for SQLite (WAL) and PostgreSQL, transactions, migrations.

Write transactions serialize per database on SQLite (``BEGIN IMMEDIATE``) and per model on
PostgreSQL (the service locks the model's row with ``SELECT ... FOR UPDATE``), so version numbers
are allocated without gaps or duplicates and no alias move is lost. Driver errors that mean
"cannot reach or open the database" become RegistryUnavailableError here, and nowhere else.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from modelport.errors import RegistryUnavailableError

MIGRATIONS = Path(__file__).with_name("migrations")
ALEMBIC_INI = Path(__file__).with_name("alembic.ini")
#: pg_advisory_xact_lock key that serializes concurrent first opens of one PostgreSQL database
MIGRATION_LOCK_KEY = 0x6D6F64656C706F
_WRITE = "modelport_write"
_SINGLE = "modelport_single_statement"


def normalize_url(url: str) -> str:
    """Send plain ``postgresql://`` URLs to psycopg 3 (SQLAlchemy's default driver is psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def display_url(url: str) -> str:
    """The URL with its password hidden, for error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<unparseable URL>"


def _unavailable(url: str, error: BaseException) -> RegistryUnavailableError:
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    return RegistryUnavailableError(
        f"the registry database {display_url(url)} cannot be reached: "
        f"{reason[0] if reason else type(error).__name__}")


def _is_unavailable(error: exc.DBAPIError) -> bool:
    # A bare DatabaseError is what SQLite raises for "file is not a database".
    return (isinstance(error, exc.OperationalError | exc.InterfaceError)
            or error.connection_invalidated or type(error) is exc.DatabaseError)


@functools.cache
def _head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


class Database:
    """One registry database; migrated to the newest schema on first use."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = normalize_url(url)
        try:
            parsed = make_url(self.url)
        except exc.ArgumentError as error:
            raise RegistryUnavailableError(f"invalid registry database URL: {error}") from error
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.is_postgres = parsed.get_backend_name() == "postgresql"
        if not (self.is_sqlite or self.is_postgres):
            raise RegistryUnavailableError(
                f"unsupported registry database {display_url(self.url)}: use sqlite:/// or "
                "postgresql://")
        self._timeout = timeout
        self._engine: Engine | None = None
        self._ready = False
        self._lock = threading.Lock()

    def _create_engine(self) -> Engine:
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:":
                try:
                    Path(database).parent.mkdir(parents=True, exist_ok=True)
                except OSError as error:
                    raise _unavailable(self.url, error) from error
            engine = create_engine(self.url, connect_args={"timeout": self._timeout})
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        return create_engine(self.url, pool_pre_ping=True,
                             connect_args={"connect_timeout": max(1, int(self._timeout))})

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = self._create_engine()
            if not self._ready:
                self._migrate(self._engine)
                self._ready = True
            return self._engine

    @contextmanager
    def read(self, *, snapshot: bool = True) -> Iterator[Connection]:
        """A read-only transaction: a consistent snapshot on both databases.

        ``snapshot=False`` is for reads whose statements need not agree with each other (a resolve):
        each statement then runs on its own, saving the BEGIN and COMMIT round trips.
        """
        with self._translated(), self.engine.connect() as conn:
            if not snapshot and self.is_postgres:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            elif not snapshot:
                conn = conn.execution_options(**{_SINGLE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed whole on success, rolled back whole on any error."""
        with self._translated(), self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    def insert_ignoring_conflicts(self, conn: Connection, table: Table,
                                  values: Mapping[str, Any]) -> None:
        """INSERT that does nothing when a unique constraint already holds the row."""
        dialect = postgresql if self.is_postgres else sqlite
        conn.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
                self._ready = False

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except exc.DBAPIError as error:
            if _is_unavailable(error):
                raise _unavailable(self.url, error) from error
            raise

    def _migrate(self, engine: Engine) -> None:
        """Upgrade to the head revision; a lock makes concurrent first opens take turns."""
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext

        with self._translated():
            head = _head_revision()
            with engine.connect() as conn:
                if MigrationContext.configure(conn).get_current_revision() == head:
                    return
            with engine.connect() as conn:
                conn = conn.execution_options(**{_WRITE: True})
                with conn.begin():
                    if self.is_postgres:
                        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                     {"key": MIGRATION_LOCK_KEY})
                    config = Config(str(ALEMBIC_INI))
                    config.set_main_option("script_location", str(MIGRATIONS))
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")


def _sqlite_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # Take transaction control away from the sqlite3 module so BEGIN IMMEDIATE is ours to emit.
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    if options.get(_WRITE, False):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif not options.get(_SINGLE, False):
        conn.exec_driver_sql("BEGIN")
