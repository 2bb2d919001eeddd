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
# # Lesson 2c · Relationships: one-to-many and many-to-many
#
# *The course: 01 explore → 2a models → 2b sessions → **2c relationships** → 2d queries →
# 2e testing and the schema → 04 API → 05 Alembic → 06 import (`notebooks/README.md`).*
#
# **After this lesson you can**
#
# - declare a one-to-many relationship (a project's tasks, a task's status history) and a
#   many-to-many one through a link model (a task's labels, its workers);
# - load relationships explicitly in async code (`selectinload`, `session.refresh(obj,
#   [...])`, `awaitable_attrs`), and say why an implicit load fails;
# - say what `ondelete="CASCADE"` does and write it with `Field(ondelete=...)`;
# - query across a many-to-many relationship, and change it through its collection.
#
# It uses lesson 2b's fundamentals: a session per cell, flush and commit, `MissingGreenlet`.
# Run the cells in order; any cell can be run again.

# %%
import shutil
from importlib.metadata import version

import pandas as pd
import taskkit_course as course
from sqlalchemy import func
from sqlalchemy.exc import InvalidRequestError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncAttrs, create_async_engine
from sqlalchemy.orm import selectinload
from sqlmodel import Field, Relationship, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from taskkit_course.checks import check_assign_by_hand, check_tasks_labelled

import taskkit
from taskkit import (
    Label,
    Project,
    StatusChange,
    Task,
    TaskLabelLink,
    TaskReadWithRelations,
    TaskWorkerLink,
    Worker,
    WorkerCreate,
)

# %%
# NBVAL_IGNORE_OUTPUT
print({name: version(name) for name in ("sqlmodel", "sqlalchemy")})

# %% [markdown]
# The lesson's database: seeded tasks, and one project of real work done through taskkit's
# API: a sprint of a mobile app, its tasks labelled, moved through their statuses by
# `update_task` (which records every move in the task's history).

# %%
workdir = course.workdir("02c-relationships")
engine = taskkit.connect(f"sqlite:///{workdir / 'lesson.db'}")
await taskkit.ensure_schema(engine)
await taskkit.seed(engine, tasks=200, projects=4, workers=6, seed=0, progress=False)

sprint = {  # title: (labels, the statuses it moves through, in order)
    "Crash on login with an expired token": (["bug", "auth"], ["in_progress", "completed"]),
    "Dark mode for the settings screen": (["feature", "ui"], ["in_progress"]),
    "Typo on the welcome screen": (["bug", "ui"], ["completed"]),
    "Offline sync": (["feature"], ["in_progress", "pending", "in_progress"]),
    "Old onboarding flow": (["ui"], ["cancelled"]),
}
async with taskkit.session(engine) as session:
    mobile = await taskkit.create_project(session, {"name": "Mobile"})
    for title, (labels, moves) in sprint.items():
        task = await taskkit.create_task(
            session, {"title": title, "labels": labels, "project_id": mobile.id}
        )
        for status in moves:
            change = {"status": status}
            if status == "cancelled":  # completed, but dropped: the resolution says so
                change = {"status": "completed", "resolution": "cancelled"}
            await taskkit.update_task(session, task.id, change)
print(f"project {mobile.id}, {mobile.name}: {len(sprint)} tasks")

# %% [markdown]
# ## 1. One-to-many: a project and its tasks
#
# `Task.project_id` is the foreign key; `Task.project` and `Project.tasks` are the two ends of
# one relationship (`back_populates` names the other end). Relationships are not columns: they
# are loaded by a query of their own, and in async code that must happen explicitly. Here with
# `get_project(..., with_tasks=True)`:

# %%
async with taskkit.session(engine) as session:
    project = await taskkit.get_project(session, mobile.id, with_tasks=True)
print(project.name, "->", [(t.id, t.status.value) for t in project.tasks])

# %% [markdown]
# No magic behind the helper. By hand, the eager load is an option on the statement:

# %%
async with taskkit.session(engine) as session:
    statement = select(Project).where(Project.id == mobile.id).options(selectinload(Project.tasks))
    by_hand = (await session.exec(statement)).one()
print(f"{by_hand.name}: {len(by_hand.tasks)} tasks")

# %% [markdown]
# and taskkit's `get_task`/`get_project` go through one small function that gets the object,
# then loads the named relationships with `session.refresh(obj, attribute_names=...)`:

# %%
course.source_lines(taskkit._crud._load, "async def _load")

# %% [markdown]
# ### One-to-many again: a task's history
#
# Every status change is a row of `StatusChange` (the table `status_change`), pointing at its
# task. On the `Task` side the relationship is ordered, so that `task.history` reads oldest
# first:

# %%
course.source_lines(Task, "history:", ")")

# %%
async with taskkit.session(engine) as session:
    offline_id = (await session.exec(select(Task.id).where(Task.title == "Offline sync"))).one()
    offline = await taskkit.get_task(session, offline_id, with_history=True)
for change in offline.history:
    print(
        f"{change.from_status or '(created)':>12} -> {change.to_status:12} source: {change.source}"
    )
print(
    "now:",
    offline.status.value,
    "| started_at kept from the first start:",
    offline.started_at is not None,
)

# %% [markdown]
# For many tasks, load the many side with one query instead of one per task:
# `taskkit.select_history(statement)` selects the history of the tasks a statement selects (a
# plain `select(StatusChange)`), and `to_dataframe` reads it:

# %%
moves = await taskkit.to_dataframe(
    engine, taskkit.select_history(taskkit.select_tasks(project="Mobile"))
)
moves.groupby("task_id").agg(moves=("to_status", "size"), last=("to_status", "last")).join(
    pd.Series({t.id: t.title for t in project.tasks}, name="title")
)

# %% [markdown]
# ## 2. Pitfall: lazy loads in async code
#
# Relationships load *lazily* by default: reading `task.project` runs a query then and there.
# In async code that is implicit SQL, so it is `MissingGreenlet` (lesson 2b). The usual
# snippet's models, relationships at their defaults, on a scratch database. (The base mixes in
# `AsyncAttrs`, used in §3.)

# %%
Scratch = course.scratch_base(AsyncAttrs)


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


snippet_engine = create_async_engine(f"sqlite+aiosqlite:///{workdir / 'snippet.db'}")
async with snippet_engine.begin() as conn:
    await conn.run_sync(Scratch.metadata.drop_all)
    await conn.run_sync(Scratch.metadata.create_all)
async with AsyncSession(snippet_engine, expire_on_commit=False) as s:
    s.add(SnippetProject(name="Apollo", tasks=[SnippetTask(title="Write report")]))
    await s.commit()

with course.leftovers_collected():
    async with AsyncSession(snippet_engine) as s:
        task = (await s.exec(select(SnippetTask).limit(1))).one()
        try:
            print(task.project)
        except SQLAlchemyError as e:
            course.show(e)

# %% [markdown]
# taskkit declares its relationships with `lazy="raise_on_sql"`: reading one that is not loaded
# is a clear error that names it, raised before any SQL is attempted.

# %%
async with taskkit.session(engine) as session:
    task = await session.get(Task, 1)
    try:
        print(task.project)
    except InvalidRequestError as e:
        course.show(e)

# %% [markdown]
# Note the "on SQL": a many-to-one whose target is already in the session (the identity map,
# lesson 2b) needs no query, so it is simply returned. Code that happens to have loaded the
# project works; the same line on its own fails. Do not rely on it: load what you read.

# %%
async with taskkit.session(engine) as session:
    task = await session.get(Task, 1)
    its_project = await session.get(Project, task.project_id)  # now in the session...
    print(task.project.name)  # ...so no SQL is needed and no error is raised

# %% [markdown]
# ## 3. Loading explicitly
#
# Three ways, all explicit: eager loading in the statement (`selectinload`), taskkit's
# `get_task(..., with_project=True)`, or `await session.refresh(obj, ["project"])` for an
# object you already hold.

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
# A fourth way suits models with default (lazy) relationships: mix SQLAlchemy's `AsyncAttrs`
# into the base, as the scratch base above does, and *await* the attribute through
# `obj.awaitable_attrs`. The load then runs inside the greenlet:

# %%
async with AsyncSession(snippet_engine) as s:
    task = (await s.exec(select(SnippetTask).limit(1))).one()
    project = await task.awaitable_attrs.project
    print(project.name, [t.title for t in await project.awaitable_attrs.tasks])

# %% [markdown]
# It is one query per attribute awaited: in a loop over many objects that is the "N+1 queries"
# problem (lesson 2d counts them). taskkit's models do not mix it in: their relationships raise
# rather than load, so every load is visible in the query that makes it.

# %%
await snippet_engine.dispose()

# %% [markdown]
# ## 4. Many-to-many: tasks and labels
#
# A task has several labels and a label several tasks. A *link table* holds one row per pair,
# and its primary key is the pair, so a task cannot carry a label twice. SQLModel's link model
# for it, and the `Task` side of the relationship that goes through it (`link_model=`):

# %%
course.source_lines(TaskLabelLink, "class TaskLabelLink")
course.source_lines(Task, "labels:", ")")

# %% [markdown]
# `ondelete="CASCADE"` on the foreign keys makes the database remove a task's links when the
# task is deleted (and its history rows: `StatusChange.task_id` says the same). taskkit's link
# models hand SQLModel finished columns with `sa_column=Column(...)`; then every column option
# lives in that `Column`, and SQLModel's own `Field(...)` options are not used. The shorter
# form, `Field(foreign_key=..., ondelete=...)`, writes the same foreign keys:

# %%
Short = course.scratch_base()


class ShortLink(Short, table=True):
    __tablename__ = "task_label_link"
    task_id: int = Field(foreign_key="task.id", primary_key=True, ondelete="CASCADE")
    label_id: int = Field(foreign_key="label.id", primary_key=True, ondelete="CASCADE")


for model in (TaskLabelLink, ShortLink):
    keys = sorted(
        (fk.parent.name, fk.target_fullname, fk.ondelete) for fk in model.__table__.foreign_keys
    )
    print(f"{model.__name__:14}", keys)

# %% [markdown]
# What it does, on a task made for the purpose (SQLite enforces it because taskkit's engine
# turns foreign keys on):


# %%
async def rows_of(task_id: int) -> tuple[int, int]:
    async with taskkit.session(engine) as session:
        links = (
            select(func.count()).select_from(TaskLabelLink).where(TaskLabelLink.task_id == task_id)
        )
        history = (
            select(func.count()).select_from(StatusChange).where(StatusChange.task_id == task_id)
        )
        return (await session.exec(links)).one(), (await session.exec(history)).one()


async with taskkit.session(engine) as session:
    doomed = await taskkit.create_task(session, {"title": "Short-lived", "labels": ["bug", "ui"]})
    await taskkit.update_task(session, doomed.id, {"status": "in_progress"})
print("links, history rows before delete:", await rows_of(doomed.id))
async with taskkit.session(engine) as session:
    await taskkit.delete_task(session, doomed.id)
print("links, history rows after delete: ", await rows_of(doomed.id))

# %% [markdown]
# (The relationships say `passive_deletes=True`: SQLAlchemy leaves the cascade to the database
# instead of loading the children to delete them one by one.)
#
# Reading a many-to-many collection is like any other relationship: load it explicitly. From
# both ends:

# %%
async with taskkit.session(engine) as session:
    typo_id = (await session.exec(select(Task.id).where(Task.title.startswith("Typo")))).one()
    typo = await taskkit.get_task(session, typo_id, with_labels=True)
    bug = (
        await session.exec(
            select(Label).where(Label.name == "bug").options(selectinload(Label.tasks))
        )
    ).one()
print(typo.title, "->", [label.name for label in typo.labels])
print("bug ->", sorted(t.title for t in bug.tasks))

# %% [markdown]
# A query can follow the relationship too: `.join(Label.tasks)` joins label to task through
# the link table (SQLAlchemy writes both joins). The labels used in project Mobile, and how
# many of its tasks carry each:

# %%
used = (
    select(Label.name, func.count(col(Task.id)))
    .join(Label.tasks)
    .where(Task.project_id == mobile.id)
    .group_by(Label.name)
    .order_by(Label.name)
)
async with taskkit.session(engine) as session:
    print((await session.exec(used)).all())

# %% [markdown]
# ## Exercise 2c-2
#
# Write `tasks_labelled(name)`: it returns a statement (`select(Task)...`) for the tasks that
# carry the label called `name`, each once. (`taskkit.select_tasks(label=name)` does this; the
# exercise is to see how.) The check runs it on a database of its own for two labels.


# %% tags=["exercise-02c-2"]
def tasks_labelled(name: str):
    return ...  # select(Task)...


# %%
await check_tasks_labelled(tasks_labelled)

# %% [markdown] jupyter={"source_hidden": true}
# **Why**, to open after you tried the exercise (click the dots).
#
# The label is in another table, reached through the link
# table. `select(Task).join(Task.labels).where(Label.name == name)` joins through it (a task
# carries a label once, so no task comes twice); `select(Task).where(Task.labels.any(Label.name
# == name))` asks "has at least one such label" with `EXISTS`. Without a join,
# `select(Task).where(Label.name == name)` reads the two tables side by side: every task
# paired with the label, and SQLAlchemy warns of a cartesian product. A label's id differs from
# database to database: look it up by name.

# %% [markdown]
# ## 5. Changing a many-to-many collection: tasks and workers
#
# Workers are many-to-many too (`TaskWorkerLink`). Written by hand, the usual way: get a task
# (the login crash of the sprint) and a worker, append the worker to the task's `workers`,
# commit. (The worker is fetched or, the first time, made from a validated `WorkerCreate`:
# get-or-create, so the cell re-runs.)

# %%
crash = "Crash on login with an expired token"
async with taskkit.session(engine) as session:
    crash_id = (await session.exec(select(Task.id).where(Task.title == crash))).one()
    noor = await session.get(Worker, "w-new") or Worker.model_validate(
        WorkerCreate(id="w-new", name="Noor Quinn")
    )
    task = await session.get(Task, crash_id)
    try:
        task.workers.append(noor)
    except InvalidRequestError as e:
        course.show(e)

# %% [markdown]
# **Why:** `task.workers` was never loaded. Appending needs the current contents, and loading
# them here would be an implicit query. **Fix:** load the collection in the query that fetches
# the task, then append (once: the pair is the link table's primary key):

# %%
async with taskkit.session(engine) as session:
    noor = await session.get(Worker, "w-new") or Worker.model_validate(
        WorkerCreate(id="w-new", name="Noor Quinn")
    )
    statement = select(Task).where(Task.id == crash_id).options(selectinload(Task.workers))
    task = (await session.exec(statement)).one()
    if noor not in task.workers:  # a second append of the same pair would fail
        task.workers.append(noor)  # a new worker joins the session with the link
    await session.commit()
    mine = select(TaskWorkerLink).where(TaskWorkerLink.task_id == crash_id)
    links = (await session.exec(mine)).all()
print("links:  ", [(link.task_id, link.worker_id) for link in links])
print("workers:", [w.name for w in task.workers])

# %% [markdown]
# taskkit's `assign(session, task_id, worker_id)` skips the collection: it checks that both
# exist and adds the link row itself (assigning twice is a no-op), so it never loads a task's
# workers. Reading the task back with everything, for an API response: the Read models turn
# loaded objects into plain data, relationships included (they must be loaded first):

# %%
async with taskkit.session(engine) as session:
    await taskkit.assign(session, crash_id, "w-0001")
async with taskkit.session(engine) as session:
    task = await taskkit.get_task(
        session, crash_id, with_project=True, with_workers=True, with_labels=True, with_history=True
    )
shown = dict.fromkeys(["id", "title", "status", "project", "workers", "labels"], True)
shown["history"] = {"__all__": {"from_status", "to_status"}}  # (the times change every run)
TaskReadWithRelations.model_validate(task).model_dump(include=shown, mode="json")

# %% [markdown]
# ## Exercise 2c-1
#
# Write `assign_by_hand(session, task_id, worker_id)`: give the task that worker through the
# `Task.workers` collection (not `taskkit.assign`, not a `TaskWorkerLink` row), and commit.
# Calling it twice must not fail. The check, on a database of its own, assigns `w-new` to task
# 3 twice and looks for exactly one link.


# %% tags=["exercise-02c-1"]
async def assign_by_hand(
    session: AsyncSession, task_id: int, worker_id: str
) -> None: ...  # your code here


# %%
await check_assign_by_hand(assign_by_hand)

# %% [markdown] jupyter={"source_hidden": true}
# **Why**, to open after you tried the exercise (click the dots).
#
# Load the collection in the query
# (`select(Task).where(Task.id == task_id).options(selectinload(Task.workers))`), get the
# worker with `session.get(Worker, worker_id)`, append it only `if worker not in task.workers`
# (the pair is the link table's primary key, so a second append fails), then `commit()`. The
# session writes the link row itself: that is what a collection is for.

# %% [markdown]
# ## Recap
#
# - One-to-many: a foreign key on the many side and a `Relationship` on each side
#   (`back_populates`); order a collection with `order_by` on the relationship.
# - Many-to-many: a link model whose primary key is the pair, `link_model=` on both sides.
# - `ondelete="CASCADE"` (with `Field(ondelete=...)` or `sa_column`) lets the database remove
#   links and history with their task; `passive_deletes=True` leaves it to the database.
# - Async code never loads implicitly: `selectinload`, `session.refresh(obj, [...])`,
#   `get_task(..., with_...)`, or `await obj.awaitable_attrs.x` with `AsyncAttrs`.
# - Query across with `.join(Model.relationship)` or `.any(...)`; change a collection after
#   loading it.
#
# Next: lesson 2d, queries and pages.

# %% [markdown]
# ## Clean up

# %%
await engine.dispose()
shutil.rmtree(workdir)
