"""The tracker key: kept with the task, shown in DataFrames, and re-imports update by it."""

import pandas as pd
import pytest
from sqlmodel import select

import taskkit
from taskkit import LoadError, Task, load_tasks
from tests.helpers import snapshot
from tests.test_load import tasks_of, write_path  # noqa: F401 (a fixture)

FIRST = pd.DataFrame(
    {
        "key": ["HIVE-1", "HIVE-2", "HIVE-3"],
        "title": ["one", "two", "three"],
        "status": ["pending", "in_progress", "completed"],
        "workers": ["Ann", "Ann; Bo", None],
        "created_at": ["2025-01-01T00:00:00Z"] * 3,
        "updated_at": ["2025-01-02T00:00:00Z"] * 3,
    }
)


@pytest.mark.usefixtures("write_path")
async def test_reimporting_the_same_export_changes_nothing(engine):
    await load_tasks(engine, FIRST, progress=False)
    before = await snapshot(engine)
    again = await load_tasks(engine, FIRST, progress=False)
    assert (again.tasks, again.updated, again.unchanged) == (0, 0, 3)
    assert "by key: 0 new, 0 updated, 3 unchanged" in str(again)
    assert await snapshot(engine) == before


async def test_a_newer_export_updates_by_key_and_adds_new_keys(engine):
    await load_tasks(engine, FIRST, progress=False)
    newer = FIRST.copy()
    newer.loc[1, ["status", "workers", "updated_at"]] = ["completed", "Bo", "2025-01-05T00:00:00Z"]
    newer.loc[3] = ["HIVE-4", "four", "pending", "Cy", "2025-01-03T00:00:00Z", None]
    summary = await load_tasks(engine, newer, progress=False)
    assert (summary.tasks, summary.updated, summary.unchanged) == (1, 1, 2)
    tasks = await tasks_of(engine)
    assert [t.key for t in tasks] == ["HIVE-1", "HIVE-2", "HIVE-3", "HIVE-4"]
    two = tasks[1]
    assert two.status == "completed" and two.completed_at == pd.Timestamp("2025-01-05T00:00:00Z")
    async with taskkit.session(engine) as s:
        full = await taskkit.get_task(s, two.id, with_workers=True)
        assert [w.name for w in full.workers] == ["Bo"]


async def test_without_dates_a_reimport_keeps_created_at_and_is_unchanged(engine):
    frame = pd.DataFrame({"key": ["A-1", "A-2"], "title": ["a", "b"]})
    await load_tasks(engine, frame, progress=False)
    created = [t.created_at for t in await tasks_of(engine)]
    again = await load_tasks(engine, frame, progress=False)
    assert (again.tasks, again.updated, again.unchanged) == (0, 0, 2)
    assert [t.created_at for t in await tasks_of(engine)] == created


async def test_a_file_without_keys_imported_again_is_refused_not_doubled(engine):
    """Issue 23: re-importing a file without a key column silently doubled the table. Every
    row matching a stored task (same title and created date, or title and description where
    the file has no date) is refused; some matching is said, and they are added."""
    frame = pd.DataFrame({"title": ["a", "b"], "created_at": ["2025-01-01T00:00:00Z"] * 2})
    await load_tasks(engine, frame, progress=False)
    before = await snapshot(engine)
    with pytest.raises(LoadError, match=r"all 2 rows without a key match tasks already stored"):
        await load_tasks(engine, frame, progress=False)
    assert await snapshot(engine) == before
    undated = pd.DataFrame({"title": ["c", "d"], "description": ["one", "two"]})
    await load_tasks(engine, undated, progress=False)
    with pytest.raises(LoadError, match="title and description where the file gives no date"):
        await load_tasks(engine, undated, progress=False)
    grown = pd.DataFrame({"title": ["a", "e"], "created_at": ["2025-01-01T00:00:00Z"] * 2})
    summary = await load_tasks(engine, grown, progress=False)
    assert summary.tasks == 2 and len(await tasks_of(engine)) == 6
    assert "1 of 2 rows without a key match tasks already stored" in str(summary)


async def test_a_key_twice_in_one_file_is_refused_and_nothing_is_stored(engine):
    frame = pd.DataFrame({"key": ["X-1", "X-1", "X-2"], "title": ["a", "b", "c"]})
    before = await snapshot(engine)
    with pytest.raises(
        LoadError, match=r"key: 'X-1' names rows that differ in title \(2 rows: 1, 2\)"
    ):
        await load_tasks(engine, frame, progress=False)
    assert await snapshot(engine) == before


async def test_the_key_is_in_dataframes_and_select_tasks(engine):
    await load_tasks(engine, FIRST, progress=False)
    frame = await taskkit.to_dataframe(engine, select(Task).order_by(Task.id))
    assert list(frame["key"]) == ["HIVE-1", "HIVE-2", "HIVE-3"]
    async with taskkit.session(engine) as s:
        found = (await s.exec(taskkit.select_tasks(key="HIVE-2"))).all()
    assert [t.title for t in found] == ["two"]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("title", "two, renamed"),
        ("status", "pending"),
        ("workers", "Ann"),  # one worker fewer
        ("workers", "Bo; Ann"),  # the same set in another order: unchanged
        ("description", "now described"),
        ("project", "Hive"),
        ("created_at", "2024-12-31T00:00:00Z"),
    ],
)
@pytest.mark.usefixtures("write_path")
async def test_a_reimport_counts_a_row_updated_when_any_one_field_differs(engine, column, value):
    first = FIRST.assign(description=[None, None, None], project=[None, None, None])
    await load_tasks(engine, first, progress=False)
    changed = first.copy()
    changed.loc[1, column] = value
    summary = await load_tasks(engine, changed, progress=False)
    if value == "Bo; Ann":
        assert (summary.tasks, summary.updated, summary.unchanged) == (0, 0, 3)
    else:
        assert (summary.tasks, summary.updated, summary.unchanged) == (0, 1, 2)
    two = (await tasks_of(engine))[1]
    assert two.updated_at == pd.Timestamp("2025-01-02T00:00:00Z")  # the file's, either way


async def test_without_dates_a_changed_row_is_updated_now_and_the_others_keep_theirs(engine):
    frame = pd.DataFrame({"key": ["A-1", "A-2"], "title": ["a", "b"]})
    await load_tasks(engine, frame, progress=False)
    before = await tasks_of(engine)
    frame.loc[1, "title"] = "b, renamed"
    again = await load_tasks(engine, frame, progress=False)
    assert (again.tasks, again.updated, again.unchanged) == (0, 1, 1)
    after = await tasks_of(engine)
    assert after[0].updated_at == before[0].updated_at
    assert after[1].updated_at > before[1].updated_at
    assert after[1].created_at == before[1].created_at
