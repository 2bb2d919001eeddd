"""Flow analytics: how work moves, how long it takes, and when the rest will be done.

The measures of the Kanban Guide (throughput, cycle time, work in progress, work item age),
a cumulative flow diagram, time in each status, Monte Carlo forecasts and their charts. Each
measure takes any select of tasks as its population and a period of whole UTC days, runs in
the database (the same numbers on SQLite and PostgreSQL) and returns a typed DataFrame. The
definitions are written once, in docs/flow.md.

* ``period``: the period's days, checked, and days as ordinals in SQL.
* ``population``: the tasks a measure reads, and their status moves (``moves``) from the
  status history.
* ``reading``: running a measure's statement into a typed frame.
* ``throughput``: finished items per day or week.
* ``cycle_time``: cycle time per finished item, and its percentiles.
* ``states``: the cumulative flow diagram's counts per status, work in progress, time in
  each status.
* ``age``: the work item age of the items in progress (ageing WIP).
* ``forecast``: Monte Carlo forecasts from sampled daily throughput.
* ``charts``: the charts people expect of each.
"""

from taskkit._flow.age import work_item_age
from taskkit._flow.charts import (
    plot_ageing_wip,
    plot_cumulative_flow,
    plot_cycle_times,
    plot_forecast,
    plot_throughput,
    plot_work_in_progress,
)
from taskkit._flow.cycle_time import cycle_time_percentiles, cycle_times
from taskkit._flow.forecast import Forecast, forecast_how_many, forecast_when
from taskkit._flow.states import cumulative_flow, time_in_state, work_in_progress
from taskkit._flow.throughput import throughput

__all__ = [
    "Forecast",
    "cumulative_flow",
    "cycle_time_percentiles",
    "cycle_times",
    "forecast_how_many",
    "forecast_when",
    "plot_ageing_wip",
    "plot_cumulative_flow",
    "plot_cycle_times",
    "plot_forecast",
    "plot_throughput",
    "plot_work_in_progress",
    "throughput",
    "time_in_state",
    "work_in_progress",
    "work_item_age",
]
