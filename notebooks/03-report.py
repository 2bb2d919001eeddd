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

# %% [markdown] tags=["notebook-only"]
# # The task report
#
# The notebook behind `taskkit report`: it writes this notebook's outputs, without the code
# (`--show-code` keeps it) and without this cell, as a standalone HTML (or PDF) page. Set the
# parameters in the next cell to explore; with `database_url = None` it reports on a temporary
# database holding the default synthetic dataset.
#
# Each section is one cell: a heading, a few sentences that say what the numbers mean, then a
# chart or a table. Completed work is split throughout by its resolution: **done** is finished
# work, **dropped** is work completed as won't do, duplicate or cancelled, which no "done",
# throughput or cycle-time figure counts.

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
from taskkit._report.data import ORIGINS
from taskkit._report.flow import WEEKS
from taskkit._report.present import (
    LABELS,
    count,
    day,
    days,
    figure,
    heading,
    percent,
    plural,
    ranked,
    short,
    title,
)
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
PHONE = (4.4, 3.6)  # the same chart drawn again for a phone's width
COLOURS = {
    "created": "#4C72B0",
    "done": "#55A868",
    "dropped": "#8C8C8C",
    "in_progress": "#DD8452",
    "pending": "#C9CED6",
}

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
flow = data.flow  # the flow section, read in the same snapshot as the rest
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
    done = data.durations
    known = done["cycle_days"].dropna()
    if len(known):
        speed = (
            f"Half of the done tasks with a recorded start took less than "
            f"**{days(known.median())}** from the start of work to done (cycle time); one in "
            f"ten took more than **{days(known.quantile(0.9))}**."
        )
    elif len(done):
        speed = (
            f"No done task has a recorded start, so there is no cycle time; from creation to "
            f"done, half took less than **{days(done['lead_days'].median())}**."
        )
    else:
        speed = "No task is done yet, so there is no time to completion to show."
    dropped = (
        f"**{count(data.dropped)}** were dropped (won't do, duplicate or cancelled)"
        if data.dropped
        else "none was dropped"
    )
    display(
        Markdown(
            f"This report covers **{plural(data.tasks, 'task')}** created between "
            f"{day(data.start)} and {day(data.end)} (UTC). **{count(data.done)}** of them "
            f"({percent(data.done / data.tasks)}) are done, {dropped} and "
            f"**{count(data.open_tasks)}** are still open. {speed}"
        )
    )
    origins = data.origins
    if data.mixes_synthetic_data:
        synthetic = origins.loc[ORIGINS["seed"]]
        others = origins.drop(ORIGINS["seed"])
        listed = "; ".join(
            f"{plural(row.tasks, 'task')} {name} ({day(row.first)} to {day(row.last)})"
            for name, row in others.iterrows()
        )
        display(
            Markdown(
                f"> **This database mixes synthetic and real tasks.** It holds "
                f"{plural(synthetic.tasks, 'synthetic task')} made by `taskkit seed` "
                f"(created {day(synthetic['first'])} to {day(synthetic['last'])}) beside "
                f"{listed}, and every figure below counts them together. To report on your own "
                f"tasks only, import them into a database of their own "
                f"(`taskkit import FILE --db sqlite:///data/mine.db`) and report on that "
                f"(`taskkit report --db sqlite:///data/mine.db`)."
            )
        )
    elif len(origins) > 1:
        listed = ", ".join(f"{plural(r.tasks, 'task')} {name}" for name, r in origins.iterrows())
        display(Markdown(f"Where the tasks come from: {listed}."))

# %%
if data.tasks:
    display(heading("Status and priority"))
    overview = data.overview.assign(
        state=data.overview["status"]
        .astype("object")
        .where(
            data.overview["resolution"].isna(),
            data.overview["resolution"].map(lambda r: "done" if r == "done" else "dropped"),
        )
    )
    table = overview.pivot_table(
        index="state", columns="priority", values="tasks", aggfunc="sum", observed=False
    ).reindex(["pending", "in_progress", "done", "dropped"], fill_value=0)
    table = table.fillna(0)
    table["all"] = table.sum(axis=1)
    table.loc["all"] = table.sum()
    table = table.rename(index=LABELS, columns=LABELS).map(count)
    table.index.name = "status"
    table.columns.name = "priority"
    display(table)
    if data.dropped:
        why = data.overview.groupby("resolution", observed=True)["tasks"].sum()
        listed = ", ".join(f"{count(why[r])} {LABELS[r]}" for r in why.index if r != "done")
        display(
            Markdown(
                f"Done and dropped tasks are both completed. Dropped: {listed}; they count as "
                "closed, never as work done."
            )
        )

# %%
if data.tasks:
    weeks = data.weeks()
    whole = weeks.whole
    display(heading("Work created and finished per week"))
    if len(whole) < 2:
        display(Markdown("The period holds fewer than two whole weeks: no weekly chart."))
    else:
        said = [
            f"Weeks run Monday to Sunday (UTC); the chart covers {day(weeks.start)} to "
            f"{day(weeks.end)}."
        ]
        if weeks.partial:
            where = [
                "where the range starts or ends" if weeks.at_ends else "",
                "where one part of the data starts or stops inside it" if weeks.inside else "",
            ]
            said.append(
                f"{plural(len(weeks.partial), 'week')} the data covers only in part "
                f"{'is' if len(weeks.partial) == 1 else 'are'} left out (shaded): "
                f"{' and '.join(w for w in where if w)}."
            )
        empty = int((whole["created"] == 0).sum())
        if empty:
            said.append(
                f"{plural(empty, 'week')} with no task created "
                f"{'is' if empty == 1 else 'are'} drawn as zero."
            )
        top = whole["created"].max()
        peaks = whole.index[whole["created"] == top]
        ties = f" ({plural(len(peaks) - 1, 'more week')} as busy)" if len(peaks) > 1 else ""
        said.append(
            f"The busiest week started on {day(peaks[0])}, with {count(top)} tasks "
            f"created{ties}. Over the whole weeks, {count(whole['created'].sum())} tasks were "
            f"created, {count(whole['done'].sum())} done and {count(whole['dropped'].sum())} "
            "dropped."
        )
        display(Markdown(" ".join(said)))
        fig, ax = plt.subplots(figsize=WIDE, layout="constrained")
        middle = weeks.counts.index + pd.Timedelta(days=3.5)
        for name in ("created", "done", "dropped"):
            ax.plot(
                middle,
                weeks.counts[name],
                label=LABELS.get(name, name),
                color=COLOURS[name],
                linewidth=1.2 if name == "dropped" else 1.6,
            )
        for number, monday in enumerate(weeks.partial):
            ax.axvspan(
                pd.Timestamp(monday),
                pd.Timestamp(monday) + pd.Timedelta(days=7),
                color="#E6E8EB",
                linewidth=0,
                label="partial week, left out" if number == 0 else None,
            )
        ax.set_xlim(pd.Timestamp(weeks.start), pd.Timestamp(weeks.end) + pd.Timedelta(days=1))
        ax.set_ylabel("tasks per week")
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.legend(frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2)
        fig.autofmt_xdate()
        display(
            figure(
                fig,
                "Lines of tasks created, done and dropped per week; partial weeks shaded",
                phone=PHONE,
            )
        )

# %%
if data.tasks and len(data.durations):
    done = data.durations
    known = done["cycle_days"].dropna()
    shown = known if len(known) else done["lead_days"]
    display(heading("How long work takes"))
    if len(known) == len(done):
        basis = f"All {plural(len(done), 'done task')} have a recorded start."
    elif len(known):
        others = len(done) - len(known)
        basis = (
            f"{count(len(known))} of the {plural(len(done), 'done task')} "
            f"{'has' if len(known) == 1 else 'have'} a recorded start; the other "
            f"{count(others)} ({percent(others / len(done))}) "
            f"{'is' if others == 1 else 'are'} not in the cycle time, only in the lead time."
        )
    else:
        basis = (
            "No done task has a recorded start, so the chart shows the lead time, which also "
            "counts the wait before work began."
        )
    display(
        Markdown(
            "Cycle time runs from the start of work (the first move to in progress) to done; "
            f"lead time from creation to done. {basis} Dropped work is not counted."
        )
    )
    name = "cycle time" if len(known) else "lead time"
    fig, ax = plt.subplots(figsize=WIDE, layout="constrained")
    ax.hist(shown[shown <= shown.quantile(0.99)], bins=60, color=COLOURS["created"])
    ax.axvline(
        shown.median(), color="#C44E52", linestyle="--", label=f"median {days(shown.median())}"
    )
    ax.set_xlabel(f"{name} in days (the slowest 1% not shown)")
    ax.set_ylabel("done tasks")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.legend(frameon=False, loc="upper right")  # the tail side; "best" searches every bar
    display(figure(fig, f"Histogram of the {name} of done tasks, in days", phone=PHONE))

    def spread(values: pd.Series) -> dict[str, str]:
        return {
            "done tasks": count(len(values)),
            "median": days(values.median()) if len(values) else "-",
            "90th percentile": days(values.quantile(0.9)) if len(values) else "-",
            "99th percentile": days(values.quantile(0.99)) if len(values) else "-",
            "longest": days(values.max()) if len(values) else "-",
        }

    display(
        pd.DataFrame(
            {
                "cycle time (start to done)": spread(known),
                "lead time (creation to done)": spread(done["lead_days"]),
            }
        ).rename_axis("")
    )

# %%
kinds = data.overview.dropna(subset=["kind"])
if data.tasks and (len(kinds) or len(data.labels)):
    display(heading("Kinds of work and labels"))
    if len(kinds):
        per_kind = data.overview.assign(kind=data.overview["kind"].fillna("(no kind)"))
        counts = (
            per_kind.assign(
                open=per_kind["tasks"].where(per_kind["status"] != "completed", 0),
                done=per_kind["tasks"].where(per_kind["resolution"] == "done", 0),
                dropped=per_kind["tasks"].where(
                    per_kind["resolution"].notna() & (per_kind["resolution"] != "done"), 0
                ),
            )
            .groupby("kind")[["tasks", "open", "done", "dropped"]]
            .sum()
        )
        timed = data.durations.assign(kind=data.durations["kind"].fillna("(no kind)"))
        measure = "cycle_days" if timed["cycle_days"].notna().any() else "lead_days"
        medians = timed.groupby("kind")[measure].median()
        table = counts.sort_values(["tasks"], ascending=False).map(count)
        table[f"median {'cycle' if measure == 'cycle_days' else 'lead'} time"] = [
            days(medians[k]) if pd.notna(medians.get(k)) else "-" for k in table.index
        ]
        display(Markdown("The tracker's type of each work item (its kind):"))
        display(table.rename_axis("kind"))
    if len(data.labels):
        top = ranked(data.labels, "tasks", 12, "label")
        shown = top.shown.set_index("label")[["tasks", "open", "done", "dropped"]].map(count)
        ties = (
            f" {plural(top.tied_beyond, 'more label')} also "
            f"{'carries' if top.tied_beyond == 1 else 'carry'} {plural(top.tie_value, 'task')}, "
            "as many as the last one shown (labels are listed by name within a tie)."
            if top.tied_beyond
            else ""
        )
        if len(data.labels) > len(top.shown):
            which = f"The {len(top.shown)} most used of {plural(len(data.labels), 'label')}"
        else:
            which = f"The {plural(len(data.labels), 'label')}, most used first"
        none = data.unlabelled
        display(
            Markdown(
                f"{which}; a task may carry several, and {plural(none, 'task')} "
                f"({percent(none / data.tasks)}) {'carries' if none == 1 else 'carry'} none."
                f"{ties}"
            )
        )
        display(shown)

# %%
if data.tasks and len(data.projects):
    projects = data.projects.copy()
    nobody = projects["project_id"].isna()
    no_project = "(no project)"
    while no_project in set(projects.loc[~nobody, "project"]):  # a project may be named so
        no_project = f"({no_project})"
    projects.loc[nobody, "project"] = no_project
    projects = pd.concat(
        [projects[~nobody].sort_values(["project", "project_id"]), projects[nobody]]
    ).set_index("project")
    display(heading("Projects"))
    without = int(projects.loc[no_project, "tasks"]) if nobody.any() else 0
    if without:
        display(
            Markdown(
                f"{plural(without, 'task')} ({percent(without / data.tasks)}) "
                f"{'has' if without == 1 else 'have'} no project: the last row, "
                f"{md(no_project)}."
            )
        )
    if len(projects) > 1:  # one project: the table says it all
        fig, ax = plt.subplots(figsize=(10, 0.3 * len(projects) + 1.2), layout="constrained")
        parts = ["done", "dropped", "in_progress", "pending"]
        stacked = projects[parts].rename(columns=LABELS).rename(index=short)
        stacked.iloc[::-1].plot.barh(
            stacked=True, ax=ax, color=[COLOURS[p] for p in parts], width=0.8
        )
        ax.set_xlabel("tasks")
        ax.set_ylabel("")
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.legend(frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2)
        display(
            figure(
                fig,
                "Stacked bars of done, dropped, in progress and pending tasks per project",
                phone=(4.4, 0.3 * len(projects) + 1.6),
            )
        )
    shown = projects[["tasks", "open", "done", "dropped"]].map(count)
    shown["done share"] = (projects["done"] / projects["tasks"]).map(percent)
    display(shown.rename(columns=LABELS))

# %%
if data.tasks and len(data.workers):
    top = ranked(data.workers, "open", 15, "worker_id")
    workers = top.shown
    lead = workers.iloc[0]
    display(heading("Who carries the open work"))
    if top.leaders > 1:
        first = f"{top.leaders} workers share the most open tasks, {count(lead['open'])} each"
    else:
        first = (
            f"{md(lead['worker'])} ({md(lead['worker_id'])}) has the most open tasks: "
            f"{count(lead['open'])}"
        )
    ties = (
        f" {plural(top.tied_beyond, 'more worker')} "
        f"{'has' if top.tied_beyond == 1 else 'have'} {count(top.tie_value)} open, as many as "
        "the last one shown: within a tie workers are listed by id."
        if top.tied_beyond
        else ""
    )
    alone = (
        f" {plural(data.unassigned_open, 'open task')} "
        f"{'has' if data.unassigned_open == 1 else 'have'} no worker assigned."
        if data.unassigned_open
        else ""
    )
    display(
        Markdown(
            f"{first}. The chart shows the {plural(len(workers), 'worker')} with the most open "
            f"tasks (pending or in progress).{ties}{alone}"
        )
    )
    fig, ax = plt.subplots(figsize=(10, 0.3 * len(workers) + 1), layout="constrained")
    labels = (workers["worker"] + " (" + workers["worker_id"] + ")").map(short)
    rows = range(len(workers) - 1, -1, -1)  # the first at the top; two equal labels stay two bars
    ax.barh(rows, workers["open"], color=COLOURS["in_progress"])
    ax.set_yticks(rows, labels)
    ax.set_xlabel("open tasks")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    display(figure(fig, "Bars of open tasks per worker", phone=(4.4, 0.3 * len(workers) + 1.4)))
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
    display(
        figure(taskkit.plot_throughput(flow.weekly), "Bars of items finished per week", phone=PHONE)
    )
    if flow.cycles["cycle_days"].notna().any():
        display(
            figure(
                taskkit.plot_cycle_times(flow.cycles, flow.percentiles),
                "Scatterplot of cycle time by completion day, with percentile lines",
                phone=PHONE,
            )
        )
    if len(ages):
        display(
            figure(
                taskkit.plot_ageing_wip(flow.ages, flow.percentiles),
                "Items in progress by age, against the cycle-time percentiles",
                phone=PHONE,
            )
        )
    display(
        figure(
            taskkit.plot_cumulative_flow(flow.flow),
            "Cumulative flow: items completed, in progress and pending each day",
            phone=PHONE,
        )
    )
    if flow.forecast is not None:
        display(
            figure(
                taskkit.plot_forecast(flow.forecast),
                "Histogram of the days needed to finish the open items, with likelihoods",
                phone=PHONE,
            )
        )

# %%
# NBVAL_IGNORE_OUTPUT
display(heading("Provenance"))
display(Markdown("What this report was computed from, so that it can be made again."))
provenance = pd.DataFrame({"value": {**data.provenance, **flow.provenance}})
display(HTML(provenance.to_html(classes="provenance", header=False)))  # escapes every value
