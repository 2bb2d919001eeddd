"""Walk through large results a page at a time: keyset (seek) pagination, and OFFSET for teaching.

Keyset pagination remembers where a page ended (the sort-key values of its last row) and asks
for the rows after that point, so a page deep in the result costs about what the first page
costs, and rows inserted or deleted meanwhile do not shift pages. Every row comes exactly once,
including where the usual recipes lose rows:

* NULLs in sort keys. SQLite sorts NULLs first ascending, PostgreSQL last, and ``k > NULL`` is
  never true. taskkit makes NULL placement explicit (``NULLS LAST`` unless the statement says
  ``nulls_first()``), the same on both backends, and builds the seek condition with ``IS NULL``
  terms where a key can be NULL.
* Ties. The primary key of every table in FROM is appended to the ORDER BY (unless already
  there), so the order is total. OFFSET over a non-unique order loses rows on PostgreSQL.
* Mixed directions and several keys: the seek condition is the lexicographic expansion
  ``k1 after v1 OR (k1 = v1 AND (k2 after v2 OR ...))``, each key in its own direction.

A cursor is an opaque URL-safe string: the key values (typed: ints, text, datetimes, NULL, ...)
plus a fingerprint of the statement (its SQL and bound values: ordering and filters), with a
checksum. A cursor used with another statement, or edited, truncated or made up, gives an
``InvalidCursorError``. Cursors are JSON, never pickle; they are checksummed, not signed with
a secret: a forged cursor can only seek within the rows the statement itself selects.

Limits: the statement must be a ``select()`` without LIMIT/OFFSET, GROUP BY or DISTINCT (wrap
such a statement in a subquery and page over ``select(subquery)``), and its sort keys must be
computable from its FROM (columns of its tables, or expressions over them). Where FROM holds a
subquery (or the ORM's own alias of a many-to-many link table), the primary keys appended may
not make the order unique: every page then checks, and one that meets two rows with the same
sort key raises ``InvalidArgumentError`` rather than skip rows. Load relationships with
``selectinload``, as ``select_tasks`` does (``joinedload`` of a collection needs
``Result.unique()``, which pagination does not apply).
"""

import base64
import binascii
import hashlib
import hmac
import html
import itertools
import json
import math
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar, overload
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import Column, Table, and_, false, literal, or_, tuple_
from sqlalchemy.engine import Dialect, Row
from sqlalchemy.orm import Session as OrmSession
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
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from taskkit.db import reading
from taskkit.errors import InvalidArgumentError, InvalidCursorError
from taskkit.query import check_select, count

__all__ = [
    "MAX_PAGE_SIZE",
    "InvalidCursorError",
    "Page",
    "pages",
    "paginate",
    "paginate_offset",
]

T = TypeVar("T")

#: The largest page size paginate, paginate_offset and pages accept.
MAX_PAGE_SIZE = 10_000


# ---------------------------------------------------------------------------------------------
# Page.

_HTML_ROWS = 60  # pandas shows up to 60 rows before it elides; so does a Page
_HTML_TEXT = 80


@dataclass(frozen=True, repr=False)
class Page(Generic[T]):
    """One page of a result, and how to reach its neighbours.

    Attributes:
        items: the rows, as ``session.exec(stmt)`` returns them (``Task`` objects for
            ``select(Task)``, rows for a select of several columns).
        size: the page size asked for (``len(items)`` may be smaller on the last page).
        has_next / has_prev: whether rows follow / precede this page.
        next_cursor / prev_cursor: pass to ``paginate(..., cursor=...)`` for the next or the
            previous page (``None`` when there is none, and always for OFFSET pages).
        number: the page number, 1 for the first page; for keyset pages it is counted along
            the walk from the first page.
        total / pages: the row and page counts (OFFSET pages only; keyset pages do not count).
    """

    items: list[T]
    size: int
    has_next: bool
    has_prev: bool
    next_cursor: str | None = None
    prev_cursor: str | None = None
    number: int = 1
    total: int | None = None
    pages: int | None = None
    _first_row: int | None = field(default=None, compare=False)
    _stmt: Any = field(default=None, compare=False)  # for DataFrame columns and dtypes
    _rows: list[Any] | None = field(default=None, compare=False)  # items as rows

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def _where(self) -> tuple[str, str]:
        """("Page 2 of 6", "rows 21-40 of 110"): which page, and what it holds."""
        if self.total is None or self.pages is None:
            return f"Page {self.number}", f"{len(self.items):,} rows"
        if self.items and self._first_row is not None:
            last = self._first_row + len(self.items) - 1
            held = f"rows {self._first_row:,}-{last:,} of {self.total:,}"
        else:
            held = f"no rows here, {self.total:,} in all"
        return f"Page {self.number} of {self.pages}", held

    def __repr__(self) -> str:
        title, held = self._where()
        moves = [m for m, ok in (("has_prev", self.has_prev), ("has_next", self.has_next)) if ok]
        return f"<{title}: {held} (size {self.size:,}){'; ' + ', '.join(moves) if moves else ''}>"

    def _repr_html_(self) -> str:
        columns, rows = _table(self.items)
        long = len(rows) > _HTML_ROWS
        shown: list[list[str] | None] = [*rows[:10], None, *rows[-10:]] if long else list(rows)
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
            if row is not None
            else f"<tr><td colspan='{len(columns)}'>&hellip;</td></tr>"
            for row in shown
        )
        before = "&larr; earlier rows" if self.has_prev else "first page"
        after = "later rows &rarr;" if self.has_next else "last page"
        hint = ""
        if self.next_cursor is not None:
            hint = (
                "<br><small>next: <code>await taskkit.paginate(session, stmt, "
                "cursor=page.next_cursor)</code></small>"
            )
        title, held = self._where()
        return (
            f"<div><b>{title}</b>: {held} (size {self.size:,}) &middot; {before} &middot; {after}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{hint}</div>"
        )

    def to_dataframe(self) -> Any:
        """The items as a pandas DataFrame (``taskkit.frames.models_to_frame``).

        Columns and dtypes come from the statement's models, so an empty page has them too.
        """
        from taskkit.frames import models_to_frame  # pandas is heavy; load it when asked

        model = _selected_model(self._stmt)
        if model is not None:
            return models_to_frame(self.items, model)
        if self._stmt is not None and self._rows is not None:
            return models_to_frame(self._rows, self._stmt)
        return models_to_frame(self.items)


def _selected_model(stmt: Any) -> type[BaseModel] | None:
    """The model class when ``stmt`` selects exactly one model, as ``select(Task)`` does."""
    if not isinstance(stmt, Select):
        return None
    described = stmt.column_descriptions
    if len(described) != 1:
        return None
    entity = described[0].get("expr")
    return entity if isinstance(entity, type) and issubclass(entity, BaseModel) else None


def _cell(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    text = "" if value is None else str(value)
    if len(text) > _HTML_TEXT:
        text = text[: _HTML_TEXT - 1] + "\u2026"
    return "<i>NULL</i>" if value is None else html.escape(text)


def _table(items: Sequence[Any]) -> tuple[list[str], list[list[str]]]:
    """Column names and escaped cells for items that are models, rows or plain values."""
    if not items:
        return ["(no rows)"], []
    first = items[0]
    if isinstance(first, BaseModel):
        columns = list(type(first).model_fields)
        return columns, [[_cell(getattr(i, c, None)) for c in columns] for i in items]
    if isinstance(first, Row):
        columns = list(first._fields)
        return columns, [[_cell(v) for v in i] for i in items]
    return ["value"], [[_cell(i)] for i in items]


# ---------------------------------------------------------------------------------------------
# The plan: a statement's ORDER BY made total and explicit.


@dataclass(frozen=True)
class _Key:
    expr: ColumnElement[Any]
    descending: bool
    nulls_first: bool  # where NULLs go in the forward order
    nullable: bool

    def clause(self, *, reverse: bool = False) -> ColumnElement[Any]:
        clause = self.expr.desc() if self.descending != reverse else self.expr.asc()
        if self.nullable:
            first = self.nulls_first != reverse
            clause = clause.nulls_first() if first else clause.nulls_last()
        return clause


@dataclass(frozen=True)
class _Plan:
    base: Select[Any]  # the statement without its ORDER BY
    keys: tuple[_Key, ...]
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
    froms = stmt.get_final_froms()
    # The ORM builds some FROM items anew at each compile (the anonymous alias of a many-to-many
    # relationship's link table): a column of one would name a second copy of the table, a
    # cartesian product. The statement's own items are the same objects in a second compile.
    own = {id(item) for item in _flat_froms(stmt.get_final_froms())}
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
_plans: weakref.WeakKeyDictionary[Select[Any], _Plan] = weakref.WeakKeyDictionary()


def _plan(stmt: Any) -> _Plan:
    stmt = check_select(stmt)
    plan = _plans.get(stmt)
    if plan is None:
        plan = _plans[stmt] = _make_plan(stmt)
    return plan


def _make_plan(stmt: Select[Any]) -> _Plan:
    if (
        stmt._limit_clause is not None
        or stmt._offset_clause is not None
        or stmt._fetch_clause is not None
    ):
        raise InvalidArgumentError(
            "stmt must not have LIMIT or OFFSET: pagination adds its own; remove .limit() / "
            ".offset() and pass size"
        )
    if stmt._group_by_clauses or stmt._having_criteria or stmt._distinct:
        raise InvalidArgumentError(
            "stmt has GROUP BY or DISTINCT, which keyset pagination cannot seek through; page "
            "over it as a subquery: sq = stmt.subquery(); select(sq).order_by(sq.c.<unique "
            "columns>)"
        )
    tail, known, outer = _walk_froms(stmt)
    keys: list[_Key] = []
    for clause in stmt._order_by_clauses:
        expr, descending, nulls_first = _parse_order(clause)
        if any(k.expr.compare(expr) for k in keys):
            continue  # a repeated key changes nothing
        keys.append(
            _Key(
                expr,
                descending,
                bool(nulls_first),
                _nullable(expr, outer) or nulls_first is not None,
            )
        )
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
            keys.append(_Key(column, descending, False, _nullable(column, outer)))
    return _Plan(base=stmt.order_by(None), keys=tuple(keys), unique=known)


# ---------------------------------------------------------------------------------------------
# Seeking.


def _bound(key: _Key, value: Any) -> ColumnElement[Any]:
    return literal(value, key.expr.type)


def _after(key: _Key, value: Any, *, reverse: bool) -> ColumnElement[bool]:
    """Rows whose ``key`` comes strictly after ``value`` in the (possibly reversed) order."""
    nulls_first = key.nulls_first != reverse
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


def _not_before(key: _Key, value: Any, *, reverse: bool) -> ColumnElement[bool]:
    """``key`` at or after a non-NULL ``value`` where the key holds no NULL: an index range."""
    if key.descending != reverse:
        return key.expr <= _bound(key, value)
    return key.expr >= _bound(key, value)


def _equal(key: _Key, value: Any) -> ColumnElement[bool]:
    return key.expr.is_(None) if value is None else key.expr == _bound(key, value)


def _seek(
    keys: Sequence[_Key], values: Sequence[Any], *, reverse: bool, inclusive: bool, dialect: Dialect
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
        after = _after(key, value, reverse=reverse)
        if condition is None:
            condition = or_(after, _equal(key, value)) if inclusive else after
        else:
            condition = or_(after, and_(_equal(key, value), condition))
    assert condition is not None  # a plan always has keys
    if simple and len(keys) > 1:
        # A redundant bound on the first key, so that an index on it narrows the scan.
        condition = and_(_not_before(keys[0], values[0], reverse=reverse), condition)
    return condition


# ---------------------------------------------------------------------------------------------
# Cursors.

_CURSOR_VERSION = 1
_CURSOR_MAX_LENGTH = 65_536
_CHECKSUM_KEY = b"taskkit.paging.cursor"  # detects edits and truncation; not a secret
_FORWARD, _BACKWARD = "a", "b"


def _fingerprint(plan: _Plan, dialect: Dialect) -> str:
    """A hash of the ordered statement's SQL and bound values (its filters and ordering)."""
    known = plan.fingerprints.get((dialect.name, dialect.driver))
    if known is not None:
        return known
    compiled = plan.ordered().compile(dialect=dialect)
    params = sorted((name, repr(value)) for name, value in compiled.params.items())
    digest = hashlib.blake2b(digest_size=12)
    digest.update(str(compiled).encode())
    digest.update(repr(params).encode())
    fingerprint = plan.fingerprints[dialect.name, dialect.driver] = digest.hexdigest()
    return fingerprint


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    # validate: the lenient default skips characters outside the alphabet.
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _checksum(payload: bytes) -> str:
    return _b64(hashlib.blake2b(payload, digest_size=8, key=_CHECKSUM_KEY).digest())


def _encode_value(value: Any) -> list[Any]:
    # Order matters: bool is an int, datetime is a date, StrEnum is a str.
    if value is None:
        return ["z"]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", int(value)]
    if isinstance(value, float):
        return ["f", repr(value)]
    if isinstance(value, str):
        return ["s", str(value)]
    if isinstance(value, Decimal):
        return ["d", str(value)]
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["D", value.isoformat()]
    if isinstance(value, time):
        return ["T", value.isoformat()]
    if isinstance(value, timedelta):
        return ["e", [value.days, value.seconds, value.microseconds]]
    if isinstance(value, UUID):
        return ["u", str(value)]
    if isinstance(value, bytes):
        return ["y", _b64(value)]
    raise InvalidArgumentError(
        f"cannot paginate by a sort key holding a {type(value).__name__} value ({value!r}); "
        "sort keys may be numbers, text, dates and times, UUIDs, bytes or NULL"
    )


_DECODERS: dict[str, Any] = {
    "b": lambda v: v if isinstance(v, bool) else _bad(),
    "i": lambda v: v if isinstance(v, int) and not isinstance(v, bool) else _bad(),
    "f": lambda v: float(v) if isinstance(v, str) else _bad(),
    "s": lambda v: v if isinstance(v, str) else _bad(),
    "d": lambda v: Decimal(v) if isinstance(v, str) else _bad(),
    "t": lambda v: datetime.fromisoformat(v) if isinstance(v, str) else _bad(),
    "D": lambda v: date.fromisoformat(v) if isinstance(v, str) else _bad(),
    "T": lambda v: time.fromisoformat(v) if isinstance(v, str) else _bad(),
    "e": lambda v: timedelta(*v) if isinstance(v, list) and len(v) == 3 else _bad(),
    "u": lambda v: UUID(v) if isinstance(v, str) else _bad(),
    "y": lambda v: _unb64(v) if isinstance(v, str) else _bad(),
}


def _bad() -> Any:
    raise ValueError("malformed cursor value")


def _decode_value(item: Any) -> Any:
    if item == ["z"]:
        return None
    if not (isinstance(item, list) and len(item) == 2 and item[0] in _DECODERS):
        raise ValueError("malformed cursor value")
    return _DECODERS[item[0]](item[1])


def _encode_cursor(
    fingerprint: str, direction: str, inclusive: bool, number: int, values: Sequence[Any]
) -> str:
    body = [_CURSOR_VERSION, fingerprint, direction, int(inclusive), number]
    body.append([_encode_value(v) for v in values])
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return f"{_b64(payload)}.{_checksum(payload)}"


def _short(cursor: str) -> str:
    return repr(cursor if len(cursor) <= 40 else cursor[:37] + "...")


def _decode_cursor(cursor: Any, fingerprint: str, n_keys: int) -> tuple[str, bool, int, list[Any]]:
    """(direction, inclusive, page number, key values) of a cursor made for ``fingerprint``."""
    if not isinstance(cursor, str):
        raise InvalidCursorError(
            "cursor must be a string from page.next_cursor or page.prev_cursor, or None for "
            f"the first page; got {type(cursor).__name__}"
        )
    invalid = InvalidCursorError(
        f"cursor {_short(cursor)} is not a valid taskkit cursor: it was edited, truncated or "
        "made elsewhere; pass page.next_cursor or page.prev_cursor exactly as given"
    )
    if len(cursor) > _CURSOR_MAX_LENGTH or cursor.count(".") != 1:
        raise invalid
    encoded, checksum = cursor.split(".")
    try:
        payload = _unb64(encoded)
    except (binascii.Error, ValueError):
        raise invalid from None
    if not hmac.compare_digest(_checksum(payload), checksum):
        raise invalid
    try:
        body = json.loads(payload)
        version, made_for, direction, inclusive, number, raw_values = body
        if version != _CURSOR_VERSION:
            raise InvalidCursorError(
                f"cursor {_short(cursor)} was made by another version of taskkit (format "
                f"{version!r}, this one reads {_CURSOR_VERSION}); start again from the first page"
            )
        if (
            not isinstance(made_for, str)
            or direction not in (_FORWARD, _BACKWARD)
            or inclusive not in (0, 1)
            or not isinstance(number, int)
            or not isinstance(raw_values, list)
        ):
            raise ValueError("malformed cursor")
        values = [_decode_value(v) for v in raw_values]
    except InvalidCursorError:
        raise
    except (ValueError, TypeError, ArithmeticError, RecursionError):
        raise invalid from None
    if made_for != fingerprint or len(values) != n_keys:
        raise InvalidCursorError(
            f"cursor {_short(cursor)} belongs to a different statement: its ordering or "
            "filters differ (or it came from another database); a cursor only works with the "
            "statement whose page gave it"
        )
    return direction, bool(inclusive), max(1, number), values


# ---------------------------------------------------------------------------------------------
# Fetching pages.


def _check_size(size: Any) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidArgumentError(
            f"size must be an integer from 1 to {MAX_PAGE_SIZE:,}; got {size!r}"
        )
    return size


def _dialect(session: AsyncSession) -> Dialect:
    return session.get_bind().dialect


@dataclass(frozen=True)
class _Fetched:
    items: list[Any]  # what session.exec(stmt) would give: scalars for a SelectOfScalar
    rows: list[Row[Any]]  # the same as rows, for DataFrames
    keys: list[tuple[Any, ...]]  # each row's sort-key values


async def _fetch(
    session: AsyncSession, query: Select[Any], *, n_keys: int, scalar: bool
) -> _Fetched:
    """Run ``query``, a statement with ``n_keys`` sort-key columns added at the end."""

    def run(sync_session: Any) -> _Fetched:
        # The ORM Session's own execute: SQLModel's exec() would return only the first
        # column of a SelectOfScalar, and its execute() warns.
        result = OrmSession.execute(sync_session, query)
        width = len(result.keys()) - n_keys
        frozen = result.freeze()
        rows = list(frozen().columns(*range(width)).all())
        items = list(frozen().scalars(0).all()) if scalar else list(rows)
        keys = []
        if n_keys:
            keys = [tuple(r) for r in frozen().columns(*range(width, width + n_keys)).all()]
        return _Fetched(items, rows, keys)

    return await session.run_sync(run)


async def _keyset_page(
    session: AsyncSession,
    stmt: Select[Any],
    plan: _Plan,
    fingerprint: str,
    *,
    size: int,
    cursor: str | None,
) -> Page[Any]:
    dialect = _dialect(session)
    backward, inclusive, number, values = False, False, 1, None
    if cursor is not None:
        direction, inclusive, number, values = _decode_cursor(cursor, fingerprint, len(plan.keys))
        backward = direction == _BACKWARD
    query = plan.base
    if values is not None:
        query = query.where(
            _seek(plan.keys, values, reverse=backward, inclusive=inclusive, dialect=dialect)
        )
    query = (
        query.order_by(*(k.clause(reverse=backward) for k in plan.keys))
        .limit(size + 1)
        .add_columns(*(k.expr.label(f"_taskkit_key_{i}") for i, k in enumerate(plan.keys)))
    )
    fetched = await _fetch(
        session, query, n_keys=len(plan.keys), scalar=isinstance(stmt, SelectOfScalar)
    )
    items, rows, keys = fetched.items, fetched.rows, fetched.keys
    if not plan.unique:
        for earlier, later in itertools.pairwise(keys):
            if earlier == later:
                raise InvalidArgumentError(
                    f"stmt's ORDER BY is not unique: two rows share the sort key {earlier!r}, "
                    "so pages could skip rows; end the ORDER BY with columns that are unique "
                    "together"
                )
    more = len(items) > size
    items, rows, keys = items[:size], rows[:size], keys[:size]
    if backward:
        items.reverse()
        rows.reverse()
        keys.reverse()
        has_prev, has_next = more, True
    else:
        has_prev, has_next = values is not None, more
    if not has_prev:
        number = 1
    next_cursor = prev_cursor = None
    if keys:
        if has_next:
            next_cursor = _encode_cursor(fingerprint, _FORWARD, False, number + 1, keys[-1])
        if has_prev:
            prev_cursor = _encode_cursor(fingerprint, _BACKWARD, False, number - 1, keys[0])
    elif values is not None:
        # Nothing on this side of the cursor (rows were deleted): point back at its position.
        if backward:
            next_cursor = _encode_cursor(fingerprint, _FORWARD, True, number, values)
        else:
            prev_cursor = _encode_cursor(fingerprint, _BACKWARD, True, number - 1, values)
    return Page(
        items=items,
        size=size,
        has_next=has_next,
        has_prev=has_prev,
        next_cursor=next_cursor,
        prev_cursor=prev_cursor,
        number=number,
        _stmt=stmt,
        _rows=rows,
    )


@overload
async def paginate(
    session: AsyncSession, stmt: SelectOfScalar[T], *, size: int = 50, cursor: str | None = None
) -> Page[T]: ...
@overload
async def paginate(
    session: AsyncSession, stmt: Select[Any], *, size: int = 50, cursor: str | None = None
) -> Page[Any]: ...
async def paginate(
    session: AsyncSession, stmt: Select[Any], *, size: int = 50, cursor: str | None = None
) -> Page[Any]:
    """One page of ``stmt`` by keyset (seek) pagination: deep pages cost what the first costs.

    Follow ``page.next_cursor`` until ``page.has_next`` is false and every row comes exactly
    once, in the statement's order; ``page.prev_cursor`` walks back through the same pages.
    The order is made total and explicit: the primary key of each table in FROM is appended
    as a tiebreak (in the last key's direction), an unordered statement is ordered by primary
    key, and sort keys that can be NULL get ``NULLS LAST`` unless the statement says
    ``nulls_first()`` / ``nulls_last()``, so SQLite and PostgreSQL give the same pages.

    Args:
        session: an ``AsyncSession``; a transaction this call opens is ended (on SQLite it
            is a deferred one, which neither takes nor waits for the write lock).
        stmt: a ``select()``, e.g. ``select_tasks(status="pending")`` or
            ``select(Task).order_by(Task.completed_at.desc())``. See the module documentation
            for what it may not contain.
        size: rows per page, 1 to 10,000.
        cursor: ``None`` for the first page, else ``next_cursor`` or ``prev_cursor`` of a page
            of this same statement.

    Returns:
        A :class:`Page`; ``total`` and ``pages`` are ``None`` (keyset pages do not count).

    Raises:
        InvalidArgumentError: a bad ``size`` or a statement that cannot be paged (the message
            says why and what to do).
        InvalidCursorError: ``cursor`` is not one taskkit made for this statement.
    """
    size = _check_size(size)
    plan = _plan(stmt)
    async with reading(session):
        fingerprint = _fingerprint(plan, _dialect(session))
        return await _keyset_page(session, stmt, plan, fingerprint, size=size, cursor=cursor)


async def pages(
    session: AsyncSession, stmt: Select[Any], *, size: int = 50
) -> AsyncIterator[Page[Any]]:
    """Every page of ``stmt`` in order (keyset pagination), for streaming through a result.

    ``async for page in pages(session, stmt, size=1000): ...``. Each page is fetched when
    asked for and its transaction ended, so nothing is held open between pages; a result with
    no rows yields no page.

    Raises:
        InvalidArgumentError: as :func:`paginate`.
    """
    size = _check_size(size)
    plan = _plan(stmt)
    cursor: str | None = None
    while True:
        async with reading(session):
            fingerprint = _fingerprint(plan, _dialect(session))
            page = await _keyset_page(session, stmt, plan, fingerprint, size=size, cursor=cursor)
        if page.items:
            yield page
        if not page.has_next:
            return
        cursor = page.next_cursor


@overload
async def paginate_offset(
    session: AsyncSession, stmt: SelectOfScalar[T], *, page: int = 1, size: int = 50
) -> Page[T]: ...
@overload
async def paginate_offset(
    session: AsyncSession, stmt: Select[Any], *, page: int = 1, size: int = 50
) -> Page[Any]: ...
async def paginate_offset(
    session: AsyncSession, stmt: Select[Any], *, page: int = 1, size: int = 50
) -> Page[Any]:
    """Page number ``page`` of ``stmt`` by LIMIT/OFFSET, with the total row and page counts.

    For small tables and for teaching. Its cost grows with depth: the database reads and
    discards every row before the page (at 90% of 1M rows, hundreds of times the first page),
    and it counts all rows on every call; rows inserted or deleted meanwhile shift pages. Use
    :func:`paginate` for large results. Like it, this appends the primary-key tiebreak and
    explicit NULL placement: OFFSET over a non-unique ORDER BY returns some rows twice and
    others never on PostgreSQL.

    Args:
        session: an ``AsyncSession``; a transaction this call opens is ended.
        stmt: a ``select()`` (same rules as :func:`paginate`).
        page: the page number, from 1. A page past the end is empty (``has_prev`` is true).
        size: rows per page, 1 to 10,000.

    Returns:
        A :class:`Page` with ``number``, ``total`` and ``pages`` set (``pages`` is at least 1);
        its cursors are ``None``.

    Raises:
        InvalidArgumentError: a bad ``page`` or ``size``, or a statement that cannot be paged.
    """
    size = _check_size(size)
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise InvalidArgumentError(f"page must be an integer from 1; got {page!r}")
    plan = _plan(stmt)
    async with reading(session):
        total = await count(session, stmt)
        query = plan.ordered().limit(size).offset((page - 1) * size)
        fetched = await _fetch(session, query, n_keys=0, scalar=isinstance(stmt, SelectOfScalar))
    n_pages = max(1, math.ceil(total / size))
    return Page(
        items=fetched.items,
        size=size,
        has_next=page < n_pages,
        has_prev=page > 1,
        number=page,
        total=total,
        pages=n_pages,
        _first_row=(page - 1) * size + 1,
        _stmt=stmt,
        _rows=fetched.rows,
    )
