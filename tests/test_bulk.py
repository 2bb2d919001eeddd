"""The shared bulk-write path: keys are checked on every path unless the caller vouches for them,
and a refused write stores nothing."""

import logging
import os
import sqlite3
import sys
from collections.abc import Iterator

import pyarrow as pa
import pytest
from sqlalchemy import text
from sqlmodel import select

import taskkit
import taskkit._bulk as bulk
from taskkit import BulkWriteError
from taskkit._bulk import write_batches
from taskkit._bulk_parts import Batch, Existing
from taskkit._database.engine import is_memory_sqlite
from taskkit._sqlite_child import bulk_write
from taskkit._sqlite_child.client import SQLiteChild
from tests.helpers import snapshot


def tasks(first_id: int, n: int) -> pa.Table:
    stamp = pa.array([1_700_000_000_000_000] * n, pa.timestamp("us", "UTC"))
    return pa.table(
        {
            "id": pa.array(range(first_id, first_id + n), pa.int64()),
            "title": pa.array([f"task {i}" for i in range(n)]),
            "status": pa.array(["pending"] * n),
            "priority": pa.array(["medium"] * n),
            "project_id": pa.nulls(n, pa.int64()),
            "created_at": stamp,
            "updated_at": stamp,
        }
    )


def orphan_links(existing: Existing) -> Iterator[Batch]:
    """Two good tasks, then a link to a task and a worker that do not exist."""
    yield "task", tasks(existing.max_task_id + 1, 2)
    yield "taskworkerlink", pa.table({"task_id": [10_000], "worker_id": ["w-nobody"]})


async def refused_and_unchanged(engine) -> str:
    await taskkit.seed(engine, tasks=5, progress=False)
    before = await snapshot(engine)
    with pytest.raises(BulkWriteError, match="nothing was stored") as refused:
        await write_batches(engine, orphan_links, total_rows=2, progress=False)
    assert await snapshot(engine) == before
    return str(refused.value)


async def test_a_link_to_missing_rows_is_refused_and_nothing_is_stored(engine):
    """Small writes (the engine's connection on SQLite, COPY on PostgreSQL)."""
    assert "foreign key" in (await refused_and_unchanged(engine)).lower()


async def test_values_at_the_edges_arrive_exactly_or_are_refused_naming_the_column(engine):
    """On PostgreSQL the rows go by COPY's binary format (pgpq): NULL and the empty string
    stay apart, text arrives byte for byte, timestamps to the microsecond; a value the column
    cannot hold is refused naming the table and the column, and nothing is stored."""
    odd = ["", "naïve — ünïcödé 🚀", 'a,b;"quoted"\nnew line', "\\N", "x" * 5000]
    table = tasks(1, len(odd)).set_column(1, "title", pa.array(["t"] * len(odd)))
    table = table.append_column("description", pa.array([*odd[:-1], None]))
    stamps = pa.array([-1, 0, 1, 1_700_000_000_123_456, 4_102_444_799_999_999], pa.int64())
    table = table.set_column(5, "created_at", stamps.cast(pa.timestamp("us", "UTC")))
    table = table.set_column(6, "updated_at", stamps.cast(pa.timestamp("us", "UTC")))
    await write_batches(engine, lambda existing: iter([("task", table)]), progress=False)
    stored = await taskkit.to_dataframe(engine, select(taskkit.Task).order_by(taskkit.Task.id))
    assert stored["description"].tolist()[:-1] == odd[:-1]
    assert stored["description"].isna().tolist() == [False] * 4 + [True]
    assert [t.value for t in stored["created_at"]] == [s * 1000 for s in stamps.to_pylist()]
    before = await snapshot(engine)
    too_big = tasks(10, 2).set_column(4, "project_id", pa.array([None, 2**31], pa.int64()))
    with pytest.raises(BulkWriteError) as refused:
        await write_batches(engine, lambda existing: iter([("task", too_big)]), progress=False)
    assert "nothing was stored" in str(refused.value)
    if engine.dialect.name == "postgresql":
        assert "task.project_id cannot hold a value as integer" in str(refused.value)
        # PostgreSQL's text holds no NUL byte: its own words, in one line.
        nul = tasks(20, 1).set_column(1, "title", pa.array(["a\x00b"]))
        with pytest.raises(BulkWriteError, match=r"nothing was stored: .*0x00$"):
            await write_batches(engine, lambda existing: iter([("task", nul)]), progress=False)
    assert await snapshot(engine) == before


async def test_the_adbc_writer_checks_keys_before_it_commits(tmp_path, monkeypatch):
    """One link, two missing parents (its task and its worker)."""
    monkeypatch.setattr(bulk, "SQLITE_CHILD_MIN_ROWS", 0)
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'child.db'}")
    await taskkit.create_db_and_tables(engine)
    message = await refused_and_unchanged(engine)
    assert "2 reference(s) to missing rows, e.g. taskworkerlink -> " in message
    # The check is what refused them: a caller that vouches for its keys skips it.
    await write_batches(engine, orphan_links, progress=False, check_foreign_keys=False)
    async with engine.connect() as conn:
        assert len((await conn.execute(text("PRAGMA foreign_key_check"))).all()) == 2
    await engine.dispose()


async def test_the_seed_vouches_only_for_keys_that_hold(tmp_path, monkeypatch):
    """The seed skips the writer's key scan (check_foreign_keys=False); every key it writes
    must then hold by construction, with and without projects and workers."""
    monkeypatch.setattr(bulk, "SQLITE_CHILD_MIN_ROWS", 0)
    monkeypatch.setattr(sys.modules["taskkit._seed.generator"], "CHUNK", 900)
    for projects, workers in ((20, 50), (0, 3), (1, 0), (7, 1)):
        engine = taskkit.connect(f"sqlite:///{tmp_path / f'{projects}-{workers}.db'}")
        await taskkit.create_db_and_tables(engine)
        summary = await taskkit.seed(
            engine, tasks=4_000, projects=projects, workers=workers, progress=False
        )
        async with engine.connect() as conn:
            broken = (await conn.execute(text("PRAGMA foreign_key_check"))).all()
            orphans = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM taskworkerlink l LEFT JOIN task t "
                        "ON t.id = l.task_id LEFT JOIN worker w ON w.id = l.worker_id "
                        "WHERE t.id IS NULL OR w.id IS NULL"
                    )
                )
            ).scalar_one()
        await engine.dispose()
        assert broken == [], (projects, workers)
        assert orphans == 0
        assert summary.tasks == 4_000
        assert (summary.links > 0) == (workers > 0)


def many_batches_with_a_bad_first_row(existing: Existing) -> Iterator[Batch]:
    """A CHECK violation at the start, then more rows than the pipe holds: the writer refuses
    while the parent is still sending."""
    bad = tasks(existing.max_task_id + 1, 50_000)
    yield "task", bad.set_column(2, "status", pa.array(["bogus"] + ["pending"] * 49_999))
    for i in range(1, 8):
        yield "task", tasks(existing.max_task_id + 1 + i * 50_000, 50_000)


async def test_a_refusal_midstream_names_the_reason_and_stores_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "SQLITE_CHILD_MIN_ROWS", 0)
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'refused.db'}")
    await taskkit.create_db_and_tables(engine)
    await taskkit.seed(engine, tasks=5, progress=False)
    before = await snapshot(engine)
    with pytest.raises(BulkWriteError, match="CHECK constraint failed: ck_task_status"):
        await write_batches(engine, many_batches_with_a_bad_first_row, progress=False)
    assert await snapshot(engine) == before
    await engine.dispose()


async def test_a_writer_that_dies_midstream_is_reported_and_stores_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "SQLITE_CHILD_MIN_ROWS", 0)
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'died.db'}")
    await taskkit.create_db_and_tables(engine)
    await taskkit.seed(engine, tasks=5, progress=False)
    before = await snapshot(engine)
    original = bulk_write._follow

    async def follow_then_kill(child, *args):
        child.kill()  # as soon as the writer has opened the database
        return await original(child, *args)

    monkeypatch.setattr(bulk_write, "_follow", follow_then_kill)
    with pytest.raises(BulkWriteError, match="SQLite writer stopped"):
        await write_batches(engine, many_batches_with_a_bad_first_row, progress=False)
    assert await snapshot(engine) == before
    await engine.dispose()


async def test_the_adbc_writer_reports_where_its_time_went(tmp_path, monkeypatch, caplog):
    """The seed benchmark prints these phases (debug log of taskkit.bulk)."""
    monkeypatch.setattr(bulk, "SQLITE_CHILD_MIN_ROWS", 0)
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'phases.db'}")
    await taskkit.create_db_and_tables(engine)
    with caplog.at_level(logging.DEBUG, logger="taskkit.bulk"):
        await taskkit.seed(engine, tasks=300, progress=False)
    await engine.dispose()
    (record,) = [r for r in caplog.records if "seconds per phase" in r.getMessage()]
    phases = record.args  # logging keeps a lone dict argument as the mapping itself
    assert {"insert task", "insert taskworkerlink", "index ix_task_title", "commit"} <= set(phases)
    assert phases["foreign key check"] == 0  # the seed vouches for its keys
    assert all(seconds >= 0 for seconds in phases.values())
    (cpu,) = [r.args for r in caplog.records if "CPU time per phase" in r.getMessage()]
    assert set(cpu) == set(phases)  # type: ignore[arg-type]


def writer_phases(caplog) -> dict[str, float]:
    (record,) = [r for r in caplog.records if "seconds per phase" in r.getMessage()]
    return record.args  # type: ignore[return-value]


@pytest.mark.parametrize("open_elsewhere", [False, True])
async def test_a_bulk_write_into_an_empty_file_alone_skips_the_wal(
    tmp_path, monkeypatch, caplog, open_elsewhere
):
    """Into an empty file that nobody else has open (the engine's own idle connections are
    closed first), the writer goes through a rollback journal, each page written once, and puts
    the file back in WAL mode; with another connection open (a reader elsewhere) it writes
    through the WAL as always. Same rows either way."""
    monkeypatch.setattr(bulk, "SQLITE_CHILD_MIN_ROWS", 0)
    path = tmp_path / "alone.db"
    engine = taskkit.connect(f"sqlite:///{path}")
    await taskkit.create_db_and_tables(engine)
    async with engine.connect() as conn:  # the pool now holds an idle connection
        await conn.execute(text("SELECT count(*) FROM task"))
    reader = sqlite3.connect(path)
    try:
        if open_elsewhere:
            reader.execute("SELECT count(*) FROM task").fetchall()
        else:
            reader.close()
        with caplog.at_level(logging.DEBUG, logger="taskkit.bulk"):
            summary = await taskkit.seed(engine, tasks=300, progress=False)
    finally:
        reader.close()
    assert ("back to WAL" in writer_phases(caplog)) is not open_elsewhere
    async with engine.connect() as conn:
        held = (await conn.execute(text("SELECT count(*) FROM status_change"))).scalar_one()
    await engine.dispose()
    assert held == summary.status_changes > 300
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    con.close()


async def test_a_bulk_write_into_a_file_with_tasks_keeps_the_wal(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(bulk, "SQLITE_CHILD_MIN_ROWS", 0)
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'held.db'}")
    await taskkit.create_db_and_tables(engine)
    await taskkit.seed(engine, tasks=10, progress=False)
    with caplog.at_level(logging.DEBUG, logger="taskkit.bulk"):
        await write_batches(engine, lambda existing: iter([("task", tasks(100, 50))]),
                            total_rows=50, progress=False)  # fmt: skip
    await engine.dispose()
    assert "back to WAL" not in writer_phases(caplog)


async def test_a_writer_started_ahead_writes_when_used_and_holds_nothing_before(
    tmp_path, monkeypatch
):
    """A writer started while rows are prepared opens nothing until it is used: another
    write goes through meanwhile; then that same process writes, in one transaction."""
    monkeypatch.setattr(bulk, "SQLITE_CHILD_MIN_ROWS", 0)
    SQLiteChild.stop_all()
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'ahead.db'}")
    await taskkit.create_db_and_tables(engine)
    bulk.start_writer(engine)
    (started,) = SQLiteChild.idle_pids()
    async with engine.begin() as conn:  # the INSERT needs the lock: fails if the child held one
        await conn.execute(text("INSERT INTO project (name) VALUES ('meanwhile')"))
    written = await write_batches(
        engine, lambda e: iter([("task", tasks(1, 4))]), total_rows=4, progress=False
    )
    assert written == {"task": 4}
    assert SQLiteChild.idle_pids() == [started]  # it wrote, and is back for the next use
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM task"))).scalar() == 4
    await engine.dispose()
    SQLiteChild.stop_all()


async def test_a_writer_started_ahead_and_not_used_stores_nothing_and_ends(tmp_path, engine):
    """Not used (a small or keyed import, a refused file): nothing is written and the process
    ends with the others; engines without a writer process get none."""
    SQLiteChild.stop_all()
    file_engine = taskkit.connect(f"sqlite:///{tmp_path / 'unused.db'}")
    await taskkit.create_db_and_tables(file_engine)
    before = await snapshot(file_engine)
    bulk.start_writer(file_engine)
    bulk.start_writer(file_engine)  # one idle process is enough
    (pid,) = SQLiteChild.idle_pids()
    SQLiteChild.stop_all()
    assert SQLiteChild.idle_pids() == []
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # ended and waited for: not even a zombie
    assert await snapshot(file_engine) == before
    await file_engine.dispose()
    bulk.start_writer(engine)
    expected = engine.dialect.name == "sqlite" and not is_memory_sqlite(engine.url)
    assert len(SQLiteChild.idle_pids()) == int(expected)
    SQLiteChild.stop_all()


@pytest.mark.postgres
async def test_without_pgpq_a_bulk_write_to_postgres_names_the_extra_and_stores_nothing(
    monkeypatch,
):
    from tests.conftest import postgres_url, reset_postgres

    engine = taskkit.connect(postgres_url())
    await reset_postgres(engine)
    monkeypatch.setitem(sys.modules, "pgpq", None)  # import pgpq now raises ImportError
    with pytest.raises(taskkit.MissingExtraError) as missing:
        await taskkit.seed(engine, tasks=20, progress=False)
    assert str(missing.value) == (
        "writing to PostgreSQL in bulk needs pgpq, which is not installed: "
        "pip install 'taskkit[postgres]' (or 'taskkit[all]')"
    )
    assert all(rows == [] for rows in (await snapshot(engine)).values())
    await engine.dispose()
