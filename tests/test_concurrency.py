"""Concurrency: writers and readers at once, on a SQLite file (WAL) and on PostgreSQL.

8 async writers (create, update, assign) and 2 readers walking keyset pages run together for
about 10 seconds. No "database is locked" (or any error) may reach a caller, and at the end
the database holds exactly what the writers were told they wrote: nothing lost, nothing
duplicated.
"""

import asyncio
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

import taskkit
from taskkit import Task, TaskWorkerLink, pages, select_tasks
from tests.conftest import postgres_url, reset_postgres

WRITERS, READERS, SECONDS = 8, 2, 10.0
STATUSES = ["pending", "in_progress", "completed"]


async def writer(engine, number: int, stop: float, ledger: dict) -> None:
    rng = random.Random(number)
    async with taskkit.session(engine) as s:
        mine: list[int] = []
        k = 0
        while time.monotonic() < stop:
            action = rng.random()
            if action < 0.5 or not mine:
                task = await taskkit.create_task(s, {"title": f"writer {number} task {k}"})
                mine.append(task.id)
                ledger["tasks"][task.id] = {"title": task.title, "status": "pending"}
                k += 1
            elif action < 0.8:
                task_id = rng.choice(mine)
                status = rng.choice(STATUSES)
                await taskkit.update_task(s, task_id, {"status": status})
                ledger["tasks"][task_id]["status"] = status
            else:
                task_id, worker_id = rng.choice(mine), f"w{rng.randrange(4)}"
                await taskkit.assign(s, task_id, worker_id)
                ledger["links"].add((task_id, worker_id))


async def reader(engine, stop: float, walks: list[list[int]]) -> None:
    async with taskkit.session(engine) as s:
        while time.monotonic() < stop:
            seen: list[int] = []
            async for page in pages(s, select_tasks(order_by="-created_at"), size=25):
                seen.extend(t.id for t in page.items)
            walks.append(seen)
            await asyncio.sleep(0)


async def run_load(engine) -> None:
    async with taskkit.session(engine) as s:
        for i in range(4):
            await taskkit.create_worker(s, {"id": f"w{i}", "name": f"Worker {i}"})
    ledger: dict = {"tasks": {}, "links": set()}
    walks: list[list[int]] = []
    stop = time.monotonic() + SECONDS
    await asyncio.gather(
        *(writer(engine, n, stop, ledger) for n in range(WRITERS)),
        *(reader(engine, stop, walks) for _ in range(READERS)),
    )
    async with taskkit.session(engine) as s:
        stored = {
            t.id: {"title": t.title, "status": t.status} for t in (await s.exec(select(Task))).all()
        }
        links = {
            (link.task_id, link.worker_id) for link in (await s.exec(select(TaskWorkerLink))).all()
        }
    assert len(ledger["tasks"]) > 100  # the writers really ran
    assert stored == ledger["tasks"]
    assert links == ledger["links"]
    assert walks, "the readers never finished a walk"
    for seen in walks:
        assert len(seen) == len(set(seen))  # no row twice within a walk


async def test_writers_and_readers_on_a_sqlite_file(tmp_path: Path):
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'busy.db'}")
    await taskkit.create_db_and_tables(engine)
    try:
        await run_load(engine)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_writers_and_readers_on_postgres():
    engine = taskkit.connect(postgres_url())
    await reset_postgres(engine)
    try:
        await run_load(engine)
    finally:
        await engine.dispose()


# --- A notebook's open session (issue 25 item 1) ----------------------------------------------

# Another process's write, timed inside it: create_task on the file named by argv[1].
_CREATE_IN_ANOTHER_PROCESS = """
import asyncio, sys, time
import taskkit

async def main():
    engine = taskkit.connect(f"sqlite:///{sys.argv[1]}")
    async with taskkit.session(engine) as s:
        start = time.monotonic()
        await taskkit.create_task(s, {"title": "from another process"})
        print(time.monotonic() - start)
    await engine.dispose()

asyncio.run(main())
"""
# The other process must not wait for the busy timeout (30 s) to learn what happens.
OTHER_PROCESS_TIMEOUT_S = 28.0  # below the 30 s busy timeout a held-up writer would wait


def _run(args: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    done = subprocess.run(args, capture_output=True, text=True, timeout=OTHER_PROCESS_TIMEOUT_S)
    return done, time.monotonic() - start


async def test_a_session_left_open_after_a_read_blocks_no_writer_in_another_process(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notebook.db"
    engine = taskkit.connect(f"sqlite:///{path}")
    await taskkit.ensure_schema(engine)
    async with taskkit.session(engine) as setup:
        for i in range(5):
            await taskkit.create_task(setup, {"title": f"task {i}"})

    def importing(name: str, titles: str) -> list[str]:
        csv = tmp_path / name
        csv.write_text(f"title,status\n{titles} one,pending\n{titles} two,completed\n")
        return [sys.executable, "-m", "taskkit", "import", str(csv), "--db", f"sqlite:///{path}"]

    # First, an import into a database nobody holds open (the same work as below).
    free, _ = await asyncio.to_thread(_run, [*importing("first.csv", "first"), "--no-progress"])
    assert free.returncode == 0, free.stderr

    # As notebooks 01 and 02 do: a session that has read, kept open across cells.
    s = taskkit.session(engine)
    before = (await s.exec(select(Task).limit(3))).all()
    assert len(before) == 3 and s.in_transaction()
    try:
        created, _ = await asyncio.to_thread(
            _run, [sys.executable, "-c", _CREATE_IN_ANOTHER_PROCESS, str(path)]
        )
        assert created.returncode == 0, created.stderr
        # A writer held up by the read would wait for the busy timeout (30 s), then fail; the
        # margins are wide so that a loaded machine cannot make this fail.
        assert float(created.stdout) < 10.0
        imported, _ = await asyncio.to_thread(
            _run, [*importing("second.csv", "imported"), "--no-progress"]
        )
        assert imported.returncode == 0, imported.stderr
        # The session still reads its snapshot: the other writes are not in it ...
        assert len((await s.exec(select(Task))).all()) == 7
        # ... and writing through it works (its read-only transaction is begun again).
        mine = await taskkit.create_task(s, {"title": "from the notebook"})
        titles = [t.title for t in (await s.exec(select(Task))).all()]
        assert len(titles) == 7 + 1 + 2 + 1 and titles[-1] == mine.title
        assert "from another process" in titles
    finally:
        await s.close()
        await engine.dispose()


async def test_a_write_helper_keeps_the_callers_snapshot_when_nobody_wrote(tmp_path: Path) -> None:
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'kept.db'}")
    await taskkit.create_db_and_tables(engine)
    try:
        async with taskkit.session(engine) as s:
            await taskkit.create_task(s, {"title": "first"})
            task = (await s.exec(select(Task))).one()
            await s.exec(select(Task))  # a read transaction is open
            pending = Task(title="added by the caller, not flushed")
            s.add(pending)  # waiting in the session; the helper flushes and commits it
            await taskkit.update_task(s, task.id, {"title": "renamed"})
            titles = sorted(t.title for t in (await s.exec(select(Task))).all())
        assert titles == ["added by the caller, not flushed", "renamed"]
    finally:
        await engine.dispose()


async def test_a_write_helper_in_a_read_transaction_after_another_write_still_writes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "moved.db"
    engine = taskkit.connect(f"sqlite:///{path}")
    other = taskkit.connect(f"sqlite:///{path}")
    await taskkit.create_db_and_tables(engine)
    try:
        async with taskkit.session(engine) as s, taskkit.session(other) as o:
            await s.exec(select(Task))  # s reads: its snapshot holds no task
            await asyncio.wait_for(taskkit.create_task(o, {"title": "theirs"}), 5)
            s.add(Task(title="pending in the caller's session"))
            mine = await taskkit.create_task(s, {"title": "mine"})
            titles = sorted(t.title for t in (await s.exec(select(Task))).all())
        assert mine.id is not None
        assert titles == ["mine", "pending in the caller's session", "theirs"]
    finally:
        await engine.dispose()
        await other.dispose()


@pytest.mark.parametrize("other_is", ["committed", "writing"])
async def test_your_own_read_then_write_after_another_write_is_one_line_saying_why(
    tmp_path: Path, other_is: str
) -> None:
    path = tmp_path / "mine.db"
    engine = taskkit.connect(f"sqlite:///{path}")
    await taskkit.create_db_and_tables(engine)
    other = sqlite3.connect(path, isolation_level=None, timeout=5)
    try:
        async with taskkit.session(engine) as s:
            await s.exec(select(Task))  # your transaction reads first ...
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO task (title, status, priority, created_at, updated_at) "
                          "VALUES ('theirs', 'pending', 'low', '2025-01-01 00:00:00', "
                          "'2025-01-01 00:00:00')")  # fmt: skip
            if other_is == "committed":
                other.execute("COMMIT")
            s.add(Task(title="mine"))  # ... then writes
            with pytest.raises(taskkit.WriteConflictError) as info:
                await s.commit()
            await s.rollback()
        message = str(info.value)
        assert "\n" not in message
        assert "it read first, and another connection wrote since (or is writing)" in message
        code = "SQLITE_BUSY_SNAPSHOT" if other_is == "committed" else "SQLITE_BUSY"
        assert f"no waiting helps ({code})" in message
        assert "sqlite_begin='IMMEDIATE'" in message
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()
        await engine.dispose()
