"""Concurrency: writers and readers at once, on a SQLite file (WAL) and on PostgreSQL.

8 async writers (create, update, assign) and 2 readers walking keyset pages run together for
about 10 seconds. No "database is locked" (or any error) may reach a caller, and at the end
the database holds exactly what the writers were told they wrote: nothing lost, nothing
duplicated.
"""

import asyncio
import random
import time
from pathlib import Path

import pytest
from sqlmodel import select

import taskkit
from taskkit import Task, TaskWorkerLink
from taskkit._paging import pages
from taskkit._query import select_tasks
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
