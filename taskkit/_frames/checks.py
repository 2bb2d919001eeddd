"""The checks of to_dataframe's arguments."""

from __future__ import annotations

import difflib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.selectable import SelectBase

from taskkit._checks import positive_int
from taskkit._errors import InvalidArgumentError
from taskkit._frames.constants import DEFAULT_CHUNKSIZE, RELATED

# ---------------------------------------------------------------------------------------------
# Argument checks.


def check_stmt(stmt: Any) -> SelectBase:
    if isinstance(stmt, SelectBase):
        return stmt
    if isinstance(stmt, str):
        got = f"a string ({stmt[:40]!r}); wrap SQL as text(sql).columns(Task.id, ...)"
    elif isinstance(stmt, sa.TextClause):
        # Without .columns() the frame could not be typed from the models.
        got = (
            "text() without its columns; name them so each column gets its type: "
            "text(sql).columns(Task.id, Task.title) or text(sql).columns(id=Integer)"
        )
    elif isinstance(stmt, sa.sql.ClauseElement):
        got = f"{type(stmt).__name__} ({str(stmt).split(None, 1)[0]} statement)"
    else:
        got = type(stmt).__name__
    raise InvalidArgumentError(f"stmt must be a select() (or union of selects), got {got}")


def check_chunksize(chunksize: Any) -> int:
    if chunksize is None:
        return DEFAULT_CHUNKSIZE
    return positive_int("chunksize", chunksize, note=f"(or None for {DEFAULT_CHUNKSIZE:,})")


def check_related(related: Any) -> tuple[str, ...]:
    if isinstance(related, str):
        related = (related,)
    try:
        names = tuple(dict.fromkeys(related))
    except TypeError:
        raise InvalidArgumentError(
            f"related must be a sequence of names from {', '.join(RELATED)}, got {related!r}"
        ) from None
    for name in names:
        if name not in RELATED:
            near = difflib.get_close_matches(name, RELATED, n=1) if isinstance(name, str) else []
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise InvalidArgumentError(
                f"related has unknown name {name!r}; {hint}choose from {', '.join(RELATED)}"
            )
    return names
