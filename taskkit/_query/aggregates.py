"""Aggregates of task data, grouped inside the database.

Each takes an optional statement selecting tasks (such as ``select_tasks(...)``) and returns a
statement with labeled columns, one row per group, ready for a DataFrame. Every constant they
select is a typed literal (``status`` values have the column's Enum type), so the columns'
types, and the DataFrame dtypes taken from them, come from the statement itself.
"""

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Float, Integer, case, cast, func, true, union_all
from sqlalchemy.sql import ColumnElement, FromClause, Select, Subquery
from sqlmodel import col

from taskkit._errors import InvalidArgumentError
from taskkit._models import Project, Status, Task, TaskWorkerLink, Worker
from taskkit._sql.functions import WeekStart
from taskkit._sql.select import check_select

__all__ = ["project_progress", "status_priority_counts", "tasks_per_week", "worker_load"]

_task: sa.Table = Task.__table__  # type: ignore[attr-defined]


def _task_rows(tasks: Select[Any] | None) -> FromClause:
    """The task rows to aggregate: the whole table, or the rows ``tasks`` selects."""
    if tasks is None:
        return _task
    rows = check_select(tasks, "tasks").order_by(None).subquery("tasks")
    missing = [
        c for c in ("id", "status", "project_id", "created_at", "completed_at") if c not in rows.c
    ]
    if missing:
        raise InvalidArgumentError(
            "tasks must select whole Task rows, such as select(Task) or select_tasks(...); "
            f"its columns lack {', '.join(missing)}"
        )
    return rows


def _choices(column: sa.Column[Any], name: str) -> Subquery:
    """One row per choice of an Enum column, in declared order: the choice (a literal of the
    column's own type, labeled as the column) and its ``rank``."""
    kind: sa.Enum = column.type  # type: ignore[assignment]
    return union_all(
        *(
            sa.select(
                sa.literal(choice, kind).label(column.name),
                sa.literal(rank, Integer).label("rank"),
            )
            for rank, choice in enumerate(kind.enums)
        )
    ).subquery(name)


def _status_count(rows: FromClause, *statuses: Status) -> ColumnElement[int]:
    matches = rows.c.status.in_([s.value for s in statuses])
    return func.coalesce(func.sum(case((matches, 1), else_=0)), 0)


def status_priority_counts(tasks: Select[Any] | None = None) -> Select[*tuple[Any, ...]]:
    """Tasks per status and priority, every one of the 9 combinations (zeros included).

    Args:
        tasks: the tasks to count (default: all), e.g. ``select_tasks(project="Apollo")``.

    Returns:
        A statement with columns ``status``, ``priority``, ``tasks``, ordered by status then
        priority in declared order. ``status`` and ``priority`` have the task columns' types:
        a session returns ``Status`` and ``Priority`` members (as for ``select(Task.status)``),
        a DataFrame holds them as categories in declared order.

    Raises:
        InvalidArgumentError: ``tasks`` is not a statement selecting Task rows.
    """
    rows = _task_rows(tasks)
    statuses = _choices(_task.c.status, "statuses")
    priorities = _choices(_task.c.priority, "priorities")
    counts = (
        sa.select(rows.c.status, rows.c.priority, func.count().label("tasks"))
        .group_by(rows.c.status, rows.c.priority)
        .subquery("counts")
    )
    return (
        sa.select(
            statuses.c.status,
            priorities.c.priority,
            func.coalesce(counts.c.tasks, 0).label("tasks"),
        )
        .select_from(statuses)
        .join(priorities, true())
        .outerjoin(
            counts,
            (counts.c.status == statuses.c.status) & (counts.c.priority == priorities.c.priority),
        )
        .order_by(statuses.c.rank, priorities.c.rank)
    )


def tasks_per_week(tasks: Select[Any] | None = None) -> Select[*tuple[Any, ...]]:
    """Tasks created and completed per week (weeks start on Monday, UTC).

    Weeks with neither event have no row. The bucketing runs in the database, with the same
    result on SQLite (UTC text timestamps) and PostgreSQL (``timestamptz``, whatever the
    session's time zone).

    Args:
        tasks: the tasks to count (default: all), e.g. ``select_tasks(priority="high")``.

    Returns:
        A statement with columns ``week`` (a ``date``, the Monday), ``created``,
        ``completed``, ordered by week.

    Raises:
        InvalidArgumentError: ``tasks`` is not a statement selecting Task rows.
    """
    rows = _task_rows(tasks)

    def flag(value: int) -> ColumnElement[int]:
        return sa.literal(value, Integer)

    events = union_all(
        sa.select(
            WeekStart(rows.c.created_at).label("week"),
            flag(1).label("created"),
            flag(0).label("completed"),
        ),
        sa.select(
            WeekStart(rows.c.completed_at), flag(0).label("created"), flag(1).label("completed")
        ).where(rows.c.completed_at.is_not(None)),
    ).subquery("events")
    return (
        sa.select(
            events.c.week,
            func.sum(events.c.created).label("created"),
            func.sum(events.c.completed).label("completed"),
        )
        .group_by(events.c.week)
        .order_by(events.c.week)
    )


def project_progress(tasks: Select[Any] | None = None) -> Select[*tuple[Any, ...]]:
    """Per project: how many tasks, how many in each status, and the share completed.

    Every project has a row (zeros when it has no matching task); tasks without a project are
    not counted.

    Args:
        tasks: the tasks to count (default: all), e.g. ``select_tasks(priority="high")``.

    Returns:
        A statement with columns ``project_id``, ``project`` (the name), ``tasks``,
        ``pending``, ``in_progress``, ``completed``, ``completed_share`` (0..1, NULL when the
        project has no task), ordered by project name.

    Raises:
        InvalidArgumentError: ``tasks`` is not a statement selecting Task rows.
    """
    rows = _task_rows(tasks)
    total = func.count(rows.c.id)
    completed = _status_count(rows, Status.completed)
    return (
        sa.select(
            col(Project.id).label("project_id"),
            col(Project.name).label("project"),
            total.label("tasks"),
            _status_count(rows, Status.pending).label("pending"),
            _status_count(rows, Status.in_progress).label("in_progress"),
            completed.label("completed"),
            (cast(completed, Float) / func.nullif(total, 0)).label("completed_share"),
        )
        .select_from(Project)
        .outerjoin(rows, rows.c.project_id == Project.id)
        .group_by(col(Project.id), col(Project.name))
        .order_by(col(Project.name), col(Project.id))
    )


def worker_load(tasks: Select[Any] | None = None) -> Select[*tuple[Any, ...]]:
    """Per worker: open tasks (pending or in progress), each status, and all assigned tasks.

    Every worker has a row (zeros when nothing matching is assigned).

    Args:
        tasks: the tasks to count (default: all), e.g. ``select_tasks(project="Apollo")``.

    Returns:
        A statement with columns ``worker_id``, ``worker`` (the name), ``open``, ``pending``,
        ``in_progress``, ``completed``, ``tasks``, most open tasks first, then by worker id.

    Raises:
        InvalidArgumentError: ``tasks`` is not a statement selecting Task rows.
    """
    rows = _task_rows(tasks)
    open_tasks = _status_count(rows, Status.pending, Status.in_progress)
    return (
        sa.select(
            col(Worker.id).label("worker_id"),
            col(Worker.name).label("worker"),
            open_tasks.label("open"),
            _status_count(rows, Status.pending).label("pending"),
            _status_count(rows, Status.in_progress).label("in_progress"),
            _status_count(rows, Status.completed).label("completed"),
            func.count(rows.c.id).label("tasks"),
        )
        .select_from(Worker)
        .outerjoin(TaskWorkerLink, col(TaskWorkerLink.worker_id) == Worker.id)
        .outerjoin(rows, rows.c.id == TaskWorkerLink.task_id)
        .group_by(col(Worker.id), col(Worker.name))
        .order_by(open_tasks.desc(), col(Worker.id))
    )
