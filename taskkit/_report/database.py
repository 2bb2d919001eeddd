"""Make sure the report reads a taskkit database, and writes into none that is not taskkit's.

A local check: the report decides here whether it may create taskkit's tables and seed the
synthetic dataset. Only the default database is filled without asking; any other is filled only
when the caller asks (``--seed``); a database holding tables that are not taskkit's is never
written to. A SQLite file that does not exist is not created unless it may be filled.
"""

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from taskkit._database.access import DatabaseContents, database_contents
from taskkit._database.engine import (
    connect,
    create_sqlite_file,
    is_memory_sqlite,
    parse_database_url,
    ping,
)
from taskkit._database.messages import shown_url
from taskkit._database.sqlite_file import open_sqlite
from taskkit._errors import DatabaseNotEmptyError, DatabaseUnavailableError, NotFoundError
from taskkit._migrate import VERSION_TABLE, ensure_schema, schema_history
from taskkit._models import Task
from taskkit._seed import SeedSummary, seed

__all__ = ["prepare_database"]

_SEED_HINT = (
    "`taskkit report --seed` fills it with the synthetic dataset (10,000 tasks); "
    "`taskkit import FILE.csv --db URL` loads your own tasks"
)


def _other_tables(names: Iterable[str]) -> list[str]:
    # SQLite's own tables (sqlite_sequence) show in sqlite_master, which _sqlite_state reads.
    others = DatabaseContents(tables=frozenset(names), revision=None).other_tables
    return [n for n in others if not n.startswith("sqlite_")]


def _sqlite_state(path: Path) -> tuple[list[str], bool, int, str | None]:
    """The state of a SQLite file, read through a read-only connection.

    taskkit's engine would switch the file to WAL on connect, a change to a file that may not
    be taskkit's: look first, with the standard library, without writing.
    """
    _roll_back_an_interrupted_write(path)
    with closing(open_sqlite(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        complete = set(SQLModel.metadata.tables) <= set(names)
        tasks = conn.execute("SELECT count(*) FROM task").fetchone()[0] if complete else 0
        revision = None
        if VERSION_TABLE in names:
            row = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
            revision = row[0] if row else None
    return _other_tables(names), complete, int(tasks), revision


def _roll_back_an_interrupted_write(path: Path) -> None:
    """Undo a write that was killed before its commit, when it left a rollback journal.

    taskkit's bulk writer writes into an empty file through a rollback journal (see
    ``taskkit._sqlite_child.worker``); killed, it leaves the journal behind, and SQLite rolls
    it back on the next read by a connection that may write. A read-only connection cannot,
    and refuses to read ("attempt to write a readonly database"). So, only when a journal is
    there, one read through a plain connection does what any SQLite reader would: the file is
    back as it was before the killed write, its journal mode and contents otherwise untouched.
    """
    journal = path.with_name(path.name + "-journal")
    if journal.exists() and journal.stat().st_size:
        with closing(open_sqlite(str(path))) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()


async def _state(engine: AsyncEngine) -> tuple[list[str], bool, int, str | None]:
    """(tables that are not taskkit's, whether every taskkit table exists, tasks, revision)."""
    contents = await database_contents(engine)
    complete = set(SQLModel.metadata.tables) <= contents.tables
    tasks = 0
    if complete:
        async with engine.connect() as conn:
            tasks = await conn.scalar(select(func.count()).select_from(Task)) or 0
    revision = contents.revision if complete else None
    return _other_tables(contents.tables), complete, int(tasks), revision


def _sqlite_file(url: str) -> Path | None:
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite" and not is_memory_sqlite(parsed):
        return Path(parsed.database or "")
    return None


async def prepare_database(url: str, *, may_seed: bool) -> SeedSummary | None:
    """Check that ``url`` is a taskkit database with tasks, seeding it only when allowed.

    Args:
        url: a normalized database URL.
        may_seed: whether an empty database may get taskkit's tables and the synthetic dataset
            (the default database, or ``--seed``).

    Returns:
        What was seeded, or ``None`` when the database already had tasks (nothing written).

    Raises:
        NotFoundError: a SQLite file that does not exist, or a database without tasks, and
            seeding was not asked for; nothing was created or written.
        DatabaseNotEmptyError: the database holds tables that are not taskkit's and would
            need writing (no taskkit tables, no tasks, or an older schema); nothing written.
    """
    path = _sqlite_file(url)
    if path is not None and not path.exists() and not may_seed:
        raise NotFoundError(
            f"there is no database at {str(path.resolve())!r} (nothing was created); {_SEED_HINT}"
        )
    engine = connect(url)
    try:
        if path is not None and path.exists():
            try:
                others, complete, tasks, revision = _sqlite_state(path)
            except sqlite3.Error as exc:
                raise DatabaseUnavailableError(
                    f"cannot read SQLite file {str(path)!r}: {exc}; nothing was written"
                ) from None
        else:
            create_sqlite_file(engine)  # a new SQLite file (may_seed): it is seeded below
            await ping(engine)
            others, complete, tasks, revision = await _state(engine)
        at_head = complete and revision == next(r.id for r in schema_history() if r.is_head)
        if tasks and at_head:
            return None  # only read from here on
        if others:
            raise DatabaseNotEmptyError(
                f"{shown_url(url)} holds tables that are not taskkit's ({', '.join(others)}) "
                f"{'and no taskkit tasks' if not tasks else 'and an older taskkit schema'}: "
                "taskkit report will not add tables or data to it; nothing was written. "
                "Point --db at a database of taskkit's own (an empty one and --seed, or "
                "`taskkit import FILE.csv --db URL` into an empty one)"
            )
        if tasks:  # taskkit's own database at an older revision: bring it to head
            await ensure_schema(engine)
            return None
        if not may_seed:
            raise NotFoundError(
                f"{shown_url(url)} has no tasks to report on; nothing was written. {_SEED_HINT}"
            )
        await ensure_schema(engine)
        return await seed(engine, progress=False)
    finally:
        await engine.dispose()
