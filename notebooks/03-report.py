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

# %% [markdown] tags=["notebook-only"]
# # The task report
#
# The notebook behind `taskkit report`: it writes this notebook's outputs, without the code
# (`--show-code` keeps it) and without this cell, as a standalone HTML (or PDF) page. Set the
# parameters in the next cell to explore; with `database_url = None` it reports on a temporary
# database holding the default synthetic dataset.

# %% tags=["parameters"]
# Report parameters (taskkit report replaces this cell's values).
database_url = None  # None: a fresh temporary database with the default seeded dataset
date_from = None  # first day to include, "YYYY-MM-DD", or None
date_to = None  # last day to include, "YYYY-MM-DD", or None
project = None  # a project name, or None for all projects
command = None  # the command that made the report (recorded in the provenance)

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, Markdown, display
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

import taskkit
from taskkit._report import check_parameters, report_data
from taskkit._report.data import whole_weeks
from taskkit._report.flow import WEEKS, flow_section
from taskkit._report.present import LABELS, count, day, days, figure, heading, percent, title
from taskkit._report.text import markdown_text as md

pd.set_option("display.max_colwidth", None)  # never shorten a path or a name
plt.rcParams.update(
    {
        "figure.dpi": 96,
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        # Labels hold names from the data: "$...$" must stay text, never become mathtext.
        "text.parse_math": False,
    }
)
WIDE = (10, 3.6)  # inches; the page scales every figure to its width

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
data = await report_data(engine, parameters, command=command)
flow = await flow_section(engine, parameters)
await engine.dispose()

# %%
display(heading(title(parameters), level=1))
if data.tasks == 0:
    display(
        Markdown(
            "No task matches this selection, so there is nothing to chart. "
            "The provenance below records what was asked."
        )
    )
else:
    share = data.completed / data.tasks
    if len(data.cycle_days):
        speed = (
            f"Half of the completed tasks took less than "
            f"**{days(data.cycle_days.median())}** from creation to completion; one in ten "
            f"took more than **{days(data.cycle_days.quantile(0.9))}**."
        )
    else:
        speed = "None is completed yet, so there is no time to completion to show."
    display(
        Markdown(
            f"This report covers **{count(data.tasks)} tasks**, created between "
            f"{day(data.first_created)} and {day(data.last_created)}. "
            f"**{count(data.completed)}** of them ({percent(share)}) are completed and "
            f"**{count(data.open_tasks)}** are still open. {speed}"
        )
    )

# %%
if data.tasks:
    display(heading("Status and priority"))
    table = data.status_priority.pivot_table(
        index="status", columns="priority", values="tasks", aggfunc="sum", observed=False
    )
    table["all"] = table.sum(axis=1)
    table.loc["all"] = table.sum()
    table = table.rename(index=LABELS, columns=LABELS).map(count)
    table.columns.name = "priority"
    display(table)

# %%
if data.tasks:
    start = parameters.date_from or data.first_created.date()
    end = parameters.date_to or data.last_created.date()
    weekly = whole_weeks(data.weekly.set_index("week")[["created", "completed"]], start, end)
    display(heading("Work created and completed per week"))
    if len(weekly) < 2:
        display(Markdown("The period holds fewer than two whole weeks: no weekly chart."))
    else:
        backlog = int(weekly["created"].sum() - weekly["completed"].sum())
        busiest = weekly["created"].idxmax()
        display(
            Markdown(
                f"Whole weeks only (Monday to Sunday, UTC), {day(weekly.index[0])} to "
                f"{day(weekly.index[-1] + pd.Timedelta(days=6))}. The busiest week started on "
                f"{day(busiest)}, with {count(weekly['created'].max())} tasks created. Over "
                f"these weeks {count(abs(backlog))} more tasks were "
                f"{'created than completed' if backlog >= 0 else 'completed than created'}."
            )
        )
        fig, ax = plt.subplots(figsize=WIDE)
        ax.plot(weekly.index, weekly["created"], label="created", color="#4C72B0")
        ax.plot(weekly.index, weekly["completed"], label="completed", color="#55A868")
        ax.set_ylabel("tasks per week")
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.legend(frameon=False)
        fig.autofmt_xdate()
        display(figure(fig, "Line chart of tasks created and completed per week"))

# %%
if data.tasks and len(data.cycle_days):
    cycle = data.cycle_days
    display(heading("How long work takes"))
    fig, ax = plt.subplots(figsize=WIDE)
    ax.hist(cycle[cycle <= cycle.quantile(0.99)], bins=60, color="#4C72B0")
    ax.axvline(
        cycle.median(), color="#C44E52", linestyle="--", label=f"median {days(cycle.median())}"
    )
    ax.set_xlabel("days from creation to completion (the slowest 1% not shown)")
    ax.set_ylabel("tasks")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.legend(frameon=False)
    display(figure(fig, "Histogram of days from creation to completion"))
    summary = {
        "completed tasks": count(len(cycle)),
        "median": days(cycle.median()),
        "90th percentile": days(cycle.quantile(0.9)),
        "99th percentile": days(cycle.quantile(0.99)),
        "longest": days(cycle.max()),
    }
    display(pd.DataFrame({"time to completion": summary}).rename_axis(""))

# %%
if data.tasks and len(data.projects):
    projects = data.projects.set_index("project")
    display(heading("Projects"))
    if len(projects) > 1:  # one project: the table says it all
        fig, ax = plt.subplots(figsize=(10, 0.3 * len(projects) + 1.2))
        stacked = projects[["completed", "in_progress", "pending"]].rename(columns=LABELS)
        stacked.iloc[::-1].plot.barh(
            stacked=True, ax=ax, color=["#55A868", "#DD8452", "#8C8C8C"], width=0.8
        )
        ax.set_xlabel("tasks")
        ax.set_ylabel("")
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.legend(frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3)
        display(figure(fig, "Stacked bars of completed, in progress and pending tasks per project"))
    shown = projects[["tasks", "completed", "in_progress", "pending"]].map(count)
    shown["completed share"] = projects["completed_share"].map(percent)
    display(shown.rename(columns=LABELS))

# %%
workers = data.workers.sort_values(["open", "worker_id"], ascending=[False, True]).head(15)
if data.tasks and len(workers):
    top = workers.iloc[0]
    display(heading("Who carries the open work"))
    display(
        Markdown(
            f"{md(top['worker'])} ({md(top['worker_id'])}) has the most open tasks: "
            f"{count(top['open'])}. The {len(workers)} workers with the most open tasks:"
        )
    )
    fig, ax = plt.subplots(figsize=(10, 0.3 * len(workers) + 1))
    labels = workers["worker"] + " (" + workers["worker_id"] + ")"
    ax.barh(labels.iloc[::-1], workers["open"].iloc[::-1], color="#DD8452")
    ax.set_xlabel("open tasks (pending or in progress)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    display(figure(fig, "Bars of open tasks per worker"))
    shown = workers.set_index("worker_id")[["worker", "open", "tasks"]]
    shown[["open", "tasks"]] = shown[["open", "tasks"]].map(count)
    display(
        shown.rename(columns={"open": "open tasks", "tasks": "all tasks"}).rename_axis("worker id")
    )

# %%
if data.tasks and flow.start is not None:
    display(heading("Flow: how work moves"))
    whole = flow.weekly[flow.weekly["days"] == 7]
    finished = int(flow.weekly["finished"].sum())
    levels = flow.percentiles.set_index("percentile")["cycle_days"]
    unstarted = int(flow.percentiles["without_start"].iloc[0])
    ages = flow.ages.dropna(subset=["age_days"])
    if len(whole):
        pace = f", {whole['finished'].mean():,.1f} a week on average over its whole weeks"
    else:
        pace = ""
    if pd.notna(levels.get(85)):
        left_out = (
            f"; {count(unstarted)} finished without a known start are not counted"
            if unstarted
            else ""
        )
        speed = (
            f"85% of those with a known start took **{count(levels[85])} days or less** "
            f"from start to finish (calendar days, both ends counted), half of them "
            f"{count(levels[50])} days or less{left_out}."
        )
        late = int((ages["age_days"] > levels[85]).sum())
        ageing = f", {count(late)} of them already older than that 85th percentile"
    else:
        speed = "None of them has a known start, so there is no cycle time to show."
        ageing = ""
    if flow.forecast is not None:
        dates = flow.forecast.likelihoods.set_index("likelihood")["date"]
        outlook = (
            f"At the pace of these weeks, the {count(flow.open_items)} open items (pending or in "
            f"progress) will all be finished by **{day(dates[85])}** with 85% likelihood "
            f"({day(dates[50])} with 50%, {day(dates[95])} with 95%; "
            f"{flow.forecast.trials:,} Monte Carlo trials)."
        )
    else:
        outlook = "Nothing is open, or nothing was finished to forecast from."
    display(
        Markdown(
            f"Over the last {WEEKS} weeks, {day(flow.start)} to {day(flow.end)}, "
            f"**{count(finished)} items were finished**{pace}. {speed} At the end, "
            f"{count(len(flow.ages))} items were in progress{ageing}. {outlook} Finished means "
            "completed as done; dropped work is not counted. Definitions: taskkit's "
            "docs/flow.md."
        )
    )
    display(figure(taskkit.plot_throughput(flow.weekly), "Bars of items finished per week"))
    if flow.cycles["cycle_days"].notna().any():
        display(
            figure(
                taskkit.plot_cycle_times(flow.cycles, flow.percentiles),
                "Scatterplot of cycle time by completion day, with percentile lines",
            )
        )
    if len(ages):
        display(
            figure(
                taskkit.plot_ageing_wip(flow.ages, flow.percentiles),
                "Items in progress by age, against the cycle-time percentiles",
            )
        )
    display(
        figure(
            taskkit.plot_cumulative_flow(flow.flow),
            "Cumulative flow: items completed, in progress and pending each day",
        )
    )
    if flow.forecast is not None:
        display(
            figure(
                taskkit.plot_forecast(flow.forecast),
                "Histogram of the days needed to finish the open items, with likelihoods",
            )
        )

# %%
# NBVAL_IGNORE_OUTPUT
display(heading("Provenance"))
display(Markdown("What this report was computed from, so that it can be made again."))
provenance = pd.DataFrame({"value": {**data.provenance, **flow.provenance}})
display(HTML(provenance.to_html(classes="provenance", header=False)))  # escapes every value
