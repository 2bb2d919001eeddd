"""Cycle time: calendar days from an item's first start to its last completion, for finished
work (``resolution='done'``), and its percentiles, computed in the database."""

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement, FromClause, Select

from taskkit._errors import InvalidArgumentError
from taskkit._flow.period import Period, check_period
from taskkit._flow.population import population
from taskkit._flow.reading import Source, check_source, read
from taskkit._models import Resolution
from taskkit._sql.functions import DayOrdinal, UtcDay

__all__ = [
    "PERCENTILES",
    "check_percentiles",
    "cycle_histogram",
    "cycle_time_percentiles",
    "cycle_times",
    "finished_in",
    "percentiles_select",
]

#: The percentiles flow tools show by default (ActionableAgile, LetPeopleWork).
PERCENTILES = (50, 70, 85, 95)


def check_percentiles(value: Any) -> tuple[int, ...]:
    """Whole percentiles from 1 to 100, ascending and once each."""
    items = [value] if isinstance(value, int) else value
    try:
        found = sorted(set(items))
    except TypeError:
        found = []
    if not found or not all(
        isinstance(p, int) and not isinstance(p, bool) and 1 <= p <= 100 for p in found
    ):
        raise InvalidArgumentError(
            "percentiles must be whole numbers from 1 to 100 (one, or a list such as "
            f"[50, 70, 85, 95]); got {value!r}"
        )
    return tuple(found)


def _finished(rows: FromClause, period: Period) -> list[ColumnElement[bool]]:
    """The tasks of ``rows`` finished during ``period``."""
    return [
        # resolution is set exactly when status is completed (ck_task_resolution): no status
        # test, so that the (resolution, completed_at, started_at) index answers without the
        # rows.
        rows.c.resolution == Resolution.done.value,
        rows.c.completed_at >= period.begins,
        rows.c.completed_at < period.ends,
    ]


def _cycle_days(started: Any, completed: Any) -> ColumnElement[Any]:
    """Calendar days from the day of ``started`` to that of ``completed``, both counted
    (NULL without a start)."""
    days = DayOrdinal(completed) - DayOrdinal(started) + 1
    return sa.case((started.is_(None), sa.null()), else_=days)


def finished_in(rows: FromClause, period: Period) -> Select[Any]:
    """The finished tasks of ``rows`` completed during ``period``, with their cycle time:
    ``id``, ``completed_at``, ``cycle_days`` (NULL when no start is known)."""
    return sa.select(
        rows.c.id,
        rows.c.completed_at,
        _cycle_days(rows.c.started_at, rows.c.completed_at).label("cycle_days"),
    ).where(*_finished(rows, period))


def cycle_histogram(rows: FromClause, period: Period) -> Select[Any]:
    """How many of the tasks of ``rows`` finished during ``period`` took each cycle time:
    ``cycle_days`` (NULL: no start known) and ``items``, in rows that may repeat a cycle time.

    Grouped by the pair of days (start, finish), whose cheapest forms SQLite compares without
    computing a day number for each task (a day pair is a few thousand groups, each turned into
    days once): a quarter less time than grouping by the cycle time itself."""
    started, completed = rows.c.started_at, rows.c.completed_at
    return (
        sa.select(
            _cycle_days(sa.func.min(started), sa.func.min(completed)).label("cycle_days"),
            sa.func.count().label("items"),
        )
        .where(*_finished(rows, period))
        .group_by(UtcDay(completed), UtcDay(started))
    )


async def cycle_times(source: Source, tasks: Any = None, *, start: Any, end: Any) -> pd.DataFrame:
    """The cycle time of every item finished during the period (completed with resolution
    ``done`` on a day from ``start`` to ``end``, UTC).

    Cycle time is counted in calendar days, ``end day - start day + 1`` (ActionableAgile's
    rule: work started and finished on one day took 1 day), from ``started_at`` (the first
    move into progress) to ``completed_at`` (the last completion). An item with no known start
    keeps its row with ``cycle_days`` missing: percentiles leave it out and count it.

    Args:
        source: an ``AsyncEngine``, ``AsyncConnection`` or ``AsyncSession``.
        tasks: the population, any select of tasks (``None``: every task).
        start, end: the first and last day (dates or ISO dates), both included.

    Returns:
        One row per item, by completion: ``id``, ``completed_at`` (UTC) and ``cycle_days``
        (``Int64``, missing without a start). ``started_at`` is the task's own (join on
        ``id``).

    Raises:
        InvalidArgumentError: ``source``, ``tasks`` or a day is not allowed.
    """
    period = check_period(start, end)
    stmt = finished_in(population(tasks), period)
    frame = await read(check_source(source), stmt, dtypes={"id": "int64", "cycle_days": "Int64"})
    # Ordered here, not by ORDER BY: the reader runs a statement more than once when it cannot
    # tell its size (a probe, a count), and SQLite would sort every row each time.
    moments = pd.DatetimeIndex(frame["completed_at"]).asi8
    order = np.lexsort((frame["id"].to_numpy(), moments))
    return frame.take(order).reset_index(drop=True)


def percentiles_select(counted: Select[Any], percentiles: Iterable[int]) -> Select[Any]:
    """Nearest-rank percentiles of cycle times counted by :func:`cycle_histogram` (rows of
    ``cycle_days`` and ``items``, a cycle time possibly in several): for each p, the smallest
    cycle time that at least p% of the items with a known start did not exceed (the
    ``rank``-th smallest, rank = ceil(p * n / 100), in integers on both databases); with the
    counts.

    Through the histogram (running totals over its few rows) rather than by numbering every
    item: a window over every item is slow on SQLite."""
    histogram = counted.cte("histogram").prefix_with("MATERIALIZED")  # read twice below
    bars = histogram.c
    running = (
        sa.select(
            bars.cycle_days,
            sa.func.sum(bars["items"]).over(order_by=bars.cycle_days).label("upto"),
        )
        .where(bars.cycle_days.is_not(None))
        .subquery("running")
    )
    unknown = bars.cycle_days.is_(None)

    def total(value: Any) -> ColumnElement[int]:
        # An integer: PostgreSQL's sum() of integers is NUMERIC, whose division keeps the
        # fraction that the rank below must drop.
        return sa.cast(sa.func.coalesce(sa.func.sum(value), 0), sa.BigInteger)

    counts = sa.select(
        total(sa.case((unknown, 0), else_=bars["items"])).label("items"),
        total(sa.case((unknown, bars["items"]), else_=0)).label("without_start"),
    ).subquery("counts")
    wanted = sa.union_all(
        *(sa.select(sa.literal(p, sa.Integer).label("percentile")) for p in percentiles)
    ).subquery("wanted")
    rank = (wanted.c.percentile * counts.c["items"] + 99) // 100
    return (
        sa.select(
            wanted.c.percentile,
            sa.func.min(running.c.cycle_days).label("cycle_days"),
            counts.c["items"],
            counts.c.without_start,
        )
        .select_from(wanted.join(counts, sa.true()).outerjoin(running, running.c.upto >= rank))
        .group_by(wanted.c.percentile, counts.c["items"], counts.c.without_start)
        .order_by(wanted.c.percentile)
    )


async def cycle_time_percentiles(
    source: Source,
    tasks: Any = None,
    *,
    start: Any,
    end: Any,
    percentiles: Iterable[int] = PERCENTILES,
) -> pd.DataFrame:
    """Cycle-time percentiles of the items finished during the period.

    Nearest rank: the p-th percentile is the smallest cycle time that p% of the items did not
    exceed, one of the observed values ("85% of items finished in 12 days or less"). Items
    without a known start are left out and counted in ``without_start``.

    Args:
        percentiles: whole numbers from 1 to 100 (default 50, 70, 85, 95).

    Returns:
        One row per percentile: ``percentile``, ``cycle_days`` (``Int64``; missing when no
        finished item has a known start), ``items`` (the items it is computed from) and
        ``without_start`` (finished items left out), both ``int64``.

    Raises:
        InvalidArgumentError: ``source``, ``tasks``, a day or ``percentiles`` is not allowed.
    """
    period = check_period(start, end)
    wanted = check_percentiles(percentiles)
    stmt = percentiles_select(cycle_histogram(population(tasks), period), wanted)
    return await read(
        check_source(source),
        stmt,
        dtypes={
            "percentile": "int64",
            "cycle_days": "Int64",
            "items": "int64",
            "without_start": "int64",
        },
    )
