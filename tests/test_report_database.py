"""`taskkit report --db URL` never writes into a database that is not taskkit's.

Only the default database is filled when empty; any other is filled only with --seed; a
database holding tables of its own is refused, byte for byte unchanged. None of these runs the
report notebook: the refusals come first.
"""

import asyncio
import sqlite3
from contextlib import closing

from click.testing import CliRunner

import taskkit
from taskkit._cli import cli


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
