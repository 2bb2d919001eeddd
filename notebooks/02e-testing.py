# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 2e · Testing with an in-memory database, and the schema's revisions
#
# *The course: 01 explore → 2a models → 2b sessions → 2c relationships → 2d queries →
# **2e testing and the schema** → 04 API → 05 Alembic → 06 import (`notebooks/README.md`).*
#
# **After this lesson you can**
#
# - give each test a fast, empty, private database (in-memory SQLite, `StaticPool`) through an
#   async pytest fixture that runs in pytest-asyncio's strict mode;
# - say where that pattern stops: two sessions on one connection;
# - tell a database made by `create_db_and_tables` from one made by migrations, and move the
#   first onto the migrations (`check_schema`, `stamp_schema`);
# - read where a database stands: `taskkit db history`, `current`, `check`, and their Python
#   twins.
#
# Run the cells in order; any cell can be run again.

# %%
import shutil
from importlib.metadata import version

import pandas as pd
import taskkit_course as course
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from taskkit_course.checks import check_b_reads, check_head_id

import taskkit
from taskkit import Project

# %%
# NBVAL_IGNORE_OUTPUT
print({name: version(name) for name in ("pytest", "pytest-asyncio", "sqlalchemy", "aiosqlite")})

# %%
workdir = course.workdir("02e-testing")

# %% [markdown]
# ## 1. A database per test: in-memory SQLite and `StaticPool`
#
# Tests want a database that is fast, empty and private. SQLite can live in memory
# (`sqlite+aiosqlite://`, no file name), but an in-memory database belongs to the connection
# that opened it: a second connection opens a second, empty database. So the engine must hand
# every session the *same* connection: that is what `StaticPool` does (a "pool" of exactly one
# connection, shared). SQLAlchemy picks it on its own for an in-memory aiosqlite URL, and
# `taskkit.connect("sqlite+aiosqlite://")` does as well, with the same foreign-key pragma as
# every taskkit engine:

# %%
memory = taskkit.connect("sqlite+aiosqlite://")
print("pool:", type(memory.pool).__name__)
await taskkit.create_db_and_tables(memory)  # the quick path: tables from the models (§4)
async with taskkit.session(memory) as session:
    await taskkit.create_project(session, {"name": "Made in memory"})
async with taskkit.session(memory) as session:  # another session, the same connection
    print((await session.exec(select(Project.name))).all())
await memory.dispose()  # with its one connection goes the database

# %% [markdown]
# ### Pitfall: an async fixture under pytest-asyncio's strict mode
#
# The usual fixture is synchronous; made async for an async app, it is typically written with
# `@pytest.fixture`. pytest-asyncio's default mode is *strict*: it runs only the fixtures and
# tests marked as its own, and pytest does not run async fixtures by itself. A test file with
# that default spelled out, written to the lesson's directory and run by pytest:

# %%
(workdir / "pytest.ini").write_text(
    "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
    "filterwarnings = error\n"
)
fixture_test = """
import pytest
import pytest_asyncio

import taskkit


@{decorator}
async def session():
    engine = taskkit.connect("sqlite+aiosqlite://")  # StaticPool, foreign keys on
    await taskkit.create_db_and_tables(engine)  # quick: no migrations
    async with taskkit.session(engine) as s:
        yield s
    await engine.dispose()


@pytest.mark.asyncio
async def test_create_project_gets_id_1(session):
    project = await taskkit.create_project(session, {{"name": "Gemini"}})
    assert project.id == 1
"""
(workdir / "test_fixture.py").write_text(fixture_test.format(decorator="pytest.fixture"))
lines = course.run_pytest(workdir)
print(*[line.split(". This")[0] for line in lines if "requested an async fixture" in line])

# %% [markdown]
# **Fix:** mark the fixture as pytest-asyncio's, `@pytest_asyncio.fixture` (and each test with
# `@pytest.mark.asyncio`). That works in strict mode and in auto mode alike. taskkit's own suite
# runs in auto mode (`asyncio_mode = "auto"` in `pyproject.toml`), where a plain
# `@pytest.fixture` would have worked: that is how a fixture like the first one goes unnoticed
# until the settings change.

# %%
(workdir / "test_fixture.py").write_text(fixture_test.format(decorator="pytest_asyncio.fixture"))
_ = course.run_pytest(workdir)
print((workdir / "test_fixture.py").read_text())

# %% [markdown]
# ## 2. Where the pattern stops: two sessions on one connection
#
# The shared connection is also the pattern's limit: two sessions at once are two users of
# one connection, and so of one transaction. With a plain engine (SQLAlchemy's `StaticPool`):
# session A adds a project and flushes (lesson 2b: the INSERT runs, uncommitted); session B,
# a second "user", reads; B closes, as a request handler does when it is done; then A commits.

# %%
plain_memory = create_async_engine("sqlite+aiosqlite://")
async with plain_memory.begin() as conn:
    await conn.run_sync(SQLModel.metadata.create_all)

a = AsyncSession(plain_memory, expire_on_commit=False)
b = AsyncSession(plain_memory, expire_on_commit=False)
a.add(Project(name="Flushed by A"))
await a.flush()
print("B reads:", (await b.exec(select(Project.name))).all(), " <- A's uncommitted row")
await b.close()  # ends B's transaction: a ROLLBACK on the one shared connection
await a.commit()  # no error
print("A committed; stored:", (await a.exec(select(Project.name))).all())
await a.close()
await plain_memory.dispose()

# %% [markdown]
# B saw a row that was never committed (a "dirty read", which no real database allows between
# two connections), B's rollback discarded A's work, and A's commit reported success while
# storing nothing. No error anywhere.
#
# With `taskkit.connect`, B's attempt to start a second transaction on the busy connection
# fails loudly instead. Its failure still rolls the connection back, taking A's row with it:
# the engine cannot make one connection behave like two. Test concurrency on a temporary
# *file* (one connection per session) instead.

# %%
memory = taskkit.connect("sqlite+aiosqlite://")
await taskkit.create_db_and_tables(memory)
a, b = taskkit.session(memory), taskkit.session(memory)
a.add(Project(name="Flushed by A"))
await a.flush()
try:
    await b.exec(select(func.count()).select_from(Project))
except SQLAlchemyError as e:
    course.show(e)
await a.commit()
print("after A's commit:", (await b.exec(select(Project.name).order_by(Project.id))).all())
await a.close()
await b.close()
await memory.dispose()

# %% [markdown]
# ## Exercise 2e-1
#
# Predict, then check: on the plain in-memory engine, session A *adds* a project but does not
# flush, and session B reads the project names. What list does B get? (The check runs exactly
# that.)

# %% tags=["exercise-02e-1"]
predicted_b_reads = ...  # a list of names

# %%
await check_b_reads(predicted_b_reads)

# %% [markdown] jupyter={"source_hidden": true}
# **Why**, to open after you tried the exercise (click the dots).
#
# Nothing, `[]`. `add` only puts the object in A's session;
# no SQL runs until a flush, which A's *own* queries would trigger (autoflush, lesson 2b) but
# B's cannot. So even on the shared connection there is nothing for B to see.

# %% [markdown]
# ## 3. Where a database stands: taskkit's revisions
#
# A test database made by `create_db_and_tables` has the tables of the models as they are now.
# A real database is built and moved forward by *migrations*: numbered revisions, each a step
# from the one before (notebook 05 writes them with Alembic). taskkit ships its revisions
# inside the package and runs them through its own engine, each command in one transaction (on
# SQLite too), so a failing revision changes nothing. From the command line, on a database made
# by migrations:

# %%
lesson = taskkit.connect(f"sqlite:///{workdir / 'lesson.db'}")
print("ensure_schema reached", await taskkit.ensure_schema(lesson))
await lesson.dispose()

course.taskkit_cli("db", "history", cwd=workdir)
course.taskkit_cli("db", "current", "--db", "sqlite:///lesson.db", cwd=workdir)
course.taskkit_cli("db", "check", "--db", "sqlite:///lesson.db", cwd=workdir)

# %% [markdown]
# Each command is a function of taskkit's API: `upgrade_schema`, `downgrade_schema`,
# `stamp_schema`, `schema_revision` (`db current`), `check_schema` and `schema_history`:

# %%
pd.DataFrame([vars(r) for r in taskkit.schema_history()]).set_index("id").fillna("")

# %% [markdown]
# `taskkit.ensure_schema(engine)` is what notebooks and scripts call: it builds an empty
# database through the revisions, and upgrades an older one. A database made by
# `create_db_and_tables` has no recorded revision, and taskkit refuses to guess which one it
# matches:

# %%
quick = taskkit.connect("sqlite+aiosqlite://")
await taskkit.create_db_and_tables(quick)
for step in (taskkit.ensure_schema, taskkit.check_schema):
    try:
        await step(quick)
    except taskkit.MigrationError as e:
        course.show(e)

# %% [markdown]
# `check_schema` compared the tables with the models and found them equal, so stamping the
# head revision adopts the database; from then on it upgrades like any other:

# %%
await taskkit.stamp_schema(quick, "head")
print(
    "current:",
    await taskkit.schema_revision(quick),
    "| ensure_schema:",
    await taskkit.ensure_schema(quick),
)
await quick.dispose()

# %% [markdown]
# To change the schema: edit the models, write a revision with `uv run alembic -c
# taskkit/_alembic/alembic.ini revision --autogenerate --rev-id NNNN -m "..."` against a
# database at head, and add what autogenerate misses (CHECK constraints, data changes, SQLite
# table options). Notebook 05 teaches that from `alembic init` on.
#
# ## Exercise 2e-2
#
# From `taskkit.schema_history()` (revisions with `id` and `is_head`), compute the id of the
# head revision. Compute it: a release may add revisions.

# %% tags=["exercise-02e-2"]
head_id = ...  # from taskkit.schema_history()

# %%
check_head_id(head_id)

# %% [markdown] jupyter={"source_hidden": true}
# **Why**, to open after you tried the exercise (click the dots).
#
# The head is the revision nothing comes after, which
# `schema_history()` marks with `is_head`:
# `head_id = next(r.id for r in taskkit.schema_history() if r.is_head)`. A written-in id goes
# stale with the next release.

# %% [markdown]
# ## Recap
#
# - A test database: in-memory SQLite on one shared connection (`StaticPool`), tables from
#   `create_db_and_tables`, one engine per test.
# - Mark async fixtures `@pytest_asyncio.fixture` and tests `@pytest.mark.asyncio`: they then
#   run in strict and auto mode alike.
# - Two sessions on one connection share one transaction: test concurrency on a file.
# - Real databases move by revisions: `ensure_schema` builds and upgrades; `check_schema`,
#   `stamp_schema` adopt a database made another way; `taskkit db ...` on the command line.
#
# Next: notebook 04 serves these models over HTTP; notebook 05 writes revisions with Alembic.

# %% [markdown]
# ## Clean up

# %%
shutil.rmtree(workdir)
