"""The period a flow measure covers: whole UTC calendar days, first and last day included.

Days travel through SQL as ordinals (``date.toordinal()``: 0001-01-01 is day 1), integers that
both databases compute alike (``DayOrdinal``) and that pandas turns into dates at the end.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql.selectable import CTE

from taskkit._errors import InvalidArgumentError

__all__ = ["DAY_DTYPE", "Period", "as_dates", "calendar", "check_day", "check_period"]

#: The dtype of day columns: a calendar day (UTC) as midnight, without a time zone.
DAY_DTYPE = "datetime64[s]"
# date.toordinal() of 1970-01-01: the offset from ordinals to numpy's days since the epoch.
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def check_day(name: str, value: Any) -> date:
    """``value`` as a calendar day: a ``date`` or an ISO 8601 date string (``"2025-06-01"``)."""
    if isinstance(value, datetime):
        raise InvalidArgumentError(
            f"{name} must be a calendar day (a date such as date(2025, 6, 1) or '2025-06-01'): "
            f"flow measures count whole UTC days; got the datetime {value.isoformat()!r}"
        )
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidArgumentError(
        f"{name} must be a calendar day: a date or an ISO 8601 date string such as "
        f"'2025-06-01'; got {value!r}"
    )


@dataclass(frozen=True)
class Period:
    """The days ``start`` to ``end``, both included, in UTC."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def first(self) -> int:
        """The first day's ordinal."""
        return self.start.toordinal()

    @property
    def last(self) -> int:
        """The last day's ordinal."""
        return self.end.toordinal()

    @property
    def begins(self) -> datetime:
        """Midnight UTC at the start of the first day."""
        return datetime.combine(self.start, time(), UTC)

    @property
    def ends(self) -> datetime:
        """Midnight UTC after the last day (the period holds moments before it)."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    def dates(self) -> pd.DatetimeIndex:
        """Every day of the period, as midnight (the dtype of day columns)."""
        return pd.date_range(self.start, self.end, freq="D", unit="s")


def check_period(start: Any, end: Any) -> Period:
    """The period from ``start`` to ``end`` (both included); each is a date or an ISO date."""
    first, last = check_day("start", start), check_day("end", end)
    if last < first:
        raise InvalidArgumentError(
            f"end ({last.isoformat()}) must not be before start ({first.isoformat()})"
        )
    return Period(first, last)


def calendar(period: Period, name: str = "calendar") -> CTE:
    """A recursive CTE with one row per day of ``period``: its ordinal, column ``day``."""
    first = sa.select(sa.literal(period.first, sa.Integer).label("day")).cte(name, recursive=True)
    following = sa.select((first.c.day + 1).label("day")).where(first.c.day < period.last)
    return first.union_all(following)


def as_dates(ordinals: Any) -> np.ndarray:
    """Day ordinals (integers) as an array of ``DAY_DTYPE``."""
    days = np.asarray(ordinals, dtype="int64") - _EPOCH_ORDINAL
    return days.astype("datetime64[D]").astype(DAY_DTYPE)
