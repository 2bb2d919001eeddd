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
# # Flow: how work moves, how long it takes, and when the rest will be done
#
# A team asks the same few questions of its board: how much do we finish a week, how long
# does an item take from start to finish, how much is in progress and how old is it, where
# does work pile up, and when will the open work be done? This notebook answers each with
# taskkit's flow measures: each runs in the database over any `select_tasks(...)` and a
# period of whole UTC days, and returns a typed DataFrame; each has the chart people expect.
# The definitions (calendar days, reopened items, items without a start) are written once in
# [docs/flow.md](../docs/flow.md).

# %%
import tempfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import func, insert
from sqlmodel import select

import taskkit
from taskkit import StatusChange, Task

pd.set_option("display.width", 120)
workdir = Path(tempfile.mkdtemp(prefix="taskkit-flow-"))
engine = taskkit.connect(f"sqlite:///{workdir / 'board.db'}")
revision = await taskkit.ensure_schema(engine)

# %% [markdown]
# ## 1. The board
#
# Flow needs a history: when each item moved from one status to the next. `BOARD` names a
# tracker export to import (a Trello board's JSON, once taskkit imports a board's history);
# without one, the cell below draws a stand-in: a team's board over 2025, where items wait,
# are worked on and finished or dropped, some go back to the queue, some are reopened, some
# are closed without ever being started, and nothing after the export's moment is known.

# %%
BOARD = None  # a tracker export to explore instead (taskkit.load_tasks reads it)


def stand_in_board(items: int, seed: int) -> tuple[list[dict], list[dict]]:
    """Task rows and their status moves, drawn the same way for the same seed."""
    rng = np.random.default_rng(seed)
    export = pd.Timestamp("2025-12-31 18:00", tz="UTC")

    def later(at: pd.Timestamp, median_days: float) -> pd.Timestamp:
        return at + pd.Timedelta(days=rng.lognormal(np.log(median_days), 1.0))

    tasks, moves = [], []
    for n in range(1, items + 1):
        kind = "Bug" if rng.random() < 0.3 else "Story"
        at = pd.Timestamp("2025-01-01", tz="UTC") + pd.Timedelta(days=rng.uniform(0, 360))
        path = [(at, "pending")]
        if rng.random() < 0.1:  # closed without being started
            path.append((later(at, 6), "completed"))
        else:
            waits = 45 if rng.random() < 0.2 else 2  # some wait long in the backlog
            path.append((later(at, waits), "in_progress"))
            if rng.random() < 0.1:  # sent back to the queue, started again
                back = later(path[-1][0], 1)
                path += [(back, "pending"), (later(back, 2), "in_progress")]
            path.append((later(path[-1][0], 6 if kind == "Story" else 3), "completed"))
            if rng.random() < 0.06:  # reopened, finished again
                path.append((later(path[-1][0], 1), "in_progress"))
                path.append((later(path[-1][0], 1), "completed"))
        path = [(moment, status) for moment, status in path if moment <= export]
        status = path[-1][1]
        started = [moment for moment, s in path if s == "in_progress"]
        dropped = rng.random() < (0.7 if not started else 0.1)
        tasks.append(
            {
                "id": n,
                "key": f"TEAM-{n}",
                "title": f"{kind} {n}",
                "kind": kind,
                "status": status,
                "resolution": None if status != "completed" else "wont_do" if dropped else "done",
                "created_at": path[0][0],
                "updated_at": path[-1][0],
                "started_at": started[0] if started else None,
                "completed_at": path[-1][0] if status == "completed" else None,
            }
        )
        previous = None
        for moment, to in path:
            moves.append(
                {
                    "task_id": n,
                    "changed_at": moment,
                    "from_status": previous,
                    "to_status": to,
                    "source": "tracker",
                }
            )
            previous = to
    return tasks, moves


if BOARD is None:
    rows, moves = stand_in_board(items=600, seed=7)
    async with engine.begin() as conn:
        await conn.execute(insert(Task), [{**r, "priority": "medium"} for r in rows])
        await conn.execute(insert(StatusChange), moves)
else:
    print(await taskkit.load_tasks(engine, BOARD, progress=False))

async with taskkit.session(engine) as s:
    tasks = await taskkit.count(s, select(Task))
    history = await taskkit.count(s, taskkit.select_history())
    last_move = (await s.exec(select(func.max(StatusChange.changed_at)))).one()
print(f"{tasks:,} items, {history:,} status moves, the last on {last_move:%d %b %Y %H:%M} UTC")

# %% [markdown]
# The period: the last 26 weeks up to the day of the last move. The population is every item;
# any `select_tasks(...)` narrows it (section 8).

# %%
end = pd.Timestamp(last_move).date()
start = end - timedelta(weeks=26) + timedelta(days=1)
period = {"start": start, "end": end}
print(f"{start:%d %b %Y} to {end:%d %b %Y}: {(end - start).days + 1} days")

# %% [markdown]
# ## 2. Throughput
#
# Throughput is how many items were *finished* per day or week: completed with resolution
# `done`, counted on the day of their last completion. Dropped work (won't do, duplicate,
# cancelled) left the board but is not throughput, and a reopened item counts once, when it
# is finished for good. Every day of the period has a row, zeros included, which matters for
# the forecasts below: a day that finished nothing is part of how the team works. Weekly
# counts say how many days of each week the period holds; the chart draws cut weeks lighter.

# %%
weekly = await taskkit.throughput(engine, **period, per="week")
weekly.tail()

# %%
taskkit.plot_throughput(weekly)

# %% [markdown]
# ## 3. Cycle time
#
# Cycle time is how long an item took from its first start to its last completion, in
# calendar days with both ends counted: started and finished on one day is 1 day. Its
# percentiles are the service level to expect: "85% of the items finished in N days or less"
# is exactly true of the 85th, which is always a cycle time some item had. Items finished
# without ever being started have no cycle time; they are left out of the percentiles and
# counted.

# %%
cycles = await taskkit.cycle_times(engine, **period)
levels = await taskkit.cycle_time_percentiles(engine, **period)
levels

# %%
taskkit.plot_cycle_times(cycles, levels)

# %% [markdown]
# ## 4. Work in progress
#
# Work in progress is how many items were in progress at the end of each day, read from the
# status history: an item sent back to the queue leaves it, a reopened one enters it again.
# Little's law ties it to the other two: on average, work in progress is throughput times
# cycle time, so starting more without finishing more only makes items take longer.

# %%
wip = await taskkit.work_in_progress(engine, **period)
wip["wip"].describe()[["mean", "min", "max"]].round(1)

# %%
taskkit.plot_work_in_progress(wip)

# %% [markdown]
# ## 5. Work item age
#
# Cycle time speaks only of finished work; an item's age speaks of work still in progress:
# calendar days since its first start, up to the period's last day. Set beside the cycle-time
# percentiles (ageing work in progress), it says which items are already slower than most
# finished ones and need attention now, while it can still change their outcome. `beyond` is
# the highest percentile an item's age has passed.

# %%
ages = await taskkit.work_item_age(engine, **period)
ages[["key", "title", "started_at", "age_days", "beyond"]].head(8)

# %%
taskkit.plot_ageing_wip(ages, levels)

# %% [markdown]
# ## 6. Cumulative flow
#
# A cumulative flow diagram stacks, for each day, how many items were completed, in progress
# and pending at its end. The completed band rises by the throughput, the width of the
# in-progress band is the work in progress, and a pending band that keeps widening is work
# arriving faster than it is started.

# %%
flow = await taskkit.cumulative_flow(engine, **period)
flow.tail(3)

# %%
taskkit.plot_cumulative_flow(flow)

# %% [markdown]
# ## 7. Time in each status
#
# Where does an item's time go? For each item, the days it spent pending, in progress and
# completed during the period (stays cut at the period's bounds). For the items finished in
# the period, the share spent waiting before the start is often larger than the share being
# worked on: queues, not work, make most of the lead time.

# %%
spent = await taskkit.time_in_state(engine, **period)
finished = spent[spent["id"].isin(cycles["id"])]
finished[["pending", "in_progress"]].describe().loc[["mean", "50%", "max"]].round(1)

# %% [markdown]
# ## 8. A population: one kind of work
#
# Every measure takes any select of tasks. Bugs and stories flow differently; narrowing the
# population with `select_tasks(kind="Bug")` gives the bugs' own cycle-time percentiles.

# %%
bugs = taskkit.select_tasks(kind="Bug")
await taskkit.cycle_time_percentiles(engine, bugs, **period)

# %% [markdown]
# ## 9. Forecasts
#
# When will the rest be done? A Monte Carlo forecast draws each future day's throughput from
# the days sampled (here the last eight weeks, zero days included), 10,000 times, and reads
# the likelihoods off the outcomes: "how many by a date" (at least N items in 85% of the
# trials) and "when will N be done" (by a date in 85% of the trials). It assumes the future
# looks like the sampled past; a seed makes it reproducible.

# %%
recent = await taskkit.throughput(engine, start=end - timedelta(weeks=8) + timedelta(days=1),
                                  end=end)  # fmt: skip
by_date = taskkit.forecast_how_many(recent, until=end + timedelta(weeks=6), seed=1)
by_date.likelihoods

# %%
taskkit.plot_forecast(by_date)

# %%
open_items = len(ages) + int(flow["pending"].iloc[-1])
due = taskkit.forecast_when(recent, items=open_items, seed=1)
print(f"{open_items} items open at the end of {end:%d %b %Y}")
due.likelihoods

# %%
taskkit.plot_forecast(due)

# %%
await engine.dispose()
