"""Fixtures: real databases only.

``engine`` is parametrized over three backends:

* ``sqlite-memory``: ``sqlite+aiosqlite://`` with a shared connection, the fast testing pattern;
* ``sqlite-file``: a temporary SQLite file (WAL, several connections);
* ``postgresql``: the server named by ``TASKKIT_TEST_POSTGRES_URL`` (``.ci/run`` starts one).
  Without the variable these tests skip with the reason, unless ``TASKKIT_REQUIRE_POSTGRES=1``
  (set in CI), where a missing server is an error. Under pytest-xdist each worker gets a
  database of its own on that server (``<name>_gw0``, ...), made when the worker starts.

The default run (``uv run pytest``) leaves out the tests marked ``slow``: the notebooks, the
browser and wheel tests and the long end-to-end tests. They run in CI (``CI=true``), with
``--slow``, or when chosen with ``-m``.
"""

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

import taskkit
import taskkit._models  # registers the tables on SQLModel.metadata (taskkit loads names on use)

POSTGRES_URL = os.environ.get("TASKKIT_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("TASKKIT_REQUIRE_POSTGRES") == "1"
# The postgres mark goes with the parameter, so `pytest -m "not postgres"` deselects those
# tests instead of leaving hundreds of runtime skips.
POSTGRES = pytest.param("postgresql", marks=pytest.mark.postgres)
BACKENDS = ["sqlite-memory", "sqlite-file", POSTGRES]
FILE_BACKENDS = ["sqlite-file", POSTGRES]  # what a second driver (ADBC) can reach
TABLES = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)
_current: list[pytest.Item] = []


# ---------------------------------------------------------------------------------------------
# The default run, CI, and pytest-xdist workers.

# Test modules whose every test is slow (end to end: processes, kernels, large data), measured
# with --durations on the 2-core machine. Single slow tests elsewhere carry @pytest.mark.slow.
SLOW_MODULES = frozenset(
    {
        "test_crashes.py",
        "test_explore_browser.py",
        "test_notebook_reruns.py",
        "test_pgbouncer.py",
        "test_report_execute.py",
        "test_report_kernel.py",
        "test_wheel.py",
    }
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        help="also run the tests marked slow (notebooks, browser, wheel, long end to end); "
        "CI=true runs them always",
    )


def _runs_slow_tests(config: pytest.Config) -> bool:
    return (
        config.getoption("--slow")
        or os.environ.get("CI", "").lower() == "true"
        or bool(config.getoption("markexpr"))  # `-m slow`, `-m "not browser"`: as asked
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        slow = (
            item.path.suffix == ".ipynb"
            or item.path.name in SLOW_MODULES
            or item.get_closest_marker("browser") is not None
            or item.get_closest_marker("wheel") is not None
        )
        if slow:
            item.add_marker(pytest.mark.slow)
    if _runs_slow_tests(config):
        return
    fast = [item for item in items if item.get_closest_marker("slow") is None]
    if len(fast) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in set(fast)])
        items[:] = fast


def _worker_database(base: str, worker: str) -> str:
    """Make (again) ``<base database>_<worker>`` on the test server; return its URL."""
    import asyncpg

    url = make_url(base)
    name = f"{url.database}_{worker}"

    async def make() -> None:
        conn = await asyncpg.connect(
            user=url.username, password=url.password, host=url.host, port=url.port,
            database=url.database,
        )  # fmt: skip
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(make())
    return url.set(database=name).render_as_string(hide_password=False)


def pytest_sessionstart(session: pytest.Session) -> None:
    global POSTGRES_URL
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if POSTGRES_URL and worker:
        POSTGRES_URL = _worker_database(POSTGRES_URL, worker)
        os.environ["TASKKIT_TEST_POSTGRES_URL"] = POSTGRES_URL  # for the processes tests start


@pytest.fixture(autouse=True)
def _remember_the_running_test(request: pytest.FixtureRequest) -> Iterator[None]:
    _current.append(request.node)
    yield
    _current.pop()


def postgres_url() -> str:
    """The test server's URL, or skip (fail in CI) when there is none.

    Only for tests marked ``postgres`` (the backend parameters carry the mark): a test that
    reaches the server without it would escape ``-m "not postgres"``.
    """
    if _current and _current[-1].get_closest_marker("postgres") is None:
        pytest.fail(f"{_current[-1].nodeid} uses PostgreSQL: mark it @pytest.mark.postgres")
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("TASKKIT_REQUIRE_POSTGRES=1 but TASKKIT_TEST_POSTGRES_URL is not set")
        pytest.skip(
            "PostgreSQL tests need TASKKIT_TEST_POSTGRES_URL; "
            'start a throwaway server with: eval "$(bash .ci/postgres start)"'
        )
    return POSTGRES_URL


def backend_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite-memory":
        return "sqlite+aiosqlite://"
    if backend == "sqlite-file":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return postgres_url()


_postgres_schema_is_fresh = False


async def reset_postgres(engine: AsyncEngine) -> None:
    """Empty every taskkit table (faster than dropping and creating them per test).

    The first call of a test run rebuilds the schema through the migrations, so that a database
    left by an older version of the models cannot break the run.
    """
    global _postgres_schema_is_fresh
    if not _postgres_schema_is_fresh:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        # Through migrations: the suite runs on the schema users get.
        await taskkit.ensure_schema(engine)
        _postgres_schema_is_fresh = True
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))


async def make_engine(backend: str, tmp_path: Path, name: str = "test.db") -> AsyncEngine:
    """A connected engine with empty taskkit tables on ``backend`` (the one engine factory:
    every fixture below makes its engines here)."""
    url = f"sqlite:///{tmp_path / name}" if backend == "sqlite-file" else None
    eng = taskkit.connect(url or backend_url(backend, tmp_path))
    if backend == "postgresql":
        await reset_postgres(eng)
    else:
        await taskkit.create_db_and_tables(eng)
    return eng


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def engine(backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A connected engine with empty taskkit tables on the parametrized backend."""
    eng = await make_engine(backend, tmp_path)
    yield eng
    await eng.dispose()


@pytest.fixture(params=FILE_BACKENDS)
async def fast_engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The backends the ADBC readers serve (a second driver cannot reach in-memory SQLite)."""
    eng = await make_engine(request.param, tmp_path)
    yield eng
    await eng.dispose()


@pytest.fixture
def engine_factory(backend: str, tmp_path: Path):
    """Make a fresh engine with empty tables on each call (hypothesis runs many examples in
    one test function, and each example needs its own empty database)."""
    made = itertools.count()

    async def make() -> AsyncEngine:
        return await make_engine(backend, tmp_path, f"example-{next(made)}.db")

    return make


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session as taskkit hands it out (expire_on_commit=False)."""
    async with taskkit.session(engine) as s:
        yield s
