"""PostgreSQL behind a connection pooler in transaction mode (PgBouncer, Supavisor, Neon's
``-pooler`` endpoints): the asyncpg settings that work there, the URL switch that asks for
them, and a clear error when a prepared-statement clash shows they are missing.

In transaction mode a server connection serves a client for one transaction, then another
client. asyncpg names the statements it prepares ``__asyncpg_stmt_1__``, ``_2__`` ... per
connection and caches them, so the next client handed the same server connection prepares a
name that is already there ("already exists"), or finds its cached statement gone ("does not
exist"), or finds a statement of the same name that another client prepared for other SQL
(asyncpg then reports a protocol error, or, when the shapes match, returns that statement's
rows). Without caches and with a unique name for every statement, nothing is left behind for
another client to meet: the only setting that works through such a pooler.

The switch is ``?pgbouncer=true``, the spelling Prisma uses for the same purpose and that
Supabase's pooler documentation tells users to add, so a URL shared with such a tool works
as it is. Hosts with ``-pooler`` in their name (Neon) get the settings without it;
``?pgbouncer=false`` turns them off even there.
"""

from typing import Any
from uuid import uuid4

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from taskkit._database.messages import describe_database, redact
from taskkit._database.owner import find_owner, owner
from taskkit._errors import ConfigurationError


def _is_protocol_error(error: BaseException) -> bool:
    try:
        from asyncpg import ProtocolError
    except ImportError:  # no PostgreSQL driver: no PostgreSQL protocol error either
        return False
    return isinstance(error, ProtocolError)


__all__ = ["PARAM", "clash_error", "connect_args", "explain_clashes", "switch", "wanted"]

#: The URL query parameter that says a pooler in transaction mode is in front of the server.
PARAM = "pgbouncer"
_VALUES = {"true": True, "false": False}
# SQLSTATEs of a statement prepared on one client's turn and met on another's: 42P05
# duplicate_prepared_statement, 26000 invalid_sql_statement_name ("does not exist").
_CLASH_SQLSTATES = frozenset({"42P05", "26000"})
# A name met on a server where it means other SQL: the server refuses the parameters (08P01
# protocol_violation, "bind message supplies 1 parameters, but prepared statement ...
# requires 0"), or asyncpg the columns ("the number of columns in the result row (1) is
# different from what was described (0)").
_PROTOCOL_VIOLATION = "08P01"
_MISMATCH_WORDS = ("prepared statement", "bind message", "what was described")


def switch(query: Any) -> bool | None:
    """The ``pgbouncer`` switch of a URL's query: ``True``/``False``, or ``None`` if absent.

    Raises:
        ConfigurationError: a value other than ``true`` or ``false``.
    """
    if PARAM not in query:
        return None
    raw = query[PARAM]
    value = raw if isinstance(raw, str) else raw[-1]  # a repeated parameter: the last wins
    if value.strip().lower() not in _VALUES:
        raise ConfigurationError(
            f"PostgreSQL URL parameter {PARAM} must be true (a pooler in transaction mode, "
            f"such as PgBouncer, is in front of the server) or false; got {value!r}"
        )
    return _VALUES[value.strip().lower()]


def wanted(url: URL) -> bool:
    """Whether connections to ``url`` need the transaction-mode settings: the URL says
    ``pgbouncer=true``, or its host has ``-pooler`` in its name and it does not say false."""
    said = switch(url.query)
    if said is not None:
        return said
    return bool(url.host and "-pooler" in url.host)


def connect_args() -> dict[str, Any]:
    """asyncpg ``connect_args`` for a pooler in transaction mode: no statement caches (asyncpg's
    and SQLAlchemy's) and a unique name for every prepared statement."""
    return {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": lambda: f"__asyncpg_{uuid4()}__",
    }


def _clash(exc: BaseException) -> BaseException | None:
    """The driver's prepared-statement clash inside ``exc`` (its chain and ``.orig``), if any."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        sqlstate = getattr(item, "sqlstate", None)
        if sqlstate in _CLASH_SQLSTATES:
            return item
        if (sqlstate == _PROTOCOL_VIOLATION or _is_protocol_error(item)) and any(
            words in str(item) for words in _MISMATCH_WORDS
        ):
            return item
        todo += [getattr(item, "orig", None), item.__cause__, item.__context__]
    return None


def clash_error(engine: AsyncEngine | Engine, exc: BaseException) -> ConfigurationError | None:
    """The error to raise instead of ``exc`` when it is a prepared-statement clash on an
    engine connected without the transaction-mode settings; ``None`` otherwise.

    The message names the database, the driver's words, the likely cause (a pooler in
    transaction mode) and the switch; never the password.
    """
    # Engines connected without the settings have their clashes explained (explain_clashes).
    kept = find_owner(engine)
    if kept is None or not kept.explains_clashes:
        return None
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    found = _clash(exc)
    if found is None:
        return None
    url = sync_engine.url
    said = redact(" ".join(str(found).split()) or type(found).__name__, url)
    return ConfigurationError(
        f"{describe_database(url)} failed with "
        f"{said!r}: a connection pooler in transaction mode (PgBouncer, Supavisor, ...) is "
        "most likely in front of it, where one client's prepared statements meet another's; "
        f"add ?{PARAM}=true to the database URL (or &{PARAM}=true after other parameters)"
    )


def explain_clashes(engine: AsyncEngine) -> None:
    """Make a prepared-statement clash on ``engine`` raise :func:`clash_error`'s error
    (a ``ConfigurationError``) wherever a statement runs, instead of a driver error."""
    owner(engine).explains_clashes = True

    @event.listens_for(engine.sync_engine, "handle_error")
    def _explain(context: Any) -> None:
        error = clash_error(engine, context.original_exception)
        if error is not None:
            raise error from None
