"""The order ``select_tasks(order_by=...)`` accepts, from the task table's own columns.

Ordering is the same on SQLite and PostgreSQL: nullable columns sort their NULLs last in both
directions (the backends' defaults differ), Enum columns (``status``, ``priority``) sort in
their declared order rather than alphabetically, and ``id`` is always the last sort key, so
the order is total.
"""

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import case
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from taskkit._errors import InvalidArgumentError
from taskkit._models import Task

__all__ = ["ORDER_COLUMNS", "order_clauses"]

_task: sa.Table = Task.__table__  # type: ignore[attr-defined]
# A tracker's key sorts as text ('HIVE-10' before 'HIVE-9'), an order nobody means.
_NOT_SORTABLE = frozenset({"key"})

#: The columns ``select_tasks(order_by=...)`` accepts, optionally prefixed with ``-``: the
#: primary key, then the task table's columns in their declared order.
ORDER_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in sorted(_task.c, key=lambda c: not c.primary_key) if c.name not in _NOT_SORTABLE
)
_NULLABLE = frozenset(name for name in ORDER_COLUMNS if _task.c[name].nullable)
_ORDER_NAME = re.compile(r"-?[a-z_]+")


def _order_key(name: str) -> ColumnElement[Any]:
    """The column ``name``, or for an Enum column its position in the declared order."""
    column: ColumnElement[Any] = getattr(Task, name)
    choices = getattr(_task.c[name].type, "enums", None)
    if choices:
        return case({choice: i for i, choice in enumerate(choices)}, value=column, else_=-1)
    return column


def order_clauses(order_by: Any) -> list[ColumnElement[Any]]:
    """The ORDER BY clauses for ``order_by`` (one name or a list), ``id`` appended if absent.

    Raises:
        InvalidArgumentError: a name that is not in :data:`ORDER_COLUMNS`, or named twice.
    """
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
        if column in _NULLABLE:
            clause = clause.nulls_last()
        clauses.append(clause)
    if "id" not in seen:
        # The unique tiebreak, in the direction of the last key so that an index on
        # (key, id) can be read in one direction.
        clauses.append(col(Task.id).desc() if descending else col(Task.id).asc())
    return clauses
