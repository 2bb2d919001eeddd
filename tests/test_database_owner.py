"""One owner per database: what taskkit keeps beside an engine lives in one place, every
SQLite connection it opens in this process comes from one function, and disposing the engine
lets go of all of them."""

import ast
import os
from pathlib import Path

import sqlalchemy as sa

import taskkit
from taskkit import paginate
from taskkit._database.owner import find_owner
from taskkit._database.sqlite_file import SQLITE_BUSY_TIMEOUT_MS, open_sqlite
from taskkit._explore.source import page_session

PACKAGE = Path(taskkit.__file__).resolve().parent


def open_files(path: Path) -> int:
    """How many file descriptors of this process point at ``path``."""
    target = str(path.resolve())
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                count += 1
        except OSError:
            continue  # closed meanwhile (listdir's own descriptor)
    return count


async def test_disposing_the_engine_closes_every_connection_taskkit_opened_to_the_file(
    tmp_path: Path,
) -> None:
    """Before, the grid's synchronous twin of the engine kept its connection to the file
    until the engine was garbage collected: a disposed engine still held the file open."""
    path = tmp_path / "owned.db"
    engine = taskkit.connect(f"sqlite:///{path}")
    await taskkit.create_db_and_tables(engine)
    await taskkit.seed(engine, tasks=20, projects=2, workers=2, seed=1, progress=False)
    frame = await taskkit.to_dataframe(engine, taskkit.select_tasks())  # the in-process reader
    async with page_session(engine) as s:  # the grid's pages
        page = await paginate(s, taskkit.select_tasks(order_by="title"), size=5)
    assert len(frame) == 20 and len(page.items) == 5
    assert open_files(path) >= 2  # the engine's pool, the reader's idle one, the grid's twin
    kept = find_owner(engine)
    assert kept is not None and kept.read_connections is not None
    await engine.dispose()
    assert open_files(path) == 0
    # and they open again when next needed
    again = await taskkit.to_dataframe(engine, taskkit.select_tasks())
    async with page_session(engine) as s:
        page = await paginate(s, taskkit.select_tasks(order_by="title"), size=5)
    assert len(again) == 20 and len(page.items) == 5
    await engine.dispose()
    assert open_files(path) == 0


async def test_every_sqlite_connection_is_set_up_alike(tmp_path: Path) -> None:
    path = tmp_path / "settings.db"
    engine = taskkit.connect(f"sqlite:///{path}")
    await taskkit.create_db_and_tables(engine)
    async with engine.connect() as conn:  # the engine's own (aiosqlite): a writer
        engine_settings = [
            (await conn.execute(sa.text(f"PRAGMA {name}"))).scalar()
            for name in ("busy_timeout", "foreign_keys", "query_only")
        ]
    await engine.dispose()
    reader = open_sqlite(str(path))
    try:
        reader_settings = [
            reader.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("busy_timeout", "foreign_keys", "query_only")
        ]
        assert reader.isolation_level is None  # taskkit says BEGIN itself
    finally:
        reader.close()
    assert engine_settings == [SQLITE_BUSY_TIMEOUT_MS, 1, 0]
    assert reader_settings == [SQLITE_BUSY_TIMEOUT_MS, 0, 1]


def _opens_connections(tree: ast.AST) -> list[str]:
    """The calls in ``tree`` that open a database connection or make an engine."""
    opening = {"connect", "create_engine"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner_name = ast.unparse(node.func.value)
            if node.func.attr in opening and owner_name in {"sqlite3", "sa", "sqlalchemy"}:
                found.append(f"{owner_name}.{node.func.attr}")
    return found


def test_only_the_owner_module_opens_sqlite_in_this_process() -> None:
    """sqlite3 connections and synchronous engines were opened in four modules, each with its
    own settings; now sqlite3 connections in taskkit._database.sqlite_file alone (SQLAlchemy-free,
    for the import into a new file) and the grid's synchronous engine in the owner module. (The
    engine itself is made by taskkit._database.engine, with create_async_engine; the helper
    process runs its own copy of SQLite.)"""
    openers = {
        str(path.relative_to(PACKAGE)): calls
        for path in sorted(PACKAGE.rglob("*.py"))
        if (calls := _opens_connections(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert openers == {
        "_database/owner.py": ["sa.create_engine"],
        "_database/sqlite_file.py": ["sqlite3.connect"],
    }
