"""taskkit.frames: DataFrames whose dtypes come from the models, through either reader.

Every backend of the ``engine`` fixture runs: in-memory SQLite (the SQLAlchemy reader only),
a SQLite file and PostgreSQL (the ADBC reader and the SQLAlchemy reader, which must agree).
"""

import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal
from sqlalchemy import func, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import taskkit
from taskkit import (
    DatabaseUnavailableError,
    InvalidArgumentError,
    Priority,
    Project,
    Status,
    Task,
    TaskkitError,
    TaskRead,
    TaskWorkerLink,
    Worker,
    models_to_frame,
    project_progress,
    select_tasks,
    status_priority_counts,
    tasks_per_week,
    to_dataframe,
    worker_load,
)
from taskkit._sqlite_child.client import SQLiteChild
from tests.conftest import postgres_url

BASE = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
STATUSES = pd.CategoricalDtype(["pending", "in_progress", "completed"], ordered=True)
PRIORITIES = pd.CategoricalDtype(["low", "medium", "high"], ordered=True)
RESOLUTIONS = pd.CategoricalDtype(["done", "wont_do", "duplicate", "cancelled"], ordered=True)
STR = pd.StringDtype("pyarrow", na_value=np.nan)
UTC_US = pd.DatetimeTZDtype("us", "UTC")
TASK_DTYPES = {
    "title": STR,
    "description": STR,
    "status": STATUSES,
    "priority": PRIORITIES,
    "project_id": pd.Int64Dtype(),
    "id": np.dtype("int64"),
    "created_at": UTC_US,
    "updated_at": UTC_US,
    "completed_at": UTC_US,
    "key": STR,
    "resolution": RESOLUTIONS,
    "started_at": UTC_US,
    "kind": STR,
}
# A title SQL would choke on if it were pasted rather than bound or escaped.
TRICKY = 'o\'k \\ 100% "quoted" ; --'


def dtypes(frame: pd.DataFrame) -> dict[str, Any]:
    return dict(frame.dtypes.items())


async def fill(engine: AsyncEngine, n: int = 30, *, first_nulls: int = 0) -> None:
    """Projects, workers, ``n`` tasks (the first ``first_nulls`` without description or
    completion) and worker assignments; task 1 has the TRICKY title."""
    records = []
    for i in range(n):
        created = BASE + timedelta(minutes=7 * i, microseconds=i)
        done = i >= first_nulls and i % 3 == 0
        records.append(
            {
                "title": TRICKY if i == 0 else f"task {i}",
                "description": None if i < first_nulls or i % 4 == 0 else f"about {i}",
                "status": "completed" if done else ["pending", "in_progress"][i % 2],
                "priority": ["low", "medium", "high"][i % 3],
                "project_id": None if i % 5 == 4 else 1 + i % 3,
                "created_at": created,
                "updated_at": created + timedelta(hours=1),
                "completed_at": created + timedelta(days=1, microseconds=7) if done else None,
                "resolution": ("wont_do" if i % 2 else "done") if done else None,
                "started_at": created + timedelta(minutes=30) if i % 2 else None,
                "kind": None if i % 7 == 6 else ["Bug", "Story", "Task"][i % 3],
            }
        )
    async with engine.begin() as conn:
        await conn.execute(insert(Project), [{"name": n} for n in ("Apollo", "Gemini", "Mercury")])
        await conn.execute(insert(Worker), [{"id": f"w-{k}", "name": f"Ann {k}"} for k in range(4)])
        if records:
            await conn.execute(insert(Task), records)
            links = [
                {"task_id": t, "worker_id": f"w-{k}"}
                for t in range(1, n + 1)
                for k in range(4)
                if (t + k) % 3 == 0
            ]
            await conn.execute(insert(TaskWorkerLink), links)


# ---------------------------------------------------------------------------------------------
# Dtypes from the models, for each kind of select, full and empty.


async def test_select_task_gives_each_column_its_model_dtype(engine: AsyncEngine) -> None:
    await fill(engine)
    frame = await to_dataframe(engine, select(Task).order_by(Task.id))
    assert dtypes(frame) == TASK_DTYPES
    assert list(frame["id"]) == list(range(1, 31))
    assert frame.loc[0, "title"] == TRICKY
    assert frame.loc[1, "created_at"] == pd.Timestamp(BASE + timedelta(minutes=7, microseconds=1))
    assert frame["completed_at"].isna().sum() == 20
    assert frame["project_id"].isna().sum() == 6
    assert frame["description"].isna().sum() == 8
    assert isinstance(frame.index, pd.RangeIndex)


async def test_categories_keep_declared_order_when_values_are_absent_or_no_rows(
    engine: AsyncEngine,
) -> None:
    await fill(engine, 2, first_nulls=2)  # pending and in_progress only; no "high" priority
    some = await to_dataframe(engine, select(Task.status, Task.priority))
    none = await to_dataframe(engine, select(Task.status, Task.priority).where(sa.false()))
    for frame in (some, none):
        assert frame["status"].dtype == STATUSES
        assert list(frame["status"].cat.categories) == [s.value for s in Status]
        assert list(frame["priority"].cat.categories) == [p.value for p in Priority]
    assert sorted(set(some["status"])) == ["in_progress", "pending"]
    assert len(none) == 0


def statements() -> dict[str, Any]:
    """One of each kind of select, by name; each gets an empty twin in the tests below."""
    return {
        "entity": select(Task).order_by(Task.id),
        "columns": select(Task.id, Task.title, Task.status, Task.completed_at).order_by(Task.id),
        "join": select(Task.id, Project.name.label("project"))
        .join(Project, Task.project_id == Project.id)
        .order_by(Task.id),
        "outer join": select(Task.id, Project.id.label("pid"), Project.name)
        .outerjoin(Project, Task.project_id == Project.id)
        .order_by(Task.id),
        "aggregate": select(
            Task.status,
            func.count().label("n"),
            func.sum(Task.project_id).label("sum_project"),
            func.avg(Task.id).label("mean_id"),
            func.max(Task.created_at).label("last"),
        )
        .group_by(Task.status)
        .order_by(Task.status),
        "expressions": select(
            Task.id,
            (Task.priority == "high").label("urgent"),
            (Task.project_id == 1).label("in_apollo"),
            sa.cast(Task.id, sa.Numeric(10, 2)).label("numeric"),
            (Task.id * 2).label("twice"),
        ).order_by(Task.id),
        "union": select(Task.id, Task.title)
        .where(Task.id < 5)
        .union_all(select(Task.id, Task.title).where(Task.id > 25))
        .order_by("id"),
        "select_tasks": select_tasks(status=["pending", "completed"], order_by="id"),
        "search": select_tasks(search="o'k \\ 100%", order_by="id"),
        "loader options": select_tasks(order_by="-priority", with_project=True, with_workers=True),
        "status_priority_counts": status_priority_counts(),
        "tasks_per_week": tasks_per_week(),
        "project_progress": project_progress(),
        "worker_load": worker_load(),
    }


def emptied(name: str, stmt: Any) -> Any:
    if name in ("status_priority_counts", "tasks_per_week", "project_progress", "worker_load"):
        builder = {
            "status_priority_counts": status_priority_counts,
            "tasks_per_week": tasks_per_week,
            "project_progress": project_progress,
            "worker_load": worker_load,
        }[name]
        return builder(select(Task).where(sa.false()))
    if name == "union":
        return (
            select(Task.id, Task.title)
            .where(sa.false())
            .union_all(select(Task.id, Task.title).where(sa.false()))
        )
    return stmt.where(sa.false())


EXPECTED_DTYPES = {
    "columns": {"id": np.dtype("int64"), "title": STR, "status": STATUSES, "completed_at": UTC_US},
    "join": {"id": np.dtype("int64"), "project": STR},
    "outer join": {"id": np.dtype("int64"), "pid": pd.Int64Dtype(), "name": STR},
    "aggregate": {
        "status": STATUSES,
        "n": np.dtype("int64"),
        "sum_project": pd.Int64Dtype(),
        "mean_id": np.dtype("float64"),
        "last": UTC_US,
    },
    "expressions": {
        "id": np.dtype("int64"),
        "urgent": pd.BooleanDtype(),
        "in_apollo": pd.BooleanDtype(),
        "numeric": np.dtype("float64"),
        "twice": np.dtype("int64"),
    },
    "union": {"id": np.dtype("int64"), "title": STR},
    "status_priority_counts": {
        "status": STATUSES,
        "priority": PRIORITIES,
        "tasks": np.dtype("int64"),
    },
    "tasks_per_week": {
        "week": np.dtype("datetime64[us]"),
        "created": pd.Int64Dtype(),
        "completed": pd.Int64Dtype(),
    },
    "project_progress": {
        "project_id": np.dtype("int64"),
        "project": STR,
        "tasks": np.dtype("int64"),
        "pending": np.dtype("int64"),
        "in_progress": np.dtype("int64"),
        "completed": np.dtype("int64"),
        "completed_share": np.dtype("float64"),
    },
    "worker_load": {
        "worker_id": STR,
        "worker": STR,
        **{c: np.dtype("int64") for c in ("open", "pending", "in_progress", "completed", "tasks")},
    },
}


@pytest.mark.parametrize("name", list(statements()))
async def test_each_kind_of_select_has_the_same_dtypes_full_and_empty(
    engine: AsyncEngine, name: str
) -> None:
    await fill(engine)
    stmt = statements()[name]
    full = await to_dataframe(engine, stmt)
    empty = await to_dataframe(engine, emptied(name, stmt))
    expected = EXPECTED_DTYPES.get(name, TASK_DTYPES)
    assert dtypes(full) == expected
    assert dtypes(empty) == expected
    assert len(full) > 0
    if name not in ("status_priority_counts", "project_progress", "worker_load"):
        assert len(empty) == 0


@pytest.mark.parametrize("name", list(statements()))
async def test_adbc_and_sqlalchemy_readers_give_identical_frames(
    fast_engine: AsyncEngine, name: str
) -> None:
    engine = fast_engine
    await fill(engine, 40, first_nulls=12)
    stmt = statements()[name]
    for s in (stmt, emptied(name, stmt)):
        # A small chunksize makes many batches: the fast reader's types must hold across them.
        fast = await to_dataframe(engine, s, reader="adbc", chunksize=5)
        slow = await to_dataframe(engine, s, reader="sqlalchemy", chunksize=7)
        assert_frame_equal(fast, slow)
        # "auto" reads a result this small in process on SQLite (sqlite_inline_reader).
        assert_frame_equal(await to_dataframe(engine, s, chunksize=3), slow)


async def test_comparisons_are_nullable_booleans(engine: AsyncEngine) -> None:
    await fill(engine, 6)
    stmt = select((Task.project_id == 1).label("in_apollo")).order_by(Task.id)
    frame = await to_dataframe(engine, stmt)
    assert frame["in_apollo"].dtype == pd.BooleanDtype()
    assert frame["in_apollo"].tolist() == [True, False, False, True, pd.NA, False]


async def test_search_matches_quotes_backslashes_and_percent_literally(
    engine: AsyncEngine,
) -> None:
    await fill(engine)
    frame = await to_dataframe(engine, select_tasks(search="O'K \\ 100%"))
    assert list(frame["title"]) == [TRICKY]


async def test_text_null_through_the_first_batch_then_filled_reads_the_same_on_both_readers(
    fast_engine: AsyncEngine,
) -> None:
    """ADBC's SQLite driver types a column from its first batch; all-NULL would mean int64."""
    engine = fast_engine
    await fill(engine, 50, first_nulls=40)
    stmt = (
        select(Task.description, Task.completed_at, func.avg(Task.id).label("x"))
        .group_by(Task.id, Task.description, Task.completed_at)
        .order_by(Task.id)
    )
    fast = await to_dataframe(engine, stmt, reader="adbc", chunksize=16)
    slow = await to_dataframe(engine, stmt, reader="sqlalchemy")
    assert_frame_equal(fast, slow)
    assert fast["description"].isna().sum() == 40 + 3  # and tasks 40, 44, 48 (i % 4 == 0)
    assert fast.loc[45, "description"] == "about 45"


@pytest.mark.parametrize("one_batch_rows", [0, 100])
async def test_the_default_batches_read_text_null_at_first_alike(
    fast_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, one_batch_rows: int
) -> None:
    """Scaled down: small batches (the flagged SQL runs again after an untyped first batch),
    or one batch for a result known to fit (counted by SQLite beyond the in-process size)."""
    engine = fast_engine
    await fill(engine, 50, first_nulls=40)
    monkeypatch.setattr("taskkit._frames.arguments.DEFAULT_CHUNKSIZE", 8)
    monkeypatch.setattr("taskkit._frames.run_select.PROBE_ROWS", 4)
    monkeypatch.setattr("taskkit._frames.run_select.SMALL_ROWS", 5)
    monkeypatch.setattr("taskkit._frames.run_select.ONE_BATCH_ROWS", one_batch_rows)
    stmt = select(Task).order_by(Task.id)
    fast = await to_dataframe(engine, stmt)
    assert_frame_equal(fast, await to_dataframe(engine, stmt, reader="sqlalchemy"))
    assert fast.loc[45, "description"] == "about 45"


def readers_used(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage().rsplit(" ", 1)[-1]
        for r in caplog.records
        if r.name == "taskkit.frames" and " through " in r.getMessage()
    ]


async def test_auto_uses_the_fast_reader_where_it_can(
    engine: AsyncEngine, backend: str, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    await fill(engine, 6)
    # Scaled down: a small result is read in process on a SQLite file, a larger one by ADBC.
    # Beyond PROBE_ROWS, SQLite counts up to SMALL_ROWS + 1 rows, which decides.
    monkeypatch.setattr("taskkit._frames.run_select.PROBE_ROWS", 4)
    monkeypatch.setattr("taskkit._frames.run_select.SMALL_ROWS", 5)
    with caplog.at_level(logging.DEBUG, logger="taskkit.frames"):
        small = await to_dataframe(engine, select(Task).where(Task.id <= 4))
        counted = await to_dataframe(engine, select(Task).where(Task.id <= 5).order_by(Task.id))
        large = await to_dataframe(engine, select(Task).order_by(Task.id))
        limited = await to_dataframe(engine, select(Task).order_by(Task.id).limit(5))
        with_workers = await to_dataframe(engine, select(Task).limit(5), related=["workers"])
    expected = {
        "sqlite-memory": ["sqlalchemy"] * 5,
        "sqlite-file": ["sqlite3", "sqlite3", "adbc-sqlite", "sqlite3", "sqlite3"],
        "postgresql": ["adbc-postgresql"] * 5,
    }[backend]
    assert readers_used(caplog) == expected
    assert (len(small), len(large), len(limited), len(with_workers)) == (4, 6, 5, 5)
    assert_frame_equal(large.head(5), limited)
    assert_frame_equal(counted, limited)  # the rows fetched before the count, and after it


async def test_a_sort_that_outlasts_its_probe_goes_to_the_adbc_reader_unsorted_here(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    """Probing a result SQLite sorts before its first row costs the whole sort, which the ADBC
    reader then does again: the probe gets SORT_PROBE_SECONDS for that first row, and a sort
    that needs more goes to the ADBC reader at once (no rows fetched, nothing counted here).
    A quick sort, and a statement an index gives in order, are probed as before."""
    import taskkit._database.owner as database
    import taskkit._frames.sqlite_inline_reader as inline

    engine = taskkit.connect(f"sqlite:///{tmp_path / 'sorted.db'}")
    await taskkit.create_db_and_tables(engine)
    await fill(engine, 30)
    monkeypatch.setattr("taskkit._frames.run_select.PROBE_ROWS", 4)
    monkeypatch.setattr("taskkit._frames.run_select.SMALL_ROWS", 5)
    # Every start on the event loop's thread runs out of time: the worker thread probes.
    monkeypatch.setattr(inline, "INLINE_SECONDS", 0.0)
    monkeypatch.setattr(inline, "INLINE_STEPS", 1)
    run_here: list[str] = []
    opened = database.open_sqlite

    def traced(path: str) -> sqlite3.Connection:
        conn = opened(path)
        conn.set_trace_callback(run_here.append)  # statements run (not EXPLAINs)
        return conn

    monkeypatch.setattr(database, "open_sqlite", traced)
    by_priority = select(Task).order_by(Task.priority, Task.id)  # no index gives this order
    expected = await to_dataframe(engine, by_priority, reader="sqlalchemy")
    with caplog.at_level(logging.DEBUG, logger="taskkit.frames"):
        monkeypatch.setattr(inline, "SORT_PROBE_SECONDS", 0.0)  # a sort longer than allowed
        large = await to_dataframe(engine, by_priority)
        assert not [sql for sql in run_here if "count(*)" in sql]
        monkeypatch.setattr(inline, "SORT_PROBE_SECONDS", 10.0)  # a quick sort
        small = await to_dataframe(engine, by_priority.where(Task.id <= 5))
        by_id = await to_dataframe(engine, select(Task).order_by(Task.id))
    assert readers_used(caplog) == ["adbc-sqlite", "sqlite3", "adbc-sqlite"]
    assert any("count(*)" in sql for sql in run_here)  # by_id: probed and counted
    assert_frame_equal(large, expected)
    assert_frame_equal(small, expected[expected["id"] <= 5].reset_index(drop=True))
    assert list(by_id["id"]) == list(range(1, 31))
    await engine.dispose()


async def test_reader_adbc_refuses_an_in_memory_database_saying_why() -> None:
    engine = taskkit.connect("sqlite+aiosqlite://")
    await taskkit.create_db_and_tables(engine)
    with pytest.raises(InvalidArgumentError, match="in-memory SQLite database cannot be reached"):
        await to_dataframe(engine, select(Task), reader="adbc")
    await engine.dispose()


# ---------------------------------------------------------------------------------------------
# The round trip.

titles = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda t: t.strip()
)
task_inputs = st.lists(
    st.fixed_dictionaries(
        {
            "title": titles,
            "description": st.none() | st.text(st.characters(blacklist_categories=("Cs", "Cc"))),
            "status": st.sampled_from(list(Status)),
            "priority": st.sampled_from(list(Priority)),
            "project_id": st.none() | st.sampled_from([1, 2]),
        }
    ),
    max_size=12,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(inputs=task_inputs)
async def test_tasks_in_then_frame_out_give_back_the_same_records(
    engine: AsyncEngine, inputs: list[dict[str, Any]]
) -> None:
    async with engine.begin() as conn:
        for table in ("taskworkerlink", "task", "project", "worker"):
            await conn.execute(text(f"DELETE FROM {table}"))
        await conn.execute(insert(Project), [{"name": "Apollo"}, {"name": "Gemini"}])
    ids = await project_ids(engine)
    async with taskkit.session(engine) as s:
        created = []
        for data in inputs:
            pid = data["project_id"]
            created.append(await taskkit.create_task(s, {**data, "project_id": pid and ids[pid]}))
    for reader in ("auto", "sqlalchemy"):
        frame = await to_dataframe(engine, select(Task).order_by(Task.id), reader=reader)
        assert dtypes(frame) == TASK_DTYPES
        out = [
            {k: (None if pd.isna(v) else v) for k, v in row.items()}
            for row in frame.to_dict("records")
        ]
        expected = [
            {**t.model_dump(), "status": t.status.value, "priority": t.priority.value}
            for t in created
        ]
        for row in out:
            for key in ("created_at", "updated_at", "completed_at"):
                if row[key] is not None:
                    row[key] = row[key].to_pydatetime()
        assert out == [{k: row[k] for k in TASK_DTYPES} for row in expected]


async def project_ids(engine: AsyncEngine) -> dict[int, int]:
    """The ids the database gave the projects (PostgreSQL sequences do not restart)."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(Project.id).order_by(Project.id))).all()
    return {i + 1: row[0] for i, row in enumerate(rows)}


# ---------------------------------------------------------------------------------------------
# related=


async def test_related_adds_project_names_and_worker_id_lists(
    engine: AsyncEngine, backend: str
) -> None:
    await fill(engine, 12)
    readers = ["sqlalchemy"] if backend == "sqlite-memory" else ["adbc", "sqlalchemy"]
    frames = [
        await to_dataframe(
            engine, select(Task).order_by(Task.id), related=("project", "workers"), reader=r
        )
        for r in readers
    ]
    frame = frames[0]
    for other in frames[1:]:
        assert_frame_equal(frame, other)
    assert list(frame.columns) == [*TASK_DTYPES, "project_name", "worker_ids"]
    assert frame["project_name"].dtype == STR
    assert list(frame["project_name"][:4]) == ["Apollo", "Gemini", "Mercury", "Apollo"]
    assert pd.isna(frame.loc[4, "project_name"])  # task 5 has no project
    assert list(frame.loc[1, "worker_ids"]) == ["w-1"]  # task 2: (2 + 1) % 3 == 0
    assert list(frame.loc[2, "worker_ids"]) == ["w-0", "w-3"]  # task 3
    assert list(frame.loc[0, "worker_ids"]) == ["w-2"]
    assert frame["worker_ids"].dtype == object
    assert all(isinstance(w, list) for w in frame["worker_ids"])
    # The documented way to get one row per task and worker.
    long = frame.explode("worker_ids")
    assert len(long) == sum(max(1, len(w)) for w in frame["worker_ids"])


async def test_related_project_comes_by_id_so_it_works_for_large_results(
    engine: AsyncEngine,
) -> None:
    await fill(engine, 1_200)  # more ids than an IN list takes: the whole table is read
    frame = await to_dataframe(engine, select(Task.id, Task.project_id), related="project")
    expected = frame["project_id"].map({1: "Apollo", 2: "Gemini", 3: "Mercury"})
    assert list(frame["project_name"].fillna("-")) == list(expected.fillna("-"))


async def test_related_keeps_empty_results_typed(engine: AsyncEngine) -> None:
    frame = await to_dataframe(engine, select(Task), related=["project", "workers"])
    assert len(frame) == 0
    assert frame["project_name"].dtype == STR
    assert frame["worker_ids"].dtype == object  # lists: the form Parquet and CSV carry


async def test_an_unknown_related_name_is_refused_listing_the_choices(engine: AsyncEngine) -> None:
    with pytest.raises(InvalidArgumentError, match=r"'owner'.*project, workers"):
        await to_dataframe(engine, select(Task), related=("project", "owner"))
    with pytest.raises(InvalidArgumentError, match=r"'worker'; did you mean 'workers'\?"):
        await to_dataframe(engine, select(Task), related=["worker"])


async def test_related_needs_the_column_it_looks_up_by(engine: AsyncEngine) -> None:
    with pytest.raises(InvalidArgumentError, match=r"Task.project_id.*selects: id, title"):
        await to_dataframe(engine, select(Task.id, Task.title), related=("project",))
    with pytest.raises(InvalidArgumentError, match=r"Task.id"):
        await to_dataframe(engine, select(Task.title), related=("workers",))


# ---------------------------------------------------------------------------------------------
# Values another tool wrote: outside the categories, or a timestamp in another spelling.


async def other_tool_sqlite(path: Path, rows: list[tuple[Any, ...]]) -> AsyncEngine:
    """A SQLite file whose task table has no CHECK (as another tool might have made it)."""
    con = sqlite3.connect(path)
    con.executescript(
        "PRAGMA journal_mode=WAL;"
        "CREATE TABLE task (title TEXT, description TEXT, status TEXT, priority TEXT,"
        " project_id INTEGER, id INTEGER PRIMARY KEY, created_at TEXT, updated_at TEXT,"
        " completed_at TEXT, key TEXT, resolution TEXT, started_at TEXT, kind TEXT)"
    )
    con.executemany(
        "INSERT INTO task VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL)", rows
    )
    con.commit()
    con.close()
    return taskkit.connect(f"sqlite:///{path}")


def row(i: int, status: str = "pending", created: str = "2025-01-02 03:04:05.000006") -> tuple:
    return (f"t{i}", None, status, "low", None, i, created, created, None)


@pytest.mark.parametrize("reader", ["adbc", "sqlalchemy", "auto"])
async def test_a_status_outside_the_categories_is_an_error_naming_column_value_and_categories(
    tmp_path: Path, reader: str
) -> None:
    rows = [row(i) for i in range(1, 100)] + [row(100, "done")]
    engine = await other_tool_sqlite(tmp_path / "other.db", rows)
    with pytest.raises(TaskkitError) as caught:
        await to_dataframe(engine, select(Task), reader=reader, chunksize=32)
    message = str(caught.value)
    assert "'status'" in message and "'done'" in message
    assert "pending, in_progress, completed" in message
    # The way out the message offers: read the column as text.
    frame = await to_dataframe(
        engine, select(sa.type_coerce(Task.status, sa.String).label("status")), reader=reader
    )
    assert frame["status"].dtype == STR and frame["status"].iloc[-1] == "done"
    await engine.dispose()


@pytest.mark.postgres
async def test_a_status_outside_the_categories_is_an_error_on_postgresql_too() -> None:
    url = postgres_url()
    admin = taskkit.connect(url)
    async with admin.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS frames_other_tool CASCADE"))
        await conn.execute(text("CREATE SCHEMA frames_other_tool"))
        await conn.execute(
            text(
                "CREATE TABLE frames_other_tool.task (title text, description text, status text,"
                " priority text, project_id int, id int PRIMARY KEY, created_at timestamptz,"
                " updated_at timestamptz, completed_at timestamptz, key text, resolution text,"
                " started_at timestamptz, kind text)"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO frames_other_tool.task SELECT 't' || i, NULL,"
                " CASE WHEN i = 50 THEN 'done' ELSE 'pending' END, 'low', NULL, i, now(), now(),"
                " NULL, NULL, NULL, NULL, NULL FROM generate_series(1, 60) AS i"
            )
        )
    # connect_args set the search_path: the fast reader must resolve `task` the same way.
    engine = taskkit.connect(
        url, connect_args={"server_settings": {"search_path": "frames_other_tool"}}
    )
    try:
        for reader in ("adbc", "sqlalchemy"):
            with pytest.raises(TaskkitError, match=r"'status' holds 'done'.*pending, in_progress"):
                await to_dataframe(engine, select(Task), reader=reader)
        titles = await to_dataframe(engine, select(Task.title), reader="adbc")
        assert len(titles) == 60
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text("DROP SCHEMA frames_other_tool CASCADE"))
        await admin.dispose()


async def test_timestamps_in_other_iso_spellings_are_read_alike_by_both_readers(
    tmp_path: Path,
) -> None:
    spellings = ["2025-01-02 03:04:05", "2025-01-02T03:04:05.5Z", "2025-01-02 05:04:05+02:00"]
    rows = [row(i + 1, created=c) for i, c in enumerate(spellings)]
    engine = await other_tool_sqlite(tmp_path / "other.db", rows)
    fast = await to_dataframe(engine, select(Task.created_at), reader="adbc")
    slow = await to_dataframe(engine, select(Task.created_at), reader="sqlalchemy")
    assert_frame_equal(fast, slow)
    assert_frame_equal(await to_dataframe(engine, select(Task.created_at)), slow)  # in process
    moment = pd.Timestamp("2025-01-02 03:04:05", tz="UTC")
    assert list(fast["created_at"]) == [moment, moment + pd.Timedelta("500ms"), moment]
    await engine.dispose()


async def test_text_in_a_timestamp_column_is_an_error_naming_it(tmp_path: Path) -> None:
    engine = await other_tool_sqlite(tmp_path / "other.db", [row(1, created="yesterday")])
    for reader in ("adbc", "sqlalchemy", "auto"):
        with pytest.raises(TaskkitError, match=r"'created_at' holds 'yesterday'"):
            await to_dataframe(engine, select(Task), reader=reader)
    await engine.dispose()


async def test_the_sqlite_fast_reader_leaves_this_processs_locks_alone(tmp_path: Path) -> None:
    """ADBC carries its own SQLite library. Run in this process, opening and closing the file
    drops the locks Python's SQLite holds: another process could then write while we hold the
    write lock, and its committed row was lost (reproduced). The reader runs it elsewhere."""
    path = tmp_path / "locks.db"
    engine = taskkit.connect(f"sqlite:///{path}")
    await taskkit.create_db_and_tables(engine)
    await fill(engine, 5)
    held = await engine.connect()
    await held.execution_options(sqlite_begin="IMMEDIATE")  # reads begin DEFERRED otherwise
    await held.execute(text("SELECT count(*) FROM project"))  # BEGIN IMMEDIATE: the write lock
    frame = await to_dataframe(engine, select(Task), reader="adbc")
    assert len(frame) == 5
    writer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=0.2);"
        "c.execute(\"INSERT INTO project (name) VALUES ('other')\"); c.commit()",
        str(path),
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await writer.communicate()
    assert writer.returncode != 0 and b"database is locked" in err
    await held.execute(text("INSERT INTO project (name) VALUES ('held')"))
    await held.commit()
    await held.close()
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA integrity_check"))).scalar() == "ok"
    names = await to_dataframe(engine, select(Project.name).order_by(Project.id))
    assert list(names["name"]) == ["Apollo", "Gemini", "Mercury", "held"]
    await engine.dispose()


def process_exists(pid: int) -> bool:
    """Running, or ended and not yet waited for (a zombie)."""
    return Path(f"/proc/{pid}").exists()


async def test_a_helper_process_that_died_or_idled_out_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'helpers.db'}")
    await taskkit.create_db_and_tables(engine)
    await fill(engine, 4)
    SQLiteChild.stop_all()
    monkeypatch.setattr(SQLiteChild, "REUSE_FOR_S", 0.1)
    try:
        assert len(await to_dataframe(engine, select(Task), reader="adbc")) == 4
        (pid,) = SQLiteChild.idle_pids()
        for _ in range(200):  # ended once idle for REUSE_FOR_S, and waited for: no zombie
            if not process_exists(pid):
                break
            await asyncio.sleep(0.05)
        assert not process_exists(pid) and SQLiteChild.idle_pids() == []
        monkeypatch.setattr(SQLiteChild, "REUSE_FOR_S", 60.0)
        assert len(await to_dataframe(engine, select(Task), reader="adbc")) == 4
        (pid,) = SQLiteChild.idle_pids()
        os.kill(pid, signal.SIGKILL)  # dies between reads
        assert len(await to_dataframe(engine, select(Task), reader="adbc")) == 4
        assert SQLiteChild.idle_pids() != [pid]
    finally:
        SQLiteChild.stop_all()
        await engine.dispose()


# ---------------------------------------------------------------------------------------------
# Sessions and connections: what they can see.


async def test_a_session_with_uncommitted_changes_reads_them_and_keeps_them_pending(
    engine: AsyncEngine, backend: str
) -> None:
    await fill(engine, 3)
    async with taskkit.session(engine) as s:
        s.add(Task.model_validate({"title": "not committed yet"}))
        frame = await to_dataframe(s, select(Task.title).order_by(Task.id))
        assert list(frame["title"])[-1] == "not committed yet"
        assert s.in_transaction()  # the caller's transaction is left as it was
        if backend != "sqlite-memory":  # there, every session shares one connection
            others = await to_dataframe(engine, select(Task.title))
            assert "not committed yet" not in set(others["title"])
        await s.rollback()
    after = await to_dataframe(engine, select(Task.title))
    assert len(after) == 3


async def test_a_connection_inside_a_transaction_reads_its_own_writes(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(
            insert(Task), [{"title": "mine", "created_at": BASE, "updated_at": BASE}]
        )
        frame = await to_dataframe(conn, select(Task.title))
        assert list(frame["title"]) == ["mine"]
        assert conn.in_transaction()
        await conn.rollback()


async def test_an_idle_connection_or_session_ends_the_transaction_the_read_opened(
    engine: AsyncEngine,
) -> None:
    await fill(engine, 2)
    async with engine.connect() as conn:
        frame = await to_dataframe(conn, select(Task), reader="sqlalchemy")
        assert len(frame) == 2 and not conn.in_transaction()
    async with taskkit.session(engine) as s:
        assert len(await to_dataframe(s, select(Task))) == 2
        assert not s.in_transaction()
    # A session bound to a connection (not an engine) reads through it, and ends its read.
    async with engine.connect() as conn:
        bound = AsyncSession(bind=conn)
        assert len(await to_dataframe(bound, select(Task))) == 2
        assert not bound.in_transaction() and not conn.in_transaction()
        await bound.close()


# ---------------------------------------------------------------------------------------------
# Bad input and unusual sources.


@pytest.mark.parametrize(
    ("stmt", "pattern"),
    [
        (insert(Task).values(title="x"), r"stmt must be a select\(\).*Insert \(INSERT"),
        ("SELECT * FROM task", r"stmt must be a select\(\).*a string \('SELECT \* FROM task'\)"),
        (Task, r"stmt must be a select\(\).*got SQLModelMetaclass"),
        (None, r"stmt is required"),
    ],
)
async def test_a_statement_that_is_not_a_select_is_refused(
    engine: AsyncEngine, stmt: Any, pattern: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=pattern):
        await to_dataframe(engine, stmt)


@pytest.mark.parametrize("chunksize", [0, -5, 2.5, True, "100"])
async def test_a_chunksize_that_is_not_a_positive_row_count_is_refused(
    engine: AsyncEngine, chunksize: Any
) -> None:
    with pytest.raises(InvalidArgumentError, match=rf"chunksize must be a positive.*{chunksize!r}"):
        await to_dataframe(engine, select(Task), chunksize=chunksize)


async def test_other_bad_arguments_name_themselves(engine: AsyncEngine) -> None:
    with pytest.raises(InvalidArgumentError, match=r"reader must be one of auto, adbc, sqla"):
        await to_dataframe(engine, select(Task), reader="fast")
    with pytest.raises(InvalidArgumentError, match=r"progress must be True, False or None"):
        await to_dataframe(engine, select(Task), progress="yes")
    with pytest.raises(InvalidArgumentError, match=r"source must be an AsyncEngine.*got str"):
        await to_dataframe("sqlite://", select(Task))
    with pytest.raises(InvalidArgumentError, match=r"already selects"):
        await to_dataframe(
            engine, select(Task, Project.name.label("project_name")), related="project"
        )


async def test_a_disposed_engine_reconnects_as_everywhere_in_sqlalchemy(
    fast_engine: AsyncEngine,
) -> None:
    """(Disposing an in-memory engine drops its database: SQLAlchemy's rule, not ours.)"""
    await fill(fast_engine, 2)
    await fast_engine.dispose()
    assert len(await to_dataframe(fast_engine, select(Task))) == 2


async def test_columns_are_named_by_the_statements_keys(engine: AsyncEngine) -> None:
    await fill(engine, 2)
    stmt = select(Task.id, Project.id, func.count(), func.count(Task.id)).join(Project)
    frame = await to_dataframe(engine, stmt.group_by(Task.id, Project.id).order_by(Task.id))
    assert list(frame.columns) == ["id", "id_1", "count", "count_1"]  # as in the rows' keys


async def test_a_closed_connection_is_refused(engine: AsyncEngine) -> None:
    conn = await engine.connect()
    await conn.close()
    with pytest.raises(InvalidArgumentError, match="AsyncConnection that is closed"):
        await to_dataframe(conn, select(Task))


async def test_a_database_that_cannot_be_reached_is_a_clear_error() -> None:
    engine = taskkit.connect("postgresql://postgres:secret@127.0.0.1:9/nowhere")
    with pytest.raises(DatabaseUnavailableError, match="nowhere") as caught:
        await to_dataframe(engine, select(Task))
    assert "secret" not in str(caught.value)
    await engine.dispose()


@pytest.mark.parametrize("reader", ["adbc", "sqlalchemy"])
@pytest.mark.parametrize("steps", [0, 1, 3, 10])
async def test_a_cancelled_read_leaves_the_next_one_working(
    fast_engine: AsyncEngine, reader: str, steps: int
) -> None:
    """(On in-memory SQLite SQLAlchemy drops a connection cancelled mid-query, and with it the
    database: not a case for this test.)"""
    await fill(fast_engine, 300)
    read = asyncio.ensure_future(
        to_dataframe(fast_engine, select(Task), chunksize=1, reader=reader)
    )
    for _ in range(steps):
        await asyncio.sleep(0.001)
    read.cancel()
    with contextlib.suppress(asyncio.CancelledError):  # unless it was done already
        await read
    assert len(await to_dataframe(fast_engine, select(Task), reader=reader)) == 300


async def test_an_expression_without_a_known_type_keeps_python_values(
    engine: AsyncEngine,
) -> None:
    await fill(engine, 3)
    raw = sa.literal(b"\x00raw", sa.LargeBinary).label("raw")
    frame = await to_dataframe(engine, select(Task.id, raw).order_by(Task.id))
    assert frame["raw"].dtype == object
    assert list(frame["raw"]) == [b"\x00raw"] * 3


async def test_such_an_expression_is_read_through_sqlalchemy_saying_why(
    fast_engine: AsyncEngine,
) -> None:
    stmt = select(Task.id, sa.literal(b"\x00raw", sa.LargeBinary).label("raw"))
    with pytest.raises(InvalidArgumentError, match="raw have types only SQLAlchemy converts"):
        await to_dataframe(fast_engine, stmt, reader="adbc")


# ---------------------------------------------------------------------------------------------
# Progress


async def test_progress_true_draws_a_bar_and_none_stays_quiet_off_a_terminal(
    engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    await fill(engine, 10)
    await to_dataframe(engine, select(Task), progress=True, chunksize=3)
    assert "rows" in capsys.readouterr().err
    await to_dataframe(engine, select(Task))
    await to_dataframe(engine, select(Task), progress=False)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------------------------------
# Frames from objects already in memory.


async def test_model_instances_give_the_frame_of_the_select_they_came_from(
    engine: AsyncEngine,
) -> None:
    await fill(engine, 9)
    async with taskkit.session(engine) as s:
        tasks = list((await s.exec(select(Task).order_by(Task.id))).all())
        rows = list((await s.exec(select(Task.status, Task.id).order_by(Task.id))).all())
    expected = await to_dataframe(engine, select(Task).order_by(Task.id))
    assert_frame_equal(models_to_frame(tasks), expected)
    assert_frame_equal(await to_dataframe(tasks), expected)
    reads = [TaskRead.model_validate(t.model_dump()) for t in tasks]
    assert_frame_equal(models_to_frame(reads), expected)
    columns = await to_dataframe(engine, select(Task.status, Task.id).order_by(Task.id))
    assert_frame_equal(models_to_frame(rows), columns)
    assert_frame_equal(models_to_frame(rows, select(Task.status, Task.id)), columns)


def test_no_items_give_the_models_columns_when_the_model_is_named() -> None:
    empty = models_to_frame([], Task)
    assert dtypes(empty) == TASK_DTYPES and len(empty) == 0
    assert dtypes(models_to_frame([], select(Task.id, Task.status))) == {
        "id": np.dtype("int64"),
        "status": STATUSES,
    }
    assert models_to_frame([]).shape == (0, 0)


def test_models_to_frame_refuses_what_it_cannot_read() -> None:
    task = Task.model_validate({"title": "a", "created_at": BASE, "updated_at": BASE, "id": 1})
    with pytest.raises(InvalidArgumentError, match=r"items\[1\] is a Project, expected Task"):
        models_to_frame([task, Project(name="p")])
    with pytest.raises(InvalidArgumentError, match="items must be a list"):
        models_to_frame("tasks")
    with pytest.raises(InvalidArgumentError, match="items must be model instances or rows"):
        models_to_frame([{"title": "a"}])
    with pytest.raises(InvalidArgumentError, match="model must be a model class or a select"):
        models_to_frame([], model="Task")


async def test_the_fast_postgres_reader_connects_with_the_engine_timeout():
    """A user's connect_timeout reaches the ADBC reader too (it lives in asyncpg's connect
    args, not in the engine's URL)."""
    from taskkit._frames.reader_choice import _libpq_uri

    slow = taskkit.connect("postgresql://u:p@h/db?connect_timeout=17&sslmode=require")
    default = taskkit.connect("postgresql://u:p@h/db")
    assert "connect_timeout=17" in _libpq_uri(slow) and "sslmode=require" in _libpq_uri(slow)
    assert "connect_timeout=5" in _libpq_uri(default)
    await slow.dispose()
    await default.dispose()


# ---------------------------------------------------------------------------------------------
# Small results on a SQLite file are read in this process (taskkit._frames.sqlite_inline_reader).


async def test_a_small_read_sees_a_file_replaced_under_the_same_name(tmp_path: Path) -> None:
    """The in-process reader keeps connections between reads; a new file at the same path
    (a reset, a test's database) must not be read through a connection to the old one."""
    path = tmp_path / "replaced.db"
    for titles in (["old one", "old two"], ["new"]):
        path.unlink(missing_ok=True)
        engine = taskkit.connect(f"sqlite:///{path}")
        await taskkit.create_db_and_tables(engine)
        async with taskkit.session(engine) as s:
            for title in titles:
                await taskkit.create_task(s, {"title": title})
        frame = await to_dataframe(engine, select(Task.title).order_by(Task.id))
        assert frame["title"].tolist() == titles
        await engine.dispose()


async def test_a_small_read_is_not_blocked_by_a_writer_and_sees_only_committed_rows(
    tmp_path: Path,
) -> None:
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'busy.db'}")
    await taskkit.create_db_and_tables(engine)
    await fill(engine, 5)
    async with engine.begin() as writer:  # the INSERT takes the write lock, held to the end
        await writer.execute(
            insert(Task).values(title="not yet committed", created_at=BASE, updated_at=BASE)
        )
        frame = await asyncio.wait_for(to_dataframe(engine, select(Task.title)), timeout=10)
        assert len(frame) == 5 and "not yet committed" not in frame["title"].tolist()
    await engine.dispose()


async def test_a_small_read_with_related_columns_matches_the_other_readers(
    tmp_path: Path,
) -> None:
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'related.db'}")
    await taskkit.create_db_and_tables(engine)
    await fill(engine, 12)
    stmt = select(Task).order_by(Task.id)
    related = ["project", "workers"]
    small = await to_dataframe(engine, stmt, related=related)
    assert_frame_equal(small, await to_dataframe(engine, stmt, related=related, reader="adbc"))
    assert_frame_equal(
        small, await to_dataframe(engine, stmt, related=related, reader="sqlalchemy")
    )
    await engine.dispose()


async def test_statements_that_differ_only_in_a_literal_keep_their_own_dtypes() -> None:
    """Specs are cached by the statement's structure and its literal values: a NULL literal
    makes a nullable Int64 column, a number an int64 one, whichever was read first."""
    engine = taskkit.connect("sqlite+aiosqlite://")
    await taskkit.create_db_and_tables(engine)
    for value, dtype in ((None, pd.Int64Dtype()), (5, np.dtype("int64")), (None, pd.Int64Dtype())):
        frame = await to_dataframe(engine, select(sa.literal(value, sa.Integer).label("n")))
        assert frame["n"].dtype == dtype
    await engine.dispose()


async def test_text_literals_are_text_and_typed_literals_keep_their_categories(
    engine: AsyncEngine,
) -> None:
    # Categories come from types: text literals that happen to spell statuses are text, while
    # literals of the status column's own type are that column's categories.
    status_type = Task.__table__.c.status.type  # type: ignore[attr-defined]
    spelled = select(sa.literal("pending").label("s")).union_all(select(sa.literal("completed")))
    typed = select(sa.literal("pending", status_type).label("s")).union_all(
        select(sa.literal("completed", status_type))
    )
    text_frame = await to_dataframe(engine, spelled)
    typed_frame = await to_dataframe(engine, typed)
    assert text_frame["s"].dtype == STR
    assert typed_frame["s"].dtype == STATUSES
    assert (
        text_frame["s"].tolist()
        == typed_frame["s"].astype(str).tolist()
        == [
            "pending",
            "completed",
        ]
    )


def open_files(path: Path) -> list[str]:
    """This process's open file descriptors on the SQLite file ``path`` (or its -wal/-shm)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(str(path)):
                found.append(target)
    return found


async def test_a_small_read_sees_every_write_committed_before_it(tmp_path: Path) -> None:
    """The in-process reader keeps its connection and the compiled SQL between reads: neither
    may serve what the file held before a write, whatever the previous read did."""
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'fresh.db'}")
    await taskkit.create_db_and_tables(engine)
    await fill(engine, 5)
    stmt = select(Task.id, Task.title).order_by(Task.id).limit(10)
    assert len(await to_dataframe(engine, stmt)) == 5
    async with taskkit.session(engine) as s:
        await taskkit.create_task(s, {"title": "written after the first read"})
        await taskkit.update_task(s, 2, {"title": "renamed"})
    frame = await to_dataframe(engine, stmt)
    assert len(frame) == 6
    assert frame["title"].iloc[1] == "renamed"
    assert frame["title"].iloc[-1] == "written after the first read"
    # A read that failed half way (a value outside the model) leaves nothing behind either.
    async with engine.begin() as conn:
        await conn.execute(text("PRAGMA ignore_check_constraints=1"))
        await conn.execute(text("UPDATE task SET status = 'done' WHERE id = 1"))
    with pytest.raises(TaskkitError, match="'done'"):
        await to_dataframe(engine, select(Task).limit(10))
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE task SET status = 'pending' WHERE id = 1"))
        await conn.execute(text("DELETE FROM task WHERE id > 3"))
    assert (await to_dataframe(engine, stmt))["id"].tolist() == [1, 2, 3]
    await engine.dispose()


async def test_two_databases_never_share_a_connection(tmp_path: Path) -> None:
    engines = []
    for name in ("one", "two"):
        engine = taskkit.connect(f"sqlite:///{tmp_path / name}.db")
        await taskkit.create_db_and_tables(engine)
        async with taskkit.session(engine) as s:
            await taskkit.create_task(s, {"title": f"only in {name}"})
        engines.append(engine)
    stmt = select(Task.title).limit(5)  # the same statement: one compiled form, two files
    for _ in range(2):
        for engine, name in zip(engines, ("one", "two"), strict=True):
            assert (await to_dataframe(engine, stmt))["title"].tolist() == [f"only in {name}"]
    for engine in engines:
        await engine.dispose()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
async def test_a_disposed_engine_lets_go_of_the_file(tmp_path: Path) -> None:
    """The in-process reader's connections belong to the engine: dispose() closes them as it
    closes its own pool's, so the file can be moved, deleted or backed up."""
    path = tmp_path / "released.db"
    engine = taskkit.connect(f"sqlite:///{path}")
    await taskkit.create_db_and_tables(engine)
    await fill(engine, 3)
    assert len(await to_dataframe(engine, select(Task).limit(10))) == 3
    assert open_files(path)
    await engine.dispose()
    assert open_files(path) == []
    # A disposed engine reconnects, as everywhere in SQLAlchemy; so does the reader.
    assert len(await to_dataframe(engine, select(Task).limit(10))) == 3
    await engine.dispose()
    assert open_files(path) == []


@pytest.mark.parametrize(
    "bounds",
    [{"INLINE_ROWS": 3}, {"INLINE_SECONDS": 0.0, "INLINE_STEPS": 1}],
    ids=["more-rows-than-inline", "out-of-time-inline"],
)
async def test_a_read_that_outgrows_its_start_on_the_event_loop_goes_on_in_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bounds: dict[str, float]
) -> None:
    """Past INLINE_ROWS rows the worker thread fetches the rest from the same cursor; out of
    time, SQLite stops the statement and the thread runs it again. Same frames either way."""
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'bounds.db'}")
    await taskkit.create_db_and_tables(engine)
    await fill(engine, 40, first_nulls=12)
    for name, value in bounds.items():
        monkeypatch.setattr(f"taskkit._frames.sqlite_inline_reader.{name}", value)
    for stmt in (
        select(Task).order_by(Task.id).limit(25),
        select(Task).where(Task.id <= 30).order_by(Task.id),
        select(Task).order_by(Task.id).limit(2),
    ):
        expected = await to_dataframe(engine, stmt, reader="sqlalchemy")
        assert_frame_equal(await to_dataframe(engine, stmt), expected)
    await engine.dispose()


async def test_every_column_of_a_small_read_takes_assignments(tmp_path: Path) -> None:
    """Arrays that share Arrow's buffers are read-only, and pandas fails deep inside on
    ``df.loc[...] = ...`` into one: every column of a frame is writable."""
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'writable.db'}")
    await taskkit.create_db_and_tables(engine)
    await fill(engine, 6)
    naive = sa.type_coerce(Task.created_at, sa.DateTime()).label("naive")
    for stmt in (
        select(Task, naive).order_by(Task.id).limit(6),
        select(Task.created_at, naive).order_by(Task.id).limit(6),  # no NULL: no copy made
    ):
        frame = await to_dataframe(engine, stmt)
        assert frame["naive"].dtype == np.dtype("M8[us]")
        for name in frame.columns:
            frame.loc[0, name] = frame.loc[5, name]
            assert frame.loc[0, name] == frame.loc[5, name] or pd.isna(frame.loc[5, name])
    await engine.dispose()


async def test_values_of_another_type_take_the_general_road_with_the_same_result(
    tmp_path: Path,
) -> None:
    """Numbers in a text column, a float where an integer belongs, timestamps with offsets:
    the in-process reader's quick conversion leaves them to the general one, so the frame
    (or the error) is the one the other readers give."""
    rows = [
        (123, None, "pending", "low", 1, 1, "2025-01-02 03:04:05+00:00", "2025-01-02", None),
        (456, "x", "completed", "high", None, 2, "2025-01-02T03:04:05Z", "2025-01-02", None),
    ]
    engine = await other_tool_sqlite(tmp_path / "other.db", rows)
    stmt = select(Task).order_by(Task.id)
    expected = await to_dataframe(engine, stmt, reader="sqlalchemy")
    assert expected["title"].tolist() == ["123", "456"]
    assert_frame_equal(await to_dataframe(engine, stmt), expected)
    with sqlite3.connect(tmp_path / "other.db") as con:
        con.execute("UPDATE task SET project_id = 1.5 WHERE id = 1")
    for reader in ("sqlalchemy", "auto"):
        with pytest.raises(TaskkitError, match="'project_id'"):
            await to_dataframe(engine, stmt, reader=reader)  # type: ignore[arg-type]
    await engine.dispose()


async def test_a_small_read_binds_timestamps_enums_and_in_lists_as_sqlalchemy_does(
    tmp_path: Path,
) -> None:
    """The in-process reader binds parameters itself (its SQL is compiled once per statement
    shape): a timestamp must be compared in the form SQLAlchemy stores, an Enum member by its
    stored name, each IN list in full; the same shape with other values reads other rows."""
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'params.db'}")
    await taskkit.create_db_and_tables(engine)
    await fill(engine, 30)
    for i, statuses in ((21, [Status.completed]), (6, [Status.pending, "completed"])):
        # Task i + 1 was created at exactly this moment: >= must find it.
        stmt = (
            select(Task.id, Task.status)
            .where(Task.created_at >= BASE + timedelta(minutes=7 * i, microseconds=i))
            .where(col(Task.status).in_(statuses))
            .order_by(Task.id)
        )
        expected = await to_dataframe(engine, stmt, reader="sqlalchemy")
        assert 0 < len(expected) < 30 and expected["id"].iloc[0] == i + 1
        assert_frame_equal(await to_dataframe(engine, stmt), expected)
    await engine.dispose()


async def test_a_file_that_is_not_a_database_fails_as_it_does_through_sqlalchemy(
    tmp_path: Path,
) -> None:
    """SQLite's own error on the in-process reader's first step hands the read over (to the
    readers whose errors say what went wrong), never escaping as a bare sqlite3 error."""
    path = tmp_path / "notes.db"
    engine = taskkit.connect(f"sqlite:///{path}")
    await taskkit.create_db_and_tables(engine)
    await engine.dispose()
    path.write_bytes(b"these are notes, not a database\n" * 200)
    engine = taskkit.connect(f"sqlite:///{path}")
    stmt = select(Task.id).limit(5)
    for reader in ("sqlalchemy", "auto"):
        with pytest.raises(DatabaseUnavailableError, match="not a database"):
            await to_dataframe(engine, stmt, reader=reader)  # type: ignore[arg-type]
    await engine.dispose()
