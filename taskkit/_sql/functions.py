"""SQL functions written per dialect: case-folded search, the start of a week, the UTC day of a
timestamp and its whole seconds since the epoch, and a value held within bounds.

Each is a SQLAlchemy element compiled differently on SQLite and elsewhere (PostgreSQL), so a
statement holding one runs the same way through a session and through the DataFrame readers.
"""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["Clamp", "DayOrdinal", "EpochSeconds", "FoldedContains", "UtcDay", "WeekStart"]


class FoldedContains(ColumnElement[bool]):
    """``column`` contains ``text``, case-insensitively, for every cased letter.

    Everywhere but SQLite: ``lower(column) LIKE '%' || lower(text) || '%'``, with ``%``, ``_``
    and the escape character escaped (SQLAlchemy's ``icontains(autoescape=True)``). SQLite's
    ``lower()`` and ``LIKE`` fold ASCII letters only, so there the text becomes a GLOB pattern
    with a character class per cased letter (``école`` -> ``*[éÉ][cC][oO][lL][eE]*``): plain
    SQL, so the ADBC DataFrame reader runs the same condition as a session does.
    """

    type = sa.Boolean()
    # Not cached: the SQLite form is built from the text. Compiling it is cheap.
    inherit_cache = False

    def __init__(self, column: Any, text: str) -> None:
        self.column = column
        self.text = text


# SQLite refuses LIKE and GLOB patterns over 50,000 bytes (SQLITE_MAX_LIKE_PATTERN_LENGTH).
_GLOB_MAX_BYTES = 50_000


def _glob_pattern(text: str) -> str | None:
    """A GLOB pattern matching ``text`` anywhere, in any letter case; ``None`` if too long."""
    parts = []
    for char in text:
        variants = dict.fromkeys(
            v for v in (char, char.lower(), char.upper(), char.casefold()) if len(v) == 1
        )
        if len(variants) > 1:
            parts.append("[" + "".join(variants) + "]")
        else:
            parts.append(f"[{char}]" if char in "*?[" else char)  # GLOB's own characters
    pattern = "*" + "".join(parts) + "*"
    return pattern if len(pattern.encode()) <= _GLOB_MAX_BYTES else None


@compiles(FoldedContains)
def _folded_contains(element: FoldedContains, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.icontains(element.text, autoescape=True), **kw)


@compiles(FoldedContains, "sqlite")
def _folded_contains_sqlite(element: FoldedContains, compiler: SQLCompiler, **kw: Any) -> str:
    pattern = _glob_pattern(element.text)
    if pattern is None:  # very long texts: ASCII folding (nothing that long is likely to match)
        return _folded_contains(element, compiler, **kw)
    return compiler.process(element.column.op("GLOB")(sa.literal(pattern)), **kw)


class WeekStart(FunctionElement[date]):
    """The Monday (UTC) of the ISO week holding a timestamp, as a date."""

    type = sa.Date()
    name = "week_start"
    inherit_cache = True


@compiles(WeekStart, "sqlite")
def _week_start_sqlite(element: WeekStart, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores taskkit timestamps as UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'. Only the day
    # is passed on: SQLite's date arithmetic keeps milliseconds, and with a modifier it rounds
    # 23:59:59.9995 or later into the next day (and week). 'weekday 0' moves forward to the
    # next Sunday (or stays on one); six days back is that week's Monday.
    (argument,) = element.clauses
    return f"date(substr({compiler.process(argument, **kw)}, 1, 10), 'weekday 0', '-6 days')"


@compiles(WeekStart, "postgresql")
@compiles(WeekStart)
def _week_start_postgresql(element: WeekStart, compiler: SQLCompiler, **kw: Any) -> str:
    # timestamptz is truncated in the session's time zone: convert to UTC first.
    (argument,) = element.clauses
    return (
        f"CAST(date_trunc('week', ({compiler.process(argument, **kw)}) AT TIME ZONE 'UTC') AS DATE)"
    )


class DayOrdinal(FunctionElement[int]):
    """The UTC calendar day of a timestamp as an integer: ``date.toordinal()``'s numbering, where
    0001-01-01 (a Monday) is day 1, so that ``(day - 1) // 7`` numbers Monday-based weeks and
    every day of years 1 to 9999 is positive (integer division truncates alike on both
    databases only for positive numbers)."""

    type = sa.Integer()
    name = "day_ordinal"
    inherit_cache = True


# The Julian day number of 0001-01-01 at midnight is 1721425.5; ordinal 1 is that day.
_JULIAN_DAY_BEFORE_ORDINAL_1 = 1721424.5


@compiles(DayOrdinal, "sqlite")
def _day_ordinal_sqlite(element: DayOrdinal, compiler: SQLCompiler, **kw: Any) -> str:
    # UTC text 'YYYY-MM-DD HH:MM:SS.ffffff': the day is its first ten characters (as in
    # WeekStart). julianday() of a bare date is midnight, so the difference is a whole number.
    (argument,) = element.clauses
    return (
        f"CAST(julianday(substr({compiler.process(argument, **kw)}, 1, 10)) "
        f"- {_JULIAN_DAY_BEFORE_ORDINAL_1} AS INTEGER)"
    )


@compiles(DayOrdinal, "postgresql")
@compiles(DayOrdinal)
def _day_ordinal_postgresql(element: DayOrdinal, compiler: SQLCompiler, **kw: Any) -> str:
    (argument,) = element.clauses
    return (
        f"(CAST(({compiler.process(argument, **kw)}) AT TIME ZONE 'UTC' AS DATE) "
        "- DATE '0001-01-01' + 1)"
    )


class UtcDay(FunctionElement[Any]):
    """The UTC calendar day of a timestamp as the cheapest value to group by: the date's text on
    SQLite, a ``date`` on PostgreSQL. Only for grouping and comparing with itself; turn a group
    into a day with ``DayOrdinal(min(moment))``."""

    type = sa.String()
    name = "utc_day"
    inherit_cache = True


@compiles(UtcDay, "sqlite")
def _utc_day_sqlite(element: UtcDay, compiler: SQLCompiler, **kw: Any) -> str:
    (argument,) = element.clauses
    return f"substr({compiler.process(argument, **kw)}, 1, 10)"


@compiles(UtcDay, "postgresql")
@compiles(UtcDay)
def _utc_day_postgresql(element: UtcDay, compiler: SQLCompiler, **kw: Any) -> str:
    (argument,) = element.clauses
    return f"CAST(({compiler.process(argument, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


class EpochSeconds(FunctionElement[int]):
    """Whole seconds from 1970-01-01 UTC to a timestamp (fractions of a second dropped), as an
    integer: durations built from it are the same integers on SQLite and PostgreSQL."""

    type = sa.BigInteger()
    name = "epoch_seconds"
    inherit_cache = True


@compiles(EpochSeconds, "sqlite")
def _epoch_seconds_sqlite(element: EpochSeconds, compiler: SQLCompiler, **kw: Any) -> str:
    # The text without its fraction of a second, so that julianday() is exact to the second:
    # on the whole text it goes through SQLite's millisecond clock, which rounds 12:00:59.9996
    # up to 12:01:00. The product is then within a few microseconds of a whole number.
    (argument,) = element.clauses
    x = compiler.process(argument, **kw)
    return f"CAST(round((julianday(substr({x}, 1, 19)) - 2440587.5) * 86400) AS INTEGER)"


@compiles(EpochSeconds, "postgresql")
@compiles(EpochSeconds)
def _epoch_seconds_postgresql(element: EpochSeconds, compiler: SQLCompiler, **kw: Any) -> str:
    (argument,) = element.clauses
    return f"CAST(floor(extract(epoch FROM {compiler.process(argument, **kw)})) AS BIGINT)"


class Clamp(FunctionElement[Any]):
    """``value`` held between ``lowest`` and ``highest``, with ``value`` computed once (a CASE
    would compute it again in each branch): SQLite's two-argument ``max``/``min``,
    PostgreSQL's ``greatest``/``least``."""

    name = "clamp"
    inherit_cache = True

    def __init__(self, value: Any, lowest: Any, highest: Any) -> None:
        super().__init__(value, lowest, highest)
        self.type = self.clauses.clauses[0].type


@compiles(Clamp, "sqlite")
def _clamp_sqlite(element: Clamp, compiler: SQLCompiler, **kw: Any) -> str:
    value, lowest, highest = (compiler.process(c, **kw) for c in element.clauses)
    return f"max({lowest}, min({highest}, {value}))"


@compiles(Clamp, "postgresql")
@compiles(Clamp)
def _clamp_postgresql(element: Clamp, compiler: SQLCompiler, **kw: Any) -> str:
    value, lowest, highest = (compiler.process(c, **kw) for c in element.clauses)
    return f"greatest({lowest}, least({highest}, {value}))"
