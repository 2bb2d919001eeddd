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
# # Solutions to the exercises of notebooks 02, 04 and 05
#
# Try each exercise in its lesson first. Each answer below is a cell tagged with the exercise
# it solves (`solution-02-1` answers the cell tagged `exercise-02-1`).
#
# How the answers are checked: a lesson's check cell, given the untouched starter code, only
# says "not attempted yet", so running the lessons alone proves nothing about the checks. The
# last section of this notebook therefore runs each lesson from a clean kernel with its
# exercise cells *replaced by these answers*, and requires every check to pass. The answers
# are thereby tested where they belong, after the cells they build on, and every check is
# known to be satisfiable.
#
# The answers use names the lessons define; the imports below only let this notebook run
# the answer cells on their own (they define things and call nothing).

# %%
import subprocess
from pathlib import Path
from typing import Annotated

import nbformat
from exercises import PASSED
from fastapi import Depends, HTTPException
from nbclient import NotebookClient
from sqlalchemy.orm import selectinload
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import taskkit
from taskkit import Project, ProjectRead, Task, Worker

SessionDep = Annotated[AsyncSession, Depends(taskkit.get_session)]

# %% [markdown]
# ## 02, SQLModel patterns
#
# **1.** A PATCH model: every field optional with default `None`, the rules kept for when the
# field is given.


# %% tags=["solution-02-1"]
class MyProjectUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)


# %% [markdown]
# **2.** `postgres://` becomes `postgresql+asyncpg://`, `sslmode` becomes `ssl`,
# `channel_binding` (libpq only) is dropped; host, port and password are kept.

# %% tags=["solution-02-2"]
handed = "postgres://bob:pw@db.example.com:5433/app?sslmode=verify-full&channel_binding=prefer"
predicted_url = "postgresql+asyncpg://bob:pw@db.example.com:5433/app?ssl=verify-full"


# %% [markdown]
# **3.** Load the collection in the query (`selectinload`), append only when missing (the pair
# is the link table's primary key), commit.


# %% tags=["solution-02-3"]
async def assign_by_hand(session: AsyncSession, task_id: int, worker_id: str) -> None:
    statement = select(Task).where(Task.id == task_id).options(selectinload(Task.workers))
    task = (await session.exec(statement)).one()
    worker = await session.get(Worker, worker_id)
    if worker not in task.workers:
        task.workers.append(worker)
    await session.commit()


# %% [markdown]
# **4.** `col()` makes `.desc()` type-check; `id` breaks ties so the order is total.

# %% tags=["solution-02-4"]
recent_high = (
    select(Task)
    .where(Task.status == "pending", Task.priority == "high")
    .order_by(col(Task.created_at).desc(), col(Task.id).desc())
    .limit(5)
)

# %% [markdown]
# **5.** Nothing: `add` only puts the object in A's session; no SQL runs until a flush (or a
# query in A, which autoflushes), so even the shared connection has nothing to show B.

# %% tags=["solution-02-5"]
predicted_b_reads = []

# %% [markdown]
# **6.**

# %% tags=["solution-02-6"]
head_id = next(revision.id for revision in taskkit.schema_history() if revision.is_head)


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


# %% [markdown]
# **2.** 60 seeded, one created, then deleted (the PATCHes change rows, not their number).

# %% tags=["solution-04-2"]
predicted_total = 60

# %% [markdown]
# ## 05, Alembic
#
# **1.** One revision, named by `--rev-id`.

# %% tags=["solution-05-1"]
predicted_count = 1
predicted_head = "0001"

# %% [markdown]
# **2.** `base` is the state before the first revision.

# %% tags=["solution-05-2"]
downgrade_args = ["downgrade", "base"]

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

# %% [markdown]
# ## Every answer, checked in its lesson
#
# Each lesson is run from a clean kernel with its exercise cells replaced by the answers
# above; every check cell must print its tick. (This runs the three lessons once more, which
# takes a few minutes.)

# %%
answers = {
    tag.removeprefix("solution-"): cell.source
    for cell in nbformat.read("solutions.ipynb", as_version=4).cells
    for tag in cell.metadata.get("tags", [])
    if tag.startswith("solution-")
}


def run_with_answers(lesson: str) -> None:
    """Execute ``lesson`` with each exercise cell replaced by its answer; print the ticks."""
    notebook = nbformat.read(lesson, as_version=4)
    replaced = []
    for cell in notebook.cells:
        for tag in cell.metadata.get("tags", []):
            if tag.startswith("exercise-"):
                cell.source = answers[tag.removeprefix("exercise-")]
                replaced.append(tag)
    client = NotebookClient(
        notebook, timeout=900, resources={"metadata": {"path": str(Path.cwd())}}
    )
    # The kernel's start-up notices go to its stderr, not to this notebook's outputs.
    client.execute(stderr=subprocess.DEVNULL)
    printed = (
        "".join(output.get("text", "") for output in cell.get("outputs", []))
        for cell in notebook.cells
    )
    ticks = [line for text in printed for line in text.splitlines() if line.startswith(PASSED)]
    print(f"{lesson}: {len(replaced)} exercises, {len(ticks)} checks passed")
    for line in ticks:
        print("  ", line)
    assert len(ticks) == len(replaced), f"{lesson}: a check did not pass"


for lesson in ("02-sqlmodel-patterns.ipynb", "04-api.ipynb", "05-alembic.ipynb"):
    run_with_answers(lesson)
