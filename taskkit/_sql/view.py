"""The teaching view: the SQL a statement becomes on a database, and the plan it runs with.

``show_sql(stmt, engine)`` shows what ``print(stmt)`` hides: the dialect's own SQL (SQLite's
``GLOB`` where the generic text says ``LIKE``), with the values of expanded ``IN`` lists and
other parameters written in, formatted on lines. ``await explain(engine, stmt)`` asks the
database how it would run the statement and says it in three facts: which indexes it uses,
whether it reads a whole table, whether it sorts rows in a temporary structure.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, cast
from uuid import UUID

from sqlalchemy import create_mock_engine
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ClauseElement, Delete, Executable, Insert, Select, Update
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import Join, SelectBase, TextualSelect
from sqlmodel.ext.asyncio.session import AsyncSession as SQLModelSession

from taskkit._database.engine import read_connection, reading
from taskkit._errors import InvalidArgumentError
from taskkit._optional import require
from taskkit._sqlalchemy_internals import (
    has_having,
    has_limit,
    literal_limit,
    literal_offset,
    without_result_columns,
)

__all__ = ["SQL", "QueryPlan", "explain", "show_sql"]

_NAMED_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


class SQL(str):
    """SQL text for reading: its repr is the text itself, so a notebook shows it on lines."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f"<pre><code class='language-sql'>{html.escape(str(self))}</code></pre>"


def _dialect(target: Any) -> Dialect:
    """The dialect of an engine, connection, session or dialect name ("sqlite", ...)."""
    if isinstance(target, Dialect):
        return target
    if isinstance(target, AsyncEngine | AsyncConnection | Engine):
        return target.dialect
    if isinstance(target, AsyncSession):
        return target.get_bind().dialect
    if isinstance(target, str) and target.strip():
        url = target if "://" in target else f"{target}://"
        try:
            return create_mock_engine(url, executor=None).dialect
        except Exception as exc:
            raise InvalidArgumentError(
                f"dialect_or_engine must be an engine, a session, a dialect or a dialect name "
                f"such as 'sqlite' or 'postgresql+asyncpg'; got {target!r} ({exc})"
            ) from None
    raise InvalidArgumentError(
        "dialect_or_engine must be an engine, a session, a dialect or a dialect name such as "
        f"'sqlite' or 'postgresql+asyncpg'; got {type(target).__name__}"
    )


def _literal(value: Any) -> str:
    """A value written as SQL for a reader (not for running: types are not the driver's)."""
    if value is None:
        return "NULL"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat(sep=' ')}'"
    if isinstance(value, date | time):
        return f"'{value.isoformat()}'"
    if isinstance(value, bytes):
        return "X'" + value.hex() + "'"
    if isinstance(value, timedelta | UUID):
        value = str(value)
    text = str(value).replace("\x00", "\\0")
    return "'" + text.replace("'", "''") + "'"


def show_sql(stmt: ClauseElement, dialect_or_engine: Any) -> SQL:
    """The SQL ``stmt`` becomes on a database, with its values written in, formatted to read.

    What ``print(stmt)`` cannot show: the dialect's own functions and operators, ``IN`` lists
    expanded (where the generic text says ``__[POSTCOMPILE_...]``), and the bound values.
    Values are written as quoted literals for reading only: the database receives them as
    parameters, so use the statement itself to run the query, never this text.

    Args:
        stmt: a statement, e.g. ``select_tasks(search="login")``.
        dialect_or_engine: an engine, connection or session (its dialect), a SQLAlchemy
            ``Dialect``, or a dialect name such as ``"sqlite"`` or ``"postgresql"``.

    Returns:
        An ``SQL`` string: its repr (what a notebook shows) is the formatted text.

    Raises:
        InvalidArgumentError: ``stmt`` is not a statement or the dialect is unknown.
    """
    if not isinstance(stmt, ClauseElement):
        raise InvalidArgumentError(
            f"stmt must be a SQLAlchemy statement such as select_tasks(); got {type(stmt).__name__}"
        )
    dialect = _dialect(dialect_or_engine)
    # Compile with named parameters (whatever the driver's own style) so that each value can be
    # written back at its name; the SQL around them is the dialect's.
    dialect_class: Any = type(dialect)
    named = dialect_class(paramstyle="named")
    compiled = stmt.compile(dialect=named, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    text = _NAMED_PARAMETER.sub(
        lambda m: _literal(params[m.group(1)]) if m.group(1) in params else m.group(0),
        str(compiled),
    )
    sqlparse = require("sqlparse", extra="explore", feature="show_sql's layout")
    formatted = sqlparse.format(text, reindent=True, keyword_case="upper").strip()
    return SQL(f"-- {dialect.name} (values written in for reading)\n{formatted}")


# ---------------------------------------------------------------------------------------------
# explain


class _Explain(Executable, ClauseElement):
    """``EXPLAIN`` (PostgreSQL) or ``EXPLAIN QUERY PLAN`` (SQLite) before a statement.

    A construct rather than text, so the statement's parameters reach the driver as they do
    when it runs (the SQLAlchemy documentation's recipe for custom SQL constructs).
    """

    inherit_cache = False

    def __init__(self, stmt: ClauseElement) -> None:
        self.stmt = stmt


@compiles(_Explain)
def _compile_explain(element: _Explain, compiler: SQLCompiler, **kw: Any) -> str:
    prefix = "EXPLAIN QUERY PLAN " if compiler.dialect.name == "sqlite" else "EXPLAIN "
    sql = prefix + compiler.process(element.stmt, **kw)
    _untyped_rows(compiler)
    return sql


def _untyped_rows(compiler: SQLCompiler) -> None:
    """Read the plan's rows as the database gives them, not as the statement's columns.

    Compiling the statement inside ``EXPLAIN`` registers its columns as the result's: where the
    plan has as many columns as the statement (SQLite's four, PostgreSQL's one), SQLAlchemy
    matches them by position and runs each plan value through the statement's column type (an
    Enum third column: ``LookupError: '0' is not among the defined enum values``). SQLAlchemy
    has no public switch for a construct's result columns; an empty list is what a construct
    without columns compiles to (the one private name here; ``tests/test_sql_view.py`` holds
    it on the pinned version).
    """
    without_result_columns(compiler)


@dataclass(frozen=True)
class QueryPlan:
    """How a database would run a statement, as its planner says, and a short reading of it.

    Attributes:
        dialect: ``"sqlite"`` or ``"postgresql"``.
        lines: the plan as the database prints it (SQLite's ``EXPLAIN QUERY PLAN`` details,
            PostgreSQL's ``EXPLAIN`` lines).
        indexes: the indexes the plan reads, in plan order (``"PRIMARY KEY"`` for a lookup
            by SQLite's rowid).
        full_scan: a step walks a whole table, in the table's order or an index's (SQLite
            ``SCAN t``, with or without ``USING INDEX``; PostgreSQL ``Seq Scan``, or an index
            scan without an ``Index Cond``), unless a LIMIT stops it first (``stops_early``).
        temp_sort: the plan sorts rows itself (SQLite ``USE TEMP B-TREE FOR ORDER BY``,
            PostgreSQL ``Sort``): no index gives the rows in the order asked. Sorting only the
            ties of an index's order (SQLite ``RIGHT PART OF ORDER BY``, PostgreSQL
            ``Incremental Sort``) does not count: the index gives the order.
        stops_early: the statement's LIMIT ends every whole-table walk once it has its rows:
            nothing between the walk and the LIMIT needs every row first (no sort, no
            grouping or hashing of the whole input).
        limit, offset: the statement's LIMIT and OFFSET, where it has them.
        filtered: the statement has a WHERE, HAVING or join, which can drop rows a walk reads
            (a walk under a LIMIT then reads until enough rows match).
    """

    dialect: str
    lines: tuple[str, ...]
    indexes: tuple[str, ...]
    full_scan: bool
    temp_sort: bool
    stops_early: bool = False
    limit: int | None = None
    offset: int | None = None
    filtered: bool = False

    @property
    def reads_every_row(self) -> bool:
        """A whole table is read: a walk that no LIMIT stops."""
        return self.full_scan and not self.stops_early

    @property
    def summary(self) -> str:
        """One line: the indexes used, how much of a table is read, a sort."""
        parts = [f"uses index {', '.join(self.indexes)}" if self.indexes else "uses no index"]
        if not self.full_scan:
            parts.append("reads no whole table")
        elif not self.stops_early:
            parts.append("reads every row of a table")
        elif self.limit is None:
            parts.append("reads rows in order and stops at the LIMIT")
        else:
            skip = self.offset or 0
            if self.filtered:
                skipped = f", skipping the first {skip:,} of them" if skip else ""
                parts.append(
                    f"reads rows in order until {self.limit + skip:,} match{skipped} "
                    f"(LIMIT; the whole table when fewer match)"
                )
            else:
                skipped = f", skipping {skip:,} (OFFSET)" if skip else ""
                parts.append(
                    f"reads {self.limit + skip:,} rows in order and stops (LIMIT{skipped})"
                )
        parts.append(
            "sorts the rows itself (no index gives this order)"
            if self.temp_sort
            else "needs no sort"
        )
        return "; ".join(parts)

    def __repr__(self) -> str:
        return f"{self.summary}\n" + "\n".join(f"  {line}" for line in self.lines)

    def _repr_html_(self) -> str:
        plan = html.escape("\n".join(self.lines))
        return f"<div><b>{html.escape(self.summary)}</b><pre>{plan}</pre></div>"


_SQLITE_INDEX = re.compile(r"USING (?:COVERING )?INDEX (\S+)|USING (INTEGER PRIMARY KEY)")
# SCAN walks a table, in rowid order or an index's (USING INDEX gives the order, not a seek);
# SEARCH seeks. Not a scan of a constant row or of a subquery's own result (its FROM is read
# by steps of its own).
_SQLITE_FULL_SCAN = re.compile(r"^SCAN (?!CONSTANT)(?!\()(?!\S+ VIRTUAL TABLE)")
_SQLITE_SUBQUERY_SCAN = re.compile(r"^SCAN (\S+)")
_PG_INDEX = re.compile(r"Index (?:Only )?Scan(?: Backward)? (?:using|on) (\S+)")
_PG_NODE = re.compile(
    r"^(?P<indent>\s*(?:->\s+)?)(?P<name>[A-Z][A-Za-z ]*?)(?:\s+on\s|\s+using\s|  \(|$)"
)
# Nodes that read all of their input before they give a first row.
_PG_BLOCKING = (
    "Sort",
    "Hash",
    "Aggregate",
    "HashAggregate",
    "Materialize",
    "WindowAgg",
    "SetOp",
    "HashSetOp",
    "Unique",
    "Group",
    "GroupAggregate",
    "MixedAggregate",
)


def _read_sqlite(rows: list[Any], stmt: Any) -> QueryPlan:
    # Rows are (id, parent, notused, detail); indent details under their parents to read.
    depth: dict[int, int] = {0: -1}
    lines, indexes = [], []
    full_scan = temp_sort = grouped = False
    subqueries: set[str] = set()
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
        for found in _SQLITE_INDEX.finditer(detail):
            name = found.group(1) or "PRIMARY KEY"
            if name not in indexes:
                indexes.append(name)
        if detail.startswith(("CO-ROUTINE ", "MATERIALIZE ")):
            subqueries.add(detail.split(" ", 1)[1].split(" ")[0])
        scanned = _SQLITE_SUBQUERY_SCAN.match(detail)
        if _SQLITE_FULL_SCAN.match(detail) and not (scanned and scanned.group(1) in subqueries):
            full_scan = True
        temp_sort = temp_sort or "USE TEMP B-TREE FOR ORDER BY" in detail
        # A temporary B-tree for GROUP BY or DISTINCT is filled with every row first.
        grouped = grouped or "USE TEMP B-TREE" in detail or detail.startswith("MATERIALIZE ")
    # SQLite's plan does not show the LIMIT: the statement says whether it has one.
    early = has_limit(stmt) and not temp_sort and not grouped
    return _plan("sqlite", lines, indexes, full_scan, temp_sort, early, stmt)


def _read_postgres(rows: list[Any], stmt: Any = None) -> QueryPlan:
    lines = [row[0] for row in rows]
    indexes: list[str] = []
    for line in lines:
        for found in _PG_INDEX.finditer(line):
            if found.group(1) not in indexes:
                indexes.append(found.group(1))
    # The plan's nodes (a "->" line, or the first line) with the column their name starts at;
    # a node's parent is the nearest node above it that starts further left.
    nodes: list[tuple[int, str, int]] = []  # (column, name, line index)
    conditions: dict[int, list[str]] = {}
    for i, line in enumerate(lines):
        if i == 0 or line.lstrip().startswith("->"):
            node = _PG_NODE.match(line)
            if node:
                nodes.append((len(node.group("indent")), node.group("name").strip(), i))
                continue
        if nodes:
            conditions.setdefault(len(nodes) - 1, []).append(line.strip())
    full_scan, early = False, bool(nodes) and nodes[0][1] == "Limit"
    for n, (column, name, _) in enumerate(nodes):
        walks = name == "Seq Scan" or (
            name.startswith(("Index Scan", "Index Only Scan"))
            and not any(c.startswith("Index Cond:") for c in conditions.get(n, []))
        )
        if not walks:
            continue
        full_scan = True
        # Up to the Limit, through nodes that pass rows on as they come.
        reached, at = False, column
        for above_column, above, _ in reversed(nodes[:n]):
            if above_column >= at:
                continue
            at = above_column
            if above == "Limit":
                reached = True
                break
            if above in _PG_BLOCKING:
                break
        early = early and reached
    # An Incremental Sort reads an index in order and sorts only rows that tie on it.
    # A Sort node, not its "Sort Key:" detail line.
    temp_sort = any(re.match(r"\s*(->\s+)?Sort\s+\(", line) for line in lines)
    return _plan("postgresql", lines, indexes, full_scan, temp_sort, early, stmt)


def _plan(
    dialect: str,
    lines: list[str],
    indexes: list[str],
    full_scan: bool,
    temp_sort: bool,
    early: bool,
    stmt: Any,
) -> QueryPlan:
    limit = offset = None
    filtered = False
    if early and full_scan:
        limit, offset = literal_limit(stmt), literal_offset(stmt)
        filtered = _filters_rows(stmt)
    return QueryPlan(
        dialect, tuple(lines), tuple(indexes), full_scan, temp_sort,
        stops_early=early, limit=limit, offset=offset, filtered=filtered,
    )  # fmt: skip


def _filters_rows(stmt: Any) -> bool:
    if not isinstance(stmt, Select):
        return True  # not known: say the worst case
    if stmt.whereclause is not None or has_having(stmt):
        return True
    return any(isinstance(item, Join) for item in stmt.get_final_froms())


_KINDS = {Insert: "an INSERT", Update: "an UPDATE", Delete: "a DELETE"}
# What a planned text must begin with, once comments are gone: EXPLAIN followed by anything else
# could be EXPLAIN's own options ("(ANALYZE) DELETE ..." runs the DELETE on PostgreSQL).
_SELECT_START = re.compile(r"(?i)(SELECT|WITH)\b")


def _single_select(stmt: Any) -> Any:
    """``stmt`` when it is a single SELECT, which ``EXPLAIN`` plans without running it."""
    if not isinstance(stmt, ClauseElement):
        raise InvalidArgumentError(
            f"stmt must be a SQLAlchemy statement such as select_tasks(); got {type(stmt).__name__}"
        )
    source = stmt.element if isinstance(stmt, TextualSelect) else stmt
    if isinstance(source, TextClause):
        sqlparse = require("sqlparse", extra="explore", feature="explain of SQL text")
        sql = sqlparse.format(source.text, strip_comments=True).strip()
        shown = " ".join(sql.split())
        shown = repr(shown if len(shown) <= 40 else shown[:37] + "...")
        if len(sqlparse.split(sql)) != 1:
            problem = f"the text {shown} holds several statements"
        elif not _SELECT_START.match(sql):
            problem = f"the text {shown} is not a SELECT"
        else:
            return stmt
    elif isinstance(stmt, SelectBase):
        return stmt
    else:
        kind = next((k for t, k in _KINDS.items() if isinstance(stmt, t)), None)
        problem = f"got {kind} statement" if kind else f"got a {type(stmt).__name__}"
    raise InvalidArgumentError(
        f"explain plans a single SELECT (such as select_tasks() or text('SELECT ...')); "
        f"{problem}, which it neither plans nor runs"
    )


async def explain(source: AsyncEngine | AsyncConnection | AsyncSession, stmt: Any) -> QueryPlan:
    """How the database would run ``stmt``: its plan, and which indexes, scans and sorts it has.

    Runs ``EXPLAIN QUERY PLAN`` on SQLite and ``EXPLAIN`` on PostgreSQL (the plan only: the
    statement itself does not run, and ``EXPLAIN`` is never given options such as ANALYZE).
    Only a single SELECT is planned: anything else (an INSERT, UPDATE or DELETE, text that
    is not one SELECT or WITH ... SELECT statement, such as ``text("(ANALYZE) DELETE ...")``)
    is refused before anything is sent. Eager loads (``selectinload``) are separate
    statements and are not part of the plan.

    Args:
        source: an engine, connection or session.
        stmt: a select, e.g. ``select_tasks(status="pending").limit(50)``, or ``text()``
            holding one SELECT statement.

    Returns:
        A :class:`QueryPlan`; its repr is the summary line followed by the plan.

    Raises:
        InvalidArgumentError: ``stmt`` is not a single SELECT, or the database is neither
            SQLite nor PostgreSQL.
    """
    stmt = _single_select(stmt)
    name = _dialect(source).name
    if name not in ("sqlite", "postgresql"):
        raise InvalidArgumentError(
            f"explain reads SQLite and PostgreSQL plans; this database is {name!r}"
        )
    query = _Explain(stmt)
    if isinstance(source, AsyncEngine):
        async with read_connection(source) as conn:
            rows = list((await conn.execute(query)).all())
    elif isinstance(source, AsyncSession):
        # Ends the transaction it opens, never the caller's.
        # Through run_sync: a session over a synchronous engine (the grid's InlineSession)
        # has no async connection to await.
        async with reading(cast(SQLModelSession, source)):
            rows = await source.run_sync(lambda s: list(s.connection().execute(query).all()))
    else:
        rows = list((await source.execute(query)).all())
    return _read_sqlite(rows, stmt) if name == "sqlite" else _read_postgres(rows, stmt)
