"""The status history and the richer task columns as DataFrames, through every reader.

Each path is named and checked to be the one that read: SQLite in this process (``sqlite3``),
the SQLite helper process (``adbc-sqlite``), ADBC on PostgreSQL (``adbc-postgresql``) and the
SQLAlchemy reader (in-memory SQLite, a SQLite file, PostgreSQL). Every path gives the same
frame, typed from the models, full and empty.
"""

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from pandas.testing import assert_frame_equal
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

import taskkit
from taskkit import ChangeSource, Resolution, Status, StatusChange, Task
from tests.conftest import make_engine

STATUSES = pd.CategoricalDtype([s.value for s in Status], ordered=True)
SOURCES = pd.CategoricalDtype([s.value for s in ChangeSource], ordered=True)
RESOLUTIONS = pd.CategoricalDtype([r.value for r in Resolution], ordered=True)
UTC_US = pd.DatetimeTZDtype("us", "UTC")
STR = pd.StringDtype("pyarrow", na_value=np.nan)
HISTORY_DTYPES = {
    "task_id": np.dtype("int64"),
    "changed_at": UTC_US,
    "from_status": STATUSES,
    "to_status": STATUSES,
    "source": SOURCES,
    "id": np.dtype("int64"),
}
# (backend, reader argument, the reader that must have read)
PATHS = [
    pytest.param(("sqlite-file", "auto", "sqlite3"), id="sqlite-in-process"),
    pytest.param(("sqlite-file", "adbc", "adbc-sqlite"), id="sqlite-adbc-child"),
    pytest.param(("sqlite-file", "sqlalchemy", "sqlalchemy"), id="sqlite-file-sqlalchemy"),
    pytest.param(("sqlite-memory", "auto", "sqlalchemy"), id="sqlite-memory-sqlalchemy"),
    pytest.param(("postgresql", "adbc", "adbc-postgresql"), id="postgresql-adbc",
                 marks=pytest.mark.postgres),
    pytest.param(("postgresql", "sqlalchemy", "sqlalchemy"), id="postgresql-sqlalchemy",
                 marks=pytest.mark.postgres),
]  # fmt: skip


async def fill(engine: AsyncEngine) -> None:
    """A seeded history (source 'seed') and moves made through the API (source 'api'):
    dropped work, a reopened task, a task created completed."""
    await taskkit.seed(engine, tasks=40, projects=2, workers=3, seed=7, progress=False)
    async with taskkit.session(engine) as s:
        a = await taskkit.create_task(s, {"title": "api", "labels": ["api", "Écran"]})
        await taskkit.update_task(s, a.id, {"status": "in_progress"})
        await taskkit.update_task(s, a.id, {"status": "completed", "resolution": "duplicate"})
        await taskkit.update_task(s, a.id, {"status": "in_progress"})
        await taskkit.create_task(s, {"title": "done at once", "status": "completed"})


@pytest.fixture
async def read(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    backend, reader, used = request.param

    engine = await make_engine(backend, tmp_path)
    await fill(engine)
    caplog: pytest.LogCaptureFixture = request.getfixturevalue("caplog")

    async def read_with(stmt: Any, **options: Any) -> pd.DataFrame:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="taskkit.frames"):
            frame = await taskkit.to_dataframe(engine, stmt, reader=reader, **options)
        readers = [
            r.getMessage().rsplit(" ", 1)[-1]
            for r in caplog.records
            if r.name == "taskkit.frames" and " through " in r.getMessage()
        ]
        assert readers == [used], readers
        return frame

    yield read_with
    await engine.dispose()


def dtypes(frame: pd.DataFrame) -> dict[str, Any]:
    return dict(frame.dtypes.items())


async def reference(tmp_path: Path, stmt: Any, **options: Any) -> pd.DataFrame:
    """The same statement on a separate in-memory database filled alike (deterministic ids and
    times for the seeded part; the API part compared without its times)."""
    engine = await make_engine("sqlite-memory", tmp_path)
    await fill(engine)
    frame = await taskkit.to_dataframe(engine, stmt, reader="sqlalchemy", **options)
    await engine.dispose()
    return frame


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """The API's moves happen at 'now': their times differ from run to run."""
    if "source" not in frame:
        return frame
    api = frame["source"] == "api"
    return frame.assign(changed_at=frame["changed_at"].where(~api))


@pytest.mark.parametrize("read", PATHS, indirect=True)
async def test_the_history_table_is_typed_on_every_path(read: Any, tmp_path: Path) -> None:
    frame = await read(select(StatusChange).order_by(StatusChange.id))
    assert dtypes(frame) == HISTORY_DTYPES
    assert frame["from_status"].cat.ordered and frame["source"].cat.ordered
    assert set(frame["source"]) == {"seed", "api"}
    assert frame["from_status"].isna().sum() == 42  # one first row per task
    assert_frame_equal(
        comparable(frame),
        comparable(await reference(tmp_path, select(StatusChange).order_by(StatusChange.id))),
    )


@pytest.mark.parametrize("read", PATHS, indirect=True)
async def test_select_history_is_typed_on_every_path_and_empty_too(
    read: Any, tmp_path: Path
) -> None:
    dropped = taskkit.select_tasks(resolution=["duplicate", "wont_do", "cancelled"])
    moves = await read(taskkit.select_history(dropped))
    assert dtypes(moves) == HISTORY_DTYPES and len(moves) > 0
    assert moves["changed_at"].is_monotonic_increasing
    nothing = await read(taskkit.select_history(select(Task).where(sa.false())))
    assert dtypes(nothing) == HISTORY_DTYPES and len(nothing) == 0
    assert list(nothing["source"].cat.categories) == ["api", "export", "tracker", "seed"]


@pytest.mark.parametrize("read", PATHS, indirect=True)
async def test_a_first_batch_of_first_rows_types_from_status_all_the_same(read: Any) -> None:
    """ADBC types a column from its first batch: a first batch whose from_status is all NULL
    (each task's first row) must still give the categorical, and the later values."""
    firsts_first = select(StatusChange).order_by(
        StatusChange.from_status.is_not(None),
        StatusChange.id,  # type: ignore[union-attr]
    )
    frame = await read(firsts_first, chunksize=8)
    assert dtypes(frame) == HISTORY_DTYPES
    assert frame["from_status"].head(8).isna().all() and frame["from_status"].notna().any()


@pytest.mark.parametrize("read", PATHS, indirect=True)
async def test_task_frames_carry_resolution_start_kind_and_labels_on_every_path(
    read: Any,
) -> None:
    tasks = await read(select(Task).order_by(Task.id), related=["labels"])
    assert tasks["resolution"].dtype == RESOLUTIONS
    assert tasks["started_at"].dtype == UTC_US and tasks["kind"].dtype == STR
    assert tasks["labels"].dtype == object
    completed = tasks["status"] == "completed"
    assert tasks.loc[completed, "resolution"].notna().all()
    assert tasks.loc[~completed, "resolution"].isna().all()
    api = tasks[tasks["title"] == "api"].iloc[0]
    assert list(api["labels"]) == ["api", "Écran"] and str(api["labels"]) == "api;Écran"
    assert pd.isna(api["resolution"]) and api["status"] == "in_progress"
    assert set(tasks["kind"].dropna()) <= {"Task", "Bug", "Story", "Epic"}
    none = await read(select(Task).where(sa.false()), related=["labels"])
    assert dtypes(none) == dtypes(tasks) and len(none) == 0
