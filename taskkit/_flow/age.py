"""Work item age: how long the items in progress at the end of the period have been in
progress, beside the cycle-time percentiles of the work finished in it (ageing WIP)."""

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from taskkit._errors import InvalidArgumentError
from taskkit._flow.cycle_time import (
    PERCENTILES,
    check_percentiles,
    cycle_time_percentiles,
)
from taskkit._flow.period import check_period
from taskkit._flow.population import moves, narrowed, population
from taskkit._flow.reading import Source, check_source, dialect_of, read
from taskkit._models import Status
from taskkit._sql.functions import DayOrdinal

__all__ = ["work_item_age"]


async def work_item_age(
    source: Source,
    tasks: Any = None,
    *,
    start: Any,
    end: Any,
    percentiles: Iterable[int] | pd.DataFrame = PERCENTILES,
) -> pd.DataFrame:
    """The items in progress at the end of ``end`` (UTC), with their age and the highest
    cycle-time percentile of the period's finished work that the age is beyond.

    Age counts calendar days like cycle time, ``end - start day + 1``, from ``started_at``
    (the first move into progress, so an item sent back and started again keeps its age). An
    item in progress without a known start keeps its row with ``age_days`` missing. Whether an
    item was in progress that day comes from the status history (see
    :func:`cumulative_flow`).

    Args:
        source: an ``AsyncEngine``, ``AsyncConnection`` or ``AsyncSession``.
        tasks: the population, any select of tasks (``None``: every task).
        start, end: the period whose finished items give the percentiles; ages are measured
            at the end of ``end``.
        percentiles: the cycle-time percentiles to compare with (default 50, 70, 85, 95), or
            the frame :func:`cycle_time_percentiles` gave for the same population and period
            (read as it is, not computed again).

    Returns:
        One row per item, oldest first: ``id``, ``key``, ``title``, ``started_at`` (UTC),
        ``age_days`` (``Int64``) and ``beyond`` (``Int64``: the highest percentile whose cycle
        time the age exceeds, missing when none is, or when the age or the percentiles are
        unknown). The percentiles compared with are :func:`cycle_time_percentiles` with the
        same arguments.

    Raises:
        InvalidArgumentError: ``source``, ``tasks``, a day or ``percentiles`` is not allowed.
    """
    period = check_period(start, end)
    given = percentiles if isinstance(percentiles, pd.DataFrame) else None
    if given is not None and not {"percentile", "cycle_days"} <= set(given.columns):
        raise InvalidArgumentError(
            "percentiles must be whole numbers from 1 to 100, or the frame of "
            "cycle_time_percentiles (columns percentile and cycle_days)"
        )
    wanted = None if given is not None else check_percentiles(percentiles)
    source = check_source(source)
    rows = population(tasks)
    t = rows.c
    # Only tasks that can be in progress then: started by then (or in progress without a
    # known start), and not completed for good before it (completed_at is the last
    # completion). Their moves say which of them were.
    maybe = narrowed(
        rows,
        sa.or_(
            t.started_at < period.ends,
            t.started_at.is_(None) & (t.status == Status.in_progress.value),
        ),
        ~((t.status == Status.completed.value) & (t.completed_at < period.ends)),
        name="maybe",
        extra=("key", "title"),
        few=True,
    )
    m = moves(maybe, dialect_of(source))
    entered = sa.case((m.c.to_status == Status.in_progress.value, 1), else_=0)
    left = sa.case((m.c.from_status == Status.in_progress.value, 1), else_=0)
    in_progress = (
        sa.select(m.c.task_id)
        .where(m.c.at < period.ends)
        .group_by(m.c.task_id)
        .having(sa.func.sum(entered - left) > 0)
        .subquery("in_progress")
    )
    started = maybe.c.started_at
    known = started.is_not(None) & (started < period.ends)
    age = sa.case((known, period.last - DayOrdinal(started) + 1), else_=sa.null())
    stmt = (
        sa.select(
            maybe.c.id,
            maybe.c.key,
            maybe.c.title,
            sa.case((known, started), else_=sa.null()).label("started_at"),
            age.label("age_days"),
        )
        .select_from(maybe.join(in_progress, in_progress.c.task_id == maybe.c.id))
        .order_by(age.desc().nulls_last(), maybe.c.id)
    )
    frame = await read(source, stmt, dtypes={"id": "int64", "age_days": "Int64"})
    levels = given
    if levels is None:
        assert wanted is not None
        levels = await cycle_time_percentiles(
            source, tasks, start=period.start, end=period.end, percentiles=wanted
        )
    frame["beyond"] = _beyond(frame["age_days"], levels)
    return frame


def _beyond(ages: pd.Series, levels: pd.DataFrame) -> pd.Series:
    """Per age, the highest percentile whose cycle time it exceeds (missing for none)."""
    known = levels.dropna(subset=["cycle_days"])
    result = pd.Series(pd.NA, index=ages.index, dtype="Int64")
    for percentile, days in zip(known["percentile"], known["cycle_days"], strict=True):
        result = result.mask(ages.gt(days).fillna(False).to_numpy(dtype=bool), np.int64(percentile))
    return result
