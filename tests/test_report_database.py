"""`taskkit report --db URL` never writes into a database that is not taskkit's.

Only the default database is filled when empty; any other is filled only with --seed; a
database holding tables of its own is refused, byte for byte unchanged. None of these runs the
report notebook: the refusals come first.
"""

import asyncio
import sqlite3
import subprocess
import sys
from contextlib import closing

from click.testing import CliRunner

import taskkit
from taskkit import cli


def report(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["report", *args])
    return result.exit_code, result.output


def users_own_database(path) -> bytes:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE tasks (id INTEGER PRIMARY KEY, what TEXT)")
        conn.execute("INSERT INTO tasks (what) VALUES ('mine')")
        conn.commit()
    return path.read_bytes()


def test_a_database_holding_other_tables_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "mine.db"
    before = users_own_database(path)
    for extra in ([], ["--seed"]):
        code, output = report("--db", f"sqlite:///{path}", "--out", str(tmp_path / "o"), *extra)
        assert code == 1, output
        assert "holds tables that are not taskkit's (tasks)" in output
        assert "nothing was written" in output and "Traceback" not in output
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.db", "o"]  # no -wal, no -journal


def test_a_missing_sqlite_file_is_not_created_without_seed(tmp_path):
    path = tmp_path / "typo.db"
    code, output = report("--db", f"sqlite:///{path}")
    assert code == 1 and f"there is no database at '{path}' (nothing was created)" in output
    assert "--seed" in output
    assert not path.exists() and not list(tmp_path.iterdir())


def test_an_empty_database_is_not_seeded_without_seed(tmp_path):
    path = tmp_path / "empty.db"
    asyncio.run(make_schema(f"sqlite:///{path}"))
    before = path.read_bytes()
    code, output = report("--db", f"sqlite:///{path}", "--out", str(tmp_path / "o"))
    assert code == 1 and "has no tasks to report on; nothing was written" in output
    assert "`taskkit report --seed` fills it" in output
    assert path.read_bytes() == before


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("not a database")
    code, output = report("--db", f"sqlite:///{path}", "--seed")
    assert code == 1 and "cannot read SQLite file" in output and "Traceback" not in output
    assert path.read_text() == "not a database"


async def make_schema(url: str) -> None:
    engine = taskkit.connect(url)
    await taskkit.ensure_schema(engine)
    await engine.dispose()


KILLED_WRITER = """
import os, sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA journal_mode=DELETE")  # as taskkit's bulk writer into an empty file
con.execute("PRAGMA cache_size=1")  # pages reach the file before the commit
con.execute("BEGIN IMMEDIATE")
con.executemany("INSERT INTO label (name) VALUES (?)", [(f"label {i}",) for i in range(5000)])
os.kill(os.getpid(), 9)
"""


def test_a_write_killed_before_its_commit_is_rolled_back_before_the_report_reads(tmp_path):
    """A bulk write into an empty file goes through a rollback journal; killed with the
    process that started it, it leaves the journal behind. The report's read-only look could
    not read past it ("attempt to write a readonly database"); it rolls it back as any SQLite
    reader would, and finds the file as it was: empty."""
    path = tmp_path / "killed.db"
    asyncio.run(make_schema(f"sqlite:///{path}"))
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path)], check=False)
    assert killed.returncode == -9
    assert (tmp_path / "killed.db-journal").stat().st_size > 0
    code, output = report("--db", f"sqlite:///{path}", "--out", str(tmp_path / "o"))
    assert code == 1 and "has no tasks to report on; nothing was written" in output, output
    assert not (tmp_path / "killed.db-journal").exists()
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT count(*) FROM label").fetchone() == (0,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
