"""Async SQLAlchemy engine and sessions for SQLite (embedded) and PostgreSQL.

Services own their transactions: `async with db.tx() as s:` is the unit of work
(commit on exit, rollback on error). On SQLite every write transaction starts
with BEGIN IMMEDIATE so two writers queue on the busy timeout instead of
deadlocking on a read-to-write lock upgrade; read-only work uses `db.read()`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, Select, event, exc
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util.concurrency import await_

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, but INTEGER on SQLite so the primary key is the rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")

# Every fen amount: the API takes up to MAX_FEN (10^10), past int32. SQLite's INTEGER is 64-bit already, so
# only PostgreSQL's columns change (migration 0009) and SQLite's need no rebuild.
Money = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no offset, PostgreSQL would."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use core.clock.now()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Database:
    def __init__(
        self, url: str, *, echo: bool = False, pool_size: int = 20, max_overflow: int = 30, sql_stats: bool = False
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
            # The pool's rollback-on-return costs a hop to aiosqlite's thread after every transaction,
            # committed or not; _tune_sqlite's reset listener rolls back only a connection still in one.
            kwargs["pool_reset_on_return"] = None
        else:
            # No pool_pre_ping: it is a round trip on every checkout (one per transaction, ~8 an order).
            # A connection is pinged only after it sat idle (_ping_when_idle); recycling after an hour
            # covers server-side idle timeouts; a connection that dies mid-use is handled by SQLAlchemy's
            # optimistic invalidation (that request fails, the pool is refreshed for the next ones).
            kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_timeout=60, pool_recycle=3600)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _tune_sqlite(self.engine)
        else:
            _ping_when_idle(self.engine)
        if sql_stats:
            from fissionmall.core import sqlstats

            sqlstats.install(self.engine)
        self._tx = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read = async_sessionmaker(self.engine.execution_options(sqlite_immediate=False), expire_on_commit=False)

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: committed when the block ends, rolled back on error."""
        async with self._tx.begin() as s:
            yield s

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction (never takes SQLite's write lock)."""
        async with self._read() as s, s.begin():
            yield s

    async def dispose(self) -> None:
        await self.engine.dispose()


# A pooled connection unused this long is pinged before it is handed out: after a quiet spell (or a
# database restart during one) the first request still gets a live connection, as pool_pre_ping gave,
# while a busy pool, whose connections come back within milliseconds, pays no round trip for it.
IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["fm_idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("fm_idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return  # new (just connected) or recently used
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as e:
            # SQLAlchemy's documented pessimistic pattern: the pool drops this connection and checks
            # out (or opens) another, up to three times.
            raise exc.DisconnectionError() from e


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control from the driver so BEGIN IMMEDIATE is ours to emit.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", True)
        sql = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        # Straight to aiosqlite: one hop to its thread (sqlite3's Connection.execute) where
        # exec_driver_sql took three (cursor, execute, close), ~0.12 ms CPU each, on every transaction.
        try:
            await_(conn.connection.dbapi_connection._connection.execute(sql))  # type: ignore[union-attr]
        except Exception as e:  # raised as SQLAlchemy would have (e.g. OperationalError: database is locked)
            raise exc.DBAPIError.instance(sql, None, e, dialect.loaded_dbapi.Error, dialect=dialect) from e

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_conn: Any, _record: Any, state: Any) -> None:
        if state.terminate_only or not state.asyncio_safe or state.transaction_was_reset:
            return
        try:
            open_tx = bool(dbapi_conn._connection.in_transaction)
        except Exception:
            open_tx = True  # cannot tell: roll back, as the default reset would
        if open_tx:
            dbapi_conn.rollback()


_db: Database | None = None


def init_db(url: str, *, pool_size: int = 20, max_overflow: int = 30, sql_stats: bool = False) -> Database:
    global _db
    _db = Database(url, pool_size=pool_size, max_overflow=max_overflow, sql_stats=sql_stats)
    return _db


def get_db() -> Database:
    if _db is None:
        raise RuntimeError("database not initialised: call core.db.init_db() first")
    return _db


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def keyset_page(s: AsyncSession, stmt: Select[*tuple[Any, ...]], *, limit: int) -> tuple[list[Any], str | None]:
    """One page of a newest-first list; `stmt` is already filtered by `id < cursor`. Returns (rows, next cursor).

    One row more than the page is read, so a next cursor is given only when a next page exists. A
    statement selecting one entity pages its objects; one selecting several pages its rows, keyed by the first.
    """
    single = len(stmt.column_descriptions) == 1
    result = await (s.scalars if single else s.execute)(stmt.limit(limit + 1))
    rows = list(result.all())
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1] if single else rows[limit - 1][0]
    return rows[:limit], str(last.id)
