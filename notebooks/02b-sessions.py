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
# # Lesson 2b · The engine, the session and the transaction
#
# *The course: 01 explore → 2a models → **2b sessions** → 2c relationships → 2d queries →
# 2e testing and the schema → 04 API → 05 Alembic → 06 import (`notebooks/README.md`).*
#
# **After this lesson you can**
#
# - tell the engine, a connection, a session and a transaction apart, and say when each one
#   begins and ends;
# - predict when a session sends SQL: `add`, `flush`, autoflush, `commit`, `rollback`; and see
#   it with `echo=True`;
# - use the identity map (one object per row in a session);
# - explain `MissingGreenlet` and avoid it;
# - keep a notebook from locking the database, and recognise "database is locked";
# - set up an engine: SQLite's pragmas, the connection pool, a PostgreSQL URL.
#
# Run the cells in order; any cell can be run again. Expected errors are caught and printed as
# their type and first line.

# %%
import shutil
import sqlite3
import subprocess
import sys
import warnings
from importlib.metadata import version

import taskkit_course as course
from sqlalchemy import event, func
from sqlalchemy.engine import make_url
from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError, TimeoutError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import Field, select
from sqlmodel.ext.asyncio.session import AsyncSession
from taskkit_course.checks import check_database_url

import taskkit
from taskkit import Project, Task

# %%
# NBVAL_IGNORE_OUTPUT
print({name: version(name) for name in ("sqlmodel", "sqlalchemy", "aiosqlite", "greenlet")})

# %% [markdown]
# ## 1. Four objects
#
# - The **engine** knows where the database is and how to talk to it. It holds a *pool* of
#   connections and opens them when they are first needed. Make one per database, per program.
# - A **connection** is one conversation with the database (for SQLite, one open file
#   handle). It is borrowed from the pool and given back.
# - A **transaction** is a group of statements that take effect together at `COMMIT`, or not
#   at all at `ROLLBACK`. Until then, no other connection sees them.
# - A **session** is the ORM's unit of work: it tracks the objects you load and add, turns
#   their changes into SQL, and runs it in a transaction on a connection it borrows. It is
#   cheap: make one per task (a request, a cell), then close it.

# %%
workdir = course.workdir("02b-sessions")
db_path = workdir / "lesson.db"
engine = taskkit.connect(f"sqlite:///{db_path}")  # no connection is opened yet
await taskkit.ensure_schema(engine)
await taskkit.seed(engine, tasks=200, projects=4, workers=6, seed=0, progress=False)
print(type(engine.pool).__name__, "| checked out now:", engine.pool.checkedout())

# %% [markdown]
# ## 2. What a session sends, and when: `echo=True`
#
# `echo=True` makes an engine log every statement it sends. Here is a second engine on the
# same file, with echo, and one session. Read the log between the printed markers:

# %%
loud = taskkit.connect(f"sqlite:///{db_path}", echo=True)
async with taskkit.session(loud) as session:
    project = Project(name="Echo")
    session.add(project)
    print("-- added: nothing sent yet; project.id is", project.id)
    await session.flush()
    print("-- flushed: the INSERT ran inside a transaction; project.id is", project.id)
    await session.rollback()
    print("-- rolled back: as if the INSERT had never run")
await loud.dispose()

# %% [markdown]
# - `add` only puts the object in the session (it is *pending*). No SQL.
# - `flush` sends the pending changes, here an `INSERT`, inside a transaction the session began
#   for it (`BEGIN`; taskkit's engine writes it out as `BEGIN DEFERRED`, §6 says why). The
#   database assigned the id. Nothing is final: other connections do not see the row.
# - `commit` would flush what is left and end the transaction with `COMMIT`; `rollback` ends
#   it with `ROLLBACK`, and the row is gone.
#
# Echo is for looking, not for keeping on: every statement is logged. (Its timestamps and
# timings are replaced by placeholders in the stored output.)
#
# ## 3. Autoflush, and the end of a session
#
# A query in a session first flushes what is pending (*autoflush*), so that the query sees
# your own changes. `session.no_autoflush` holds it back:

# %%
async with taskkit.session(engine) as session:
    projects = select(func.count()).select_from(Project)
    before = (await session.exec(projects)).one()
    session.add(Project(name="Autoflushed"))
    seen = (await session.exec(projects)).one()  # flushes the INSERT, then counts
    with session.no_autoflush:
        session.add(Project(name="Held back"))
        held = (await session.exec(projects)).one()  # counts without the second one
    print(f"before: {before}, after one add: {seen}, second add held back: {held}")
# Leaving the block closes the session: a transaction that was not committed is rolled back.
async with taskkit.session(engine) as session:
    print("stored after the block:", (await session.exec(projects)).one())

# %% [markdown]
# Leaving `async with taskkit.session(engine)` without `commit()` discards the work. To commit
# at the end of a block (or roll back if it raised), add `session.begin()`:

# %%
async with taskkit.session(engine) as session, session.begin():
    session.add(Project(name="Committed by begin()"))
async with taskkit.session(engine) as session:
    stored = await session.exec(select(Project).where(Project.name == "Committed by begin()"))
    kept = stored.one()
    print("stored:", kept.name, "| id", kept.id)
    await session.delete(kept)  # removed again, so that this cell can run twice
    await session.commit()

# %% [markdown]
# ## 4. The identity map
#
# A session keeps at most one object per row: ask for task 1 twice and you get the same
# object. `session.get` looks in the session first and sends no SQL when the object is there;
# a query sends its SQL, then hands back the object the session already holds, with its
# values as they are in memory:

# %%
async with taskkit.session(engine) as session:
    first = await session.get(Task, 1)
    again = await session.get(Task, 1)  # no SQL: found in the session
    first.title = "Changed in memory only"
    with session.no_autoflush:  # (a query would otherwise send the new title first)
        queried = (await session.exec(select(Task).where(Task.id == 1))).one()
        stored = (await session.exec(select(Task.title).where(Task.id == 1))).one()
    print(first is again, first is queried)
    print("object:", queried.title, "| row:", stored)
    await session.rollback()  # the change is dropped

# %% [markdown]
# The query found the row, saw that the session holds it already, and returned that object,
# unflushed title included (the database still holds the old one, which the column query
# shows). `await session.refresh(obj)` re-reads an object from the database;
# `.execution_options(populate_existing=True)` makes a query overwrite what it finds.
#
# ## 5. Greenlet, in one paragraph, and `MissingGreenlet`
#
# SQLAlchemy's ORM is synchronous code. Its asyncio API runs that code inside a **greenlet**,
# a lightweight thread of execution that can pause at each call into the async database driver
# and let the event loop run (`greenlet_spawn` starts one, `await_` pauses in it). An `await
# session.exec(...)` goes through that door. Plain attribute access does not: when reading
# `obj.attr` would need SQL (an expired value, a relationship not loaded), there is no
# greenlet to pause in, and SQLAlchemy raises `MissingGreenlet`. The fix is never to make the
# ORM load implicitly: keep objects fresh after commit (below) and load relationships in the
# query (lesson 2c).
#
# Greenlet is a separate package. SQLAlchemy 2.1 no longer installs it by default; only the
# `asyncio` extra brings it: depend on `sqlalchemy[asyncio]`, as taskkit does. Without it, every
# async engine fails on first use. Run here in a Python that cannot import greenlet:

# %%
no_greenlet = """
import asyncio, sys
sys.modules["greenlet"] = None  # as if it were not installed
from sqlalchemy.ext.asyncio import create_async_engine

async def main():
    async with create_async_engine("sqlite+aiosqlite://").connect():
        pass

asyncio.run(main())
"""
done = subprocess.run([sys.executable, "-c", no_greenlet], capture_output=True, text=True)
print(done.stderr.strip().splitlines()[-1])

# %% [markdown]
# ### Pitfall: objects expire on commit
#
# `AsyncSession` *expires* every object when it commits, so that the next read reloads it. In
# async code that reload is implicit SQL, so it is `MissingGreenlet`. The usual snippet's plain
# session, on a scratch model (`course.leftovers_collected` silences the warning about the
# coroutine the failed load leaves behind):

# %%
Scratch = course.scratch_base()


class SnippetProject(Scratch, table=True):
    __tablename__ = "project"
    id: int | None = Field(default=None, primary_key=True)
    name: str


snippet_engine = create_async_engine(f"sqlite+aiosqlite:///{workdir / 'snippet.db'}")
async with snippet_engine.begin() as conn:
    await conn.run_sync(Scratch.metadata.drop_all)
    await conn.run_sync(Scratch.metadata.create_all)

with course.leftovers_collected():
    async with AsyncSession(snippet_engine) as s:  # the snippet's session
        apollo = SnippetProject(name="Apollo")
        s.add(apollo)
        await s.commit()
        try:
            print(apollo.name)
        except SQLAlchemyError as e:
            course.show(e)

# %% [markdown]
# `taskkit.session(engine)` is an `AsyncSession` with `expire_on_commit=False`: objects stay
# readable after a commit, with the values they had. When you do want fresh values, ask:
# `await session.refresh(obj)`.

# %%
async with AsyncSession(snippet_engine, expire_on_commit=False) as s:
    borealis = SnippetProject(name="Borealis")
    s.add(borealis)
    await s.commit()
    print(borealis.name, borealis.id)
await snippet_engine.dispose()

# %% [markdown]
# ### `exec` versus `execute`
#
# SQLModel's `session.exec(select(Task))` returns `Task` objects. SQLAlchemy's
# `session.execute(...)` returns `Row` tuples (each holding a `Task`), and SQLModel marks it
# deprecated for selects. The warning is recorded here, so that it is shown rather than left
# to fail a run that treats warnings as errors:

# %%
async with taskkit.session(engine) as session:
    objects = (await session.exec(select(Task).order_by(Task.id).limit(2))).all()
    print("exec:   ", type(objects[0]).__name__, "-", objects[0].title)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = (await session.execute(select(Task).order_by(Task.id).limit(2))).all()
    print("execute:", type(rows[0]).__name__, "holding a", type(rows[0][0]).__name__)
    for w in caught:
        print(" ", w.category.__name__ + ":", str(w.message).strip().splitlines()[0])

# %% [markdown]
# ## 6. Locks: why every cell here ends its session
#
# SQLite allows one writer at a time. A transaction that has written holds the database's
# *write lock* until it commits or rolls back, and every other writer waits for it: taskkit's
# engine waits up to 30 seconds (its busy timeout), then fails with **"database is locked"**.
#
# In a notebook that is easy to do by accident: open a session in one cell, add or change
# something, and go on with other cells. Until that session commits or rolls back, a
# `taskkit import` in a terminal, another notebook or a web app cannot write. Below, the
# "other process" is a plain `sqlite3` connection that waits one second instead of thirty. (The
# held session lives within one cell here, so that this lesson itself never leaves a lock
# behind; in the pitfall it spans cells.)


# %%
def another_process_writes() -> str:
    """What a second writer sees: it tries one small write and waits at most 1 s."""
    other = sqlite3.connect(db_path, timeout=1)
    try:
        with other:
            other.execute("UPDATE project SET name = name WHERE id = 1")
        return "it wrote"
    except sqlite3.OperationalError as e:
        return f"{type(e).__name__}: {e}"
    finally:
        other.close()


held = taskkit.session(engine)  # opened in one cell, as a notebook would ...
held.add(Project(name="Held open"))
await held.flush()  # ... written to, and not committed
print("while a session holds an uncommitted write:", another_process_writes())
await held.rollback()
await held.close()
print("once it has ended:                         ", another_process_writes())

# %% [markdown]
# **Cause:** a transaction that wrote, left open. **Fix:** end every transaction in the cell
# that began it: `async with taskkit.session(engine) as session:` and `commit()` (or
# `session.begin()`) inside it, as every cell of this course does; the taskkit helpers
# (`create_task`, `update_task`, ...) commit on their own. `session.in_transaction()` tells
# whether a session holds one.
#
# Reading is different. taskkit's engine begins each transaction `DEFERRED` (§2 showed
# `BEGIN DEFERRED`): it takes no lock until it writes, and in WAL mode a reader never blocks a
# writer. A session that has only read holds no lock, even when left open:

# %%
async with taskkit.session(engine) as reader:
    n = (await reader.exec(select(func.count()).select_from(Task))).one()
    print(f"read {n} tasks; transaction open: {reader.in_transaction()}")
    print("while a session has only read:", another_process_writes())

# %% [markdown]
# An engine that begins every transaction with `BEGIN IMMEDIATE` takes the write lock at the
# first read, and there a session kept open for exploring locks out every writer. Whatever the
# engine: end each session in the cell that opened it.
#
# ## 7. What `taskkit.connect` sets up
#
# On SQLite: foreign keys on every connection (lesson 2a showed that SQLite leaves them off),
# WAL journaling so that readers and the writer do not block each other, a busy timeout so
# that writers wait for each other instead of failing at once, and transactions that begin
# `DEFERRED` (§6) unless taskkit itself writes (`create_task`, `seed`, migrations), which begins
# `BEGIN IMMEDIATE`: the write lock up front, so that its read-then-write cannot be refused
# halfway:

# %%
async with engine.connect() as conn:
    for pragma in ("foreign_keys", "journal_mode", "busy_timeout"):
        print(f"{pragma:13}", (await conn.exec_driver_sql(f"PRAGMA {pragma}")).scalar())

# %% [markdown]
# Pragmas like `foreign_keys` are set per connection, from a `connect` event listener that runs
# on every new DBAPI connection. SQLAlchemy's documentation gives a recipe that saves and
# restores the driver's `autocommit` attribute around the pragma; on aiosqlite that attribute
# does not exist, so the recipe breaks every connection:

# %%
recipe_engine = create_async_engine("sqlite+aiosqlite://")


@event.listens_for(recipe_engine.sync_engine, "connect")
def set_sqlite_pragma(dbapi_connection, connection_record):
    ac = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    dbapi_connection.autocommit = ac


try:
    async with recipe_engine.connect() as conn:
        pass
except AttributeError as e:
    course.show(e)
await recipe_engine.dispose()

# %% [markdown]
# taskkit's listener (in `taskkit/_database/engine.py`) hands each new connection to
# `prepare_sqlite` (in `taskkit/_database/sqlite_file.py`, the one place every SQLite connection
# taskkit opens is set up), which uses a plain cursor. It also hands transaction control to
# SQLAlchemy (`isolation_level = None`), so that a `begin` listener can write the `BEGIN` itself:

# %%
course.source_lines(
    taskkit._database.sqlite_file.prepare_sqlite,
    "connection.isolation_level = None",
    "cursor.close()",
)

# %% [markdown]
# ### The connection pool
#
# An engine keeps a pool of open connections: `pool_size` of them stay open, up to
# `max_overflow` more are opened under load and closed afterwards, and a caller that finds all
# of them busy waits `pool_timeout` seconds, then fails. Every session or `engine.connect()`
# that is not closed keeps one connection out of the pool. A pool of one, with one connection
# held:

# %%
tiny = taskkit.connect(f"sqlite:///{db_path}", pool_size=1, max_overflow=0, pool_timeout=1)
async with tiny.connect() as held_connection:
    print(tiny.pool.status())
    try:
        async with tiny.connect():
            pass
    except TimeoutError as e:
        course.show(e)
await tiny.dispose()

# %% [markdown]
# How big? A notebook or a script needs one or two connections. A web app needs about as many
# as it runs requests at once. On PostgreSQL each connection is a server process, and the
# server allows `max_connections` (100 by default) in all: every process of every app counts,
# so 4 app processes times (`pool_size` 5 + `max_overflow` 10) may open 60. taskkit's PostgreSQL
# engines use those defaults (5 + 10); pass `pool_size=...` to `taskkit.connect` to change them.
# Behind a pooler such as PgBouncer, keep the app's pool small and let the pooler share the
# server's connections.
#
# ### Pitfall: the PostgreSQL URL you are handed
#
# Neon (like Heroku and most hosts) hands out a libpq URL, `postgres://` or `postgresql://`,
# with `sslmode` and `channel_binding` parameters. The usual snippet converts it by string
# replacement. Both failures below happen before any network traffic, so no server is needed
# to see them. First, the Neon URL through the snippet's conversion:

# %%
neon = (
    "postgresql://ann:s3cret@ep-quiet-lake-123456-pooler.eu-central-1.aws.neon.tech/neondb"
    "?sslmode=require&channel_binding=require"
)
converted = neon.replace("postgresql://", "postgresql+asyncpg://", 1).replace("sslmode=", "ssl=")
snippet_pg = create_async_engine(converted)
try:
    async with snippet_pg.connect() as conn:
        pass
except TypeError as e:
    course.show(e)
await snippet_pg.dispose()

# %% [markdown]
# asyncpg's `connect()` takes keyword arguments, and SQLAlchemy passes every URL query parameter
# as one; `channel_binding` is a libpq setting asyncpg does not have. Second, the older
# `postgres://` scheme (Heroku's, and what many tools print): a `startswith("postgresql://")`
# test does not match, the URL goes through unchanged, and SQLAlchemy has no dialect called
# `postgres`:

# %%
try:
    create_async_engine(neon.replace("postgresql://", "postgres://", 1))
except NoSuchModuleError as e:
    course.show(e)

# %% [markdown]
# `taskkit.database_url` (which `taskkit.connect` uses) parses the URL instead of editing the
# string: it maps both schemes to `postgresql+asyncpg` (SQLAlchemy 2.1 would otherwise pick
# psycopg for a bare `postgresql://`), turns `sslmode` into asyncpg's `ssl`, drops the
# libpq-only parameters asyncpg would reject, and refuses unknown ones with a message. Never
# print a URL with its password: `URL.render_as_string(hide_password=True)` hides it, as
# taskkit's own messages do.

# %%
for given in (neon, neon.replace("postgresql://", "postgres://", 1)):
    print(make_url(taskkit.database_url(given)).render_as_string(hide_password=True))
try:
    taskkit.database_url("postgresql://ann:s3cret@db.example.com/app?sslmdoe=require")
except taskkit.ConfigurationError as e:
    course.show(e)

# %% [markdown]
# ## Exercise 2b-1
#
# Predict, then check: what does `taskkit.database_url` make of the URL below? Write the exact
# string. (The password stays in: `database_url` returns what the engine needs; only messages
# hide it.)

# %% tags=["exercise-02b-1"]
handed = "postgres://bob:pw@db.example.com:5433/app?sslmode=verify-full&channel_binding=prefer"
predicted_url = ...  # a string

# %%
check_database_url(predicted_url)

# %% [markdown] jupyter={"source_hidden": true}
# **Why**, to open after you tried the exercise (click the dots).
#
# `postgres://` becomes `postgresql+asyncpg://` (the async
# driver taskkit uses), `sslmode` becomes asyncpg's `ssl` with the same value, and
# `channel_binding` is dropped (libpq only). User, password, host, port and database stay:
# `postgresql+asyncpg://bob:pw@db.example.com:5433/app?ssl=verify-full`.

# %% [markdown]
# ## Recap
#
# - Engine (one per database: a pool), connection (borrowed), transaction (`COMMIT` or
#   `ROLLBACK`), session (the unit of work: one per cell or request).
# - `add` sends nothing; `flush` sends SQL inside the transaction; a query autoflushes first;
#   `commit` makes it final; a session closed without `commit` rolls back.
# - One object per row per session (the identity map); `refresh` re-reads.
# - The async API runs the ORM in a greenlet; implicit SQL outside it is `MissingGreenlet`.
#   Depend on `sqlalchemy[asyncio]`; use `expire_on_commit=False` (`taskkit.session`).
# - A transaction that wrote holds SQLite's write lock until it ends: end it in the cell that
#   began it. Reads begun `DEFERRED` take no lock.
# - Pragmas go in a `connect` listener with a plain cursor; size pools to what runs at once;
#   parse hosted PostgreSQL URLs, never edit them as strings.
#
# Next: lesson 2c, relationships.

# %% [markdown]
# ## Clean up

# %%
await engine.dispose()
shutil.rmtree(workdir)
