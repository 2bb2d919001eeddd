"""Running a flow statement and giving its columns their final dtypes.

The measures give their joins whole (``select_from(a.outerjoin(b, ...))``) rather than with
``.join()`` or ``.outerjoin()``, which SQLAlchemy works out only when it compiles: the frame's
column types are then read from the statement as it stands (``named_froms``), with no compile
beyond the one that runs it (a report's flow section compiled its statements 52 times, 13 now).
"""

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql import Select

from taskkit._errors import InvalidArgumentError
from taskkit._flow.period import as_dates
from taskkit._frames import to_dataframe

__all__ = ["Source", "check_source", "dialect_of", "read"]

#: Where a flow measure reads from: what ``to_dataframe`` reads from.
Source = AsyncEngine | AsyncConnection | AsyncSession


def check_source(source: Any) -> Source:
    if isinstance(source, AsyncEngine | AsyncConnection | AsyncSession):
        return source
    raise InvalidArgumentError(
        "source must be an AsyncEngine (taskkit.connect(...)), an AsyncConnection or an "
        f"AsyncSession; got {type(source).__name__}"
    )


def dialect_of(source: Source) -> str:
    """The name of the database ``source`` reads (``sqlite``, ``postgresql``): a few
    statements are written differently for each, for speed (the results are the same)."""
    if isinstance(source, AsyncSession):
        return source.get_bind().dialect.name
    return source.dialect.name


async def read(
    source: Source,
    stmt: Select[Any],
    *,
    days: Iterable[str] = (),
    dtypes: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The rows of ``stmt`` as a frame: the ``days`` columns (day ordinals) as dates, the others
    as ``dtypes`` says (every column keeps ``to_dataframe``'s dtype where it says nothing)."""
    frame = await to_dataframe(source, stmt)
    for name in days:
        frame[name] = as_dates(frame[name].to_numpy(dtype="int64"))
    if dtypes:
        frame = frame.astype(dict(dtypes))
    return frame
