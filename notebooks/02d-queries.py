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
# # Lesson 2d · Queries, order and pages
#
# *The course: 01 explore → 2a models → 2b sessions → 2c relationships → **2d queries** →
# 2e testing and the schema → 04 API → 05 Alembic → 06 import (`notebooks/README.md`).*
#
# **After this lesson you can**
#
# - build statements with `select()`, `where` (AND), `or_`, and extend them;
# - write queries that type-check (`col()`);
# - order results totally: declared enum order, NULLs, and a unique tiebreak;
# - load relationships for many rows in a fixed number of queries;
# - page through results with keyset pagination, and say why OFFSET repeats and skips rows;
# - read the SQL a statement sends and the plan the database chooses.
#
# Run the cells in order; any cell can be run again.

# %%
import re
import shutil
from importlib.metadata import version

import taskkit_course as course
from sqlalchemy import event, tuple_
from sqlmodel import col, or_, select
from taskkit_course.checks import check_recent_high

import taskkit
from taskkit import Project, Task, any_of, count, paginate, paginate_offset, select_tasks

# %%
# NBVAL_IGNORE_OUTPUT
print({name: version(name) for name in ("sqlmodel", "sqlalchemy", "mypy")})

# %% [markdown]
# A database of 2,000 seeded tasks (the same rows every run):

# %%
workdir = course.workdir("02d-queries")
engine = taskkit.connect(f"sqlite:///{workdir / 'lesson.db'}")
await taskkit.ensure_schema(engine)
await taskkit.seed(engine, tasks=2_000, projects=8, workers=12, seed=0, progress=False)
async with taskkit.session(engine) as session:
    apollo_id = (await session.exec(select(Project.id).where(Project.name == "Apollo"))).one()

# %% [markdown]
# ## 1. Statements are plain `select()` objects
#
# Build them, extend them, run them with `session.exec`. Several conditions in one `where`
# (or several `where` calls) are ANDed. Nothing runs until a session executes the statement;
# `taskkit.count` counts its rows in the database.

# %%
pending = select(Task).where(Task.status == "pending")
pending_high = pending.where(Task.priority == "high")  # AND, by extending
async with taskkit.session(engine) as session:
    print(
        "pending:", await count(session, pending), "| and high:", await count(session, pending_high)
    )
    print("get by id:", (await session.get(Task, 42)).title)

# %% [markdown]
# ### OR
#
# `or_` combines conditions, as in any SQLAlchemy code; taskkit's `any_of` takes
# `select_tasks`' filters (names instead of ids, lists, search, dates) and ORs them. Same rows:

# %%
with_or = select(Task).where(or_(Task.status == "in_progress", Task.project_id == apollo_id))
with_any_of = select(Task).where(any_of(status="in_progress", project="Apollo"))
async with taskkit.session(engine) as session:
    print("or_:", await count(session, with_or), "| any_of:", await count(session, with_any_of))

# %% [markdown]
# ## 2. Type-checked ordering: `col()`
#
# `select(Task).order_by(Task.created_at.desc())` runs: at runtime `Task.created_at` is a
# SQLAlchemy column. A type checker reads the model's annotation, `datetime`, which has no
# `.desc()`. SQLModel's `col()` says "this is a column". mypy, on a two-line file:

# %%
(workdir / "ordering.py").write_text(
    "from sqlmodel import col, select\n\n"
    "from taskkit import Task\n\n"
    "newest = select(Task).order_by(Task.created_at.desc())\n"
    "typed = select(Task).order_by(col(Task.created_at).desc())\n"
)
course.mypy(workdir / "ordering.py")  # runs `mypy ordering.py` in that directory

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
# ## 3. Ordering: say what you mean, and end with a unique key
#
# Three surprises hide in `order_by`. First, a string-enum column sorts alphabetically, not in
# its declared order:

# %%
alphabetical = select(Task.priority).distinct().order_by(Task.priority)
async with taskkit.session(engine) as session:
    print("ORDER BY priority:", [p.value for p in (await session.exec(alphabetical)).all()])

# %% [markdown]
# Second, NULLs: ascending, SQLite puts them first and PostgreSQL last, so the same query
# starts differently on the two backends (open tasks have no `completed_at`):

# %%
async with taskkit.session(engine) as session:
    first = (await session.exec(select(Task).order_by(Task.completed_at).limit(1))).one()
print("SQLite, ORDER BY completed_at: the first row's completed_at is", first.completed_at)

# %% [markdown]
# Third, ties. Hundreds of tasks share each priority, and a database may return tied rows in
# any order, differently from one query to the next. With OFFSET pages that means rows seen
# twice and rows never seen. **On PostgreSQL only:** walking 2,000 tasks in pages of 37
# ordered by priority alone never returned more than 500 of them (564 and 571 in two
# measurements, PostgreSQL 15); SQLite happened to return every row, so a test on SQLite does
# not catch it. The fix is a unique last sort key.
#
# `select_tasks(order_by=...)` handles all three: enums in declared order, NULLs last on every
# backend, and `id` appended as the tiebreak. Its SQL:

# %%
ordered = select_tasks(order_by=["priority", "completed_at"])
print(taskkit.show_sql(ordered, engine).split("ORDER BY")[1].strip())
async with taskkit.session(engine) as session:
    first_row = (await session.exec(ordered.limit(1))).one()
print("first:", first_row.priority.value, first_row.completed_at)

# %% [markdown]
# ## 4. Loading relationships for many rows
#
# Loading a relationship per object is the "N+1 queries" problem (and, in async code, an
# error: lesson 2c). `selectinload` loads it for all rows with one more `SELECT ... WHERE id
# IN (...)`. An event listener on the engine sees every statement the driver receives; it
# counts the SELECTs for 50 tasks with their projects and workers:

# %%
selects = []


def record_select(conn, cursor, statement, parameters, context, executemany):
    if statement.lstrip().upper().startswith("SELECT"):
        selects.append(re.search(r"FROM (\w+)", statement).group(1))  # the first table read


event.listen(engine.sync_engine, "before_cursor_execute", record_select)
async with taskkit.session(engine) as session:
    loaded = (
        await session.exec(select_tasks(with_project=True, with_workers=True).limit(50))
    ).all()
event.remove(engine.sync_engine, "before_cursor_execute", record_select)
# (The two selectinload queries may run in either order; sorted for a stable printout.)
print(f"{len(loaded)} tasks with projects and workers in {len(selects)} SELECTs:", sorted(selects))

# %% [markdown]
# ## 5. Pages: OFFSET against keyset
#
# The usual recipe is `.offset(20).limit(10)`. It has two problems:
#
# - **Cost.** To return page *n* the database reads and throws away every row before it; deep
#   pages of a large table are slow.
# - **Exactly once.** A row added or removed between two pages shifts everything after it.
#
# Keyset pagination (`taskkit.paginate`) remembers the sort key of the last row and asks for
# the rows after it: as cheap on page 1,000 as on page 1, and unmoved by rows added elsewhere.
# A new task arrives between page 1 and page 2 of "pending tasks, newest first" (and is removed
# again at the end of the cell, so that the cell can run twice):

# %%
newest_pending = select_tasks(status="pending")  # ordered by -created_at, then -id
async with taskkit.session(engine) as session:
    offset_1 = await paginate_offset(session, newest_pending, page=1, size=5)
    keyset_1 = await paginate(session, newest_pending, size=5)
    arrived = await taskkit.create_task(session, {"title": "Urgent: fix login timeout"})
    offset_2 = await paginate_offset(session, newest_pending, page=2, size=5)
    keyset_2 = await paginate(session, newest_pending, size=5, cursor=keyset_1.next_cursor)
    await taskkit.delete_task(session, arrived.id)

print("OFFSET  page 1:", [t.id for t in offset_1], " page 2:", [t.id for t in offset_2])
print("keyset  page 1:", [t.id for t in keyset_1], " page 2:", [t.id for t in keyset_2])
print(
    "seen twice with OFFSET:",
    sorted({t.id for t in offset_1} & {t.id for t in offset_2}),
    "| with keyset:",
    sorted({t.id for t in keyset_1} & {t.id for t in keyset_2}),
)

# %% [markdown]
# The new task pushed every row one place down, so OFFSET's page 2 starts with a row page 1
# showed. The keyset page continues where page 1 ended. `paginate_offset` is still useful where
# page numbers and totals matter and the table is small: it knows how many pages there are.

# %%
print(repr(offset_2))

# %% [markdown]
# ## 6. Reading the SQL and the plan
#
# `taskkit.show_sql(stmt, engine)` prints the SQL this database receives (its dialect, lists
# expanded, values written in for reading); `await taskkit.explain(engine, stmt)` asks the
# database for its plan and sums it up: which index it uses, whether it reads a whole table,
# whether it sorts.
#
# ### Keyset against OFFSET, in the plan
#
# Page 31 by OFFSET walks the index from the newest task and throws away 1,500 rows before
# it keeps 50. The plan says `SCAN ... USING INDEX`: the index gives the order, but it is
# read from its start.

# %%
newest_first = select_tasks(order_by="-created_at")
by_offset = newest_first.offset(1_500).limit(50)
print(taskkit.show_sql(by_offset, engine))
await taskkit.explain(engine, by_offset)

# %% [markdown]
# The keyset page asks for the rows after the previous page's last `(created_at, id)`. How the
# condition is written matters. Spelled out as `created_at < x OR (created_at = x AND id <
# y)`, SQLite does not see a range on the index and still walks it from the start (`SCAN`):

# %%
async with taskkit.session(engine) as session:
    previous = (await session.exec(newest_first.offset(1_499).limit(1))).one()
spelled_out = newest_first.where(
    (col(Task.created_at) < previous.created_at)
    | ((col(Task.created_at) == previous.created_at) & (col(Task.id) < previous.id))
).limit(50)
await taskkit.explain(engine, spelled_out)

# %% [markdown]
# As a row-value comparison, `(created_at, id) < (x, y)`, it is a range, and the plan becomes
# `SEARCH`: a seek into the index at the cursor, so page 31 costs what page 1 costs. This is
# the condition `taskkit.paginate` writes (with a plain `created_at <= x` in front, for
# databases that seek on single columns only). SQLite's dialect always writes an `OFFSET`
# after a `LIMIT`; `OFFSET 0` skips nothing.

# %%
by_keyset = newest_first.where(
    tuple_(Task.created_at, Task.id) < tuple_(previous.created_at, previous.id)
).limit(50)
print(taskkit.show_sql(by_keyset, engine))
await taskkit.explain(engine, by_keyset)

# %% [markdown]
# ### What `selectinload` sends
#
# `with_project=True` loads each task's project with `selectinload`: one query for the tasks,
# then one for all their projects at once (`IN` the ids it saw), never one per task:

# %%
emitted = []


def remember(conn, cursor, statement, parameters, context, executemany):
    emitted.append((" ".join(statement.split()), parameters))


event.listen(engine.sync_engine, "before_cursor_execute", remember)
async with taskkit.session(engine) as session:
    three = (await session.exec(select_tasks(with_project=True, order_by="id").limit(3))).all()
event.remove(engine.sync_engine, "before_cursor_execute", remember)
for statement, parameters in emitted:
    if statement.startswith("SELECT"):
        print(statement, parameters, sep="\n", end="\n\n")
print([(t.id, t.project.name if t.project else None) for t in three])

# %% [markdown]
# ### Why a search cannot use an index
#
# An index keeps titles sorted, so it finds a title that *starts* with a known text, the way
# you find a word in a dictionary. A search for text *anywhere* in the title (`*login*` here,
# SQLite's case-folding `GLOB`; `ILIKE '%login%'` on PostgreSQL) can match in the middle of any
# title, so the order does not help: the database reads every row.

# %%
search = select_tasks(search="login", order_by="id")
print(taskkit.show_sql(search, engine))
await taskkit.explain(engine, search)

# %% [markdown]
# An exact title, by contrast, is a seek into `ix_task_title`:

# %%
await taskkit.explain(engine, select(Task).where(Task.title == "Fix login timeout"))

# %% [markdown]
# On a table of a few thousand rows reading everything is instant; on millions, filter by
# something indexed first (a status, a project, a date range) so the search reads fewer rows.
#
# ## Exercise 2d-1
#
# Write `recent_high()`: it returns a statement for the 5 newest *pending*, *high*-priority
# tasks, newest first, ties broken by the larger id, with `col()` so that it type-checks. The
# check reads the statement's ORDER BY and runs it on a database of its own, comparing the
# ids with `select_tasks(status="pending", priority="high")`.


# %% tags=["exercise-02d-1"]
def recent_high():
    return ...  # select(Task)...


# %%
await check_recent_high(recent_high)

# %% [markdown] jupyter={"source_hidden": true}
# **Why**, to open after you tried the exercise (click the dots).
#
# "newest" is `created_at`, not `id` (ids follow the order
# rows were stored in: an import stores old tasks with new ids); `col(Task.id).desc()` after it
# makes the order total, so two tasks created in the same microsecond come back in the same
# order every time; `col()` lets mypy see a column where it would see a `datetime`:
# `select(Task).where(Task.status == "pending", Task.priority == "high")
# .order_by(col(Task.created_at).desc(), col(Task.id).desc()).limit(5)`.

# %% [markdown]
# ## Recap
#
# - Statements are values: build, extend (`where` ANDs), and run them with `session.exec`.
# - `col(Model.field)` makes column methods type-check.
# - Order totally: enums in declared order, NULLs placed on purpose, a unique key last;
#   `select_tasks(order_by=...)` does all three. Ties lose rows with OFFSET on PostgreSQL.
# - `selectinload` loads a relationship for all rows in one more query.
# - Keyset pages (`paginate`) seek with a row-value comparison; OFFSET reads and discards.
# - `show_sql` and `explain` show what the database receives and how it answers.
#
# Next: lesson 2e, testing with an in-memory database, and the schema's revisions.

# %% [markdown]
# ## Clean up

# %%
await engine.dispose()
shutil.rmtree(workdir)
