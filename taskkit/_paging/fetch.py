"""Fetching pages: the entry points paginate, pages and paginate_offset."""

import itertools
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, overload

from sqlalchemy.engine import Dialect, Row
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql import Select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from taskkit._checks import positive_int
from taskkit._database.engine import reading
from taskkit._errors import InvalidArgumentError
from taskkit._paging.cursor import (
    BACKWARD,
    FORWARD,
    decode_cursor,
    encode_cursor,
    int_limits,
    statement_fingerprint,
)
from taskkit._paging.page import Page, T
from taskkit._paging.plan import Plan, plan_for
from taskkit._paging.seek import seek_parts
from taskkit._sql.select import count

#: The largest page size paginate, paginate_offset and pages accept.
MAX_PAGE_SIZE = 10_000


def check_size(size: Any) -> int:
    return positive_int("size", size, high=MAX_PAGE_SIZE)


def dialect_name(session: AsyncSession) -> Dialect:
    return session.get_bind().dialect


@dataclass(frozen=True)
class _Fetched:
    items: list[Any]  # what session.exec(stmt) would give: scalars for a SelectOfScalar
    rows: list[Row[Any]]  # the same as rows, for DataFrames
    keys: list[tuple[Any, ...]]  # each row's sort-key values


async def fetch_page(
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
    plan: Plan,
    fingerprint: str,
    *,
    size: int,
    cursor: str | None,
) -> Page[Any]:
    dialect = dialect_name(session)
    backward, inclusive, number, values = False, False, 1, None
    if cursor is not None:
        limits = int_limits(plan, dialect)
        direction, inclusive, number, values = decode_cursor(
            cursor, fingerprint, len(plan.keys), limits
        )
        backward = direction == BACKWARD
    parts: list[Any] = [None]
    if values is not None:
        parts = seek_parts(
            plan.keys, values, reverse=backward, inclusive=inclusive, dialect=dialect
        )
    ordered = plan.base.order_by(*(k.clause(reverse=backward) for k in plan.keys)).add_columns(
        *(k.expr.label(f"_taskkit_key_{i}") for i, k in enumerate(plan.keys))
    )
    items: list[Any] = []
    rows: list[Row[Any]] = []
    keys: list[tuple[Any, ...]] = []
    for part in parts:  # consecutive stretches of the order: stop once the page is full
        # The statement run, limited to what the page still needs: what Page's HTML shows
        # (the last one, when a page is read as two stretches of the order).
        query = (ordered if part is None else ordered.where(part)).limit(size + 1 - len(items))
        fetched = await fetch_page(
            session,
            query,
            n_keys=len(plan.keys),
            scalar=isinstance(stmt, SelectOfScalar),
        )
        items += fetched.items
        rows += fetched.rows
        keys += fetched.keys
        if len(items) > size:
            break
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
            next_cursor = encode_cursor(fingerprint, FORWARD, False, number + 1, keys[-1])
        if has_prev:
            prev_cursor = encode_cursor(fingerprint, BACKWARD, False, number - 1, keys[0])
    elif values is not None:
        # Nothing on this side of the cursor (rows were deleted): point back at its position.
        if backward:
            next_cursor = encode_cursor(fingerprint, FORWARD, True, number, values)
        else:
            prev_cursor = encode_cursor(fingerprint, BACKWARD, True, number - 1, values)
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
        _query=(query, dialect),
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
    as a tiebreak (in the last key's direction) and an unordered statement is ordered by
    primary key. NULLs go where the statement puts them: where ``nulls_first()`` /
    ``nulls_last()`` say, else where the database puts them by default (SQLite: first
    ascending, last descending; PostgreSQL: the reverse), as ``session.exec(stmt)`` would.

    Args:
        session: an ``AsyncSession``; a transaction this call opens is ended (on SQLite it
            is a deferred one, which neither takes nor waits for the write lock).
        stmt: a ``select()``, e.g. ``select_tasks(status="pending")`` or
            ``select(Task).order_by(Task.completed_at.desc())``. The ``taskkit._paging``
            package documentation says what it may not contain.
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
    size = check_size(size)
    plan = plan_for(stmt)
    async with reading(session):
        fingerprint = statement_fingerprint(plan, dialect_name(session))
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
    size = check_size(size)
    plan = plan_for(stmt)
    cursor: str | None = None
    while True:
        async with reading(session):
            fingerprint = statement_fingerprint(plan, dialect_name(session))
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
    :func:`paginate` for large results. Like it, this appends the primary-key tiebreak
    (OFFSET over a non-unique ORDER BY returns some rows twice and others never on
    PostgreSQL) and keeps the statement's NULL placement.

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
    size = check_size(size)
    page = positive_int("page", page)
    plan = plan_for(stmt)
    async with reading(session):
        total = await count(session, stmt)
        query = plan.ordered().limit(size).offset((page - 1) * size)
        fetched = await fetch_page(
            session, query, n_keys=0, scalar=isinstance(stmt, SelectOfScalar)
        )
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
        _query=(query, dialect_name(session)),
    )
