"""The migration commands (``taskkit db ...``): upgrade_schema, downgrade_schema, stamp_schema,
schema_revision, check_schema, run through taskkit's engine (``ensure_schema``, what
``taskkit init`` runs, is in :mod:`~taskkit._migrate.ensure`).

``DATABASE_URL`` and ``--db`` work as everywhere else: every function takes an engine made by
:func:`taskkit.connect`. Each command runs in one transaction
(:func:`~taskkit._migrate.transaction.migration_transaction`); Alembic's own sync API is
reached with ``AsyncConnection.run_sync``.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

import taskkit._models  # noqa: F401  (registers the tables on SQLModel.metadata)
from taskkit._checks import engine_argument
from taskkit._database.engine import create_sqlite_file, describe_database, ping, read_connection
from taskkit._database.messages import database_error
from taskkit._errors import MigrationError, TaskkitError
from taskkit._migrate import revisions
from taskkit._migrate.drift import schema_differences
from taskkit._migrate.revisions import (
    VERSION_TABLE,
    check_revision_argument,
    known_revisions,
    run_alembic,
    schema_history,
    script_directory,
)
from taskkit._migrate.transaction import migration_transaction

__all__ = [
    "check_schema",
    "connection_revision",
    "downgrade_schema",
    "schema_revision",
    "stamp_schema",
    "upgrade_schema",
]

T = TypeVar("T")

_STAMP_HINT = (
    "`taskkit db check` compares its tables with the models; if they match, "
    "`taskkit db stamp head` records it as up to date (if it matches an older revision, "
    "stamp that one and then run `taskkit db upgrade`)"
)


@dataclass(frozen=True)
class _State:
    revision: str | None  # what alembic_version records (None: no row, or no table)
    taskkit_tables: list[str]  # taskkit's tables that exist


# ---------------------------------------------------------------------------------------------
# Public API.


async def upgrade_schema(engine: AsyncEngine, revision: str = "head") -> str | None:
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

    Example::

        engine = taskkit.connect("sqlite:///data/taskkit.db")
        await taskkit.upgrade_schema(engine)  # to head; returns the head revision's id
        await taskkit.upgrade_schema(engine, "+1")  # one revision up from where it is
    """
    check_revision_argument(revision)

    def work(conn: Connection) -> str | None:
        _require_managed(conn, engine, doing=f"upgrade to {revision!r}")
        run_alembic(conn, lambda cfg: command.upgrade(cfg, revision))
        return _state(conn).revision

    return await _write(engine, work, doing=f"upgrade to {revision!r}")


async def downgrade_schema(engine: AsyncEngine, revision: str) -> str | None:
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

    Example::

        await taskkit.downgrade_schema(engine, "-1")  # one revision down
        await taskkit.downgrade_schema(engine, "base")  # returns None: no taskkit table left
    """
    check_revision_argument(revision)

    def work(conn: Connection) -> str | None:
        state = _require_managed(conn, engine, doing=f"downgrade to {revision!r}")
        if state.revision is None:
            raise MigrationError(
                f"cannot downgrade {_where(engine)} to {revision!r}: it has no recorded "
                "revision, so there is nothing to downgrade"
            )
        run_alembic(conn, lambda cfg: command.downgrade(cfg, revision))
        return _state(conn).revision

    return await _write(engine, work, doing=f"downgrade to {revision!r}")


async def stamp_schema(engine: AsyncEngine, revision: str) -> None:
    """Record ``revision`` in ``alembic_version`` without running any migration.

    For a database created outside migrations (``create_db_and_tables``): stamping ``head``
    first checks that its tables match the models and refuses otherwise. Stamping any other
    revision is not checked: it is your statement that the schema is that revision's.

    Args:
        engine: an engine from :func:`taskkit.connect`.
        revision: a revision id (or unique prefix) or ``head``.

    Raises:
        MigrationError: ``revision`` is unknown; the database is at a revision this taskkit
            does not know; or ``head`` was asked for and the schema differs from the models
            (the differences are listed). Nothing was changed.
        DatabaseUnavailableError: the database cannot be reached.

    Example::

        engine = taskkit.connect("sqlite:///made_by_create_db_and_tables.db")
        await taskkit.stamp_schema(engine, "head")  # refused unless its tables match the models
        await taskkit.upgrade_schema(engine)  # from now on it upgrades like any other
    """
    check_revision_argument(revision)
    script = script_directory()

    def work(conn: Connection) -> None:
        state = _state(conn)
        _require_known(state, engine)
        targets = {s.revision for s in script.get_revisions(revision) if s is not None}
        if targets and targets == set(script.get_heads()):
            differences = schema_differences(conn)
            if differences:
                raise MigrationError(
                    f"cannot stamp {_where(engine)} as {revision!r}: its schema differs from "
                    f"the models: {'; '.join(differences)}"
                )
        run_alembic(conn, lambda cfg: command.stamp(cfg, revision, purge=True))

    await _write(engine, work, doing=f"stamp {revision!r}")


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The revision recorded in the database, or ``None`` if none is.

    Only reads. ``None`` means an empty database, one downgraded to base, or one created
    outside migrations (:func:`check_schema` tells these apart). The id may be one this taskkit
    does not ship (a newer taskkit migrated the database); :func:`schema_history` lists the
    ones it does.

    Raises:
        MigrationError: the database could not be read.
        DatabaseUnavailableError: the database cannot be reached.

    Example::

        revision = await taskkit.schema_revision(engine)
        head = next(r.id for r in taskkit.schema_history() if r.is_head)
        print("up to date" if revision == head else f"at {revision}, head is {head}")
    """
    return (await _read(engine, _state)).revision


async def connection_revision(conn: AsyncConnection) -> str | None:
    """:func:`schema_revision` read on ``conn``, inside whatever transaction it is in (the
    report reads it in the snapshot it reads everything else in)."""
    return (await conn.run_sync(_state)).revision


async def check_schema(engine: AsyncEngine) -> None:
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

    Example::

        try:
            await taskkit.check_schema(engine)
        except taskkit.MigrationError as e:
            print(e)  # e.g. "... is at revision 0002, head is 0004: run `taskkit db upgrade`"
    """
    head = script_directory().get_current_head()

    def work(conn: Connection) -> None:
        state = _state(conn)
        _require_known(state, engine)
        if state.revision is None:
            if not state.taskkit_tables:
                raise MigrationError(
                    f"{_where(engine)} has no taskkit tables: run `taskkit db upgrade`"
                )
            differences = schema_differences(conn)
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
        differences = schema_differences(conn)
        if differences:
            raise MigrationError(
                f"{_where(engine)} differs from the models (a change without a revision, or "
                f"one made by hand): {'; '.join(differences)}"
            )

    await _read(engine, work)


async def _write(engine: AsyncEngine, work: Callable[[Connection], T], *, doing: str) -> T:
    engine_argument(engine)
    create_sqlite_file(engine)  # upgrading a new SQLite file creates it
    await ping(engine)
    with _as_migration_error(engine, doing=doing):
        async with migration_transaction(engine) as conn:
            return await conn.run_sync(work)


async def _read(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    await ping(engine)
    with _as_migration_error(engine, doing="read the schema"):
        async with read_connection(engine) as conn:
            return await conn.run_sync(work)


@contextmanager
def _as_migration_error(engine: AsyncEngine, *, doing: str) -> Iterator[None]:
    """Turn Alembic's and the driver's errors into one-line MigrationErrors, password hidden."""
    try:
        yield
    except TaskkitError:
        raise
    except (CommandError, RevisionError) as exc:
        raise database_error(
            MigrationError, f"cannot {doing} on", engine.url, exc, then=f"; {known_revisions()}"
        ) from None
    except Exception as exc:
        # A database error, or a bug in a revision: either way the transaction was rolled back.
        failed = _failing_revision(exc)
        where = f" in revision {failed}" if failed else ""
        raise database_error(
            MigrationError,
            f"{doing} failed{where} on",
            engine.url,
            exc,
            named=True,
            then="; rolled back, the database is unchanged",
        ) from exc


def _failing_revision(exc: BaseException) -> str | None:
    """The revision whose ``upgrade()``/``downgrade()`` raised ``exc``, from its traceback."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if Path(frame.f_code.co_filename).parent == revisions.SCRIPT_LOCATION / "versions":
            found = frame.f_globals.get("revision", found)
        tb = tb.tb_next
    return found


def _where(engine: AsyncEngine) -> str:
    return describe_database(engine.url)


# ---------------------------------------------------------------------------------------------
# Reading the database's state (sync: runs inside run_sync).


def _state(conn: Connection) -> _State:
    tables = set(inspect(conn).get_table_names())
    revision = None
    if VERSION_TABLE in tables:
        revision = MigrationContext.configure(conn).get_current_revision()
    return _State(revision, sorted(tables & set(SQLModel.metadata.tables)))


def _require_known(state: _State, engine: AsyncEngine) -> None:
    if state.revision is not None and state.revision not in {r.id for r in schema_history()}:
        raise MigrationError(
            f"{_where(engine)} is at revision {state.revision!r}, which this version of "
            f"taskkit does not know (a newer taskkit or another project migrated it); "
            f"{known_revisions()}"
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
