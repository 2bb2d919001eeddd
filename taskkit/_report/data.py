"""What the report shows, gathered from the database (aggregates computed where the data is)."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col

from taskkit._database.engine import read_connection, snapshot_connection
from taskkit._errors import NotFoundError
from taskkit._frames import to_dataframe
from taskkit._frames.statement_sql import compiled_sql
from taskkit._models import ChangeSource, Project
from taskkit._report.flow import FlowSection, flow_section
from taskkit._report.parameters import ReportParameters
from taskkit._report.provenance import fingerprint, provenance
from taskkit._report.queries import (
    daily_counts,
    durations,
    label_counts,
    origins,
    overview,
    project_counts,
    report_tasks,
    unrecorded_span,
    worker_counts,
)
from taskkit._report.weeks import Weeks, weekly

__all__ = ["ORIGINS", "ReportData", "check_project", "read_durations", "report_data"]

#: Where tasks come from, by the source of their history's first row, in words.
ORIGINS = {
    ChangeSource.seed.value: "synthetic (taskkit seed)",
    ChangeSource.tracker.value: "imported",
    ChangeSource.export.value: "imported",
    ChangeSource.api.value: "made in taskkit",
    None: "of unrecorded origin",
}


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


def _utc_day(ts: Any) -> date:
    return pd.Timestamp(ts).tz_convert("UTC").date()


@dataclass
class ReportData:
    """What the report shows, as DataFrames and numbers computed from the data.

    Completed work is split by resolution throughout: ``done`` is finished work; ``dropped``
    is work completed as won't do, duplicate or cancelled.
    """

    parameters: ReportParameters
    #: Tasks per status, resolution, priority and kind (see ``queries.overview``).
    overview: pd.DataFrame
    #: Tasks per origin (see ``queries.origins``); ``origin`` NA: no recorded origin.
    origin_counts: pd.DataFrame
    #: Days with any event: ``day`` (``YYYY-MM-DD``, UTC), created, done, dropped.
    daily: pd.DataFrame
    #: Per task done: ``lead_days``, ``cycle_days`` (NaN without a known start), ``kind``.
    durations: pd.DataFrame
    #: Per project (a row with ``project_id`` NA for the tasks without one), per worker, per
    #: label: tasks, open, pending, in_progress, done, dropped.
    projects: pd.DataFrame
    workers: pd.DataFrame
    labels: pd.DataFrame
    #: The flow section, read in the same snapshot (its settings and fingerprint are in
    #: ``flow.provenance``).
    flow: FlowSection
    provenance: dict[str, str] = field(default_factory=dict)

    @property
    def tasks(self) -> int:
        return int(self.overview["tasks"].sum())

    def _where(self, mask: Any) -> int:
        return int(self.overview.loc[mask, "tasks"].sum())

    @property
    def open_tasks(self) -> int:
        return self._where(self.overview["status"].isin(["pending", "in_progress"]))

    @property
    def done(self) -> int:
        return self._where(self.overview["resolution"] == "done")

    @property
    def dropped(self) -> int:
        return self._where(self.overview["resolution"].notna()) - self.done

    @property
    def unassigned_open(self) -> int:
        """Open tasks with no worker assigned."""
        return int(self.overview["unassigned"].sum())

    @property
    def unlabelled(self) -> int:
        """Tasks that carry no label."""
        return int(self.overview["unlabelled"].sum())

    @property
    def first_created(self) -> pd.Timestamp | None:
        return self.overview["first"].min() if self.tasks else None

    @property
    def last_created(self) -> pd.Timestamp | None:
        return self.overview["last"].max() if self.tasks else None

    @property
    def start(self) -> date | None:
        """The report's first day: the first task's (UTC), or ``date_from`` when later."""
        if not self.tasks:
            return None
        first = _utc_day(self.first_created)
        chosen = self.parameters.date_from
        return max(first, chosen) if chosen else first

    @property
    def end(self) -> date | None:
        """The report's last day: the last task's (UTC), or ``date_to`` when earlier."""
        if not self.tasks:
            return None
        last = _utc_day(self.last_created)
        chosen = self.parameters.date_to
        return min(last, chosen) if chosen else last

    @property
    def origins(self) -> pd.DataFrame:
        """Tasks per origin in words (:data:`ORIGINS`): ``tasks``, ``first`` and ``last``
        creation, most tasks first."""
        counts = self.origin_counts
        named = counts["origin"].astype("object").map(lambda v: ORIGINS[None if pd.isna(v) else v])
        grouped = counts.groupby(named.rename("origin")).agg(
            tasks=("tasks", "sum"), first=("first", "min"), last=("last", "max")
        )
        return grouped.sort_values(["tasks", "first"], ascending=[False, True])

    @property
    def mixes_synthetic_data(self) -> bool:
        """Whether synthetic tasks (taskkit seed) share the report with tasks of any other
        origin."""
        names = set(self.origins.index)
        return ORIGINS["seed"] in names and len(names) > 1

    def weeks(self) -> Weeks:
        """Every week of the report's range (see :func:`taskkit._report.weeks.weekly`): each
        origin's first and last day are the edges of a part of the data."""
        assert self.start is not None and self.end is not None
        spans = [(_utc_day(r.first), _utc_day(r.last)) for r in self.origins.itertuples()]
        return weekly(self.daily, self.start, self.end, spans)


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
    rows = report_tasks(parameters)
    # Every read through the transaction's own connection: a fast reader would open
    # connections of its own, each with a snapshot of its own. Each statement groups in the
    # database; only the durations of done work come back a row per task (two numbers).
    grouped = await to_dataframe(conn, overview(rows))
    frames = {
        "overview": grouped,
        "origin_counts": await _origins(conn, rows, int(grouped["tasks"].sum())),
        "daily": await to_dataframe(conn, daily_counts(rows, conn.dialect.name)),
        "durations": await read_durations(conn, rows),
        "projects": await to_dataframe(conn, project_counts(rows)),
        "workers": await to_dataframe(conn, worker_counts(rows)),
        "labels": await to_dataframe(conn, label_counts(rows)),
    }
    flow = await flow_section(conn, parameters)
    data = ReportData(parameters=parameters, **frames, flow=flow)
    data.provenance = await provenance(
        conn,
        parameters,
        command=command,
        tasks=data.tasks,
        data=fingerprint([_sorted(frame) for frame in frames.values()]),
    )
    return data


async def read_durations(conn: AsyncConnection, rows: Any) -> pd.DataFrame:
    """The durations of done work (a row per task), read through the connection's own driver
    in its transaction (the snapshot): two numbers and a short text per row need no
    conversion, and SQLAlchemy's rows and the typed reader took three times as long (0.3 s for
    the 38,601 done tasks of one project of 200,000, against 0.1 s)."""
    sql, parameters = compiled_sql(durations(rows, conn.dialect.name), conn.dialect)
    driver = (await conn.get_raw_connection()).driver_connection
    if conn.dialect.name == "sqlite":  # aiosqlite
        found = await driver.execute_fetchall(sql, parameters)  # type: ignore[union-attr]
    else:  # asyncpg
        found = await driver.fetch(sql, *parameters)  # type: ignore[union-attr]
    columns = list(zip(*found, strict=True)) or [(), (), ()]
    return pd.DataFrame(
        {
            "lead_days": pd.array(columns[0], dtype="float64"),
            "cycle_days": pd.array(columns[1], dtype="float64"),
            "kind": pd.array(columns[2], dtype="str"),
        }
    )


async def _origins(conn: AsyncConnection, rows: Any, tasks: int) -> pd.DataFrame:
    """Tasks per origin, with a row (origin NA) for the tasks without a recorded one."""
    known = await to_dataframe(conn, origins(rows))
    if int(known["tasks"].sum()) >= tasks:  # every task has its origin: nothing to look for
        return known
    span = await to_dataframe(conn, unrecorded_span(rows))
    unrecorded = span[span["tasks"] > 0].assign(origin=pd.NA)
    return pd.concat([known, unrecorded[known.columns]], ignore_index=True)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` in an order that does not depend on how the database grouped it."""
    if not len(frame):
        return frame
    return frame.sort_values(list(frame.columns), na_position="first").reset_index(drop=True)
