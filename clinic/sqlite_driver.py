"""SQLAlchemy's aiosqlite dialect, each statement done in one trip to SQLite's thread.

aiosqlite runs SQLite in a thread of its own; every call to it is a hand-over to that thread and
back. SQLAlchemy's adapter makes four for a statement that returns rows (open a cursor,
execute, fetch all, close) and three for one that does not; in the bot's profile under load
those hand-overs were a quarter of the process's CPU. Here the four happen in the thread in one
call, through aiosqlite's own queue (``Connection._execute``, as SQLAlchemy's adapter already
reaches into aiosqlite to set the isolation level). Behaviour is that of the stock dialect: the
same results, errors, transactions and pool; ``engine.dialect.name`` is still ``sqlite``.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
    SQLiteDialect_aiosqlite,
)

if TYPE_CHECKING:
    import sqlite3

DRIVER = "radyar_aiosqlite"

Outcome = tuple[Any, list[Any] | None, int | None, int]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any) -> Outcome:
    """In SQLite's thread: the whole statement, its rows (if any) and counts."""
    cursor = connection.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose ``execute`` is one hand-over to SQLite's thread."""

    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        """Run the statement and fetch its rows in one trip; errors as the stock cursor's."""
        try:
            driver = self._connection
            description, rows, lastrowid, rowcount = self.await_(
                driver._execute(lambda: _run(driver._conn, operation, parameters))
            )
            self.description = description
            if description:
                self.lastrowid = self.rowcount = -1
                self._rows = deque(rows or ())
            else:
                self.lastrowid, self.rowcount = lastrowid, rowcount
        except Exception as error:
            self._adapt_connection._handle_exception(error)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """The stock connection, handing out ``OneTripCursor`` (server-side cursors stay stock)."""

    __slots__ = ()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        """A server-side cursor as the stock one, any other a ``OneTripCursor``."""
        if server_side:
            return AsyncAdapt_aiosqlite_ss_cursor(self)
        return OneTripCursor(self)


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The stock DB-API adapter, whose connections are ``OneTripConnection``."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        """A stock aiosqlite connection, wrapped in a ``OneTripConnection``."""
        stock = super().connect(*arg, **kw)
        return OneTripConnection(self, stock._connection)


class OneTripDialect(SQLiteDialect_aiosqlite):
    """``sqlite+radyar_aiosqlite``: the stock dialect with ``OneTripCursor``."""

    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiosqlite_dbapi:
        """The DB-API module SQLAlchemy uses: aiosqlite behind ``OneTripDbapi``."""
        return OneTripDbapi(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "OneTripDialect")
