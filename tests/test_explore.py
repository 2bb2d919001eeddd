"""The explore grid, kernel side: its message handler driven directly on real databases.

Each test sends what a click sends (``grid.handle({...})``) and checks the rows the grid would
show against ``session.exec(grid.statement)``, the statement the grid says it shows.
"""

import asyncio
import itertools
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import case, func, insert, literal
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

import taskkit
from taskkit import InvalidArgumentError, Project, Task
from taskkit._explore.widget import Explorer

N_TASKS = 47
SIZE = 10


@pytest.fixture
async def engine(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch):
    """conftest's engine, whose grids finish their counts before it is disposed and the
    test's event loop closes: a statement left running in aiosqlite's thread reported to a
    closed loop, an error that surfaced in a later test (a flaky suite)."""
    made: list[Explorer] = []
    init = Explorer.__init__

    def recording(self: Explorer, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(Explorer, "__init__", recording)
    yield engine
    for grid in made:
        await grid.settled()


@pytest.fixture
async def seeded(engine: AsyncEngine) -> AsyncEngine:
    await taskkit.seed(engine, tasks=N_TASKS, projects=3, workers=4, seed=1)
    return engine


async def expected_ids(engine: AsyncEngine, grid: Explorer) -> list[str]:
    # In-memory SQLite has one connection: let the grid's count finish before using it.
    await grid.settled()
    async with taskkit.session(engine) as s:
        return [str(t.id) for t in (await s.exec(grid.statement)).all()]


def shown(grid: Explorer) -> list[str | None]:
    return [row[grid.columns.index("id")] for row in grid.rows]


async def test_pages_are_windows_of_the_statement_first_next_prev_last(
    seeded: AsyncEngine,
) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    every = await expected_ids(seeded, grid)
    assert len(every) == N_TASKS
    assert shown(grid) == every[:SIZE] and not grid.has_prev and grid.has_next
    await grid.handle({"action": "next"})
    assert shown(grid) == every[SIZE : 2 * SIZE]
    await grid.handle({"action": "prev"})
    assert shown(grid) == every[:SIZE]
    await grid.handle({"action": "last"})
    assert shown(grid) == every[-SIZE:] and grid.has_prev and not grid.has_next
    await grid.handle({"action": "prev"})
    assert shown(grid) == every[-2 * SIZE : -SIZE]
    await grid.handle({"action": "first"})
    assert shown(grid) == every[:SIZE]
    assert grid.error == ""


async def test_next_walks_every_row_once(seeded: AsyncEngine) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    seen = shown(grid)
    while grid.has_next:
        await grid.handle({"action": "next"})
        seen += shown(grid)
    assert seen == await expected_ids(seeded, grid)


async def test_the_count_arrives_without_holding_the_page_back(seeded: AsyncEngine) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    assert grid.rows  # the page is there whether or not the count is
    await grid.settled()
    assert grid.total == N_TASKS
    assert grid.position == "page 1 of 5" and grid.span == "1\u201310"
    await grid.handle({"action": "last"})
    assert grid.position == "page 5 of 5" and grid.span == "38\u201347"
    await grid.handle({"action": "prev"})
    assert grid.position == "page 4 of 5" and grid.span == "28\u201337"


async def test_a_count_that_fails_says_so_and_paging_goes_on(
    engine: AsyncEngine, backend: str
) -> None:
    if not backend.startswith("sqlite"):
        pytest.skip("the failing expression is SQLite's json() on malformed text")
    await taskkit.seed(engine, tasks=N_TASKS, projects=3, workers=4, seed=1)
    # Rows past the first pages make json() raise: the first page reads, the count cannot.
    explodes = case((col(Task.id) > 3 * SIZE, func.json("{")), else_=literal(1)) == 1
    stmt = select(Task).where(explodes).order_by(col(Task.id))
    grid = await taskkit.explore(engine, stmt, size=SIZE)
    await grid.settled()
    assert grid.total == -2  # the bar says "rows not counted", not "counting" forever
    assert grid.notice.startswith("The rows could not be counted (")
    await grid.handle({"action": "next"})
    assert shown(grid) == [str(i) for i in range(SIZE + 1, 2 * SIZE + 1)]


async def test_a_header_click_sorts_and_a_second_click_reverses(seeded: AsyncEngine) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    await grid.handle({"action": "sort", "column": "title"})
    assert grid.order == "title" and grid.code == "taskkit.select_tasks(order_by='title')"
    every = await expected_ids(seeded, grid)
    assert shown(grid) == every[:SIZE]
    await grid.settled()
    async with taskkit.session(seeded) as s:
        titles = [t.title for t in (await s.exec(grid.statement)).all()]
    assert titles == sorted(titles)
    await grid.handle({"action": "sort", "column": "title"})
    assert grid.order == "-title"
    assert shown(grid) == (await expected_ids(seeded, grid))[:SIZE]
    await grid.handle({"action": "last"})
    assert shown(grid) == (await expected_ids(seeded, grid))[-SIZE:]


async def test_filters_are_the_select_tasks_call_the_code_shows(seeded: AsyncEngine) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    filters = {"status": ["completed", "pending"], "priority": ["high"], "search": " e "}
    await grid.handle({"action": "filter", "filters": filters})
    assert grid.error == ""
    assert grid.code == (
        "taskkit.select_tasks(status=['completed', 'pending'], priority=['high'], search='e')"
    )
    rebuilt = eval(grid.code, {"taskkit": taskkit})
    assert taskkit.show_sql(rebuilt, seeded) == taskkit.show_sql(grid.statement, seeded)
    every = await expected_ids(seeded, grid)
    assert 0 < len(every) < N_TASKS
    assert shown(grid) == every[:SIZE]
    await grid.settled()
    assert grid.total == len(every)


async def test_date_filters_take_the_browsers_iso_dates(seeded: AsyncEngine) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    await grid.handle(
        {"action": "filter", "filters": {"completed_from": "2025-01-01", "created_to": ""}}
    )
    assert grid.code == "taskkit.select_tasks(completed_from='2025-01-01')"
    statuses = {row[grid.columns.index("status")] for row in grid.rows}
    assert statuses == {"completed"}


async def test_a_bad_filter_says_what_is_allowed_and_keeps_the_view(seeded: AsyncEngine) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    before = list(grid.rows)
    await grid.handle({"action": "filter", "filters": {"status": ["done"]}})
    assert grid.error == (
        "status must be one of pending, in_progress, completed (or a list of them); got 'done'"
    )
    assert grid.rows == before and grid.code == "taskkit.select_tasks()"
    await grid.handle({"action": "filter", "filters": {"created_from": "June"}})
    assert "created_from must be an ISO 8601 date" in grid.error
    await grid.handle({"action": "jump"})
    assert grid.error.startswith("action must be one of first, next, prev, last")
    await grid.handle({"action": "first"})
    assert grid.error == ""


async def test_the_grid_says_when_no_index_serves_the_order(
    seeded: AsyncEngine, backend: str
) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    await grid.settled()
    if backend != "postgresql":  # PostgreSQL sorts a table this small whatever its indexes
        assert grid.notice == ""
    await grid.handle({"action": "sort", "column": "priority"})  # a CASE: no index has it
    await grid.settled()
    assert grid.notice.startswith("No index serves this order")


async def test_nulls_timestamps_and_long_text_as_shown(engine: AsyncEngine) -> None:
    moment = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
    async with engine.begin() as conn:
        await conn.execute(
            insert(Task),
            [{"title": "x" * 200, "description": None, "created_at": moment,
              "updated_at": moment}],
        )  # fmt: skip
    grid = await taskkit.explore(engine)
    row = dict(zip(grid.columns, grid.rows[0], strict=True))
    assert row["description"] is None and row["completed_at"] is None  # drawn as NULL
    assert row["created_at"] == "2025-06-01 09:30:00"
    assert grid.headers[grid.columns.index("created_at")] == "created_at (UTC)"
    assert row["title"] == "x" * 200  # whole, for the hover; the cell clips it


async def test_the_sql_panel_and_the_plan(seeded: AsyncEngine) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    dialect = seeded.dialect.name
    assert grid.sql == ""  # formatted only while the panel is open
    grid.sql_open = True  # what opening the panel sends
    assert grid.sql.startswith(f"-- {dialect}") and "LIMIT 11" in grid.sql
    await grid.handle({"action": "next"})
    assert "task.created_at <" in grid.sql  # the seek condition of this page
    assert grid.plan == ""
    await grid.handle({"action": "plan"})
    assert grid.plan.startswith("uses ")


async def test_a_static_table_stands_in_without_a_kernel(seeded: AsyncEngine) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    data, _ = grid._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/html"].count("<tr>") == 1 + SIZE
    assert "created_at (UTC)" in data["text/html"]
    assert f"data-copy='{grid.copy_id}'" in data["text/html"]
    assert data["text/plain"] == "<taskkit explore: taskkit.select_tasks(), 10 rows shown>"
    again = await taskkit.explore(seeded, size=SIZE)
    same = again._repr_mimebundle_()[0]["text/html"].replace(again.copy_id, grid.copy_id)
    assert same == data["text/html"]  # reproducible


@pytest.mark.parametrize("project", [10**30, 2**31, 0])
async def test_a_project_id_no_database_holds_is_refused_in_one_line(
    seeded: AsyncEngine, project: int
) -> None:
    """Issue 25 item 8: a grid filter `project: [10**30]` raised OverflowError in the kernel."""
    grid = await taskkit.explore(seeded, size=SIZE)
    before = shown(grid)
    await grid.handle({"action": "filter", "filters": {"project": [project]}})
    assert grid.error == (
        "project must be a project id (an integer from 1 to 2,147,483,647) or a project name "
        f"(a non-empty string), or a list of them; got {project}"
    )
    assert shown(grid) == before
    with pytest.raises(InvalidArgumentError, match="project must be a project id"):
        taskkit.select_tasks(project=project)


def test_nbconvert_execute_shows_the_first_page_as_a_static_table(tmp_path: Path) -> None:
    """Issue 25 item 7: `jupyter nbconvert --execute --to html` records the widget's state,
    and with it nbconvert shows the widget's view (blank offline) instead of the text/html of
    the same output. The page is an output of its own, which nbconvert shows."""
    import asyncio

    import nbformat

    db = tmp_path / "grid.db"

    async def build() -> list[str]:
        engine = taskkit.connect(f"sqlite:///{db}")
        await taskkit.ensure_schema(engine)
        await taskkit.seed(engine, tasks=50, projects=3, workers=4, seed=0, progress=False)
        async with taskkit.session(engine) as s:
            stmt = taskkit.select_tasks(order_by="-created_at").limit(5)
            ids = [str(t.id) for t in (await s.exec(stmt)).all()]
        await engine.dispose()
        return ids

    first_page = asyncio.run(build())
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(f"import taskkit\nengine = taskkit.connect('sqlite:///{db}')"),
        nbformat.v4.new_code_cell("grid = await taskkit.explore(engine, size=5)\ngrid"),
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, tmp_path / "grid.ipynb")
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to", "html", "grid.ipynb"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    page = (tmp_path / "grid.html").read_text(encoding="utf-8")
    assert "application/vnd.jupyter.widget-state+json" in page  # the case that hid the table
    static = re.search(r"<div class=.taskkit-explore-static.*?</table>", page, flags=re.S)
    assert static is not None, "no static table in the HTML"
    table = static.group(0)
    assert "taskkit.select_tasks() \u00b7 first 5 rows" in table
    shown = re.findall(r"<tr><td>(\d+)</td>", table)
    assert shown == first_page


async def test_to_dataframe_reads_the_whole_current_view(seeded: AsyncEngine) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    await grid.handle({"action": "filter", "filters": {"status": ["pending"]}})
    frame = await grid.to_dataframe()
    assert [str(i) for i in frame["id"]] == await expected_ids(seeded, grid)
    assert set(frame["status"]) == {"pending"}


async def test_any_select_can_be_explored_and_sorted(seeded: AsyncEngine) -> None:
    stmt = select(Task.id, Task.title).where(Task.priority == "high").order_by(Task.id)
    grid = await taskkit.explore(seeded, stmt, size=5)
    assert grid.columns == ["id", "title"]
    await grid.settled()
    async with taskkit.session(seeded) as s:
        every = [str(r.id) for r in (await s.exec(stmt)).all()]
    assert shown(grid) == every[:5]
    await grid.handle({"action": "sort", "column": "title"})
    assert grid.code == "stmt.order_by(None).order_by(stmt.selected_columns['title'].asc())"
    await grid.settled()
    async with taskkit.session(seeded) as s:
        by_title = [str(r.id) for r in (await s.exec(grid.statement)).all()]
    assert shown(grid) == by_title[:5]


async def test_filters_apply_to_any_statement_that_reads_tasks(seeded: AsyncEngine) -> None:
    stmt = select(Task.id, Task.title).where(Task.priority != "high").order_by(Task.id)
    grid = await taskkit.explore(seeded, stmt, size=5)
    assert grid.filterable
    filters = {"status": ["pending", "in_progress"], "created_from": "2020-01-01"}
    await grid.handle({"action": "filter", "filters": filters})
    assert grid.error == ""
    assert grid.code == (
        "stmt.where(taskkit.select_tasks(status=['pending', 'in_progress'], "
        "created_from='2020-01-01').whereclause)"
    )
    await grid.handle({"action": "sort", "column": "title"})
    # The code shown builds the statement shown: run it.
    rebuilt = eval(grid.code, {"stmt": stmt, "taskkit": taskkit})
    assert str(rebuilt.compile()) == str(grid.statement.compile())
    await grid.settled()
    async with taskkit.session(seeded) as s:
        ids = [r.id for r in (await s.exec(grid.statement)).all()]
        tasks = [await s.get(Task, i) for i in ids]
    assert shown(grid) == [str(i) for i in ids[:5]]
    assert ids and "high" not in {t.priority for t in tasks if t}
    assert {t.status for t in tasks if t} <= {"pending", "in_progress"}
    assert grid.total == len(ids)


async def test_a_join_with_tasks_is_filtered_by_project_and_status(seeded: AsyncEngine) -> None:
    stmt = select(Task.id, Task.status, Project.name).join(Project).order_by(Task.id)
    grid = await taskkit.explore(seeded, stmt, size=SIZE)
    await grid.settled()  # in-memory SQLite: one connection, the grid's count first
    async with taskkit.session(seeded) as s:
        project = await taskkit.get_project(s, 2)
    await grid.handle(
        {"action": "filter", "filters": {"status": ["completed"], "project": [project.name]}}
    )
    assert grid.error == ""
    await grid.settled()
    async with taskkit.session(seeded) as s:
        rows = (await s.exec(grid.statement)).all()
    assert rows and {(r.status, r.name) for r in rows} == {("completed", project.name)}
    assert shown(grid) == [str(r.id) for r in rows[:SIZE]]


@pytest.mark.parametrize(
    "make",
    [
        lambda: select(Task).join(Task.project).where(Project.id != 1).order_by(Task.id.desc()),
        lambda: select(Task).join(Project).where(Project.id != 1).order_by(Task.title, Task.id),
        lambda: select(Task).where(Task.workers.any()).order_by(Task.id),
    ],
    ids=["relationship-join", "entity-join", "relationship-any"],
)
async def test_model_statements_with_joins_page_and_filter(seeded: AsyncEngine, make: Any) -> None:
    grid = await taskkit.explore(seeded, make(), size=5)
    for request in (
        {"action": "first"},
        {"action": "filter", "filters": {"status": ["completed"]}},
    ):
        await grid.handle(request)
        await grid.handle({"action": "next"})
        assert grid.error == ""
        expected = await expected_ids(seeded, grid)
        assert shown(grid) == expected[5:10] and len(expected) > 5
        assert grid.total == len(expected)


async def test_filters_on_a_statement_without_tasks_say_what_is_filterable(
    seeded: AsyncEngine,
) -> None:
    grid = await taskkit.explore(seeded, select(Project), size=SIZE)
    assert not grid.filterable
    await grid.handle({"action": "filter", "filters": {"status": ["pending"]}})
    assert grid.error == (
        "filters apply to statements that read the task table (select(Task), some of its "
        "columns, or a join with it); this one reads project: add .where(...) to it instead"
    )
    assert grid.code == "stmt"


async def test_page_size_can_change(seeded: AsyncEngine) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    await grid.handle({"action": "size", "size": 20})
    assert len(grid.rows) == 20
    await grid.handle({"action": "size", "size": 0})
    assert grid.error == "size must be an integer from 1 to 10,000; got 0"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 0}, "size must be an integer from 1 to 10,000; got 0"),
        ({"stmt": "SELECT 1"}, "stmt must be a select"),
        ({"stmt": select(Task).limit(3)}, "must not have LIMIT"),
    ],
)
async def test_explore_refuses_what_it_cannot_page(
    seeded: AsyncEngine, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        await taskkit.explore(seeded, **kwargs)


async def test_explore_refuses_what_is_not_a_database() -> None:
    with pytest.raises(InvalidArgumentError, match="source must be an engine"):
        await taskkit.explore("sqlite://")  # type: ignore[arg-type]


async def test_project_and_worker_filters_take_names_ids_and_text_from_inputs(
    seeded: AsyncEngine,
) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    await grid.settled()  # in-memory SQLite: one connection, the grid's count first
    async with taskkit.session(seeded) as s:
        project = await taskkit.get_project(s, 2)
    await grid.handle(
        {"action": "filter", "filters": {"project": [project.name, "3"], "worker": ["w-0001"]}}
    )
    assert grid.error == ""
    assert grid.code == (f"taskkit.select_tasks(project=[{project.name!r}, 3], worker=['w-0001'])")
    expected = await expected_ids(seeded, grid)
    assert shown(grid) == expected[:SIZE]
    async with taskkit.session(seeded) as s:
        third = await taskkit.get_project(s, 3)
    # The task view shows project names where the table holds ids.
    projects = {row[grid.columns.index("project_id")] for row in grid.rows}
    assert projects and projects <= {project.name, third.name}


async def test_a_message_from_the_browser_is_answered(seeded: AsyncEngine) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    grid._handle_custom_msg({"action": "next"}, [])  # what the kernel calls for model.send
    assert grid._request is not None
    await grid._request
    assert shown(grid) == (await expected_ids(seeded, grid))[SIZE : 2 * SIZE]


# ---------------------------------------------------------------------------------------------
# Any select: joins, GROUP BY, select(subquery).


async def test_a_join_selecting_an_enum_column_is_counted_planned_and_filtered(
    seeded: AsyncEngine,
) -> None:
    # The statement: its plan rows were read through Task.status (LookupError), which
    # left the grid without a count.
    stmt = select(Task.id, Task.title, Task.status, Project.name).join(Project).order_by(Task.id)
    grid = await taskkit.explore(seeded, stmt, size=SIZE)
    await grid.settled()
    async with taskkit.session(seeded) as s:
        every = (await s.exec(stmt)).all()
    assert grid.total == len(every) > SIZE and not grid.notice.startswith("The rows could not")
    await grid.handle({"action": "plan"})
    assert grid.error == "" and grid.plan.startswith("uses ")
    assert grid.filterable
    await grid.handle({"action": "filter", "filters": {"status": ["pending"]}})
    await grid.settled()
    async with taskkit.session(seeded) as s:
        pending = (await s.exec(grid.statement)).all()
    assert grid.total == len(pending) and {r.status for r in pending} == {"pending"}
    assert shown(grid) == [str(r.id) for r in pending[:SIZE]]


async def rows_of(engine: AsyncEngine, grid: Explorer) -> list[list[str | None]]:
    """Every row of ``grid.statement`` as the grid shows cells."""
    await grid.settled()
    async with taskkit.session(engine) as s:
        result = await s.exec(grid.statement)
        return [[None if v is None else str(getattr(v, "value", v)) for v in r] for r in result]


async def walk(grid: Explorer) -> list[list[str | None]]:
    seen = list(grid.rows)
    while grid.has_next:
        await grid.handle({"action": "next"})
        assert grid.error == ""
        seen += grid.rows
    return seen


async def test_a_group_by_is_paged_as_a_subquery_by_the_grid_itself(seeded: AsyncEngine) -> None:
    stmt = (
        select(Task.project_id, Task.status, func.count())
        .group_by(Task.project_id, Task.status)
        .order_by(func.count().desc())
    )
    grid = await taskkit.explore(seeded, stmt, size=3)
    assert grid.error == "" and grid.columns == ["project_id", "status", "count"]
    assert "GROUP BY" in grid.remark
    every = await rows_of(seeded, grid)
    assert len(every) > 6 and grid.total == len(every)
    counts = [int(r[2] or 0) for r in every]
    assert counts == sorted(counts, reverse=True) and sum(counts) == N_TASKS
    assert await walk(grid) == every  # each group once, in the statement's order
    await grid.handle({"action": "last"})
    assert grid.rows == every[-3:]
    # A sort by any column, the groups breaking ties; the code builds the same statement.
    await grid.handle({"action": "sort", "column": "status"})
    await grid.handle({"action": "first"})
    rebuilt = eval(grid.code, {"stmt": stmt, "sqlalchemy": sqlalchemy})
    assert str(rebuilt.compile()) == str(grid.statement.compile())
    by_status = await rows_of(seeded, grid)
    assert [r[1] for r in by_status] == sorted(r[1] or "" for r in by_status)
    assert await walk(grid) == by_status


async def test_distinct_is_paged_by_every_column(seeded: AsyncEngine) -> None:
    stmt = select(Task.status, Task.priority).distinct()
    grid = await taskkit.explore(seeded, stmt, size=2)
    assert grid.error == "" and "DISTINCT" in grid.remark
    every = await rows_of(seeded, grid)
    assert len({tuple(r) for r in every}) == len(every) > 2
    assert await walk(grid) == every


@pytest.mark.parametrize("make_select", [select, sqlalchemy.select], ids=["sqlmodel", "sqlalchemy"])
async def test_a_select_of_a_grouped_subquery_shows_whole_rows(
    seeded: AsyncEngine, make_select: Any
) -> None:
    grouped = select(Task.project_id, Task.status, func.count().label("n"))
    sq = grouped.group_by(Task.project_id, Task.status).subquery()
    stmt = make_select(sq).order_by(sq.c.n.desc())
    grid = await taskkit.explore(seeded, stmt, size=3)
    assert grid.error == "" and grid.columns == ["project_id", "status", "n"]
    every = await rows_of(seeded, grid)
    assert all(r[1] is not None and r[2] is not None for r in every)  # not the first column only
    assert sum(int(r[2] or 0) for r in every) == N_TASKS
    assert await walk(grid) == every  # n has ties: the groups break them
    assert ("scalar select" in grid.remark) is (make_select is select)


async def test_a_select_of_one_column_shows_its_values(seeded: AsyncEngine) -> None:
    grid = await taskkit.explore(seeded, select(Task.title).order_by(Task.id), size=3)
    async with taskkit.session(seeded) as s:
        titles = (await s.exec(select(Task.title).order_by(Task.id).limit(3))).all()
    assert grid.rows == [[t] for t in titles]


# ---------------------------------------------------------------------------------------------
# Ergonomics: jump to a page, the last page's SQL explained, names, history, richer filters.


@pytest.mark.parametrize("number", [2, 3, 4])
async def test_a_jump_shows_that_page_and_pages_on_from_it(
    seeded: AsyncEngine, number: int
) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    every = await expected_ids(seeded, grid)
    await grid.handle({"action": "page", "number": number})
    start = (number - 1) * SIZE
    assert grid.error == "" and shown(grid) == every[start : start + SIZE]
    assert grid.position == f"page {number} of 5"
    await grid.handle({"action": "next"})
    assert shown(grid) == every[start + SIZE : start + 2 * SIZE]
    await grid.handle({"action": "prev"})
    await grid.handle({"action": "prev"})
    assert shown(grid) == every[start - SIZE : start]
    await grid.handle({"action": "page", "number": 6})
    assert grid.error == "page must be an integer from 1 to 5; got 6"


async def test_the_sql_panel_says_why_a_page_read_backwards_reads_descending(
    seeded: AsyncEngine,
) -> None:
    grid = await taskkit.explore(seeded, size=SIZE)
    grid.sql_open = True
    assert grid.sql_note == ""
    await grid.handle({"action": "last"})
    assert "ORDER BY task.created_at ASC" in grid.sql  # the view says newest first
    assert grid.sql_note.startswith("This page was read backwards")
    await grid.handle({"action": "prev"})
    assert grid.sql_note.startswith("This page was read backwards")
    await grid.handle({"action": "next"})
    assert grid.sql_note == ""


async def test_the_task_view_shows_project_names_and_other_views_keep_ids(
    seeded: AsyncEngine,
) -> None:
    await asyncio.sleep(0)
    grid = await taskkit.explore(seeded, size=N_TASKS)
    await grid.settled()
    async with taskkit.session(seeded) as s:
        names = {p.id: p.name for p in (await s.exec(select(Project))).all()}
        tasks = (await s.exec(grid.statement)).all()
    at = grid.columns.index("project_id")
    assert [row[at] for row in grid.rows] == [
        None if t.project_id is None else names[t.project_id] for t in tasks
    ]
    ids = await taskkit.explore(seeded, select(Task.id, Task.project_id).order_by(Task.id))
    assert {r[1] for r in ids.rows} <= {None, *(str(i) for i in names)}


async def test_selecting_a_task_shows_its_status_history(engine: AsyncEngine) -> None:
    async with taskkit.session(engine) as s:
        project = await taskkit.create_project(s, {"name": "Apollo"})
        task = await taskkit.create_task(
            s, {"title": "Ship it", "project_id": project.id, "labels": ["ui", "bug"]}
        )
        await taskkit.update_task(s, task.id, {"status": "in_progress"})
        await taskkit.update_task(s, task.id, {"status": "completed", "resolution": "wont_do"})
    grid = await taskkit.explore(engine)
    assert grid.row_key == "id"
    await grid.handle({"action": "select", "id": str(task.id)})
    assert grid.error == ""
    async with taskkit.session(engine) as s:
        history = (await s.exec(taskkit.select_history(select(Task)))).all()
    assert grid.detail["history"] == [
        [c.from_status, c.to_status, c.changed_at.isoformat(" ", "seconds")[:19], c.source]
        for c in history
    ]
    assert [h[:2] for h in grid.detail["history"]] == [
        [None, "pending"],
        ["pending", "in_progress"],
        ["in_progress", "completed"],
    ]
    assert grid.detail["labels"] == ["bug", "ui"] and grid.detail["project"] == "Apollo"
    assert grid.detail["resolution"] == "wont_do"
    await grid.handle({"action": "select", "id": None})
    assert grid.detail == {}
    await grid.handle({"action": "select", "id": "999"})
    assert grid.error == "task 999 does not exist"
    other = await taskkit.explore(engine, select(Project))
    await other.handle({"action": "select", "id": "1"})
    assert other.error.startswith("rows of this view are not tasks")


async def test_resolution_label_and_kind_filter_as_select_tasks_does(engine: AsyncEngine) -> None:
    async with taskkit.session(engine) as s:
        for i, (labels, kind, resolution) in enumerate(
            [(["bug"], "Bug", "done"), (["ui"], "Story", "duplicate"), ([], "Bug", None)] * 4
        ):
            task = await taskkit.create_task(s, {"title": f"t{i}", "labels": labels, "kind": kind})
            if resolution:
                await taskkit.update_task(
                    s, task.id, {"status": "completed", "resolution": resolution}
                )
    grid = await taskkit.explore(engine, size=5)
    forms = {tuple(f["names"]): f for f in grid.filter_form}
    assert forms[("resolution",)]["choices"] == ["done", "wont_do", "duplicate", "cancelled"]
    assert forms[("label",)]["form"] == "list" and forms[("kind",)]["form"] == "list"
    filters = {"resolution": ["duplicate", "done"], "label": ["ui", " "], "kind": ["Story"]}
    await grid.handle({"action": "filter", "filters": filters})
    assert grid.error == ""
    assert grid.code == (
        "taskkit.select_tasks(resolution=['duplicate', 'done'], label=['ui'], kind=['Story'])"
    )
    await grid.settled()
    async with taskkit.session(engine) as s:
        expected = (
            await s.exec(
                taskkit.select_tasks(resolution=["duplicate", "done"], label="ui", kind="Story")
            )
        ).all()
    assert shown(grid) == [str(t.id) for t in expected][:5] and grid.total == 4


async def test_the_readme_shows_what_the_grid_and_explain_say(tmp_path: Path) -> None:
    # The guide's comments are outputs: grid.code after its steps, explain's repr on SQLite.
    readme = (Path(__file__).parent.parent / "docs" / "explore.md").read_text()
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'readme.db'}")
    await taskkit.create_db_and_tables(engine)
    await taskkit.seed(engine, tasks=2_000, seed=0, progress=False)
    try:
        joined = select(Task.id, Task.title, Task.status, Project.name).join(Project)
        grid = await taskkit.explore(engine, joined.order_by(Task.id), size=20)
        await grid.handle({"action": "filter", "filters": {"status": ["completed"]}})
        per_project = select(Project.name, func.count()).join(Task).group_by(Project.name)
        grouped = await taskkit.explore(engine, per_project)
        await grid.settled()
        await grouped.settled()
        said = re.findall(r'^grid\.code  # "(.*)"$', readme, flags=re.MULTILINE)
        assert said == [grid.code, grouped.code]
        for call, stmt in [
            ('taskkit.select_tasks(search="login")', taskkit.select_tasks(search="login")),
            ('taskkit.select_tasks(order_by="id").limit(51)',
             taskkit.select_tasks(order_by="id").limit(51)),
        ]:  # fmt: skip
            shown = readme.split(f"await taskkit.explain(engine, {call})\n", 1)[1]
            lines = [line[2:] for line in itertools.takewhile(
                lambda line: line.startswith("# "), shown.splitlines())]  # fmt: skip
            assert "\n".join(lines) == repr(await taskkit.explain(engine, stmt))
    finally:
        await engine.dispose()
