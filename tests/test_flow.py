"""Flow measures: the numbers worked out by hand on a small board, the same as plain pandas
(tests/flow_reference.py) on generated histories, on every backend; and the argument checks."""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

import taskkit
from taskkit import InvalidArgumentError, StatusChange, Task
from tests import flow_reference as reference
from tests.conftest import make_engine
from tests.flow_data import histories, write

MARCH = {"start": date(2025, 3, 1), "end": date(2025, 3, 12)}


def at(day: int, hour: int, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


def board() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Twelve tasks, each a case the definitions speak of (docs/flow.md), with histories:

    1 done (started Mar 4, finished Mar 8); 2 reopened (started Mar 5, finished Mar 6, reopened
    Mar 7, finished Mar 10); 3 done straight from pending (no start); 4 started, then dropped
    (wont_do); 5 in progress since Mar 4; 6 started Mar 4, sent back Mar 5, started again Mar 8;
    7 in progress since Mar 6 without any history; 8 created Mar 2, whose history begins with
    its start on Mar 9 (no creation row); 9 created after the period; 10 done without history
    (started Mar 4, finished Mar 5); 11 started and finished on Mar 11; 12 finished in
    February.
    """
    p, i, c = "pending", "in_progress", "completed"
    moves: dict[int, list[tuple[datetime, str | None, str]]] = {
        1: [(at(3, 9), None, p), (at(4, 10), p, i), (at(8, 11), i, c)],
        2: [(at(3, 9), None, p), (at(5, 9), p, i), (at(6, 9), i, c), (at(7, 9), c, i),
            (at(10, 9), i, c)],
        3: [(at(3, 9), None, p), (at(6, 12), p, c)],
        4: [(at(3, 9), None, p), (at(4, 9), p, i), (at(7, 9), i, c)],
        5: [(at(3, 9), None, p), (at(4, 9), p, i)],
        6: [(at(3, 9), None, p), (at(4, 9), p, i), (at(5, 9), i, p), (at(8, 9), p, i)],
        8: [(at(9, 9), p, i)],
        9: [(at(20, 9), None, p)],
        11: [(at(11, 8), None, p), (at(11, 9), p, i), (at(11, 17), i, c)],
        12: [(at(20, 9, 2), None, p), (at(21, 9, 2), p, i), (at(25, 9, 2), i, c)],
    }  # fmt: skip
    rows = [
        # id, status, resolution, created, started, completed, updated
        (1, c, "done", at(3, 9), at(4, 10), at(8, 11), at(8, 11)),
        (2, c, "done", at(3, 9), at(5, 9), at(10, 9), at(10, 9)),
        (3, c, "done", at(3, 9), None, at(6, 12), at(6, 12)),
        (4, c, "wont_do", at(3, 9), at(4, 9), at(7, 9), at(7, 9)),
        (5, i, None, at(3, 9), at(4, 9), None, at(4, 9)),
        (6, i, None, at(3, 9), at(4, 9), None, at(8, 9)),
        (7, i, None, at(2, 9), at(6, 9), None, at(6, 9)),
        (8, i, None, at(2, 9), at(9, 9), None, at(9, 9)),
        (9, p, None, at(20, 9), None, None, at(20, 9)),
        (10, c, "done", at(3, 12), at(4, 12), at(5, 12), at(5, 12)),
        (11, c, "done", at(11, 8), at(11, 9), at(11, 17), at(11, 17)),
        (12, c, "done", at(20, 9, 2), at(21, 9, 2), at(25, 9, 2), at(25, 9, 2)),
    ]
    columns = ["id", "status", "resolution", "created_at", "started_at", "completed_at",
               "updated_at"]  # fmt: skip
    tasks = pd.DataFrame(rows, columns=columns)
    tasks.insert(1, "title", [f"case {n}" for n in tasks["id"]])
    tasks.insert(2, "key", [f"FLOW-{n}" for n in tasks["id"]])
    tasks["priority"] = "medium"
    for name in ("created_at", "started_at", "completed_at", "updated_at"):
        tasks[name] = pd.to_datetime(tasks[name], utc=True)
    history = pd.DataFrame(
        [
            (task_id, moment, left, to, "tracker")
            for task_id, steps in moves.items()
            for moment, left, to in steps
        ],
        columns=["task_id", "changed_at", "from_status", "to_status", "source"],
    )
    history["changed_at"] = pd.to_datetime(history["changed_at"], utc=True)
    history.insert(0, "id", np.arange(1, len(history) + 1))
    return tasks, history


@pytest.fixture
async def board_engine(engine: AsyncEngine) -> AsyncEngine:
    await write(engine, *board())
    return engine


def days(start: str, values: list[int], name: str) -> pd.DataFrame:
    index = pd.date_range(start, periods=len(values), freq="D", unit="s")
    return pd.DataFrame({"day": index, name: np.array(values, dtype="int64")})


# ---------------------------------------------------------------------------------------------
# The board, worked out by hand.


async def test_throughput_counts_finished_work_on_its_last_completion_day(
    board_engine: AsyncEngine,
):
    got = await taskkit.throughput(board_engine, **MARCH)
    # 10 on Mar 5, 3 on Mar 6 (2's first completion is not counted), 1 on Mar 8, 2 on Mar 10,
    # 11 on Mar 11; 4 was dropped, 12 finished in February.
    want = days("2025-03-01", [0, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0], "finished")
    pd.testing.assert_frame_equal(got, want)


async def test_weekly_throughput_says_how_many_days_of_each_week_the_period_holds(
    board_engine: AsyncEngine,
):
    got = await taskkit.throughput(board_engine, per="week", **MARCH)
    want = pd.DataFrame(
        {
            "week": pd.to_datetime(["2025-02-24", "2025-03-03", "2025-03-10"]).astype(
                "datetime64[s]"
            ),
            "finished": np.array([0, 3, 2], dtype="int64"),
            "days": np.array([2, 7, 3], dtype="int64"),
        }
    )
    pd.testing.assert_frame_equal(got, want)


async def test_cycle_time_runs_from_the_first_start_to_the_last_completion(
    board_engine: AsyncEngine,
):
    got = await taskkit.cycle_times(board_engine, **MARCH)
    assert got["id"].tolist() == [10, 3, 1, 2, 11]  # by completion
    # Calendar days, both ends counted: 2 started Mar 5 and finished (again) Mar 10: 6 days;
    # 11 started and finished on Mar 11: 1 day; 3 has no start.
    assert got["cycle_days"].tolist() == [2, pd.NA, 5, 6, 1]
    assert str(got["cycle_days"].dtype) == "Int64"
    assert got["completed_at"].dtype == "datetime64[us, UTC]"


async def test_percentiles_are_nearest_rank_and_count_items_without_a_start(
    board_engine: AsyncEngine,
):
    got = await taskkit.cycle_time_percentiles(board_engine, **MARCH)
    # Known cycle times 1, 2, 5, 6: the 50th is the 2nd smallest, the 70th the 3rd
    # (ceil(2.8)), the 85th and 95th the 4th.
    want = pd.DataFrame(
        {
            "percentile": np.array([50, 70, 85, 95], dtype="int64"),
            "cycle_days": pd.array([2, 5, 6, 6], dtype="Int64"),
            "items": np.array([4] * 4, dtype="int64"),
            "without_start": np.array([1] * 4, dtype="int64"),
        }
    )
    pd.testing.assert_frame_equal(got, want)


async def test_work_in_progress_is_counted_at_the_end_of_each_day(board_engine: AsyncEngine):
    got = await taskkit.work_in_progress(board_engine, **MARCH)
    # Mar 4: 1, 4, 5, 6, 10 started. Mar 5: 2 starts, 6 goes back, 10 finishes. Mar 6: 2
    # finishes, 7 (no history) starts. Mar 7: 2 reopens, 4 is dropped. Mar 8: 1 finishes, 6
    # starts again. Mar 9: 8 starts. Mar 10: 2 finishes. Mar 11: 11 starts and finishes.
    want = days("2025-03-01", [0, 0, 0, 5, 4, 4, 4, 4, 5, 4, 4, 4], "wip")
    pd.testing.assert_frame_equal(got, want)


async def test_cumulative_flow_counts_every_task_in_its_status_from_its_creation(
    board_engine: AsyncEngine,
):
    got = await taskkit.cumulative_flow(board_engine, **MARCH)
    want = pd.DataFrame(
        {
            "day": pd.date_range("2025-03-01", "2025-03-12", freq="D", unit="s"),
            # 7 and 8 exist from Mar 2 (8 is pending until its first recorded move, Mar 9).
            "pending": [0, 2, 9, 4, 4, 2, 2, 1, 0, 0, 0, 0],
            "in_progress": [0, 0, 0, 5, 4, 4, 4, 4, 5, 4, 4, 4],
            "completed": [1, 1, 1, 1, 2, 4, 4, 5, 5, 6, 7, 7],
        }
    ).astype({"pending": "int64", "in_progress": "int64", "completed": "int64"})
    pd.testing.assert_frame_equal(got, want)


async def test_time_in_state_cuts_each_stay_at_the_period(board_engine: AsyncEngine):
    got = (await taskkit.time_in_state(board_engine, **MARCH)).set_index("id")
    # 12 finished before the period and 9 was created after it: no time pending or in
    # progress, no row.
    assert got.index.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 10, 11]
    hours = (got * 24).round(6)
    assert hours.loc[1].tolist() == [25, 97, 109]  # to Mar 13 00:00, the period's end
    assert hours.loc[6].tolist() == [96, 135, 0]  # pending twice, in progress twice
    assert hours.loc[8].tolist() == [168, 87, 0]  # pending from its creation, Mar 2
    assert hours.loc[7].tolist() == [96, 159, 0]  # no history: from its timestamps
    assert hours.loc[11].tolist() == [1, 8, 31]


async def test_work_item_age_sets_items_in_progress_beside_the_percentiles(
    board_engine: AsyncEngine,
):
    got = await taskkit.work_item_age(board_engine, **MARCH)
    assert got["id"].tolist() == [5, 6, 7, 8]  # oldest first, then by id
    assert got["key"].tolist() == ["FLOW-5", "FLOW-6", "FLOW-7", "FLOW-8"]
    # 6 keeps the age of its first start (Mar 4); percentiles 2, 5, 6, 6.
    assert got["age_days"].tolist() == [9, 9, 7, 4]
    assert got["beyond"].tolist() == [95, 95, 95, 50]


async def test_work_item_age_reads_percentiles_already_computed(board_engine: AsyncEngine):
    levels = await taskkit.cycle_time_percentiles(board_engine, **MARCH)
    again = await taskkit.work_item_age(board_engine, percentiles=levels, **MARCH)
    pd.testing.assert_frame_equal(again, await taskkit.work_item_age(board_engine, **MARCH))
    halved = levels.assign(cycle_days=levels["cycle_days"] // 2)  # read as given
    assert (await taskkit.work_item_age(board_engine, percentiles=halved, **MARCH))[
        "beyond"
    ].tolist() == [95, 95, 95, 95]
    with pytest.raises(InvalidArgumentError, match="or the frame of cycle_time_percentiles"):
        await taskkit.work_item_age(board_engine, percentiles=pd.DataFrame({"x": [1]}), **MARCH)


async def test_work_item_age_on_an_earlier_day_reads_the_history(board_engine: AsyncEngine):
    got = await taskkit.work_item_age(board_engine, start="2025-03-01", end="2025-03-06")
    # At the end of Mar 6: 1, 4, 5 (started Mar 4) and 7 (started that day); the only
    # finished item with a start, 10, took 2 days.
    assert got["id"].tolist() == [1, 4, 5, 7]
    assert got["age_days"].tolist() == [3, 3, 3, 1]
    assert got["beyond"].tolist() == [95, 95, 95, pd.NA]


async def test_a_period_without_events_gives_zeros_and_empty_frames(board_engine: AsyncEngine):
    april = {"start": date(2025, 4, 1), "end": date(2025, 4, 7)}
    assert (await taskkit.throughput(board_engine, **april))["finished"].tolist() == [0] * 7
    cycles = await taskkit.cycle_times(board_engine, **april)
    assert cycles.empty
    assert cycles.dtypes.astype(str).tolist() == ["int64", "datetime64[us, UTC]", "Int64"]
    levels = await taskkit.cycle_time_percentiles(board_engine, **april)
    assert levels["cycle_days"].isna().all() and (levels[["items", "without_start"]] == 0).all(
        axis=None
    )
    flow = await taskkit.cumulative_flow(board_engine, **april)
    assert flow[["pending", "in_progress", "completed"]].drop_duplicates().values.tolist() == [
        [1, 4, 7]  # 9, created Mar 20, is pending
    ]
    ages = await taskkit.work_item_age(board_engine, **april)
    assert ages["age_days"].tolist() == [35, 35, 33, 30]
    assert ages["beyond"].isna().all()  # nothing finished: no percentile to be beyond


async def test_a_population_is_any_select_of_tasks(board_engine: AsyncEngine):
    only = taskkit.select_tasks(key=["FLOW-1", "FLOW-2", "FLOW-6"])
    assert (await taskkit.throughput(board_engine, only, **MARCH))["finished"].sum() == 2
    assert (await taskkit.work_in_progress(board_engine, only, **MARCH))["wip"].tolist() == [
        0, 0, 0, 2, 2, 1, 2, 2, 2, 1, 1, 1,
    ]  # fmt: skip
    joined = select(Task).join(StatusChange, StatusChange.task_id == Task.id)
    twice = await taskkit.throughput(board_engine, joined, **MARCH)  # a row per move
    # Each task counted once all the same; 10, which has no history, is not in the join.
    assert twice["finished"].tolist() == [0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 0]


# ---------------------------------------------------------------------------------------------
# Generated histories: the same frames as plain pandas.


PERIODS = [
    (date(2025, 2, 1), date(2025, 4, 30)),
    (date(2024, 11, 1), date(2026, 2, 1)),  # before the first task to after the last move
    (date(2026, 3, 1), date(2026, 3, 9)),  # nothing happens
]


@pytest.fixture
async def generated(engine: AsyncEngine) -> tuple[AsyncEngine, pd.DataFrame, pd.DataFrame]:
    await write(engine, *histories(400, seed=7))
    tasks = await taskkit.to_dataframe(engine, select(Task))
    history = await taskkit.to_dataframe(engine, select(StatusChange))
    return engine, tasks, history


def _population(tasks: pd.DataFrame, which: str) -> tuple[Any, pd.DataFrame]:
    if which == "all":
        return None, tasks
    stmt = taskkit.select_tasks(created_from="2025-05-01", created_to="2025-10-01")
    inside = tasks["created_at"].between(
        pd.Timestamp("2025-05-01", tz="UTC"), pd.Timestamp("2025-10-01", tz="UTC"), "left"
    )
    return stmt, tasks[inside]


@pytest.mark.parametrize("which", ["all", "created May to September"])
@pytest.mark.parametrize(("start", "end"), PERIODS)
async def test_every_measure_equals_plain_pandas_on_generated_histories(
    generated: tuple[AsyncEngine, pd.DataFrame, pd.DataFrame], which: str, start: date, end: date
):
    engine, tasks, history = generated
    stmt, rows = _population(tasks, which)
    period = {"start": start, "end": end}
    pairs = [
        (
            lambda: taskkit.throughput(engine, stmt, **period),
            reference.throughput(rows, start, end),
        ),
        (
            lambda: taskkit.throughput(engine, stmt, per="week", **period),
            reference.throughput(rows, start, end, "week"),
        ),
        (
            lambda: taskkit.cycle_times(engine, stmt, **period),
            reference.cycle_times(rows, start, end),
        ),
        (
            lambda: taskkit.cycle_time_percentiles(
                engine, stmt, percentiles=[1, 50, 85, 100], **period
            ),
            reference.cycle_time_percentiles(rows, start, end, [1, 50, 85, 100]),
        ),
        (
            lambda: taskkit.cumulative_flow(engine, stmt, **period),
            reference.cumulative_flow(rows, history, start, end),
        ),
        (
            lambda: taskkit.work_in_progress(engine, stmt, **period),
            reference.work_in_progress(rows, history, start, end),
        ),
        (
            lambda: taskkit.time_in_state(engine, stmt, **period),
            reference.time_in_state(rows, history, start, end),
        ),
        (
            lambda: taskkit.work_item_age(engine, stmt, **period),
            reference.work_item_age(rows, history, start, end),
        ),
    ]
    for ours, theirs in pairs:
        pd.testing.assert_frame_equal(await ours(), theirs)


def test_the_generated_histories_hold_every_case_the_definitions_name():
    tasks, history = histories(400, seed=7)
    first = history.groupby("task_id").head(1)
    back = history[(history["from_status"] == "in_progress") & (history["to_status"] == "pending")]
    reopened = history[history["from_status"] == "completed"]
    done = tasks["resolution"] == "done"
    assert (done & tasks["started_at"].isna()).any()  # finished without a start
    assert tasks["resolution"].isin(["wont_do", "duplicate", "cancelled"]).any()
    assert len(back) and len(reopened)
    assert (~tasks["id"].isin(history["task_id"])).any()  # no history at all
    assert first["from_status"].notna().any()  # a history without its creation row
    assert tasks["status"].isin(["pending", "in_progress"]).any()  # open at the end


@pytest.mark.postgres
async def test_sqlite_and_postgresql_give_the_same_frames(tmp_path: Path):
    data = histories(300, seed=3)
    frames = []
    for backend in ("sqlite-file", "postgresql"):
        engine = await make_engine(backend, tmp_path)
        await write(engine, *data)
        period = {"start": date(2025, 1, 1), "end": date(2025, 12, 31)}
        frames.append(
            [
                await taskkit.throughput(engine, per="week", **period),
                await taskkit.cycle_times(engine, **period),
                await taskkit.cycle_time_percentiles(engine, **period),
                await taskkit.cumulative_flow(engine, **period),
                await taskkit.time_in_state(engine, **period),
                await taskkit.work_item_age(engine, **period),
            ]
        )
        await engine.dispose()
    for sqlite_frame, postgres_frame in zip(*frames, strict=True):
        pd.testing.assert_frame_equal(sqlite_frame, postgres_frame)


# ---------------------------------------------------------------------------------------------
# Arguments.


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": datetime(2025, 3, 1, tzinfo=UTC)}, "start must be a calendar day"),
        ({"end": "March"}, "end must be a calendar day: .* got 'March'"),
        ({"start": "2025-03-12", "end": "2025-03-01"}, r"end \(2025-03-01\) must not be before"),
        ({"tasks": "select * from task"}, "tasks must be a select of tasks"),
        ({"tasks": select(StatusChange)}, "tasks must be a select of tasks"),
        ({"per": "month"}, "per must be one of day, week; got 'month'"),
    ],
)
async def test_throughput_refuses_arguments_naming_them(
    board_engine: AsyncEngine, kwargs: dict[str, Any], message: str
):
    arguments = {**MARCH, **kwargs}
    with pytest.raises(InvalidArgumentError, match=message):
        await taskkit.throughput(board_engine, **arguments)


@pytest.mark.parametrize("percentiles", [[], [0, 50], [50, 101], [50.5], "85", [True]])
async def test_percentiles_must_be_whole_numbers_from_1_to_100(
    board_engine: AsyncEngine, percentiles: Any
):
    with pytest.raises(InvalidArgumentError, match="percentiles must be whole numbers"):
        await taskkit.cycle_time_percentiles(board_engine, percentiles=percentiles, **MARCH)


async def test_a_source_must_be_an_engine_connection_or_session():
    with pytest.raises(InvalidArgumentError, match="source must be an AsyncEngine"):
        await taskkit.cumulative_flow("sqlite:///x.db", **MARCH)  # type: ignore[arg-type]
