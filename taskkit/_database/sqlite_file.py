"""How taskkit opens a SQLite file and sets it up: every connection it opens in this process
(through SQLAlchemy's driver or ``sqlite3``) gets its settings here.

SQLAlchemy-free on purpose: ``taskkit import`` into a new file writes with ``sqlite3`` alone
(``taskkit._new_sqlite_file``), and the engine (``taskkit._database.engine``) calls the same
functions on the connections its driver opens.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from taskkit._database import sqlite_head

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "SQLITE_PAGE_SIZE",
    "create_head_schema",
    "default_database_path",
    "open_sqlite",
    "plain_sqlite_path",
    "prepare_sqlite",
    "set_up_new_file",
]

SQLITE_BUSY_TIMEOUT_MS = 30_000
# The page size of the SQLite files taskkit creates (SQLite's default is 4,096): fewer pages to
# split, index and copy. A 1M-task seed (750 MB), measured in seconds: through the WAL, 4 KiB
# pages 11.3, 8 KiB 10.0 to 10.6, 16 KiB 9.1 to 9.5, 32 KiB 8.8 to 9.2, 64 KiB 10.3 to 10.8;
# through a rollback journal (the bulk writer's, into an empty file), 4 KiB 9.2 to 9.4 and
# 16 KiB 7.9 to 8.1. Not 32 KiB: no faster, and a small write (one update_task) writes each
# page it touches whole into the WAL.
SQLITE_PAGE_SIZE = 16_384


def default_database_path() -> Path:
    """The default SQLite file: ``data/taskkit.db`` in the project you are working in.

    The project is the nearest directory holding a ``pyproject.toml``, looking from the current
    directory up: a checkout of taskkit, or your own project that depends on it. So notebooks
    run from ``notebooks/`` and commands run from the root share one file, and it is never
    inside the installed package (site-packages may be read-only, and is replaced on
    upgrade). Outside any project it is ``data/taskkit.db`` under the current directory.
    """
    here = Path.cwd()
    for directory in (here, *here.parents):
        if (directory / "pyproject.toml").is_file():
            return directory / "data" / "taskkit.db"
    return here / "data" / "taskkit.db"


# sqlite:///PATH or sqlite+aiosqlite:///PATH (or +pysqlite), the path in the characters that
# SQLAlchemy's URL parser and database_url() leave as they are (no query, no escapes).
_PLAIN_SQLITE_URL = re.compile(
    r"sqlite(?:\+aiosqlite|\+pysqlite)?:///(?P<path>[A-Za-z0-9_./ +~-]+)"
)


def plain_sqlite_path(url: str | None) -> str | None:
    """The path (as written) of the file a plain SQLite URL names, read without SQLAlchemy:
    ``url``, or when it is ``None`` ``$DATABASE_URL``, else :func:`default_database_path`.
    ``None`` for any other URL, which ``database_url`` reads. For ``sqlite:///PATH`` (also with
    ``+aiosqlite`` or ``+pysqlite``) ``database_url`` gives ``sqlite+aiosqlite:///PATH``: the
    same file (a test holds the two readings equal)."""
    if url is None:
        url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{default_database_path()}"
    match = _PLAIN_SQLITE_URL.fullmatch(url.strip())
    return None if match is None else match["path"]


def prepare_sqlite(connection: Any, *, read_only: bool) -> None:
    """Set up a DB-API connection to a SQLite file as taskkit uses every one of them.

    The driver starts no transaction of its own (``isolation_level = None``: taskkit says
    ``BEGIN`` itself, DEFERRED for reads and IMMEDIATE for writes); a locked file is waited for
    up to the busy timeout; a writer checks foreign keys (SQLite leaves them off unless asked,
    per connection); a reader refuses to write, whatever SQL reaches it.
    """
    connection.isolation_level = None  # a plain attribute on aiosqlite's adapter too
    cursor = connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA query_only=1" if read_only else "PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def open_sqlite(path: str, *, read_only: bool = True, uri: bool = False) -> sqlite3.Connection:
    """A ``sqlite3`` connection to ``path`` (a ``file:`` URI with ``uri=True``), set up by
    :func:`prepare_sqlite`. It may be used from any thread, one at a time (reads run in
    whichever worker thread asyncio picks).

    Raises:
        sqlite3.Error: the file cannot be opened.
    """
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, uri=uri)
    try:
        prepare_sqlite(conn, read_only=read_only)
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def create_head_schema(execute: Callable[[str], object]) -> None:
    """Create taskkit's tables at the head revision in an empty SQLite database, with the
    revision row (:mod:`taskkit._database.sqlite_head`, what the migrations build), through
    ``execute`` (one statement a call; the caller holds the transaction)."""
    for statement in sqlite_head.STATEMENTS:
        execute(statement)
    execute(f"INSERT INTO alembic_version (version_num) VALUES ('{sqlite_head.REVISION}')")


def set_up_new_file(cursor: Any) -> None:
    """The settings a file taskkit may write keeps: 16 KiB pages (for a file without pages
    yet; one that has pages keeps its own), WAL mode, and ``synchronous=NORMAL`` (a
    connection's setting; in WAL mode it loses no committed transaction on a crash of the
    process, only on a power cut)."""
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")


def _switch_to_wal(cursor: Any) -> None:
    """Put the file in WAL mode (a setting the file keeps), unless it is in WAL mode already.

    The switch needs the file to itself for a moment. When another connection opening the same
    new file at the same time holds a lock, SQLite may answer "database is locked" at once
    rather than wait (it does not wait where waiting could deadlock): that connection is making
    the same switch, so this one goes on without it rather than fail to connect.
    """
    cursor.execute("PRAGMA journal_mode")
    if str(cursor.fetchone()[0]).lower() == "wal":
        return
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except Exception as exc:  # sqlite3.OperationalError, or aiosqlite's wrapper of it
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
