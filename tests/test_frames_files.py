"""Frames travel: what to_dataframe returns reads back from Parquet, Feather and CSV.

A list column of ``pd.ArrowDtype(list<string>)`` was written by ``to_parquet`` but not read
back by ``pd.read_parquet`` (pandas issue 53011), and ``to_csv`` wrote ``['w-1' 'w-2']``
(issue 13, item 8). Every backend of the ``engine`` fixture runs, through the fast reader where
it serves.
"""

import contextlib
import csv
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from pandas.testing import assert_frame_equal
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

import taskkit
from taskkit import Task
from taskkit._frames.list_columns import id_lists

RELATED = ["project", "workers", "labels"]
DATAFRAMES_PAGE = Path(__file__).resolve().parent.parent / "docs" / "dataframes.md"
PAGE_BLOCKS = re.findall(r"```python\n(.*?)```", DATAFRAMES_PAGE.read_text(), flags=re.S)
TIMESTAMPS = ["created_at", "updated_at", "completed_at"]


async def fill(engine: AsyncEngine) -> None:
    """Tasks with 0, 1 and 2 workers, with and without a project, description and end."""
    async with taskkit.session(engine) as s:
        apollo = await taskkit.create_project(s, {"name": 'Apollo, "the" first'})
        for worker_id, name in [("w-0001", "Ann"), ("w-0002", "Bob"), ("w-é", "Zoë")]:
            await taskkit.create_worker(s, {"id": worker_id, "name": name})
        rows: list[tuple[dict[str, Any], list[str]]] = [
            (
                {"title": "Write report", "project_id": apollo.id, "labels": ["ux", "backend"]},
                ["w-0001", "w-0002"],
            ),
            (
                {"title": 'Fix, "quoted"\nline', "status": "completed", "kind": "Bug"},
                ["w-é"],
            ),
            ({"title": "NA", "description": "a; b", "priority": "high"}, []),  # not NaN
            (
                {
                    "title": "Ship",
                    "status": "in_progress",
                    "project_id": apollo.id,
                    "labels": ['Écran, "quoted"'],
                },
                ["w-0002"],
            ),
        ]
        for data, workers in rows:
            task = await taskkit.create_task(s, data)
            for worker_id in workers:
                await taskkit.assign(s, task.id, worker_id)


async def frame_of(engine: AsyncEngine) -> pd.DataFrame:
    return await taskkit.to_dataframe(engine, select(Task).order_by(Task.id), related=RELATED)


def read_csv_back(path: Path, like: pd.DataFrame) -> pd.DataFrame:
    """Read a CSV back the way docs/dataframes.md says (its code block runs here, as written)."""
    block = next(b for b in PAGE_BLOCKS if "pd.read_csv(" in b)
    assert 'p = "tasks.csv"' in block and path.name == "tasks.csv"
    names: dict[str, Any] = {"tasks": like}
    with contextlib.chdir(path.parent):  # the block writes and reads tasks.csv where it runs
        exec(block, names)
    return names["back"]


@pytest.mark.parametrize("fmt", ["parquet", "feather"])
async def test_frames_round_trip_through_parquet_and_feather_with_plain_pandas(
    engine: AsyncEngine, tmp_path: Path, fmt: str
) -> None:
    await fill(engine)
    frame = await frame_of(engine)
    path = tmp_path / f"tasks.{fmt}"
    getattr(frame, f"to_{fmt}")(path)
    back = getattr(pd, f"read_{fmt}")(path)
    assert_frame_equal(back, frame)  # dtypes included: ordered categories, UTC, Int64, str
    assert back["status"].cat.ordered and list(back["status"].cat.categories) == [
        "pending",
        "in_progress",
        "completed",
    ]
    assert [list(w) for w in back["worker_ids"]] == [
        ["w-0001", "w-0002"],
        ["w-é"],
        [],
        ["w-0002"],
    ]
    assert [list(x) for x in back["labels"]] == [["backend", "ux"], [], [], ['Écran, "quoted"']]
    assert list(back["resolution"].cat.categories) == ["done", "wont_do", "duplicate", "cancelled"]
    # The one-row-per-item form works on what was read back, as on the original.
    for name in ("worker_ids", "labels"):
        assert_frame_equal(back.explode(name), frame.explode(name))


@pytest.mark.parametrize("fmt", ["parquet", "feather"])
async def test_an_empty_frame_round_trips_except_for_the_unused_categories(
    engine: AsyncEngine, tmp_path: Path, fmt: str
) -> None:
    frame = await frame_of(engine)
    path = tmp_path / f"empty.{fmt}"
    getattr(frame, f"to_{fmt}")(path)
    back = getattr(pd, f"read_{fmt}")(path)
    # pyarrow stores a Categorical's categories with its values, so an empty one comes back
    # without them (pandas issue 48883); docs/dataframes.md says so, and astype restores them.
    assert list(back.columns) == list(frame.columns)
    for name in ("status", "priority", "resolution"):
        assert back[name].dtype == "category" and back[name].cat.ordered
    assert_frame_equal(back.astype(frame.dtypes.to_dict()), frame)


async def test_csv_lists_worker_ids_and_labels_separated_by_semicolons_and_reads_back(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await fill(engine)
    frame = await frame_of(engine)
    path = tmp_path / "tasks.csv"
    frame.to_csv(path, index=False)
    cells = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert cells["worker_ids"].tolist() == ["w-0001;w-0002", "w-é", "", "w-0002"]
    assert cells["labels"].tolist() == ["backend;ux", "", "", 'Écran, "quoted"']
    assert_frame_equal(read_csv_back(path, frame), frame)


async def imported_into_a_new_database(
    path: Path, tmp_path: Path
) -> tuple[taskkit.LoadSummary, pd.DataFrame, list[list[str]]]:
    """``path`` loaded by load_tasks into a new SQLite file: its summary, the tasks' frame and
    each task's worker names (sorted), in the frame's order."""
    target = taskkit.connect(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        await taskkit.create_db_and_tables(target)
        summary = await taskkit.load_tasks(target, path, progress=False)
        again = await frame_of(target)
        async with taskkit.session(target) as s:
            workers = [
                sorted(w.name for w in (await taskkit.get_task(s, i, with_workers=True)).workers)
                for i in again["id"]
            ]
    finally:
        await target.dispose()
    return summary, again, workers


async def test_an_exported_csv_loads_back_into_taskkit(engine: AsyncEngine, tmp_path: Path) -> None:
    await fill(engine)
    frame = await frame_of(engine)
    path = tmp_path / "export.csv"
    # load_tasks's column names: project by name, workers and labels separated by ';'.
    # load_tasks reads workers by name and makes ids for new ones from the names ('w-é' ->
    # 'w'), so the exported ids come back as the workers' names.
    names = {"project_name": "project", "worker_ids": "workers", "labels": "labels"}
    rich = ["resolution", "kind", "started_at"]
    columns = ["title", "description", "status", "priority", *TIMESTAMPS, *rich, *names]
    frame[columns].rename(columns=names).to_csv(path, index=False)
    summary, again, workers = await imported_into_a_new_database(path, tmp_path)
    assert (summary.tasks, summary.links) == (4, 4)
    kept = ["title", "description", "status", "priority", *TIMESTAMPS, *rich, "project_name"]
    assert_frame_equal(again[kept], frame[kept])
    assert workers == [list(w) for w in frame["worker_ids"]]
    assert [list(x) for x in again["labels"]] == [list(x) for x in frame["labels"]]
    assert [list(x) for x in again["labels"]] == [["backend", "ux"], [], [], ['Écran, "quoted"']]


# Cells a spreadsheet would run (OWASP: = + - @ tab CR first), quotes that must survive, and
# plain text that must not change.
FORMULAS = [
    '=HYPERLINK("http://evil.example", "Click")',
    "+1+1",
    "-2 degrees",
    "@SUM(A1:A9)",
    "\tfirst a tab",
    "'=already quoted once",
    "''+quoted twice",
    "'not a formula, a quote",
    "plain",
]


async def test_spreadsheet_safe_exports_no_formula_and_imports_back_exactly(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Issue 25 item 6: OWASP's guard on export, undone by taskkit import (lossless)."""
    async with taskkit.session(engine) as s:
        project = await taskkit.create_project(s, {"name": "=cmd|' /C calc'!A0"})
        await taskkit.create_worker(s, {"id": "-w", "name": "-w"})
        for i, text in enumerate(FORMULAS):
            task = await taskkit.create_task(
                s,
                {
                    "title": text.replace("\t", "") if i == 4 else text,  # no tab in a title
                    "description": text,
                    "project_id": project.id if i % 2 else None,
                },
            )
            if i < 3:
                await taskkit.assign(s, task.id, "-w")
    frame = await frame_of(engine)
    names = {"project_name": "project", "worker_ids": "workers"}
    columns = ["title", "description", "status", "priority", *TIMESTAMPS, *names]
    path = tmp_path / "safe.csv"
    safe = taskkit.spreadsheet_safe(frame[columns].rename(columns=names))
    assert (safe.dtypes == frame[columns].rename(columns=names).dtypes).all()
    safe.to_csv(path, index=False)
    with path.open(newline="", encoding="utf-8") as file:
        cells = [cell for row in csv.reader(file) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert '\'=HYPERLINK("http://evil.example", "Click")' in cells
    assert "''=already quoted once" in cells and "'not a formula, a quote" in cells
    assert "'-w" in cells  # a worker list whose first id would run
    summary, again, workers = await imported_into_a_new_database(path, tmp_path)
    assert summary.tasks == len(FORMULAS)
    kept = ["title", "description", "status", "priority", *TIMESTAMPS, "project_name"]
    assert_frame_equal(again[kept], frame[kept])
    assert workers == [list(w) for w in frame["worker_ids"]]


def test_spreadsheet_safe_leaves_numbers_and_missing_values_alone() -> None:
    frame = pd.DataFrame(
        {
            "n": pd.array([-1, 2], dtype="int64"),
            "x": [-1.5, None],
            "text": pd.array(["-1", None], dtype="str"),
            "kind": pd.Categorical(["=a", "b"]),
        }
    )
    safe = taskkit.spreadsheet_safe(frame)
    assert safe["n"].tolist() == [-1, 2] and safe["x"].iloc[0] == -1.5
    assert safe["text"].iloc[0] == "'-1" and pd.isna(safe["text"].iloc[1])
    assert list(safe["kind"].cat.categories) == ["'=a", "b"]
    assert frame["text"].iloc[0] == "-1"  # a copy: the frame itself is unchanged
    with pytest.raises(taskkit.InvalidArgumentError, match="takes a pandas DataFrame"):
        taskkit.spreadsheet_safe([{"title": "=x"}])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "lists",
    [[["a", "b"], ["c", "d"]], [["a"]], [[]], [[], []], [], [["x", "y"], [], ["z"], ["x"]]],
)
def test_id_lists_keeps_one_list_per_row_whatever_the_lengths(lists: list[list[str]]) -> None:
    array = pa.array(lists, pa.list_(pa.string()))
    for arrow in (array, array.slice(1), pa.chunked_array([array], array.type)):
        cells = id_lists(arrow)
        assert cells.shape == (len(arrow),) and cells.dtype == object
        assert [list(c) for c in cells] == arrow.to_pylist()
        assert [str(c) for c in cells] == [";".join(x) for x in arrow.to_pylist()]
