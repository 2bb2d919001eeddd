"""SQLAlchemy's private attributes, in one module, behind named functions.

A ``Select`` says publicly what it selects (``selected_columns``, ``column_descriptions``), its
WHERE (``whereclause``) and its FROM (``get_final_froms``), but not whether it groups, is
DISTINCT, limits its rows, or what it orders by; paging, counting, the grid and the flow
measures must know. Each question is one function here, reading the attribute SQLAlchemy 2.1
keeps it in; ``tests/test_sqlalchemy_internals.py`` holds each to its answer on the pinned
version, so an upgrade that moves one fails there, by name, not somewhere downstream.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy.sql import ColumnElement, FromClause, Select
from sqlalchemy.sql import util as sa_util

__all__ = [
    "as_row_select",
    "bind_processors",
    "cache_key",
    "group_by_clauses",
    "has_having",
    "has_limit",
    "has_loader_options",
    "has_row_limit",
    "is_distinct",
    "is_orm_statement",
    "literal_limit",
    "literal_offset",
    "named_froms",
    "order_by_clauses",
    "plain_table",
    "row_columns",
    "shapes_rows",
    "with_where_wrapped",
    "without_result_columns",
]


def group_by_clauses(stmt: Select[Any]) -> tuple[ColumnElement[Any], ...]:
    """The statement's GROUP BY expressions, in order (empty without GROUP BY)."""
    return tuple(stmt._group_by_clauses)


def has_having(stmt: Select[Any]) -> bool:
    """Whether the statement has a HAVING clause."""
    return bool(stmt._having_criteria)


def is_distinct(stmt: Select[Any]) -> bool:
    """Whether the statement is SELECT DISTINCT (or DISTINCT ON)."""
    return bool(stmt._distinct)


def has_row_limit(stmt: Select[Any]) -> bool:
    """Whether LIMIT, OFFSET or FETCH cuts the statement's rows."""
    return (
        stmt._limit_clause is not None
        or stmt._offset_clause is not None
        or stmt._fetch_clause is not None
    )


def has_limit(stmt: Any) -> bool:
    """Whether any select (a union too) has a LIMIT (a number or an expression)."""
    return getattr(stmt, "_limit_clause", None) is not None


def literal_limit(stmt: Any) -> int | None:
    """The LIMIT of any select (a union too) when it is a plain number (``.limit(10)``);
    None without one, or for a LIMIT given as an expression."""
    return _literal(stmt, "_limit")


def literal_offset(stmt: Any) -> int | None:
    """The OFFSET of any select when it is a plain number; None otherwise."""
    return _literal(stmt, "_offset")


def _literal(stmt: Any, name: str) -> int | None:
    try:
        # SQLAlchemy's own accessors: the value of a literal LIMIT/OFFSET, an error otherwise.
        value = getattr(stmt, name, None)
    except Exception:  # CompileError: an expression, not a number
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def row_columns(row: Any) -> list[ColumnElement[Any]] | None:
    """The column each value of a ``Row`` came from, in order, as its result remembers them
    (each row keeps its result's metadata), or None when the metadata does not name one per
    value (rows built by hand, text columns)."""
    by_index: dict[int, ColumnElement[Any]] = {}
    for key, record in row._parent._keymap.items():
        if isinstance(key, ColumnElement):
            by_index.setdefault(record[0], key)
    if len(by_index) != len(row):
        return None
    return [by_index[i] for i in range(len(row))]


def shapes_rows(stmt: Select[Any]) -> bool:
    """Whether the statement returns other rows than its FROM and WHERE give: it groups, is
    DISTINCT, has HAVING, or is cut by LIMIT, OFFSET or FETCH."""
    return (
        bool(group_by_clauses(stmt))
        or has_having(stmt)
        or is_distinct(stmt)
        or (has_row_limit(stmt))
    )


def order_by_clauses(stmt: Select[Any]) -> tuple[ColumnElement[Any], ...]:
    """The statement's ORDER BY expressions, in order (``desc()``/``nulls_last()`` kept)."""
    return tuple(stmt._order_by_clauses)


def has_loader_options(stmt: Select[Any]) -> bool:
    """Whether ORM loader options (``selectinload(...)``, ...) were given to the statement."""
    return bool(stmt._with_options)


def is_orm_statement(stmt: Select[Any]) -> bool:
    """Whether the statement goes through the ORM's compile step (it selects a model, or a
    model's attribute), which builds some FROM items anew at each compile."""
    return bool(stmt._propagate_attrs)


def named_froms(stmt: Select[Any]) -> tuple[FromClause, ...]:
    """The FROM items a select names, without compiling it: those given to ``select_from``,
    ``join``, ``join_from`` and ``outerjoin`` (each join whole), then the tables of its columns
    (``columns_clause_froms``, public) that none of them holds. ``get_final_froms()`` gives the
    same list for a Core select, but compiles the whole statement to find it (a couple of
    milliseconds for a statement with CTEs, each time); it also names tables that appear only
    in the WHERE clause, which this leaves out. Joins asked for with ``.join()`` or
    ``.outerjoin()`` are only worked out when the statement compiles: for those, this is
    ``get_final_froms()``."""
    if stmt._setup_joins:
        return tuple(stmt.get_final_froms())
    named = list(stmt._from_obj)
    covered = {t for item in named for t in sa_util.find_tables(item, include_aliases=True)}
    for item in stmt.columns_clause_froms:
        if item not in covered and item not in named:
            named.append(item)
    return tuple(named)


def as_row_select(stmt: Select[Any], *, keep_orm: bool = True) -> Select[Any]:
    """``stmt`` as SQLAlchemy's own ``Select``: the same statement, which ``session.exec``
    reads as rows. SQLModel's ``select()`` of one argument is a ``SelectOfScalar`` (read as one
    scalar a row), and stays one through ``with_only_columns`` and every other generative
    method; no public call turns it into a plain ``Select``, so this copies its state into one.

    ``keep_orm=False`` also leaves out the ORM's compile step, for a statement of plain table
    columns: SQLAlchemy then compiles it as Core (paging's FROM analysis, ``get_final_froms``,
    would otherwise run the ORM's compile in full each time). A statement that joins through
    relationships needs that step and must keep it."""
    rows: Select[Any] = Select.__new__(Select)
    rows.__dict__.update(stmt.__dict__)
    if not keep_orm:
        rows.__dict__.pop("_propagate_attrs", None)
    return rows


def cache_key(stmt: Any) -> Any:
    """SQLAlchemy's cache key of a statement (its structure, and its literal values as bound
    parameters), or None for one it does not cache: what its compiled cache is keyed by, which
    taskkit's caches of compiled SQL and of column types use too."""
    return stmt._generate_cache_key()


def plain_table(table: FromClause) -> FromClause:
    """``table`` without the ORM's annotations: the same object for every mention of it, so
    that tables can be compared and kept in sets."""
    return table._deannotate()


def bind_processors(compiled: Any) -> dict[str, Any]:
    """A compiled statement's parameter converters by parameter name (an Enum's member to its
    stored text, ...): what SQLAlchemy's execution applies to each value before the driver
    sees it, for readers that hand the SQL to a driver of their own (ADBC)."""
    return dict(compiled._bind_processors)


def without_result_columns(compiler: Any) -> None:
    """Make ``compiler`` read its result's rows untyped: an EXPLAIN's plan rows would otherwise
    be typed by the explained statement's columns, matched by position. SQLAlchemy has no
    public switch for a construct's result columns; an empty list is what a construct without
    columns compiles to."""
    compiler._result_columns = []


def with_where_wrapped(
    stmt: Select[Any], wrap: Callable[[ColumnElement[bool]], ColumnElement[bool]]
) -> Select[Any]:
    """A copy of ``stmt`` whose WHERE conditions are each ``wrap(condition)`` (the grid wraps
    them in SQLite's ``likely()``), the statement otherwise unchanged. The one place taskkit
    writes a private attribute: SQLAlchemy can add conditions to a statement, not replace
    them, and the statement's other parts (joins, options, order) must stay as they are."""
    made = stmt._generate()
    made._where_criteria = tuple(wrap(condition) for condition in stmt._where_criteria)
    return made
