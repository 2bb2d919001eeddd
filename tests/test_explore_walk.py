"""The grid on a SQLite file, where a filter sorted by another indexed column walks that index.

Without statistics SQLite reads every row a filter matches through the filter's index and sorts
them for each page (the grid said "No index serves this order" for a status filter sorted by
title). The grid walks the sort column's index instead, within a budget of SQLite steps, and
lets SQLite sort where the walk finds no page in time. Each test checks the rows shown against
``session.exec(grid.statement)``, whichever plan read them.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import taskkit
from taskkit._explore import widget
from taskkit._explore.widget import Explorer
from tests.conftest import make_engine

SIZE = 10


@pytest.fixture
async def seeded_file(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await make_engine("sqlite-file", tmp_path)
    await taskkit.seed(engine, tasks=400, projects=3, workers=4, seed=3)
    yield engine
    await engine.dispose()


async def every_id(engine: AsyncEngine, grid: Explorer) -> list[str]:
    await grid.settled()
    async with taskkit.session(engine) as s:
        return [str(t.id) for t in (await s.exec(grid.statement)).all()]


def shown(grid: Explorer) -> list[str | None]:
    return [row[grid.columns.index("id")] for row in grid.rows]


async def filtered_by_title(engine: AsyncEngine) -> tuple[Explorer, list[str]]:
    """A grid sorted by title and filtered to the status most tasks have."""
    grid = await taskkit.explore(engine, size=SIZE)
    await grid.handle({"action": "sort", "column": "title"})
    await grid.handle({"action": "filter", "filters": {"status": ["completed"]}})
    assert grid.error == ""
    every = await every_id(engine, grid)
    assert len(every) > 3 * SIZE
    return grid, every


async def test_a_broad_filter_sorted_by_title_walks_the_title_index(
    seeded_file: AsyncEngine,
) -> None:
    grid, every = await filtered_by_title(seeded_file)
    assert shown(grid) == every[:SIZE]
    assert grid.notice == ""  # the plan of the pages read sorts nothing
    grid.sql_open = True
    assert "likely(task.status IN ('completed'))" in grid.sql
    plan = await taskkit.explain(seeded_file, grid.statement.limit(SIZE + 1))
    assert plan.temp_sort  # what SQLite's own plan for the statement does
    await grid.handle({"action": "next"})
    assert shown(grid) == every[SIZE : 2 * SIZE]
    await grid.handle({"action": "last"})
    assert shown(grid) == every[-SIZE:]
    await grid.handle({"action": "prev"})
    assert shown(grid) == every[-2 * SIZE : -SIZE]


async def test_a_walk_over_budget_lets_sqlite_sort_and_pages_stay_exact(
    seeded_file: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid, every = await filtered_by_title(seeded_file)
    await grid.handle({"action": "next"})  # walked
    assert shown(grid) == every[SIZE : 2 * SIZE]
    monkeypatch.setattr(widget, "_WALK_STEPS", 0)  # the next walk finds no page in time
    await grid.handle({"action": "next"})  # read by SQLite's plan from the walk's cursor
    assert grid.error == ""
    assert shown(grid) == every[2 * SIZE : 3 * SIZE]
    assert grid.notice.startswith("No index serves this order")
    grid.sql_open = True
    assert "likely(" not in grid.sql
    await grid.handle({"action": "prev"})
    assert shown(grid) == every[SIZE : 2 * SIZE]
    monkeypatch.setattr(widget, "_WALK_STEPS", 10**9)  # the view does not walk again
    await grid.handle({"action": "last"})
    assert shown(grid) == every[-SIZE:]
    assert "likely(" not in grid.sql


async def test_a_filter_whose_index_serves_the_order_keeps_it(seeded_file: AsyncEngine) -> None:
    grid = await taskkit.explore(seeded_file, size=SIZE)  # newest first
    await grid.handle({"action": "filter", "filters": {"status": ["pending"]}})
    grid.sql_open = True
    assert "likely(" not in grid.sql  # the (status, created_at) index serves both
    assert shown(grid) == (await every_id(seeded_file, grid))[:SIZE]
    assert grid.notice == ""
