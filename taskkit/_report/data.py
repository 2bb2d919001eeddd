"""What the report shows, gathered from the database (aggregates computed where the data is)."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col

from taskkit._db import read_connection, snapshot_connection
from taskkit._errors import NotFoundError
from taskkit._frames import to_dataframe
from taskkit._models import Project
from taskkit._query import (
    project_progress,
    select_tasks,
    status_priority_counts,
    tasks_per_week,
    worker_load,
)
from taskkit._report.parameters import ReportParameters
from taskkit._report.provenance import fingerprint, provenance

__all__ = ["ReportData", "check_project", "report_data", "whole_weeks"]


async def check_project(source: AsyncEngine | AsyncConnection, name: str | None) -> None:
    """Raise :class:`NotFoundError` naming the projects when ``name`` is not one of them
    (read through ``source``: an engine, or a connection in the transaction to read in)."""
    if name is None:
        return
    query = select(col(Project.name)).order_by(col(Project.name))
    if isinstance(source, AsyncConnection):
        names = list((await source.execute(query)).scalars())
    else:
        async with read_connection(source) as conn:
            names = list((await conn.execute(query)).scalars())
    if name not in names:
        shown = ", ".join(repr(n) for n in names[:20]) + (" ..." if len(names) > 20 else "")
        raise NotFoundError(f"no project is named {name!r}; projects: {shown or 'none'}")


@dataclass
class ReportData:
    """What the report shows, as DataFrames and numbers computed from the data."""

    parameters: ReportParameters
    tasks: int
    open_tasks: int
    completed: int
    first_created: pd.Timestamp | None
    last_created: pd.Timestamp | None
    status_priority: pd.DataFrame
    weekly: pd.DataFrame
    cycle_days: pd.Series
    projects: pd.DataFrame
    workers: pd.DataFrame
    provenance: dict[str, str] = field(default_factory=dict)


def whole_weeks(weekly: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """The rows of ``weekly`` (indexed by each week's Monday) whose seven days all lie in
    ``first`` .. ``last``: a partial week at either end would read as a drop in the work."""
    start = pd.Timestamp(first)
    end = pd.Timestamp(last)
    index = pd.DatetimeIndex(weekly.index).tz_localize(None)
    keep = (index >= start) & (index + pd.Timedelta(days=6) <= end)
    return weekly[keep]


async def report_data(
    engine: AsyncEngine, parameters: ReportParameters, *, command: str | None = None
) -> ReportData:
    """Gather everything the report shows, inside the database where it can (aggregates).

    Every read runs in one read-only transaction, so the counts, the charts, the provenance's
    row counts and the fingerprint all describe one snapshot of the database, whatever other
    connections write meanwhile (SQLite: one deferred transaction; PostgreSQL: REPEATABLE READ).

    Args:
        engine: the database.
        parameters: checked report parameters.
        command: the command that made the report, recorded in the provenance.

    Raises:
        NotFoundError: the project parameter names no project.
    """
    async with snapshot_connection(engine) as conn:
        return await _gather(conn, parameters, command)


async def _gather(
    conn: AsyncConnection, parameters: ReportParameters, command: str | None
) -> ReportData:
    await check_project(conn, parameters.project)
    end = parameters.date_to
    tasks = select_tasks(
        project=parameters.project,
        created_from=parameters.date_from,
        # date_to is inclusive for readers: everything created before the next midnight (the
        # last day a date can hold has no next one: nothing is created after it).
        created_to=None if end is None or end == date.max else end + timedelta(days=1),
        order_by="id",
    )
    # Through the transaction's own connection (the SQLAlchemy reader): a fast reader would
    # open connections of its own, each with a snapshot of its own.
    by_status = await to_dataframe(conn, status_priority_counts(tasks))
    weekly = await to_dataframe(conn, tasks_per_week(tasks))
    projects = await to_dataframe(conn, project_progress(tasks))
    workers = await to_dataframe(conn, worker_load(tasks))
    ids = tasks.subquery()
    times = await to_dataframe(
        conn, select(ids.c.created_at, ids.c.completed_at).where(ids.c.completed_at.is_not(None))
    )
    span = await to_dataframe(
        conn,
        select(func.min(ids.c.created_at).label("first"), func.max(ids.c.created_at).label("last")),
    )
    counts = by_status.groupby("status", observed=False)["tasks"].sum()
    total = int(counts.sum())
    cycle = (times["completed_at"] - times["created_at"]).dt.total_seconds() / 86_400
    projects = projects[projects["tasks"] > 0].reset_index(drop=True)
    workers = workers[workers["tasks"] > 0].reset_index(drop=True)
    frames = [by_status, weekly, projects, workers, cycle]
    return ReportData(
        parameters=parameters,
        tasks=total,
        open_tasks=int(counts["pending"] + counts["in_progress"]),
        completed=int(counts["completed"]),
        first_created=span["first"].iloc[0] if total else None,
        last_created=span["last"].iloc[0] if total else None,
        status_priority=by_status,
        weekly=weekly,
        cycle_days=cycle.rename("cycle time (days)"),
        projects=projects,
        workers=workers,
        provenance=await provenance(
            conn, parameters, command=command, tasks=total, data=fingerprint(frames)
        ),
    )
