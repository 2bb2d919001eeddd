"""Checking that an argument is a ``select()`` statement, and counting its rows."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql import Select
from sqlmodel.ext.asyncio.session import AsyncSession

from taskkit._database.engine import reading
from taskkit._errors import InvalidArgumentError
from taskkit._sqlalchemy_internals import shapes_rows

__all__ = ["check_select", "count", "count_select"]


def check_select(stmt: Any, argument: str = "stmt") -> Select[Any]:
    """``stmt`` if it is a ``select()`` statement, else an InvalidArgumentError naming
    ``argument`` (the caller's name for it)."""
    if not isinstance(stmt, Select):
        raise InvalidArgumentError(
            f"{argument} must be a select() statement such as select(Task) or select_tasks(); "
            f"got {type(stmt).__name__}"
        )
    return stmt


def _has_row_shaping(stmt: Select[Any]) -> bool:
    # Statements whose row count is not the row count of their FROM/WHERE.
    return shapes_rows(stmt)


def count_select(stmt: Select[Any]) -> Select[Any]:
    """A statement selecting the number of rows ``stmt`` returns (its ORDER BY dropped).

    A plain statement is counted in place
    (``with_only_columns(func.count(), maintain_column_froms=True)``); one with GROUP BY,
    DISTINCT, LIMIT or OFFSET is wrapped in a subquery, so it counts its rows, not its groups'.
    """
    if _has_row_shaping(stmt):
        return select(func.count()).select_from(stmt.order_by(None).subquery())
    return stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)


async def count(session: AsyncSession, stmt: Select[Any]) -> int:
    """How many rows ``stmt`` returns, counted in the database.

    ORDER BY is dropped. A plain statement is counted in place
    (``with_only_columns(func.count(), maintain_column_froms=True)``); one with GROUP BY,
    DISTINCT, LIMIT or OFFSET is wrapped in a subquery, so it counts its rows, not its groups'.

    Args:
        session: an ``AsyncSession``; a transaction this call opens is ended.
        stmt: any ``select()`` statement, e.g. ``select_tasks(status="pending")``.

    Returns:
        The number of rows.

    Raises:
        InvalidArgumentError: ``stmt`` is not a select statement.
    """
    counting: Any = count_select(check_select(stmt))  # exec() has no overload for a bare count
    async with reading(session):
        value = (await session.exec(counting)).one()  # a scalar, or a row for Core selects
    return int(value if isinstance(value, int) else value[0])
