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
# # Lesson 4 · Serving the models with FastAPI
#
# *The course: 01 explore → 2a models → 2b sessions → 2c relationships → 2d queries →
# 2e testing and the schema → **04 API** → 05 Alembic → 06 import (`notebooks/README.md`).*
#
# **After this lesson you can**
#
# - serve a model family from FastAPI: `TaskCreate` in, `TaskRead` out (`response_model`),
#   `TaskUpdate` for PATCH, and a session per request from a dependency;
# - answer 404, 400 and 422 with a message, never a 500;
# - say why `return task` after a commit needs `expire_on_commit=False`;
# - test the app in-process with httpx, and swap its database with `dependency_overrides`.
#
# The model family exists for this: `TaskCreate` is what a client may send, `TaskUpdate` what
# a PATCH may change, `TaskRead` what a client gets back, and `taskkit.get_session` is an
# async generator written to be a FastAPI dependency. This lesson builds a small async API
# over taskkit's models:
#
# | method and path | does | teaches |
# |---|---|---|
# | `GET /tasks?size=&cursor=&status=` | one keyset page | `paginate`, cursors, 400 |
# | `GET /tasks/{id}` | one task | `response_model`, 404 |
# | `POST /tasks` | create | validation through `TaskCreate`, 201, 422 |
# | `PATCH /tasks/{id}` | change some fields | `model_dump(exclude_unset=True)` |
# | `DELETE /tasks/{id}` | delete | 204 |
#
# It is served **in-process** through httpx's `ASGITransport`: no server, no port, the same
# requests a browser would make. Its database is swapped for a throwaway one with
# `app.dependency_overrides`, FastAPI's documented way to replace a dependency in tests. (The
# full-stack FastAPI template tests differently: its tests call `TestClient(app)` against the
# database the app is configured with, and override nothing. Overrides let every run get a
# fresh database without touching the app's configuration.)
#
# The app is written in this notebook so that every line is in view. In a project it would be
# a module of its own (`app/main.py`); taskkit itself stays a library and does not ship an app,
# which is why FastAPI and httpx are an optional extra: `pip install "taskkit[api]"`.
#
# Sections end with a short exercise: edit the exercise cell, then run the check below it
# (each check builds its own app and database, so it can run at any time). Answers are in the
# `solutions` notebook. Run the cells in order; any cell can be run again.

# %%
import inspect
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from typing import Annotated

import httpx
import taskkit_course as course
from fastapi import Depends, FastAPI, HTTPException, Query, Response
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from taskkit_course.checks import check_read_project, check_total_after_requests

import taskkit
from taskkit import (  # Project: for exercise 1
    Project,  # noqa: F401
    ProjectRead,
    Status,
    Task,
    TaskCreate,
    TaskRead,
    TaskUpdate,
)

# %%
# NBVAL_IGNORE_OUTPUT
print({name: version(name) for name in ("fastapi", "starlette", "httpx", "sqlmodel")})

# %% [markdown]
# ## 1. The app
#
# `SessionDep` is the FastAPI idiom for "give this endpoint a session": FastAPI calls
# `get_session`, passes what it yields, and finishes the generator (closing the session)
# after the response. `get_session` opens the database `DATABASE_URL` names (else
# `data/taskkit.db`); the tests below replace it.

# %%
SessionDep = Annotated[AsyncSession, Depends(taskkit.get_session)]


class TaskPage(BaseModel):
    """One page of tasks, and the cursor that fetches the next one (None on the last page)."""

    items: list[TaskRead]
    next_cursor: str | None


app = FastAPI(title="taskkit API")


@app.get("/tasks", response_model=TaskPage)
async def list_tasks(
    session: SessionDep,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
    status: Status | None = None,
):
    # Keyset pages: a cursor says where the previous page ended; it is tied to this statement
    # (a cursor from another filter or an edited one is refused: 400, not a wrong page).
    statement = taskkit.select_tasks(status=status)  # newest first, id as tiebreak
    try:
        page = await taskkit.paginate(session, statement, size=size, cursor=cursor)
    except taskkit.InvalidCursorError as e:
        raise HTTPException(status_code=400, detail=str(e)) from None
    return TaskPage(items=page.items, next_cursor=page.next_cursor)


async def task_or_404(session: AsyncSession, task_id: int) -> Task:
    task = await session.get(Task, task_id)
    if task is None:
        raise HTTPException(status_code=404, detail=f"task {task_id} not found")
    return task


@app.get("/tasks/{task_id}", response_model=TaskRead)
async def read_task(task_id: int, session: SessionDep):
    return await task_or_404(session, task_id)


@app.post("/tasks", response_model=TaskRead, status_code=201)
async def create_task(data: TaskCreate, session: SessionDep):
    # FastAPI validated the body as TaskCreate (a 422 otherwise). create_task turns it into
    # the table model with Task.model_validate (never Task(**body): table models skip
    # validation), sets what the status implies and records the first history row, commits.
    try:
        return await taskkit.create_task(session, data)
    except taskkit.NotFoundError as e:  # a project_id that does not exist
        raise HTTPException(status_code=422, detail=str(e)) from None


@app.patch("/tasks/{task_id}", response_model=TaskRead)
async def update_task(task_id: int, data: TaskUpdate, session: SessionDep):
    # update_task applies only the fields the client sent (model_dump(exclude_unset=True)),
    # keeps completed_at, resolution and started_at in step with the status, records the
    # move in the history, and commits.
    try:
        return await taskkit.update_task(session, task_id, data)
    except taskkit.NotFoundError as e:
        raise HTTPException(status_code=404, detail=str(e)) from None


@app.delete("/tasks/{task_id}", status_code=204)
async def delete_task(task_id: int, session: SessionDep) -> Response:
    await session.delete(await task_or_404(session, task_id))
    await session.commit()
    return Response(status_code=204)


# %% [markdown]
# ## 2. A throwaway database, wired in with `dependency_overrides`
#
# A SQLite file in a scratch directory, migrated and seeded with a small fixed dataset (the
# same rows on every run). `dependency_overrides[get_session]` makes every endpoint that
# depends on `get_session` get a session on it instead; nothing in the app changes.

# %%
scratch = course.workdir("04-api")
engine = taskkit.connect(f"sqlite:///{scratch / 'api.db'}")
await taskkit.ensure_schema(engine)
await taskkit.seed(engine, tasks=60, projects=3, workers=4, seed=0, progress=False)


async def throwaway_session():
    async with taskkit.session(engine) as session:
        yield session


app.dependency_overrides[taskkit.get_session] = throwaway_session
client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")

# %% [markdown]
# `ASGITransport` calls the app directly: `await client.get(...)` runs the endpoint in this
# notebook's event loop and returns a real `httpx.Response`. (It does not run the app's
# lifespan events; wrap the client in `async with app.router.lifespan_context(app):` when the
# app needs them.)

# %%
response = await client.get("/tasks/1")
print(response.status_code, response.headers["content-type"])
{key: response.json()[key] for key in ("id", "title", "status", "priority", "project_id")}

# %% [markdown]
# ## 3. Reading: `response_model` and 404
#
# `response_model=TaskRead` does two things: it documents the response in the OpenAPI schema,
# and it *filters* what is sent: the endpoint returns a `Task` table object, the client gets
# exactly `TaskRead`'s fields, nothing else the object may hold.

# %%
print(sorted(response.json()) == sorted(TaskRead.model_fields))
print(sorted(TaskRead.model_fields))

# %% [markdown]
# A missing task is a 404 with a message, not a 500 and not `null`:

# %%
missing = await client.get("/tasks/9999")
print(missing.status_code, missing.json())

# %% [markdown]
# ### Paging through a list with cursors
#
# The list endpoint returns keyset pages. A client follows `next_cursor` until it is `None`;
# every task comes exactly once, even if tasks are added meanwhile (notebook 02 shows OFFSET
# paging repeating a row in that case).

# %%
seen, cursor, requests = [], None, 0
while True:
    params = {"size": 25} | ({"cursor": cursor} if cursor else {})
    page = (await client.get("/tasks", params=params)).json()
    requests += 1
    seen += [item["id"] for item in page["items"]]
    cursor = page["next_cursor"]
    if cursor is None:
        break
async with taskkit.session(engine) as s:
    in_table = await taskkit.count(s, taskkit.select_tasks())
print(f"{requests} requests, {len(seen)} tasks, {len(set(seen))} distinct, {in_table} in the table")

# %% [markdown]
# A cursor belongs to its query. Reused with another filter, or edited, it is refused with a
# 400 that says why, rather than silently returning the wrong rows:

# %%
first = (await client.get("/tasks", params={"size": 5})).json()
other = await client.get("/tasks", params={"status": "completed", "cursor": first["next_cursor"]})
print(other.status_code, re.sub(r"cursor '[^']*'", "cursor '...'", other.json()["detail"]))
bad_size = await client.get("/tasks", params={"size": 500})
print(bad_size.status_code, bad_size.json()["detail"][0]["msg"])

# %% [markdown]
# ### Exercise 1
#
# Write `read_project`: return the project with id `project_id` (its response model is
# `ProjectRead`), or a 404 whose detail names the id, like `read_task` above. The check mounts
# your function on a fresh app with a database of its own, and calls it for a project that
# exists and one that does not.


# %% tags=["exercise-04-1"]
async def read_project(project_id: int, session: SessionDep) -> ProjectRead: ...  # your code here


# %%
await check_read_project(read_project)

# %% [markdown] jupyter={"source_hidden": true}
# **Why**, to open after you tried the exercise (click the dots).
#
# `await session.get(Project, project_id)` reads by primary
# key and returns `None` when there is no such row; turn that into
# `HTTPException(status_code=404, detail=f"project {project_id} not found")`. Returning
# `None` instead makes FastAPI fail to build a `ProjectRead` (a 500), and `.one()` raises
# `NoResultFound` (a 500 too). Returning the table object is fine: `response_model` filters it.

# %% [markdown]
# ## 4. Creating: the body is validated before the database
#
# The request body is validated as `TaskCreate`: a bad body is a 422 listing every broken rule,
# field by field, and the endpoint never runs.

# %%
created = await client.post("/tasks", json={"title": "Write the API lesson", "priority": "high"})
print(created.status_code, {k: created.json()[k] for k in ("id", "title", "status", "priority")})

refused = await client.post("/tasks", json={"title": "", "status": "done", "priority": "urgent"})
print(refused.status_code)
for error in refused.json()["detail"]:
    print(" ", error["loc"][-1], "-", error["msg"])

# %% [markdown]
# ### Why `return task` after a commit works here
#
# The endpoint returns the task *after* its session committed, and FastAPI reads the task's
# attributes afterwards, to build the `TaskRead` response. That works only because
# `taskkit.get_session` (and `taskkit.session`) make sessions with `expire_on_commit=False`. A
# plain `AsyncSession` expires every object at commit (lesson 2b), so FastAPI's read is an
# implicit reload, outside the greenlet: `MissingGreenlet`, and the client gets a 500. The same
# app, with a plain session swapped in:


# %%
async def plain_session():
    async with AsyncSession(engine) as session:  # SQLAlchemy's default: expire_on_commit=True
        yield session


app.dependency_overrides[taskkit.get_session] = plain_session
with course.leftovers_collected():
    try:
        await client.post("/tasks", json={"title": "Expired before it was sent"})
    except Exception as e:  # FastAPI's ResponseValidationError, one error per field read
        first = e.errors()[0]
        said = re.search(r"greenlet_spawn has not been called[^?]*", first["msg"]).group(0)
        print(type(e).__name__, "| reading", first["loc"][-1], "->", said)
app.dependency_overrides[taskkit.get_session] = throwaway_session
async with taskkit.session(engine) as session:  # the task was stored: remove it again
    stored = await session.exec(select(Task).where(Task.title == "Expired before it was sent"))
    for task in stored.all():
        await taskkit.delete_task(session, task.id)

# %% [markdown]
# The row was committed, and the response failed: the worst combination for a client, which
# retries and creates the task twice. With a plain session, either `await
# session.refresh(task)` before returning, or make the session factory say
# `expire_on_commit=False`, as the template's and taskkit's do.

# %% [markdown]
# ## 5. PATCH: only what was sent
#
# `TaskUpdate` has every field optional, with default `None`. `model_dump()` would therefore
# report `title=None` for a client that only sent a priority; `exclude_unset=True` keeps just
# the fields the client actually sent. Here is the naive form, on its own route, failing:


# %%
@app.patch("/naive/tasks/{task_id}", response_model=TaskRead)
async def naive_update_task(task_id: int, data: TaskUpdate, session: SessionDep):
    task = await task_or_404(session, task_id)
    task.sqlmodel_update(data.model_dump())  # every field, the unsent ones as None
    session.add(task)
    await session.commit()
    return task


task_id = created.json()["id"]
print(TaskUpdate.model_validate({"priority": "low"}).model_dump())
try:
    await client.patch(f"/naive/tasks/{task_id}", json={"priority": "low"})
except SQLAlchemyError as e:
    print(type(e).__name__, str(e).splitlines()[0])

# %% [markdown]
# The unsent title was written as NULL, and the database refused it (NOT NULL). The exception
# reached us because `ASGITransport` re-raises app errors (a real server would answer 500).
# Without that constraint the title would have been silently erased. The real endpoint uses
# `exclude_unset=True`:

# %%
print(TaskUpdate.model_validate({"priority": "low"}).model_dump(exclude_unset=True))
patched = await client.patch(f"/tasks/{task_id}", json={"priority": "low"})
print(patched.status_code, {k: patched.json()[k] for k in ("title", "status", "priority")})
done = await client.patch(f"/tasks/{task_id}", json={"status": "completed"})
print(
    done.status_code,
    done.json()["status"],
    "completed_at set:",
    done.json()["completed_at"] is not None,
)

# %% [markdown]
# `TaskUpdate` also refuses an explicit `null` for a field that cannot be empty ("leave the
# field out to keep the current value"), so "not sent" and "sent as null" cannot be confused:

# %%
null_title = await client.patch(f"/tasks/{task_id}", json={"title": None})
print(null_title.status_code, null_title.json()["detail"][0]["msg"])

# %% [markdown]
# ## 6. Deleting

# %%
deleted = await client.delete(f"/tasks/{task_id}")
print(deleted.status_code, "| then GET:", (await client.get(f"/tasks/{task_id}")).status_code)

# %% [markdown]
# ### Exercise 2
#
# Predict, then check: the database was seeded with 60 tasks. After the create, the PATCHes and
# the delete above, how many tasks does `GET /tasks` page through in all? The check sends the
# same requests to this app on a database of its own, seeded the same way, and pages through.

# %% tags=["exercise-04-2"]
predicted_total = ...  # a number

# %%
await check_total_after_requests(predicted_total, app)

# %% [markdown] jupyter={"source_hidden": true}
# **Why**, to open after you tried the exercise (click the dots).
#
# 60. One task was created and the same task deleted; the
# PATCHes change rows, not their number (and the refused requests changed nothing).

# %% [markdown]
# ## 7. The same, as a pytest test file
#
# In a project these requests live in tests. The fixture gives each test its own in-memory
# database (`taskkit.connect("sqlite+aiosqlite://")` uses one shared connection, so the
# tables made by `create_db_and_tables` are seen by every session of the test), and the
# override points the app at it. Fixtures and tests are marked for pytest-asyncio explicitly,
# so the file works in its default *strict* mode. Written to a temporary directory and run:

# %%
test_file = scratch / "test_api.py"
_ = test_file.write_text("""
import httpx
import pytest
import pytest_asyncio

import taskkit
from api_app import app


@pytest_asyncio.fixture
async def client():
    engine = taskkit.connect("sqlite+aiosqlite://")  # in memory, one shared connection
    await taskkit.create_db_and_tables(engine)

    async def session_override():
        async with taskkit.session(engine) as session:
            yield session

    app.dependency_overrides[taskkit.get_session] = session_override
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
    app.dependency_overrides.clear()
    await engine.dispose()


@pytest.mark.asyncio
async def test_create_then_read_returns_the_task(client):
    created = await client.post("/tasks", json={"title": "Ship it"})
    assert created.status_code == 201
    read = await client.get(f"/tasks/{created.json()['id']}")
    assert read.json()["title"] == "Ship it"


@pytest.mark.asyncio
async def test_read_of_a_missing_task_is_404(client):
    assert (await client.get("/tasks/1")).status_code == 404
""")

# %% [markdown]
# The test imports the app from a module, `api_app.py`, which here is this notebook's app
# cells written out (in a project, the app already lives in a module):

# %%
app_cells = [list_tasks, task_or_404, read_task, create_task, update_task, delete_task]
(scratch / "api_app.py").write_text(
    "from typing import Annotated\n\n"
    "from fastapi import Depends, FastAPI, HTTPException, Query, Response\n"
    "from pydantic import BaseModel\n"
    "from sqlmodel.ext.asyncio.session import AsyncSession\n\n"
    "import taskkit\n"
    "from taskkit import Status, Task, TaskCreate, TaskRead, TaskUpdate\n\n"
    "SessionDep = Annotated[AsyncSession, Depends(taskkit.get_session)]\n\n"
    # (inspect cannot read a class defined in a notebook cell; TaskPage is two lines)
    + "class TaskPage(BaseModel):\n    items: list[TaskRead]\n    next_cursor: str | None\n\n"
    + '\napp = FastAPI(title="taskkit API")\n\n'
    + "\n".join(inspect.getsource(f) for f in app_cells)
)
# pytest-asyncio's defaults, said out loud: strict mode, one event loop per test.
(scratch / "pytest.ini").write_text(
    "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
    "filterwarnings = error\n"
)
run = subprocess.run(
    [sys.executable, "-m", "pytest", "-q", "--color=no", "-p", "no:cacheprovider", test_file.name],
    cwd=scratch,
    capture_output=True,
    text=True,
)
print("exit", run.returncode)
print(re.sub(r" in [\d.]+s", "", run.stdout.strip().splitlines()[-1]))  # minus the timing

# %% [markdown]
# ## Recap
#
# - A session per request from a dependency (`Depends(get_session)`); `response_model`
#   filters what leaves; `TaskCreate`/`TaskUpdate` validate what comes in (422 with every
#   broken rule).
# - Missing rows are 404 with a message; a bad cursor is 400; an unexpected error is a 500, and
#   a test through `ASGITransport` sees it raised.
# - PATCH applies `model_dump(exclude_unset=True)`; `taskkit.update_task` also keeps the
#   status, its timestamps and the history in step.
# - Returning an object after commit needs `expire_on_commit=False` (or a `refresh`).
# - `dependency_overrides` swaps the database for tests; strict-mode pytest-asyncio needs
#   `@pytest_asyncio.fixture`.
#
# Next: notebook 05, migrations with Alembic.

# %% [markdown]
# ## Clean up

# %%
await client.aclose()
app.dependency_overrides.clear()
await engine.dispose()
shutil.rmtree(scratch)
