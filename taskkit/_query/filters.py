"""The task filters, each described once from the task table's own columns.

``select_tasks`` ANDs the conditions of the filters given, ``any_of`` ORs them. Every filter
takes its keyword argument(s) from its column's name and its rules from the column: the
choices of ``status`` and ``priority`` are their Enum types' values, ``project`` follows the
foreign key of ``project_id``, the date ranges are named after their timestamp columns.
"""

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any, Protocol, TypeAlias, TypedDict, TypeVar

import sqlalchemy as sa
from sqlalchemy import or_, select
from sqlalchemy.sql import ColumnElement

from taskkit._errors import InvalidArgumentError
from taskkit._models import (
    Label,
    Priority,
    Resolution,
    Status,
    Task,
    TaskLabelLink,
    TaskWorkerLink,
)
from taskkit._query.arguments import (
    check_key,
    check_kind,
    check_label,
    check_moment,
    check_project,
    check_search,
    check_worker,
    choice_checker,
    values,
)
from taskkit._sql.functions import FoldedContains

__all__ = ["FILTERS", "FILTER_NAMES", "Moment", "OneOrMany", "TaskFilters", "conditions"]

T = TypeVar("T")
#: One value, or a list (tuple, set) of values matched with IN.
OneOrMany: TypeAlias = T | Iterable[T]
#: A moment: an aware datetime, a date (midnight UTC) or an ISO 8601 string of either.
Moment: TypeAlias = datetime | date | str


class TaskFilters(TypedDict, total=False):
    """The keyword arguments ``select_tasks`` and ``any_of`` take to filter tasks."""

    status: OneOrMany[Status | str] | None
    priority: OneOrMany[Priority | str] | None
    resolution: OneOrMany[Resolution | str] | None
    project: OneOrMany[int | str] | None
    worker: OneOrMany[str] | None
    label: OneOrMany[str] | None
    kind: OneOrMany[str] | None
    search: str | None
    created_from: Moment | None
    created_to: Moment | None
    started_from: Moment | None
    started_to: Moment | None
    completed_from: Moment | None
    completed_to: Moment | None
    key: OneOrMany[str] | None


class Filter(Protocol):
    @property
    def names(self) -> tuple[str, ...]:
        """The keyword arguments the filter reads (``None`` or absent: no filter on it)."""
        ...

    @property
    def form(self) -> str:
        """What a form asks for (the explore grid draws it): ``"choice"`` (some of
        ``choices``), ``"list"`` (values, comma-separated), ``"text"`` or ``"range"`` (two
        dates, ``names`` from and to)."""
        ...

    def conditions(self, given: Mapping[str, Any]) -> list[ColumnElement[bool]]: ...


class OneOf:
    """``column IN (values)``, each value one of the column's Enum choices."""

    form = "choice"

    def __init__(self, column: sa.Column[Any]) -> None:
        self.column = column
        self.names = (column.name,)
        self.choices: tuple[str, ...] = tuple(column.type.enums)  # type: ignore[attr-defined]
        self.check = choice_checker(column.name, tuple(column.type.enums))  # type: ignore[attr-defined]

    def conditions(self, given: Mapping[str, Any]) -> list[ColumnElement[bool]]:
        value = given.get(self.column.name)
        if value is None:
            return []
        name = self.column.name
        return [self.column.in_(values(name, value, self.check, f"a {name}"))]


class Exact:
    """``column IN (values)`` for any of the text values given."""

    form = "list"

    def __init__(self, column: sa.Column[Any], check: Callable[[Any], str], allowed: str) -> None:
        self.column, self.check, self.allowed = column, check, allowed
        self.names = (column.name,)

    def conditions(self, given: Mapping[str, Any]) -> list[ColumnElement[bool]]:
        value = given.get(self.column.name)
        if value is None:
            return []
        return [self.column.in_(values(self.column.name, value, self.check, self.allowed))]


class Reference:
    """A foreign key ``x_id``, filtered as ``x`` by ids and/or by the target row's ``name``."""

    form = "list"

    def __init__(self, column: sa.Column[Any], check: Callable[[Any], int | str]) -> None:
        (foreign_key,) = column.foreign_keys
        self.column, self.target, self.check = column, foreign_key.column, check
        self.name = column.name.removesuffix("_id")
        self.names = (self.name,)

    def conditions(self, given: Mapping[str, Any]) -> list[ColumnElement[bool]]:
        value = given.get(self.name)
        if value is None:
            return []
        refs = values(self.name, value, self.check, f"a {self.name} id or name")
        ids = [r for r in refs if isinstance(r, int)]
        names = [r for r in refs if isinstance(r, str)]
        either: list[ColumnElement[bool]] = []
        if ids:
            either.append(self.column.in_(ids))
        if names:
            named = select(self.target).where(self.target.table.c.name.in_(names))
            either.append(self.column.in_(named))
        return [or_(*either)]


class Assigned:
    """Rows linked through a link table (``link_from`` -> row, ``link_to`` -> the value)."""

    form = "list"

    def __init__(
        self,
        name: str,
        link_from: sa.Column[Any],
        link_to: sa.Column[Any],
        check: Callable[[Any], str],
    ) -> None:
        (foreign_key,) = link_from.foreign_keys
        self.key = foreign_key.column  # the linked table's own key
        self.link_from, self.link_to, self.check = link_from, link_to, check
        self.names = (name,)

    def conditions(self, given: Mapping[str, Any]) -> list[ColumnElement[bool]]:
        (name,) = self.names
        value = given.get(name)
        if value is None:
            return []
        ids = values(name, value, self.check, f"a {name} id")
        return [self.key.in_(select(self.link_from).where(self.link_to.in_(ids)))]


class Labelled:
    """Tasks that carry any of the labels named (through the label link table)."""

    names = ("label",)
    form = "list"

    def __init__(self, key: sa.Column[Any], link: sa.Table, labels: sa.Table) -> None:
        self.key, self.link, self.labels = key, link, labels

    def conditions(self, given: Mapping[str, Any]) -> list[ColumnElement[bool]]:
        value = given.get("label")
        if value is None:
            return []
        names = values("label", value, check_label, "a label name")
        labelled = (
            select(self.link.c.task_id)
            .join(self.labels, self.labels.c.id == self.link.c.label_id)
            .where(self.labels.c.name.in_(names))
        )
        return [self.key.in_(labelled)]


class Search:
    """A case-insensitive substring of any of the text columns."""

    names = ("search",)
    form = "text"

    def __init__(self, *columns: sa.Column[Any]) -> None:
        self.columns = columns

    def conditions(self, given: Mapping[str, Any]) -> list[ColumnElement[bool]]:
        value = given.get("search")
        if value is None:
            return []
        text = check_search(value)
        return [or_(*(FoldedContains(column, text) for column in self.columns))]


class Between:
    """``x_from <= column < x_to`` on a timestamp column ``x_at``, for the bounds given."""

    form = "range"

    def __init__(self, column: sa.Column[Any]) -> None:
        self.column = column
        self.stem = column.name.removesuffix("_at")
        self.names = (f"{self.stem}_from", f"{self.stem}_to")

    def conditions(self, given: Mapping[str, Any]) -> list[ColumnElement[bool]]:
        start, end = (given.get(name) for name in self.names)
        lower = None if start is None else check_moment(self.names[0], start)
        upper = None if end is None else check_moment(self.names[1], end)
        if lower is not None and upper is not None and lower > upper:
            raise InvalidArgumentError(
                f"{self.names[0]} ({lower.isoformat()}) must not be after {self.names[1]} "
                f"({upper.isoformat()})"
            )
        found: list[ColumnElement[bool]] = []
        if lower is not None:
            found.append(self.column >= lower)
        if upper is not None:
            found.append(self.column < upper)
        return found


_task: sa.Table = Task.__table__  # type: ignore[attr-defined]
_link: sa.Table = TaskWorkerLink.__table__  # type: ignore[attr-defined]
_label_link: sa.Table = TaskLabelLink.__table__  # type: ignore[attr-defined]
_label: sa.Table = Label.__table__  # type: ignore[attr-defined]

#: Every task filter, in the order its conditions are written.
FILTERS: tuple[Filter, ...] = (
    OneOf(_task.c.status),
    OneOf(_task.c.priority),
    OneOf(_task.c.resolution),
    Reference(_task.c.project_id, check_project),
    Assigned("worker", _link.c.task_id, _link.c.worker_id, check_worker),
    Labelled(_task.c.id, _label_link, _label),
    Exact(_task.c.kind, check_kind, "a type of work item"),
    Search(_task.c.title, _task.c.description),
    Between(_task.c.created_at),
    Between(_task.c.started_at),
    Between(_task.c.completed_at),
    Exact(_task.c.key, check_key, "a tracker key"),
)
FILTER_NAMES = tuple(name for f in FILTERS for name in f.names)


def conditions(function: str, given: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """The WHERE conditions for the filters given to ``function`` (``None``: no filter on it).

    Raises:
        TypeError: a keyword that is no filter (as Python says for an unknown argument).
        InvalidArgumentError: a filter value is not allowed.
    """
    unknown = [name for name in given if name not in FILTER_NAMES]
    if unknown:
        raise TypeError(f"{function}() got an unexpected keyword argument {unknown[0]!r}")
    return [c for f in FILTERS for c in f.conditions(given)]
