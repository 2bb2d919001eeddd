"""Seeding: deterministic, realistic, refuses to overwrite, and atomic on every write path."""

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text
from sqlmodel import select

import taskkit
import taskkit._bulk as bulk
import taskkit._seed as seed_module
import taskkit._seed.generator as generator
from taskkit import DatabaseNotEmptyError, InvalidArgumentError, Label, Task, TaskLabelLink
from taskkit._seed import vocabulary
from tests.helpers import snapshot


@pytest.fixture(params=["engine-connection", "adbc-child"])
def write_path(request, monkeypatch):
    """Both SQLite write paths: the engine's own connection, and the ADBC child process."""
    if request.param == "adbc-child":
        monkeypatch.setattr(bulk, "SQLITE_CHILD_MIN_ROWS", 0)
    return request.param


@pytest.fixture
def small_chunks(monkeypatch):
    """Several generation batches even for small seeds."""
    monkeypatch.setattr(generator, "CHUNK", 700)


async def frame(engine) -> pd.DataFrame:
    async with taskkit.session(engine) as s:
        tasks = (await s.exec(select(Task).order_by(Task.id))).all()
    return pd.DataFrame([t.model_dump() for t in tasks])


async def new_file_engine(path: Path):
    engine = taskkit.connect(f"sqlite:///{path}")
    await taskkit.create_db_and_tables(engine)
    return engine


async def test_seed_writes_the_counts_asked_for(engine, write_path, small_chunks):
    summary = await taskkit.seed(engine, tasks=3_000, projects=7, workers=9, progress=False)
    data = await snapshot(engine)
    assert (summary.tasks, summary.projects, summary.workers) == (3_000, 7, 9)
    assert (len(data["task"]), len(data["project"]), len(data["worker"])) == (3_000, 7, 9)
    assert summary.links == len(data["taskworkerlink"]) > 0
    assert summary.labels == len(data["label"]) == len(vocabulary.LABEL_NAMES)
    assert summary.label_links == len(data["task_label_link"]) > 0
    assert summary.status_changes == len(data["status_change"]) > 3_000
    assert summary.seconds > 0
    assert f"{summary.status_changes:,} status changes" in str(summary)


async def test_same_arguments_give_the_same_rows_on_any_write_path(tmp_path, monkeypatch):
    snapshots = []
    for i, threshold in enumerate([10**9, 0, 0]):
        monkeypatch.setattr(bulk, "SQLITE_CHILD_MIN_ROWS", threshold)
        monkeypatch.setattr(generator, "CHUNK", [200_000, 200_000, 333][i])
        engine = await new_file_engine(tmp_path / f"{i}.db")
        await taskkit.seed(engine, tasks=2_000, seed=5, progress=False)
        snapshots.append(await snapshot(engine))
        await engine.dispose()
    assert snapshots[0] == snapshots[1] == snapshots[2]


async def test_another_seed_gives_other_rows(tmp_path):
    frames = []
    for value in (1, 2):
        engine = await new_file_engine(tmp_path / f"{value}.db")
        await taskkit.seed(engine, tasks=500, seed=value, progress=False)
        frames.append(await frame(engine))
        await engine.dispose()
    assert not frames[0]["title"].equals(frames[1]["title"])


@pytest.mark.postgres
async def test_sqlite_and_postgres_hold_the_same_seeded_data(tmp_path):
    from tests.conftest import postgres_url, reset_postgres

    pg = taskkit.connect(postgres_url())
    await reset_postgres(pg)
    async with taskkit.session(pg) as s:  # the sequences move on; the tables stay empty
        await taskkit.delete_task(s, (await taskkit.create_task(s, {"title": "gone"})).id)
    lite = await new_file_engine(tmp_path / "same.db")
    for engine in (pg, lite):
        await taskkit.seed(engine, tasks=1_500, seed=3, progress=False)
    pd.testing.assert_frame_equal(await frame(pg), await frame(lite))
    # Histories and labels too, ids included (PostgreSQL numbers an empty table from 1 as
    # SQLite does, also when its sequence was used before).
    links = select(TaskLabelLink).order_by(TaskLabelLink.task_id, TaskLabelLink.label_id)
    for stmt in (taskkit.select_history(), links, select(Label).order_by(Label.id)):
        pd.testing.assert_frame_equal(
            await taskkit.to_dataframe(pg, stmt), await taskkit.to_dataframe(lite, stmt)
        )
    await pg.dispose()
    await lite.dispose()


async def test_each_column_draws_from_its_own_stream(tmp_path, monkeypatch):
    """Changing one column's random stream leaves every other column as it was."""
    engine = await new_file_engine(tmp_path / "a.db")
    await taskkit.seed(engine, tasks=800, progress=False)
    before = await frame(engine)
    original = generator.stream
    monkeypatch.setattr(
        generator,
        "stream",
        lambda seed, column: original(seed + (column == "description"), column),
    )
    await taskkit.seed(engine, tasks=800, reset=True, progress=False)
    after = await frame(engine)
    await engine.dispose()
    assert not before["description"].equals(after["description"])
    for column in ("title", "status", "priority", "project_id", "created_at", "completed_at"):
        assert before[column].equals(after[column]), column


async def test_seeded_data_is_realistic(tmp_path):
    engine = await new_file_engine(tmp_path / "real.db")
    await taskkit.seed(engine, tasks=20_000, projects=12, workers=30, progress=False)
    df = await frame(engine)
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT task_id, worker_id FROM taskworkerlink"))).all()
        links = pd.DataFrame(rows, columns=["task_id", "worker_id"])
        fk_problems = (await conn.execute(text("PRAGMA foreign_key_check"))).all()
    await engine.dispose()
    assert fk_problems == []
    created = df["created_at"]
    # about a year, ending at the fixed reference date, ids in creation order
    assert created.min() >= seed_module.REFERENCE_END - pd.Timedelta(days=365)
    assert created.max() < seed_module.REFERENCE_END
    assert created.is_monotonic_increasing
    # weekdays and working hours
    assert (created.dt.day_of_week >= 5).mean() < 0.06
    assert created.dt.hour.between(8, 17).mean() > 0.75
    # status depends on age: old tasks mostly completed, recent ones mostly not
    old = df[created < created.quantile(0.5)]
    recent = df[created > seed_module.REFERENCE_END - pd.Timedelta(days=3)]
    assert (old["status"] == "completed").mean() > 0.9
    assert (recent["status"] != "completed").mean() > 0.5
    # timestamps hang together; completed tasks have a plausible cycle time
    assert (df["updated_at"] >= df["created_at"]).all()
    done = df[df["status"] == "completed"]
    assert (
        done["completed_at"].notna().all()
        and df.loc[df["status"] != "completed", "completed_at"].isna().all()
    )
    cycle = (done["completed_at"] - done["created_at"]).dt.total_seconds() / 86_400
    assert 1 < cycle.median() < 10 and cycle.quantile(0.95) < 60
    # skewed priorities, about a third without description, titles from a vocabulary
    shares = df["priority"].value_counts(normalize=True)
    assert shares["medium"] > shares["low"] > shares["high"] > 0.05
    assert 0.28 < df["description"].isna().mean() < 0.38
    assert df["title"].str.contains("login timeout").sum() > 100
    # 0 to 3 distinct workers per task, some busier than others
    per_task = links.groupby("task_id").size().reindex(df["id"], fill_value=0)
    assert set(per_task.unique()) == {0, 1, 2, 3}
    load = links.groupby("worker_id").size()
    assert load.max() > 2 * load.min()
    # a few big projects, some tasks without one
    per_project = df["project_id"].value_counts()
    assert per_project.iloc[0] > 3 * per_project.iloc[-1]
    assert 0.03 < df["project_id"].isna().mean() < 0.1


async def test_zero_projects_gives_tasks_without_project_and_zero_workers_no_links(engine):
    summary = await taskkit.seed(engine, tasks=300, projects=0, workers=0, progress=False)
    data = await snapshot(engine)
    assert (summary.projects, summary.workers, summary.links) == (0, 0, 0)
    assert data["project"] == data["worker"] == data["taskworkerlink"] == []
    assert len(data["task"]) == 300


async def test_one_worker_gives_at_most_one_worker_per_task(engine):
    await taskkit.seed(engine, tasks=300, workers=1, progress=False)
    links = (await snapshot(engine))["taskworkerlink"]
    assert len({task for task, _ in links}) == len(links) > 0


async def test_seed_refuses_a_database_with_data_and_changes_nothing(engine, write_path):
    await taskkit.seed(engine, tasks=200, progress=False)
    before = await snapshot(engine)
    with pytest.raises(DatabaseNotEmptyError, match=r"already holds data \(20 projects.*--reset"):
        await taskkit.seed(engine, tasks=300, seed=9, progress=False)
    assert await snapshot(engine) == before


async def test_seed_refuses_a_database_with_only_a_project(engine):
    async with taskkit.session(engine) as s:
        await taskkit.create_project(s, {"name": "mine"})
    with pytest.raises(DatabaseNotEmptyError, match="1 project"):
        await taskkit.seed(engine, tasks=10, progress=False)


async def test_reset_replaces_the_data(engine, write_path):
    await taskkit.seed(engine, tasks=200, seed=1, progress=False)
    await taskkit.seed(engine, tasks=100, projects=3, seed=2, reset=True, progress=False)
    data = await snapshot(engine)
    assert (len(data["task"]), len(data["project"])) == (100, 3)
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT min(id) FROM task")) == 1  # ids start again


async def test_rows_created_after_a_seed_get_fresh_ids(engine):
    summary = await taskkit.seed(engine, tasks=50, projects=2, progress=False)
    async with taskkit.session(engine) as s:
        task = await taskkit.create_task(s, {"title": "after the seed"})
        project = await taskkit.create_project(s, {"name": "after the seed"})
    assert (task.id, project.id) == (51, 3)
    # The seed's history rows come without ids; on PostgreSQL the writer numbers them (the
    # table is empty) and moves the sequence past them.
    history = await taskkit.to_dataframe(engine, taskkit.select_history())
    assert sorted(history["id"]) == list(range(1, summary.status_changes + 2))
    assert history["id"].iloc[-1] == summary.status_changes + 1  # the new task's creation


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"tasks": -1}, "tasks must be an integer from 0 to 50,000,000; got -1"),
        ({"tasks": 50_000_001}, "tasks must be an integer from 0 to 50,000,000; got 50000001"),
        ({"projects": -3}, "projects must be an integer from 0 to"),
        ({"workers": 10**9}, "workers must be an integer from 0 to"),
        ({"tasks": 1.5}, r"tasks must be an integer from 0 to 50,000,000; got 1\.5"),
        ({"tasks": "10"}, "tasks must be an integer from 0 to 50,000,000; got '10'"),
        ({"tasks": True}, "tasks must be an integer from 0 to 50,000,000; got True"),
        ({"seed": -1}, "seed must be an integer from 0 to 9,223,372,036,854,775,807; got -1"),
        ({"seed": 2**63}, "seed must be an integer from 0 to 9,223,372,036,854,775,807"),
        ({"seed": "x"}, "seed must be an integer from 0"),
    ],
)
async def test_bad_arguments_are_refused_before_anything_is_written(engine, arguments, message):
    before = await snapshot(engine)
    with pytest.raises(InvalidArgumentError, match=message):
        await taskkit.seed(engine, progress=False, **arguments)
    assert await snapshot(engine) == before


async def test_an_error_midway_leaves_the_database_as_it_was(engine, write_path, monkeypatch):
    await taskkit.seed(engine, tasks=100, progress=False)
    before = await snapshot(engine)
    original = generator.TaskGenerator._worker_links

    def failing_links(self, ids):
        if ids[0] > 700:
            raise RuntimeError("generator broke halfway")
        return original(self, ids)

    monkeypatch.setattr(generator, "CHUNK", 700)
    monkeypatch.setattr(generator.TaskGenerator, "_worker_links", failing_links)
    with pytest.raises(RuntimeError, match="generator broke halfway"):
        await taskkit.seed(engine, tasks=3_000, reset=True, progress=False)
    assert await snapshot(engine) == before


async def test_cancelling_a_seed_leaves_the_database_as_it_was(tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "SQLITE_CHILD_MIN_ROWS", 0)
    monkeypatch.setattr(generator, "CHUNK", 2_000)
    engine = await new_file_engine(tmp_path / "cancel.db")
    await taskkit.seed(engine, tasks=100, progress=False)
    before = await snapshot(engine)
    task = asyncio.ensure_future(taskkit.seed(engine, tasks=400_000, reset=True, progress=False))
    await asyncio.sleep(1.5)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await snapshot(engine) == before
    await engine.dispose()


@pytest.mark.slow  # kills seeds at many moments: half a minute
def test_sigkill_at_any_moment_leaves_before_or_complete(tmp_path):
    path = tmp_path / "killed.db"
    url = f"sqlite:///{path}"
    cli = [sys.executable, "-m", "taskkit", "seed", "--db", url, "--no-progress"]
    subprocess.run([*cli, "--tasks", "1000"], check=True, capture_output=True)
    first = sqlite3.connect(path).execute("SELECT count(*) FROM task").fetchone()[0]
    outcomes = set()
    for delay in (0.5, 1.5, 2.5, 3.5, 30):
        child = subprocess.Popen(
            [*cli, "--tasks", "300000", "--reset"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            child.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)  # the CLI and its writer child together
            child.wait()
        time.sleep(0.2)
        con = sqlite3.connect(path, timeout=30)
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        count = con.execute("SELECT count(*) FROM task").fetchone()[0]
        links = con.execute("SELECT count(DISTINCT task_id) FROM taskworkerlink").fetchone()[0]
        con.close()
        assert count in (first, 300_000), count
        assert links <= count
        outcomes.add(count)
    assert 300_000 in outcomes  # the last run (30 s) completes


def test_killing_only_the_cli_makes_its_writer_roll_back(tmp_path):
    """If the parent dies, its writer child sees input end without a commit and rolls back."""
    path = tmp_path / "orphan.db"
    cli = [sys.executable, "-m", "taskkit", "seed", "--db", f"sqlite:///{path}", "--no-progress"]
    subprocess.run([*cli, "--tasks", "10"], check=True, capture_output=True)
    child = subprocess.Popen([*cli, "--tasks", "400000", "--reset"], stderr=subprocess.DEVNULL)
    time.sleep(2.0)
    child.kill()  # only the CLI: the writer is orphaned
    child.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        con = sqlite3.connect(path, timeout=30)
        count = con.execute("SELECT count(*) FROM task").fetchone()[0]
        con.close()
        if count == 10:
            break
        time.sleep(0.5)
    assert count == 10


@pytest.mark.postgres
async def test_a_bulk_seed_on_postgres_leaves_the_schema_exactly_as_migrated():
    """Foreign keys and indexes are dropped for the COPY and put back in the same transaction."""
    from sqlalchemy.exc import IntegrityError

    from tests.conftest import postgres_url, reset_postgres

    engine = taskkit.connect(postgres_url())
    try:
        await reset_postgres(engine)
        await taskkit.seed(engine, tasks=2_000, progress=False)
        await taskkit.check_schema(engine)  # raises on any drift from the models
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO taskworkerlink VALUES (1, 'nobody')"))
    finally:
        await engine.dispose()


# --- Resolutions, kinds, labels and status histories (issue 22) -------------------------------


def history_problems(tasks: pd.DataFrame, history: pd.DataFrame) -> dict[str, int]:
    """How many tasks break each rule that ties a task to its history (all 0 when consistent).

    ``tasks`` and ``history`` as ``to_dataframe`` reads ``select(Task)`` and
    ``select_history()``."""
    h = history.sort_values(["task_id", "changed_at", "id"]).reset_index(drop=True)
    to_status = h["to_status"].astype("string")
    from_status = h["from_status"].astype("string")
    by_task = h.groupby("task_id", sort=True)
    first, last = by_task.head(1).set_index("task_id"), by_task.tail(1).set_index("task_id")
    t = tasks.set_index("id")
    previous = to_status.groupby(h["task_id"]).shift()
    later = h["changed_at"].groupby(h["task_id"]).diff()
    starts = h[to_status == "in_progress"].groupby("task_id")["changed_at"].min()
    closes = h[to_status == "completed"].groupby("task_id")["changed_at"].max()
    completed = t["status"] == "completed"
    return {
        "without history": int((~t.index.isin(h["task_id"])).sum()),
        "first row has a status before": int(first["from_status"].notna().sum()),
        "first row not at created_at": int((first["changed_at"] != t["created_at"]).sum()),
        "from_status is not the status before": int(
            (from_status[previous.notna()] != previous[previous.notna()]).sum()
        ),
        "moves not strictly later": int((later.dropna() <= pd.Timedelta(0)).sum()),
        "last to_status is not the status": int(
            (last["to_status"].astype("string") != t["status"].astype("string")).sum()
        ),
        "last move is not updated_at": int((last["changed_at"] != t["updated_at"]).sum()),
        "started_at is not the first move into in_progress": int(
            (starts.reindex(t.index).fillna(pd.NaT) != t["started_at"]).sum()
            - (starts.reindex(t.index).isna() & t["started_at"].isna()).sum()
        ),
        "completed_at is not the last move into completed": int(
            (closes.reindex(t.index)[completed] != t.loc[completed, "completed_at"]).sum()
        ),
        "open task with completed_at or resolution": int(
            (~completed & (t["completed_at"].notna() | t["resolution"].notna())).sum()
        ),
        "source is not seed": int((h["source"].astype("string") != "seed").sum()),
    }


async def seeded_frames(engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    tasks = await taskkit.to_dataframe(engine, select(Task).order_by(Task.id), related=["labels"])
    return tasks, await taskkit.to_dataframe(engine, taskkit.select_history())


async def test_every_seeded_task_agrees_with_its_history(engine, write_path, small_chunks):
    await taskkit.seed(engine, tasks=4_000, seed=11, progress=False)
    tasks, history = await seeded_frames(engine)
    assert history_problems(tasks, history) == dict.fromkeys(history_problems(tasks, history), 0)


def test_history_problems_sees_each_kind_of_inconsistency():
    """The checker above finds what it claims to (on a hand-made task and history)."""
    at = pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03"], utc=True).as_unit("us")
    statuses = pd.CategoricalDtype(["pending", "in_progress", "completed"], ordered=True)
    tasks = pd.DataFrame(
        {
            "id": [1],
            "status": pd.Series(["completed"], dtype=statuses),
            "created_at": at[:1],
            "updated_at": at[2:],
            "started_at": at[1:2],
            "completed_at": at[2:],
            "resolution": ["done"],
        }
    )
    history = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "task_id": [1, 1, 1],
            "changed_at": at,
            "from_status": pd.Series([None, "pending", "in_progress"], dtype=statuses),
            "to_status": pd.Series(["pending", "in_progress", "completed"], dtype=statuses),
            "source": ["seed"] * 3,
        }
    )
    assert set(history_problems(tasks, history).values()) == {0}
    broken = history.assign(
        from_status=history["from_status"].cat.set_categories(statuses.categories)
    )
    broken.loc[2, "from_status"] = "pending"
    assert history_problems(tasks, broken)["from_status is not the status before"] == 1
    late = tasks.assign(started_at=at[2:])
    assert history_problems(late, history)["started_at is not the first move into in_progress"]
    assert history_problems(tasks, history.iloc[:2])["last to_status is not the status"] == 1


async def test_seeded_histories_are_realistic(tmp_path):
    engine = await new_file_engine(tmp_path / "history.db")
    await taskkit.seed(engine, tasks=20_000, progress=False)
    tasks, history = await seeded_frames(engine)
    await engine.dispose()
    moves = history.groupby("task_id").size()
    assert 2.8 < moves.mean() < 3.8
    assert (moves >= 3).mean() > 0.8  # several changes for most tasks
    pair = history["from_status"].astype("string") + ">" + history["to_status"].astype("string")
    shares = pair.value_counts(normalize=True) * len(history) / len(tasks)
    assert shares["pending>in_progress"] > 0.85  # most tasks are started
    assert 0.08 < shares["in_progress>pending"] < 0.25  # some go back to the queue
    assert 0.02 < shares["completed>in_progress"] < 0.1  # some are reopened
    assert 0.04 < shares["pending>completed"] < 0.15  # dropped without being started
    done = tasks[tasks["resolution"] == "done"]
    cycle = (done["completed_at"] - done["started_at"]).dt.total_seconds() / 86_400
    assert 1 < cycle.median() < 5 and cycle.quantile(0.95) < 30
    # Only started work has a start; a task never started has none.
    assert tasks.loc[tasks["status"] == "in_progress", "started_at"].notna().all()
    unstarted = ~tasks["id"].isin(history.loc[history["to_status"] == "in_progress", "task_id"])
    assert tasks.loc[unstarted, "started_at"].isna().all()


async def test_seeded_tasks_have_resolutions_kinds_and_labels(tmp_path):
    engine = await new_file_engine(tmp_path / "rich.db")
    await taskkit.seed(engine, tasks=20_000, progress=False)
    tasks, _ = await seeded_frames(engine)
    await engine.dispose()
    completed = tasks["status"] == "completed"
    resolution = tasks.loc[completed, "resolution"].value_counts(normalize=True)
    assert resolution["done"] > 0.75  # most completed work was done
    for dropped in ("wont_do", "duplicate", "cancelled"):
        assert 0.01 < resolution[dropped] < 0.1, dropped
    assert tasks.loc[completed, "resolution"].notna().all()
    kinds = tasks["kind"].value_counts(normalize=True)
    assert set(kinds.index) == {"Task", "Bug", "Story", "Epic"} and kinds["Epic"] < 0.1
    bug_share = (tasks["kind"] == "Bug").groupby(tasks["priority"], observed=True).mean()
    assert bug_share["high"] > 2 * bug_share["low"]  # urgent work is mostly bugs
    per_task = tasks["labels"].map(len)
    assert set(per_task.unique()) == {0, 1, 2, 3}
    assert all(len(set(labels)) == len(labels) for labels in tasks["labels"])
    used = tasks["labels"].explode().value_counts()
    assert set(used.index) == set(vocabulary.LABEL_NAMES)
    assert used.iloc[0] > 3 * used.iloc[-1]  # some labels far more used than others
    # select_tasks filters on what was seeded.
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'rich.db'}")
    bugs = await taskkit.to_dataframe(engine, taskkit.select_tasks(kind="Bug", label="backend"))
    await engine.dispose()
    expected = tasks[(tasks["kind"] == "Bug") & tasks["labels"].map(lambda x: "backend" in x)]
    assert sorted(bugs["id"]) == sorted(expected["id"]) and len(bugs) > 100


@pytest.mark.parametrize("file", ["missing", "empty"])
async def test_seed_without_tables_refuses_the_same_way_on_both_write_paths(
    tmp_path, write_path, file
):
    """Before: 1,000 tasks gave the clean "create them with taskkit init", 100,000 (the helper
    process) a BulkWriteError with the SQLite driver's words, and a new file was left behind."""
    path = tmp_path / "new.db"
    if file == "empty":
        sqlite3.connect(path).close()
    engine = taskkit.connect(f"sqlite:///{path}")
    try:
        with pytest.raises(taskkit.MissingTablesError) as refused:
            await taskkit.seed(engine, tasks=50, progress=False)
        message = str(refused.value)
        assert "create them with `taskkit init`" in message
        assert "`await taskkit.create_db_and_tables(engine)`" in message
        if file == "missing":
            assert "does not exist" in message and "nothing was created" in message
            assert not path.exists()
        else:
            assert "has no table 'project'" in message
            with contextlib.closing(sqlite3.connect(path)) as db:
                assert db.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
        await taskkit.create_db_and_tables(engine)  # the hint, followed
        assert (await taskkit.seed(engine, tasks=50, progress=False)).tasks == 50
    finally:
        await engine.dispose()
