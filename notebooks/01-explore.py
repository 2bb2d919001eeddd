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
# # Lesson 1 · Exploring task data with taskkit
#
# *The course: **01 explore** → 2a models → 2b sessions → 2c relationships → 2d queries →
# 2e testing and the schema → 04 API → 05 Alembic → 06 import (`notebooks/README.md`).*
#
# Start here. This lesson is a tour of what taskkit does, as an analyst would use it: make a
# database, fill it with realistic task data, ask it questions, page through answers, and move
# to pandas for grouping, pivots and plots. The lessons after it take each piece apart
# (models, sessions, relationships, queries). An analyst can stop after this one.
#
# **After this lesson you can**
#
# - make and seed a database, and read a task with its project and workers;
# - ask questions with `select_tasks` and `any_of`, and read the SQL they send;
# - page through results (`paginate`, the `explore` grid), and walk all of them (`pages`);
# - read results into pandas with the right dtypes, summarise in the database, pivot and plot.
#
# Every cell uses top-level `await`: Jupyter runs an event loop already, so taskkit's async
# functions are awaited directly (no `asyncio.run`). Run the notebook top to bottom; it makes
# its own database, so it never depends on what is on your machine. A cell that needs a
# session opens one with `async with` and closes it before it ends: a session left open keeps
# a connection (and, once it has written, a lock) until it is closed.

# %%
import shutil
import tempfile
from datetime import date
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from sqlmodel import or_, select

import taskkit
from taskkit import (
    Project,
    Task,
    any_of,
    count,
    pages,
    paginate,
    paginate_offset,
    project_progress,
    select_tasks,
    status_priority_counts,
    tasks_per_week,
    to_dataframe,
    worker_load,
)

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 12)
plt.rcParams.update({"figure.dpi": 96, "axes.spines.top": False, "axes.spines.right": False})

# %% [markdown]
# ## 1. A fresh database
#
# `taskkit.connect` takes any database URL: a SQLite file here, PostgreSQL when one machine is
# not enough. A new temporary directory gives a database that holds nothing yet.
# `ensure_schema` builds the tables through taskkit's migrations, so this database could be
# upgraded later like any other; it returns the schema revision it reached.

# %%
scratch = Path(tempfile.mkdtemp(prefix="taskkit-explore-"))
engine = taskkit.connect(f"sqlite:///{scratch / 'explore.db'}")
revision = await taskkit.ensure_schema(engine)
print("schema at revision", revision)

# %% [markdown]
# ## 2. Seed it
#
# `taskkit.seed` writes synthetic data shaped like real work: a year of tasks with a weekly
# rhythm, old tasks mostly completed, high-priority work finished sooner, a few big projects,
# some busy workers. A fixed `seed` gives the same rows on any machine and any day, which is
# what lets this notebook show the same numbers every time it runs.
#
# In Jupyter the progress bar is a widget (the bar disappears when seeding is done).

# %%
# NBVAL_IGNORE_OUTPUT
summary = await taskkit.seed(engine, tasks=20_000, projects=20, workers=50, seed=0, progress=True)

# %% [markdown]
# The summary counts what was written (its `seconds` field is the only part that changes from
# run to run, so it is left out here):

# %%
display(
    Markdown(
        f"Seeded **{summary.tasks:,} tasks** in **{summary.projects} projects**, "
        f"**{summary.workers} workers** and **{summary.links:,} assignments** "
        f"(seed {summary.seed})."
    )
)

# %% [markdown]
# ## 3. One task, as a model
#
# Rows come back as `Task` objects: typed attributes, enums for status and priority, and
# timezone-aware UTC timestamps. `taskkit.session(engine)` opens a session that keeps objects
# readable after a commit.

# %%
async with taskkit.session(engine) as session:
    first = await taskkit.get_task(session, 1, with_project=True, with_workers=True)

print(first.title, "|", first.status, "|", first.priority, "| project:", first.project.name)
print("created", first.created_at, "| completed", first.completed_at)
print("workers:", [w.name for w in first.workers])

# %% [markdown]
# ## 4. Ask questions: filters
#
# `select_tasks(...)` builds an ordinary SQLModel `select(Task)` with the filters you give
# (all of them must match) and a total order (newest first by default, `id` as a tiebreak).
# Nothing runs until you execute it: `count` counts it in the database, `session.exec` returns
# the tasks, `to_dataframe` reads it into pandas.

# %%
open_high = select_tasks(status=["pending", "in_progress"], priority="high")
async with taskkit.session(engine) as session:
    print(f"{await count(session, open_high):,} open high-priority tasks")

# %% [markdown]
# Because the result is a plain statement, you can read the SQL it will run. `print(stmt)`
# shows generic SQL with placeholders (`status IN (__[POSTCOMPILE_status_1])`); `show_sql`
# shows what this database receives: its own dialect, the lists expanded and the values
# written in (for reading: the database gets them as parameters, so run the statement, never
# the text).

# %%
taskkit.show_sql(open_high, engine)

# %% [markdown]
# Filters combine. Projects can be named or given by id; `search` looks for a case-insensitive
# piece of text in the title or the description; dates bound the creation time (`created_from`
# inclusive, `created_to` exclusive; a `date` or an ISO string such as `"2025-06-01"` means
# midnight UTC; `completed_from`/`completed_to` bound the completion time the same way).

# %%
questions = {
    "Apollo, still pending": select_tasks(project="Apollo", status="pending"),
    "mentions 'login'": select_tasks(search="login"),
    "created in June 2025": select_tasks(created_from="2025-06-01", created_to="2025-07-01"),
    "completed in December 2025": select_tasks(
        completed_from=date(2025, 12, 1), completed_to=date(2026, 1, 1)
    ),
    "high priority, in Apollo or Borealis, created in Q4": select_tasks(
        priority="high",
        project=["Apollo", "Borealis"],
        created_from=date(2025, 10, 1),
        created_to=date(2026, 1, 1),
    ),
}
async with taskkit.session(engine) as session:
    counts = {question: await count(session, stmt) for question, stmt in questions.items()}
counts = pd.Series(counts, name="tasks")
counts.to_frame()

# %% [markdown]
# ### OR: two ways
#
# `select_tasks` ANDs its filters. For "this OR that", `any_of` takes the same filters and
# ORs them; or write the condition yourself with `or_` on the statement, as in any SQLModel
# code. Both give the same rows:

# %%
async with taskkit.session(engine) as session:
    apollo_id = (await session.exec(select(Project.id).where(Project.name == "Apollo"))).one()

with_any_of = select_tasks(status="pending").where(any_of(priority="high", project="Apollo"))
with_or = select_tasks(status="pending").where(
    or_(Task.priority == "high", Task.project_id == apollo_id)
)
async with taskkit.session(engine) as session:
    n_any_of, n_or = await count(session, with_any_of), await count(session, with_or)
display(
    Markdown(
        f"Pending tasks that are high priority **or** in Apollo: **{n_any_of:,}** with "
        f"`any_of`, **{n_or:,}** with `or_`."
    )
)

# %% [markdown]
# ## 5. Page through results
#
# Reading 20,000 rows into a notebook to look at ten of them is wasteful. `paginate` returns
# one `Page` at a time by *keyset* pagination: it remembers where the page ended and asks for
# the rows after it, so page 500 costs what page 1 costs and no row is skipped or repeated
# while you walk. A page shows itself as a table:

# %%
login_tasks = select_tasks(search="login", order_by=["-priority", "-created_at"])
async with taskkit.session(engine) as session:
    page = await paginate(session, login_tasks, size=5)
page

# %% [markdown]
# `page.next_cursor` is an opaque string that leads to the next page. It only works with the
# statement that produced it (another statement's cursor is refused rather than silently
# giving wrong rows).

# %%
async with taskkit.session(engine) as session:
    page2 = await paginate(session, login_tasks, size=5, cursor=page.next_cursor)
print(repr(page2))
print([t.id for t in page2])

# %% [markdown]
# For contrast, `paginate_offset` uses `LIMIT/OFFSET`: it knows the page number and the total
# (it counts on every call), and it can jump to any page. The price: the database reads and
# throws away every row before the page, and rows added meanwhile shift the pages. Fine for a
# small table or a UI with page numbers; use `paginate` for walking through large results.

# %%
async with taskkit.session(engine) as session:
    by_offset = await paginate_offset(session, login_tasks, page=2, size=5)
print(repr(by_offset))
print("same rows as keyset page 2:", [t.id for t in by_offset] == [t.id for t in page2])

# %% [markdown]
# ### Explore with the grid
#
# `taskkit.explore` shows any select as a grid that pages in the database: *First*, *Prev*,
# *Next* and *Last* fetch one page each (the last page reads the order backwards, it does not
# skip through the rows before it), a click on a header sorts (again to reverse), and the
# filter bar builds the same `select_tasks(...)` you would write. The row count arrives after
# the page, and the grid says when no index serves the order you picked. Open *SQL of this
# page* to see what ran, and ask for the plan. Nothing is loaded beyond the page on screen.
#
# (Viewed without a running kernel, on the web or as HTML, this output is a static copy of the
# first page.)

# %%
grid = await taskkit.explore(engine, size=10)
grid

# %% [markdown]
# What you see is a statement you can keep working with: `grid.statement` is the select behind
# the rows (with your sort and filters), `grid.code` the call that builds it, and
# `await grid.to_dataframe()` reads all of its rows.

# %%
print(grid.code)
async with taskkit.session(engine) as session:
    print(f"{await count(session, grid.statement):,} rows behind the grid")

# %% [markdown]
# To process a whole result in chunks (a batch job, an export), `pages` walks every page:

# %%
seen, n_pages = [], 0
async with taskkit.session(engine) as session:
    async for chunk in pages(session, login_tasks, size=250):
        seen.extend(t.id for t in chunk)
        n_pages += 1
    total = await count(session, login_tasks)
print(
    f"{len(seen):,} rows in {n_pages} pages; each exactly once: {sorted(set(seen)) == sorted(seen)}"
)
print(f"all {total:,} rows of the statement seen: {len(seen) == total}")

# %% [markdown]
# ## 6. Into pandas
#
# `to_dataframe(engine, stmt)` runs any select and types the columns from the models, not from
# whatever values happen to come back: status and priority become *ordered* categoricals
# (pending < in_progress < completed, low < medium < high), timestamps UTC datetimes, a
# nullable `project_id` the nullable `Int64`. `related=["project"]` adds the project's name.

# %%
tasks = await to_dataframe(engine, select_tasks(order_by="id"), related=["project"])
tasks.dtypes.to_frame("dtype")

# %%
tasks.head()

# %% [markdown]
# A page converts too, with the same columns and dtypes:

# %%
page.to_dataframe()[["id", "title", "status", "priority", "created_at"]]

# %% [markdown]
# taskkit's aggregates (`taskkit.status_priority_counts` and its kin) group inside the
# database, which is how you summarise a table too large to load: status by priority, work per
# week, progress per project, load per worker. Each is a statement, so `to_dataframe` reads it:

# %%
by_status = await to_dataframe(engine, status_priority_counts())
by_status.head(4)

# %%
progress = await to_dataframe(engine, project_progress())
progress.sort_values("tasks", ascending=False).head(5).round({"completed_share": 3})

# %% [markdown]
# Aggregates take a statement too, to summarise only some tasks (here: high priority only):

# %%
high_progress = await to_dataframe(engine, project_progress(select_tasks(priority="high")))
high_progress[["project", "tasks", "completed"]].head(3)

# %% [markdown]
# ## 7. Group and pivot with pandas
#
# Once the rows are in a DataFrame, pandas does the rest. Status by priority as a pivot table
# (`observed=False` keeps every category, even an empty one):

# %%
pivot = tasks.pivot_table(
    index="status", columns="priority", values="id", aggfunc="count", observed=False
)
pivot

# %% [markdown]
# The same table came from the database above (`status_priority_counts`); checking one against
# the other is a good habit when two roads lead to one number:

# %%
from_db = by_status.pivot_table(
    index="status", columns="priority", values="tasks", aggfunc="sum", observed=False
)
print("pandas and the database agree:", (from_db.to_numpy() == pivot.to_numpy()).all())

# %% [markdown]
# Cycle time is `completed_at - created_at`, set only for completed tasks. Per priority:

# %%
done = tasks[tasks["status"] == "completed"].copy()
done["cycle_days"] = (done["completed_at"] - done["created_at"]).dt.total_seconds() / 86_400
cycle_by_priority = (
    done.groupby("priority", observed=False)["cycle_days"]
    .describe(percentiles=[0.5, 0.9])[["count", "mean", "50%", "90%"]]
    .round(1)
)
cycle_by_priority

# %%
fast, slow = cycle_by_priority.loc["high", "50%"], cycle_by_priority.loc["low", "50%"]
display(
    Markdown(
        f"Half of the high-priority tasks were done within **{fast} days**; low-priority work "
        f"took **{slow} days** at the median, {slow / fast:.1f} times as long."
    )
)

# %% [markdown]
# Which projects hold the open work? Group by project name and status, then pivot status into
# columns. Two arguments matter here:
#
# - `dropna=False`: some tasks have no project (`project_name` is missing). pandas drops rows
#   whose group key is missing unless told otherwise, so without it those open tasks would
#   vanish from the table without a word. Here they form a group of their own.
# - `observed=True`: `status` is a categorical, and grouping by categoricals makes a row for
#   every combination of categories, occurring or not. `observed=True` keeps only the pairs
#   that occur (so no empty `completed` column for open work); `observed=False` keeps them
#   all, which is what the pivot above wanted: every status and priority, even an empty one.

# %%
open_tasks = tasks[tasks["status"] != "completed"]
open_by_project = (
    open_tasks.groupby(["project_name", "status"], observed=True, dropna=False)
    .size()
    .unstack("status", fill_value=0)
)
open_by_project.index = open_by_project.index.fillna("(no project)")
open_by_project["open"] = open_by_project.sum(axis=1)
open_by_project.sort_values("open", ascending=False).head(5)

# %%
without = open_by_project.loc["(no project)", "open"]
counted = open_by_project["open"].sum()
print(
    f"{without:,} open tasks have no project; the table counts {counted:,} of {len(open_tasks):,}"
)

# %% [markdown]
# ## 8. Plots
#
# ### Work created and completed per week
#
# `tasks_per_week` buckets in the database (weeks start on Monday, UTC). The plot leaves out
# the two partial weeks at the ends of the year. When the completed line runs below the
# created line, the backlog grows.

# %%
weekly = await to_dataframe(engine, tasks_per_week())
weekly = weekly.set_index("week")
full_weeks = weekly.iloc[1:-1]  # the first and last weeks of the year are partial

fig, ax = plt.subplots(figsize=(9, 3.2))
ax.plot(full_weeks.index, full_weeks["created"], label="created", color="#4C72B0")
ax.plot(full_weeks.index, full_weeks["completed"], label="completed", color="#55A868")
ax.set_ylabel("tasks per week")
ax.legend(frameon=False, loc="upper left")
fig.autofmt_xdate()
plt.show()

# %%
busiest = full_weeks["created"].idxmax()
backlog = int(weekly["created"].sum() - weekly["completed"].sum())
display(
    Markdown(
        f"The busiest full week began on **{busiest:%d %B %Y}** with "
        f"**{int(full_weeks['created'].max()):,}** new tasks. Over the year "
        f"**{int(weekly['created'].sum()):,}** tasks were created and "
        f"**{int(weekly['completed'].sum()):,}** completed, leaving **{backlog:,}** open."
    )
)

# %% [markdown]
# ### How long work takes
#
# The cycle-time distribution has a long tail: most work finishes within days, a few tasks drag
# on for weeks. A logarithmic axis shows both ends.

# %%
bins = np.geomspace(done["cycle_days"].min(), done["cycle_days"].max(), 60)
fig, ax = plt.subplots(figsize=(9, 3.2))
for priority, color in [("low", "#8C8C8C"), ("medium", "#4C72B0"), ("high", "#C44E52")]:
    days = done.loc[done["priority"] == priority, "cycle_days"]
    ax.hist(days, bins=bins, histtype="step", linewidth=1.5, color=color, label=priority)
ax.set_xscale("log")
ax.set_xlabel("days from creation to completion (log scale)")
ax.set_ylabel("completed tasks")
ax.legend(title="priority", frameon=False, loc="upper right")
plt.show()

# %%
median, p90 = done["cycle_days"].median(), done["cycle_days"].quantile(0.9)
display(
    Markdown(
        f"Across **{len(done):,}** completed tasks the median cycle time is **{median:.1f} "
        f"days**; one task in ten took longer than **{p90:.1f} days**."
    )
)

# %% [markdown]
# ### Load per worker
#
# `worker_load` counts, per worker, the open tasks (pending or in progress) they are assigned
# to. A few people carry much more than the rest:

# %%
load = await to_dataframe(engine, worker_load())
top = load.head(15)

fig, ax = plt.subplots(figsize=(9, 4.5))
labels = top["worker"] + " (" + top["worker_id"] + ")"
ax.barh(labels.iloc[::-1], top["in_progress"].iloc[::-1], color="#DD8452", label="in progress")
ax.barh(
    labels.iloc[::-1],
    top["pending"].iloc[::-1],
    left=top["in_progress"].iloc[::-1],
    color="#8C8C8C",
    label="pending",
)
ax.set_xlabel("open tasks assigned")
ax.legend(frameon=False, loc="lower right")
plt.show()

# %%
busiest_worker = load.iloc[0]
median_open = load["open"].median()
display(
    Markdown(
        f"**{busiest_worker['worker']}** ({busiest_worker['worker_id']}) has "
        f"**{int(busiest_worker['open'])}** open tasks, "
        f"{busiest_worker['open'] / median_open:.1f} times the median worker's "
        f"{median_open:g}."
    )
)

# %% [markdown]
# ## Recap
#
# - `taskkit.connect` + `ensure_schema` + `seed`: a database of realistic work, the same rows
#   every run.
# - `select_tasks(...)` builds a plain statement; `count`, `session.exec`, `to_dataframe` and
#   the `explore` grid run it; `show_sql` shows what the database receives.
# - `paginate` pages by keyset (each row once, page 500 as cheap as page 1); `pages` walks all.
# - `to_dataframe` types columns from the models; the aggregates summarise in the database.
#
# Next: lesson 2a, the models behind all of this.

# %% [markdown]
# ## Clean up
#
# Close the engine's connections, then remove the temporary database.

# %%
await engine.dispose()
shutil.rmtree(scratch)
