"""`taskkit import` into a SQLite file that does not exist yet: written with sqlite3 alone
(taskkit._new_sqlite_file), it must leave the same database as the engine's path."""

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

import taskkit._bulk as bulk
import taskkit._new_sqlite_file as new_sqlite_file
from taskkit import BulkWriteError, ProjectCreate, TaskCreate, WorkerCreate, cli, database_url
from taskkit._database.sqlite_file import plain_sqlite_path
from taskkit._importers.value_checks import ADAPTERS
from taskkit._new_sqlite_file import write_new_file
from taskkit._sqlite_child import bulk_write

IMPORTS = Path(__file__).parent / "fixtures" / "imports"
TABLES = (
    "task", "project", "worker", "label", "taskworkerlink", "task_label_link", "status_change",
    "alembic_version",
)  # fmt: skip


def import_(source: Path, url: str, *extra: str) -> str:
    result = CliRunner().invoke(cli, ["import", str(source), "--db", url, "--no-progress", *extra])
    assert result.exit_code in (0, 3), result.output
    return result.output


def contents(path: Path) -> dict[str, object]:
    con = sqlite3.connect(path)
    try:
        found: dict[str, object] = {
            name: con.execute(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall()
            if name != "alembic_version"
            else con.execute("SELECT * FROM alembic_version").fetchall()
            for name in TABLES
        }
        found["schema"] = con.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
        ).fetchall()
        found["settings"] = [
            con.execute(f"PRAGMA {p}").fetchone()[0] for p in ("journal_mode", "page_size")
        ]
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        con.close()
    return found


@pytest.mark.parametrize(
    "name",
    ["trello_actions.json", "real/github_rest_pocc.json", "real/jira_sprints_maarten.csv",
     "jira_spanish.csv", "real/linear_semperos.csv", "asana.csv"],
)  # fmt: skip
def test_a_new_file_holds_what_the_engines_path_writes(tmp_path, name):
    """The same rows, schema (at head), revision, page size and journal mode either way. The
    engine's path is taken for a URL with a query (?timeout=30), which the plain reading of
    SQLite URLs leaves to SQLAlchemy."""
    source = IMPORTS / name
    new, engine = tmp_path / "new.db", tmp_path / "engine.db"
    said_new = import_(source, f"sqlite:///{new}", "--on-error", "skip")
    said_engine = import_(source, f"sqlite:///{engine}?timeout=30", "--on-error", "skip")
    assert contents(new) == contents(engine)
    assert contents(new)["settings"] == ["wal", 16_384]
    assert said_new.endswith(f"into sqlite+aiosqlite:///{new}\n")

    def without_time(said: str) -> list[str]:
        return [line.split(" in ")[0] for line in said.splitlines()[:-1]]

    assert without_time(said_new) == without_time(said_engine)


@pytest.mark.parametrize("through_the_writer_process", [False, True])
def test_an_import_into_a_new_file_loads_no_sqlalchemy_sqlmodel_nor_models(
    tmp_path, through_the_writer_process
):
    """Half of a small import's start-up: they are not loaded at all, whether the rows go in
    one transaction with the schema or through the SQLite writer process (the test fails if
    any module of the path imports them again)."""
    path = tmp_path / "tasks.csv"
    path.write_text("title,status,workers\nx,pending,Ada\ny,completed,Sam\n", encoding="utf-8")
    heavy = ("sqlalchemy", "sqlmodel", "aiosqlite", "alembic", "taskkit._models")
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "import taskkit._new_sqlite_file as new\n"
        "from taskkit import cli\n"
        "used = []\n"
        "write_file = new.bulk_write.write_file\n"
        "new.bulk_write.write_file = lambda *a, **k: used.append(1) or write_file(*a, **k)\n"
        f"new.SQLITE_CHILD_MIN_ROWS = {1 if through_the_writer_process else 100_000}\n"
        f"result = CliRunner().invoke(cli, ['import', {str(path)!r}, "
        f"'--db', 'sqlite:///{tmp_path / 'new.db'}', '--no-progress'])\n"
        "assert result.exit_code == 0, result.output\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
        "print(bool(used))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["[]", str(through_the_writer_process)]
    con = sqlite3.connect(tmp_path / "new.db")
    assert con.execute("SELECT title FROM task ORDER BY id").fetchall() == [("x",), ("y",)]
    con.close()


def task_rows(*titles: str) -> pa.Table:
    at = pa.array([datetime(2026, 1, 1, tzinfo=UTC)] * len(titles), pa.timestamp("us", "UTC"))
    return pa.table(
        {"id": range(1, len(titles) + 1), "title": titles, "status": ["pending"] * len(titles),
         "priority": ["low"] * len(titles), "created_at": at, "updated_at": at}
    )  # fmt: skip


def stored_tasks(path: Path) -> int:
    """Task rows in ``path`` (0 when it has no task table): what a failed write left."""
    con = sqlite3.connect(path)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'task'").fetchone():
            return 0
        return con.execute("SELECT count(*) FROM task").fetchone()[0]
    finally:
        con.close()


def test_a_refused_write_stores_nothing_and_the_file_takes_the_next_import(tmp_path):
    """SQLite refuses a row (a blank title breaks its CHECK): one error, none of the rows, no
    journal left; the file stays (another process may have opened it) and the next import
    goes into it through the engine."""
    path = tmp_path / "new.db"
    batches = lambda existing: iter([("task", task_rows("ok", "  "))])  # noqa: E731
    with pytest.raises(BulkWriteError, match="nothing was stored: CHECK constraint failed"):
        write_new_file(path, batches)
    assert [p.name for p in tmp_path.iterdir()] == ["new.db"] and stored_tasks(path) == 0
    import_(IMPORTS / "asana.csv", f"sqlite:///{path}")
    assert stored_tasks(path) == 3


def test_a_batch_factory_that_refuses_stores_nothing(tmp_path):
    def batches(existing):
        yield "project", pa.table({"id": [1], "name": ["p"]})
        raise ValueError("refused halfway")

    with pytest.raises(ValueError, match="refused halfway"):
        write_new_file(tmp_path / "new.db", batches)
    con = sqlite3.connect(tmp_path / "new.db")
    assert con.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    con.close()


def test_a_file_that_exists_is_left_to_the_engine_untouched(tmp_path):
    path = tmp_path / "there.db"
    path.write_bytes(b"")
    assert write_new_file(path, lambda existing: iter(())) is None
    assert path.read_bytes() == b""


def test_ctrl_c_during_the_write_stores_none_of_it(tmp_path):
    """Ctrl-C (SIGINT) while the rows go in: "Aborted!", exit status 1, none of the rows. The
    write ran inside asyncio.run at first, which holds SIGINT back until the coroutine next
    waits: the whole write then committed before "Aborted!" was printed."""
    source = tmp_path / "tasks.csv"
    source.write_text("title\n" + "".join(f"task {i}\n" for i in range(3_000)), encoding="utf-8")
    db = tmp_path / "new.db"
    code = (
        "import os, signal\n"
        "import taskkit._importers.load as load\n"
        "from taskkit._cli import main\n"
        "batches = load.task_batches\n"
        "def interrupted(*args):\n"
        "    for i, batch in enumerate(batches(*args)):\n"
        "        yield batch\n"
        "        if i == 0:  # the tasks are in, their history not yet: Ctrl-C\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "load.task_batches = interrupted\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "import", str(source), "--db", f"sqlite:///{db}",
         "--no-progress"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and "Aborted!" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert stored_tasks(db) == 0


def test_many_rows_go_through_the_helper_process_into_the_same_database(tmp_path, monkeypatch):
    """From SQLITE_CHILD_MIN_ROWS task rows the SQLite helper process writes them (ADBC's bulk
    ingest), as the engine's path does: the same database either way."""
    monkeypatch.setattr(new_sqlite_file, "SQLITE_CHILD_MIN_ROWS", 2)
    monkeypatch.setattr(bulk, "SQLITE_CHILD_MIN_ROWS", 2)
    used = []
    write_file = bulk_write.write_file
    monkeypatch.setattr(
        bulk_write, "write_file", lambda *a, **k: used.append(1) or write_file(*a, **k)
    )
    source = IMPORTS / "real" / "jira_sprints_maarten.csv"
    new, engine = tmp_path / "new.db", tmp_path / "engine.db"
    import_(source, f"sqlite:///{new}")
    import_(source, f"sqlite:///{engine}?timeout=30")
    assert len(used) == 2
    assert contents(new) == contents(engine)
    assert contents(new)["settings"] == ["wal", 16_384]


def test_a_write_the_helper_process_refuses_stores_none_of_its_rows(tmp_path, monkeypatch):
    """Through the helper process the schema is committed first: a refused write leaves it,
    and none of the rows."""
    monkeypatch.setattr(new_sqlite_file, "SQLITE_CHILD_MIN_ROWS", 1)
    path = tmp_path / "new.db"
    batches = lambda existing: iter([("task", task_rows("ok", "  "))])  # noqa: E731
    with pytest.raises(BulkWriteError, match=r"nothing was stored.*CHECK constraint failed"):
        write_new_file(path, batches, total_rows=2)
    assert [p.name for p in tmp_path.iterdir()] == ["new.db"] and stored_tasks(path) == 0


@pytest.mark.parametrize(
    "url",
    ["sqlite:///a.db", "sqlite:////tmp/x y.db", "sqlite+aiosqlite:///data/t.db",
     "sqlite+pysqlite:///./a-b_c~.db", " sqlite:///a.db ", "sqlite:///~/a+b.db"],
)  # fmt: skip
def test_the_plain_reading_of_a_sqlite_url_is_sqlalchemys(url):
    path = plain_sqlite_path(url)
    assert path is not None and database_url(url) == f"sqlite+aiosqlite:///{path}"


@pytest.mark.parametrize(
    "url",
    ["sqlite://", "sqlite+aiosqlite://", "sqlite:///:memory:", "sqlite:///a.db?timeout=3",
     "sqlite:///a%20b.db", "sqlite:///a@b.db", "sqlite:///é.db", "sqlite://host/a.db",
     "postgresql://u:p@h/db", "sqlite:///"],
)  # fmt: skip
def test_any_other_url_is_left_to_sqlalchemy(url):
    assert plain_sqlite_path(url) is None


VALUES = {
    "title": ["ok", "", "   ", "x" * 512, "x" * 513, "a\x00b", "\ud800", 5],
    "description": ["text", "", None, "x" * 1_048_577, "a\x00b"],
    "status": ["pending", "completed", "done", "PENDING", None],
    "priority": ["low", "urgent", None],
    "key": ["HIVE-1", "", " ", "k" * 201, None],
    "resolution": ["done", "wont_do", "fixed", None],
    "kind": ["Bug", "", "k" * 101, None],
    "project": ["Apollo", "", " ", "p" * 100, "p" * 101],
    "worker": ["Ada", "", "w" * 101, "a\x00"],
}
MODELS = {"project": (ProjectCreate, "name", {}), "worker": (WorkerCreate, "name", {"id": "w"})}


@pytest.mark.parametrize("field", list(VALUES))
def test_the_import_checks_each_value_as_the_models_field_does(field):
    """The importer checks by taskkit._rules' types without loading the models: each accepts
    and refuses what the model's own field does."""
    model, name, base = MODELS.get(
        field, (TaskCreate, field, {"title": "t", "status": "completed"})
    )
    for value in VALUES[field]:
        try:
            model.model_validate({**base, name: value})
            by_model = True
        except ValidationError:
            by_model = False
        try:
            ADAPTERS[field].validate_python(value)
            by_rules = True
        except ValidationError:
            by_rules = False
        assert by_rules == by_model, (field, value)
