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
# # Lesson 6 · Importing a tracker export
#
# *The course: 01 explore → 2a models → 2b sessions → 2c relationships → 2d queries →
# 2e testing and the schema → 04 API → 05 Alembic → **06 import** (`notebooks/README.md`).*
#
# Your work lives in a tracker. This notebook imports a Jira Cloud CSV export as it is (the
# format is detected from its header), maps the one workflow state taskkit cannot place,
# explores the result, and imports a newer export of the same issues: tasks with the same
# tracker key are updated, not added twice, and each task's status history grows.
#
# It needs only an installed taskkit (`pip install taskkit`): the example export ships inside
# the package (`taskkit/examples/jira_cloud.csv`), read with `importlib.resources`.

# %%
import shutil
import tempfile
from importlib.resources import files
from pathlib import Path

import pandas as pd
from sqlmodel import select

import taskkit
from taskkit import ImportMapping, LoadError, Task, load_tasks, select_tasks, to_dataframe

pd.set_option("display.width", 120)
export = files("taskkit") / "examples" / "jira_cloud.csv"  # an export shipped with taskkit
workdir = Path(tempfile.mkdtemp(prefix="taskkit-import-"))
engine = taskkit.connect(f"sqlite:///{workdir / 'tracker.db'}")
await taskkit.ensure_schema(engine)
print(export.name, "-", len(export.read_text(encoding="utf-8").splitlines()), "lines")

# %% [markdown]
# ## 1. Import as is
#
# The file has 27 columns (three called `Labels`, two `Watchers`) and local times such as
# `17/Feb/22 11:02 AM`. taskkit reads Jira's `Status Category` for statuses it does not know
# by name; a state with no category is refused, grouped with its rows, and nothing is stored.

# %%
try:
    await load_tasks(engine, export, progress=False)
except LoadError as refused:
    print(refused)

# %% [markdown]
# ## 2. Map the state and import
#
# The mapping is what `--status "Analyzing=pending"` does on the command line. The summary
# says which format was read, how the completed issues ended, where their dates came from
# (Jira's `Status Category Changed`: when an issue entered Done), which columns were not read
# and how times were read.

# %%
mapping = ImportMapping.build(status=["Analyzing=pending"])
summary = await load_tasks(engine, export, mapping=mapping, progress=False)
print(summary)

# %%
tasks = await to_dataframe(engine, select(Task).order_by(Task.id), related=["project"])
tasks[["key", "title", "status", "resolution", "kind", "created_at", "started_at", "completed_at"]]

# %% [markdown]
# ## 3. Explore
#
# The tracker key stays with each task: filter by it, and measure cycle time for the completed
# ones.

# %%
async with taskkit.session(engine) as s:
    review = (await s.exec(select_tasks(key="HIVE-102", with_workers=True))).one()
print(review.key, review.title, review.status, [w.name for w in review.workers])

# %%
done = tasks[tasks["status"] == "completed"]
(done["completed_at"] - done["created_at"]).describe()[["count", "mean"]]

# %%
tasks.groupby(["status", "priority"], observed=True).size().unstack(fill_value=0)

# %% [markdown]
# ## 4. A newer export
#
# A week later HIVE-102 is done. Importing the newer export updates that task and leaves the
# others as they are.

# %%
newer = workdir / "jira_newer.csv"
old = (
    "Vectorized reader drops nulls,HIVE-102,10102,Bug,In Review,HIVE,Hive,software,Blocker,,"
    "Sam Silva,Ada Berg,Ada Berg,18/Feb/22 9:30 AM,21/Feb/22 10:00 AM,,,"
)
new = (
    "Vectorized reader drops nulls,HIVE-102,10102,Bug,Done,HIVE,Hive,software,Blocker,Done,"
    "Sam Silva,Ada Berg,Ada Berg,18/Feb/22 9:30 AM,25/Feb/22 5:00 PM,,25/Feb/22 5:00 PM,"
)
text = export.read_text(encoding="utf-8").replace(old, new)
text = text.replace("Sprint 4,In Progress,21/Feb/22 10:00 AM", "Sprint 4,Done,25/Feb/22 5:00 PM")
newer.write_text(text, encoding="utf-8")
again = await load_tasks(engine, newer, mapping=mapping, progress=False)
print(f"new {again.tasks}, updated {again.updated}, unchanged {again.unchanged}")

# %%
after = await to_dataframe(engine, select(Task).order_by(Task.id))
after[["key", "status", "resolution", "started_at", "completed_at"]]

# %% [markdown]
# ## 5. The history of a task
#
# Every status change is a row of `status_change`, a one-to-many table beside `task`. The
# first import recorded what the first export said (created, then in progress when its status
# category last changed); the second appended the move to Done at the moment the newer export
# gives. `source` says where each row was learned: `tracker` for the tracker's own dates.

# %%
await to_dataframe(engine, taskkit.select_history(select_tasks(key="HIVE-102")))

# %%
await engine.dispose()
shutil.rmtree(workdir)
