"""The report's flow section: the flow measures of the report's tasks over its last weeks, and
a forecast of when the open work will be done, with the settings recorded in the provenance.

The population is the report's own (its project and creation dates); the period is the last
:data:`WEEKS` weeks up to ``date_to``, or up to the day anything last changed. The definitions
are taskkit's (docs/flow.md).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from taskkit._flow import (
    Forecast,
    cumulative_flow,
    cycle_time_percentiles,
    cycle_times,
    forecast_when,
    throughput,
    work_item_age,
)
from taskkit._flow.cycle_time import PERCENTILES
from taskkit._flow.forecast import LIKELIHOODS, TRIALS
from taskkit._query import select_tasks
from taskkit._report.parameters import ReportParameters
from taskkit._report.provenance import fingerprint

__all__ = ["SEED", "WEEKS", "FlowSection", "flow_section"]

#: How many weeks the section looks back, and the forecast's seed (the same page each run).
WEEKS = 12
SEED = 0


@dataclass
class FlowSection:
    """The flow section's frames, its forecast (``None`` when nothing is open, or nothing was
    finished to sample) and the settings it used, for the provenance."""

    start: date | None
    end: date | None
    weekly: pd.DataFrame
    cycles: pd.DataFrame
    percentiles: pd.DataFrame
    ages: pd.DataFrame
    flow: pd.DataFrame
    open_items: int
    forecast: Forecast | None
    provenance: dict[str, str]


def _tasks(parameters: ReportParameters) -> Any:
    """The report's tasks, as report_data selects them."""
    end = parameters.date_to
    return select_tasks(
        project=parameters.project,
        created_from=parameters.date_from,
        created_to=None if end is None else end + timedelta(days=1),
    )


async def flow_section(engine: AsyncEngine, parameters: ReportParameters) -> FlowSection:
    """The flow measures of the report's tasks over its last :data:`WEEKS` weeks."""
    tasks = _tasks(parameters)
    rows = tasks.subquery()
    async with engine.connect() as conn:
        latest = (await conn.execute(select(func.max(rows.c.updated_at)))).scalar()
    if latest is None:
        return _empty()
    end = parameters.date_to or pd.Timestamp(latest).tz_convert("UTC").date()
    start = end - timedelta(weeks=WEEKS) + timedelta(days=1)
    if parameters.date_from is not None:
        start = max(start, parameters.date_from)
    daily = await throughput(engine, tasks, start=start, end=end)
    weekly = await throughput(engine, tasks, start=start, end=end, per="week")
    cycles = await cycle_times(engine, tasks, start=start, end=end)
    levels = await cycle_time_percentiles(engine, tasks, start=start, end=end)
    ages = await work_item_age(engine, tasks, start=start, end=end, percentiles=levels)
    flow = await cumulative_flow(engine, tasks, start=start, end=end)
    open_items = int(flow["pending"].iloc[-1] + flow["in_progress"].iloc[-1])
    forecast = None
    if open_items and daily["finished"].any():
        forecast = forecast_when(daily, items=open_items, seed=SEED)
    settings = {
        "flow period": f"{start} to {end} (the last {WEEKS} weeks, UTC days)",
        "flow percentiles": ", ".join(str(p) for p in PERCENTILES),
        "forecast": (
            f"when the {open_items:,} open items are done: {TRIALS:,} trials, seed {SEED}, "
            f"daily throughput of the flow period sampled, likelihoods "
            f"{', '.join(str(p) for p in LIKELIHOODS)}"
        ),
        "flow data fingerprint": fingerprint([daily, cycles, levels, ages, flow]),
    }
    return FlowSection(
        start, end, weekly, cycles, levels, ages, flow, open_items, forecast, settings
    )


def _empty() -> FlowSection:
    nothing = pd.DataFrame()
    return FlowSection(
        None, None, nothing, nothing, nothing, nothing, nothing, 0, None,
        {"flow period": "(no task)"},
    )  # fmt: skip
