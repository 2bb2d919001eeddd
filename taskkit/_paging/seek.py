"""Seeking: the WHERE condition for the rows after (or at) a cursor's position."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, false, literal, or_, tuple_
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ColumnElement

from taskkit._paging.plan import Key


def _bound(key: Key, value: Any) -> ColumnElement[Any]:
    return literal(value, key.expr.type)


def _after(key: Key, value: Any, *, reverse: bool, dialect: Dialect) -> ColumnElement[bool]:
    """Rows whose ``key`` comes strictly after ``value`` in the (possibly reversed) order."""
    nulls_first = key.nulls_first(dialect) != reverse
    if value is None:
        # NULLs form one group: after it come the values if NULLs go first, else nothing.
        return key.expr.is_not(None) if nulls_first else false()
    beyond = (
        key.expr < _bound(key, value)
        if key.descending != reverse
        else key.expr > _bound(key, value)
    )
    if key.nullable and not nulls_first:
        return or_(beyond, key.expr.is_(None))
    return beyond


def _not_before(key: Key, value: Any, *, reverse: bool) -> ColumnElement[bool]:
    """``key`` at or after a non-NULL ``value`` where the key holds no NULL: an index range."""
    if key.descending != reverse:
        return key.expr <= _bound(key, value)
    return key.expr >= _bound(key, value)


def _equal(key: Key, value: Any) -> ColumnElement[bool]:
    return key.expr.is_(None) if value is None else key.expr == _bound(key, value)


def _seek(
    keys: Sequence[Key], values: Sequence[Any], *, reverse: bool, inclusive: bool, dialect: Dialect
) -> ColumnElement[bool]:
    """Rows after ``values`` (or at them, when inclusive) in the lexicographic order of keys."""
    simple = all(not k.nullable for k in keys) and all(v is not None for v in values)
    same_direction = len({k.descending for k in keys}) == 1
    if simple and same_direction and len(keys) > 1 and dialect.name in ("sqlite", "postgresql"):
        # A row-value comparison both planners turn into one index range.
        down = keys[0].descending != reverse
        left = tuple_(*(k.expr for k in keys))
        right = tuple_(*(_bound(k, v) for k, v in zip(keys, values, strict=True)))
        if down:
            row = left <= right if inclusive else left < right
        else:
            row = left >= right if inclusive else left > right
        return and_(_not_before(keys[0], values[0], reverse=reverse), row)
    condition: ColumnElement[bool] | None = None
    for key, value in reversed(list(zip(keys, values, strict=True))):
        after = _after(key, value, reverse=reverse, dialect=dialect)
        if condition is None:
            condition = or_(after, _equal(key, value)) if inclusive else after
        else:
            condition = or_(after, and_(_equal(key, value), condition))
    assert condition is not None  # a plan always has keys
    first = keys[0]
    # A redundant bound on the first key, so that an index on it narrows the scan (not where
    # NULLs come after the cursor: they fall outside any bound).
    nulls_before = not first.nullable or first.nulls_first(dialect) != reverse
    if len(keys) > 1 and values[0] is not None and nulls_before:
        condition = and_(_not_before(first, values[0], reverse=reverse), condition)
    return condition


def seek_parts(
    keys: Sequence[Key], values: Sequence[Any], *, reverse: bool, inclusive: bool, dialect: Dialect
) -> list[ColumnElement[bool]]:
    """What :func:`_seek` selects, as conditions on consecutive stretches of the order.

    Usually one. Where the cursor sits among the NULLs of the first key and those come first,
    the rows after it are the rest of that NULL group, then every non-NULL row: two index
    ranges, where the single condition (``k IS NOT NULL OR (k IS NULL AND ...)``) makes both
    SQLite and PostgreSQL read and sort everything after the cursor for every page.
    """
    first = keys[0]
    if len(keys) > 1 and values[0] is None and first.nulls_first(dialect) != reverse:
        rest = seek_parts(
            keys[1:], values[1:], reverse=reverse, inclusive=inclusive, dialect=dialect
        )
        return [and_(first.expr.is_(None), part) for part in rest] + [first.expr.is_not(None)]
    return [_seek(keys, values, reverse=reverse, inclusive=inclusive, dialect=dialect)]
