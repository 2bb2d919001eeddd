"""Where work stands each day: a cumulative flow diagram's counts per status, work in progress,
and the time each item spent in each status, all summed from the status moves (``moves``)."""

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement, CompoundSelect, Select, Subquery

from taskkit._flow.period import Period, calendar, check_period
from taskkit._flow.population import (
    before_first_move,
    gaps,
    narrowed,
    population,
    rebuilt,
    recorded,
)
from taskkit._flow.reading import Source, check_source, dialect_of, read
from taskkit._models import Resolution, Status
from taskkit._sql.functions import Clamp, DayOrdinal, EpochSeconds, UtcDay

__all__ = ["cumulative_flow", "time_in_state", "work_in_progress"]

STATUSES = tuple(s.value for s in Status)
_SECONDS_A_DAY = 86_400


def _is(column: Any, status: str) -> ColumnElement[int]:
    return sa.case((column == status, 1), else_=0)


def _daily_counts(tasks: Any, period: Period, dialect: str) -> sa.Select[Any]:
    """Per day of ``period``: how many tasks were in each status at the end of the day."""
    rows = population(tasks)
    t = rows.c
    # A task completed for good before the period (completed_at is its last completion) is
    # completed on every day of it: counted, not replayed, so that the history read is that
    # of the tasks the period can see move (most of a long history is finished work).
    settled = (t.status == Status.completed.value) & (t.completed_at < period.begins)
    active = narrowed(rows, ~settled, t.created_at < period.ends, name="active")
    # The same tasks, counted: a resolution is set exactly when the status is completed
    # (ck_task_resolution), so that the (resolution, completed_at, ...) index counts them
    # without the rows (100k tasks: 6 ms instead of 29). Not for `active` above: NOT of a
    # NULL resolution's test would leave out every open task.
    completed = t.resolution.in_([r.value for r in Resolution])
    counted = completed & (t.completed_at < period.begins)
    holes = gaps(active, dialect)
    first_day = sa.literal(period.first, sa.Integer).label("day")
    done_before = sa.select(
        first_day,
        *(sa.literal(0, sa.Integer).label(s) for s in STATUSES[:-1]),
        sa.func.count().label(STATUSES[-1]),
    ).where(counted)

    def per_day(moves: Select[Any] | CompoundSelect[Any]) -> Select[Any]:
        """The net moves into each status, per day of the period: the moves before it count
        on its first day (they set where it starts), in one group, so that the sort that
        grouping by day costs on SQLite covers them once, together with the others."""
        m = moves.subquery()
        before = m.c.at < period.begins

        def net(name: str) -> ColumnElement[int]:
            return sa.func.sum(_is(m.c.to_status, name) - _is(m.c.from_status, name)).label(name)

        earliest = sa.func.min(m.c.at)
        day = sa.case(
            (earliest < period.begins, sa.literal(period.first, sa.Integer)),
            else_=DayOrdinal(earliest),
        )
        return (
            sa.select(day.label("day"), *(net(s) for s in STATUSES))
            .where(m.c.at < period.ends)
            .group_by(sa.case((before, sa.null()), else_=UtcDay(m.c.at)))
        )

    # The recorded history is grouped on its own and the few moves filled in apart: a union
    # of them all would pass each of the history's rows through one more step before the sort.
    both = sa.union_all(
        done_before,
        per_day(recorded(active)),
        per_day(sa.union_all(before_first_move(holes), *rebuilt(holes))),
    ).subquery("both")
    changes = (
        sa.select(both.c.day, *(sa.func.sum(both.c[s]).label(s) for s in STATUSES))
        .group_by(both.c.day)
        .subquery("changes")
    )
    days = calendar(period)
    running = [
        sa.func.sum(sa.func.coalesce(changes.c[name], 0))
        .over(order_by=days.c.day, rows=(None, 0))
        .label(name)
        for name in STATUSES
    ]
    return (
        sa.select(days.c.day, *running)
        .select_from(days.outerjoin(changes, changes.c.day == days.c.day))
        .order_by(days.c.day)
    )


async def cumulative_flow(
    source: Source, tasks: Any = None, *, start: Any, end: Any
) -> pd.DataFrame:
    """How many tasks were in each status at the end of each day (UTC): a cumulative flow
    diagram's bands, stacked in status order.

    Counts come from the status history; tasks without history are placed by their
    timestamps, and the time before a history's first move by ``created_at`` (see
    docs/flow.md). A task counts from the day it was created.

    Args:
        source: an ``AsyncEngine``, ``AsyncConnection`` or ``AsyncSession``.
        tasks: the population, any select of tasks such as ``select_tasks(project="Apollo")``
            (``None``: every task).
        start, end: the first and last day (dates or ISO dates), both included.

    Returns:
        One row per day: ``day`` (midnight, ``datetime64[s]``), then ``pending``,
        ``in_progress``, ``completed`` (``int64``).

    Raises:
        InvalidArgumentError: ``source``, ``tasks`` or a day is not allowed.
    """
    period = check_period(start, end)
    source = check_source(source)
    stmt = _daily_counts(tasks, period, dialect_of(source))
    return await read(source, stmt, days=["day"], dtypes=dict.fromkeys(STATUSES, "int64"))


async def work_in_progress(
    source: Source, tasks: Any = None, *, start: Any, end: Any
) -> pd.DataFrame:
    """How many tasks were in progress at the end of each day (UTC), from the status history.

    Work in progress is the ``in_progress`` band of :func:`cumulative_flow`: a task moved back
    to pending leaves it, and one reopened into progress enters it again.

    Returns:
        One row per day: ``day`` (``datetime64[s]``) and ``wip`` (``int64``).

    Raises:
        InvalidArgumentError: ``source``, ``tasks`` or a day is not allowed.
    """
    flow = await cumulative_flow(source, tasks, start=start, end=end)
    return flow[["day", "in_progress"]].rename(columns={"in_progress": "wip"})


async def time_in_state(source: Source, tasks: Any = None, *, start: Any, end: Any) -> pd.DataFrame:
    """How long each task spent in each status during the period, in days.

    Stays are cut at the period's bounds (midnight UTC before ``start``, midnight after
    ``end``), so the columns of a task add up to at most the period's length, and summed over
    tasks they give the item-days each status held. Tasks that spent no time pending or in
    progress in the period (completed before it, or created after it) have no row. Times are
    measured in whole seconds, the same on SQLite and PostgreSQL.

    Returns:
        One row per task, by id: ``id`` and ``pending``, ``in_progress``, ``completed``
        (days, ``float64``).

    Raises:
        InvalidArgumentError: ``source``, ``tasks`` or a day is not allowed.
    """
    period = check_period(start, end)
    source = check_source(source)
    rows = population(tasks)
    # BIGINT: PostgreSQL would read plain integers as INTEGER, which ends in 2038.
    lo, hi = (sa.literal(_epoch(m), sa.BigInteger) for m in (period.begins, period.ends))

    def seconds_in(moves: Select[Any] | CompoundSelect[Any], name: str) -> Subquery:
        m = moves.subquery()
        moment = Clamp(EpochSeconds(m.c.at), lo, hi)

        def spent(status: str) -> ColumnElement[int]:
            # A stay lasts from the move into a status to the move out of it, each cut to
            # the period. Summed over a task's moves: (out - in) for each stay that ended,
            # (end - in) for one still open: each move out adds (moment - end), each move in
            # (end - moment), and the period's end cancels out of every stay that ended.
            return sa.func.sum(
                sa.case(
                    (m.c.from_status == status, moment - hi),
                    (m.c.to_status == status, hi - moment),
                    else_=0,
                )
            ).label(status)

        return (
            sa.select(m.c.task_id, *(spent(status) for status in STATUSES))
            .group_by(m.c.task_id)
            .subquery(name)
        )

    # The recorded history alone groups in the order of its (task_id, changed_at) index, with
    # no sort; the few moves filled in are summed apart and added.
    history = seconds_in(recorded(rows), "history")
    holes = gaps(rows, dialect_of(source))
    before = seconds_in(before_first_move(holes), "before_first")
    bare = seconds_in(sa.union_all(*rebuilt(holes)), "bare")
    with_history = sa.select(
        history.c.task_id,
        *(
            (history.c[status] + sa.func.coalesce(before.c[status], 0)).label(status)
            for status in STATUSES
        ),
    ).select_from(history.outerjoin(before, before.c.task_id == history.c.task_id))
    sums = sa.union_all(with_history, sa.select(bare)).subquery("sums")
    in_days = [(sa.cast(sums.c[name], sa.Float) / _SECONDS_A_DAY).label(name) for name in STATUSES]
    stmt = sa.select(sums.c.task_id.label("id"), *in_days).where(
        sums.c.pending + sums.c.in_progress > 0
    )
    frame = await read(
        source,
        stmt,
        dtypes={"id": "int64", **dict.fromkeys(STATUSES, "float64")},
    )
    return frame.sort_values("id", ignore_index=True)


def _epoch(moment: Any) -> int:
    return int(moment.timestamp())
