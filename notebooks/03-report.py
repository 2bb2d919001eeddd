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
# # Task report
#
# Where the work stands: how much there is, how fast it moves, where it piles up.
# Run it with `uv run taskkit report` (options: `--param project=Apollo`,
# `--param date_from=2025-06-01`, `--param date_to=2025-09-30`, `--db URL`).

# %% tags=["parameters"]
# Report parameters (papermill replaces this cell's values).
database_url = None  # None: a fresh temporary database with the default seeded dataset
date_from = None  # first day to include, "YYYY-MM-DD", or None
date_to = None  # last day to include, "YYYY-MM-DD", or None
project = None  # a project name, or None for all projects

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display
from matplotlib.ticker import MaxNLocator

import taskkit
from taskkit.report import check_parameters, report_data
from taskkit.report.text import markdown_text as md

pd.set_option("display.width", 120)
# Labels hold names from the data: "$...$" must stay text, never become mathtext.
plt.rcParams.update(
    {
        "figure.dpi": 96,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "text.parse_math": False,
    }
)

parameters = check_parameters(
    {"database_url": database_url, "date_from": date_from, "date_to": date_to, "project": project}
)
if parameters.database_url is None:
    # Reproducible on its own: a temporary database with the default dataset (seed 0).
    scratch = Path(tempfile.mkdtemp()) / "report.db"
    engine = taskkit.connect(f"sqlite:///{scratch}")
    await taskkit.ensure_schema(engine)
    await taskkit.seed(engine, progress=False)
else:
    engine = taskkit.connect(parameters.database_url)
data = await report_data(engine, parameters)


# %%
def day(ts):
    return ts.strftime("%d %b %Y") if ts is not None else "n/a"


scope = f"project **{md(parameters.project)}**" if parameters.project else "all projects"
if data.tasks == 0:
    display(Markdown(f"There are no tasks in {scope} for the chosen dates."))
else:
    share = data.completed / data.tasks
    if len(data.cycle_days):
        speed = (
            f"Half of the completed tasks took less than "
            f"**{data.cycle_days.median():.1f} days** from creation to completion; one in ten "
            f"took more than **{data.cycle_days.quantile(0.9):.1f} days**."
        )
    else:
        speed = "None is completed yet, so there is no time to completion to show."
    display(
        Markdown(
            f"This report covers **{data.tasks:,} tasks** in {scope}, created between "
            f"{day(data.first_created)} and {day(data.last_created)}. "
            f"**{data.completed:,}** of them ({share:.0%}) are completed and "
            f"**{data.open_tasks:,}** are still open. {speed}"
        )
    )

# %% [markdown]
# ## Status and priority

# %%
table = data.status_priority.pivot_table(
    index="status", columns="priority", values="tasks", aggfunc="sum", observed=False
)
table["all"] = table.sum(axis=1)
table.loc["all"] = table.sum()
table

# %% [markdown]
# ## Work created and completed per week

# %%
weekly = data.weekly.set_index("week")[["created", "completed"]]
if parameters.date_to is not None:  # tasks in scope may complete after it: keep the window
    weekly = weekly[weekly.index <= pd.Timestamp(parameters.date_to)]
if len(weekly):
    backlog_change = int(weekly["created"].sum() - weekly["completed"].sum())
    busiest = weekly["created"].idxmax()
    display(
        Markdown(
            f"The busiest week started on {busiest:%d %b %Y}, with "
            f"{int(weekly['created'].max()):,} tasks created. Over the period, "
            f"{abs(backlog_change):,} more tasks were "
            f"{'created than completed' if backlog_change >= 0 else 'completed than created'}."
        )
    )
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.plot(weekly.index, weekly["created"], label="created", color="#4C72B0")
    ax.plot(weekly.index, weekly["completed"], label="completed", color="#55A868")
    ax.set_ylabel("tasks per week")
    ax.legend(frameon=False)
    fig.autofmt_xdate()
    plt.show()

# %% [markdown]
# ## How long work takes

# %%
cycle = data.cycle_days
if len(cycle):
    fig, ax = plt.subplots(figsize=(9, 3.2))
    shown = cycle[cycle <= cycle.quantile(0.99)]
    ax.hist(shown, bins=60, color="#4C72B0")
    ax.axvline(
        cycle.median(), color="#C44E52", linestyle="--", label=f"median {cycle.median():.1f} d"
    )
    ax.set_xlabel("days from creation to completion (the slowest 1% not shown)")
    ax.set_ylabel("tasks")
    ax.legend(frameon=False)
    plt.show()
    display(cycle.describe(percentiles=[0.5, 0.9, 0.99]).round(2).to_frame())

# %% [markdown]
# ## Projects

# %%
projects = data.projects.set_index("project")
if len(projects):
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(projects) + 1))
    projects[["completed", "in_progress", "pending"]].iloc[::-1].plot.barh(
        stacked=True, ax=ax, color=["#55A868", "#DD8452", "#8C8C8C"], width=0.8
    )
    ax.set_xlabel("tasks")
    ax.set_ylabel("")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    plt.show()
projects.assign(completed_share=projects["completed_share"].round(3)).drop(columns="project_id")

# %% [markdown]
# ## Who carries the open work

# %%
workers = data.workers.sort_values(["open", "worker_id"], ascending=[False, True]).head(15)
if len(workers):
    top = workers.iloc[0]
    display(
        Markdown(
            f"{md(top['worker'])} ({md(top['worker_id'])}) has the most open tasks: "
            f"{int(top['open']):,}. "
            f"The {len(workers)} busiest workers are shown."
        )
    )
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(workers) + 1))
    labels = workers["worker"] + " (" + workers["worker_id"] + ")"
    ax.barh(labels.iloc[::-1], workers["open"].iloc[::-1], color="#DD8452")
    ax.set_xlabel("open tasks (pending or in progress)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    plt.show()
    display(workers.set_index("worker_id")[["worker", "open", "tasks"]].rename_axis("worker id"))

# %% [markdown]
# ## Provenance
#
# What this report was computed from, so that it can be reproduced.

# %%
# NBVAL_IGNORE_OUTPUT
pd.DataFrame({"value": data.provenance}).rename_axis("item")

# %%
await engine.dispose()
