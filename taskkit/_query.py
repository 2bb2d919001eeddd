"""Ask questions of task data: composable filters, a count for any select, SQL-side aggregates.

Everything here builds plain SQLModel/SQLAlchemy ``select()`` statements. Extend them with
``.where()`` and ``.order_by()``, run them with ``await session.exec(stmt)``, page through them
with :func:`taskkit.paginate`, or turn them into DataFrames. The aggregates group inside the
database, so they work on tables far too big to load.

Ordering is the same on SQLite and PostgreSQL: nullable columns sort their NULLs last in both
directions (the backends' defaults differ), ``status`` and ``priority`` sort in their declared
order rather than alphabetically, and ``id`` is always the last sort key, so the order is total.
"""

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeAlias, TypeVar

import sqlalchemy as sa
from sqlalchemy import Date, Float, Integer, case, cast, func, literal_column, or_, true, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import ColumnElement, FromClause, Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from taskkit._db import reading
from taskkit._errors import InvalidArgumentError
from taskkit._models import (
    DESCRIPTION_MAX,
    Priority,
    Project,
    Status,
    Task,
    TaskWorkerLink,
    Worker,
)

__all__ = [
    "ORDER_COLUMNS",
    "any_of",
    "count",
    "project_progress",
    "select_tasks",
    "status_priority_counts",
    "tasks_per_week",
    "worker_load",
]

T = TypeVar("T")
#: One value, or a list (tuple, set) of values matched with IN.
OneOrMany: TypeAlias = T | Iterable[T]

#: The columns ``select_tasks(order_by=...)`` accepts, optionally prefixed with ``-``.
ORDER_COLUMNS = (
    "id",
    "title",
    "description",
    "status",
    "priority",
    "project_id",
    "created_at",
    "updated_at",
    "completed_at",
)
_ORDER_NAME = re.compile(r"-?[a-z_]+")


# ---------------------------------------------------------------------------------------------
# Argument checks: each names the argument, the value and what is allowed.


def _values(name: str, value: Any, check: Any, allowed: str) -> list[Any]:
    """``value`` as a de-duplicated list in a stable order (bound values feed cursor hashes)."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        items = [value]
    else:
        items = list(value)
        if not items:
            raise InvalidArgumentError(
                f"{name} must be {allowed}, or a non-empty list of them; got an empty "
                f"{type(value).__name__} (leave {name} out to not filter on it)"
            )
    checked = {check(item) for item in items}
    return sorted(checked, key=lambda v: (type(v).__name__, v))


def _enum_checker(name: str, enum: type[StrEnum]) -> Any:
    allowed = ", ".join(member.value for member in enum)

    def check(value: Any) -> str:
        if isinstance(value, str) and value in enum._value2member_map_:
            return str(enum(value).value)
        raise InvalidArgumentError(
            f"{name} must be one of {allowed} (or a list of them); got {value!r}"
        )

    return check


def _check_project(value: Any) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str) and value.strip():
        return value
    raise InvalidArgumentError(
        "project must be a project id (a positive integer) or a project name (a non-empty "
        f"string), or a list of them; got {value!r}"
    )


def _check_worker(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        return value
    raise InvalidArgumentError(
        f"worker must be a worker id (a non-empty string such as 'w-017'), or a list of them; "
        f"got {value!r}"
    )


def _check_key(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        return value
    raise InvalidArgumentError(
        f"key must be a tracker key (a non-empty string such as 'HIVE-28515'), or a list of "
        f"them; got {value!r}"
    )


def _check_search(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentError(f"search must be a string; got {value!r}")
    if "\x00" in value:
        raise InvalidArgumentError(f"search must not contain NUL characters (\\x00); got {value!r}")
    if len(value) > DESCRIPTION_MAX:
        # Nothing longer can match (no title or description is), and SQLite refuses LIKE
        # patterns over 50,000 bytes.
        raise InvalidArgumentError(
            f"search must be at most {DESCRIPTION_MAX:,} characters, the longest a description "
            f"can be; got {len(value):,}"
        )
    return value


def _parse_moment(name: str, value: str) -> datetime | date:
    """An ISO 8601 date (``2025-06-01``) or timestamp with an offset (``...T09:00:00Z``)."""
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgumentError(
            f"{name} must be an ISO 8601 date such as '2025-06-01' or a timestamp with an "
            f"offset such as '2025-06-01T09:00:00Z'; got {value!r}"
        ) from None


def _check_moment(name: str, value: Any) -> datetime:
    if isinstance(value, str):
        value = _parse_moment(name, value)
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise InvalidArgumentError(
                f"{name} must be timezone-aware (timestamps are stored in UTC), for example "
                f"datetime(2025, 1, 1, tzinfo=UTC); got the naive {value!r}"
            )
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise InvalidArgumentError(
        f"{name} must be a timezone-aware datetime, a date (midnight UTC) or an ISO 8601 "
        f"string of either; got {value!r}"
    )


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be True or False; got {value!r}")
    return value


# ---------------------------------------------------------------------------------------------
# Filters.


def _conditions(
    *,
    status: Any,
    priority: Any,
    project: Any,
    worker: Any,
    search: Any,
    created_from: Any,
    created_to: Any,
    completed_from: Any = None,
    completed_to: Any = None,
) -> list[ColumnElement[bool]]:
    """The WHERE conditions for the filters given (``None`` means: no filter on it)."""
    conditions: list[ColumnElement[bool]] = []
    if status is not None:
        statuses = _values("status", status, _enum_checker("status", Status), "a status")
        conditions.append(col(Task.status).in_(statuses))
    if priority is not None:
        priorities = _values(
            "priority", priority, _enum_checker("priority", Priority), "a priority"
        )
        conditions.append(col(Task.priority).in_(priorities))
    if project is not None:
        refs = _values("project", project, _check_project, "a project id or name")
        ids = [r for r in refs if isinstance(r, int)]
        names = [r for r in refs if isinstance(r, str)]
        by_project: list[ColumnElement[bool]] = []
        if ids:
            by_project.append(col(Task.project_id).in_(ids))
        if names:
            named = select(Project.id).where(col(Project.name).in_(names))
            by_project.append(col(Task.project_id).in_(named))
        conditions.append(or_(*by_project))
    if worker is not None:
        workers = _values("worker", worker, _check_worker, "a worker id")
        assigned = select(TaskWorkerLink.task_id).where(col(TaskWorkerLink.worker_id).in_(workers))
        conditions.append(col(Task.id).in_(assigned))
    if search is not None:
        text = _check_search(search)
        conditions.append(
            or_(
                _FoldedContains(col(Task.title), text), _FoldedContains(col(Task.description), text)
            )
        )
    conditions += _between("created", col(Task.created_at), created_from, created_to)
    conditions += _between("completed", col(Task.completed_at), completed_from, completed_to)
    return conditions


def _between(name: str, column: Any, start: Any, end: Any) -> list[ColumnElement[bool]]:
    """``{name}_from <= column < {name}_to`` for the bounds given."""
    lower = None if start is None else _check_moment(f"{name}_from", start)
    upper = None if end is None else _check_moment(f"{name}_to", end)
    if lower is not None and upper is not None and lower > upper:
        raise InvalidArgumentError(
            f"{name}_from ({lower.isoformat()}) must not be after {name}_to ({upper.isoformat()})"
        )
    conditions: list[ColumnElement[bool]] = []
    if lower is not None:
        conditions.append(column >= lower)
    if upper is not None:
        conditions.append(column < upper)
    return conditions


def any_of(
    *,
    status: OneOrMany[Status | str] | None = None,
    priority: OneOrMany[Priority | str] | None = None,
    project: OneOrMany[int | str] | None = None,
    worker: OneOrMany[str] | None = None,
    search: str | None = None,
    created_from: datetime | date | str | None = None,
    created_to: datetime | date | str | None = None,
    completed_from: datetime | date | str | None = None,
    completed_to: datetime | date | str | None = None,
) -> ColumnElement[bool]:
    """A condition true when ANY of the given filters matches (``select_tasks`` ANDs them).

    Takes the same filters as :func:`select_tasks`; use it in ``.where()``::

        # pending tasks that are high priority OR belong to Apollo
        stmt = select_tasks(status="pending").where(any_of(priority="high", project="Apollo"))

    Raises:
        InvalidArgumentError: no filter given, or a filter value is not allowed.
    """
    conditions = _conditions(
        status=status,
        priority=priority,
        project=project,
        worker=worker,
        search=search,
        created_from=created_from,
        created_to=created_to,
        completed_from=completed_from,
        completed_to=completed_to,
    )
    if not conditions:
        raise InvalidArgumentError(
            "any_of needs at least one filter, for example any_of(priority='high', "
            "project='Apollo')"
        )
    return or_(*conditions)


# ---------------------------------------------------------------------------------------------
# Ordering.

_NULLABLE_ORDER_COLUMNS = frozenset({"description", "project_id", "completed_at"})


def _rank(column: Any, enum: type[StrEnum]) -> ColumnElement[int]:
    """``column``'s position in ``enum``'s declared order (pending < in_progress < ...)."""
    return case({member.value: i for i, member in enumerate(enum)}, value=column, else_=-1)


def _order_key(name: str) -> ColumnElement[Any]:
    if name == "status":
        return _rank(col(Task.status), Status)
    if name == "priority":
        return _rank(col(Task.priority), Priority)
    column: ColumnElement[Any] = getattr(Task, name)
    return column


def _order_clauses(order_by: Any) -> list[ColumnElement[Any]]:
    allowed = ", ".join(ORDER_COLUMNS)
    hint = (
        f"order_by must be one or a list of column names from {allowed}, each optionally "
        "prefixed with '-' for descending (e.g. '-created_at' or ['priority', '-created_at'])"
    )
    if isinstance(order_by, str):
        names = [order_by]
    elif isinstance(order_by, Iterable) and not isinstance(order_by, bytes):
        names = list(order_by)
    else:
        raise InvalidArgumentError(f"{hint}; got {order_by!r}")
    clauses: list[ColumnElement[Any]] = []
    seen: set[str] = set()
    descending = False
    for name in names:
        if not isinstance(name, str) or not _ORDER_NAME.fullmatch(name):
            raise InvalidArgumentError(f"{hint}; got {name!r}")
        descending, column = name.startswith("-"), name.lstrip("-")
        if column not in ORDER_COLUMNS:
            raise InvalidArgumentError(f"{hint}; got {name!r}")
        if column in seen:
            raise InvalidArgumentError(f"order_by names {column!r} twice; got {order_by!r}")
        seen.add(column)
        key = _order_key(column)
        clause = key.desc() if descending else key.asc()
        if column in _NULLABLE_ORDER_COLUMNS:
            clause = clause.nulls_last()
        clauses.append(clause)
    if "id" not in seen:
        # The unique tiebreak, in the direction of the last key so that an index on
        # (key, id) can be read in one direction.
        clauses.append(col(Task.id).desc() if descending else col(Task.id).asc())
    return clauses


def select_tasks(
    *,
    status: OneOrMany[Status | str] | None = None,
    priority: OneOrMany[Priority | str] | None = None,
    project: OneOrMany[int | str] | None = None,
    worker: OneOrMany[str] | None = None,
    search: str | None = None,
    created_from: datetime | date | str | None = None,
    created_to: datetime | date | str | None = None,
    completed_from: datetime | date | str | None = None,
    completed_to: datetime | date | str | None = None,
    order_by: str | Iterable[str] = "-created_at",
    with_project: bool = False,
    with_workers: bool = False,
    key: OneOrMany[str] | None = None,
) -> SelectOfScalar[Task]:
    """A ``select(Task)`` with the given filters (all must match) and ordering.

    The result is a plain statement: extend it with ``.where()`` (for example
    ``.where(or_(Task.priority == "high", Task.project_id == 1))`` or :func:`any_of`), run it
    with ``await session.exec(stmt)``, count it with :func:`count`, page it with
    :func:`taskkit.paginate`.

    Args:
        status: one status or a list of them (``"pending"`` or ``Status.pending``).
        priority: one priority or a list of them.
        project: project ids (int) and/or project names (str, matched exactly); tasks in any
            of them match. A name that no project has matches nothing. Tasks without a project:
            ``.where(Task.project_id.is_(None))``.
        worker: worker ids (``Worker.id``, e.g. ``"w-017"``); tasks assigned to any of them
            match. Worker names are not unique, so they are not accepted here; filter by name
            with ``.where(Task.workers.any(Worker.name == "Ann"))``.
        search: case-insensitive substring of the title or the description (``école``
            finds ``ÉCOLE``, on SQLite too). The text is bound as a parameter; ``%``, ``_``,
            ``*``, ``?``, ``[``, ``\\`` and quotes match literally.
        created_from: tasks created at or after this moment (inclusive).
        key: tracker keys (``Task.key``, e.g. ``"HIVE-28515"``), matched exactly.
        created_to: tasks created before this moment (exclusive). Both take aware datetimes,
            dates (a date means midnight UTC) or ISO 8601 strings of either (``"2025-06-01"``,
            ``"2025-06-01T09:00:00Z"``); naive datetimes, and strings without an offset, are
            refused rather than guessed.
        completed_from / completed_to: the same bounds on ``completed_at``; tasks not
            completed (``completed_at`` NULL) never match them.
        order_by: column names from :data:`ORDER_COLUMNS`, ``-`` for descending; one string
            or a list. ``status`` and ``priority`` sort in declared order (pending <
            in_progress < completed, low < medium < high; an expression no index serves, so
            on a large table filter first or sort by a timestamp); NULLs sort last in both
            directions; ``id`` is appended as a unique tiebreak (in the last key's direction)
            unless it is named.
        with_project: load ``task.project`` eagerly (``selectinload``).
        with_workers: load ``task.workers`` eagerly (``selectinload``).

    Returns:
        The statement; running it yields ``Task`` objects.

    Raises:
        InvalidArgumentError: a filter value, an order_by name or a flag is not allowed; the
            message names the argument, the value and what is allowed.
    """
    conditions = _conditions(
        status=status,
        priority=priority,
        project=project,
        worker=worker,
        search=search,
        created_from=created_from,
        created_to=created_to,
        completed_from=completed_from,
        completed_to=completed_to,
    )
    if key is not None:
        conditions.append(col(Task.key).in_(_values("key", key, _check_key, "a tracker key")))
    stmt = select(Task).where(*conditions).order_by(*_order_clauses(order_by))
    if _check_flag("with_project", with_project):
        stmt = stmt.options(selectinload(Task.project))  # type: ignore[arg-type]
    if _check_flag("with_workers", with_workers):
        stmt = stmt.options(selectinload(Task.workers))  # type: ignore[arg-type]
    return stmt


# ---------------------------------------------------------------------------------------------
# Reading and counting.


def check_select(stmt: Any, argument: str = "stmt") -> Select[Any]:
    """``stmt`` if it is a ``select()`` statement, else an InvalidArgumentError."""
    if not isinstance(stmt, Select):
        raise InvalidArgumentError(
            f"{argument} must be a select() statement such as select(Task) or select_tasks(); "
            f"got {type(stmt).__name__}"
        )
    return stmt


def _has_row_shaping(stmt: Select[Any]) -> bool:
    # Statements whose row count is not the row count of their FROM/WHERE.
    return bool(
        stmt._group_by_clauses
        or stmt._having_criteria
        or stmt._distinct
        or stmt._limit_clause is not None
        or stmt._offset_clause is not None
        or stmt._fetch_clause is not None
    )


async def count(session: AsyncSession, stmt: Select[Any]) -> int:
    """How many rows ``stmt`` returns, counted in the database.

    ORDER BY is dropped. A plain statement is counted in place
    (``with_only_columns(func.count(), maintain_column_froms=True)``); one with GROUP BY,
    DISTINCT, LIMIT or OFFSET is wrapped in a subquery, so it counts its rows, not its groups'.

    Args:
        session: an ``AsyncSession``; a transaction this call opens is ended.
        stmt: any ``select()`` statement, e.g. ``select_tasks(status="pending")``.

    Returns:
        The number of rows.

    Raises:
        InvalidArgumentError: ``stmt`` is not a select statement.
    """
    stmt = check_select(stmt)
    counting: Any  # SQLModel's exec() overloads know no Select of a bare count
    if _has_row_shaping(stmt):
        counting = select(func.count()).select_from(stmt.order_by(None).subquery())
    else:
        counting = stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    async with reading(session):
        value = (await session.exec(counting)).one()  # a scalar, or a row for Core selects
    return int(value if isinstance(value, int) else value[0])


# ---------------------------------------------------------------------------------------------
# Aggregates. Each takes an optional statement selecting tasks (such as select_tasks(...)) and
# returns a statement with labeled columns, one row per group, ready for a DataFrame.


class _FoldedContains(ColumnElement[bool]):
    """``column`` contains ``text``, case-insensitively, for every cased letter.

    Everywhere but SQLite: ``lower(column) LIKE '%' || lower(text) || '%'``, with ``%``, ``_``
    and the escape character escaped (SQLAlchemy's ``icontains(autoescape=True)``). SQLite's
    ``lower()`` and ``LIKE`` fold ASCII letters only, so there the text becomes a GLOB pattern
    with a character class per cased letter (``école`` -> ``*[éÉ][cC][oO][lL][eE]*``): plain
    SQL, so the ADBC DataFrame reader runs the same condition as a session does.
    """

    type = sa.Boolean()
    # Not cached: the SQLite form is built from the text. Compiling it is cheap.
    inherit_cache = False

    def __init__(self, column: Any, text: str) -> None:
        self.column = column
        self.text = text


# SQLite refuses LIKE and GLOB patterns over 50,000 bytes (SQLITE_MAX_LIKE_PATTERN_LENGTH).
_GLOB_MAX_BYTES = 50_000


def _glob_pattern(text: str) -> str | None:
    """A GLOB pattern matching ``text`` anywhere, in any letter case; ``None`` if too long."""
    parts = []
    for char in text:
        variants = dict.fromkeys(
            v for v in (char, char.lower(), char.upper(), char.casefold()) if len(v) == 1
        )
        if len(variants) > 1:
            parts.append("[" + "".join(variants) + "]")
        else:
            parts.append(f"[{char}]" if char in "*?[" else char)  # GLOB's own characters
    pattern = "*" + "".join(parts) + "*"
    return pattern if len(pattern.encode()) <= _GLOB_MAX_BYTES else None


@compiles(_FoldedContains)
def _folded_contains(element: _FoldedContains, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.icontains(element.text, autoescape=True), **kw)


@compiles(_FoldedContains, "sqlite")
def _folded_contains_sqlite(element: _FoldedContains, compiler: SQLCompiler, **kw: Any) -> str:
    pattern = _glob_pattern(element.text)
    if pattern is None:  # very long texts: ASCII folding (nothing that long is likely to match)
        return _folded_contains(element, compiler, **kw)
    return compiler.process(element.column.op("GLOB")(sa.literal(pattern)), **kw)


class _WeekStart(FunctionElement[date]):
    """The Monday (UTC) of the ISO week holding a timestamp, as a date."""

    type = Date()
    name = "week_start"
    inherit_cache = True


@compiles(_WeekStart, "sqlite")
def _week_start_sqlite(element: _WeekStart, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores taskkit timestamps as UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'. Only the day
    # is passed on: SQLite's date arithmetic keeps milliseconds, and with a modifier it rounds
    # 23:59:59.9995 or later into the next day (and week). 'weekday 0' moves forward to the
    # next Sunday (or stays on one); six days back is that week's Monday.
    (argument,) = element.clauses
    return f"date(substr({compiler.process(argument, **kw)}, 1, 10), 'weekday 0', '-6 days')"


@compiles(_WeekStart, "postgresql")
@compiles(_WeekStart)
def _week_start_postgresql(element: _WeekStart, compiler: SQLCompiler, **kw: Any) -> str:
    # timestamptz is truncated in the session's time zone: convert to UTC first.
    (argument,) = element.clauses
    return (
        f"CAST(date_trunc('week', ({compiler.process(argument, **kw)}) AT TIME ZONE 'UTC') AS DATE)"
    )


def _task_rows(tasks: Select[Any] | None) -> FromClause:
    """The task rows to aggregate: the whole table, or the rows ``tasks`` selects."""
    if tasks is None:
        return Task.__table__  # type: ignore[attr-defined]
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


def _status_count(rows: FromClause, *statuses: Status) -> ColumnElement[int]:
    matches = rows.c.status.in_([s.value for s in statuses])
    return func.coalesce(func.sum(case((matches, 1), else_=0)), 0)


def status_priority_counts(tasks: Select[Any] | None = None) -> Select[*tuple[Any, ...]]:
    """Tasks per status and priority, every one of the 9 combinations (zeros included).

    Args:
        tasks: the tasks to count (default: all), e.g. ``select_tasks(project="Apollo")``.

    Returns:
        A statement with columns ``status``, ``priority``, ``tasks``, ordered by status then
        priority in declared order.

    Raises:
        InvalidArgumentError: ``tasks`` is not a statement selecting Task rows.
    """
    rows = _task_rows(tasks)
    statuses = union_all(
        *(
            sa.select(
                literal_column(f"'{s.value}'").label("status"), literal_column(str(i)).label("rank")
            )
            for i, s in enumerate(Status)
        )
    ).subquery("statuses")
    priorities = union_all(
        *(
            sa.select(
                literal_column(f"'{p.value}'").label("priority"),
                literal_column(str(i)).label("rank"),
            )
            for i, p in enumerate(Priority)
        )
    ).subquery("priorities")
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
    one: ColumnElement[int] = literal_column("1", Integer)
    zero: ColumnElement[int] = literal_column("0", Integer)
    events = union_all(
        sa.select(
            _WeekStart(rows.c.created_at).label("week"),
            one.label("created"),
            zero.label("completed"),
        ),
        sa.select(_WeekStart(rows.c.completed_at), zero, one).where(
            rows.c.completed_at.is_not(None)
        ),
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
