"""Throughput: finished items (``resolution='done'``) per day or per week, counted in the
database, every day of the period present (zeros included)."""

from typing import Any

import pandas as pd
import sqlalchemy as sa

from taskkit._checks import one_of
from taskkit._flow.period import calendar, check_period
from taskkit._flow.population import population
from taskkit._flow.reading import Source, check_source, read
from taskkit._models import Resolution
from taskkit._sql.functions import DayOrdinal, UtcDay

__all__ = ["throughput"]

PER = ("day", "week")


async def throughput(
    source: Source, tasks: Any = None, *, start: Any, end: Any, per: str = "day"
) -> pd.DataFrame:
    """How many items were finished each day (or week) of the period.

    Finished means completed with resolution ``done``: dropped work (``wont_do``,
    ``duplicate``, ``cancelled``) is no throughput. An item counts once, on the UTC day of its
    last completion (``completed_at``); one reopened and not completed again counts nowhere.

    Args:
        source: an ``AsyncEngine``, ``AsyncConnection`` or ``AsyncSession``.
        tasks: the population, any select of tasks (``None``: every task).
        start, end: the first and last day (dates or ISO dates), both included.
        per: ``"day"``, or ``"week"`` (Monday to Sunday; a week the period cuts has
            ``days`` below 7).

    Returns:
        ``per="day"``: ``day`` (midnight, ``datetime64[s]``) and ``finished`` (``int64``), one
        row per day. ``per="week"``: ``week`` (its Monday), ``finished`` and ``days`` (days
        of the week inside the period).

    Raises:
        InvalidArgumentError: ``source``, ``tasks``, a day or ``per`` is not allowed.
    """
    period = check_period(start, end)
    one_of("per", per, PER)
    rows = population(tasks)
    # Grouped by the day's cheapest form; the ordinal is computed once per group.
    finished = (
        sa.select(
            DayOrdinal(sa.func.min(rows.c.completed_at)).label("day"),
            sa.func.count().label("finished"),
        )
        .where(
            # resolution is set exactly when status is completed (ck_task_resolution): no
            # status test, so that the (resolution, completed_at) index answers without the rows.
            rows.c.resolution == Resolution.done.value,
            rows.c.completed_at >= period.begins,
            rows.c.completed_at < period.ends,
        )
        .group_by(UtcDay(rows.c.completed_at))
        .subquery("finished")
    )
    days = calendar(period)
    count = sa.func.coalesce(finished.c.finished, 0)
    daily = sa.select(days.c.day, count.label("finished")).select_from(
        days.outerjoin(finished, finished.c.day == days.c.day)
    )
    if per == "day":
        stmt = daily.order_by(days.c.day)
        return await read(check_source(source), stmt, days=["day"], dtypes={"finished": "int64"})
    each = daily.subquery("daily")
    # Ordinal 1 (0001-01-01) is a Monday: (day - 1) / 7 numbers Monday-based weeks.
    week = (each.c.day - 1) // 7
    stmt = (
        sa.select(
            (week * 7 + 1).label("week"),
            sa.func.sum(each.c.finished).label("finished"),
            sa.func.count().label("days"),
        )
        .group_by(week)
        .order_by(week)
    )
    return await read(
        check_source(source),
        stmt,
        days=["week"],
        dtypes={"finished": "int64", "days": "int64"},
    )
