"""SQL functions written per dialect: case-folded search and the start of a week.

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

__all__ = ["FoldedContains", "WeekStart"]


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
