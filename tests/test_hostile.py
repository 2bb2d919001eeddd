"""Hostile input through the public entry points: a clear error or literal handling, and the
database unchanged (compared row by row before and after)."""

import asyncio
import codecs
import logging
import math

import pandas as pd
import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url

import taskkit
from taskkit import InvalidArgumentError, TaskkitError, count, paginate, select_tasks
from tests.conftest import postgres_url, reset_postgres
from tests.helpers import snapshot

INJECTIONS = [
    "'; DROP TABLE task; --",
    '" OR 1=1 --',
    "x' OR '1'='1",
    "%' OR title LIKE '%",
    "\\'; DELETE FROM project; --",
    "Robert'); DROP TABLE worker;--",
]
ODD_TEXT = [
    "emoji 🎉🚀",
    "e\u0301\u0301 combining",
    "עברית مرحبا right-to-left",
    "tab\tnew\nline",
    "%_\\",
]


@pytest.fixture
async def filled(engine):
    await taskkit.seed(engine, tasks=200, projects=3, workers=4, progress=False)
    return engine


@pytest.mark.parametrize("attack", INJECTIONS)
async def test_injection_in_search_is_matched_literally(filled, attack):
    before = await snapshot(filled)
    async with taskkit.session(filled) as s:
        assert await count(s, select_tasks(search=attack)) == 0
        page = await paginate(s, select_tasks(search=attack, order_by="title"))
        assert page.items == []
    assert await snapshot(filled) == before


@pytest.mark.parametrize("attack", [*INJECTIONS, "title desc", "title,id", "id; --", "-", ""])
async def test_injection_in_order_by_is_refused(filled, attack):
    with pytest.raises(InvalidArgumentError, match="order_by"):
        select_tasks(order_by=attack)


@pytest.mark.parametrize("name", INJECTIONS + ODD_TEXT)
async def test_injection_and_odd_text_in_names_round_trip_exactly(filled, name):
    async with taskkit.session(filled) as s:
        project = await taskkit.create_project(s, {"name": name})
        worker = await taskkit.create_worker(s, {"id": name[:64], "name": name})
        task = await taskkit.create_task(
            s, {"title": name, "description": name, "project_id": project.id}
        )
        await taskkit.assign(s, task.id, worker.id)
        s.expunge_all()
        again = await taskkit.get_task(s, task.id, with_project=True, with_workers=True)
        assert (again.title, again.description, again.project.name) == (name, name, name)
        assert [w.name for w in again.workers] == [name]
        found = await count(s, select_tasks(project=name))
        assert found == 1
    assert len((await snapshot(filled))["project"]) == 4  # nothing else touched


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda s: taskkit.create_task(s, {"title": "x" * 10_000_000}), ValidationError),
        (lambda s: taskkit.create_task(s, {"title": "nul\x00"}), ValidationError),
        (
            lambda s: taskkit.create_task(s, {"title": "ok", "description": "d" * 1_048_577}),
            ValidationError,
        ),
        (
            lambda s: taskkit.create_task(s, {"title": "ok", "project_id": math.nan}),
            ValidationError,
        ),
        (
            lambda s: taskkit.create_task(s, {"title": "ok", "project_id": math.inf}),
            ValidationError,
        ),
        (lambda s: taskkit.create_task(s, {"title": math.nan}), ValidationError),
        (lambda s: taskkit.create_task(s, None), InvalidArgumentError),
        (lambda s: taskkit.create_project(s, {"name": "a\x00b"}), ValidationError),
        (lambda s: taskkit.create_worker(s, {"id": "w\x00", "name": "x"}), ValidationError),
        (
            lambda s: taskkit.update_task(s, 1, {"status": "'; DROP TABLE task; --"}),
            ValidationError,
        ),
        (lambda s: taskkit.update_task(s, 1, {"priority": 1}), ValidationError),
        (lambda s: taskkit.get_task(s, math.nan), InvalidArgumentError),
        (lambda s: taskkit.get_task(s, "1; DROP TABLE task"), InvalidArgumentError),
        (lambda s: taskkit.assign(s, 1, "w\x00"), TaskkitError),
        (lambda s: paginate(s, select_tasks(), size=math.nan), InvalidArgumentError),
        (lambda s: paginate(s, select_tasks(), size="10"), InvalidArgumentError),
        (lambda s: paginate(s, select_tasks(), size=0), InvalidArgumentError),
        (lambda s: paginate(s, select_tasks(), size=10_001), InvalidArgumentError),
        (
            lambda s: paginate(s, select_tasks(), cursor="'; DROP TABLE task; --"),
            InvalidArgumentError,
        ),
        (lambda s: paginate(s, select_tasks(), cursor="A" * 100_000), InvalidArgumentError),
        (lambda s: count(s, select_tasks(search="a\x00")), InvalidArgumentError),
        (lambda s: taskkit.seed(s.bind, tasks=math.inf, progress=False), InvalidArgumentError),
        (lambda s: taskkit.seed(s.bind, tasks=-5, progress=False), InvalidArgumentError),
        (lambda s: taskkit.seed(s.bind, seed=math.nan, progress=False), InvalidArgumentError),
    ],
)
async def test_hostile_values_get_clear_errors_and_change_nothing(filled, call, error):
    before = await snapshot(filled)
    async with taskkit.session(filled) as s:
        with pytest.raises(error) as info:
            await call(s)
    assert str(info.value).strip()
    assert "Traceback" not in str(info.value)
    assert await snapshot(filled) == before


async def test_huge_search_text_is_a_clear_error(filled):
    with pytest.raises(InvalidArgumentError, match="search must be at most 10,000 characters"):
        select_tasks(search="x" * 1_000_000)
    async with taskkit.session(filled) as s:  # the longest allowed search still runs
        assert await count(s, select_tasks(search="x" * 10_000)) == 0


async def test_dataframe_with_nan_and_infinity_loads_nothing_and_says_why(filled):
    before = await snapshot(filled)
    frame = pd.DataFrame({"title": ["ok", math.nan, "fine"], "id": [1000, 1001, math.inf]})
    with pytest.raises(taskkit.LoadError) as info:
        await taskkit.load_tasks(filled, frame, progress=False)
    message = str(info.value)
    assert "title: String should have at least 1 character (got '') (1 row: 2)" in message
    assert "id: must be a positive integer (got 'inf') (1 row: 3)" in message
    assert await snapshot(filled) == before


# --- database URLs and passwords -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://user:s3cr3t-pw@127.0.0.1:1/db",
        "postgresql://user:s3cr3t-pw@127.0.0.1:1/db?sslmode=require",
        "postgres://user:s3cr3t-pw@localhost:1/db",
    ],
)
async def test_passwords_never_appear_in_errors_or_logs(url, caplog):
    caplog.set_level(logging.DEBUG)
    engine = taskkit.connect(url, echo=True)
    with pytest.raises(taskkit.DatabaseUnavailableError) as info:
        await taskkit._database.engine.ping(engine)
    await engine.dispose()
    assert "s3cr3t-pw" not in str(info.value)
    assert "s3cr3t-pw" not in caplog.text
    assert "s3cr3t-pw" not in repr(engine.url)


@pytest.mark.postgres
async def test_a_password_with_at_slash_and_percent_works():
    admin = taskkit.connect(postgres_url())
    password = "p@ss/w%rd:x"
    async with admin.begin() as conn:
        await conn.execute(text("DROP ROLE IF EXISTS taskkit_odd"))
        await conn.execute(text(f"CREATE ROLE taskkit_odd LOGIN PASSWORD '{password}'"))
    url = make_url(taskkit.database_url(postgres_url())).set(
        username="taskkit_odd", password=password
    )
    rendered = url.render_as_string(hide_password=False)
    assert "p%40ss%2Fw%25rd" in rendered
    engine = taskkit.connect(rendered)
    try:
        await taskkit._database.engine.ping(engine)
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text("DROP ROLE taskkit_odd"))
        await admin.dispose()


# --- connections and event loops -------------------------------------------------------------


async def test_a_thousand_helper_calls_leave_no_connection_checked_out(engine, backend):
    if backend == "sqlite-memory":
        pytest.skip("in-memory SQLite shares one connection (StaticPool): nothing to check out")
    async with taskkit.session(engine) as s:
        task = await taskkit.create_task(s, {"title": "t"})
        for i in range(250):
            await taskkit.get_task(s, task.id)
            await taskkit.update_task(s, task.id, {"title": f"t{i}"})
            await count(s, select_tasks())
            await paginate(s, select_tasks(), size=5)
        assert engine.pool.checkedout() == 0


@pytest.mark.postgres
async def test_pg_stat_activity_returns_to_where_it_started():
    admin = taskkit.connect(postgres_url(), poolclass=__import__("sqlalchemy").pool.NullPool)
    database = make_url(taskkit.database_url(postgres_url())).database

    async def sessions() -> set[int]:
        # Server process ids, not a count: a connection an earlier test left to the garbage
        # collector may close while this one runs, and must not be taken for ours. Client
        # connections only: an autovacuum worker shows here too, under the database it
        # vacuums, and came and went with the rows this test writes (a failure in CI).
        async with admin.connect() as conn:
            rows = await conn.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = :d"
                    " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                ),
                {"d": database},
            )
            return set(rows)

    start = await sessions()
    engine = taskkit.connect(postgres_url())
    await reset_postgres(engine)
    async with taskkit.session(engine) as s:
        task = await taskkit.create_task(s, {"title": "t"})
        for _ in range(500):
            await taskkit.get_task(s, task.id)
            await count(s, select_tasks())
    assert engine.pool.checkedout() == 0
    await engine.dispose()
    assert await sessions() - start == set()
    await admin.dispose()


@pytest.mark.postgres
def test_the_api_works_from_two_successive_event_loops(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", postgres_url())

    async def once() -> int:
        agen = taskkit.get_session()
        s = await anext(agen)
        try:
            return await count(s, select_tasks())
        finally:
            await agen.aclose()
            await taskkit._database.engine.dispose_default_engines()

    assert asyncio.run(once()) == asyncio.run(once())


# --- hostile files through `taskkit import` and load_tasks -----------------------------------


def _zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sheet.csv", "title\nx\n")
    return buffer.getvalue()


HOSTILE_FILES = {  # name -> (content, what the one-line message says)
    "deep.json": (b"[" * 5_000 + b"]" * 5_000, "nested too deeply"),
    "deeper.json": (b'{"cards": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "nested too deeply"),
    "surrogate.json": (b'[{"title": "ok"}, {"title": "\\ud800"}]', "row 2: title: '\\ud800'"),
    "million-columns.csv": (
        (",".join(f"c{i}" for i in range(1_000_000)) + "\nx\n").encode(),
        "has 1,000,000 columns",
    ),
    "unclosed-quote.csv": (b'title,description\nx,"abc\n', "row 1 (line 2) opens a quoted value"),
    "bad-utf16.csv": (
        codecs.BOM_UTF16_LE + "title\nok\n".encode("utf-16-le") + b"\x00\xd8",
        "not UTF-16LE text (line 3, byte 20)",
    ),
    "random.bin": (bytes(range(256)) * 20, "it is not text"),
    "workbook.csv": (_zip(), "is a ZIP archive (an Excel .xlsx workbook is one)"),
    "string.json": (b'"just text"', "it holds a JSON string"),
    "null.json": (b"null", "it holds a JSON null"),
    "numbers.json": (b"[1, 2, 3]", "expected a JSON list of objects"),
    "empty-list.json": (b"[]", "holds an empty JSON list"),
    "truncated.json": (b'[{"title": "x"', "is not valid JSON: Expecting ',' delimiter"),
    "bom-only.csv": (codecs.BOM_UTF8, "has no header line"),
    "header-only-no-newline.csv": (b"title", "no rows to load"),
    "no-line-break.csv": (b"x" * (17 << 20), "its first line is over 16 MiB"),
    "trello-lists-null.json": (b'{"cards": [], "lists": null}', "'lists' is a list of objects"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_hostile_files_are_one_line_from_the_cli_and_create_nothing(tmp_path, name):
    from click.testing import CliRunner

    from taskkit import cli

    content, said = HOSTILE_FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    db = tmp_path / "new.db"
    result = CliRunner().invoke(cli, ["import", str(path), "--db", f"sqlite:///{db}"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and said in lines[0], result.output
    assert not db.exists()


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
async def test_hostile_files_are_a_load_error_from_the_api(tmp_path, name):
    content, said = HOSTILE_FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        await taskkit.create_db_and_tables(engine)
        before = await snapshot(engine)
        with pytest.raises(taskkit.LoadError) as info:
            await taskkit.load_tasks(engine, path, progress=False)
        assert said in str(info.value) and "\n" not in str(info.value)
        assert await snapshot(engine) == before
    finally:
        await engine.dispose()
