"""What the grid shows, without the widget: the statement of a view, its code, its cells.

A view is a statement plus the user's choices (a sort column and, for task views, the filters
of ``select_tasks``). Everything the grid displays is derived here, so it can be tested and
rendered as static HTML without a browser.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Table, func
from sqlalchemy.sql import ColumnElement, FromClause, Select
from sqlalchemy.sql.selectable import Join

from taskkit._errors import InvalidArgumentError
from taskkit._models import Priority, Status, Task
from taskkit._query import ORDER_COLUMNS, select_tasks

#: The filters a task view offers: select_tasks' own arguments.
FILTERS = (
    "status",
    "priority",
    "project",
    "worker",
    "search",
    "created_from",
    "created_to",
    "completed_from",
    "completed_to",
)
_LISTS = ("status", "priority", "project", "worker")
#: The task view's columns, in the order shown (the model's order puts id in the middle).
TASK_COLUMNS = (
    "id",
    "title",
    "status",
    "priority",
    "project_id",
    "created_at",
    "completed_at",
    "updated_at",
    "description",
)
DEFAULT_ORDER = "-created_at"
_FULL_TEXT = 2_000  # the longest value sent for hovering; the cell itself is clipped by CSS


@dataclass(frozen=True)
class View:
    """One state of the grid: the user's statement (None: tasks), a sort, the filters."""

    base: Select[Any] | None = None
    order: str | None = None  # "title" or "-title"; None keeps the statement's own order
    filters: dict[str, Any] = field(default_factory=dict)

    @property
    def is_tasks(self) -> bool:
        return self.base is None

    @property
    def filterable(self) -> bool:
        """Whether the filters apply: the task view, or a statement that reads the task table
        (``select(Task)``, a few of its columns, a join with it), which the filters' conditions
        are written against."""
        made = self.__dict__.get("_filterable")
        if made is None:
            made = self.base is None or _reads_tasks(self.base)
            object.__setattr__(self, "_filterable", made)
        return bool(made)

    def statement(self) -> Select[Any]:
        """The select this view pages through (the same object each call: paging caches its
        plan per statement)."""
        made = self.__dict__.get("_statement")
        if made is None:
            made = self._make_statement()
            object.__setattr__(self, "_statement", made)  # a cache on a frozen dataclass
        return made

    def page_statement(self) -> Select[Any]:
        """What the grid pages: :meth:`statement` selecting exactly the columns shown, in
        their order, so that a page is plain rows rather than model objects (building a model
        per row, then reading its attributes, cost more than the query). The same SQL runs;
        the same object each call, as for :meth:`statement`."""
        made = self.__dict__.get("_page_statement")
        if made is None:
            made = self._make_page_statement()
            object.__setattr__(self, "_page_statement", made)
        return made

    def _make_page_statement(self) -> Select[Any]:
        stmt = self.statement()
        described = stmt.column_descriptions
        entity = described[0].get("expr") if len(described) == 1 else None
        if not isinstance(entity, type) or stmt._with_options:
            return stmt  # rows already, or loader options that need the models
        table = entity.__table__  # type: ignore[attr-defined]
        columns = stmt.with_only_columns(*(table.c[name] for name in self.columns()))
        # with_only_columns keeps SQLModel's SelectOfScalar class, whose results paging reads
        # as one scalar a row: the same statement as SQLAlchemy's own Select gives rows.
        rows: Select[Any] = Select.__new__(Select)
        rows.__dict__.update(columns.__dict__)
        if self.base is None:
            # select_tasks' shape (one table, WHERE, ORDER BY) needs none of the ORM's compile
            # step, which paging's FROM analysis (get_final_froms) would otherwise run in full
            # for every new filter. A user's statement may join through relationships, which
            # only the ORM's compile step resolves: it keeps it.
            rows.__dict__.pop("_propagate_attrs", None)
        return rows

    def walk_statement(self) -> Select[Any] | None:
        """:meth:`page_statement` with each condition in SQLite's ``likely()``, for a task view
        with filters (else None); the same rows in the same order.

        Without statistics (``ANALYZE``) SQLite's planner takes a condition on an indexed
        column, such as ``status IN (...)``, to match a handful of rows: it reads every
        matching row through that index and sorts them, even where the sort column has an
        index of its own. On 1M tasks sorted by title that took 60 ms a page for the 5% that
        are pending and 340 ms for the 94% that are completed; walking the title index and
        stopping after a page took 1 ms. ``likely()`` tells the planner a condition holds for
        most rows, so it walks the sort column's index instead (a view whose index serves
        both, such as status by creation date, keeps it). The grid runs this statement only
        where the plain one sorts, and only while a page turns up within a budget: for a
        filter that matches few rows the sort is the cheap plan (see ``explore.widget``).
        """
        if not self.is_tasks or not self.filters:
            return None
        made = self.__dict__.get("_walk_statement")
        if made is None:
            made = self.page_statement()._generate()
            made._where_criteria = tuple(
                func.likely(condition) for condition in made._where_criteria
            )
            object.__setattr__(self, "_walk_statement", made)
        return made

    def _make_statement(self) -> Select[Any]:
        if self.base is None:
            return select_tasks(**self.filters, order_by=self.order or DEFAULT_ORDER)
        stmt = self.base
        if self.filters:
            # select_tasks' own conditions (its WHERE), added to the user's statement.
            stmt = stmt.where(select_tasks(**self.filters).whereclause)  # type: ignore[arg-type]
        if self.order is None:
            return stmt
        column = _selected(self.base, self.order.lstrip("-"))
        key = column.desc() if self.order.startswith("-") else column.asc()
        return stmt.order_by(None).order_by(key)

    def code(self) -> str:
        """Python that builds :meth:`statement` (``stmt`` stands for the user's own select)."""
        args = [f"{name}={self.filters[name]!r}" for name in FILTERS if name in self.filters]
        if self.base is None:
            if self.order and self.order != DEFAULT_ORDER:
                args.append(f"order_by={self.order!r}")
            return f"taskkit.select_tasks({', '.join(args)})"
        code = "stmt"
        if args:
            code += f".where(taskkit.select_tasks({', '.join(args)}).whereclause)"
        if self.order is None:
            return code
        name = self.order.lstrip("-")
        direction = "desc" if self.order.startswith("-") else "asc"
        return f"{code}.order_by(None).order_by(stmt.selected_columns[{name!r}].{direction}())"

    def key(self) -> str:
        """What tells two views apart: the same key, the same statement."""
        return json.dumps([self.order, self.filters], sort_keys=True, default=repr)

    def columns(self) -> list[str]:
        if self.base is None:
            return list(TASK_COLUMNS)
        described = self.base.column_descriptions
        if len(described) == 1 and isinstance(described[0].get("expr"), type):
            entity = described[0]["expr"]
            if entity is Task:
                return list(TASK_COLUMNS)
            return [c.key for c in entity.__table__.columns]
        return [c.key for c in self.base.selected_columns if c.key]

    def sortable(self) -> list[str]:
        if self.base is None:
            return list(ORDER_COLUMNS)
        names = {c.key for c in self.base.selected_columns if c.key}
        return [c for c in self.columns() if c in names]

    def sorted_by(self, column: str) -> View:
        """This view sorted by ``column``: ascending, or descending when it already was."""
        if column not in self.sortable():
            raise InvalidArgumentError(
                f"cannot sort by {column!r}; sortable columns: {', '.join(self.sortable())}"
            )
        current = self.order or (DEFAULT_ORDER if self.base is None else "")
        order = f"-{column}" if current == column else column
        return replace(self, order=order)

    def filtered(self, filters: dict[str, Any]) -> View:
        """This view with ``filters`` (select_tasks arguments; empty values are dropped)."""
        if not self.filterable:
            raise InvalidArgumentError(
                "filters apply to statements that read the task table (select(Task), some of "
                f"its columns, or a join with it); this one reads {_from_names(self.base)}: "
                "add .where(...) to it instead"
            )
        unknown = sorted(set(filters) - set(FILTERS))
        if unknown:
            raise InvalidArgumentError(
                f"unknown filter {unknown[0]!r}; filters are {', '.join(FILTERS)}"
            )
        kept: dict[str, Any] = {}
        for name in FILTERS:
            value = filters.get(name)
            if isinstance(value, str):
                value = value.strip()
            if name in _LISTS and isinstance(value, list | tuple):
                value = [v.strip() if isinstance(v, str) else v for v in value]
                value = [int(v) if name == "project" and str(v).isdigit() else v for v in value]
                value = [v for v in value if v != ""]
            if value in (None, "", []):
                continue
            kept[name] = value
        view = replace(self, filters=kept)
        view.statement()  # select_tasks checks every value and names what is wrong
        return view


def _tables(stmt: Select[Any]) -> list[FromClause]:
    """The tables and other items of ``stmt``'s FROM, joins taken apart."""
    found: list[FromClause] = []

    def walk(item: FromClause) -> None:
        if isinstance(item, Join):
            walk(item.left)
            walk(item.right)
        else:
            found.append(item)

    for item in stmt.get_final_froms():
        walk(item)
    return found


def _reads_tasks(stmt: Select[Any]) -> bool:
    # The task table itself: filters on an alias of it would name a second copy of the table.
    # (The ORM hands back an annotated copy of the table, hence no identity test.)
    table = Task.__table__  # type: ignore[attr-defined]
    return any(
        isinstance(item, Table) and item.key == table.key and item.metadata is table.metadata
        for item in _tables(stmt)
    )


def _from_names(stmt: Select[Any] | None) -> str:
    if stmt is None:
        return "task"
    names = [str(getattr(item, "name", None) or item) for item in _tables(stmt)]
    return ", ".join(names) or "no table"


def _selected(stmt: Select[Any], name: str) -> ColumnElement[Any]:
    for column in stmt.selected_columns:
        if column.key == name:
            return column
    raise InvalidArgumentError(f"the statement selects no column named {name!r}")


# ---------------------------------------------------------------------------------------------
# Cells.


def cell(value: Any) -> str | None:
    """A value as the grid shows it: None stays None (shown as NULL), timestamps in UTC."""
    kind = type(value)
    if kind is str:  # the common cases first: a page has hundreds of cells
        return value if len(value) <= _FULL_TEXT else value[: _FULL_TEXT - 1] + "\u2026"
    if kind is int:
        return str(value)
    if value is None:
        return None
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        if value.tzinfo is not UTC and value.utcoffset() is not None:
            value = value.astimezone(UTC)
        return value.isoformat(" ", "seconds")[:19]  # isoformat: a fifth of strftime's time
    text = str(value)
    return text if len(text) <= _FULL_TEXT else text[: _FULL_TEXT - 1] + "\u2026"


def row_cells(item: Any, columns: list[str]) -> list[str | None]:
    """One row of cells from a model (``Task``) or a result row."""
    if hasattr(item, "_mapping"):
        mapping = item._mapping
        return [cell(mapping.get(c)) for c in columns]
    return [cell(getattr(item, c, None)) for c in columns]


def page_cells(items: list[Any], columns: list[str]) -> list[list[str | None]]:
    """The cells of a page's items; rows of exactly the columns shown are read in order."""
    if items and list(getattr(items[0], "_fields", ())) == columns:
        return [[cell(v) for v in row] for row in items]
    return [row_cells(item, columns) for item in items]


def header(name: str, stmt: Select[Any] | None) -> str:
    """A column's header: timestamps say their zone."""
    if stmt is not None:
        for column in stmt.selected_columns:
            if column.key == name and _is_timestamp(column):
                return f"{name} (UTC)"
    if name in ("created_at", "updated_at", "completed_at"):
        return f"{name} (UTC)"
    return name


def _is_timestamp(column: Any) -> bool:
    try:
        return column.type.python_type is datetime
    except NotImplementedError:
        return False


def static_html(
    headers: list[str], rows: list[list[str | None]], caption: str, *, copy_id: str = ""
) -> str:
    """The page as a plain HTML table, for notebooks shown without a kernel; ``copy_id`` names
    it for the grid, which hides it where it runs."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            "<td><i>NULL</i></td>" if v is None else f"<td>{html.escape(_clip(v))}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return (
        f"<div class='taskkit-explore-static' data-copy='{html.escape(copy_id)}'>"
        f"<b>{html.escape(caption)}</b>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        "<small>A static copy of the first page: run the notebook for the interactive grid."
        "</small></div>"
    )


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


#: The choices the filter bar offers, from the models' enums.
CHOICES = {
    "status": [s.value for s in Status],
    "priority": [p.value for p in Priority],
}
