"""The weekly chart's weeks: every week of the report's range, a week without a task a zero, a
week the data covers only in part left out.

Weeks run Monday to Sunday in UTC. A week is *partial* when the data starts or stops inside it:
at the ends of the report's range, and inside the range where one part of the data starts or
stops (the synthetic dataset's last day, in a database that also holds tasks imported from
years before and after). A partial week holds fewer days of data than the others and would
read as a drop in the work; it is left out and said so. A week inside the data with no task
at all is a real zero and is drawn as one (a line from the last busy week to the next would
read as a slow decline).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

__all__ = ["COLUMNS", "Weeks", "monday", "weekly"]

#: What is counted per week.
COLUMNS = ["created", "done", "dropped"]


def monday(day: date) -> date:
    """The Monday of the week holding ``day``."""
    return day - timedelta(days=day.weekday())


@dataclass
class Weeks:
    """Every week of ``start`` .. ``end`` (the report's range, both days included).

    ``counts`` is indexed by each week's Monday; a partial week's row is NaN. ``partial``
    lists the Mondays of the partial weeks: ``at_ends`` those at the range's first and last
    week, ``inside`` those between, where a part of the data starts or stops.
    """

    start: date
    end: date
    counts: pd.DataFrame
    partial: list[date]

    @property
    def at_ends(self) -> list[date]:
        return [m for m in self.partial if m in (monday(self.start), monday(self.end))]

    @property
    def inside(self) -> list[date]:
        return [m for m in self.partial if m not in self.at_ends]

    @property
    def whole(self) -> pd.DataFrame:
        """The whole weeks' rows."""
        return self.counts.dropna()


def weekly(
    daily: pd.DataFrame, start: date, end: date, spans: Iterable[tuple[date, date]] = ()
) -> Weeks:
    """The weeks of ``start`` .. ``end`` with the counts of ``daily`` added up per week.

    Args:
        daily: rows of ``day`` (a date, or its ``YYYY-MM-DD`` text) and the :data:`COLUMNS`;
            a day may have several rows. Days outside the range are left out (work done after
            its last day, say).
        start: the range's first day.
        end: the range's last day.
        spans: the first and last day of each part of the data (synthetic, imported...); a
            week in which one starts or stops is partial, as are the range's own first and last
            weeks when the range starts after a Monday or ends before a Sunday.
    """
    first, last = monday(start), monday(end)
    mondays = pd.date_range(first, last, freq="7D")
    days = pd.to_datetime(daily["day"])
    week = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    frame = daily[COLUMNS].groupby(week.rename("week")).sum()
    frame = frame.reindex(mondays, fill_value=0).astype("float64")
    frame.index.name = "week"
    partial: set[date] = set()
    for lo, hi in [(start, end), *spans]:
        lo, hi = max(lo, start), min(hi, end)
        if lo > hi:
            continue
        if lo.weekday() != 0:
            partial.add(monday(lo))
        if hi.weekday() != 6:
            partial.add(monday(hi))
    left_out = sorted(partial)
    frame.loc[pd.to_datetime(left_out)] = float("nan")
    return Weeks(start=start, end=end, counts=frame, partial=left_out)
