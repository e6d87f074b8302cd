"""The database: engine, sessions and migrations for SQLite and PostgreSQL."""

from __future__ import annotations

import collections
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite
from sqlalchemy import TableClause, event, inspect, text
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    NotSupportedError,
    ProgrammingError,
)
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, NullPool, PoolProxiedConnection
from sqlalchemy.util import EMPTY_DICT, await_

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration in migrations/versions (tests/test_migrations.py checks it is
# Alembic's head): a store already there is opened without loading Alembic, ~11 MB of
# the bot's memory for the life of the process.
SCHEMA_HEAD = "0019"


class Database:
    """One engine and its session factory; the only way the bot reaches its store."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        if self.url.get_backend_name() == "sqlite":
            self._prepare_sqlite_file()
        self.engine: AsyncEngine = create_async_engine(url, echo=echo, **self._engine_options())
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            event.listen(self.engine.sync_engine.pool, "checkin", _note_checkin)
            event.listen(self.engine.sync_engine.pool, "checkout", _ping)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        """Whether this store is the embedded SQLite file."""
        return self.url.get_backend_name() == "sqlite"

    def _prepare_sqlite_file(self) -> None:
        database = self.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)

    def _engine_options(self) -> dict[str, object]:
        if self.is_sqlite:
            return {"module": _LeanAiosqlite(aiosqlite, sqlite3)}
        # No JIT: the bot's statements read a few hundred rows at most, and a prepared
        # statement's plan costed over jit_above_cost (/latest's, when its LIMIT was a
        # parameter) spent 90 ms compiling for a 1 ms read.
        return {
            "pool_size": 10,
            "max_overflow": 10,
            "connect_args": {"server_settings": {"jit": "off"}},
        }

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed on success and rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session that only reads. On PostgreSQL its statements run outside a
        transaction, each seeing the store as it stands then (as SQLite's reads always do),
        so a short reply is one round trip instead of three (BEGIN, query, COMMIT)."""
        if self.is_sqlite:
            # No BEGIN is sent for a read, and an empty commit makes no trip (_LeanConnection).
            async with self.session() as session:
                yield session
            return
        async with (
            self.autocommit() as connection,
            AsyncSession(bind=connection, expire_on_commit=False) as session,
        ):
            yield session

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection where each statement commits by itself: a one-statement write
        costs one round trip instead of three."""
        async with self.engine.connect() as connection:
            yield await connection.execution_options(isolation_level="AUTOCOMMIT")

    async def upgrade(self) -> None:
        """Apply every pending Alembic migration."""
        async with self.engine.begin() as connection:
            if await connection.run_sync(_current_heads) != {SCHEMA_HEAD}:
                await connection.run_sync(_upgrade)

    async def migrations_pending(self) -> bool:
        """Whether the store is behind the migrations this code ships (or ahead of them).

        On SQLite the file is opened afresh: a pooled connection keeps reading a file
        that was since replaced or damaged, and the question is whether the store can be
        opened now.
        """
        engine = create_async_engine(self.url, poolclass=NullPool) if self.is_sqlite else None
        try:
            async with (engine or self.engine).connect() as connection:
                current = await connection.run_sync(_current_heads)
        finally:
            if engine is not None:
                await engine.dispose()
        return current != {SCHEMA_HEAD}

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def insert_into(
    session: AsyncSession, table: TableClause | type[object]
) -> sqlite.Insert | postgresql.Insert:
    """An INSERT in the session's dialect, so callers can add ON CONFLICT DO NOTHING."""
    if session.get_bind().dialect.name == "sqlite":
        return sqlite.insert(table)
    return postgresql.insert(table)


def is_unavailable(error: BaseException) -> bool:
    """Whether an error says the database could not be reached or went away, so the same
    write is worth trying again once it answers (rather than that the write is wrong)."""
    if isinstance(error, OSError | TimeoutError):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        return not isinstance(
            error, IntegrityError | DataError | ProgrammingError | NotSupportedError
        )
    return False


def _current_heads(connection: Connection) -> set[str]:
    """The revisions the store is at, read as Alembic reads them (none in a new store)."""
    if not inspect(connection).has_table("alembic_version"):
        return set()
    return set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def alembic_config() -> Config:
    """Alembic's configuration for the shipped migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class _LeanCursor(AsyncAdapt_aiosqlite_cursor):
    """A statement in one trip to the connection's thread: cursor, execute, fetch and close
    together. SQLAlchemy's adapter makes a trip for each, four a read, and a trip costs
    about as much as a short indexed read itself."""

    __slots__ = ("_lean_description", "_lean_rowcount", "_lean_lastrowid")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        # No cursor is opened here: each statement opens and closes its own in the thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._lean_description: Any = None
        self._lean_rowcount = -1
        self._lean_lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._lean_description

    @property
    def rowcount(self) -> int:
        return self._lean_rowcount

    @property
    def lastrowid(self) -> int:
        return self._lean_lastrowid  # type: ignore[return-value]

    async def _async_soft_close(self) -> None:
        """Nothing to close: the rows are already here and the cursor is gone."""

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._run(_execute_in_thread, operation, () if parameters is None else parameters)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._run(_executemany_in_thread, operation, seq_of_parameters)

    def _run(self, statement: Any, operation: Any, parameters: Any) -> None:
        try:
            description, rows, rowcount, lastrowid = await_(
                self._in_thread(statement, operation, parameters)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._lean_description, self._lean_rowcount, self._lean_lastrowid = (
            description,
            rowcount,
            lastrowid,
        )
        self._rows = collections.deque(rows)

    async def _in_thread(
        self, statement: Any, operation: Any, parameters: Any
    ) -> tuple[Any, list[Any], int, int | None]:
        async with self._adapt_connection._execute_mutex:
            return await self._connection._execute(
                statement, self._connection._conn, operation, parameters
            )


def _execute_in_thread(
    connection: sqlite3.Connection, operation: str, parameters: Any
) -> tuple[Any, list[Any], int, int | None]:
    """One statement with all its rows, run in the connection's thread."""
    cursor = connection.cursor()
    try:
        cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _executemany_in_thread(
    connection: sqlite3.Connection, operation: str, parameters: Sequence[Any]
) -> tuple[Any, list[Any], int, int | None]:
    """One statement for many parameter sets, run in the connection's thread."""
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, parameters)
        return cursor.description, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class _LeanConnection(AsyncAdapt_aiosqlite_connection):
    """aiosqlite through _LeanCursor, with no trip to the thread to commit or roll back
    when no transaction is open (every read-only session, every connection the pool
    takes back)."""

    __slots__ = ()
    _cursor_cls = _LeanCursor

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def _in_transaction(self) -> bool:
        # Without a transaction sqlite3's commit and rollback do nothing: no trip for that.
        connection = self._connection._connection
        return connection is not None and connection.in_transaction


class _LeanAiosqlite(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite module with _LeanConnection's connections."""

    def connect(self, *arg: Any, **kw: Any) -> _LeanConnection:
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True
        return _LeanConnection(self, await_(connection))


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers (commands) run while the poller writes; the busy timeout makes a
    # second writer wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# A connection handed back this recently answered a moment ago: asking again would add a
# round trip to every reply of a busy bot (HikariCP skips its check within 500 ms too).
PING_AFTER_IDLE_SECONDS = 0.5


def _note_checkin(_dbapi_connection: DBAPIConnection | None, record: ConnectionPoolEntry) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping(
    dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """Make sure a pooled PostgreSQL connection idle for a while still answers (the server
    may have restarted) before it is used; if not, the pool drops it and takes another. In
    place of pool_pre_ping, whose ping on asyncpg is a transaction of its own (BEGIN,
    ping, ROLLBACK) on every checkout: this one opens the transaction the session goes on
    to use, so a short reply costs four round trips, and three on a connection just used."""
    idle = time.monotonic() - record.info.get("checked_in_at", -PING_AFTER_IDLE_SECONDS)
    if idle < PING_AFTER_IDLE_SECONDS:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
    except Exception as error:
        raise DisconnectionError(str(error)) from error
    finally:
        with suppress(Exception):  # a dead connection may refuse to close its cursor too
            cursor.close()
