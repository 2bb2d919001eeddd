"""Where the data lives and how taskkit connects to it.

SQLite (a file under ``data/``) is the embedded default; PostgreSQL through asyncpg is where
users go when they outgrow one machine. Both are reached through one async code path.
"""

import asyncio
import contextlib
import os
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

import taskkit._database.pooler as pooler
import taskkit._models  # noqa: F401  (registers the tables on SQLModel.metadata)
from taskkit._checks import engine_argument
from taskkit._database.messages import (
    database_error,
    describe_database,
    is_memory_sqlite,
    redact,
    shown_url,
)
from taskkit._database.owner import (
    POSTGRES_CONNECT_TIMEOUT_S,
    SQLITE_BEGIN_OPTION,
    find_owner,
    owner,
)
from taskkit._database.sqlite_file import (
    default_database_path,
    open_sqlite,
    prepare_sqlite,
    set_up_new_file,
)
from taskkit._errors import (
    ConfigurationError,
    DatabaseUnavailableError,
    MissingTablesError,
    TaskkitError,
    WriteConflictError,
)
from taskkit._optional import require

__all__ = [
    "begin_writing",
    "connect",
    "create_db_and_tables",
    "create_sqlite_file",
    "database_url",
    "default_database_path",
    "describe_database",
    "dispose_default_engines",
    "get_session",
    "has_open_work",
    "is_memory_sqlite",
    "missing_sqlite_file",
    "missing_tables_error",
    "parse_database_url",
    "ping",
    "postgres_connect_args",
    "read_connection",
    "reading",
    "redact",
    "require_regular_file",
    "session",
    "snapshot_connection",
    "write_conflict_error",
    "write_transaction",
]


SUPPORTED_URLS = (
    "sqlite:///PATH, sqlite+aiosqlite:///PATH, sqlite+aiosqlite:// (in memory), "
    "postgresql://..., postgres://..., postgresql+asyncpg://..."
)

# libpq understands these, asyncpg rejects them as unexpected keyword arguments. Neon adds
# channel_binding=require to every URL it hands out.
_LIBPQ_ONLY_PARAMS = frozenset(
    {"channel_binding", "gssencmode", "sslcompression", "sslsni", "requiressl", "options"}
)
# Query parameters asyncpg (and SQLAlchemy's asyncpg dialect) accept, and how to coerce them:
# URL query values are strings, asyncpg wants numbers.
_ASYNCPG_PARAMS: dict[str, type | None] = {
    "ssl": None,
    "timeout": float,
    "command_timeout": float,
    "statement_cache_size": int,
    "prepared_statement_cache_size": int,
    "max_cached_statement_lifetime": int,
    "max_cacheable_statement_size": int,
    "target_session_attrs": None,
    "krbsrvname": None,
    "gsslib": None,
    "passfile": None,
}


def _parse(raw: str) -> URL:
    try:
        return make_url(raw)
    except (ArgumentError, ValueError):
        # Not echoed: without a parse we cannot tell which part might be a password.
        raise ConfigurationError(
            "the database URL could not be parsed (not shown, it may hold a password); "
            f"supported forms: {SUPPORTED_URLS}"
        ) from None


def database_url(url: str | URL | None = None) -> str:
    """The async SQLAlchemy URL taskkit connects to (:func:`parse_database_url`, as a string).

    Args:
        url: an explicit URL; when ``None``, the ``DATABASE_URL`` environment variable; when
            that is unset or empty, the SQLite file :func:`default_database_path`.

    Returns:
        The URL as a string (password included, since the engine needs it), normalized:
        ``sqlite:///p`` becomes ``sqlite+aiosqlite:///p``; ``postgres://`` and
        ``postgresql://`` become ``postgresql+asyncpg://`` (SQLAlchemy 2.1 would otherwise pick
        psycopg); ``sslmode=X`` becomes ``ssl=X`` and ``connect_timeout`` becomes ``timeout``;
        libpq-only parameters asyncpg rejects (``channel_binding``, ``gssencmode``,
        ``sslcompression``, ``sslsni``, ``requiressl``, ``options``) are dropped.
        ``pgbouncer=true`` (a pooler in transaction mode is in front of the server, see
        :func:`connect`) stays, for :func:`connect` to read.

    Raises:
        ConfigurationError: the URL cannot be parsed, its scheme is not supported, or it has a
            query parameter asyncpg does not know. The message never contains the password.
    """
    return parse_database_url(url).render_as_string(hide_password=False)


def parse_database_url(url: str | URL | None = None) -> URL:
    """What :func:`database_url` gives, as SQLAlchemy's URL object. Every part of taskkit that
    needs a URL's parts (the backend, the file) asks here; the only other parse is
    :func:`~taskkit._database.messages.shown_url`'s, to hide a password in a message."""
    if url is None:
        url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{default_database_path()}"
    if isinstance(url, URL):
        parsed = url
    elif isinstance(url, str):
        parsed = _parse(url.strip())
    else:
        raise ConfigurationError(
            f"database URL must be a string, got {type(url).__name__}; "
            f"supported forms: {SUPPORTED_URLS}"
        )
    # Split by hand: URL.get_backend_name() would try to load a "postgres" dialect and fail.
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite", "aiosqlite"):
        _require_sqlite_path_form(parsed)
        normalized = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres") and driver in ("", "asyncpg", "psycopg", "psycopg2"):
        normalized = _normalize_postgres_query(parsed.set(drivername="postgresql+asyncpg"))
    else:
        raise ConfigurationError(
            f"unsupported database URL scheme {parsed.drivername!r}; "
            f"supported forms: {SUPPORTED_URLS}"
        )
    return normalized


# What SQLAlchemy's SQLite dialect reads from the URL's query string.
_SQLITE_PARAMS = frozenset(
    {"timeout", "isolation_level", "detect_types", "check_same_thread", "cached_statements", "uri"}
)


def _require_sqlite_path_form(url: URL) -> None:
    # sqlite://data/x.db reads as host "data", file "x.db": SQLAlchemy refuses it later with a
    # 60-line traceback. Say what the form is, once.
    if url.host or url.port or url.username or url.password:
        raise ConfigurationError(
            f"a SQLite URL has no host: {shown_url(url)!r} "
            "has one (two slashes); write sqlite:///relative/path.db (three slashes) or "
            "sqlite:////absolute/path.db (four)"
        )
    # Without uri=true SQLAlchemy ignores other parameters with a warning (`?mode=ro` would
    # quietly open the file for writing).
    unknown = sorted(set(url.query) - _SQLITE_PARAMS)
    if unknown and "uri" not in url.query:
        raise ConfigurationError(
            f"unsupported SQLite URL parameter(s) {', '.join(unknown)}; allowed: "
            f"{', '.join(sorted(_SQLITE_PARAMS))} (with uri=true, SQLite's own URI parameters)"
        )


def _normalize_postgres_query(url: URL) -> URL:
    query = dict(url.query)
    if "sslmode" in query:
        sslmode = query.pop("sslmode")
        query.setdefault("ssl", sslmode)
    if "connect_timeout" in query:
        query.setdefault("timeout", query.pop("connect_timeout"))
    for name in _LIBPQ_ONLY_PARAMS:
        query.pop(name, None)
    unknown = sorted(set(query) - set(_ASYNCPG_PARAMS) - {pooler.PARAM})
    if unknown:
        raise ConfigurationError(
            f"unsupported PostgreSQL URL parameter(s) {', '.join(unknown)} in "
            f"{shown_url(url)!r}; allowed: "
            f"{', '.join(sorted(_ASYNCPG_PARAMS))}, sslmode, connect_timeout, {pooler.PARAM}"
        )
    pooler.switch(query)  # a bad value is an error now, not at the first connection
    return url.set(query=query)


def connect(
    url: str | URL | None = None, *, echo: bool = False, **engine_kwargs: Any
) -> AsyncEngine:
    """Create an ``AsyncEngine`` set up the way taskkit needs it.

    Args:
        url: any URL :func:`database_url` accepts (``None``: ``DATABASE_URL`` or the default file).
        echo: log every SQL statement.
        **engine_kwargs: passed to ``create_async_engine``, overriding taskkit's defaults.

    SQLite: ``PRAGMA foreign_keys=ON`` on every connection (SQLite leaves foreign keys off
    unless told); for files, WAL journaling and a busy timeout so concurrent writers wait
    instead of failing. Transactions begin ``DEFERRED``: one that only reads never takes the
    write lock, so a notebook session left open after a query blocks no writer. taskkit's own
    writes (the CRUD helpers, seed, import, migrations, ``create_db_and_tables``) take the
    write lock when they start (``BEGIN IMMEDIATE``). Your own transaction that reads and then
    writes fails at once when another connection wrote in between (SQLite cannot move a
    transaction that has read to a newer snapshot, busy timeout or not): that raises
    :class:`~taskkit.WriteConflictError`, which says how to write instead; begin such
    transactions with ``engine.execution_options(sqlite_begin="IMMEDIATE")``. In-memory
    databases use one shared connection (``StaticPool``): the testing pattern, not for
    concurrency. Two sessions on it share one transaction: while one has flushed work, the
    other fails with "cannot start a transaction within a transaction", and its rollback
    discards the first one's rows. Use a temporary file when sessions overlap.

    PostgreSQL: asyncpg, ``pool_size=5, max_overflow=10``, pre-ping, a connect timeout of a few
    seconds. Behind a pooler in transaction mode (PgBouncer, Supavisor), say ``?pgbouncer=true``
    in the URL (Neon's ``-pooler`` hosts get it without asking): prepared statements are then
    not cached and get unique names, the only setting that works there. Without it, the
    prepared-statement clash such a pooler causes raises a ``ConfigurationError`` that says so.

    Raises:
        ConfigurationError: a bad URL, or a SQLite file whose directory does not exist.
        MissingExtraError: a PostgreSQL URL without the ``postgres`` extra installed.
    """
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _connect_sqlite(parsed, echo=echo, **engine_kwargs)
    else:
        engine = _connect_postgres(parsed, echo=echo, **engine_kwargs)

    @event.listens_for(engine.sync_engine, "do_connect")
    def _open(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        # A failure to open a connection, wherever it happens (a CRUD helper, a query, a
        # migration), becomes one clear error naming host and database, never the password.
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as exc:
            raise pooler.clash_error(engine, exc) or _unavailable(engine.url, exc) from None

    @event.listens_for(engine.sync_engine, "handle_error")
    def _explain(context: Any) -> BaseException | None:
        original = context.original_exception
        return missing_tables_error(engine.url, original) or write_conflict_error(
            engine.url, original, context.connection
        )

    return engine


_MISSING_TABLE = re.compile(
    r'no such table: (?:\w+\.)?(\w+)|relation "(?:\w+\.)?(\w+)" does not exist'
)


def missing_tables_error(url: URL, exc: BaseException) -> MissingTablesError | None:
    """The one-line error for a query that needs a taskkit table the database lacks
    (SQLite's "no such table", PostgreSQL's "relation does not exist"), or ``None`` when
    ``exc`` is something else. :func:`connect` applies it to every statement its engine runs.
    """
    found = _MISSING_TABLE.search(str(exc))
    name = found and (found.group(1) or found.group(2))
    if not name or name not in SQLModel.metadata.tables:
        return None
    return MissingTablesError(
        f"{describe_database(url)} has no table {name!r}: taskkit's tables have not been "
        f"created there; {_CREATE_TABLES}"
    )


_CREATE_TABLES = (
    "create them with `taskkit init` (same --db or DATABASE_URL) or "
    "`await taskkit.create_db_and_tables(engine)`"
)


def require_sqlite_tables_file(engine: AsyncEngine) -> None:
    """Refuse a write into a SQLite file that does not exist yet, before anything creates it:
    it cannot hold taskkit's tables, and a writer that refused would leave an empty file
    behind. The same :class:`MissingTablesError` a file without the tables gets.

    Raises:
        MissingTablesError: the file does not exist; nothing was created.
    """
    if engine.dialect.name != "sqlite" or is_memory_sqlite(engine.url):
        return
    if not Path(engine.url.database or "").exists():
        raise MissingTablesError(
            f"{describe_database(engine.url)} does not exist, so taskkit's tables have not "
            f"been created there (nothing was created); {_CREATE_TABLES}"
        )


def _connect_sqlite(url: URL, *, echo: bool, **engine_kwargs: Any) -> AsyncEngine:
    memory = is_memory_sqlite(url)
    if memory:
        engine_kwargs.setdefault("poolclass", StaticPool)
    else:
        path = Path(url.database or "")
        # data/ of the default database is made by the first write (create_sqlite_file), not
        # by connecting: connecting, and reading, create nothing.
        if path != default_database_path() and not path.parent.is_dir():
            raise ConfigurationError(
                f"cannot create SQLite database {str(path)!r}: directory "
                f"{str(path.parent)!r} does not exist"
            )
        require_regular_file(path)
    try:
        engine = create_async_engine(url, echo=echo, **engine_kwargs)
    except ArgumentError as exc:
        raise database_error(ConfigurationError, "cannot use", url, exc) from None

    if not memory:

        @event.listens_for(engine.sync_engine, "do_connect")
        def _refuse_missing(*_: Any) -> None:
            # SQLite would create an empty file (a read would leave it behind): only taskkit's
            # writers create a database file, through create_sqlite_file.
            if not Path(url.database or "").exists():
                raise missing_sqlite_file(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Transaction control to SQLAlchemy (the "begin" hook below), foreign keys, the busy
        # timeout: as every SQLite connection taskkit opens.
        prepare_sqlite(dbapi_connection, read_only=False)
        cursor = dbapi_connection.cursor()
        if not memory and not _holds_other_tables(cursor):
            set_up_new_file(cursor)  # pages, WAL, synchronous
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # DEFERRED unless asked: a reader takes no lock. Writers ask for the write lock up
        # front (write_transaction, begin_writing): engine.execution_options(sqlite_begin=...).
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.info[_STATEMENTS] = 0
        connection.exec_driver_sql(f"BEGIN {mode}")
        connection.info[_STATEMENTS] = 0  # statements of this transaction so far

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(connection: Any, *_: Any) -> None:
        # Whether a write that SQLite refused as busy came after reads (write_conflict_error).
        connection.info[_STATEMENTS] = connection.info.get(_STATEMENTS, 0) + 1

    return engine


_STATEMENTS = "taskkit_statements_in_transaction"
# SQLite's result codes for "busy": SQLITE_BUSY, and SQLITE_BUSY_SNAPSHOT (a transaction that
# read cannot write, because another connection committed since its snapshot).
_SQLITE_BUSY, _SQLITE_BUSY_SNAPSHOT = 5, 517
# A write that changes nothing, yet needs the write lock: the cheapest way to learn whether a
# transaction can write (it holds the lock, or takes it now, keeping its snapshot).
_WRITE_PROBE = "DELETE FROM task WHERE 0"


def write_conflict_error(
    url: URL, exc: BaseException, connection: Any
) -> WriteConflictError | None:
    """The one-line error for a write that SQLite refused because its transaction had read
    first and another connection wrote meanwhile, or ``None`` when ``exc`` is something else.
    :func:`connect` applies it to every statement a SQLite engine runs.

    ``SQLITE_BUSY_SNAPSHOT`` says so itself. A plain ``SQLITE_BUSY`` on a statement that
    followed others in its transaction means the same (the transaction would hold the write
    lock had one of them written); as the first statement, it is the busy timeout running out,
    and stays as SQLite said it.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    if code == _SQLITE_BUSY and connection is not None:
        if connection.info.get(_STATEMENTS, 0) <= 1:
            return None
    elif code != _SQLITE_BUSY_SNAPSHOT:
        return None
    name = "SQLITE_BUSY_SNAPSHOT" if code == _SQLITE_BUSY_SNAPSHOT else "SQLITE_BUSY"
    return WriteConflictError(
        f"cannot write to {describe_database(url)} in this transaction: it read first, and "
        "another connection wrote since (or is writing), so SQLite cannot turn it into a write "
        f"transaction and no waiting helps ({name}); roll it back and write in a new "
        "transaction begun with the write lock: engine.execution_options(sqlite_begin="
        "'IMMEDIATE'), or taskkit's write helpers (create_task, update_task, ...), which do this"
    )


def missing_sqlite_file(url: URL) -> DatabaseUnavailableError:
    """The error for a SQLite file that does not exist, where something tried to read it."""
    return DatabaseUnavailableError(
        f"{describe_database(url)} does not exist (nothing was created): taskkit creates it "
        "when it first writes there (`taskkit init`, `taskkit seed`, `taskkit import`, or "
        "`await taskkit.ensure_schema(engine)`)"
    )


def create_sqlite_file(engine: AsyncEngine) -> None:
    """Create the SQLite file of ``engine`` (and ``data/`` for the default database) when it
    does not exist yet: taskkit's writers call this before they connect; nothing else makes a
    database file. A no-op for PostgreSQL, in-memory SQLite and a file that exists.

    Raises:
        ConfigurationError: the directory does not exist (other than the default's ``data/``),
            or the file cannot be made there (``data`` is a file, a dangling symbolic link, no
            permission).
    """
    if engine.dialect.name != "sqlite" or is_memory_sqlite(engine.url):
        return
    path = Path(engine.url.database or "")
    if path.exists():
        return
    cannot = f"cannot create SQLite database {str(path)!r}"
    try:
        if path == default_database_path():
            path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"{cannot}: {str(path.parent)!r} {_why(exc)}") from None
    if not path.parent.is_dir():
        raise ConfigurationError(f"{cannot}: directory {str(path.parent)!r} does not exist")
    try:
        open_sqlite(str(path), read_only=False).close()  # empty: SQLite writes on first write
    except (OSError, sqlite3.Error) as exc:
        if path.is_symlink():  # SQLite follows it, to a directory that does not exist
            raise ConfigurationError(
                f"{cannot}: it is a symbolic link to {os.readlink(path)!r}, which cannot be created"
            ) from None
        raise ConfigurationError(f"{cannot}: {exc}") from None


def _why(exc: OSError) -> str:
    if isinstance(exc, FileExistsError):
        return "exists and is not a directory"
    return f"cannot be made: {exc.strerror or exc}"


def _holds_other_tables(cursor: Any) -> bool:
    """Whether a SQLite database holds tables that are not taskkit's: someone else's file,
    whose journal mode (a persistent setting) taskkit must not change by merely opening it."""
    ours = [*SQLModel.metadata.tables, "alembic_version"]
    cursor.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite^_%' "
        f"ESCAPE '^' AND name NOT IN ({', '.join('?' * len(ours))}) LIMIT 1",
        ours,
    )
    return cursor.fetchone() is not None


def require_regular_file(path: Path) -> None:
    """Refuse a SQLite path that exists but is not a regular file (a directory, ``/dev/null``):
    SQLite would fail later with "disk I/O error" and leave ``/dev/null-journal`` behind.

    Raises:
        ConfigurationError: ``path`` exists and is not a regular file.
    """
    if path.exists() and not path.is_file():
        kind = "a directory" if path.is_dir() else "not a regular file (a device, a pipe...)"
        raise ConfigurationError(
            f"SQLite file {str(path)!r} is {kind}; give the path of a database file"
        )


def postgres_connect_args(url: URL) -> tuple[URL, dict[str, Any]]:
    """Split a normalized PostgreSQL URL into the URL and asyncpg's ``connect_args``.

    Numeric query parameters move into ``connect_args`` as numbers (asyncpg rejects strings);
    with ``pgbouncer=true``, or on ``-pooler`` hosts, a pooler in transaction mode is in front
    of the server: no statement caches and unique prepared-statement names
    (:mod:`taskkit._database.pooler`). The ``pgbouncer`` switch itself is taken out of the URL.
    """
    query = dict(url.query)
    transaction_mode = pooler.wanted(url)
    query.pop(pooler.PARAM, None)
    connect_args: dict[str, Any] = {"timeout": POSTGRES_CONNECT_TIMEOUT_S}
    for name, convert in _ASYNCPG_PARAMS.items():
        if name in query and convert is not None:
            value = query.pop(name)
            try:
                connect_args[name] = convert(value)
            except ValueError:
                raise ConfigurationError(
                    f"PostgreSQL URL parameter {name} must be a number, got {value!r}"
                ) from None
    if transaction_mode:
        connect_args.update(pooler.connect_args())
    return url.set(query=query), connect_args


def _connect_postgres(url: URL, *, echo: bool, **engine_kwargs: Any) -> AsyncEngine:
    require("asyncpg", extra="postgres", feature="PostgreSQL")
    transaction_mode = pooler.wanted(url)
    url, connect_args = postgres_connect_args(url)
    connect_args.update(engine_kwargs.pop("connect_args", {}))
    options: dict[str, Any] = {"pool_pre_ping": True}
    if "poolclass" not in engine_kwargs:  # NullPool and friends take no size
        options.update(pool_size=5, max_overflow=10)
    options.update(engine_kwargs)
    engine = create_async_engine(url, echo=echo, connect_args=connect_args, **options)
    owner(engine).connect_timeout = float(connect_args["timeout"])
    if not transaction_mode:
        pooler.explain_clashes(engine)
    return engine


def postgres_connect_timeout(engine: AsyncEngine) -> float:
    """Seconds a PostgreSQL connection may take to open, as :func:`connect` set it
    (``?connect_timeout=N`` in the URL, default 5)."""
    # The timeout lives in asyncpg's connect_args, out of the engine's URL: its owner keeps it
    # for the other drivers that connect on the engine's behalf (the ADBC DataFrame reader).
    found = find_owner(engine)
    return found.connect_timeout if found is not None else POSTGRES_CONNECT_TIMEOUT_S


async def begin_writing(session: SAAsyncSession) -> None:
    """Make sure ``session``'s transaction holds SQLite's write lock before a write helper
    writes (nothing to do on PostgreSQL, whose writers never need a lock up front).

    Without a transaction, one is begun with ``BEGIN IMMEDIATE`` (waiting up to the busy timeout
    for other writers). Inside the caller's transaction: when it holds the write lock already,
    or can take it because no other connection wrote since it began, it goes on as it is
    (snapshot kept). When it has only read and another connection wrote since, SQLite would
    refuse the write at once; that transaction is then ended (it holds no change, so nothing is
    lost) and a new one begun with ``BEGIN IMMEDIATE``: the caller's snapshot moves to the
    present (what it reads next includes the other connection's writes; objects it loaded keep
    the values they were loaded with, until refreshed). Changes waiting in the session to be
    flushed stay there. Inside a savepoint (``begin_nested``) that cannot be done:
    :class:`~taskkit.WriteConflictError` says so.
    """
    if session.in_transaction():
        conn = await session.connection()
        if conn.dialect.name == "sqlite":
            await _upgrade(session, conn)
        return
    await session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})


async def _upgrade(session: SAAsyncSession, conn: AsyncConnection) -> None:
    # On the driver's connection: SQLAlchemy keeps its own view of the transaction (open)
    # and of the session's objects; only SQLite's transaction underneath is replaced.
    driver: Any = (await conn.get_raw_connection()).driver_connection
    try:
        await driver.execute(_WRITE_PROBE)
        return  # the transaction holds the write lock
    except Exception as exc:
        if getattr(exc, "sqlite_errorcode", None) not in (_SQLITE_BUSY, _SQLITE_BUSY_SNAPSHOT):
            return  # no task table, say: the write itself reports what is wrong
    # Busy: this transaction has not written (a writer holds the lock until it ends).
    if session.in_nested_transaction():
        raise WriteConflictError(
            f"cannot write to {describe_database(conn.engine.url)} inside this savepoint: its "
            "transaction read first and another connection wrote since, so SQLite cannot turn "
            "it into a write transaction; end the transaction (commit or roll back) first"
        )
    info = conn.sync_connection.info  # type: ignore[union-attr]
    await driver.execute("ROLLBACK")
    info[_STATEMENTS] = 0
    try:
        # Through SQLAlchemy: a busy timeout reads as it does for any other statement.
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        with contextlib.suppress(Exception):  # a transaction again, as SQLAlchemy believes
            await driver.execute("BEGIN")
        raise
    info[_STATEMENTS] = 0


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that holds the write lock from its start (SQLite:
    ``BEGIN IMMEDIATE``, waiting up to the busy timeout for other writers), committed when the
    body succeeds and rolled back otherwise; an ordinary transaction on PostgreSQL. A SQLite
    file that does not exist yet is created first (:func:`create_sqlite_file`)."""
    create_sqlite_file(engine)
    async with engine.connect() as conn:
        await conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        async with conn.begin():
            yield conn


def has_open_work(session: SAAsyncSession) -> bool:
    """Whether the caller has a transaction open or changes waiting to be flushed."""
    return session.in_transaction() or bool(session.new or session.dirty or session.deleted)


@asynccontextmanager
async def reading(session: SAAsyncSession) -> AsyncIterator[None]:
    """Run read-only work, ending the transaction it opens (never one the caller is using).

    On SQLite the transaction starts DEFERRED, so a reader neither takes nor waits for the
    write lock; ending it keeps a notebook session from pinning a snapshot. When the caller
    has a transaction open or unflushed changes, the work joins it and leaves it as it was.
    """
    caller = has_open_work(session)
    if not caller:
        await session.connection(execution_options={SQLITE_BEGIN_OPTION: "DEFERRED"})
    try:
        yield
    finally:
        if not caller and session.in_transaction():
            await session.commit()


@asynccontextmanager
async def read_connection(
    source: AsyncEngine | AsyncConnection,
) -> AsyncIterator[AsyncConnection]:
    """A connection for read-only work, in a transaction that is rolled back at the end.

    On SQLite the transaction starts DEFERRED, so the reader neither takes nor waits for the
    write lock (and holds one snapshot from its first read); on PostgreSQL it is an ordinary
    transaction (READ COMMITTED: each statement sees the commits made before it).

    Args:
        source: an engine (a new connection, back to the pool after), or a connection outside
            a transaction (its options are restored after).

    Raises:
        DatabaseUnavailableError: a new connection cannot be opened (the message names the
            database, never the password).
    """
    if isinstance(source, AsyncConnection):
        options = source.sync_connection.get_execution_options()  # type: ignore[union-attr]
        before = options.get(SQLITE_BEGIN_OPTION, "DEFERRED")
        await source.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        try:
            yield source
        finally:
            await source.rollback()
            await source.execution_options(**{SQLITE_BEGIN_OPTION: before})
        return
    try:
        conn = await source.connect()
    except TaskkitError:
        raise
    except Exception as exc:  # driver errors differ per backend; all mean "cannot connect"
        raise pooler.clash_error(source, exc) or _unavailable(source.url, exc) from None
    try:
        await conn.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        yield conn
    finally:
        await conn.close()  # rolls the read transaction back; the connection goes to the pool


@asynccontextmanager
async def snapshot_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a read-only transaction in which every statement reads the same
    snapshot of the database, whatever others commit meanwhile; rolled back at the end.

    SQLite: a deferred transaction (its snapshot is taken at the first read and kept; it takes
    no lock that would hold a writer back). PostgreSQL: ``REPEATABLE READ`` and ``READ ONLY``
    (under the default READ COMMITTED each statement would see the commits made before it).

    Raises:
        DatabaseUnavailableError: a new connection cannot be opened.
    """
    async with read_connection(engine) as conn:
        if conn.dialect.name == "postgresql":
            await conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        await conn.begin()
        yield conn


async def create_db_and_tables(engine: AsyncEngine) -> None:
    """Create every taskkit table that does not exist yet (``SQLModel.metadata.create_all``),
    and the SQLite file first when it does not exist."""
    # With the write lock from the start: create_all reads the catalog before it writes.
    async with write_transaction(engine) as conn:
        await conn.run_sync(SQLModel.metadata.create_all)


def session(engine: AsyncEngine) -> AsyncSession:
    """A new ``AsyncSession`` on ``engine``; use it as ``async with session(engine) as s:``.

    ``expire_on_commit=False``: objects stay readable after a commit (with the default, reading
    ``task.title`` after commit triggers a lazy refresh, which fails in async code).
    """
    return AsyncSession(engine, expire_on_commit=False)


_default_engines: dict[tuple[str, int], AsyncEngine] = {}


async def get_session() -> AsyncIterator[AsyncSession]:
    """Yield a session on the default database (``DATABASE_URL`` or the SQLite file).

    An async generator, usable as a FastAPI dependency (``Depends(get_session)``). The engine is
    created once per URL and event loop (an asyncpg engine cannot cross event loops); close
    it with :func:`dispose_default_engines` before the loop ends.
    """
    key = (database_url(), id(asyncio.get_running_loop()))
    engine = _default_engines.get(key)
    if engine is None:
        engine = _default_engines[key] = connect(key[0])
    async with session(engine) as s:
        yield s


async def dispose_default_engines() -> None:
    """Close the engines :func:`get_session` made on the running event loop.

    Call it before that loop ends (a FastAPI lifespan's shutdown, the end of an
    ``asyncio.run``): an asyncpg connection cannot be closed from another loop later.
    """
    current = id(asyncio.get_running_loop())
    for key in [k for k in _default_engines if k[1] == current]:
        await _default_engines.pop(key).dispose()


async def ping(engine: AsyncEngine) -> None:
    """Open one connection and run ``SELECT 1``.

    Raises:
        InvalidArgumentError: ``engine`` is not an async engine (a URL string, say).
        DatabaseUnavailableError: the server is down, unreachable, or refused the credentials;
            the message names host and database, never the password.
    """
    engine_argument(engine)  # every migration command asks here first
    try:
        # A read: on SQLite, asking must not wait for (or take) the write lock.
        async with read_connection(engine) as conn:
            await conn.execute(text("SELECT 1"))
    except TaskkitError:  # DatabaseUnavailableError, or a pooler's clash explained
        raise
    except Exception as exc:  # driver errors differ per backend; all mean "cannot connect"
        raise pooler.clash_error(engine, exc) or _unavailable(engine.url, exc) from None


def _unavailable(url: URL, exc: BaseException) -> DatabaseUnavailableError:
    return database_error(DatabaseUnavailableError, "cannot connect to", url, exc)
