"""The plan: a statement's ORDER BY made total (NULL placement stays the statement's)."""

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ColumnElement, FromClause, Select
from sqlalchemy.sql.elements import (  # the ORDER BY items a statement may hold
    Label,
    TextClause,
    UnaryExpression,
    _label_reference,
    _textual_label_reference,
)
from sqlalchemy.sql.operators import asc_op, desc_op, nulls_first_op, nulls_last_op
from sqlalchemy.sql.selectable import Alias, Join

from taskkit._errors import InvalidArgumentError
from taskkit._sql.select import check_select
from taskkit._sqlalchemy_internals import (
    group_by_clauses,
    has_having,
    has_row_limit,
    is_distinct,
    is_orm_statement,
    order_by_clauses,
)

# Where each database puts NULLs when ORDER BY does not say: as the smallest value (first
# ascending, last descending) or as the largest. SQL leaves it to the implementation.
_NULLS_SMALLEST = {"sqlite": True, "mysql": True, "mariadb": True, "mssql": True}


def nulls_smallest(dialect: Dialect) -> bool:
    """Whether ``dialect`` sorts NULL before every value in an ascending ORDER BY by default
    (SQLite, MySQL, SQL Server), rather than after (PostgreSQL, Oracle)."""
    return _NULLS_SMALLEST.get(dialect.name, False)


@dataclass(frozen=True)
class Key:
    expr: ColumnElement[Any]
    descending: bool
    nulls: bool | None  # NULLS FIRST (True) or LAST (False) as written; None: the database's
    nullable: bool

    def nulls_first(self, dialect: Dialect) -> bool:
        """Where NULLs go in the forward order on ``dialect``."""
        if self.nulls is not None:
            return self.nulls
        return nulls_smallest(dialect) != self.descending

    def clause(self, *, reverse: bool = False) -> ColumnElement[Any]:
        clause = self.expr.desc() if self.descending != reverse else self.expr.asc()
        # Left open, the placement stays the database's own, as in session.exec(stmt); reversed
        # (walking back), the default of the other direction is exactly the reversed order,
        # since each database treats NULL as either the smallest or the largest value.
        if self.nulls is not None:
            first = self.nulls != reverse
            clause = clause.nulls_first() if first else clause.nulls_last()
        return clause


@dataclass(frozen=True)
class Plan:
    base: Select[Any]  # the statement without its ORDER BY
    keys: tuple[Key, ...]
    unique: bool  # a primary-key tiebreak makes the order total; else checked per page
    fingerprints: dict[tuple[str, str], str] = field(default_factory=dict, compare=False)

    def ordered(self, *, reverse: bool = False) -> Select[Any]:
        return self.base.order_by(*(k.clause(reverse=reverse) for k in self.keys))


_MODIFIERS = (asc_op, desc_op, nulls_first_op, nulls_last_op)


def _parse_order(clause: Any) -> tuple[ColumnElement[Any], bool, bool | None]:
    """(expression, descending, nulls_first or None when unspecified) of one ORDER BY item."""
    descending, nulls_first = False, None
    element = clause
    while True:
        if isinstance(element, _label_reference):  # order_by(a_label) refers to the label
            element = element.element
        elif isinstance(element, UnaryExpression) and element.modifier in _MODIFIERS:
            if element.modifier is desc_op:
                descending = True
            elif element.modifier is nulls_first_op:
                nulls_first = True
            elif element.modifier is nulls_last_op:
                nulls_first = False
            element = element.element
        elif isinstance(element, Label):
            element = element.element
        else:
            break
    if isinstance(element, TextClause | _textual_label_reference):
        raise InvalidArgumentError(
            "paginate needs ORDER BY expressions, not text: write order_by(Task.title) rather "
            f"than order_by('title'); got {clause}"
        )
    if not isinstance(element, ColumnElement):
        raise InvalidArgumentError(f"cannot paginate by ORDER BY item {clause!r}")
    return element, descending, nulls_first


def _flat_froms(froms: Sequence[FromClause]) -> list[FromClause]:
    flat: list[FromClause] = []
    for item in froms:
        if isinstance(item, Join):
            flat += _flat_froms([item.left, item.right])
        else:
            flat.append(item)
    return flat


def _walk_froms(stmt: Select[Any]) -> tuple[list[ColumnElement[Any]], bool, bool]:
    """Primary-key columns of FROM's tables, whether every FROM item had one, any outer join."""
    froms = stmt.get_final_froms()  # a full compile of the statement: call it no more than needed
    # The ORM builds some FROM items anew at each compile (the anonymous alias of a many-to-many
    # relationship's link table): a column of one would name a second copy of the table, a
    # cartesian product. The statement's own items are the same objects in a second compile;
    # a statement without the ORM's compile step has no others.
    again = stmt.get_final_froms() if is_orm_statement(stmt) else froms
    own = {id(item) for item in _flat_froms(again)}
    keys: list[ColumnElement[Any]] = []
    known, outer = True, False

    def walk(item: FromClause) -> None:
        nonlocal known, outer
        if isinstance(item, Join):
            outer = outer or bool(item.isouter or item.full)
            walk(item.left)
            walk(item.right)
        elif id(item) not in own:
            known = False
        elif isinstance(item, Table) and item.primary_key.columns:
            keys.extend(item.primary_key.columns)
        elif isinstance(item, Alias) and isinstance(item.element, Table):
            found = [item.corresponding_column(c) for c in item.element.primary_key.columns]
            if found and all(c is not None for c in found):
                keys.extend(c for c in found if c is not None)
            else:
                known = False
        else:
            known = False  # a subquery, a function, text: no key we can trust to be unique

    for item in froms:
        walk(item)
    return keys, known, outer


def _nullable(expr: ColumnElement[Any], outer: bool) -> bool:
    # An outer join can put NULL in any column; expressions may be NULL whatever their input.
    if outer or not isinstance(expr, Column) or expr.nullable:
        return True
    table = expr.table
    return not (
        isinstance(table, Table) or (isinstance(table, Alias) and isinstance(table.element, Table))
    )


# Statements are immutable, and a notebook pages through the same one again and again: its
# plan (and fingerprint) is kept as long as the statement lives. Planning and compiling the
# fingerprint cost about as much as fetching a page of 50 rows.
_plans: weakref.WeakKeyDictionary[Select[Any], Plan] = weakref.WeakKeyDictionary()


def plan_for(stmt: Any) -> Plan:
    stmt = check_select(stmt)
    plan = _plans.get(stmt)
    if plan is None:
        plan = _plans[stmt] = _make_plan(stmt)
    return plan


def _make_plan(stmt: Select[Any]) -> Plan:
    if has_row_limit(stmt):
        raise InvalidArgumentError(
            "stmt must not have LIMIT or OFFSET: pagination adds its own; remove .limit() / "
            ".offset() and pass size"
        )
    if group_by_clauses(stmt) or has_having(stmt) or is_distinct(stmt):
        raise InvalidArgumentError(
            "stmt has GROUP BY or DISTINCT, which keyset pagination cannot seek through; page "
            "over it as a subquery: sq = stmt.subquery(); select(sq).order_by(sq.c.<unique "
            "columns>)"
        )
    tail, known, outer = _walk_froms(stmt)
    keys: list[Key] = []
    for clause in order_by_clauses(stmt):
        expr, descending, nulls_first = _parse_order(clause)
        if any(k.expr.compare(expr) for k in keys):
            continue  # a repeated key changes nothing
        keys.append(Key(expr, descending, nulls_first, _nullable(expr, outer)))
    if not keys and not tail:
        raise InvalidArgumentError(
            "stmt has no ORDER BY and no primary key to order by; add .order_by(...) ending "
            "with columns that are unique together"
        )
    # The tiebreak: primary keys of FROM's tables. Where some FROM item has none we can use,
    # they may not make the order unique, and each page checks for ties instead.
    descending = keys[-1].descending if keys else False
    for column in tail:
        if not any(k.expr.compare(column) for k in keys):
            keys.append(Key(column, descending, None, _nullable(column, outer)))
    return Plan(base=stmt.order_by(None), keys=tuple(keys), unique=known)
