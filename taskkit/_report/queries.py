"""The statements the report reads, each grouped inside the database over the report's tasks.

Every count splits completed work by its resolution: ``done`` is finished work, the other
resolutions (won't do, duplicate, cancelled) are dropped work, so no figure that says "done"
counts work nobody did. Each statement reads the task table once (the labels and workers
statements once their link table), joining names on after grouping, so that the cost grows
with the tasks and not with tasks x workers.
"""

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Date, Float, Integer, String, case, cast, func, union_all
from sqlalchemy.sql import ColumnElement, CompoundSelect, Select, Subquery
from sqlmodel import col

from taskkit._models import (
    Label,
    Project,
    Resolution,
    Status,
    StatusChange,
    TaskLabelLink,
    TaskWorkerLink,
    Worker,
)
from taskkit._query import select_tasks
from taskkit._report.parameters import ReportParameters

__all__ = [
    "DROPPED",
    "daily_counts",
    "durations",
    "label_counts",
    "origins",
    "overview",
    "project_counts",
    "report_select",
    "report_tasks",
    "unrecorded_span",
    "worker_counts",
]

#: The resolutions of dropped work: completed, but not done.
DROPPED = tuple(r.value for r in Resolution if r is not Resolution.done)


def report_select(parameters: ReportParameters) -> Select[Any]:
    """The report's tasks (its project and creation dates): a ``select_tasks`` statement."""
    end = parameters.date_to
    return select_tasks(
        project=parameters.project,
        created_from=parameters.date_from,
        # date_to is inclusive for readers: everything created before the next midnight (the
        # last day a date can hold has no next one: nothing is created after it).
        created_to=None if end is None or end == end.max else end + timedelta(days=1),
    )


def report_tasks(parameters: ReportParameters) -> Subquery:
    """The report's tasks as a subquery named ``tasks`` (what the statements below group)."""
    return report_select(parameters).order_by(None).subquery("tasks")


def _sum(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _counts(rows: Any) -> list[ColumnElement[int]]:
    """Tasks, open, pending, in progress, done and dropped among ``rows``, labeled."""
    status = rows.c.status
    return [
        func.count().label("tasks"),
        _sum(status.in_([Status.pending.value, Status.in_progress.value])).label("open"),
        _sum(status == Status.pending.value).label("pending"),
        _sum(status == Status.in_progress.value).label("in_progress"),
        _sum(rows.c.resolution == Resolution.done.value).label("done"),
        _sum(rows.c.resolution.in_(DROPPED)).label("dropped"),
    ]


def overview(rows: Subquery) -> Select[*tuple[Any, ...]]:
    """Tasks per status, resolution, priority and kind, with their first and last creation,
    how many of them are open with no worker assigned, and how many carry no label."""
    assigned = sa.exists().where(col(TaskWorkerLink.task_id) == rows.c.id)
    labelled = sa.exists().where(col(TaskLabelLink.task_id) == rows.c.id)
    is_open = rows.c.status.in_([Status.pending.value, Status.in_progress.value])
    return sa.select(
        rows.c.status,
        rows.c.resolution,
        rows.c.priority,
        rows.c.kind,
        func.count().label("tasks"),
        # CASE stops at the first false condition: only open tasks look for a worker.
        _sum(is_open & ~assigned).label("unassigned"),
        _sum(~labelled).label("unlabelled"),
        func.min(rows.c.created_at).label("first"),
        func.max(rows.c.created_at).label("last"),
    ).group_by(rows.c.status, rows.c.resolution, rows.c.priority, rows.c.kind)


def origins(rows: Subquery) -> Select[*tuple[Any, ...]]:
    """Tasks per origin: ``origin``, the source of the creation row of their history (``seed``
    for synthetic tasks, ``tracker`` or ``export`` for imported ones, ``api`` for tasks made
    through taskkit), ``tasks``, and their first and last creation.

    Tasks without a creation row (stored before taskkit kept histories) are not counted here:
    they are the report's tasks less these (see :func:`unrecorded_span`). A task has one
    creation row; a task with creation rows of two sources would count under both.
    """
    change = StatusChange.__table__  # type: ignore[attr-defined]
    return (
        sa.select(
            change.c.source.label("origin"),
            func.count(sa.distinct(change.c.task_id)).label("tasks"),
            func.min(rows.c.created_at).label("first"),
            func.max(rows.c.created_at).label("last"),
        )
        .select_from(change.join(rows, rows.c.id == change.c.task_id))
        .where(change.c.from_status.is_(None))
        .group_by(change.c.source)
    )


def unrecorded_span(rows: Subquery) -> Select[*tuple[Any, ...]]:
    """The first and last creation of the tasks whose history has no creation row."""
    change = StatusChange.__table__  # type: ignore[attr-defined]
    recorded = sa.exists().where(change.c.task_id == rows.c.id, change.c.from_status.is_(None))
    return sa.select(
        func.count().label("tasks"),
        func.min(rows.c.created_at).label("first"),
        func.max(rows.c.created_at).label("last"),
    ).where(~recorded)


def _utc_day(moment: Any, dialect: str) -> ColumnElement[str]:
    """The UTC day of a timestamp as ``YYYY-MM-DD`` text: cheap to group by (SQLite's date
    functions cost four times the grouping itself)."""
    if dialect == "sqlite":  # stored as UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'
        return func.substr(moment, 1, 10, type_=String)
    return cast(cast(moment.op("AT TIME ZONE")(sa.literal("UTC")), Date), String)


def daily_counts(rows: Subquery, dialect: str) -> CompoundSelect[*tuple[Any, ...]]:
    """Per UTC day (``YYYY-MM-DD``) with any event: tasks created, done and dropped that day.

    Creations and completions are grouped apart (one sort each, not one of both together),
    so a day may have two rows: add them up.
    """

    def zero() -> ColumnElement[int]:
        return sa.literal(0, Integer)

    created = _utc_day(rows.c.created_at, dialect)
    completed = _utc_day(rows.c.completed_at, dialect)
    finished = rows.c.resolution == Resolution.done.value
    return union_all(
        sa.select(
            created.label("day"),
            func.count().label("created"),
            zero().label("done"),
            zero().label("dropped"),
        ).group_by(created),
        sa.select(completed, zero(), _sum(finished), _sum(~finished))
        .where(rows.c.completed_at.is_not(None))
        .group_by(completed),
    )


def project_counts(rows: Subquery) -> Select[*tuple[Any, ...]]:
    """Per project with tasks among ``rows``, and one row (``project_id`` NULL) for the tasks
    without a project: ``project`` (the name), tasks, open, pending, in progress, done,
    dropped."""
    grouped = sa.select(rows.c.project_id, *_counts(rows)).group_by(rows.c.project_id).subquery("g")
    return sa.select(
        grouped.c.project_id,
        col(Project.name).label("project"),
        *(c for c in grouped.c if c.name != "project_id"),
    ).select_from(grouped.outerjoin(Project, col(Project.id) == grouped.c.project_id))


def worker_counts(rows: Subquery) -> Select[*tuple[Any, ...]]:
    """Per worker assigned to any of ``rows``: ``worker_id``, ``worker`` (the name), tasks,
    open, pending, in progress, done, dropped.

    The link table is grouped first and the names joined after: grouping per worker through
    ``worker LEFT JOIN taskworkerlink`` walks the whole link table once per worker (its key
    starts with the task), 3.4 s for 200,000 tasks on SQLite against 0.3 s this way.
    """
    grouped = _counts_per_link(TaskWorkerLink, "worker_id", rows)
    return sa.select(
        grouped.c.worker_id,
        col(Worker.name).label("worker"),
        *(c for c in grouped.c if c.name != "worker_id"),
    ).select_from(grouped.join(Worker, col(Worker.id) == grouped.c.worker_id))


def label_counts(rows: Subquery) -> Select[*tuple[Any, ...]]:
    """Per label carried by any of ``rows``: ``label`` (the name), tasks, open, pending, in
    progress, done, dropped."""
    grouped = _counts_per_link(TaskLabelLink, "label_id", rows)
    return sa.select(
        col(Label.name).label("label"), *(c for c in grouped.c if c.name != "label_id")
    ).select_from(grouped.join(Label, col(Label.id) == grouped.c.label_id))


def _counts_per_link(link_model: Any, key: str, rows: Subquery) -> Subquery:
    """``rows``' counts grouped by ``key`` of a link table (a worker's or a label's id), as
    subquery ``g``: the link table is walked once, joined to the tasks of the report."""
    link = link_model.__table__
    return (
        sa.select(link.c[key], *_counts(rows))
        .select_from(link.join(rows, rows.c.id == link.c.task_id))
        .group_by(link.c[key])
        .subquery("g")
    )


def _days_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":  # UTC text; julianday() reads it to the millisecond
        return cast(func.julianday(end) - func.julianday(start), Float)
    return cast(func.extract("epoch", end - start), Float) / 86_400.0


def durations(rows: Subquery, dialect: str) -> Select[*tuple[Any, ...]]:
    """Per task done: ``lead_days`` (creation to completion), ``cycle_days`` (start of work to
    completion; NULL when no start is known) and ``kind``. Dropped work is left out."""
    return sa.select(
        _days_between(rows.c.created_at, rows.c.completed_at, dialect).label("lead_days"),
        _days_between(rows.c.started_at, rows.c.completed_at, dialect).label("cycle_days"),
        rows.c.kind,
    ).where(rows.c.resolution == Resolution.done.value)
