"""Read-only work on an engine goes through one helper
(taskkit._database.engine.read_connection): on SQLite it neither takes nor waits for the write
lock, and it never keeps what it did."""

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

import taskkit
from taskkit import Task
from taskkit._database.access import database_contents
from taskkit._database.engine import read_connection
from taskkit._database.owner import SQLITE_BEGIN_OPTION


async def test_reading_ends_in_a_rollback(engine: AsyncEngine):
    await taskkit.create_db_and_tables(engine)
    async with read_connection(engine) as conn:
        await conn.execute(text("INSERT INTO project (name) VALUES ('kept?')"))
    async with read_connection(engine) as conn:
        assert (await conn.scalar(text("SELECT count(*) FROM project"))) == 0


async def test_readers_do_not_wait_for_a_sqlite_writer(tmp_path: Path):
    path = tmp_path / "busy.db"
    engine = taskkit.connect(f"sqlite:///{path}")
    await taskkit.upgrade_schema(engine)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # holds the write lock until the end of the test
    writer.execute("INSERT INTO project (name) VALUES ('uncommitted')")
    try:
        # Each would wait for the busy timeout (30 s) and fail had it begun IMMEDIATE.
        async with read_connection(engine) as conn:
            assert (await conn.scalar(text("SELECT count(*) FROM project"))) == 0
        assert await taskkit.schema_revision(engine) is not None
        await taskkit.check_schema(engine)
        assert "task" in (await database_contents(engine)).tables
        plan = await taskkit.explain(engine, select(Task))
        assert plan.lines
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        await engine.dispose()


async def test_a_callers_idle_connection_reads_and_is_left_as_it_was(tmp_path: Path):
    path = tmp_path / "idle.db"
    engine = taskkit.connect(f"sqlite:///{path}")
    await taskkit.create_db_and_tables(engine)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        async with engine.connect() as conn:
            # A connection the caller set up for writing: the read must not wait for the lock,
            # and the caller's setting comes back after it.
            await conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            writer.execute("BEGIN IMMEDIATE")  # a writer holds the lock: IMMEDIATE would wait
            async with read_connection(conn) as reading:
                assert reading is conn
                assert (await conn.scalar(text("SELECT count(*) FROM project"))) == 0
            writer.execute("ROLLBACK")
            assert not conn.in_transaction()
            options = conn.sync_connection.get_execution_options()  # type: ignore[union-attr]
            assert options.get(SQLITE_BEGIN_OPTION) == "IMMEDIATE"
    finally:
        writer.close()
        await engine.dispose()


async def test_a_database_that_cannot_be_reached_says_which():
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    engine = taskkit.connect("postgresql://reader:s3cret@127.0.0.1:1/tasks")
    try:
        with pytest.raises(taskkit.DatabaseUnavailableError, match=r"127\.0\.0\.1") as raised:
            async with read_connection(engine):
                pass
        assert "s3cret" not in str(raised.value)
    finally:
        await engine.dispose()
