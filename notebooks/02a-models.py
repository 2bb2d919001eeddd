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
# # Lesson 2a · Models: one family per entity, validated at the edge
#
# *The course: 01 explore → **2a models** → 2b sessions → 2c relationships → 2d queries →
# 2e testing and the schema → 04 API → 05 Alembic → 06 import (`notebooks/README.md`).*
#
# **After this lesson you can**
#
# - write a model family: a base with the shared fields, the table, and the Create, Update and
#   Read models callers send and receive;
# - say why a `table=True` model must never be built from user data, and validate with the
#   Create model or `Model.model_validate` instead;
# - write a validator of your own, and refuse unknown keys with `extra="forbid"`;
# - apply a PATCH with `model_dump(exclude_unset=True)`;
# - keep the same rules in the database, where another writer cannot skip them.
#
# Each pattern is shown first as it is usually written, failing on current releases, then in
# the form that works. Expected errors are caught and printed as their type and first line.
# Run the cells in order; any cell can be run again. A cell that uses the database opens a
# session with `async with` and ends it in the same cell, so no cell holds a lock when it is
# done (lesson 2b explains why that matters).

# %%
import shutil
import sqlite3
import warnings
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Annotated, Literal

import taskkit_course as course
from pydantic import AfterValidator, ConfigDict, ValidationError, field_validator
from sqlalchemy import CheckConstraint, String, text
from sqlalchemy.exc import IntegrityError, InvalidRequestError, SAWarning, SQLAlchemyError
from sqlmodel import Field, SQLModel
from taskkit_course.checks import check_project_update

import taskkit
from taskkit import Task, TaskCreate, TaskUpdate

# %%
# NBVAL_IGNORE_OUTPUT
print({name: version(name) for name in ("sqlmodel", "sqlalchemy", "pydantic")})

# %% [markdown]
# A database for the lesson: a fresh SQLite file in a scratch directory (the same path every
# time this cell runs in this kernel, emptied first), built by taskkit's migrations and seeded
# with a small fixed dataset. A few cells write to it through a session:
# `async with taskkit.session(engine) as session:` opens one, `session.add(obj)` stages an
# object, `await session.commit()` writes it, and the block's end closes the session. Lesson 2b
# takes those steps apart.

# %%
workdir = course.workdir("02a-models")
engine = taskkit.connect(f"sqlite:///{workdir / 'lesson.db'}")
await taskkit.ensure_schema(engine)
seeded = await taskkit.seed(engine, tasks=200, projects=4, workers=6, seed=0, progress=False)
print(f"{seeded.tasks} tasks, {seeded.projects} projects, {seeded.workers} workers")

# %% [markdown]
# ## 1. A model family
#
# One family per entity. `TaskBase` holds the fields and rules every member shares;
# `Task(table=True)` is the table; `TaskCreate`, `TaskUpdate` and `TaskRead` are what callers
# send and receive. Written out as in your own `models.py`, in the form that works on current
# releases (each choice is explained below).
#
# In a project the models live in a module imported once. In a notebook a cell can run twice,
# and a table can be defined only once per SQLAlchemy `MetaData` (§3 shows the error), so the
# lesson builds its models on `course.scratch_base()`: a base with a registry and `MetaData`
# of its own, new every time. Read `Scratch` as `SQLModel`.

# %%
Scratch = course.scratch_base()  # in your models.py: SQLModel


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
# *must* give. `course.required_fields` reads that from the models (pydantic's
# `model_fields`), so the table cannot drift from the code:

# %%
course.required_fields(MyTaskBase, MyTask, MyTaskCreate, MyTaskUpdate, MyTaskRead)

# %% [markdown]
# The table model makes `id` optional (the database assigns it), the Read model makes it
# required (a task read back always has one), and Update makes *everything* optional, so a
# PATCH can send one field. taskkit's family (`taskkit/_models.py`) is built the same way, with
# more fields: the tracker's `key`, a `resolution` for completed work, `kind` and `labels`:

# %%
course.required_fields(taskkit.TaskBase, Task, TaskCreate, TaskUpdate, taskkit.TaskRead)

# %% [markdown]
# ## 2. Pitfall: a `Literal` field on a table model
#
# `Literal[...]` is the natural way to say "one of these strings", and it works on plain
# pydantic models. On a `table=True` model SQLModel must turn the annotation into a column type,
# and it cannot: the class definition itself fails.

# %%
Scratch = course.scratch_base()
try:

    class LiteralTask(Scratch, table=True):
        id: int | None = Field(default=None, primary_key=True)
        status: Literal["pending", "in_progress", "completed"] = "pending"

except TypeError as e:
    course.show(e)

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
# The database knows only `VARCHAR(11)`, though; another writer can store `'done'`. The rule
# belongs in the table as well, as a CHECK constraint (§7). taskkit uses a `str` enum
# (`taskkit.Status`) stored as a short string with a named CHECK. (SQLAlchemy's default `Enum`
# would store the member *names*, and on PostgreSQL create a native type that every migration
# must manage.)

# %%
print([s.value for s in taskkit.Status], "stored as", Task.__table__.c.status.type)
for constraint in Task.__table__.constraints:
    if isinstance(constraint, CheckConstraint) and constraint.name == "ck_task_status":
        print(constraint.name, ":", constraint.sqltext)

# %% [markdown]
# ## 3. One table per `MetaData`
#
# Why the scratch base? A table can be defined only once per `MetaData`. Re-running a cell that
# defines a table on the shared `SQLModel.metadata`, or, as here, defining it twice on one
# base, fails. That is also why real models live in a package, not in notebook cells.
# (SQLAlchemy first warns that the class name is replaced; the warning is silenced here to show
# the error that follows it.)

# %%
Scratch = course.scratch_base()


class Note(Scratch, table=True):
    id: int | None = Field(default=None, primary_key=True)


try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)

        class Note(Scratch, table=True):  # the same table again, as a re-run cell would
            id: int | None = Field(default=None, primary_key=True)

except InvalidRequestError as e:
    course.show(e)

# %% [markdown]
# ## 4. Pitfall: naive datetimes
#
# The usual snippet defaults timestamps to `datetime.now`, which has no time zone. Since
# SQLModel 0.0.45 a `datetime` field is stored as UTC and a naive value is refused: not when the
# object is built (table models do not validate, §5) but when it is written.

# %%
print("datetime.now():", datetime.now().tzinfo, "| taskkit.utcnow():", taskkit.utcnow().tzinfo)

naive = Task(title="Naive", created_at=datetime(2025, 6, 1), updated_at=datetime(2025, 6, 1))
async with taskkit.session(engine) as session:
    session.add(naive)
    try:
        await session.commit()
    except SQLAlchemyError as e:
        course.show(e)

# %% [markdown]
# taskkit's defaults are `datetime.now(UTC)`, and values come back aware UTC on SQLite and
# PostgreSQL alike. Its query helpers refuse naive bounds too, rather than guess a zone:

# %%
async with taskkit.session(engine) as session:
    first = await session.get(Task, 1)
print(first.created_at, "| tzinfo:", first.created_at.tzinfo)

try:
    taskkit.select_tasks(created_from=datetime(2025, 6, 1))
except taskkit.InvalidArgumentError as e:
    course.show(e)

# %% [markdown]
# ## 5. Pitfall: table models skip validation
#
# A `table=True` model is a SQLAlchemy row first: its constructor does **not** run pydantic's
# validation. A 600-character title and a made-up status build without a word:

# %%
unchecked = Task(title="x" * 600, status="bogus")
print(len(unchecked.title), "characters, status", repr(unchecked.status))

# %% [markdown]
# The same data through the Create model is refused, field by field. Data from outside goes
# through `TaskCreate` (taskkit's `create_task` does it), never `Task(**data)`:

# %%
try:
    TaskCreate(title="x" * 600, status="bogus")
except ValidationError as e:
    print(type(e).__name__, f"({e.error_count()} errors)")
    for error in e.errors():
        print(" ", error["loc"][0], "-", error["msg"])

# %% [markdown]
# How does validated data become a row, then? `Task.model_validate(...)`: unlike the
# constructor, `model_validate` on a table model runs the validators; it takes a model or a
# dict. Validate at the edge with the Create model, then convert. (One field does not carry
# over: `TaskCreate.labels` holds names, `Task.labels` holds `Label` rows; `taskkit.create_task`
# looks the names up, lesson 2c.)

# %%
create = TaskCreate(title="Validated first", priority="high")
row = Task.model_validate(create)
print(type(row).__name__, "|", row.title, "|", row.priority, "| id:", row.id)
try:
    Task.model_validate({"title": "x" * 600, "status": "bogus"})
except ValidationError as e:
    print(type(e).__name__, f"({e.error_count()} errors)")

# %% [markdown]
# ## 6. Rules of your own: validators, and unknown keys
#
# `min_length` and friends cover lengths and ranges. A rule they cannot say, such as "not only
# spaces", is a **validator**: a function pydantic runs on the value, which returns it (or a
# cleaned version) or raises `ValueError` with the message the caller will read.
# `@field_validator` attaches one to a field of a model:


# %%
class TitledCreate(MyTaskCreate):
    @field_validator("title")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


for title in ("Plan the launch", "   "):
    try:
        print(repr(TitledCreate(title=title).title), "accepted")
    except ValidationError as e:
        print(repr(title), "->", e.errors()[0]["msg"])

# %% [markdown]
# To reuse a rule in several models, attach it to a *type* instead: `Annotated[str,
# AfterValidator(f)]` runs `f` after the type's own checks, wherever the type is used. taskkit's
# titles are such a type (length, storable text, not blank), so `TaskCreate` and `TaskUpdate`
# share the rule. A rule that ties two fields together is a `@model_validator`: taskkit's
# `TaskCreate` refuses a resolution on a task that is not completed.


# %%
def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(not_blank)]


class Renamed(SQLModel):
    name: Name


for data, model in (({"name": "  "}, Renamed), ({"title": "  "}, TaskCreate)):
    try:
        model.model_validate(data)
    except ValidationError as e:
        print(model.__name__, "->", e.errors()[0]["msg"])
try:
    TaskCreate(title="Done?", status="pending", resolution="done")
except ValidationError as e:
    print("TaskCreate ->", e.errors()[0]["msg"])

# %% [markdown]
# ### Pitfall: a misspelled key is dropped without a word
#
# pydantic *ignores* keys that are not fields. A PATCH body `{"statuss": "completed"}` is a
# valid, empty update: the caller thinks the task is completed, and nothing changed.

# %%
print(MyTaskUpdate.model_validate({"statuss": "completed"}).model_dump(exclude_unset=True))

# %% [markdown]
# `model_config = ConfigDict(extra="forbid")` makes an unknown key an error. Beware a form that
# looks the same: pydantic also takes `extra="forbid"` as a *class keyword*, but SQLModel's
# metaclass drops it without a word, so on a SQLModel model only `model_config` works:


# %%
class StrictUpdate(MyTaskUpdate):
    model_config = ConfigDict(extra="forbid")


class KeywordUpdate(MyTaskUpdate, extra="forbid"):  # looks right, does nothing on SQLModel
    pass


for model in (StrictUpdate, KeywordUpdate):
    try:
        print(model.__name__, "accepts it:", model.model_validate({"statuss": "completed"}))
    except ValidationError as e:
        print(model.__name__, "->", e.errors()[0]["msg"])

# %% [markdown]
# taskkit's Create and Update models forbid unknown keys and name the field you meant:

# %%
try:
    TaskUpdate.model_validate({"statuss": "completed"})
except ValidationError as e:
    print(e.errors()[0]["msg"])

# %% [markdown]
# ## 7. Pitfall: an update that writes every field
#
# An Update model has every field optional, default `None`, so that a caller can send just
# one. Its `model_dump()` therefore reports *every* field, the ones never sent as `None`;
# `model_dump(exclude_unset=True)` reports only the fields that were given:

# %%
update = MyTaskUpdate(priority="high")
print("model_dump():                  ", update.model_dump())
print("model_dump(exclude_unset=True):", update.model_dump(exclude_unset=True))

# %% [markdown]
# Applied to a stored task with `sqlmodel_update`, the first erases the title (NOT NULL stops it
# here; a nullable column would silently lose its value); the second changes just the
# priority. (The first block rolls back its failed commit as it leaves.)

# %%
async with taskkit.session(engine) as session:
    task = await session.get(Task, 2)
    task.sqlmodel_update(update.model_dump())
    try:
        await session.commit()
    except IntegrityError as e:
        course.show(e)

async with taskkit.session(engine) as session:
    task = await session.get(Task, 2)
    task.sqlmodel_update(update.model_dump(exclude_unset=True))
    await session.commit()
print(task.id, "|", task.title, "|", task.priority)

# %% [markdown]
# ## 8. The database holds the rules too
#
# A rule kept only in Python holds only for the code that goes through it. taskkit declares the
# same rules as CHECK constraints, so nothing invalid gets in by another road. The unchecked
# object of §5, written through the ORM, is stopped by the column type (it knows the allowed
# values); a raw `INSERT` that bypasses the ORM is stopped by the database itself:

# %%
async with taskkit.session(engine) as session:
    session.add(unchecked)
    try:
        await session.commit()
    except SQLAlchemyError as e:
        course.show(e)

raw_insert = text(
    "INSERT INTO task (title, status, priority, created_at, updated_at) "
    "VALUES (:title, :status, 'medium', '2025-06-01 00:00:00', '2025-06-01 00:00:00')"
)
for values in ({"title": "Fine title", "status": "bogus"}, {"title": "   ", "status": "pending"}):
    try:
        async with engine.begin() as conn:
            await conn.execute(raw_insert, values)
    except IntegrityError as e:
        course.show(e)

# %% [markdown]
# ### Pitfall: SQLite's foreign keys are off
#
# SQLite checks foreign keys only on connections that ask for it (`PRAGMA foreign_keys=ON`), and
# every new connection starts with them off. A plain `sqlite3` connection to the same file
# stores a task in project 999, which does not exist (rolled back right after):

# %%
orphan = (
    "INSERT INTO task (title, status, priority, project_id, created_at, updated_at) "
    "VALUES ('Orphan', 'pending', 'medium', 999, '2025-06-01 00:00:00', '2025-06-01 00:00:00')"
)
plain = sqlite3.connect(workdir / "lesson.db")
print("foreign_keys:", plain.execute("PRAGMA foreign_keys").fetchone()[0])
plain.execute(orphan)
stored = plain.execute("SELECT title, project_id FROM task WHERE project_id = 999").fetchall()
print("stored:", stored)
plain.rollback()
plain.close()

# %% [markdown]
# CHECK constraints, by contrast, hold on every connection; that is why taskkit enforces lengths
# with CHECKs (SQLite ignores `VARCHAR(200)`). taskkit's engine turns foreign keys on for every
# connection it opens (lesson 2b shows how), so the same insert fails, and `create_task` says
# what is wrong before the database is even asked:

# %%
async with engine.connect() as conn:
    print("foreign_keys:", (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar())
    try:
        await conn.exec_driver_sql(orphan)
    except IntegrityError as e:
        course.show(e)

async with taskkit.session(engine) as session:
    try:
        await taskkit.create_task(session, {"title": "Orphan", "project_id": 999})
    except taskkit.NotFoundError as e:
        course.show(e)

# %% [markdown]
# ## Exercise 2a-1
#
# Write `MyProjectUpdate`, the PATCH model for projects: a single field `name` that may be left
# out, and when given must be 1 to 100 characters; a key that is not a field is refused. The
# check tries an empty body, names of 0, 1, 100 and 101 characters, and a misspelled key.


# %% tags=["exercise-02a-1"]
class MyProjectUpdate(SQLModel): ...  # your field (and configuration) here


# %%
check_project_update(MyProjectUpdate)

# %% [markdown] jupyter={"source_hidden": true}
# **Why**, to open after you tried the exercise (click the dots).
#
# Every field of an update model is optional with a default
# of `None`, so that "not sent" is possible, while the rules stay for when it is sent:
# `name: str | None = Field(default=None, min_length=1, max_length=100)`. pydantic ignores
# unknown keys unless `model_config = ConfigDict(extra="forbid")` says otherwise (the class
# keyword `extra="forbid"` is dropped by SQLModel). The 1- and 100-character names are the
# edges a wrong `min_length=2, max_length=50` gets wrong.

# %% [markdown]
# ## Recap
#
# - One family per entity: Base (shared fields and rules), the table (`table=True`, adds what
#   the database assigns), Create, Update (all optional) and Read.
# - A table model's constructor does not validate: data from outside goes through the Create
#   model, then `Model.model_validate(...)` becomes the row.
# - A `Literal` on a table model needs `Field(sa_type=...)`; timestamps are aware UTC.
# - Your own rules: `@field_validator`, or `Annotated[..., AfterValidator(f)]` to reuse them;
#   `model_config = ConfigDict(extra="forbid")` refuses misspelled keys.
# - PATCH with `model_dump(exclude_unset=True)`.
# - The database holds the same rules (CHECK, NOT NULL, foreign keys switched on).
#
# Next: lesson 2b, the engine and the session.

# %% [markdown]
# ## Clean up

# %%
await engine.dispose()
shutil.rmtree(workdir)
