"""The database layer: URL normalization, per-connection SQLite settings, sessions."""

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import select

import taskkit
from taskkit import ConfigurationError, DatabaseUnavailableError, connect, database_url
from taskkit._database.engine import (
    create_sqlite_file,
    default_database_path,
    ping,
    postgres_connect_args,
    redact,
)
from tests.conftest import BACKENDS, postgres_url

NEON = (
    "postgresql://alex:AbC123dEf@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/dbname"
    "?sslmode=require&channel_binding=require"
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/x.db", "sqlite+aiosqlite:///data/x.db"),
        ("sqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("sqlite+pysqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("sqlite+aiosqlite://", "sqlite+aiosqlite://"),
        ("postgres://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql://u:p@h:5433/db", "postgresql+asyncpg://u:p@h:5433/db"),
        ("postgresql+asyncpg://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql+psycopg://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql+psycopg2://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql://u:p@h/db?sslmode=require", "postgresql+asyncpg://u:p@h/db?ssl=require"),
        (
            "postgresql://u:p@h/db?sslmode=verify-full",
            "postgresql+asyncpg://u:p@h/db?ssl=verify-full",
        ),
        (
            "postgresql://u:p@h/db?ssl=require&sslmode=disable",
            "postgresql+asyncpg://u:p@h/db?ssl=require",
        ),
        ("postgresql://u:p@h/db?channel_binding=require", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql://u:p@h/db?connect_timeout=10", "postgresql+asyncpg://u:p@h/db?timeout=10"),
        ("postgresql://u:p@h/db?gssencmode=disable&sslsni=1", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("  postgresql://u:p@h/db  ", "postgresql+asyncpg://u:p@h/db"),
        (
            NEON,
            "postgresql+asyncpg://alex:AbC123dEf@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech"
            "/dbname?ssl=require",
        ),
        ("postgresql://u:p%40ss%2Fw%25rd@h/db", "postgresql+asyncpg://u:p%40ss%2Fw%25rd@h/db"),
    ],
)
def test_database_url_normalizes(given, expected):
    assert database_url(given) == expected


def test_database_url_keeps_a_special_password_intact():
    url = make_url(database_url("postgresql://u:p%40ss%2Fw%25rd@h/db"))
    assert url.password == "p@ss/w%rd"


@pytest.mark.parametrize(
    "given",
    [
        "mysql://root:hunter2@localhost/db",
        "oracle://root:hunter2@h/db",
        "http://root:hunter2@example/db",
        "postgresql+pg8000://root:hunter2@h/db",
        "not a url at all hunter2",
        "://root:hunter2@",
    ],
)
def test_database_url_rejects_other_schemes_without_echoing_the_password(given):
    with pytest.raises(ConfigurationError) as info:
        database_url(given)
    message = str(info.value)
    assert "hunter2" not in message
    assert "postgresql://" in message and "sqlite" in message  # lists the supported forms


def test_database_url_rejects_unknown_postgres_parameters_listing_allowed_ones():
    with pytest.raises(ConfigurationError, match=r"bogus.*allowed: .*ssl") as info:
        database_url("postgresql://u:hunter2@h/db?bogus=1")
    assert "hunter2" not in str(info.value)


def test_database_url_rejects_non_strings():
    with pytest.raises(ConfigurationError, match="must be a string, got int"):
        database_url(42)  # type: ignore[arg-type]


def test_database_url_prefers_argument_then_environment_then_default(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url() == f"sqlite+aiosqlite:///{default_database_path()}"
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@h/db")
    assert database_url() == "postgresql+asyncpg://u:p@h/db"
    assert database_url("sqlite:///a.db") == "sqlite+aiosqlite:///a.db"
    monkeypatch.setenv("DATABASE_URL", "")
    assert database_url() == f"sqlite+aiosqlite:///{default_database_path()}"


def test_default_database_is_data_taskkit_db_of_the_project_from_any_directory(tmp_path):
    code = "import taskkit; print(taskkit.database_url())"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    root = Path(__file__).resolve().parent.parent

    def seen_from(cwd: Path) -> str:
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    # A checkout (or a user's project): its data/ folder, from the root or any folder below.
    folders = (root, root / "taskkit", root / "tests", root / "notebooks")
    inside = {seen_from(cwd) for cwd in folders}
    assert inside == {f"sqlite+aiosqlite:///{root / 'data' / 'taskkit.db'}"}
    # Outside any project: data/ under the current directory, never the installed package.
    outside = tmp_path / "somewhere"
    outside.mkdir()
    assert seen_from(outside) == f"sqlite+aiosqlite:///{outside / 'data' / 'taskkit.db'}"


def test_redact_hides_passwords():
    assert redact("x postgresql://u:hunter2@h/db y") == "x postgresql://u:***@h/db y"


def test_sqlite_file_in_a_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigurationError, match=r"directory .*missing.* does not exist"):
        connect(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")


async def test_sqlite_turns_foreign_keys_on_for_every_connection(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'fk.db'}")
    create_sqlite_file(engine)
    try:
        # Three pool connections open at once; deferred BEGIN so that they do not queue for
        # the write lock behind each other.
        readers = engine.execution_options(sqlite_begin="DEFERRED")
        conns = [await readers.connect() for _ in range(3)]
        values = [await c.scalar(text("PRAGMA foreign_keys")) for c in conns]
        for c in conns:
            await c.close()
    finally:
        await engine.dispose()
    assert values == [1, 1, 1]


async def test_sqlite_file_uses_wal_and_a_busy_timeout(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'wal.db'}")
    create_sqlite_file(engine)
    try:
        async with engine.connect() as conn:
            mode = await conn.scalar(text("PRAGMA journal_mode"))
            timeout = await conn.scalar(text("PRAGMA busy_timeout"))
    finally:
        await engine.dispose()
    assert (mode, timeout) == ("wal", 30_000)


async def test_a_new_sqlite_file_gets_16_kib_pages_and_one_with_pages_keeps_its_own(tmp_path):
    """Larger pages: a 1M-task seed 15 to 20% faster (sqlite_file.SQLITE_PAGE_SIZE). Only a file
    taskkit creates gets them: the page size of a file that has pages does not change."""
    old = tmp_path / "old.db"
    con = sqlite3.connect(old)
    con.execute("PRAGMA journal_mode=WAL")  # a file with its header written: 4 KiB pages
    con.close()
    sizes = []
    for path in (tmp_path / "new.db", old):
        engine = connect(f"sqlite:///{path}")
        await taskkit.create_db_and_tables(engine)
        await engine.dispose()
        con = sqlite3.connect(path)
        sizes.append(con.execute("PRAGMA page_size").fetchone()[0])
        con.close()
    assert sizes == [16_384, 4_096]


async def test_sqlite_in_memory_shares_one_database_between_sessions():
    engine = connect("sqlite+aiosqlite://")
    assert isinstance(engine.pool, StaticPool)
    await taskkit.create_db_and_tables(engine)
    async with taskkit.session(engine) as s:
        await taskkit.create_project(s, {"name": "shared"})
    async with taskkit.session(engine) as s:
        assert (await taskkit.get_project(s, 1)).name == "shared"
    await engine.dispose()


async def test_sqlite_read_then_write_transactions_begun_immediate_wait_instead_of_failing(
    tmp_path,
):
    # Two transactions each read, then write. With a deferred BEGIN (the default: readers take
    # no lock) the second writer fails at once, since its snapshot is stale: a one-line
    # WriteConflictError saying so. Begun IMMEDIATE, as that error advises, they wait.
    engine = connect(f"sqlite:///{tmp_path / 'locks.db'}")
    await taskkit.create_db_and_tables(engine)

    async def read_then_write(source, name: str) -> None:
        async with source.begin() as conn:
            await conn.execute(text("SELECT count(*) FROM project"))
            await asyncio.sleep(0.05)
            await conn.execute(text("INSERT INTO project (name) VALUES (:n)"), {"n": name})

    deferred = await asyncio.gather(
        *(read_then_write(engine, f"d{i}") for i in range(5)), return_exceptions=True
    )
    refused = [r for r in deferred if r is not None]
    assert refused and all(isinstance(r, taskkit.WriteConflictError) for r in refused)
    immediate = engine.execution_options(sqlite_begin="IMMEDIATE")
    await asyncio.gather(*(read_then_write(immediate, f"p{i}") for i in range(5)))
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM project WHERE name LIKE 'p%'")) == 5
    await engine.dispose()


async def test_session_keeps_objects_readable_after_commit(engine):
    async with taskkit.session(engine) as s:
        project = await taskkit.create_project(s, {"name": "Apollo"})
        await s.commit()
        assert project.name == "Apollo"  # no lazy refresh after commit


async def test_get_session_yields_a_session_on_the_default_database(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'dep.db'}")
    sqlite3.connect(tmp_path / "dep.db").close()
    agen = taskkit.get_session()
    s = await anext(agen)
    assert s.bind.url.database == str(tmp_path / "dep.db")
    await s.exec(text("SELECT 1"))  # type: ignore[call-overload]
    await agen.aclose()
    await taskkit._database.engine.dispose_default_engines()
    assert taskkit._database.engine._default_engines == {}


@pytest.mark.postgres
async def test_postgres_uses_asyncpg_with_a_bounded_pool():
    engine = connect(postgres_url())
    try:
        assert engine.url.drivername == "postgresql+asyncpg"
        assert (engine.pool.size(), engine.pool._max_overflow) == (5, 10)  # type: ignore[attr-defined]
        await ping(engine)
    finally:
        await engine.dispose()


def test_pooled_endpoints_get_no_statement_caches_and_unique_statement_names():
    url, args = postgres_connect_args(make_url(database_url(NEON)))
    assert dict(url.query) == {"ssl": "require"}
    assert (args["statement_cache_size"], args["prepared_statement_cache_size"]) == (0, 0)
    assert len({args["prepared_statement_name_func"]() for _ in range(3)}) == 3


def test_direct_endpoints_keep_statement_caches_and_get_numeric_timeouts():
    url, args = postgres_connect_args(
        make_url(database_url("postgresql://u:p@h/db?connect_timeout=3&command_timeout=60"))
    )
    assert dict(url.query) == {}
    assert args == {"timeout": 3.0, "command_timeout": 60.0}


def test_non_numeric_timeout_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="timeout must be a number, got 'soon'"):
        connect("postgresql://u:p@h/db?connect_timeout=soon")


@pytest.mark.postgres
async def test_postgres_wrong_password_is_a_clear_error_without_the_password():
    url = make_url(database_url(postgres_url())).set(password="definitely-wrong-pw")
    engine = connect(url)
    try:
        with pytest.raises(DatabaseUnavailableError) as info:
            await ping(engine)
    finally:
        await engine.dispose()
    message = str(info.value)
    assert "definitely-wrong-pw" not in message
    assert url.database in message and "127.0.0.1" in message
    assert "password authentication failed" in message


async def test_unreachable_server_fails_fast_naming_host_and_database():
    engine = connect("postgresql://u:hunter2@127.0.0.1:9/nowhere")
    try:
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(DatabaseUnavailableError) as info:
            await ping(engine)
        assert loop.time() - start < 10
    finally:
        await engine.dispose()
    assert "'nowhere' on 127.0.0.1:9" in str(info.value)
    assert "hunter2" not in str(info.value)


async def test_every_entry_point_reports_an_unreachable_server_clearly():
    engine = connect("postgresql://u:hunter2@127.0.0.1:9/nowhere")
    try:
        async with taskkit.session(engine) as s:
            for call in (
                lambda: taskkit.create_task(s, {"title": "x"}),
                lambda: taskkit.get_task(s, 1),
                lambda: taskkit.count(s, taskkit.select_tasks()),
                lambda: taskkit.paginate(s, taskkit.select_tasks()),
                lambda: taskkit.to_dataframe(engine, taskkit.select_tasks()),
                lambda: taskkit.seed(engine, tasks=10, progress=False),
                lambda: taskkit.ensure_schema(engine),
            ):
                with pytest.raises(DatabaseUnavailableError) as info:
                    await call()
                assert "'nowhere' on 127.0.0.1:9" in str(info.value)
                assert "hunter2" not in str(info.value)
    finally:
        await engine.dispose()


# --- issue 13: secrets in URLs, which database, files that are not databases -----------------

SECRET_URLS = [
    "postgresql://u@host/x?password=s3cr3t-value",
    "postgresql://u@host/x?sslpassword=s3cr3t-value",
    "postgresql://u@host/x?passwd=s3cr3t-value",
    "postgresql://u@host/x?PASSWORD=s3cr3t-value&ssl=require",
    "postgresql://u@host/x?ssl=require&api_token=s3cr3t-value",
    "postgresql://u@host/x?client_secret=s3cr3t-value",
    "postgresql://u@host/x?access_key=s3cr3t-value",
    "postgresql://u:s3cr3t-value@host/x?password=s3cr3t-value",
    "postgres://u:s3cr3t%40value@host/x?bogus=1",
]


@pytest.mark.parametrize("url", SECRET_URLS)
def test_redact_hides_secrets_in_userinfo_and_query_parameters(url):
    shown = redact(f"error in {url!r}: something")
    assert "s3cr3t" not in shown
    assert "host/x" in shown and "***" in shown


def test_redact_hides_a_libpq_keyword_password_and_the_urls_secrets_standing_alone():
    assert redact("host=h password=s3cr3t-value user=u") == "host=h password=*** user=u"
    url = "postgresql://u@h/x?sslpassword=s3cr3t-value"
    assert redact("the server said: s3cr3t-value is wrong", url) == "the server said: *** is wrong"


@pytest.mark.parametrize("url", SECRET_URLS)
def test_url_errors_never_show_a_secret_from_the_query_string(url):
    with pytest.raises(ConfigurationError) as info:
        database_url(url)
    assert "s3cr3t" not in str(info.value)
    assert "unsupported PostgreSQL URL parameter" in str(info.value)


def test_describe_database_is_the_one_which_database_text():
    assert (
        taskkit._database.engine.describe_database("sqlite+aiosqlite:///a/b.db")
        == "SQLite file 'a/b.db'"
    )
    assert (
        taskkit._database.engine.describe_database("sqlite+aiosqlite://")
        == "SQLite database ':memory:'"
    )
    assert (
        taskkit._database.engine.describe_database("postgresql+asyncpg://u:pw@h:6543/d")
        == "PostgreSQL database 'd' on h:6543"
    )


async def test_connection_and_migration_errors_name_the_database_the_same_way(tmp_path):
    where = taskkit._database.engine.describe_database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    engine = connect(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with pytest.raises(taskkit.MigrationError) as info:
            await taskkit.downgrade_schema(engine, "base")
    finally:
        await engine.dispose()
    assert where in str(info.value)
    unreachable = connect("postgresql://u:pw@127.0.0.1:9/d")
    with pytest.raises(DatabaseUnavailableError) as down:
        await ping(unreachable)
    await unreachable.dispose()
    assert str(down.value).startswith(
        "cannot connect to "
        + taskkit._database.engine.describe_database("postgresql://u@127.0.0.1:9/d")
    )


@pytest.mark.parametrize(
    "url", ["sqlite://data/taskkit.db", "sqlite+aiosqlite://data/x.db", "sqlite://u:pw@h/x.db"]
)
def test_a_sqlite_url_with_two_slashes_is_one_line_showing_the_forms(url):
    with pytest.raises(ConfigurationError) as info:
        connect(url)
    message = str(info.value)
    assert "\n" not in message and "pw" not in message
    assert "sqlite:///relative/path.db" in message and "sqlite:////absolute/path.db" in message


def test_sqlite_url_parameters_sqlalchemy_would_ignore_are_refused():
    with pytest.raises(ConfigurationError, match=r"unsupported SQLite URL parameter\(s\) mode"):
        database_url("sqlite:///x.db?mode=ro")
    assert database_url("sqlite:///x.db?mode=ro&uri=true").endswith("?mode=ro&uri=true")


@pytest.mark.parametrize("kind", ["device", "directory"])
def test_a_sqlite_path_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    path = "/dev/null" if kind == "device" else str(tmp_path)
    with pytest.raises(ConfigurationError, match=r"not a regular file|is a directory"):
        connect(f"sqlite:///{path}")


# --- issue 13: a query on a database without taskkit's tables --------------------------------


def _empty_file(path: Path) -> Path:
    """An empty SQLite database (a file SQLite made, holding no table)."""
    sqlite3.connect(path).close()
    return path


async def _bare_postgres_url() -> str:
    """A new, empty PostgreSQL database on the test server (dropped and made again)."""
    admin = connect(postgres_url(), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text("DROP DATABASE IF EXISTS taskkit_bare WITH (FORCE)"))
            await conn.execute(text("CREATE DATABASE taskkit_bare"))
    finally:
        await admin.dispose()
    return (
        make_url(database_url(postgres_url()))
        .set(database="taskkit_bare")
        .render_as_string(hide_password=False)
    )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_query_without_taskkit_tables_says_so_in_one_line(backend, tmp_path):
    from taskkit import count, select_tasks

    url = {
        "sqlite-memory": "sqlite://",
        "sqlite-file": f"sqlite:///{_empty_file(tmp_path / 'bare.db')}",
    }.get(backend) or await _bare_postgres_url()
    engine = connect(url)
    try:
        calls = [
            lambda s: s.exec(select_tasks()),
            lambda s: count(s, select_tasks(status="pending")),
            lambda s: taskkit.paginate(s, select_tasks()),
            lambda s: taskkit.to_dataframe(engine, select_tasks()),
        ]
        for call in calls:
            async with taskkit.session(engine) as s:
                with pytest.raises(taskkit.MissingTablesError) as info:
                    await call(s)
            message = str(info.value)
            assert "\n" not in message and "SELECT" not in message
            assert "has no table 'task'" in message
            assert "taskkit init" in message and "create_db_and_tables" in message
    finally:
        await engine.dispose()


async def test_a_connection_that_cannot_switch_a_new_file_to_wal_now_still_connects(tmp_path):
    """Two connections opening a new file at once both switch it to WAL; SQLite refuses one at
    once ("database is locked", no waiting where waiting could deadlock). That one connects
    anyway: the other makes the switch, which the file keeps."""
    path = tmp_path / "new.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE task (id INTEGER)")  # rollback-journal mode, as SQLite makes it
    other.execute("BEGIN IMMEDIATE")  # a writer holds the file: the switch cannot happen now
    engine = taskkit.connect(f"sqlite:///{path}")
    try:
        await taskkit._database.engine.ping(engine)
        other.execute("ROLLBACK")
        await engine.dispose()
        engine = taskkit.connect(f"sqlite:///{path}")
        await taskkit._database.engine.ping(engine)  # the next connection makes the switch
        fresh = sqlite3.connect(path)  # reads the mode the file keeps
        assert fresh.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        fresh.close()
    finally:
        other.close()
        await engine.dispose()


# --- issue 28: connecting, and a failed read, create nothing ----------------------------------


async def test_connect_and_a_failed_read_create_no_file_or_directory(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'mine'\n")
    monkeypatch.chdir(project)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    engine = taskkit.connect()  # the default database: data/taskkit.db of this project
    try:
        assert not (project / "data").exists()  # connecting made no directory
        with pytest.raises(DatabaseUnavailableError) as refused:
            async with taskkit.session(engine) as s:
                await s.exec(select(taskkit.Task))
        assert "does not exist (nothing was created)" in str(refused.value)
        assert "taskkit init" in str(refused.value)
        assert not (project / "data").exists()
        # The first write makes both, as the message says.
        await taskkit.ensure_schema(engine)
        assert (project / "data" / "taskkit.db").is_file()
    finally:
        await engine.dispose()
