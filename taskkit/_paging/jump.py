"""A page in the middle of a result: its first row found by skipping through the sort key."""

from typing import Any

from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql import Select
from sqlmodel.ext.asyncio.session import AsyncSession

from taskkit._checks import int_in_range
from taskkit._database.engine import reading
from taskkit._paging.cursor import FORWARD, encode_cursor, statement_fingerprint
from taskkit._paging.fetch import check_size, dialect_name, paginate
from taskkit._paging.last import last_page
from taskkit._paging.page import Page
from taskkit._paging.plan import plan_for

__all__ = ["page_at"]


async def page_at(
    session: AsyncSession, stmt: Select[Any], *, start: int, size: int = 50, total: int
) -> Page[Any]:
    """The ``size`` rows of ``stmt`` from row ``start`` (0-based), as a keyset page.

    Keyset pagination cannot skip to a row number, so the row before the page is found by an
    OFFSET over the sort-key columns alone, from whichever end of the order is nearer (an index
    that serves the order is then walked, not the table, and at most half of it); the page
    itself and every page after or before it are keyset pages from there, at a page's cost.

    Args:
        session: an ``AsyncSession``; a transaction this call opens is ended.
        stmt: a ``select()`` (same rules as :func:`paginate`).
        start: the first row's position, from 0 to ``total - 1``.
        size: rows per page, 1 to 10,000.
        total: the row count (``count(session, stmt)``), which says which end is nearer.

    Returns:
        A :class:`Page` numbered ``start // size + 1``, with cursors both ways.
    """
    size = check_size(size)
    start = int_in_range("start", start, low=0, high=max(0, total - 1))
    if start == 0:
        return await paginate(session, stmt, size=size)
    plan = plan_for(stmt)
    # The key of the row just before the page: row start - 1, or from the end row total - start.
    backward = start - 1 >= total - start
    skip = total - start if backward else start - 1
    keys = plan.ordered(reverse=backward).with_only_columns(
        *(k.expr.label(f"_taskkit_key_{i}") for i, k in enumerate(plan.keys)),
        maintain_column_froms=True,
    )
    async with reading(session):
        dialect = dialect_name(session)
        fingerprint = statement_fingerprint(plan, dialect)
        query = keys.offset(skip).limit(1)
        # The ORM Session's own execute, as paging's reads: SQLModel's warns.
        row = await session.run_sync(lambda sync: OrmSession.execute(sync, query).first())
    if row is None:  # rows were deleted since the count: the last page
        return await last_page(session, stmt, size=size)
    number = start // size + 1
    cursor = encode_cursor(fingerprint, FORWARD, False, number, tuple(row))
    return await paginate(session, stmt, size=size, cursor=cursor)
