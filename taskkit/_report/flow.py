"""The report's flow section: the flow measures of the report's tasks over its last weeks, and
a forecast of when the open work will be done, with the settings recorded in the provenance.

The population is the report's own (its project and creation dates); the period is the last
:data:`WEEKS` weeks up to ``date_to`` or the day anything last changed, whichever is earlier.
The definitions are taskkit's (docs/flow.md).
"""

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taskkit._database.engine import read_connection
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
from taskkit._report.parameters import ReportParameters
from taskkit._report.provenance import fingerprint
from taskkit._report.queries import report_select

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


async def flow_section(
    source: AsyncEngine | AsyncConnection, parameters: ReportParameters
) -> FlowSection:
    """The flow measures of the report's tasks over its last :data:`WEEKS` weeks, read through
    ``source``: an engine, or the connection whose transaction the report reads in
    (``report_data`` passes its snapshot, so that the section and the rest of the report
    describe one state of the database)."""
    tasks = report_select(parameters)
    rows = tasks.order_by(None).subquery()  # a sort would read the table in its order
    last_change = select(func.max(rows.c.updated_at))
    if isinstance(source, AsyncConnection):
        latest = (await source.execute(last_change)).scalar()
    else:
        async with read_connection(source) as conn:
            latest = (await conn.execute(last_change)).scalar()
    if latest is None:
        return _empty()
    # Up to date_to, but not past the last change: a date_to after the data (9999-12-31, the
    # last day a date holds) would give weeks with nothing in them, and no day after its end.
    last_change = pd.Timestamp(latest).tz_convert("UTC").date()
    end = min(parameters.date_to, last_change) if parameters.date_to else last_change
    start = end - timedelta(weeks=WEEKS) + timedelta(days=1)
    if parameters.date_from is not None:
        start = max(start, parameters.date_from)
    daily = await throughput(source, tasks, start=start, end=end)
    weekly = await throughput(source, tasks, start=start, end=end, per="week")
    cycles = await cycle_times(source, tasks, start=start, end=end)
    levels = await cycle_time_percentiles(source, tasks, start=start, end=end)
    ages = await work_item_age(source, tasks, start=start, end=end, percentiles=levels)
    flow = await cumulative_flow(source, tasks, start=start, end=end)
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
