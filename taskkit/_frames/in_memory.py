"""models_to_frame: model instances or rows already in memory as a DataFrame."""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import pandas as pd
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Row
from sqlalchemy.sql.selectable import SelectBase

from taskkit._errors import InvalidArgumentError
from taskkit._frames.column_types import Kind, Spec, enum_values, specs_of
from taskkit._frames.typed_columns import Column, build_frame
from taskkit._sqlalchemy_internals import row_columns


def _annotation_spec(name: str, annotation: Any) -> Spec:
    """The spec of a pydantic field (non-table models such as TaskRead)."""
    args = typing.get_args(annotation)
    nullable = typing.get_origin(annotation) in (typing.Union, types.UnionType) and (
        type(None) in args
    )
    if nullable:
        rest = [a for a in args if a is not type(None)]
        annotation = rest[0] if len(rest) == 1 else object
    categories = enum_values(annotation)
    if categories is not None:
        return Spec(name, "category", nullable, categories)
    kinds: list[tuple[type, Kind]] = [
        (bool, "bool"), (int, "int"), (float, "float"), (dt.datetime, "datetime"),
        (dt.timedelta, "timedelta"), (str, "text"),
    ]  # fmt: skip
    for python_type, kind in kinds:
        if isinstance(annotation, type) and issubclass(annotation, python_type):
            return Spec(name, kind, nullable)
    return Spec(name, "object", nullable)


def _value_spec(name: str, values: Sequence[Any]) -> Spec:
    """The spec of a column known only by its values (rows whose statement is unknown)."""
    present = [v for v in values if v is not None]
    nullable = len(present) < len(values)
    if not present:
        return Spec(name, "object", nullable)
    return _annotation_spec(name, type(present[0]) | None if nullable else type(present[0]))


def _row_specs(row: Row[Any]) -> list[Spec] | None:
    """Specs of a Row from the columns its result remembers (SQLAlchemy keeps them per row)."""
    try:
        columns = row_columns(row)
        if columns is None:
            return None
        return specs_of(sa.select(*(c.label(n) for c, n in zip(columns, row._fields, strict=True))))
    except Exception:  # the metadata is SQLAlchemy's own business; fall back to the values
        return None


def models_to_frame(items: Iterable[Any], model: Any = None) -> pd.DataFrame:
    """Model instances or rows already in memory as a DataFrame, with the dtypes of the models.

    The frame of a list of ``Task`` has the columns and dtypes of
    ``await to_dataframe(engine, select(Task))``; so does ``TaskRead``.

    Args:
        items: instances of one SQLModel/pydantic model, or SQLAlchemy ``Row`` objects (a row
            holding one model instance counts as that instance).
        model: what the items are, for the column types when ``items`` is empty, or to type
            rows exactly: a model class, or the select the rows came from. Rows without it are
            typed from the columns their result remembers, else from their values.

    Returns:
        One row per item; with no items and no ``model``, a frame with no columns.

    Raises:
        InvalidArgumentError: items of different kinds, an item that is not a model instance
            or row, an expired instance attribute, or a ``model`` that is not a model or select.
        InvalidDataError: a value that does not fit its declared type or categories.
    """
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise InvalidArgumentError(
            f"items must be a list of model instances or rows, got {type(items).__name__}"
        )
    rows = [
        item[0] if isinstance(item, Row) and len(item) == 1 and isinstance(item[0], BaseModel)
        else item
        for item in items
    ]  # fmt: skip
    if model is None and rows:
        first = rows[0]
        if not isinstance(first, (BaseModel, Row)):
            raise InvalidArgumentError(
                f"items must be model instances or rows, got {type(first).__name__}"
            )
        model = type(first) if isinstance(first, BaseModel) else None
    if model is None and not rows:
        return pd.DataFrame()

    getters: list[Callable[[Any], Any]]
    if isinstance(model, SelectBase):
        specs = specs_of(model)
        getters = [lambda r, i=i: r[i] for i in range(len(specs))]  # type: ignore[misc]
        kind: type = Row
    elif isinstance(model, type) and issubclass(model, BaseModel):
        kind = model
        table = getattr(model, "__table__", None)
        if isinstance(table, sa.Table):
            specs = specs_of(sa.select(model))
            mapper = sa.inspect(model)
            keys = [mapper.get_property_by_column(table.c[s.name]).key for s in specs]
            getters = [lambda obj, k=k: _loaded(obj, k) for k in keys]  # type: ignore[misc]
        else:
            specs = [_annotation_spec(n, f.annotation) for n, f in model.model_fields.items()]
            getters = [lambda obj, n=s.name: getattr(obj, n) for s in specs]  # type: ignore[misc]
    elif model is None:  # rows, typed by their result's columns or their values
        kind = Row
        first_row = cast(Row[Any], rows[0])
        fields = first_row._fields
        specs = _row_specs(first_row) or [
            _value_spec(n, [cast(Row[Any], r)[i] for r in rows]) for i, n in enumerate(fields)
        ]
        getters = [lambda r, i=i: r[i] for i in range(len(specs))]  # type: ignore[misc]
    else:
        raise InvalidArgumentError(
            f"model must be a model class or a select(), got {type(model).__name__}"
        )
    for position, item in enumerate(rows):
        if not isinstance(item, kind):
            raise InvalidArgumentError(
                f"items[{position}] is a {type(item).__name__}, expected {kind.__name__} like "
                "the others"
            )
    columns: list[Column] = []
    for spec, get in zip(specs, getters, strict=True):
        column = Column(spec)
        column.append_python([get(item) for item in rows])
        columns.append(column)
    return build_frame(columns)


def _loaded(obj: Any, key: str) -> Any:
    # Read the loaded value, never trigger a lazy load: in async code that would fail deep
    # inside SQLAlchemy (MissingGreenlet).
    try:
        return obj.__dict__[key]
    except KeyError:
        raise InvalidArgumentError(
            f"{type(obj).__name__}.{key} is not loaded (expired after a commit?); use "
            "taskkit.session() (expire_on_commit=False) or await session.refresh(obj)"
        ) from None
