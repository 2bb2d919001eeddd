"""Type inference: what each selected column of a statement becomes (its kind and dtype)."""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.sql import functions
from sqlalchemy.sql.elements import (
    BinaryExpression,
    BindParameter,
    Case,
    Cast,
    ColumnElement,
    Grouping,
    Label,
    TypeCoerce,
)
from sqlalchemy.sql.selectable import CompoundSelect, Join, Select, SelectBase

from taskkit._errors import InvalidArgumentError
from taskkit._models import Task
from taskkit._sqlalchemy_internals import cache_key, named_froms, plain_table

Kind = Literal[
    "int", "float", "bool", "datetime", "timedelta", "text", "category", "list", "object"
]
# Kinds the fast readers serve; anything else (JSON, bytes, intervals, untyped expressions) is
# read through SQLAlchemy, whose result processing gives the Python values users expect.
FAST_KINDS = frozenset({"int", "float", "bool", "datetime", "text", "category"})


@dataclass(frozen=True)
class Spec:
    """What one result column becomes: its name, kind and the details of its dtype."""

    name: str
    kind: Kind
    nullable: bool = True
    categories: tuple[str, ...] = ()
    tz: str | None = "UTC"
    origin: frozenset[tuple[str, str]] = frozenset()  # (table, column) it reads, if a column

    @property
    def arrow_type(self) -> pa.DataType:
        return {
            "int": pa.int64(),
            "float": pa.float64(),
            "bool": pa.bool_(),
            "datetime": pa.timestamp("us", self.tz),
            "timedelta": pa.duration("us"),
            "text": pa.large_string(),  # what pandas' str dtype holds: no cast later
            "category": pa.int8(),  # codes into `categories`; -1 / null is missing
            "list": pa.list_(pa.string()),  # related worker ids
            "object": pa.null(),
        }[self.kind]


# ---------------------------------------------------------------------------------------------
# Column specs from a statement: types from SQLAlchemy, categories from the models.


def enum_values(annotation: Any) -> tuple[str, ...] | None:
    """The values of the Enum in ``annotation`` (``Status``, ``Status | None``, ...), if any."""
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return tuple(str(member.value) for member in annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            values = enum_values(arg)
            if values is not None:
                return values
    return None


def _model_field(column: sa.Column[Any]) -> Any:
    """The pydantic field of the table model that maps ``column`` (``None`` if there is none)."""
    for mapper in sa.inspect(Task).registry.mappers:
        if mapper.local_table is column.table:
            try:
                prop = mapper.get_property_by_column(column)
            except Exception:  # a column the model does not declare
                return None
            return getattr(mapper.class_, "model_fields", {}).get(prop.key)
    return None


def _unlabel(element: ColumnElement[Any]) -> ColumnElement[Any]:
    while isinstance(element, (Label, Grouping)):
        element = cast(ColumnElement[Any], element.element)
    return element


def _leaf_selects(stmt: SelectBase) -> list[SelectBase]:
    if isinstance(stmt, CompoundSelect):
        return [leaf for sub in stmt.selects for leaf in _leaf_selects(sub)]
    return [stmt]


def _outer_joined(stmt: SelectBase) -> set[Any]:
    """FROM items on the NULL-filled side of an outer join: their NOT NULL columns may be NULL."""
    found: set[Any] = set()

    def froms(from_: Any) -> set[Any]:
        return {plain_table(t) for t in sa.sql.util.find_tables(from_, include_aliases=True)}

    def walk(from_: Any) -> None:
        if isinstance(from_, Join):
            if from_.full:
                found.update(froms(from_.left) | froms(from_.right))
            elif from_.isouter:
                found.update(froms(from_.right))
            walk(from_.left)
            walk(from_.right)

    if isinstance(stmt, Select):
        for from_ in named_froms(stmt):  # the joins are named: no need to compile the statement
            walk(from_)
    return found


@dataclass
class _Info:
    """What the statement says about an expression: its SQL type, whether it can be NULL, and
    the table columns it reads as they are."""

    sql_type: Any
    nullable: bool = True
    columns: tuple[sa.Column[Any], ...] = ()


def _merge(infos: Sequence[_Info], sql_type: Any = None) -> _Info:
    """One column fed by several expressions (the branches of a union, coalesce, min/max)."""
    typed = [i.sql_type for i in infos if not isinstance(i.sql_type, sa.types.NullType)]
    if sql_type is None or isinstance(sql_type, sa.types.NullType):
        sql_type = typed[0] if typed else sa.types.NULLTYPE
    return _Info(
        sql_type, any(i.nullable for i in infos), tuple(c for i in infos for c in i.columns)
    )


def _literal(text: str, sql_type: Any) -> _Info:
    """A literal_column: its own type if it was given one, else what its SQL text spells (a
    number; text is text, never a category: typed literals say what they are)."""
    text = text.strip()
    if text.upper() == "NULL":
        return _Info(sql_type)
    if not isinstance(sql_type, sa.types.NullType):
        return _Info(sql_type, nullable=False)
    if text.lstrip("-").isdigit():
        return _Info(sa.Integer(), nullable=False)
    try:
        float(text)
        return _Info(sa.Float(), nullable=False)
    except ValueError:
        pass
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return _Info(sa.String(), nullable=False)
    return _Info(sa.types.NULLTYPE)


def _info(element: ColumnElement[Any], outer: set[Any]) -> _Info:
    """Follow an expression down to what it is made of, through labels, subqueries, unions,
    casts, coalesce/min/max/sum and arithmetic, to type it and tell whether it can be NULL."""
    e = _unlabel(element)
    own = e.type
    if isinstance(e, sa.Column) and isinstance(e.table, sa.Table):
        return _Info(own, bool(e.nullable) or plain_table(e.table) in outer, (e,))
    if isinstance(e, sa.ColumnClause):
        if e.is_literal:
            return _literal(e.name, own)
        source = getattr(e.table, "element", None)  # a column of a subquery, CTE or alias
        if source is not None and e.table is not None:
            inner = _source_columns(source, e.key)
            if inner is not None:
                found = _merge([_info(c, o) for c, o in inner], own)
                found.nullable = found.nullable or plain_table(e.table) in outer
                return found
        return _Info(own)
    if isinstance(e, (TypeCoerce, Cast)):
        # A deliberate type: the model's categories no longer apply (the escape hatch for
        # values outside them: type_coerce(Task.status, String)).
        return _Info(own, _info(e.clause, outer).nullable)
    if isinstance(e, functions.count):
        return _Info(sa.Integer(), nullable=False)
    if isinstance(e, functions.Function):
        args = [_info(a, outer) for a in e.clauses]
        name = e.name.lower()
        if name == "avg":
            return _Info(sa.Float())  # SQLAlchemy leaves avg() untyped: a float everywhere
        if name in ("coalesce", "ifnull"):
            found = _merge(args, own)
            found.nullable = all(a.nullable for a in args)
            return found
        if name in ("min", "max", "sum", "total") and args:
            found = _merge(args[:1], own)
            found.nullable = True  # over no rows
            if name in ("sum", "total"):
                found.columns = ()
            return found
        return _Info(own)
    if isinstance(e, BindParameter):
        return _Info(own, nullable=e.effective_value is None)
    if isinstance(e, Case):
        results = [_info(r, outer) for _, r in e.whens]
        fallback = _info(e.else_, outer) if e.else_ is not None else _Info(own)
        found = _merge([*results, fallback], own)
        found.columns = ()
        return found
    if isinstance(e, BinaryExpression) and not isinstance(own, sa.Boolean):
        sides = [_info(e.left, outer), _info(e.right, outer)]
        return _Info(_merge(sides, own).sql_type, any(s.nullable for s in sides))
    return _Info(own)


def _source_columns(source: Any, key: str) -> list[tuple[Any, set[Any]]] | None:
    """The expressions behind column ``key`` of a subquery/CTE/alias, with their outer joins."""
    if isinstance(source, sa.Table):
        return [(source.c[key], set())] if key in source.c else None
    if not isinstance(source, SelectBase):
        return None
    keys = list(source.selected_columns.keys())
    if key not in keys:
        return None
    position = keys.index(key)
    return [
        (list(leaf.selected_columns)[position], _outer_joined(leaf))
        for leaf in _leaf_selects(source)
        if len(leaf.selected_columns) > position
    ]


def _column_spec(name: str, info: _Info) -> Spec:
    """The spec of one result column from what the statement says about it."""
    origin = frozenset(
        (c.table.name, c.name) for c in info.columns if isinstance(c.table, sa.Table)
    )
    sql_type: Any = info.sql_type
    if isinstance(sql_type, sa.TypeDecorator):
        sql_type = sql_type.impl_instance
    nullable = info.nullable
    if isinstance(sql_type, sa.Enum) and sql_type.enums:
        return Spec(name, "category", nullable, tuple(sql_type.enums), origin=origin)
    if info.columns:
        fields = [_model_field(c) for c in info.columns]
        found = {None if f is None else enum_values(f.annotation) for f in fields}
        if len(found) == 1 and (categories := found.pop()) is not None:
            return Spec(name, "category", nullable, categories, origin=origin)
    kind: Kind
    tz: str | None = "UTC"
    if isinstance(sql_type, sa.Boolean):
        kind = "bool"
    elif isinstance(sql_type, sa.Integer):
        kind = "int"
    elif isinstance(sql_type, (sa.Numeric, sa.Float)):  # float64, also for Numeric (no Decimal)
        kind = "float"
    elif isinstance(sql_type, sa.DateTime):
        kind, tz = "datetime", ("UTC" if sql_type.timezone else None)
    elif isinstance(sql_type, sa.Date):
        kind, tz = "datetime", None  # a calendar day: naive datetime64 at midnight
    elif isinstance(sql_type, sa.Interval):
        kind = "timedelta"
    elif isinstance(sql_type, sa.String):
        kind = "text"
    else:
        kind = "object"
    return Spec(name, kind, nullable, tz=tz, origin=origin)


def specs_of(stmt: SelectBase) -> list[Spec]:
    """One spec per selected column, in order.

    Raises:
        InvalidArgumentError: two columns share a name.
    """
    names = list(stmt.selected_columns.keys())
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidArgumentError(
            f"stmt selects more than one column named {', '.join(map(repr, duplicates))}; "
            "a DataFrame needs distinct column names: give them labels, e.g. "
            "select(Task, Project.id.label('project_pk'))"
        )
    leaves = [(list(leaf.selected_columns), _outer_joined(leaf)) for leaf in _leaf_selects(stmt)]
    return [
        _column_spec(
            name,
            _merge(
                [_info(cols[i], outer) for cols, outer in leaves if i < len(cols)],
                stmt.selected_columns[i].type,
            ),
        )
        for i, name in enumerate(names)
    ]


# Working out the specs walks the statement (and, for ORM statements, builds SQLAlchemy's
# compile state): about a millisecond, the largest fixed cost of a small read. They depend on
# the statement's structure and on the values of its literals (a NULL literal is nullable), so
# both make the key.
_SPEC_CACHE: dict[Any, list[Spec]] = {}
_SPEC_CACHE_MAX = 256


def cached_specs(stmt: SelectBase) -> list[Spec]:
    """``specs_of(stmt)``, remembered for statements of the same structure and literal values."""
    key = cache_key(stmt)
    if key is None:  # a statement SQLAlchemy itself does not cache
        return specs_of(stmt)
    try:
        values = tuple(b.effective_value for b in key.bindparams)
        entry = (key.key, values)
        hash(entry)
    except TypeError:  # an unhashable value (a list for IN): not worth a cache entry
        return specs_of(stmt)
    found = _SPEC_CACHE.get(entry)
    if found is None:
        found = specs_of(stmt)
        if len(_SPEC_CACHE) >= _SPEC_CACHE_MAX:
            _SPEC_CACHE.pop(next(iter(_SPEC_CACHE)))  # the oldest entry
        _SPEC_CACHE[entry] = found
    return list(found)
