"""``select_tasks`` and ``any_of``: the task filters as a statement and as one OR condition."""

import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, Unpack, get_type_hints

from sqlalchemy import or_
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import ColumnElement
from sqlmodel import select
from sqlmodel.sql.expression import SelectOfScalar

from taskkit._errors import InvalidArgumentError
from taskkit._models import Task
from taskkit._query.arguments import check_flag
from taskkit._query.filters import TaskFilters, conditions
from taskkit._query.ordering import order_clauses

__all__ = ["any_of", "select_tasks"]

F = TypeVar("F", bound=Callable[..., Any])


def _filters_in_signature(function: F) -> F:
    """Show the filters as keyword parameters (``help()``, completion): they arrive as
    ``**filters``, typed by :class:`TaskFilters` for type checkers."""
    signature = inspect.signature(function)
    own = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    filters = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=hint)
        for name, hint in get_type_hints(TaskFilters).items()
    ]
    function.__signature__ = signature.replace(parameters=[*filters, *own])  # type: ignore[attr-defined]
    return function


@_filters_in_signature
def select_tasks(
    *,
    order_by: str | Iterable[str] = "-created_at",
    with_project: bool = False,
    with_workers: bool = False,
    with_labels: bool = False,
    **filters: Unpack[TaskFilters],
) -> SelectOfScalar[Task]:
    """A ``select(Task)`` with the given filters (all must match) and ordering.

    The result is a plain statement: extend it with ``.where()`` (for example
    ``.where(or_(Task.priority == "high", Task.project_id == 1))`` or :func:`any_of`), run it
    with ``await session.exec(stmt)``, count it with :func:`count`, page it with
    :func:`taskkit.paginate`.

    Args:
        status: one status or a list of them (``"pending"`` or ``Status.pending``).
        priority: one priority or a list of them.
        resolution: one resolution or a list of them: how completed tasks ended
            (``"done"``; ``["wont_do", "duplicate", "cancelled"]`` for dropped work). Open
            tasks have none, so any resolution filter leaves them out.
        project: project ids (int) and/or project names (str, matched exactly); tasks in any
            of them match. A name that no project has matches nothing. Tasks without a project:
            ``.where(Task.project_id.is_(None))``.
        worker: worker ids (``Worker.id``, e.g. ``"w-017"``); tasks assigned to any of them
            match. Worker names are not unique, so they are not accepted here; filter by name
            with ``.where(Task.workers.any(Worker.name == "Ann"))``.
        label: label names, matched exactly (case-sensitive, as trackers keep them); tasks
            carrying any of them match.
        kind: the tracker's types of work item (``"Bug"``, ``"Story"``), matched exactly.
        search: case-insensitive substring of the title or the description (``école``
            finds ``ÉCOLE``, on SQLite too). The text is bound as a parameter; ``%``, ``_``,
            ``*``, ``?``, ``[``, ``\\`` and quotes match literally.
        created_from: tasks created at or after this moment (inclusive).
        created_to: tasks created before this moment (exclusive). Both take aware datetimes,
            dates (a date means midnight UTC) or ISO 8601 strings of either (``"2025-06-01"``,
            ``"2025-06-01T09:00:00Z"``); naive datetimes, and strings without an offset, are
            refused rather than guessed.
        started_from / started_to: the same bounds on ``started_at``; tasks with no known
            start never match them.
        completed_from / completed_to: the same bounds on ``completed_at``; tasks not
            completed (``completed_at`` NULL) never match them.
        key: tracker keys (``Task.key``, e.g. ``"HIVE-28515"``), matched exactly.
        order_by: column names from :data:`ORDER_COLUMNS`, ``-`` for descending; one string
            or a list. ``status`` and ``priority`` sort in declared order (pending <
            in_progress < completed, low < medium < high; an expression no index serves, so
            on a large table filter first or sort by a timestamp); NULLs sort last in both
            directions; ``id`` is appended as a unique tiebreak (in the last key's direction)
            unless it is named.
        with_project: load ``task.project`` eagerly (``selectinload``).
        with_workers: load ``task.workers`` eagerly (``selectinload``).
        with_labels: load ``task.labels`` eagerly (``selectinload``).

    Returns:
        The statement; running it yields ``Task`` objects.

    Raises:
        InvalidArgumentError: a filter value, an order_by name or a flag is not allowed; the
            message names the argument, the value and what is allowed.
    """
    stmt = select(Task).where(*conditions("select_tasks", filters))
    stmt = stmt.order_by(*order_clauses(order_by))
    if check_flag("with_project", with_project):
        stmt = stmt.options(selectinload(Task.project))  # type: ignore[arg-type]
    if check_flag("with_workers", with_workers):
        stmt = stmt.options(selectinload(Task.workers))  # type: ignore[arg-type]
    if check_flag("with_labels", with_labels):
        stmt = stmt.options(selectinload(Task.labels))  # type: ignore[arg-type]
    return stmt


@_filters_in_signature
def any_of(**filters: Unpack[TaskFilters]) -> ColumnElement[bool]:
    """A condition true when ANY of the given filters matches (``select_tasks`` ANDs them).

    Takes the same filters as :func:`select_tasks`; use it in ``.where()``::

        # pending tasks that are high priority OR belong to Apollo
        stmt = select_tasks(status="pending").where(any_of(priority="high", project="Apollo"))

    Raises:
        InvalidArgumentError: no filter given, or a filter value is not allowed.
    """
    found = conditions("any_of", filters)
    if not found:
        raise InvalidArgumentError(
            "any_of needs at least one filter, for example any_of(priority='high', "
            "project='Apollo')"
        )
    return or_(*found)
