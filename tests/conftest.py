"""Fixtures: real databases only.

``engine`` is parametrized over three backends:

* ``sqlite-memory``: ``sqlite+aiosqlite://`` with a shared connection, the fast testing pattern;
* ``sqlite-file``: a temporary SQLite file (WAL, several connections);
* ``postgresql``: the server named by ``TASKKIT_TEST_POSTGRES_URL`` (``.ci/run`` starts one).
  Without the variable these tests skip with the reason, unless ``TASKKIT_REQUIRE_POSTGRES=1``
  (set in CI), where a missing server is an error.
"""

import itertools
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

import taskkit
import taskkit.models  # registers the tables on SQLModel.metadata (taskkit loads names on use)

POSTGRES_URL = os.environ.get("TASKKIT_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("TASKKIT_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite-memory", "sqlite-file", "postgresql"]
TABLES = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)


def postgres_url() -> str:
    """The test server's URL, or skip (fail in CI) when there is none."""
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


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def engine(backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A connected engine with empty taskkit tables on the parametrized backend."""
    eng = taskkit.connect(backend_url(backend, tmp_path))
    if backend == "postgresql":
        await reset_postgres(eng)
    else:
        await taskkit.create_db_and_tables(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def engine_factory(backend: str, tmp_path: Path):
    """Make a fresh engine with empty tables on each call (hypothesis runs many examples in
    one test function, and each example needs its own empty database)."""
    made = itertools.count()

    async def make() -> AsyncEngine:
        if backend == "sqlite-file":
            eng = taskkit.connect(f"sqlite:///{tmp_path / f'example-{next(made)}.db'}")
        else:
            eng = taskkit.connect(backend_url(backend, tmp_path))
        if backend == "postgresql":
            await reset_postgres(eng)
        else:
            await taskkit.create_db_and_tables(eng)
        return eng

    return make


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session as taskkit hands it out (expire_on_commit=False)."""
    async with taskkit.session(engine) as s:
        yield s
