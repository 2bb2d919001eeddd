"""Crashes: `taskkit seed` and `taskkit import` killed (SIGKILL) at several moments leave the
database either as it was or complete, on a SQLite file and on PostgreSQL."""

import asyncio
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sqlalchemy import text

import taskkit
from taskkit._sqlite_child.worker import KILL_AT_VARIABLE
from tests.conftest import postgres_url

ROWS = 150_000


def big_csv(path: Path) -> Path:
    n = ROWS
    pacsv.write_csv(
        pa.table(
            {
                "title": pa.array([f"imported task {i}" for i in range(n)]),
                "status": pa.array(["pending", "in_progress", "completed"] * (n // 3)),
                "project": pa.array([f"Project {i % 7}" for i in range(n)]),
                "workers": pa.array([f"Worker {i % 5}; Worker {(i + 1) % 5}" for i in range(n)]),
                "created_at": pa.array(["2025-03-01T10:00:00Z"] * n),
            }
        ),
        path,
    )
    return path


def kill_at(command: list[str], delay: float, *, when_writing: bool = False) -> bool:
    """Run ``command``; SIGKILL it (and its helpers) after ``delay`` seconds, or ``delay``
    seconds after its SQLite child process (the writer: nothing else starts one) started.
    Whether it was killed before it ended."""
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    if when_writing:
        deadline = time.monotonic() + 60
        while not _writer_running(child.pid) and child.poll() is None:
            assert time.monotonic() < deadline, "the writer never started"
            time.sleep(0.01)
    try:
        child.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)  # the command and any helper process it started
        child.wait()
        return True


def _writer_running(pid: int) -> bool:
    try:
        # Every thread's children: the child is started from a worker thread.
        children = [
            c for t in Path(f"/proc/{pid}/task").glob("*/children") for c in t.read_text().split()
        ]
        return any(b"_sqlite_child" in Path(f"/proc/{c}/cmdline").read_bytes() for c in children)
    except (FileNotFoundError, ProcessLookupError):
        return False


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "taskkit", *args, "--no-progress"]


def test_import_killed_on_sqlite_leaves_before_or_complete(tmp_path):
    path = tmp_path / "import.db"
    url = f"sqlite:///{path}"
    subprocess.run(cli("seed", "--tasks", "500", "--db", url), check=True, capture_output=True)
    source = big_csv(tmp_path / "big.csv")
    before = 500
    seen = set()
    moments = [(0.8, False), (0.05, True), (0.4, True), (120, False)]
    for delay, when_writing in moments:
        killed = kill_at(cli("import", str(source), "--db", url), delay, when_writing=when_writing)
        con = sqlite3.connect(path, timeout=30)
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        count = con.execute("SELECT count(*) FROM task").fetchone()[0]
        con.close()
        assert (count - before) in (0, ROWS), count
        if killed and when_writing:
            assert count == before  # killed mid-write: nothing of it stayed
        before = count
        seen.add(count)
    assert max(seen) >= 500 + ROWS  # the unhurried run completed


def test_an_import_into_a_new_file_killed_leaves_nothing_of_its_rows_or_all(tmp_path):
    """Into a new file the import writes without SQLAlchemy (schema first, then the rows by
    the SQLite writer process). Killed at any moment, the file holds none of the rows or all of
    them; what a kill leaves (no file, an empty file, the schema alone) takes the next import
    as an existing empty database does."""
    source = big_csv(tmp_path / "big.csv")
    moments = [(0.8, False), (0.05, True), (0.4, True), (120, False)]
    for i, (delay, when_writing) in enumerate(moments):
        path = tmp_path / f"new-{i}.db"
        command = cli("import", str(source), "--db", f"sqlite:///{path}")
        killed = kill_at(command, delay, when_writing=when_writing)
        count = 0
        if path.exists():
            con = sqlite3.connect(path, timeout=30)
            assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'task'").fetchone():
                assert con.execute("PRAGMA foreign_key_check").fetchall() == []
                count = con.execute("SELECT count(*) FROM task").fetchone()[0]
            con.close()
        assert count == (0 if killed else ROWS), (delay, when_writing, killed, count)
        if killed:  # what it left takes the import
            subprocess.run(command, check=True, capture_output=True)
            con = sqlite3.connect(path)
            assert con.execute("SELECT count(*) FROM task").fetchone() == (ROWS,)
            con.close()


@pytest.mark.parametrize(
    "held", [500, 0, None], ids=["into-a-seeded-file", "into-an-empty-file", "into-a-new-file"]
)
@pytest.mark.parametrize(("kill_at", "stored"), [("after-commit", True), ("before-commit", False)])
def test_a_writer_killed_around_its_commit_is_reported_as_what_the_database_holds(
    tmp_path, kill_at, stored, held
):
    """The SQLite writer process killed (SIGKILL, by itself: a test hook, no timing) just
    before or just after its COMMIT: the import says what the database then holds, never
    "nothing was stored" when everything was (issue 25 item 2). Into an empty file the writer
    has it to itself and writes through a rollback journal: killed there, the next connection
    rolls the journal back (or finds the commit), and taskkit's engine puts the file back in
    WAL mode. Into a new file the import made it (without SQLAlchemy) and committed the
    schema before the rows: the same holds there."""
    path = tmp_path / "commit.db"
    url = f"sqlite:///{path}"
    if held:
        seed = cli("seed", "--tasks", str(held), "--db", url)
        subprocess.run(seed, check=True, capture_output=True)
    elif held == 0:
        init = [sys.executable, "-m", "taskkit", "init", "--db", url]
        subprocess.run(init, check=True, capture_output=True)
    source = big_csv(tmp_path / "big.csv")
    done = subprocess.run(
        cli("import", str(source), "--db", url),
        capture_output=True,
        text=True,
        env={**os.environ, KILL_AT_VARIABLE: kill_at},
    )
    held = held or 0  # a new file: the import made it, and the schema, before the rows
    con = sqlite3.connect(path, timeout=30)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    count = con.execute("SELECT count(*) FROM task").fetchone()[0]
    con.close()
    assert done.returncode == 1
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message, message
    assert "killed by signal 9" in message
    if stored:
        assert count == held + ROWS
        assert "just after its COMMIT: the write was stored, all of it" in message
        assert f"{ROWS:,} task" in message
        assert "nothing was stored" not in message
    else:
        assert count == held
        assert "before its COMMIT took effect: nothing was stored" in message
    assert not Path(f"{path}-journal").exists()
    assert asyncio.run(tasks_through_taskkit(url)) == count
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    con.close()


async def tasks_through_taskkit(url: str) -> int:
    engine = taskkit.connect(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM task"))).scalar_one()
    finally:
        await engine.dispose()


def postgres_counts(url: str) -> tuple[int, int, int]:
    import asyncio

    async def go() -> tuple[int, int, int]:
        engine = taskkit.connect(url)
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM task), "
                        "(SELECT count(*) FROM taskworkerlink), "
                        "(SELECT count(*) FROM pg_stat_activity "
                        "WHERE state = 'idle in transaction')"
                    )
                )
            ).one()
        await engine.dispose()
        return tuple(row)

    return asyncio.run(go())


@pytest.mark.postgres
def test_seed_and_import_killed_on_postgres_roll_back(tmp_path):
    url = postgres_url()
    import asyncio

    from tests.conftest import reset_postgres

    async def reset() -> None:
        engine = taskkit.connect(url)
        await reset_postgres(engine)
        await engine.dispose()

    asyncio.run(reset())
    subprocess.run(cli("seed", "--tasks", "300", "--db", url), check=True, capture_output=True)
    tasks, links, _ = postgres_counts(url)
    for delay in (1.0, 2.5):
        kill_at(cli("seed", "--tasks", "400000", "--reset", "--db", url), delay)
        time.sleep(0.5)  # the server notices the dropped connection and rolls back
        assert postgres_counts(url)[:2] == (tasks, links)
    source = big_csv(tmp_path / "big.csv")
    for delay in (1.0, 2.5, 120):
        kill_at(cli("import", str(source), "--db", url), delay)
        time.sleep(0.5)
        now, _, _ = postgres_counts(url)
        assert now - tasks in (0, ROWS), now
        tasks = now
    assert tasks == 300 + ROWS


# --- issue 13: the real cause, one line, no traceback ----------------------------------------


def _limit_file_size(limit: int):
    def apply() -> None:
        # A file-size limit makes every write past `limit` bytes fail, as a full disk does
        # (ignored SIGXFSZ: the write returns an error instead of killing the process).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("tasks", [300_000, 20_000], ids=["adbc-writer", "engine"])
def test_a_seed_that_runs_out_of_space_reports_that_not_the_rollback(tmp_path, tasks):
    path = tmp_path / "full.db"
    url = f"sqlite:///{path}"
    subprocess.run(cli("init", "--db", url)[:-1], check=True, capture_output=True)
    before = path.read_bytes()
    done = subprocess.run(
        cli("seed", "--tasks", str(tasks), "--db", url),
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size(1_500_001),
    )
    assert done.returncode == 1
    assert "cannot rollback" not in done.stderr
    assert "Traceback" not in done.stderr
    assert "nothing was stored" in done.stderr
    assert "disk I/O error" in done.stderr or "database or disk is full" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("SELECT count(*) FROM task").fetchone() == (0,)
    con.close()
    assert before


@pytest.fixture
def small_filesystem(tmp_path):
    """A 12 MiB tmpfs: a disk that really fills up (needs the right to mount)."""
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_seed_that_fills_the_disk_says_the_disk_is_full(small_filesystem):
    url = f"sqlite:///{small_filesystem / 'full.db'}"
    subprocess.run(cli("init", "--db", url)[:-1], check=True, capture_output=True)
    done = subprocess.run(
        cli("seed", "--tasks", "300000", "--db", url), capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "Error: the database refused the write, nothing was stored: "
        "INTERNAL: failed to execute: database or disk is full"
    )


def test_ctrl_c_during_seed_prints_aborted_and_no_traceback(tmp_path):
    path = tmp_path / "interrupted.db"
    child = subprocess.Popen(
        cli("seed", "--tasks", "1000000", "--db", f"sqlite:///{path}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    # Rows are flowing (the writer answered and reports progress): the moment where an
    # unfinished progress task used to be left behind. Into this new file the writer has it
    # to itself and writes its pages there, not into a WAL.
    while child.poll() is None and not (path.exists() and path.stat().st_size > 4_000_000):
        assert time.monotonic() < deadline, "the seed never started writing"
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 1, stderr
    assert stderr.strip() == "Aborted!"
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM task").fetchone() == (0,)
    con.close()
