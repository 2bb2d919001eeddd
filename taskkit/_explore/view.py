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

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.sql import ColumnElement, FromClause, Select
from sqlalchemy.sql.elements import UnaryExpression, _label_reference
from sqlalchemy.sql.operators import desc_op
from sqlalchemy.sql.selectable import Join, Subquery
from sqlmodel.sql.expression import SelectOfScalar

from taskkit._errors import InvalidArgumentError
from taskkit._models import Task
from taskkit._query import ORDER_COLUMNS, select_tasks
from taskkit._query.filters import FILTERS as TASK_FILTERS
from taskkit._query.task_ids import reads_task_table
from taskkit._sqlalchemy_internals import (
    as_row_select,
    group_by_clauses,
    has_having,
    has_loader_options,
    has_row_limit,
    is_distinct,
    order_by_clauses,
    with_where_wrapped,
)

#: The filters a task view offers: select_tasks' own arguments, from the filters' description.
FILTERS = tuple(name for f in TASK_FILTERS for name in f.names)
_LISTS = tuple(name for f in TASK_FILTERS if f.form in ("choice", "list") for name in f.names)
#: How the filter bar asks for each filter (drawn by the browser in this order).
FILTER_FORM = [
    {"names": list(f.names), "form": f.form, "choices": list(getattr(f, "choices", ()))}
    for f in TASK_FILTERS
]
#: The task view's columns, in the order shown (the model's order puts id in the middle).
TASK_COLUMNS = (
    "id",
    "title",
    "status",
    "resolution",
    "priority",
    "kind",
    "project_id",
    "created_at",
    "started_at",
    "completed_at",
    "updated_at",
    "key",
    "description",
)
DEFAULT_ORDER = "-created_at"
_FULL_TEXT = 2_000  # the longest value sent for hovering; the cell itself is clipped by CSS


@dataclass(frozen=True)
class Rows:
    """What the grid pages for a user's statement (see :func:`rows_statement`)."""

    stmt: Select[Any]
    code: str = "stmt"  # the Python that builds ``stmt`` from the user's statement
    remark: str = ""  # what the grid did to the user's statement, and why
    # Columns unique together, which end any order the grid sorts by (with their code), where
    # the rows come from a GROUP BY or DISTINCT and have no primary key to break ties.
    unique: tuple[ColumnElement[Any], ...] = ()
    unique_code: tuple[str, ...] = ()
    column_code: str = "{stmt}.selected_columns[{ref}]"  # a selected column, in code


def rows_statement(stmt: Select[Any]) -> Rows:
    """What the grid pages for a user's ``stmt``.

    * SQLModel's ``select(x)`` with one argument is a scalar select: over a subquery
      (``select(sq)``) ``session.exec`` yields only its first column. The grid reads whole
      rows, as ``sqlalchemy.select(sq)`` does.
    * GROUP BY, DISTINCT and HAVING make rows that keyset pagination cannot seek through: the
      grid pages the statement as a subquery, in its own order, then by the selected GROUP BY
      columns (or every column, for DISTINCT), which are unique together.
    * A select of such a subquery (``select(sq)``) has no primary key to break ties: its
      order ends with the subquery's GROUP BY columns, where it selects them.
    """
    remark = ""
    described = stmt.column_descriptions
    model = len(described) == 1 and isinstance(described[0].get("expr"), type)
    if isinstance(stmt, SelectOfScalar) and not model and len(stmt.selected_columns) > 1:
        stmt = as_row_select(stmt)  # the same SQL; grid.statement gives rows
        remark = (
            "SQLModel's one-argument select(sq) is a scalar select: session.exec(stmt) gives "
            "only the first column of each row. The grid reads whole rows, as "
            "sqlalchemy.select(sq) does, and so does session.exec(grid.statement)."
        )
    if has_row_limit(stmt):
        return Rows(stmt, remark=remark)  # refused by paging, with its own message
    if not (group_by_clauses(stmt) or is_distinct(stmt) or has_having(stmt)):
        return _over_grouped(stmt, remark)
    inner = stmt.order_by(None).subquery("grouped")
    selected = list(stmt.selected_columns)
    order: list[ColumnElement[Any]] = []
    order_code: list[str] = []
    used: set[int] = set()

    def key(i: int, descending: bool) -> None:
        if i not in used:
            used.add(i)
            order.append(inner.c[i].desc() if descending else inner.c[i])
            order_code.append(f"sq.c[{i}]" + (".desc()" if descending else ""))

    for clause in order_by_clauses(stmt):  # the statement's own order, where it is selected
        found = _position(clause, selected)
        if found is not None:
            key(*found)
    uniques = _unique_positions(stmt)
    for i in uniques:
        key(i, False)
    what = "DISTINCT" if is_distinct(stmt) and not group_by_clauses(stmt) else "GROUP BY"
    remark = (remark + " " if remark else "") + (
        f"The statement has {what}, which pages cannot seek through: the grid pages it as a "
        "subquery, in its own order, then by its "
        + ("columns" if what == "DISTINCT" else "groups")
        + " (grid.code shows how)."
    )
    code = "sqlalchemy.select(sq := stmt.order_by(None).subquery('grouped'))"
    if order_code:
        code += f".order_by({', '.join(order_code)})"
    return Rows(
        sa.select(inner).order_by(*order),
        code,
        remark,
        unique=tuple(inner.c[i] for i in uniques),
        unique_code=tuple(f"sq.c[{i}]" for i in uniques),
        column_code="sq.c[{index}]",
    )


def _unique_positions(stmt: Select[Any]) -> list[int]:
    """Positions of selected columns that are unique together in a grouped statement: its
    GROUP BY items where all are selected (every column, for DISTINCT); else none."""
    selected = list(stmt.selected_columns)
    if is_distinct(stmt):
        return list(range(len(selected)))
    found = [_position(g, selected) for g in group_by_clauses(stmt)]
    if not found or any(f is None for f in found):
        return []
    return list(dict.fromkeys(f[0] for f in found if f is not None))


def _over_grouped(stmt: Select[Any], remark: str) -> Rows:
    """``stmt`` itself; where it selects from one grouped subquery, its groups break ties."""
    froms = stmt.get_final_froms()
    if len(froms) != 1 or not isinstance(froms[0], Subquery):
        return Rows(stmt, remark=remark)
    element = froms[0].element
    if not isinstance(element, Select) or not (group_by_clauses(element) or is_distinct(element)):
        return Rows(stmt, remark=remark)
    inner = [froms[0].c[i] for i in _unique_positions(element)]
    selected = list(stmt.selected_columns)
    positions = [next((j for j, c in enumerate(selected) if c is column), None) for column in inner]
    if not inner or any(p is None for p in positions):
        return Rows(stmt, remark=remark)
    unique_code = tuple(
        f"stmt.selected_columns[{repr(c.key) if _named(c) else p}]"
        for c, p in zip(inner, positions, strict=True)
    )
    ordered = {
        id(k.element if isinstance(k, UnaryExpression) else k) for k in order_by_clauses(stmt)
    }
    extra = [c for c in inner if id(c) not in ordered]
    extra_code = [code for c, code in zip(inner, unique_code, strict=True) if id(c) not in ordered]
    code = f"stmt.order_by({', '.join(extra_code)})" if extra else "stmt"
    return Rows(
        stmt.order_by(*extra) if extra else stmt,
        code,
        remark,
        unique=tuple(inner),
        unique_code=unique_code,
    )


def _position(clause: Any, selected: list[Any]) -> tuple[int, bool] | None:
    """Which selected column an ORDER BY or GROUP BY item is, and whether it is descending."""
    descending = False
    element = clause
    while True:
        if isinstance(element, _label_reference):
            element = element.element
        elif isinstance(element, UnaryExpression) and element.modifier is not None:
            descending = descending or element.modifier is desc_op
            element = element.element
        else:
            break
    for i, column in enumerate(selected):
        inner = getattr(column, "element", None)
        if (
            column is element
            or column.compare(element)
            or (inner is not None and inner.compare(element))
        ):
            return i, descending
    return None


@dataclass(frozen=True)
class View:
    """One state of the grid: the user's statement (None: tasks), a sort, the filters."""

    base: Select[Any] | None = None
    order: str | None = None  # "title" or "-title"; None keeps the statement's own order
    filters: dict[str, Any] = field(default_factory=dict)
    rows: Rows | None = None  # how the grid pages the user's statement
    names: tuple[str, ...] = ()  # the headers of the user's columns, where base is wrapped

    @classmethod
    def of(cls, stmt: Select[Any] | None) -> View:
        """The first view of a user's statement (None: the task view)."""
        if stmt is None:
            return cls()
        rows = rows_statement(stmt)
        names = (
            () if rows.column_code.startswith("{stmt}") else tuple(_names(stmt.selected_columns))
        )
        return cls(base=rows.stmt, rows=rows, names=names)

    @property
    def remark(self) -> str:
        return self.rows.remark if self.rows else ""

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
            made = self.base is None or reads_task_table(self.base)
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
        if not isinstance(entity, type) or has_loader_options(stmt):
            if isinstance(stmt, SelectOfScalar) and not isinstance(entity, type):
                return as_row_select(stmt)  # select(Task.title): rows of one column, not scalars
            return stmt  # rows already, or loader options that need the models
        table = entity.__table__  # type: ignore[attr-defined]
        columns = stmt.with_only_columns(*(table.c[name] for name in self.columns()))
        # select_tasks' shape (one table, WHERE, ORDER BY) needs none of the ORM's compile
        # step, which paging's FROM analysis (get_final_froms) would otherwise run in full for
        # every new filter. A user's statement may join through relationships, which only the
        # ORM's compile step resolves: it keeps it.
        return as_row_select(columns, keep_orm=self.base is not None)

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
            made = with_where_wrapped(self.page_statement(), func.likely)
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
        column = self._column(self.order.lstrip("-"))
        key = column.desc() if self.order.startswith("-") else column.asc()
        ties = [c for c in (self.rows.unique if self.rows else ()) if c is not column]
        return stmt.order_by(None).order_by(key, *ties)

    def code(self) -> str:
        """Python that builds :meth:`statement` (``stmt`` stands for the user's own select)."""
        args = [f"{name}={self.filters[name]!r}" for name in FILTERS if name in self.filters]
        if self.base is None:
            if self.order and self.order != DEFAULT_ORDER:
                args.append(f"order_by={self.order!r}")
            return f"taskkit.select_tasks({', '.join(args)})"
        rows = self.rows or Rows(self.base)
        code = rows.code
        if args:
            code += f".where(taskkit.select_tasks({', '.join(args)}).whereclause)"
        if self.order is None:
            return code
        name = self.order.lstrip("-")
        direction = "desc" if self.order.startswith("-") else "asc"
        index = self.columns().index(name)
        ref = repr(name) if _named(self.base.selected_columns[index]) else str(index)
        column = rows.column_code.format(stmt="stmt", ref=ref, index=index)
        keys = [f"{column}.{direction}()"]
        keys += [c for c in rows.unique_code if c != column]
        return f"{code}.order_by(None).order_by({', '.join(keys)})"

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
        made = self.__dict__.get("_columns") or self.names
        if not made:
            made = _names(self.base.selected_columns)
            object.__setattr__(self, "_columns", made)
        return list(made)

    def sortable(self) -> list[str]:
        if self.base is None:
            return list(ORDER_COLUMNS)
        if self.base.column_descriptions and isinstance(
            self.base.column_descriptions[0].get("expr"), type
        ):
            names = {c.key for c in self.base.selected_columns if c.key}
            return [c for c in self.columns() if c in names]
        return self.columns()  # by position: every selected column

    def _column(self, name: str) -> ColumnElement[Any]:
        assert self.base is not None
        columns = self.columns()
        if name not in columns:
            raise InvalidArgumentError(f"the statement selects no column named {name!r}")
        if isinstance(self.base.column_descriptions[0].get("expr"), type):
            return self.base.selected_columns[name]
        return self.base.selected_columns[columns.index(name)]

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


def _from_names(stmt: Select[Any] | None) -> str:
    if stmt is None:
        return "task"
    names = [str(getattr(item, "name", None) or item) for item in _tables(stmt)]
    return ", ".join(names) or "no table"


def _named(column: Any) -> bool:
    """Whether a selected column has a name of its own (an unlabelled ``func.count()`` has an
    anonymous one, which changes from statement to statement)."""
    key = column.key
    return isinstance(key, str) and bool(key) and "%(" not in key


def _names(columns: Any) -> list[str]:
    """Headers for selected columns: their names, else the function's ("count"), else
    "column N"; each once."""
    names: list[str] = []
    for i, column in enumerate(columns):
        name = column.key if _named(column) else None
        if name is None:
            candidate = getattr(column, "name", None)
            if isinstance(candidate, str) and "%(" not in candidate and candidate:
                name = candidate
        name = name or f"column {i + 1}"
        base, n = name, 2
        while name in names:
            name, n = f"{base} ({n})", n + 1
        names.append(name)
    return names


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
    if items and hasattr(items[0], "_fields") and len(items[0]) == len(columns):
        return [[cell(v) for v in row] for row in items]
    return [row_cells(item, columns) for item in items]


def header(name: str, stmt: Select[Any] | None) -> str:
    """A column's header: timestamps say their zone."""
    if stmt is not None:
        for column in stmt.selected_columns:
            if column.key == name and _is_timestamp(column):
                return f"{name} (UTC)"
    if name in ("created_at", "updated_at", "completed_at", "started_at"):
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
