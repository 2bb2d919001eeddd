"""taskkit behind a user's own PgBouncer in transaction mode, on a host without ``-pooler``.

The server tests run through the PgBouncer named by ``TASKKIT_TEST_PGBOUNCER_URL`` (``.ci/run``
starts one with ``.ci/pgbouncer``, in front of the ``.ci/postgres`` server, pool_mode =
transaction). Without the variable they skip with the reason, unless
``TASKKIT_REQUIRE_PGBOUNCER=1`` (set in CI), where a missing pooler is an error.

In transaction mode a server connection passes from client to client between transactions,
so a prepared statement one client left behind is met by the next. With ``?pgbouncer=true``
taskkit neither caches nor reuses statement names, and every path (CLI, migrations, COPY,
paging, the ADBC DataFrame reader, concurrent sessions) must work; without it, the clash must
be one clear error that names the likely cause and the switch.
"""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

import taskkit
from taskkit import (
    ConfigurationError,
    Task,
    connect,
    database_url,
    pages,
    paginate,
    select_tasks,
    to_dataframe,
)
from taskkit._database.engine import postgres_connect_args
from tests.test_concurrency import run_load

PGBOUNCER_URL = os.environ.get("TASKKIT_TEST_PGBOUNCER_URL", "")
REQUIRE_PGBOUNCER = os.environ.get("TASKKIT_REQUIRE_PGBOUNCER") == "1"
EXAMPLE_CSV = Path(__file__).resolve().parent.parent / "data" / "example_tasks.csv"


def pgbouncer_url(switch: str | None = "true") -> str:
    """The pooler's URL (with ``pgbouncer=<switch>`` unless None), or skip (fail in CI)."""
    if not PGBOUNCER_URL:
        if REQUIRE_PGBOUNCER:
            pytest.fail("TASKKIT_REQUIRE_PGBOUNCER=1 but TASKKIT_TEST_PGBOUNCER_URL is not set")
        pytest.skip(
            "PgBouncer tests need TASKKIT_TEST_PGBOUNCER_URL; start a throwaway one in front "
            'of the test server with: eval "$(bash .ci/pgbouncer start)"'
        )
    url = make_url(PGBOUNCER_URL)
    # The case under test: nothing in the name tells taskkit that this is a pooler.
    assert "-pooler" not in (url.host or "")
    if switch is not None:
        url = url.update_query_dict({"pgbouncer": switch})
    return url.render_as_string(hide_password=False)


async def empty_schema(engine) -> None:
    """Drop every table: the tests below build the schema through the pooler."""
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture
async def pooled() -> AsyncIterator[AsyncEngine]:
    """An engine through PgBouncer with ``?pgbouncer=true``, on a schema built by migrations."""
    engine = connect(pgbouncer_url())
    await empty_schema(engine)
    await taskkit.ensure_schema(engine)
    yield engine
    await engine.dispose()


def cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    """One taskkit command in its own process, as a user runs them one after another (asyncpg
    numbers prepared statements per process: each process starts again from 1)."""
    return subprocess.run(
        [sys.executable, "-m", "taskkit", *args, "--db", url],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


# ---------------------------------------------------------------------------------------------
# The switch in the URL (no server needed).


def test_the_switch_stays_in_the_normalized_url():
    url = database_url("postgres://u:p@db.example.com/x?sslmode=require&pgbouncer=true")
    assert dict(make_url(url).query) == {"ssl": "require", "pgbouncer": "true"}


@pytest.mark.parametrize("value", ["true", "TRUE", "True"])
def test_the_switch_turns_statement_caches_off_and_names_unique(value):
    url, args = postgres_connect_args(
        make_url(database_url(f"postgresql://u:p@db.example.com/x?pgbouncer={value}"))
    )
    assert "pgbouncer" not in url.query  # asyncpg would refuse it
    assert (args["statement_cache_size"], args["prepared_statement_cache_size"]) == (0, 0)
    assert len({args["prepared_statement_name_func"]() for _ in range(3)}) == 3


def test_false_keeps_the_caches_even_on_a_pooler_host():
    url, args = postgres_connect_args(
        make_url(database_url("postgresql://u:p@ep-x-123-pooler.example.com/x?pgbouncer=false"))
    )
    assert dict(url.query) == {}
    assert "statement_cache_size" not in args


def test_without_the_switch_a_host_without_pooler_keeps_the_caches():
    _, args = postgres_connect_args(make_url(database_url("postgresql://u:p@10.0.0.5:6432/x")))
    assert "statement_cache_size" not in args


@pytest.mark.parametrize("value", ["yes", "1", "transaction", "on"])
def test_a_bad_switch_value_is_a_clear_error_without_the_password(value):
    with pytest.raises(ConfigurationError) as caught:
        connect(f"postgresql://u:hunter2@h/x?pgbouncer={value}")
    message = str(caught.value)
    assert "pgbouncer must be true" in message and repr(value) in message
    assert "hunter2" not in message


def test_an_unknown_parameter_error_lists_the_switch():
    with pytest.raises(ConfigurationError, match=r"allowed: .*pgbouncer"):
        database_url("postgresql://u@h/x?pg_bouncer=true")


# ---------------------------------------------------------------------------------------------
# Without the switch: one clear error naming the cause and the switch.


@pytest.mark.postgres
def test_without_the_switch_commands_fail_with_the_cause_and_the_switch():
    url = pgbouncer_url(switch=None)
    done = [cli("info", url=url) for _ in range(2)]
    failed = [d for d in done if d.returncode != 0]
    # The first command may pass; those after it meet its prepared statements.
    assert failed, "expected prepared-statement clashes through PgBouncer without the switch"
    for d in failed:
        assert d.returncode == 1
        lines = d.stderr.strip().splitlines()
        assert len(lines) == 1, d.stderr  # one line, no traceback
        assert "transaction mode" in lines[0] and "?pgbouncer=true" in lines[0]
        assert "prepared statement" in lines[0]
        assert "cannot connect" not in lines[0]  # the connection is not to blame
        assert "throwaway-ci" not in d.stderr + d.stdout


@pytest.mark.postgres
async def test_without_the_switch_concurrent_sessions_fail_with_the_cause_and_the_switch():
    # In one process: a statement asyncpg cached on one server connection is looked for on
    # another ("does not exist"), or a name another process left is met ("already exists").
    engine = connect(pgbouncer_url(switch=None))
    errors: list[BaseException] = []

    async def client(n: int) -> None:
        for i in range(15):
            try:
                async with engine.connect() as conn:
                    await conn.execute(text(f"SELECT {n} + {i % 3}"))
                    count = text("SELECT count(*) FROM pg_class WHERE oid > :o")
                    await conn.execute(count, {"o": i})
            except Exception as exc:
                errors.append(exc)
            await asyncio.sleep(0)

    try:
        await asyncio.gather(*(client(n) for n in range(10)))
    finally:
        await engine.dispose()
    assert errors, "expected prepared-statement clashes through PgBouncer without the switch"
    print(f"{len(errors)} of 150 sessions met a clash")
    for exc in errors:
        assert isinstance(exc, ConfigurationError), repr(exc)
        assert "transaction mode" in str(exc) and "?pgbouncer=true" in str(exc)


# ---------------------------------------------------------------------------------------------
# With the switch: every path works.


@pytest.mark.postgres
def test_a_cli_session_through_pgbouncer():
    url = pgbouncer_url()

    async def drop() -> None:
        engine = connect(url)
        try:
            await empty_schema(engine)
        finally:
            await engine.dispose()

    asyncio.run(drop())
    steps = [
        ("init",),
        ("seed", "--tasks", "3000", "--projects", "5", "--workers", "20"),
        ("info",),
        ("import", str(EXAMPLE_CSV)),
        ("db", "check"),
        ("db", "current"),
        ("info",),
    ]
    outputs = []
    for step in steps:
        done = cli(*step, url=url)
        assert done.returncode == 0, (step, done.stderr)
        outputs.append(done.stdout)
    assert "  task             3,000 rows" in outputs[2]
    assert "matches the models" in outputs[4]
    assert "  task             3,008 rows" in outputs[6]


@pytest.mark.postgres
async def test_seed_paging_and_dataframes_through_pgbouncer(pooled):
    engine = pooled
    summary = await taskkit.seed(engine, tasks=2_000, projects=5, workers=20, progress=False)
    assert summary.tasks == 2_000
    loaded = await taskkit.load_tasks(engine, EXAMPLE_CSV, progress=False)
    assert loaded.tasks == 8

    stmt = select(Task).order_by(col(Task.description).desc(), col(Task.id))
    async with taskkit.session(engine) as s:
        unpaged = [t.id for t in (await s.exec(stmt)).all()]
        walked = [t.id async for p in pages(s, stmt, size=97) for t in p.items]
        first = await paginate(s, select_tasks(status="pending"), size=25)
        second = await paginate(
            s, select_tasks(status="pending"), size=25, cursor=first.next_cursor
        )
    assert walked == unpaged and len(unpaged) == 2_008
    assert not {t.id for t in first.items} & {t.id for t in second.items}

    fast = await to_dataframe(engine, select_tasks(order_by="id"), reader="adbc")
    slow = await to_dataframe(engine, select_tasks(order_by="id"), reader="sqlalchemy")
    assert len(fast) == 2_008
    assert fast.equals(slow)
    with_workers = await to_dataframe(engine, select_tasks(order_by="id"), related=["workers"])
    assert len(with_workers) == 2_008


@pytest.mark.postgres
async def test_writers_and_readers_through_pgbouncer(pooled):
    # 8 writers and 2 readers at once: zero errors, and every row a writer was told it wrote
    # is stored, nothing else (the same load and checks as on SQLite and PostgreSQL directly).
    await run_load(pooled)
