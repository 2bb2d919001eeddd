"""The last page of a result, read as a reversed keyset: no OFFSET, no count."""

import math
from typing import Any

from sqlalchemy.sql import Select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from taskkit._database.engine import reading
from taskkit._paging.cursor import BACKWARD, encode_cursor, statement_fingerprint
from taskkit._paging.fetch import check_size, dialect_name, fetch_page
from taskkit._paging.page import Page
from taskkit._paging.plan import plan_for


async def last_page(
    session: AsyncSession, stmt: Select[Any], *, size: int = 50, total: int | None = None
) -> Page[Any]:
    """The last ``size`` rows of ``stmt`` (fewer when the result is shorter), in its order.

    The statement's order is reversed and its first ``size`` rows read, so the last page costs
    what the first costs (an index serving the order is read from its other end). Its
    ``prev_cursor`` walks back through the pages before it with :func:`paginate`; those pages
    end where the last page starts, so they may hold rows that the first-page walk put on
    different page boundaries (the rows are the same, each once).

    Args:
        session: an ``AsyncSession``; a transaction this call opens is ended.
        stmt: a ``select()`` (same rules as :func:`paginate`).
        size: rows per page, 1 to 10,000.
        total: the row count, when known: it numbers the page (``number`` is the page count,
            ``ceil(total / size)``); without it ``number`` is 1, as nothing was counted.

    Returns:
        A :class:`Page` with ``has_next`` false.
    """
    size = check_size(size)
    plan = plan_for(stmt)
    async with reading(session):
        dialect = dialect_name(session)
        fingerprint = statement_fingerprint(plan, dialect)
        query = (
            plan.ordered(reverse=True)
            .limit(size + 1)
            .add_columns(*(k.expr.label(f"_taskkit_key_{i}") for i, k in enumerate(plan.keys)))
        )
        fetched = await fetch_page(
            session, query, n_keys=len(plan.keys), scalar=isinstance(stmt, SelectOfScalar)
        )
    more = len(fetched.items) > size
    items, rows, keys = fetched.items[:size], fetched.rows[:size], fetched.keys[:size]
    items.reverse()
    rows.reverse()
    keys.reverse()
    number = max(1, math.ceil(total / size)) if total is not None else 1
    prev_cursor = None
    if more and keys:
        prev_cursor = encode_cursor(fingerprint, BACKWARD, False, number - 1, keys[0])
    return Page(
        items=items,
        size=size,
        has_next=False,
        has_prev=more,
        prev_cursor=prev_cursor,
        number=number,
        _stmt=stmt,
        _rows=rows,
        _query=(query, dialect),
    )
