"""The report reads one snapshot: with a writer committing between its reads, its counts,
charts, provenance and fingerprint still describe one state of the database (issue 25 item 3).

The writer is deterministic: ``to_dataframe``, as the report calls it, is wrapped so that after
each of the report's reads another connection commits a completed task. Before, each read saw
a newer database: "rows in the database" and "tasks in this report" disagreed on an
unfiltered report.
"""

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncEngine

import taskkit
import taskkit._report.data as report_module
from taskkit import Task
from taskkit._report import check_parameters, report_data
from tests.conftest import FILE_BACKENDS, make_engine


@pytest.fixture(params=FILE_BACKENDS)
async def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await make_engine(request.param, tmp_path, "report.db")
    await taskkit.seed(engine, tasks=400, projects=4, workers=6, seed=0, progress=False)
    yield engine
    await engine.dispose()


def tasks_in_database(provenance: dict[str, str]) -> int:
    # "1,234 tasks, 5 projects, ..."
    return int(provenance["rows in the database"].split(" tasks")[0].replace(",", ""))


async def test_the_report_agrees_with_itself_while_another_connection_writes(
    seeded: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = taskkit.connect(seeded.url.render_as_string(hide_password=False))
    added: list[int] = []
    read = report_module.to_dataframe

    async def read_then_someone_writes(*args: Any, **kwargs: Any) -> Any:
        frame = await read(*args, **kwargs)
        async with taskkit.session(writer) as s:
            task = await taskkit.create_task(
                s, {"title": "written meanwhile", "status": "completed"}
            )
        added.append(task.id)
        return frame

    monkeypatch.setattr(report_module, "to_dataframe", read_then_someone_writes)
    parameters = check_parameters({})
    try:
        data = await report_data(seeded, parameters)
        # A commit after every read through to_dataframe: the overview, days, projects,
        # workers, labels and origins (the seed records every task's creation, so there is no
        # unrecorded span to read). The durations are read through the transaction's own
        # driver: their count below still sees no commit.
        assert len(added) == 6
        monkeypatch.undo()
        assert data.tasks == 400
        assert tasks_in_database(data.provenance) == data.tasks
        assert data.provenance["tasks in this report"] == "400"
        assert int(data.daily["created"].sum()) == data.tasks
        assert int(data.daily["done"].sum() + data.daily["dropped"].sum()) == 400 - data.open_tasks
        assert len(data.durations) == data.done
        assert int(data.projects["tasks"].sum()) == data.tasks
        # The flow section reads in the same snapshot: its period ends on the day the seeded
        # tasks last changed, not today, when the writer's tasks were completed.
        assert data.flow.end is not None and data.flow.end <= date(2026, 1, 1)
        # The fingerprint is the one of the database without the writer's tasks.
        async with taskkit.session(writer) as s:
            await s.exec(delete(Task).where(Task.id.in_(added)))  # type: ignore[call-overload,attr-defined]
            await s.commit()
        again = await report_data(seeded, parameters)
        assert again.provenance["data fingerprint"] == data.provenance["data fingerprint"]
    finally:
        await writer.dispose()


# --- What the report counts (issues 22 and 28) -------------------------------------------------


def rows(*tasks: dict[str, Any]) -> pd.DataFrame:
    """Tasks in taskkit's own import format, every column present."""
    columns = ["title", "status", "resolution", "created_at", "started_at", "completed_at"]
    columns += ["project", "workers", "kind", "labels"]
    return pd.DataFrame([{c: t.get(c) for c in columns} for t in tasks], columns=columns)


def task(title: str, created: str, **fields: Any) -> dict[str, Any]:
    return {"title": title, "status": "pending", "created_at": created, **fields}


def finished(
    title: str, created: str, completed: str, resolution: str = "done", **fields: Any
) -> dict[str, Any]:
    done = {"status": "completed", "completed_at": completed, "resolution": resolution}
    return task(title, created, **done, **fields)


BOARD = rows(
    finished("started and done", "2025-03-03T09:00Z", "2025-03-07T09:00Z",
             started_at="2025-03-05T09:00Z", project="Apollo", workers="Ann", kind="Bug",
             labels="backend;ux"),
    finished("done without a start", "2025-03-03T10:00Z", "2025-03-13T10:00Z", kind="Story"),
    finished("cancelled under way", "2025-03-04T09:00Z", "2025-03-06T09:00Z", "cancelled",
             started_at="2025-03-05T09:00Z", project="Apollo", workers="Ann;Bea"),
    finished("a duplicate", "2025-03-04T10:00Z", "2025-03-04T12:00Z", "duplicate"),
    finished("won't do", "2025-03-05T10:00Z", "2025-03-12T10:00Z", "Won't Do", labels="ux"),
    task("waiting", "2025-03-12T10:00Z", project="Apollo", workers="Bea", kind="Bug"),
    task("under way", "2025-03-13T10:00Z", status="in_progress", started_at="2025-03-14T10:00Z"),
)  # fmt: skip


@pytest.fixture(params=FILE_BACKENDS)
async def board(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await make_engine(request.param, tmp_path, "board.db")
    await taskkit.load_tasks(engine, BOARD, format="taskkit", progress=False)
    yield engine
    await engine.dispose()


async def test_dropped_work_is_never_counted_as_done(board: AsyncEngine) -> None:
    """Before, every completed task counted as completed work: the cancelled, duplicate and
    won't-do tasks were in the completed count, the weekly completions and the cycle times."""
    data = await report_data(board, check_parameters({}))
    assert (data.tasks, data.done, data.dropped, data.open_tasks) == (7, 2, 3, 2)
    assert int(data.daily["done"].sum()) == 2 and int(data.daily["dropped"].sum()) == 3
    assert len(data.durations) == 2  # times to completion of done work only
    apollo = data.projects.set_index("project").loc["Apollo"]
    assert (apollo["tasks"], apollo["done"], apollo["dropped"], apollo["open"]) == (3, 1, 1, 1)
    ann = data.workers.set_index("worker").loc["Ann"]
    assert (ann["tasks"], ann["done"], ann["dropped"]) == (2, 1, 1)
    ux = data.labels.set_index("label").loc["ux"]
    assert (ux["tasks"], ux["done"], ux["dropped"]) == (2, 1, 1)


async def test_cycle_time_runs_from_the_start_where_one_is_known(board: AsyncEngine) -> None:
    """Before, time to completion ran from creation for every task (and took in the dropped
    ones); now cycle time runs from started_at, and is missing, not guessed, without one."""
    data = await report_data(board, check_parameters({}))
    times = data.durations.set_index("kind").sort_index()
    assert times.loc["Bug", "cycle_days"] == pytest.approx(2.0)
    assert times.loc["Bug", "lead_days"] == pytest.approx(4.0)
    assert pd.isna(times.loc["Story", "cycle_days"])
    assert times.loc["Story", "lead_days"] == pytest.approx(10.0)


async def test_tasks_without_a_project_have_a_row_of_their_own(board: AsyncEngine) -> None:
    """Before, the projects section counted only tasks in a project (4 of 7 here, silently)."""
    data = await report_data(board, check_parameters({}))
    projects = data.projects
    assert int(projects["tasks"].sum()) == data.tasks
    nobody = projects[projects["project_id"].isna()]
    assert len(nobody) == 1 and int(nobody["tasks"].iloc[0]) == 4


async def test_open_tasks_without_a_worker_and_tasks_without_a_label_are_counted(
    board: AsyncEngine,
) -> None:
    data = await report_data(board, check_parameters({}))
    assert data.unassigned_open == 1  # "under way" has nobody; "waiting" has Bea
    assert data.unlabelled == 5


async def test_worker_counts_agree_with_worker_load(seeded: AsyncEngine) -> None:
    """The report groups the link table first (a tenth of the time on 200,000 tasks); its
    figures are worker_load's, for every worker with a task."""
    data = await report_data(seeded, check_parameters({}))
    load = await taskkit.to_dataframe(seeded, taskkit.worker_load())
    load = load[load["tasks"] > 0].set_index("worker_id").sort_index()
    mine = data.workers.set_index("worker_id").sort_index()
    assert list(mine.index) == list(load.index)
    for column in ("tasks", "open", "pending", "in_progress"):
        assert list(mine[column]) == list(load[column]), column
    assert list(mine["done"] + mine["dropped"]) == list(load["completed"])


async def mark_as_seeded(engine: AsyncEngine) -> None:
    """The creation rows taskkit seed writes into the history since issue 22 (source 'seed'),
    for tasks that have no history yet."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO status_change (task_id, changed_at, from_status, to_status, source) "
                "SELECT id, created_at, NULL, 'pending', 'seed' FROM task t WHERE NOT EXISTS "
                "(SELECT 1 FROM status_change s WHERE s.task_id = t.id)"
            )
        )


async def test_synthetic_tasks_beside_imported_ones_are_told_apart(
    seeded: AsyncEngine,
) -> None:
    await mark_as_seeded(seeded)
    alone = await report_data(seeded, check_parameters({}))
    assert list(alone.origins.index) == ["synthetic (taskkit seed)"]
    assert not alone.mixes_synthetic_data
    await taskkit.load_tasks(seeded, BOARD, format="taskkit", progress=False)
    mixed = await report_data(seeded, check_parameters({}))
    assert mixed.mixes_synthetic_data
    assert mixed.origins["tasks"].to_dict() == {"synthetic (taskkit seed)": 400, "imported": 7}
    imported = mixed.origins.loc["imported"]
    span = (imported["first"].date(), imported["last"].date())
    assert span == (date(2025, 3, 3), date(2025, 3, 13))
    # Each part of the data has its own edges: the imported tasks stop on a Thursday (13 Mar),
    # so their last week is partial, inside the range, and left out like those at its ends;
    # they start on a Monday (3 Mar), so their first week is whole.
    weeks = mixed.weeks()
    assert weeks.inside == [date(2025, 3, 10)]
    assert weeks.counts.loc["2025-03-10"].isna().all()
    assert weeks.counts.loc["2025-03-03", "created"] > 0


async def test_weeks_span_the_range_the_report_states(board: AsyncEngine) -> None:
    data = await report_data(board, check_parameters({}))
    assert (data.start, data.end) == (date(2025, 3, 3), date(2025, 3, 13))
    weeks = data.weeks()
    assert (weeks.start, weeks.end) == (data.start, data.end)
    narrowed = await report_data(board, check_parameters({"date_from": "2025-03-04"}))
    assert narrowed.start == date(2025, 3, 4) and narrowed.tasks == 5


async def test_durations_read_through_the_driver_equal_the_typed_reader(
    board: AsyncEngine,
) -> None:
    """The durations skip SQLAlchemy's rows (three times faster); their frame is the one
    to_dataframe gives, dtypes included, empty or not."""
    from taskkit._database.engine import snapshot_connection
    from taskkit._report.data import read_durations
    from taskkit._report.queries import durations, report_tasks

    for values in ({}, {"project": "Apollo"}, {"date_from": "2030-01-01"}):
        rows = report_tasks(check_parameters(values))
        async with snapshot_connection(board) as conn:
            typed = await taskkit.to_dataframe(conn, durations(rows, conn.dialect.name))
            fast = await read_durations(conn, rows)
        pd.testing.assert_frame_equal(fast, typed)
