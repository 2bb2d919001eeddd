"""The command line: help, the commands that exist, and clear errors for bad input."""

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import taskkit
from taskkit import cli
from tests.conftest import postgres_url, reset_postgres

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def test_the_commands_run_from_python_inside_a_running_event_loop(tmp_path: Path):
    """taskkit.cli is public, to run from Python: in a notebook's cell an event loop is running,
    and each command failed with RuntimeError('asyncio.run() cannot be called from a running
    event loop'), printing nothing."""
    url = f"sqlite:///{tmp_path / 'cell.db'}"
    source = tmp_path / "tasks.csv"
    source.write_text("title,status\nwrite,pending\nship,completed\n", encoding="utf-8")

    async def cell() -> list[tuple[int, str]]:
        asyncio.get_running_loop()  # as in a notebook
        return [
            (result.exit_code, result.output)
            for result in (
                run("init", "--db", url),
                run("import", str(source), "--db", url, "--no-progress"),
                run("info", "--db", url),
            )
        ]

    (init, imported, info) = asyncio.run(cell())
    assert init[0] == 0 and imported[0] == 0, (init, imported)
    assert info[0] == 0 and "  task             2 rows" in info[1], info


def test_the_report_runs_from_python_inside_a_running_event_loop(tmp_path: Path):
    """The report starts event loops of its own (its preparation, the notebook's cells): in a
    notebook's cell it failed with RuntimeError('This event loop is already running')."""
    url = f"sqlite:///{tmp_path / 'cell.db'}"

    async def cell():
        asyncio.get_running_loop()  # as in a notebook
        seeded = run("seed", "--tasks", "60", "--no-progress", "--db", url)
        assert seeded.exit_code == 0, seeded.output
        return run("report", "--db", url, "--out", str(tmp_path / "out"))

    report = asyncio.run(cell())
    assert report.exit_code == 0, (report.output, report.exception)
    page = Path(report.stdout.strip().splitlines()[-1])
    assert page.parent == tmp_path / "out" and "60 tasks" in page.read_text(encoding="utf-8")


def test_help_lists_the_commands():
    result = run("--help")
    assert result.exit_code == 0
    for name in ("init", "info"):
        assert name in result.output


def test_python_dash_m_taskkit_works():
    done = subprocess.run(
        [sys.executable, "-m", "taskkit", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("taskkit, version ")


def test_init_then_info_on_a_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run("init", "--db", url).exit_code == 0
    result = run("info", "--db", url)
    assert result.exit_code == 0, result.output
    # Every taskkit table, the history and labels too (it listed four of the seven).
    shown = dict(line.split(None, 1) for line in result.output.splitlines()[1:])
    assert shown == {name: "0 rows" for name in SQLModel.metadata.tables}


def test_info_before_init_says_there_is_no_table(tmp_path):
    (tmp_path / "empty.db").touch()  # an empty file is an empty SQLite database
    result = run("info", "--db", f"sqlite:///{tmp_path / 'empty.db'}")
    assert "(no table)" in result.output


def test_info_reads_database_url_from_the_environment(tmp_path):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    run("init", "--db", url)
    result = run("info", env={"DATABASE_URL": url})
    assert str(tmp_path / "env.db") in result.output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root:hunter2@h/db", "unsupported database URL scheme 'mysql'"),
        ("postgresql://root:hunter2@127.0.0.1:9/db", "cannot connect to PostgreSQL database 'db'"),
        ("sqlite:////no/such/dir/x.db", "'/no/such/dir/x.db' does not exist"),
    ],
)
def test_bad_database_urls_exit_1_with_a_one_line_message(url, message):
    result = run("info", "--db", url)
    assert result.exit_code == 1
    assert message in result.output
    assert "hunter2" not in result.output
    assert "Traceback" not in result.output


@pytest.mark.postgres
def test_init_and_info_on_postgres():
    url = postgres_url()

    async def reset() -> None:
        engine = taskkit.connect(url)
        await reset_postgres(engine)
        await engine.dispose()

    asyncio.run(reset())
    assert run("init", "--db", url).exit_code == 0
    result = run("info", "--db", url)
    assert result.exit_code == 0
    assert "postgresql+asyncpg://postgres:***@" in result.output


# --- issue 13: reading creates nothing, writing only into taskkit's databases ----------------

READ_COMMANDS = [["info"], ["db", "current"], ["db", "check"]]
WRITE_COMMANDS = [
    ["init"],
    ["seed", "--tasks", "10"],
    ["import", "data/example_tasks.csv"],
    ["db", "upgrade"],
    ["db", "stamp", "head"],
]


@pytest.mark.parametrize(
    "command", [*READ_COMMANDS, ["db", "downgrade", "base", "--yes"]], ids=" ".join
)
def test_read_commands_on_a_missing_file_say_so_and_create_nothing(tmp_path, command):
    result = run(*command, "--db", f"sqlite:///{tmp_path / 'typo.db'}")
    assert result.exit_code == 1
    assert "typo.db' does not exist (nothing was created)" in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", READ_COMMANDS + WRITE_COMMANDS[:2], ids=" ".join)
def test_a_device_is_refused_and_gets_no_journal(command):
    journal = Path("/dev/null-journal")
    had_journal = journal.exists()
    result = run(*command, "--db", "sqlite:////dev/null")
    assert result.exit_code == 1
    assert "'/dev/null' is not a regular file" in result.output
    assert journal.exists() == had_journal


def users_own_database(path: Path) -> bytes:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE tasks (id INTEGER PRIMARY KEY, what TEXT)")
    con.execute("INSERT INTO tasks (what) VALUES ('mine')")
    con.commit()
    con.close()
    return path.read_bytes()


@pytest.mark.parametrize("command", WRITE_COMMANDS, ids=" ".join)
def test_write_commands_refuse_a_database_holding_other_tables(tmp_path, command, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = tmp_path / "mine.db"
    before = users_own_database(path)
    result = run(*command, "--db", f"sqlite:///{path}")
    assert result.exit_code == 1, result.output
    assert "is not taskkit's (it holds other tables: tasks;" in result.output
    assert "nothing was written" in result.output
    assert path.read_bytes() == before  # not even the journal mode changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.db"]


def test_read_commands_leave_a_users_database_as_it_was(tmp_path):
    path = tmp_path / "mine.db"
    before = users_own_database(path)
    result = run("info", "--db", f"sqlite:///{path}")
    assert result.exit_code == 0
    assert "  task             (no table)" in result.output
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.db"]


@pytest.mark.postgres
def test_write_commands_refuse_a_postgres_database_holding_other_tables():
    url = asyncio.run(_postgres_database_with_a_table_of_its_own())
    for command in WRITE_COMMANDS[:2]:
        result = run(*command, "--db", url)
        assert result.exit_code == 1, result.output
        assert "is not taskkit's (it holds other tables: tasks;" in result.output
    assert asyncio.run(_tables(url)) == ["tasks"]


async def _postgres_database_with_a_table_of_its_own() -> str:
    admin = taskkit.connect(postgres_url(), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text("DROP DATABASE IF EXISTS taskkit_foreign WITH (FORCE)"))
        await conn.execute(text("CREATE DATABASE taskkit_foreign"))
    await admin.dispose()
    url = make_url(taskkit.database_url(postgres_url())).set(database="taskkit_foreign")
    rendered = url.render_as_string(hide_password=False)
    engine = taskkit.connect(rendered)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE tasks (id serial PRIMARY KEY, what text)"))
    await engine.dispose()
    return rendered


async def _tables(url: str) -> list[str]:
    engine = taskkit.connect(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
    await engine.dispose()
    return sorted(names)


# --- issue 13: secrets, and one line instead of a traceback ----------------------------------


@pytest.mark.parametrize("name", ["password", "sslpassword", "passwd", "api_token"])
@pytest.mark.parametrize("through", ["--db", "DATABASE_URL"])
def test_a_secret_in_the_query_string_is_never_printed(name, through):
    url = f"postgresql://u@host/x?{name}=s3cr3t-value"
    if through == "--db":
        result = run("info", "--db", url)
    else:
        result = run("info", env={"DATABASE_URL": url})
    assert result.exit_code == 1
    assert f"{name}=***" in result.output
    assert "s3cr3t" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["info", "--db", "sqlite://data/taskkit.db"], "sqlite:///relative/path.db"),
        (["seed", "--db", "sqlite://data/taskkit.db"], "sqlite:////absolute/path.db"),
        (["info", "--db", "sqlite:///{tmp}"], "is a directory"),
        (["seed", "--db", "sqlite:///{tmp}"], "is a directory"),
        (["info", "--db", "postgresql://u:pw@h:notaport/db"], "could not be parsed"),
        (["info", "--db", "http://x"], "unsupported database URL scheme"),
        (["import", "{tmp}/missing.csv"], "does not exist"),
        (["import", "{tmp}"], "is a directory"),
    ],
)
def test_bad_values_are_one_line_without_a_traceback(tmp_path, args, message):
    done = subprocess.run(
        [sys.executable, "-m", "taskkit", *(a.format(tmp=tmp_path) for a in args)],
        capture_output=True,
        text=True,
    )
    assert done.returncode in (1, 2)
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert "Error:" in done.stderr


@pytest.mark.parametrize(
    ("rows", "code"), [("title,status\nx,pending\n", 0), ("title,status\nx,pending\ny,bogus\n", 3)]
)
def test_the_import_command_ends_with_its_exit_status_and_a_whole_database(tmp_path, rows, code):
    """`taskkit import` ends without Python's teardown once it is done: its exit status, its
    output and the database are as a normal exit leaves them."""
    path = tmp_path / "in.csv"
    path.write_text(rows, encoding="utf-8")
    db = tmp_path / "new.db"
    done = subprocess.run(
        [sys.executable, "-m", "taskkit", "import", str(path), "--db", f"sqlite:///{db}",
         "--on-error", "skip", "--no-progress"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == code, done.stderr
    assert "loaded 1 task (" in done.stdout and done.stdout.endswith(f"{db}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "new.db"]  # no -wal left
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("SELECT title FROM task").fetchall() == [("x",)]
    finally:
        con.close()


@pytest.mark.parametrize("command", ["import", "seed", "init"])
def test_a_database_file_that_cannot_be_made_is_one_line(tmp_path, monkeypatch, command):
    """`data` is a file where the default database's directory goes, or the path is a
    symbolic link into a directory that does not exist: one line naming the path and why, not
    SQLite's "unable to open database file" traceback."""
    source = tmp_path / "t.csv"
    source.write_text("title\nx\n", encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    (project / "data").write_text("not a directory", encoding="utf-8")
    (tmp_path / "link.db").symlink_to(tmp_path / "missing" / "x.db")
    args = {"import": ["import", str(source)], "seed": ["seed", "--tasks", "3"], "init": ["init"]}
    monkeypatch.chdir(project)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    extra = [] if command == "init" else ["--no-progress"]
    result = run(*args[command], *extra)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.output.strip() == (
        f"Error: cannot create SQLite database '{project / 'data' / 'taskkit.db'}': "
        f"'{project / 'data'}' exists and is not a directory"
    )
    result = run(*args[command], *extra, "--db", f"sqlite:///{tmp_path / 'link.db'}")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "it is a symbolic link to" in result.output and "cannot be created" in result.output
    assert not (tmp_path / "missing").exists()
