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
# # Solutions to the exercises
#
# Try each exercise in its lesson first. Each answer below is a cell tagged with the exercise
# it solves (`solution-02a-1` answers the cell tagged `exercise-02a-1`), followed by the same
# check the lesson runs, given that answer.
#
# The checks build their own state (a scratch database, an Alembic app, a FastAPI app), so
# they run here, in this notebook's kernel, without the lessons: every answer is checked in a
# few seconds. `tests/test_exercises.py` gives the same checks common wrong answers, which
# they must catch, and right answers written another way, which they must accept (the table
# in `notebooks/README.md`).
#
# The imports are the names the lessons' exercise cells use.

# %%
from typing import Annotated

from fastapi import Depends, HTTPException
from pydantic import ConfigDict
from sqlalchemy.orm import selectinload
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from taskkit_course import checks

import taskkit
from taskkit import Label, Project, ProjectRead, Task, Worker

SessionDep = Annotated[AsyncSession, Depends(taskkit.get_session)]
verdicts: dict[str, checks.Verdict] = {}


def record(verdict: checks.Verdict) -> checks.Verdict:
    """Keep the latest verdict of each exercise (a cell run twice replaces its own)."""
    verdicts[verdict.exercise] = verdict
    return verdict


# %% [markdown]
# ## 2a, models
#
# **1.** A PATCH model: every field optional with default `None`, the rules kept for when the
# field is given; unknown keys refused through `model_config` (SQLModel drops the class
# keyword form).


# %% tags=["solution-02a-1"]
class MyProjectUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)


# %%
record(checks.check_project_update(MyProjectUpdate))

# %% [markdown]
# ## 2b, sessions
#
# **1.** `postgres://` becomes `postgresql+asyncpg://`, `sslmode` becomes `ssl`,
# `channel_binding` (libpq only) is dropped; host, port and password are kept.

# %% tags=["solution-02b-1"]
handed = "postgres://bob:pw@db.example.com:5433/app?sslmode=verify-full&channel_binding=prefer"
predicted_url = "postgresql+asyncpg://bob:pw@db.example.com:5433/app?ssl=verify-full"

# %%
record(checks.check_database_url(predicted_url))

# %% [markdown]
# ## 2c, relationships
#
# **1.** Load the collection in the query (`selectinload`), append only when missing (the pair
# is the link table's primary key), commit.


# %% tags=["solution-02c-1"]
async def assign_by_hand(session: AsyncSession, task_id: int, worker_id: str) -> None:
    statement = select(Task).where(Task.id == task_id).options(selectinload(Task.workers))
    task = (await session.exec(statement)).one()
    worker = await session.get(Worker, worker_id)
    if worker not in task.workers:
        task.workers.append(worker)
    await session.commit()


# %%
record(await checks.check_assign_by_hand(assign_by_hand))

# %% [markdown]
# **2.** Join through the relationship (SQLAlchemy writes both joins, through the link table)
# and filter on the label's name.


# %% tags=["solution-02c-2"]
def tasks_labelled(name: str):
    return select(Task).join(Task.labels).where(Label.name == name)


# %%
record(await checks.check_tasks_labelled(tasks_labelled))

# %% [markdown]
# ## 2d, queries
#
# **1.** `col()` makes `.desc()` type-check; `id` breaks ties so that the order is total.


# %% tags=["solution-02d-1"]
def recent_high():
    return (
        select(Task)
        .where(Task.status == "pending", Task.priority == "high")
        .order_by(col(Task.created_at).desc(), col(Task.id).desc())
        .limit(5)
    )


# %%
record(await checks.check_recent_high(recent_high))

# %% [markdown]
# ## 2e, testing and the schema
#
# **1.** Nothing: `add` only puts the object in A's session; no SQL runs until a flush (or a
# query in A, which autoflushes), so even the shared connection has nothing to show B.

# %% tags=["solution-02e-1"]
predicted_b_reads = []

# %%
record(await checks.check_b_reads(predicted_b_reads))

# %% [markdown]
# **2.** The revision marked `is_head`.

# %% tags=["solution-02e-2"]
head_id = next(revision.id for revision in taskkit.schema_history() if revision.is_head)

# %%
record(checks.check_head_id(head_id))

# %% [markdown]
# ## 04, the API
#
# **1.** `session.get` by primary key; `None` becomes a 404 that names the id. Returning the
# table object is fine: `response_model=ProjectRead` filters it.


# %% tags=["solution-04-1"]
async def read_project(project_id: int, session: SessionDep) -> ProjectRead:
    project = await session.get(Project, project_id)
    if project is None:
        raise HTTPException(status_code=404, detail=f"project {project_id} not found")
    return project


# %%
record(await checks.check_read_project(read_project))

# %% [markdown]
# **2.** 60 seeded, one created, then deleted (the PATCHes change rows, not their number). The
# check sends the requests to notebook 04's app, built from the lesson's own cells.

# %% tags=["solution-04-2"]
predicted_total = 60

# %%
record(await checks.check_total_after_requests(predicted_total))

# %% [markdown]
# ## 05, Alembic
#
# **1.** One revision, named by `--rev-id`.

# %% tags=["solution-05-1"]
predicted_count = 1
predicted_head = "0001"

# %%
record(checks.check_alembic_prediction(predicted_count, predicted_head))

# %% [markdown]
# **2.** `base` is the state before the first revision.

# %% tags=["solution-05-2"]
downgrade_args = ["downgrade", "base"]

# %%
record(checks.check_alembic_downgrade(downgrade_args))

# %% [markdown]
# **3.** An index needs no table copy, but batch mode keeps one style for every change (and
# autogenerate with `render_as_batch=True` writes it this way).

# %% tags=["solution-05-3"]
upgrade_0004 = """
with op.batch_alter_table("task") as batch:
    batch.create_index("ix_task_project_id", ["project_id"])
"""
downgrade_0004 = """
with op.batch_alter_table("task") as batch:
    batch.drop_index("ix_task_project_id")
"""

# %%
record(checks.check_batch_index(upgrade_0004, downgrade_0004))

# %% [markdown]
# ## Every exercise has an answer, and every answer passes

# %%
assert sorted(verdicts) == sorted(checks.EXERCISES), f"answered {sorted(verdicts)}"
assert all(v.passed for v in verdicts.values()), [v for v in verdicts.values() if not v.passed]
print(f"{len(verdicts)} exercises, {sum(v.passed for v in verdicts.values())} answers pass")
