"""Where the grid reads its pages: a SQLite file in this thread, anything else on the engine."""

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

import taskkit
from taskkit import paginate
from taskkit._explore.source import InlineSession, page_session


@pytest.fixture
async def seeded(engine: AsyncEngine) -> AsyncEngine:
    await taskkit.seed(engine, tasks=30, projects=2, workers=3, seed=2)
    return engine


async def test_a_sqlite_file_is_read_in_this_thread_and_others_on_the_engine(
    seeded: AsyncEngine, backend: str
) -> None:
    stmt = taskkit.select_tasks(status=["completed", "pending"], order_by="title")
    threads: set[int] = set()

    def note_thread(*_: object) -> None:
        threads.add(threading.get_ident())

    async with page_session(seeded) as s:
        assert isinstance(s, InlineSession) == (backend == "sqlite-file")
        sa.event.listen(s.sync_session, "do_orm_execute", note_thread)
        page = await paginate(s, stmt, size=7)
    async with taskkit.session(seeded) as s:
        every = (await s.exec(stmt)).all()
    assert [t.id for t in page.items] == [t.id for t in every[:7]]
    assert [t.created_at for t in page.items] == [t.created_at for t in every[:7]]
    assert threads == {threading.get_ident()}


async def test_the_inline_engine_cannot_write(tmp_path: Path) -> None:
    engine = taskkit.connect(f"sqlite:///{tmp_path}/w.db")
    await taskkit.ensure_schema(engine)
    try:
        async with page_session(engine) as s:
            assert isinstance(s, InlineSession)
            with pytest.raises(sa.exc.OperationalError, match="readonly"):
                await s.exec(sa.text("DELETE FROM task"))
    finally:
        await engine.dispose()


async def test_the_next_page_sees_what_another_connection_committed(
    seeded: AsyncEngine,
) -> None:
    grid = await taskkit.explore(seeded, size=5)
    await grid.settled()
    async with taskkit.session(seeded) as s:
        task = await taskkit.create_task(s, taskkit.TaskCreate(title="just now"))
        task.created_at = task.updated_at = datetime(2099, 1, 1, tzinfo=UTC)
        await s.commit()
    await grid.handle({"action": "first"})
    assert grid.rows[0][grid.columns.index("title")] == "just now"


async def test_views_that_read_the_whole_table_are_read_through_the_engine(
    tmp_path: Path,
) -> None:
    seeded = taskkit.connect(f"sqlite:///{tmp_path / 'whole.db'}")  # only files are inline
    await taskkit.ensure_schema(seeded)
    await taskkit.seed(seeded, tasks=30, projects=2, workers=3, seed=2)
    grid = await taskkit.explore(seeded, size=5)
    await grid.settled()
    assert grid._reads_inline()
    await grid.handle({"action": "filter", "filters": {"search": "nothing matches this"}})
    assert not grid._reads_inline() and grid.rows == []
    await grid.handle({"action": "filter", "filters": {}})
    assert grid._reads_inline()
    await grid.handle({"action": "sort", "column": "priority"})  # a CASE: a sort of every row
    await grid.settled()
    assert not grid._reads_inline()
    await grid.handle({"action": "next"})
    async with taskkit.session(seeded) as s:
        every = [str(t.id) for t in (await s.exec(grid.statement)).all()]
    assert [row[0] for row in grid.rows] == every[5:10]
    await seeded.dispose()
