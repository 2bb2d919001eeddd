"""Schema migrations: Alembic's revisions, run through taskkit's engine.

The revisions live inside the package (``taskkit/_migrations/versions``) and are found relative
to this file, so an installed taskkit migrates without a checkout or a config file in the
current directory. ``DATABASE_URL`` and ``--db`` work as everywhere else: every function takes
an engine made by :func:`taskkit.connect`.

Each command runs in ONE transaction, committed only if every revision it runs succeeded: a
failing revision leaves the tables, indexes and ``alembic_version`` as they were. That holds on
SQLite too, because taskkit's SQLite engine issues its own ``BEGIN IMMEDIATE`` with the
sqlite3 module's transaction handling off (under the module's defaults SQLite DDL is not
transactional). Alembic's own sync API is reached with ``AsyncConnection.run_sync``.
"""

import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from sqlalchemy import CheckConstraint, Column, MetaData, Table, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

import taskkit._models  # noqa: F401  (registers the tables on SQLModel.metadata)
from taskkit._db import SQLITE_BEGIN_OPTION, describe_database, ping, redact
from taskkit._errors import MigrationError, TaskkitError

__all__ = [
    "SCRIPT_LOCATION",
    "VERSION_TABLE",
    "MigrationError",
    "RevisionInfo",
    "check",
    "current",
    "downgrade",
    "ensure_schema",
    "history",
    "migration_transaction",
    "stamp",
    "upgrade",
]

T = TypeVar("T")

SCRIPT_LOCATION = Path(__file__).resolve().parent / "_migrations"
VERSION_TABLE = "alembic_version"
# Any fixed number: concurrent migrations of one PostgreSQL database queue on this lock.
_POSTGRES_LOCK_KEY = 72_616_573
_RELATIVE_REVISION = re.compile(r".*[+-]\d+")
_STAMP_HINT = (
    "`taskkit db check` compares its tables with the models; if they match, "
    "`taskkit db stamp head` records it as up to date (if it matches an older revision, "
    "stamp that one and then run `taskkit db upgrade`)"
)


@dataclass(frozen=True)
class RevisionInfo:
    """One revision of taskkit's schema, as :func:`history` lists it."""

    id: str
    down_revision: str | None
    message: str
    is_head: bool


@dataclass(frozen=True)
class _State:
    revision: str | None  # what alembic_version records (None: no row, or no table)
    taskkit_tables: list[str]  # taskkit's tables that exist


# ---------------------------------------------------------------------------------------------
# Public API.


async def upgrade(engine: AsyncEngine, revision: str = "head") -> str | None:
    """Upgrade the database to ``revision``, running every revision on the way.

    Args:
        engine: an engine from :func:`taskkit.connect`.
        revision: a revision id (or unique prefix), ``head``, or a relative step like ``+1``.

    Returns:
        The revision the database is at afterwards.

    Raises:
        MigrationError: ``revision`` is unknown; the database has taskkit tables but no
            recorded revision (created outside migrations); it is at a revision this taskkit
            does not know; or a revision failed. In every case nothing was changed.
        DatabaseUnavailableError: the database cannot be reached.
    """
    _check_revision_argument(revision)

    def work(conn: Connection) -> str | None:
        _require_managed(conn, engine, doing=f"upgrade to {revision!r}")
        _run_alembic(conn, lambda cfg: command.upgrade(cfg, revision))
        return _state(conn).revision

    return await _write(engine, work, doing=f"upgrade to {revision!r}")


async def downgrade(engine: AsyncEngine, revision: str) -> str | None:
    """Downgrade the database to ``revision`` (``base`` removes every taskkit table).

    Downgrading drops what the later revisions created, with the data in it.

    Args:
        engine: an engine from :func:`taskkit.connect`.
        revision: a revision id (or unique prefix), ``base``, or a relative step like ``-1``.

    Returns:
        The revision the database is at afterwards (``None`` at base).

    Raises:
        MigrationError: ``revision`` is unknown or not below the current one; the database
            has no recorded revision; or a revision failed. In every case nothing was changed.
        DatabaseUnavailableError: the database cannot be reached.
    """
    _check_revision_argument(revision)

    def work(conn: Connection) -> str | None:
        state = _require_managed(conn, engine, doing=f"downgrade to {revision!r}")
        if state.revision is None:
            raise MigrationError(
                f"cannot downgrade {_where(engine)} to {revision!r}: it has no recorded "
                "revision, so there is nothing to downgrade"
            )
        _run_alembic(conn, lambda cfg: command.downgrade(cfg, revision))
        return _state(conn).revision

    return await _write(engine, work, doing=f"downgrade to {revision!r}")


async def stamp(engine: AsyncEngine, revision: str) -> None:
    """Record ``revision`` in ``alembic_version`` without running any migration.

    For a database created outside migrations (``create_db_and_tables``): stamping ``head``
    first checks that its tables match the models and refuses otherwise. Stamping any other
    revision is not checked: it is your statement that the schema is that revision's.

    Raises:
        MigrationError: ``revision`` is unknown, or ``head`` was asked for and the schema
            differs from the models (the differences are listed). Nothing was changed.
        DatabaseUnavailableError: the database cannot be reached.
    """
    _check_revision_argument(revision)
    script = _script()

    def work(conn: Connection) -> None:
        state = _state(conn)
        _require_known(state, engine)
        targets = {s.revision for s in script.get_revisions(revision) if s is not None}
        if targets and targets == set(script.get_heads()):
            differences = _differences(conn)
            if differences:
                raise MigrationError(
                    f"cannot stamp {_where(engine)} as {revision!r}: its schema differs from "
                    f"the models: {'; '.join(differences)}"
                )
        _run_alembic(conn, lambda cfg: command.stamp(cfg, revision, purge=True))

    await _write(engine, work, doing=f"stamp {revision!r}")


async def current(engine: AsyncEngine) -> str | None:
    """The revision recorded in the database, or ``None`` if none is.

    ``None`` means an empty database, one downgraded to base, or one created outside
    migrations (:func:`check` tells these apart).

    Raises:
        DatabaseUnavailableError: the database cannot be reached.
    """
    return (await _read(engine, _state)).revision


def history() -> list[RevisionInfo]:
    """Every revision taskkit ships, oldest first."""
    scripts = list(_script().walk_revisions("base", "heads"))
    return [
        RevisionInfo(
            id=s.revision,
            down_revision=s.down_revision if isinstance(s.down_revision, str) else None,
            message=(s.doc or "").strip(),
            is_head=s.is_head,
        )
        for s in reversed(scripts)
    ]


async def check(engine: AsyncEngine) -> None:
    """Check that the database is at head and its schema is what the models declare.

    Compares tables, columns (types and nullability), indexes, unique constraints, foreign keys
    (Alembic's autogenerate comparison), plus CHECK constraints (which autogenerate skips): by
    name, and by definition (on PostgreSQL through a temporary table that is rolled back).
    Changes nothing.

    Raises:
        MigrationError: the database is behind head, has no recorded revision, is at a revision
            this taskkit does not know, or its schema differs from the models (drift); the
            message lists the differences and what to run.
        DatabaseUnavailableError: the database cannot be reached.
    """
    head = _script().get_current_head()

    def work(conn: Connection) -> None:
        state = _state(conn)
        _require_known(state, engine)
        if state.revision is None:
            if not state.taskkit_tables:
                raise MigrationError(
                    f"{_where(engine)} has no taskkit tables: run `taskkit db upgrade`"
                )
            differences = _differences(conn)
            raise MigrationError(
                f"{_where(engine)} has taskkit tables but no recorded revision (created "
                "outside migrations); "
                + (
                    f"its schema differs from the models: {'; '.join(differences)}"
                    if differences
                    else "its schema matches the models: run `taskkit db stamp head`"
                )
            )
        if state.revision != head:
            raise MigrationError(
                f"{_where(engine)} is at revision {state.revision}, head is {head}: "
                "run `taskkit db upgrade`"
            )
        differences = _differences(conn)
        if differences:
            raise MigrationError(
                f"{_where(engine)} differs from the models (a change without a revision, or "
                f"one made by hand): {'; '.join(differences)}"
            )

    await _read(engine, work)


async def ensure_schema(engine: AsyncEngine) -> str:
    """Bring the database to head: create the schema if it is empty, upgrade it if it is older.

    What ``taskkit init`` (and any command that creates a database) calls, so that every
    database taskkit makes can be upgraded later. A database already at head is only read.

    Returns:
        The head revision.

    Raises:
        MigrationError: the database has taskkit tables but no recorded revision (created
            outside migrations, e.g. by ``create_db_and_tables``): the message says how to
            adopt it; or it is at a revision this taskkit does not know; or a revision
            failed. Nothing was changed.
        DatabaseUnavailableError: the database cannot be reached.
    """
    head = _script().get_current_head()
    assert head is not None  # taskkit ships at least one revision
    if (await current(engine)) == head:
        return head
    await upgrade(engine, "head")
    return head


@asynccontextmanager
async def migration_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside one transaction that commits only if the body succeeds.

    SQLite: foreign keys are switched off for the transaction (the pragma is ignored inside
    one, so it is set before) and checked with ``PRAGMA foreign_key_check`` before the commit.
    Batch mode rebuilds a table by copying it and dropping the original; with foreign keys on,
    that DROP deletes every row first and ``ON DELETE CASCADE`` empties the tables that
    reference it (``taskworkerlink`` when ``task`` is rebuilt).

    PostgreSQL: a transaction-level advisory lock makes concurrent migrations queue.
    """
    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            await conn.run_sync(_sqlite_foreign_keys, on=False)
        try:
            async with conn.begin():
                if conn.dialect.name == "postgresql":
                    await conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_LOCK_KEY}
                    )
                yield conn
                if sqlite:
                    await conn.run_sync(_sqlite_require_foreign_keys_hold)
        finally:
            if sqlite:
                try:
                    await conn.run_sync(_sqlite_foreign_keys, on=True)
                except Exception:
                    # Never hand a connection without foreign keys back to the pool.
                    await conn.invalidate()
                    raise


# ---------------------------------------------------------------------------------------------
# Running Alembic.


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    return config


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def _run_alembic(conn: Connection, run: Callable[[Config], None]) -> None:
    """Run an Alembic command on ``conn`` (env.py uses it instead of connecting)."""
    config = _config()
    config.attributes["connection"] = conn
    run(config)


async def _write(engine: AsyncEngine, work: Callable[[Connection], T], *, doing: str) -> T:
    await ping(engine)
    with _as_migration_error(engine, doing=doing):
        async with migration_transaction(engine) as conn:
            return await conn.run_sync(work)


async def _read(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    await ping(engine)
    with _as_migration_error(engine, doing="read the schema"):
        async with engine.connect() as conn:
            # A deferred BEGIN: reading the schema must not queue behind (or block) writers.
            conn = await conn.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
            try:
                return await conn.run_sync(work)
            finally:
                await conn.rollback()


@contextmanager
def _as_migration_error(engine: AsyncEngine, *, doing: str) -> Iterator[None]:
    """Turn Alembic's and the driver's errors into one-line MigrationErrors, password hidden."""
    try:
        yield
    except TaskkitError:
        raise
    except (CommandError, RevisionError) as exc:
        raise MigrationError(
            f"cannot {doing} on {_where(engine)}: {_first_line(exc, engine)}; {_known()}"
        ) from None
    except Exception as exc:
        # A database error, or a bug in a revision: either way the transaction was rolled back.
        failed = _failing_revision(exc)
        where = f" in revision {failed}" if failed else ""
        reason = _first_line(exc, engine)
        if not isinstance(exc, SQLAlchemyError):  # SQLAlchemy names the driver's error itself
            reason = f"{type(exc).__name__}: {reason}"
        raise MigrationError(
            f"{doing} failed{where} on {_where(engine)}: {reason}; "
            "rolled back, the database is unchanged"
        ) from exc


def _failing_revision(exc: BaseException) -> str | None:
    """The revision whose ``upgrade()``/``downgrade()`` raised ``exc``, from its traceback."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if Path(frame.f_code.co_filename).parent == SCRIPT_LOCATION / "versions":
            found = frame.f_globals.get("revision", found)
        tb = tb.tb_next
    return found


def _first_line(exc: BaseException, engine: AsyncEngine) -> str:
    message = str(exc).strip()
    line = message.splitlines()[0] if message else type(exc).__name__
    return redact(line, engine.url)


def _where(engine: AsyncEngine) -> str:
    return describe_database(engine.url)


def _known() -> str:
    revisions = ", ".join(
        f"{r.id} {r.message!r}{' (head)' if r.is_head else ''}" for r in history()
    )
    return f"known revisions: base, {revisions}"


def _check_revision_argument(revision: Any) -> None:
    if not isinstance(revision, str) or not revision.strip():
        raise MigrationError(f"revision must be a non-empty string, got {revision!r}; {_known()}")
    if _RELATIVE_REVISION.fullmatch(revision):
        return  # relative to the database's revision: Alembic resolves it there
    try:
        _script().get_revisions(revision)
    except (CommandError, RevisionError) as exc:
        # Alembic's message adds something only when a prefix matches several revisions.
        reason = "does not exist" if "Can't locate" in str(exc) else str(exc)
        raise MigrationError(f"revision {revision!r} {reason}; {_known()}") from None


# ---------------------------------------------------------------------------------------------
# Reading the database's state (sync: runs inside run_sync).


def _state(conn: Connection) -> _State:
    tables = set(inspect(conn).get_table_names())
    revision = None
    if VERSION_TABLE in tables:
        revision = MigrationContext.configure(conn).get_current_revision()
    return _State(revision, sorted(tables & set(SQLModel.metadata.tables)))


def _require_known(state: _State, engine: AsyncEngine) -> None:
    if state.revision is not None and state.revision not in {r.id for r in history()}:
        raise MigrationError(
            f"{_where(engine)} is at revision {state.revision!r}, which this version of "
            f"taskkit does not know (a newer taskkit or another project migrated it); "
            f"{_known()}"
        )


def _require_managed(conn: Connection, engine: AsyncEngine, *, doing: str) -> _State:
    state = _state(conn)
    _require_known(state, engine)
    if state.revision is None and state.taskkit_tables:
        raise MigrationError(
            f"cannot {doing}: {_where(engine)} has taskkit tables "
            f"({', '.join(state.taskkit_tables)}) but no recorded revision in "
            f"{VERSION_TABLE}, so it was created outside migrations (e.g. by "
            f"create_db_and_tables); nothing was changed. {_STAMP_HINT}"
        )
    return state


def _differences(conn: Connection) -> list[str]:
    """How the database's schema differs from the models, one phrase per difference."""
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    found = [_describe(diff) for diff in compare_metadata(context, SQLModel.metadata)]
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in existing:
            continue
        declared = {
            str(c.name) for c in table.constraints if isinstance(c, CheckConstraint) and c.name
        }
        present = {c["name"] for c in inspector.get_check_constraints(table.name) if c["name"]}
        found += [f"CHECK {n} on {table.name} is missing" for n in sorted(declared - present)]
        found += [
            f"CHECK {n} on {table.name} is not in the models" for n in sorted(present - declared)
        ]
        if conn.dialect.name == "sqlite":
            found += _sqlite_differences(conn, table)
        elif conn.dialect.name == "postgresql":
            found += _postgres_check_differences(conn, table)
    return found


def _postgres_check_differences(conn: Connection, table: Table) -> list[str]:
    """CHECK definitions on PostgreSQL, which stores them rewritten (casts, parentheses): the
    declared CHECKs are created on a temporary copy of the table, inside a savepoint that is
    rolled back, and both are read back with ``pg_get_constraintdef`` and compared."""
    declared = [c for c in table.constraints if isinstance(c, CheckConstraint) and c.name]
    if not declared:
        return []
    scratch = Table(
        f"taskkit_expected_{table.name}",
        MetaData(),
        *(Column(column.name, column.type) for column in table.columns),
        *(CheckConstraint(c.sqltext, name=str(c.name)) for c in declared),
        prefixes=["TEMPORARY"],
    )
    definitions = text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = CAST(:table AS regclass) AND contype = 'c'"
    )
    savepoint = conn.begin_nested()
    try:
        scratch.create(conn)
        expected: dict[str, str] = {
            name: sql
            for name, sql in conn.execute(definitions, {"table": f"pg_temp.{scratch.name}"})
        }
        present: dict[str, str] = {
            name: sql for name, sql in conn.execute(definitions, {"table": table.name})
        }
    finally:
        savepoint.rollback()
    return [
        f"CHECK {name} on {table.name} is {present[name]} in the database, "
        f"{expected[name]} in the models"
        for name in sorted(set(expected) & set(present))
        if present[name] != expected[name]
    ]


def _sqlite_differences(conn: Connection, table: Table) -> list[str]:
    """CHECK texts and WITHOUT ROWID, which SQLite keeps verbatim (PostgreSQL rewrites CHECKs)."""
    inspector = inspect(conn)
    found = []
    declared = {
        str(c.name): _squash(str(c.sqltext))
        for c in table.constraints
        if isinstance(c, CheckConstraint) and c.name
    }
    for reflected in inspector.get_check_constraints(table.name):
        name, present = reflected["name"], _squash(reflected["sqltext"])
        if name in declared and declared[name] != present:
            found.append(
                f"CHECK {name} on {table.name} is ({present}) in the database, "
                f"({declared[name]}) in the models"
            )
    rowid_declared = table.dialect_options["sqlite"]["with_rowid"] is not False
    rowid_present = inspector.get_table_options(table.name).get("sqlite_with_rowid", True)
    if rowid_declared != rowid_present:
        state = {True: "a rowid table", False: "WITHOUT ROWID"}
        found.append(
            f"table {table.name} is {state[rowid_present]} in the database, "
            f"{state[rowid_declared]} in the models"
        )
    return found


def _squash(sql: str) -> str:
    return " ".join(sql.split())


def _describe(diff: Any) -> str:
    """One of Alembic's diff tuples (or a list of column changes) as a phrase."""
    if isinstance(diff, list):
        return "; ".join(_describe(d) for d in diff)
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        where = "is missing" if kind == "add_table" else "is not in the models"
        return f"table {diff[1].name} {where}"
    if kind in ("add_column", "remove_column"):
        where = "is missing" if kind == "add_column" else "is not in the models"
        return f"column {diff[2]}.{diff[3].name} {where}"
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        item = diff[1]
        noun = "index" if "index" in kind else "unique constraint"
        where = "is missing" if kind.startswith("add") else "is not in the models"
        columns = ", ".join(c.name for c in item.columns)
        return f"{noun} {item.name or '(unnamed)'} on {item.table.name}({columns}) {where}"
    if kind in ("add_fk", "remove_fk"):
        fk = diff[1]
        where = "is missing" if kind == "add_fk" else "is not in the models"
        columns = ", ".join(c.name for c in fk.columns)
        ondelete = f" ON DELETE {fk.ondelete}" if fk.ondelete else ""
        return (
            f"foreign key {fk.table.name}({columns}) -> {fk.referred_table.name}{ondelete} {where}"
        )
    if kind == "modify_type":
        return f"column {diff[2]}.{diff[3]} is {diff[5]} in the database, {diff[6]} in the models"
    if kind == "modify_nullable":

        def nullable(value: bool) -> str:
            return "NULL" if value else "NOT NULL"

        return (
            f"column {diff[2]}.{diff[3]} is {nullable(diff[5])} in the database, "
            f"{nullable(diff[6])} in the models"
        )
    return str(diff)


# ---------------------------------------------------------------------------------------------
# SQLite foreign keys around a migration (sync: runs inside run_sync).


def _sqlite_foreign_keys(conn: Connection, *, on: bool) -> None:
    # On the DBAPI connection: through SQLAlchemy the statement would open a transaction first
    # (the engine's BEGIN IMMEDIATE), inside which SQLite ignores this pragma.
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def _sqlite_require_foreign_keys_hold(conn: Connection) -> None:
    problems = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if problems:
        table, rowid, parent, _ = problems[0]
        raise MigrationError(
            f"the migration would leave {len(problems)} row(s) whose foreign key points to no "
            f"row (first: {table} rowid {rowid} -> {parent}); rolled back, nothing changed"
        )
