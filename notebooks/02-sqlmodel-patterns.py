# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # SQLModel patterns that work today
#
# SQLModel is usually taught with a handful of patterns: a model hierarchy, an async engine
# and session, relationships, query recipes, pagination, an in-memory test database and
# Alembic migrations. Several of those snippets, written as they usually are, fail on current
# releases, some loudly and some silently.
#
# This lesson takes them one at a time. For each it **runs the usual form and shows what goes
# wrong**, explains why, and then shows the form that works (the one taskkit uses). Every
# error below is expected: it is caught and printed so that the notebook runs top to bottom.
# Every cell can be run again (the ones that create rows look them up first).
#
# Each section ends with a short exercise: edit the cell marked as the exercise, then run the
# check below it. Answers are in the `solutions` notebook. Notebook `04-api` serves these
# models through FastAPI; `05-alembic` migrates them.

# %%
import gc
import inspect
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import warnings
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import Enum
from importlib.metadata import version
from pathlib import Path
from typing import Literal

import pandas as pd
from exercises import (
    check_assign_by_hand,
    check_prediction,
    check_project_update,
    check_recent_high,
)
from pydantic import ValidationError
from sqlalchemy import CheckConstraint, String, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    IntegrityError,
    InvalidRequestError,
    NoSuchModuleError,
    SAWarning,
    SQLAlchemyError,
)
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import registry, selectinload
from sqlalchemy.pool import StaticPool
from sqlmodel import Field, Relationship, SQLModel, col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

import taskkit
from taskkit import (
    Project,
    Task,
    TaskCreate,
    TaskRead,
    TaskReadWithRelations,
    TaskWorkerLink,
    Worker,
    WorkerCreate,
    any_of,
    count,
    paginate,
    paginate_offset,
    select_tasks,
)

pd.set_option("display.width", 120)
pd.set_option("display.max_colwidth", 120)

# %% [markdown]
# The versions this lesson was written against (the failures below are specific to them):

# %%
# NBVAL_IGNORE_OUTPUT
print({name: version(name) for name in ("sqlmodel", "sqlalchemy", "pydantic", "aiosqlite")})


# %% [markdown]
# Two helpers. `show` prints an expected error as its type and the first line of its message:
# SQLAlchemy appends the SQL and its parameters to its messages, and the first line is the
# part that says what went wrong.
#
# `scratch_base` makes a base class with its *own* SQLAlchemy registry (and so its own
# `MetaData`). Tables defined on it never touch taskkit's models, and re-running a cell makes
# a new one, so the throwaway models in this lesson can be defined again and again.


# %%
def show(error: BaseException) -> None:
    """Print an expected error: its type and the first line of its message."""
    print(type(error).__name__, str(error).strip().splitlines()[0])


def scratch_base() -> type[SQLModel]:
    """A SQLModel base with its own registry and MetaData, for throwaway table models."""

    class Scratch(SQLModel, registry=registry()):
        pass

    return Scratch


# %% [markdown]
# The lesson works on a fresh SQLite file in a temporary directory, created through taskkit's
# migrations and seeded with a small, fixed dataset (same rows every run).

# %%
scratch_dir = Path(tempfile.mkdtemp(prefix="taskkit-patterns-"))
db_path = scratch_dir / "lesson.db"
engine = taskkit.connect(f"sqlite:///{db_path}")
await taskkit.ensure_schema(engine)
seeded = await taskkit.seed(engine, tasks=2_000, projects=8, workers=12, seed=0, progress=False)
print(f"{seeded.tasks:,} tasks, {seeded.projects} projects, {seeded.workers} workers")

# %% [markdown]
# ## 1. The model hierarchy
#
# The pattern: one family of models per entity. `TaskBase` holds the shared fields and their
# rules; `Task(table=True)` is the table; `TaskCreate`, `TaskUpdate` and `TaskRead` are what
# callers send and receive. Here is the family written out as you would write it in your own
# `models.py`, in the form that works on current releases (each choice is explained in the
# pitfalls below).
#
# One catch first: a table can be defined only once per SQLAlchemy `MetaData`, so a cell that
# defines a table model on the shared `SQLModel.metadata` fails when it is run a second time
# (`Table 'task' is already defined for this MetaData instance`, shown below). This cell
# therefore builds its family on `scratch_base()`, a base with a fresh registry and `MetaData`
# every time it runs. In a project the models live in a module that is imported once, as
# taskkit's do (`taskkit/_models.py`), and inherit from `SQLModel` directly.

# %%
Scratch = scratch_base()  # in your models.py: SQLModel


class MyTaskBase(Scratch):
    """The fields and rules shared by the table, the Create and the Read model."""

    title: str = Field(min_length=1, max_length=200)
    description: str | None = None
    # A Literal keeps "one of these strings" for validation; sa_type tells SQLModel the column.
    status: Literal["pending", "in_progress", "completed"] = Field(
        default="pending", sa_type=String(11)
    )
    priority: Literal["low", "medium", "high"] = Field(default="medium", sa_type=String(6))


class MyTask(MyTaskBase, table=True):
    """The table: adds the key and the timestamps (aware UTC). Never built from user data."""

    __tablename__ = "task"
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class MyTaskCreate(MyTaskBase):
    """What a client sends to create a task: the base's fields, validated."""


class MyTaskUpdate(Scratch):
    """What a client sends to change a task (PATCH): every field optional."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    status: Literal["pending", "in_progress", "completed"] | None = None
    priority: Literal["low", "medium", "high"] | None = None


class MyTaskRead(MyTaskBase):
    """What a client gets back: the base's fields plus what the database assigned."""

    id: int
    created_at: datetime
    updated_at: datetime


# %% [markdown]
# Base, Create and Update look alike in code; what tells them apart is which fields a caller
# *must* give. `required_fields` builds that table from the models themselves (pydantic's
# `model_fields`), so it cannot drift from the code:


# %%
def required_fields(*models: type[SQLModel]) -> pd.DataFrame:
    """Field by model: 'required', 'optional (= default)', or '' where the model lacks it."""

    def describe(info) -> str:
        if info.is_required():
            return "required"
        if info.default_factory is not None:
            return "optional (made when built)"
        default = info.default.value if isinstance(info.default, Enum) else info.default
        return f"optional (= {default!r})"

    names = list(dict.fromkeys(name for model in models for name in model.model_fields))
    return pd.DataFrame(
        {
            model.__name__: [
                describe(model.model_fields[n]) if n in model.model_fields else "" for n in names
            ]
            for model in models
        },
        index=names,
    )


required_fields(MyTaskBase, MyTask, MyTaskCreate, MyTaskUpdate, MyTaskRead)

# %% [markdown]
# Read the columns: the table model makes `id` optional (the database assigns it) and the
# Read model makes it required (a task read back always has one); Update makes *everything*
# optional, so a PATCH can send just one field. taskkit's own family, built the same way in
# `taskkit/_models.py`, adds `project_id` and `completed_at`:

# %%
required_fields(taskkit.TaskBase, Task, TaskCreate, taskkit.TaskUpdate, TaskRead)

# %% [markdown]
# The usual snippet writes that family with `Literal` fields, `datetime.now` defaults, and
# builds table rows straight from user data. Each of those is a pitfall.
#
# ### Pitfall: a `Literal` field on a table model
#
# `Literal[...]` is the natural way to say "one of these strings", and it works on plain
# pydantic models. On a `table=True` model SQLModel must turn the annotation into a column type,
# and it cannot: the class definition itself fails.

# %%
Scratch = scratch_base()
try:

    class LiteralTask(Scratch, table=True):
        id: int | None = Field(default=None, primary_key=True)
        status: Literal["pending", "in_progress", "completed"] = "pending"

except TypeError as e:
    show(e)

# %% [markdown]
# **Why:** with no column type given, SQLModel derives one from the annotation by asking
# `issubclass(annotation, str)` and friends, and a `Literal[...]` is not a class.
#
# **The smallest fix keeps the `Literal`:** `Field(sa_type=String(11))` names the column type,
# so SQLModel no longer derives it, while pydantic still validates against the `Literal`. That
# is what `MyTaskBase` above does:

# %%
print("column:", MyTask.__table__.c.status.type)
try:
    MyTaskCreate(title="Plan", status="done")
except ValidationError as e:
    print(type(e).__name__, "-", e.errors()[0]["msg"])

# %% [markdown]
# The database, though, knows only `VARCHAR(11)`; another writer can store `'done'`. The rule
# belongs in the table as well, as a CHECK constraint (notebook 05 adds one in a migration).
#
# What taskkit does: a `str` enum (`taskkit.Status`), stored as a short string, with a named
# CHECK constraint so that the database holds the same rule. (SQLAlchemy's default `Enum`
# would store the member *names* and, on PostgreSQL, create a native type that every migration
# must manage; taskkit stores the values.)

# %%
print([s.value for s in taskkit.Status], "stored as", Task.__table__.c.status.type)
for constraint in Task.__table__.constraints:
    if isinstance(constraint, CheckConstraint) and constraint.name in ("ck_task_status",):
        print(constraint.name, ":", constraint.sqltext)

# %% [markdown]
# Why a fresh registry for throwaway models? Because a table can be defined only once per
# `MetaData`. Re-running a cell that defines a table on the shared `SQLModel.metadata` (or, as
# here, defining it twice on one base) fails, which is also why real models live in a package,
# not in notebook cells. (SQLAlchemy first warns that the class name is replaced; that warning
# is silenced here to show the error that follows it.)

# %%
Scratch = scratch_base()


class Note(Scratch, table=True):
    id: int | None = Field(default=None, primary_key=True)


try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)

        class Note(Scratch, table=True):  # the same table again, as a re-run cell would
            id: int | None = Field(default=None, primary_key=True)

except InvalidRequestError as e:
    show(e)

# %% [markdown]
# ### Pitfall: naive datetimes
#
# The usual snippet defaults timestamps to `datetime.now`, which has no time zone. Since
# SQLModel 0.0.45 a `datetime` field is stored as UTC and a naive value is refused, not when
# the object is built (table models do not validate) but when it is written:

# %%
print(
    "datetime.now():",
    datetime.now().tzinfo,
    "| taskkit.utcnow():",
    taskkit.utcnow().tzinfo,
)

naive = Task(
    title="Naive timestamps", created_at=datetime(2025, 6, 1), updated_at=datetime(2025, 6, 1)
)
async with taskkit.session(engine) as session:
    session.add(naive)
    try:
        await session.commit()
    except SQLAlchemyError as e:
        show(e)

# %% [markdown]
# taskkit's defaults are `datetime.now(UTC)`, and values come back aware UTC on SQLite and
# PostgreSQL alike. Its query helpers refuse naive bounds too, rather than guess a zone:

# %%
async with taskkit.session(engine) as session:
    first = await session.get(Task, 1)
print(first.created_at, "| tzinfo:", first.created_at.tzinfo)

try:
    select_tasks(created_from=datetime(2025, 6, 1))
except taskkit.InvalidArgumentError as e:
    show(e)

# %% [markdown]
# ### Pitfall: table models skip validation
#
# A `table=True` model is a SQLAlchemy row first: its constructor does **not** run pydantic
# validation. A 300-character title and a made-up status build without complaint:

# %%
unchecked = Task(title="x" * 300, status="bogus")
print(len(unchecked.title), "characters, status", repr(unchecked.status))

# %% [markdown]
# The same data through the Create model is refused, field by field. That is why data from
# outside goes through `TaskCreate` (taskkit's `create_task` does it) and never `Task(**data)`:

# %%
try:
    TaskCreate(title="x" * 300, status="bogus")
except ValidationError as e:
    print(type(e).__name__, f"({e.error_count()} errors)")
    for error in e.errors():
        print(" ", error["loc"][0], "-", error["msg"])

# %% [markdown]
# So how does validated data become a table row? `Task.model_validate(create)`: unlike the
# constructor, `model_validate` on a table model runs the validators, and it accepts a model
# or a dict. Validate at the edge with the Create model, then convert:

# %%
create = TaskCreate(title="Validated first", priority="high")
row = Task.model_validate(create)
print(type(row).__name__, "|", row.title, "|", row.priority, "| id:", row.id)
try:
    Task.model_validate({"title": "x" * 300, "status": "bogus"})
except ValidationError as e:
    print(type(e).__name__, f"({e.error_count()} errors)")

# %% [markdown]
# ### Pitfall: an update that writes every field
#
# `TaskUpdate` has every field optional with a default of `None`, so that a caller can send
# just one. Its `model_dump()` therefore reports *every* field, the ones never sent as `None`;
# `model_dump(exclude_unset=True)` reports only the fields that were given:

# %%
update = taskkit.TaskUpdate(priority="high")
print("model_dump():                  ", update.model_dump())
print("model_dump(exclude_unset=True):", update.model_dump(exclude_unset=True))

# %% [markdown]
# Applied to a stored task with `sqlmodel_update`, the first erases the title (the NOT NULL
# constraint stops it here; a nullable column would silently lose its value), the second
# changes just the priority:

# %%
async with taskkit.session(engine) as session:
    task = await session.get(Task, 2)
    task.sqlmodel_update(update.model_dump())
    try:
        await session.commit()
    except IntegrityError as e:
        show(e)
        await session.rollback()

async with taskkit.session(engine) as session:
    task = await session.get(Task, 2)
    task.sqlmodel_update(update.model_dump(exclude_unset=True))
    await session.commit()
    print(task.id, "|", task.title, "|", task.priority.value)

# %% [markdown]
# And the database holds the same rules as CHECK constraints, so nothing invalid gets in by
# another road. Writing the unchecked object through the ORM is stopped by the column's type
# (it knows the allowed values); a raw `INSERT` that bypasses the ORM is stopped by the
# database itself:

# %%
async with taskkit.session(engine) as session:
    session.add(unchecked)
    try:
        await session.commit()
    except SQLAlchemyError as e:
        show(e)

raw_insert = text(
    "INSERT INTO task (title, status, priority, created_at, updated_at) "
    "VALUES (:title, :status, 'medium', '2025-06-01 00:00:00', '2025-06-01 00:00:00')"
)
for values in (
    {"title": "Fine title", "status": "bogus"},
    {"title": "x" * 300, "status": "pending"},
):
    try:
        async with engine.begin() as conn:
            await conn.execute(raw_insert, values)
    except IntegrityError as e:
        show(e)

# %% [markdown]
# ### Pitfall: SQLite foreign keys are off
#
# SQLite checks foreign keys only on connections that ask for it (`PRAGMA foreign_keys=ON`),
# and every new connection starts with them off. A plain `sqlite3` connection to the same file
# happily stores a task in project 999, which does not exist (rolled back right after):

# %%
orphan = (
    "INSERT INTO task (title, status, priority, project_id, created_at, updated_at) "
    "VALUES ('Orphan', 'pending', 'medium', 999, '2025-06-01 00:00:00', '2025-06-01 00:00:00')"
)
plain = sqlite3.connect(db_path)
print("foreign_keys:", plain.execute("PRAGMA foreign_keys").fetchone()[0])
plain.execute(orphan)
print(
    "stored:", plain.execute("SELECT title, project_id FROM task WHERE project_id = 999").fetchall()
)
plain.rollback()
plain.close()

# %% [markdown]
# CHECK constraints, by contrast, hold on every connection; that is why taskkit enforces lengths
# with CHECKs (SQLite ignores `VARCHAR(200)`). taskkit's engine turns foreign keys on for every
# connection it opens, so the same insert fails, and `create_task` says what is wrong before
# the database is even asked:

# %%
async with engine.connect() as conn:
    print("foreign_keys:", (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar())
    try:
        await conn.exec_driver_sql(orphan)
    except IntegrityError as e:
        show(e)

async with taskkit.session(engine) as session:
    try:
        await taskkit.create_task(session, {"title": "Orphan", "project_id": 999})
    except taskkit.NotFoundError as e:
        show(e)

# %% [markdown]
# ### Exercise 1
#
# Write `MyProjectUpdate`, the PATCH model for projects: a single field `name` that may be
# left out, and when given must be 1 to 100 characters. The check sends it an empty body, a
# name, and two bad names.


# %% tags=["exercise-02-1"]
class MyProjectUpdate(SQLModel): ...  # your field here


# %%
check_project_update(MyProjectUpdate)

# %% [markdown]
# ## 2. The async engine and session
#
# The pattern: `create_async_engine(url)` and `AsyncSession(engine)`. Two things go wrong with
# that as written, both with the same cryptic error, `MissingGreenlet`.
#
# To show them we use the usual snippet's own models (a project with tasks, relationships left
# at their defaults) on a scratch in-memory database:

# %%
Scratch = scratch_base()


class SnippetProject(Scratch, table=True):
    __tablename__ = "project"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    tasks: list["SnippetTask"] = Relationship(back_populates="project")


class SnippetTask(Scratch, table=True):
    __tablename__ = "task"
    id: int | None = Field(default=None, primary_key=True)
    title: str
    project_id: int | None = Field(default=None, foreign_key="project.id")
    project: SnippetProject | None = Relationship(back_populates="tasks")


snippet_engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
async with snippet_engine.begin() as conn:
    await conn.run_sync(Scratch.metadata.create_all)


# %% [markdown]
# A `MissingGreenlet` error means SQLAlchemy needed to run SQL *implicitly*, in the middle of
# an attribute access, which async code cannot do. It also leaves a never-awaited coroutine
# behind that Python warns about whenever it is garbage-collected (often cells later), so the
# demonstrations run inside a small helper that collects it quietly.


# %%
@contextmanager
def leftovers_collected():
    """Collect, without a warning, the coroutine a MissingGreenlet error leaves behind."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)
        try:
            yield
        finally:
            gc.collect()


# %% [markdown]
# ### Pitfall: objects expire on commit
#
# `AsyncSession` expires every object when it commits, so that the next read reloads it. In
# async code that reload cannot happen implicitly:

# %%
with leftovers_collected():
    async with AsyncSession(snippet_engine) as s:  # the snippet's session
        apollo = SnippetProject(name="Apollo")
        s.add(apollo)
        await s.commit()
        try:
            print(apollo.name)
        except SQLAlchemyError as e:
            show(e)

# %% [markdown]
# `taskkit.session(engine)` is an `AsyncSession` with `expire_on_commit=False`: objects stay
# readable after a commit (call `await session.refresh(obj)` when you do want fresh values).

# %% [markdown]
# Every cell that creates a row in this lesson must survive being run twice, like any
# idempotent script. Project names are unique, so it looks the project up first and creates
# it only when missing ("get or create"):


# %%
async def project_named(session: AsyncSession, name: str) -> Project:
    """The project called ``name``, created if it does not exist yet."""
    found = (await session.exec(select(Project).where(Project.name == name))).first()
    return found or await taskkit.create_project(session, {"name": name})


async with taskkit.session(engine) as session:
    zeta = await project_named(session, "Zeta")  # commits when it creates
print(zeta.id, zeta.name)

# %% [markdown]
# The naive form, `create_project` alone, works once; from then on the same cell fails:

# %%
async with taskkit.session(engine) as session:
    try:
        await taskkit.create_project(session, {"name": "Zeta"})
    except taskkit.AlreadyExistsError as e:
        show(e)

# %% [markdown]
# ### Pitfall: lazy loads in async
#
# Relationship attributes load *lazily* by default: reading `task.project` runs a query then
# and there. In async code, that is `MissingGreenlet` again:

# %%
with leftovers_collected():
    async with AsyncSession(snippet_engine, expire_on_commit=False) as s:
        s.add(SnippetTask(title="Write report", project_id=1))
        await s.commit()
    async with AsyncSession(snippet_engine) as s:
        task = (await s.exec(select(SnippetTask).limit(1))).one()
        try:
            print(task.project)
        except SQLAlchemyError as e:
            show(e)

# %% [markdown]
# taskkit declares its relationships with `lazy="raise_on_sql"`: reading one that is not loaded
# is a clear error naming the relationship, raised before any SQL is attempted.

# %%
async with taskkit.session(engine) as session:
    task = await session.get(Task, 1)
    try:
        print(task.project)
    except InvalidRequestError as e:
        show(e)

# %% [markdown]
# Note the "on SQL": a many-to-one whose target is already in the session needs no query, so
# it is simply returned. Code that happens to have loaded the project (and still holds it: the
# session keeps only weak references) works; the same line on its own fails. Do not rely on
# it: load what you read, explicitly.

# %%
async with taskkit.session(engine) as session:
    task = await session.get(Task, 1)
    its_project = await session.get(Project, task.project_id)  # now in the session...
    print(task.project.name)  # ...so no SQL is needed and no error is raised

# %% [markdown]
# Three ways to load it, all explicit: eager loading in the statement (`selectinload`),
# taskkit's `get_task(..., with_project=True)`, or `await session.refresh(obj, ["project"])`
# for an object you already hold.

# %%
async with taskkit.session(engine) as session:
    eager = (
        await session.exec(select(Task).where(Task.id == 1).options(selectinload(Task.project)))
    ).one()
    print("selectinload:      ", eager.project.name)

async with taskkit.session(engine) as session:
    helper = await taskkit.get_task(session, 1, with_project=True)
    print("get_task(...):     ", helper.project.name)

async with taskkit.session(engine) as session:
    held = await session.get(Task, 1)
    await session.refresh(held, ["project"])
    print("session.refresh(): ", held.project.name)

# %% [markdown]
# ### Pitfall: `exec` versus `execute`
#
# SQLModel's `session.exec(select(Task))` returns `Task` objects. SQLAlchemy's
# `session.execute(...)` returns `Row` tuples (each holding a `Task`), and SQLModel marks it
# deprecated for selects. The warning is recorded here explicitly, so that it is shown rather
# than left to fail a run that treats warnings as errors:

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
# Selecting several columns gives rows with either method; `exec` is still the one to use:

# %%
async with taskkit.session(engine) as session:
    pairs = (await session.exec(select(Task.id, Task.title).order_by(Task.id).limit(2))).all()
print(pairs)

# %% [markdown]
# ### What `taskkit.connect` does for you
#
# Besides the session above, `taskkit.connect(url)` sets up what the plain engine leaves out:
# on SQLite, foreign keys on every connection, WAL journaling and a busy timeout so that
# concurrent writers wait instead of failing, and transactions that begin `DEFERRED` (a reader
# holds no lock) unless taskkit writes, which begins `IMMEDIATE` (the write lock up front):

# %%
async with engine.connect() as conn:
    for pragma in ("foreign_keys", "journal_mode", "busy_timeout"):
        print(f"{pragma:13}", (await conn.exec_driver_sql(f"PRAGMA {pragma}")).scalar())

# %% [markdown]
# The foreign-key pragma comes from a `connect` event listener, which runs on every new DBAPI
# connection. SQLAlchemy's documentation gives a recipe that saves and restores the driver's
# `autocommit` attribute around the pragma. On aiosqlite that attribute does not exist, so the
# recipe breaks every connection:

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
    show(e)
await recipe_engine.dispose()

# %% [markdown]
# taskkit's listener (in `taskkit/_db.py`) uses a plain cursor, and also hands transaction
# control to SQLAlchemy so that its `begin` listener can issue `BEGIN DEFERRED`, or `BEGIN
# IMMEDIATE` when a write asks for it:

# %%
connect_source = inspect.getsource(taskkit._db._connect_sqlite)
start = connect_source.index('    @event.listens_for(engine.sync_engine, "connect")')
print(textwrap.dedent(connect_source[start : connect_source.index("    return engine")]))

# %% [markdown]
# ### Pitfall: the PostgreSQL URL you are handed
#
# Neon (like Heroku and most hosts) hands out a libpq URL, `postgres://` or `postgresql://`,
# with `sslmode` and `channel_binding` parameters. The usual snippet converts it by string
# replacement. Both failures below happen before any network traffic, so no server is needed
# to see them. First, the Neon URL as given, through the snippet's conversion:

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
    show(e)
await snippet_pg.dispose()

# %% [markdown]
# asyncpg's `connect()` takes keyword arguments, and SQLAlchemy passes every URL query
# parameter as one; `channel_binding` is a libpq setting asyncpg does not have. Second, the
# older `postgres://` scheme (Heroku's, and what many tools print): the snippet's
# `startswith("postgresql://")` does not match, the URL goes through unchanged, and SQLAlchemy
# has no dialect called `postgres`:

# %%
try:
    create_async_engine(neon.replace("postgresql://", "postgres://", 1))
except NoSuchModuleError as e:
    show(e)

# %% [markdown]
# `taskkit.database_url` (used by `taskkit.connect`) parses the URL instead of editing the
# string: it maps both schemes to `postgresql+asyncpg` (SQLAlchemy 2.1 would otherwise pick
# psycopg for a bare `postgresql://`), turns `sslmode` into asyncpg's `ssl`, drops the
# libpq-only parameters asyncpg would reject, and refuses unknown ones with a message. (Never
# print a URL with its password: SQLAlchemy's `URL.render_as_string(hide_password=True)`
# hides it, as taskkit's own messages do.)

# %%
for given in (neon, neon.replace("postgresql://", "postgres://", 1)):
    print(make_url(taskkit.database_url(given)).render_as_string(hide_password=True))
try:
    taskkit.database_url("postgresql://ann:s3cret@db.example.com/app?sslmdoe=require")
except taskkit.ConfigurationError as e:
    show(e)

# %% [markdown]
# ### Exercise 2
#
# Predict, then run: what does `taskkit.database_url` make of this URL? Write the exact
# string (the password stays in: `database_url` returns what the engine needs).

# %% tags=["exercise-02-2"]
handed = "postgres://bob:pw@db.example.com:5433/app?sslmode=verify-full&channel_binding=prefer"
predicted_url = ...  # a string

# %%
check_prediction((predicted_url,), (taskkit.database_url(handed),), "predicted_url")

# %% [markdown]
# ## 3. Relationships
#
# ### One-to-many: a project and its tasks
#
# `Task.project_id` is the foreign key; `Task.project` and `Project.tasks` are the two ends of
# one relationship. Load the collection eagerly, here with `get_project(..., with_tasks=True)`:

# %%
async with taskkit.session(engine) as session:
    apollo_id = (await session.exec(select(Project.id).where(Project.name == "Apollo"))).one()
    project = await taskkit.get_project(session, apollo_id, with_tasks=True)
by_status = pd.Series([t.status.value for t in project.tasks]).value_counts()
print(f"{project.name}: {len(project.tasks)} tasks;", by_status.to_dict())

# %% [markdown]
# Behind the helper there is no magic. By hand, the eager load is an option on the statement:

# %%
async with taskkit.session(engine) as session:
    statement = select(Project).where(Project.id == apollo_id).options(selectinload(Project.tasks))
    by_hand = (await session.exec(statement)).one()
print(f"{by_hand.name}: {len(by_hand.tasks)} tasks")

# %% [markdown]
# and taskkit's `get_task`/`get_project` go through one small function that gets the object and
# then loads the named relationships with `session.refresh(obj, attribute_names=...)`:

# %%
print(inspect.getsource(taskkit._crud._load))

# %% [markdown]
# ### Many-to-many: tasks and workers, through a link model
#
# A task has several workers and a worker several tasks. The link table holds one row per
# assignment, and its primary key is the pair, so the same assignment cannot be stored twice.
# taskkit's link model, and the `Task` side of the relationship that goes through it:

# %%
print(inspect.getsource(TaskWorkerLink))
task_source = inspect.getsource(Task)
print(
    task_source[
        task_source.index("    workers:") : task_source.index(
            "    )\n", task_source.index("    workers:")
        )
        + 6
    ]
)

# %% [markdown]
# Written by hand, the usual way: get a task and a worker, append the worker to the task's
# `workers` list, commit. (The worker is fetched or, the first time, made from a validated
# `WorkerCreate`: get-or-create again, so the cell re-runs.)

# %%
async with taskkit.session(engine) as session:
    noor = await session.get(Worker, "w-new") or Worker.model_validate(
        WorkerCreate(id="w-new", name="Noor Quinn")
    )
    task = await session.get(Task, 1)
    try:
        task.workers.append(noor)
    except InvalidRequestError as e:
        show(e)

# %% [markdown]
# **Why:** `task.workers` was never loaded. Appending to a collection needs its current
# contents, and loading them here would be an implicit query, which async code cannot run
# (the `MissingGreenlet` of §2) and `lazy="raise_on_sql"` turns into this clear error.
# **Fix:** load the collection in the query that fetches the task, then append:

# %%
async with taskkit.session(engine) as session:
    noor = await session.get(Worker, "w-new") or Worker.model_validate(
        WorkerCreate(id="w-new", name="Noor Quinn")
    )
    statement = select(Task).where(Task.id == 1).options(selectinload(Task.workers))
    task = (await session.exec(statement)).one()
    if noor not in task.workers:  # the pair is the primary key: a second append would fail
        task.workers.append(noor)  # a new worker is added to the session with the link
    await session.commit()
    links = (await session.exec(select(TaskWorkerLink).where(TaskWorkerLink.task_id == 1))).all()

print("links of task 1:", [(link.task_id, link.worker_id) for link in links])
print("task 1 workers: ", [w.name for w in task.workers])

# %% [markdown]
# taskkit's `assign(session, task_id, worker_id)` skips the collection: it checks that both
# exist and adds the link row itself (or finds it: assigning twice is a no-op), so it never
# needs to load a task's workers. Reading both sides back:

# %%
async with taskkit.session(engine) as session:
    await taskkit.assign(session, 2, "w-new")
async with taskkit.session(engine) as session:
    task = await taskkit.get_task(session, 1, with_project=True, with_workers=True)
async with taskkit.session(engine) as session:
    newcomer = await taskkit.get_worker(session, "w-new", with_tasks=True)
print("task 1 workers: ", [w.name for w in task.workers])
print("w-new's tasks:  ", sorted(t.id for t in newcomer.tasks))

# %% [markdown]
# For an API response, the Read models turn the loaded objects into plain data, relationships
# included (they must have been loaded first):

# %%
TaskReadWithRelations.model_validate(task).model_dump(
    include={"id", "title", "status", "project", "workers"}, mode="json"
)

# %% [markdown]
# ### Exercise 3
#
# Write `assign_by_hand(session, task_id, worker_id)`: give the task that worker through the
# `Task.workers` collection (not `taskkit.assign`, not a `TaskWorkerLink` row), and commit.
# Calling it twice must not fail. The check assigns `w-new` to task 3 twice, looks for exactly
# one link row, then removes it again.


# %% tags=["exercise-02-3"]
async def assign_by_hand(
    session: AsyncSession, task_id: int, worker_id: str
) -> None: ...  # your code here


# %%
await check_assign_by_hand(assign_by_hand, engine)

# %% [markdown]
# ## 4. Query patterns
#
# Statements are plain `select()` objects: build them, extend them, run them with
# `session.exec`. A session for the rest of the lesson:

# %%
session = taskkit.session(engine)

pending = select(Task).where(Task.status == "pending")
pending_high = select(Task).where(Task.status == "pending", Task.priority == "high")  # AND
print(
    "pending:",
    await count(session, pending),
    "| pending and high:",
    await count(session, pending_high),
)
print("get by id:", (await session.get(Task, 42)).title)

# %% [markdown]
# ### OR
#
# `or_` combines conditions as in any SQLAlchemy code; taskkit's `any_of` takes
# `select_tasks`' filters (names instead of ids, lists, search, dates) and ORs them. Same rows:

# %%
with_or = select(Task).where(or_(Task.status == "in_progress", Task.project_id == apollo_id))
with_any_of = select(Task).where(any_of(status="in_progress", project="Apollo"))
print("or_:", await count(session, with_or), "| any_of:", await count(session, with_any_of))

# %% [markdown]
# ### Type-checked ordering: `col()`
#
# `select(Task).order_by(Task.created_at.desc())` runs: at runtime `Task.created_at` is a
# SQLAlchemy column. A type checker, though, reads the model's annotation, `datetime`, which
# has no `.desc()`. Wrapping the attribute in SQLModel's `col()` says "this is a column". mypy,
# run on a two-line file:

# %%
(scratch_dir / "ordering.py").write_text(
    "from sqlmodel import col, select\n\n"
    "from taskkit import Task\n\n"
    "newest = select(Task).order_by(Task.created_at.desc())\n"
    "typed = select(Task).order_by(col(Task.created_at).desc())\n"
)
checked = subprocess.run(
    [
        sys.executable,
        "-m",
        "mypy",
        "--no-incremental",
        "--cache-dir",
        "/dev/null",
        "--no-color-output",
        "ordering.py",
    ],
    cwd=scratch_dir,
    capture_output=True,
    text=True,
)
print(checked.stdout.strip())

# %% [markdown]
# Line 5, the usual form, is an error; line 6, with `col()`, type-checks, and both build the
# same SQL. The same goes for `.in_()`, `.is_(None)`, `.like()` and the other column methods.

# %%
print(
    str(select(Task.id).order_by(Task.created_at.desc())).split("ORDER BY")[1],
    "|",
    str(select(Task.id).order_by(col(Task.created_at).desc())).split("ORDER BY")[1],
)

# %% [markdown]
# ### Ordering: say what you mean, and end with a unique key
#
# Three surprises hide in `order_by`:
#
# * A string-enum column sorts alphabetically, not in its declared order:

# %%
alphabetical = select(Task.priority).distinct().order_by(Task.priority)
print("ORDER BY priority:", [p.value for p in (await session.exec(alphabetical)).all()])

# %% [markdown]
# * NULLs go first in ascending order on SQLite and last on PostgreSQL, so the same query
#   starts differently on the two backends (here: open tasks have no `completed_at`):

# %%
plain_first = (await session.exec(select(Task).order_by(Task.completed_at).limit(1))).one()
print("SQLite, ORDER BY completed_at: first completed_at =", plain_first.completed_at)

# %% [markdown]
# * Ties. Thousands of tasks share each priority, and the database may return tied rows in any
#   order, differently from one query to the next. With `OFFSET` pages that means rows seen
#   twice and rows never seen (on PostgreSQL, a walk over 2,000 rows in pages of 37 ordered by
#   a non-unique key missed 563 of them). The fix is a unique last sort key.
#
# `select_tasks(order_by=...)` handles all three: enums in declared order, NULLs last on every
# backend, and `id` appended as the tiebreak. The SQL shows it:

# %%
ordered = select_tasks(order_by=["priority", "completed_at"])
sql = str(ordered.compile(engine.sync_engine, compile_kwargs={"literal_binds": True}))
print(sql.split("ORDER BY")[1].strip())
first_row = (await session.exec(ordered.limit(1))).one()
print("first:", first_row.priority.value, first_row.completed_at)

# %% [markdown]
# ### Eager loading
#
# Loading a relationship per object is the "N+1 queries" problem (and, in async, an error, as
# seen above). `selectinload` loads it for all rows with one extra `SELECT ... WHERE id IN
# (...)`. Counting the SELECTs the engine runs for 50 tasks with projects and workers:

# %%
selects = []


def record_select(conn, cursor, statement, parameters, context, executemany):
    if statement.lstrip().upper().startswith("SELECT"):
        selects.append(re.search(r"FROM (\w+)", statement).group(1))  # the first table read


event.listen(engine.sync_engine, "before_cursor_execute", record_select)
loaded = (await session.exec(select_tasks(with_project=True, with_workers=True).limit(50))).all()
event.remove(engine.sync_engine, "before_cursor_execute", record_select)
# (The two selectinload queries may run in either order; sorted for a stable printout.)
print(f"{len(loaded)} tasks with projects and workers in {len(selects)} SELECTs:", sorted(selects))

# %% [markdown]
# ### Pagination: OFFSET versus keyset
#
# The usual recipe is `.offset(20).limit(10)`. It has two problems:
#
# * **Cost.** To return page *n* the database reads and throws away every row before it; deep
#   pages of a large table are slow, and each page number is a new count.
# * **Exactly once.** Rows inserted or deleted between two pages shift everything after them.
#
# Keyset pagination (`taskkit.paginate`) remembers the sort key of the last row and asks
# for the rows after it: an index seek, as cheap on page 1,000 as on page 1, and unaffected
# by rows added elsewhere. Watch a new task arrive between page 1 and page 2 of "pending tasks,
# newest first":

# %%
newest_pending = select_tasks(status="pending")  # ordered by -created_at, then -id
offset_1 = await paginate_offset(session, newest_pending, page=1, size=5)
keyset_1 = await paginate(session, newest_pending, size=5)

await taskkit.create_task(session, {"title": "Urgent: fix login timeout"})  # newest of all

offset_2 = await paginate_offset(session, newest_pending, page=2, size=5)
keyset_2 = await paginate(session, newest_pending, size=5, cursor=keyset_1.next_cursor)

print("OFFSET  page 1:", [t.id for t in offset_1], " page 2:", [t.id for t in offset_2])
print("keyset  page 1:", [t.id for t in keyset_1], " page 2:", [t.id for t in keyset_2])
repeated = {t.id for t in offset_1} & {t.id for t in offset_2}
print(
    "seen twice with OFFSET:",
    sorted(repeated),
    "| with keyset:",
    sorted({t.id for t in keyset_1} & {t.id for t in keyset_2}),
)

# %% [markdown]
# The new task pushed every row one place down, so OFFSET's page 2 starts with a row page 1
# already showed. The keyset page continues exactly where page 1 ended.
#
# `paginate_offset` is still useful where page numbers and totals matter and the table is
# small: it knows how many pages there are.

# %%
print(repr(offset_2))
await session.close()

# %% [markdown]
# ### Exercise 4
#
# Write `recent_high`: a statement for the 5 newest *pending*, *high*-priority tasks, newest
# first, ties broken by the larger id, ordered with `col()` so that it type-checks. The check
# runs it and compares the ids with `select_tasks(status="pending", priority="high")`.

# %% tags=["exercise-02-4"]
recent_high = ...  # select(Task)...

# %%
await check_recent_high(recent_high, engine)

# %% [markdown]
# ## 5. The in-memory testing pattern
#
# Tests want a database that is fast, empty and private. The pattern: in-memory SQLite with
# `StaticPool`, so that every session shares the one connection (a second connection to
# `:memory:` would be a second, empty database). `taskkit.connect("sqlite+aiosqlite://")` sets
# that up, with the same foreign-key pragma as every taskkit engine.
#
# ### Pitfall: an async fixture under pytest-asyncio's strict mode
#
# The usual snippet's fixture is synchronous; made async for an async app, it is typically
# written with `@pytest.fixture`. pytest-asyncio's default mode is *strict*: it handles only
# the fixtures and tests marked as its own, and pytest itself does not run async fixtures. A
# test file, written to a temporary directory with that default spelled out, and run:

# %%
tests_dir = scratch_dir / "fixture-tests"
tests_dir.mkdir(exist_ok=True)
(tests_dir / "pytest.ini").write_text(
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


def run_pytest(decorator: str) -> None:
    """Write the test file with this fixture decorator, run pytest on it, print the outcome."""
    (tests_dir / "test_fixture.py").write_text(fixture_test.format(decorator=decorator))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--color=no", "-p", "no:cacheprovider"],
        cwd=tests_dir,
        capture_output=True,
        text=True,
        # pytest writes its summary differently on a CI machine (CI set): read it as a user would.
        env={k: v for k, v in os.environ.items() if k not in ("CI", "BUILD_NUMBER")},
    )
    lines = done.stdout.splitlines()
    print(f"@{decorator}: exit {done.returncode}")
    for line in lines:
        if "requested an async fixture" in line:
            print(" ", line.split(". This")[0])
    print(" ", re.sub(r" in [\d.]+s", "", lines[-1]))


run_pytest("pytest.fixture")

# %% [markdown]
# **Fix:** mark the fixture as pytest-asyncio's with `@pytest_asyncio.fixture` (and each test
# with `@pytest.mark.asyncio`). This works in strict mode and in auto mode alike; taskkit's own
# suite uses auto mode (`asyncio_mode = "auto"` in `pyproject.toml`), where plain
# `@pytest.fixture` would have worked, which is how a fixture like the first one goes unnoticed.

# %%
run_pytest("pytest_asyncio.fixture")
print((tests_dir / "test_fixture.py").read_text())

# %% [markdown]
# ### Pitfall: two sessions on one `StaticPool` connection
#
# The shared connection is also the pattern's limit: two sessions at once are two users of one
# connection and so of one transaction. With the usual snippet's engine (plain
# `create_async_engine` with `StaticPool`): session A adds a project and flushes (not yet
# committed); session B, a second "user", reads; B closes, as a request handler does when it
# is done; then A commits.

# %%
plain_memory = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
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
# B saw a row that was never committed (a "dirty read" no real database allows between two
# connections), B's rollback discarded A's work, and A's commit reported success while storing
# nothing. No error anywhere.
#
# With `taskkit.connect`, every transaction starts with an explicit `BEGIN`, so B's attempt to
# start a second transaction on the busy connection fails loudly instead. Its failure still
# rolls the connection back, taking A's row with it: the engine cannot make one connection
# behave like two. Test concurrency on a temporary file (one connection per session) instead.

# %%
memory = taskkit.connect("sqlite+aiosqlite://")
print("pool:", type(memory.pool).__name__)
await taskkit.create_db_and_tables(memory)

a, b = taskkit.session(memory), taskkit.session(memory)
a.add(Project(name="Flushed by A"))
await a.flush()
try:
    await b.exec(select(func.count()).select_from(Project))
except SQLAlchemyError as e:
    show(e)
await a.commit()
print("after A's commit:", (await b.exec(select(Project.name).order_by(Project.id))).all())
await a.close()
await b.close()

# %% [markdown]
# ### Exercise 5
#
# Predict, then run: on the plain `StaticPool` engine, session A *adds* a project but does not
# flush, and session B reads the project names. What list does B get?

# %% tags=["exercise-02-5"]
predicted_b_reads = ...  # a list of names

# %%
plain_memory = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
async with plain_memory.begin() as conn:
    await conn.run_sync(SQLModel.metadata.create_all)
async with AsyncSession(plain_memory) as a, AsyncSession(plain_memory) as b:
    a.add(Project(name="Added by A"))
    b_reads = (await b.exec(select(Project.name))).all()
await plain_memory.dispose()
check_prediction((predicted_b_reads,), (b_reads,), "predicted_b_reads")

# %% [markdown]
# ## 6. Migrations
#
# The pattern sets up Alembic with `target_metadata = SQLModel.metadata` and runs
# `alembic upgrade head`. taskkit ships its revisions inside the package and runs them through
# its own engine, each command in one transaction (on SQLite too), so a failing revision
# changes nothing. From the command line:
#
# ```bash
# uv run taskkit db history      # the revisions taskkit ships
# uv run taskkit db current      # where the database is
# uv run taskkit db upgrade      # to head
# uv run taskkit db check        # exit 1 if behind head or different from the models
# ```
#
# Run here against the lesson's database (from its directory, so the output shows a short
# relative path):


# %%
def taskkit_cli(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "taskkit", *args],
        cwd=scratch_dir,
        capture_output=True,
        text=True,
    )
    print(f"$ taskkit {' '.join(args)}   (exit {done.returncode})")
    print(done.stdout.strip() or done.stderr.strip())


taskkit_cli("db", "history")
taskkit_cli("db", "current", "--db", "sqlite:///lesson.db")
taskkit_cli("db", "check", "--db", "sqlite:///lesson.db")

# %% [markdown]
# Each of these commands is a function of taskkit's API: `upgrade_schema`, `downgrade_schema`,
# `stamp_schema`, `schema_revision` (`db current`), `check_schema` and `schema_history`. From
# Python:

# %%
print("current:", await taskkit.schema_revision(engine))
pd.DataFrame([vars(r) for r in taskkit.schema_history()]).set_index("id").fillna("")

# %% [markdown]
# `taskkit.ensure_schema(engine)` is what notebooks and scripts call: it creates an empty
# database through the revisions and upgrades an older one. A database made by
# `create_db_and_tables` (the quick path of the testing pattern) has no recorded revision, and
# taskkit refuses to guess which one it matches:

# %%
try:
    await taskkit.ensure_schema(memory)
except taskkit.MigrationError as e:
    show(e)

try:
    await taskkit.check_schema(memory)
except taskkit.MigrationError as e:
    show(e)

# %% [markdown]
# `check_schema` compared the tables with the models and found them equal, so stamping the head
# revision adopts the database; from then on it upgrades like any other:

# %%
await taskkit.stamp_schema(memory, "head")
print(
    "current:",
    await taskkit.schema_revision(memory),
    "| ensure_schema:",
    await taskkit.ensure_schema(memory),
)

# %% [markdown]
# To change the schema: edit the models, then write a revision against a database at head with
# `uv run alembic -c taskkit/_migrations/alembic.ini revision --autogenerate --rev-id 0004 -m
# "..."`, and add what autogenerate misses (CHECK constraints, data changes, SQLite table
# options). Notebook `05-alembic` teaches all of that from `alembic init` on, with each usual
# step failing live first.

# %% [markdown]
# ### Exercise 6
#
# From `taskkit.schema_history()` (a list of revisions with `id` and `is_head`), compute the
# id of the head revision; the check compares it with what the lesson's database records.

# %% tags=["exercise-02-6"]
head_id = ...  # from taskkit.schema_history()

# %%
check_prediction((head_id,), (await taskkit.schema_revision(engine),), "head_id")

# %% [markdown]
# ## 7. Reading the SQL: keyset against OFFSET, what `selectinload` emits, why search scans
#
# This section stands on its own: a fresh database, two teaching tools, and its own clean-up.
# `taskkit.show_sql(stmt, engine)` prints the SQL this database receives (its dialect, lists
# expanded, values written in for reading); `await taskkit.explain(engine, stmt)` asks the
# database for its plan and sums it up: which index it uses, whether it reads a whole table,
# whether it sorts.

# %%
import tempfile
from pathlib import Path

from sqlalchemy import event, tuple_
from sqlmodel import select

import taskkit
from taskkit import Task

teach_dir = Path(tempfile.mkdtemp(prefix="taskkit-sql-"))
teach = taskkit.connect(f"sqlite:///{teach_dir / 'teach.db'}")
await taskkit.ensure_schema(teach)
await taskkit.seed(teach, tasks=2_000, projects=5, workers=10, seed=0, progress=False)
newest_first = taskkit.select_tasks(order_by="-created_at")

# %% [markdown]
# ### Keyset against OFFSET
#
# Page 31 by OFFSET asks the database to walk the index from the newest task and throw away
# the first 1,500 rows before it keeps 50. The plan says `SCAN ... USING INDEX`: the index
# gives the order, but it is read from its start, and OFFSET discards as it goes.

# %%
by_offset = newest_first.offset(1_500).limit(50)
print(taskkit.show_sql(by_offset, teach))
await taskkit.explain(teach, by_offset)

# %% [markdown]
# The keyset page remembers where the previous page ended (its last `created_at` and `id`) and
# asks for the rows after that point. How the condition is written matters. Spelled out as
# `created_at < x OR (created_at = x AND id < y)`, SQLite does not see a range on the index and
# still walks it from the start (`SCAN`):

# %%
async with taskkit.session(teach) as s:
    previous = (await s.exec(newest_first.offset(1_499).limit(1))).one()
spelled_out = newest_first.where(
    (Task.created_at < previous.created_at)
    | ((Task.created_at == previous.created_at) & (Task.id < previous.id))
).limit(50)
await taskkit.explain(teach, spelled_out)

# %% [markdown]
# As a row-value comparison, `(created_at, id) < (x, y)`, it is a range, and the plan becomes
# `SEARCH`: a seek into the index at the cursor, so the rows before the page are never read and
# page 31 costs what page 1 costs. This is the condition `taskkit.paginate` writes (with a
# plain `created_at <= x` in front, for databases that seek only on single columns). SQLite's
# dialect always writes an `OFFSET` after a `LIMIT`; `OFFSET 0` skips nothing.

# %%
by_keyset = newest_first.where(
    tuple_(Task.created_at, Task.id) < tuple_(previous.created_at, previous.id)
).limit(50)
print(taskkit.show_sql(by_keyset, teach))
await taskkit.explain(teach, by_keyset)

# %% [markdown]
# ### What `selectinload` emits
#
# `with_project=True` loads each task's project with `selectinload`: one query for the tasks,
# then one more for all their projects at once (`IN` the ids it saw), never one per task. A
# listener on the engine shows the statements as the driver receives them:

# %%
emitted = []


def remember(conn, cursor, statement, parameters, context, executemany):
    emitted.append((" ".join(statement.split()), parameters))


event.listen(teach.sync_engine, "before_cursor_execute", remember)
async with taskkit.session(teach) as s:
    three = (await s.exec(taskkit.select_tasks(with_project=True, order_by="id").limit(3))).all()
event.remove(teach.sync_engine, "before_cursor_execute", remember)
for statement, parameters in emitted:
    if statement.startswith("SELECT"):
        print(statement, parameters, sep="\n", end="\n\n")
print([(t.id, t.project.name if t.project else None) for t in three])

# %% [markdown]
# ### Why a search cannot use an index
#
# An index keeps titles sorted, so it finds a title that *starts* with a known text the way you
# find a word in a dictionary. A search for text *anywhere* in the title (`*login*` here,
# SQLite's case-folding `GLOB`; `ILIKE '%login%'` on PostgreSQL) can match in the middle of any
# title, so the sorted order does not help: the database reads every row.

# %%
search = taskkit.select_tasks(search="login", order_by="id")
print(taskkit.show_sql(search, teach))
await taskkit.explain(teach, search)

# %% [markdown]
# An exact title, by contrast, is a seek into `ix_task_title`:

# %%
await taskkit.explain(teach, select(Task).where(Task.title == "Fix login timeout"))

# %% [markdown]
# On a table of a few thousand rows reading everything is instant; on millions, filter by
# something indexed first (a status, a project, a date range) so the search reads fewer rows.

# %%
await teach.dispose()
shutil.rmtree(teach_dir)

# %% [markdown]
# ## Clean up

# %%
await snippet_engine.dispose()
await memory.dispose()
await engine.dispose()
shutil.rmtree(scratch_dir)
