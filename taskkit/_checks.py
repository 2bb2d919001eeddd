"""Argument checks: how taskkit refuses a malformed argument from outside, in one place.

Each check returns the value as taskkit uses it, or raises :class:`InvalidArgumentError` with
one line that names the argument, what is allowed and the value it got
(``size must be an integer from 1 to 10,000; got 0``).
"""

from collections.abc import Collection
from numbers import Integral
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from taskkit._errors import InvalidArgumentError

__all__ = ["MAX_INT32", "MAX_INT64", "engine_argument", "int_in_range", "one_of", "positive_int"]

#: The largest integer PostgreSQL's INTEGER holds (the type of taskkit's id columns there).
MAX_INT32 = 2**31 - 1
#: The largest integer SQLite's INTEGER and PostgreSQL's BIGINT hold: the drivers raise
#: OverflowError on a larger one.
MAX_INT64 = 2**63 - 1


def int_in_range(
    name: str, value: Any, *, low: int = 0, high: int | None = None, note: str = ""
) -> int:
    """``value`` as an ``int`` when it is an integer from ``low`` to ``high`` (inclusive).

    ``bool`` is refused (``True`` is an ``int`` to Python, never a count to a user); NumPy
    integers are accepted. ``note`` is said after the rule, for what else is allowed
    (``"(or None for 10,000)"``).

    Raises:
        InvalidArgumentError: ``value`` is not an integer, or is out of range.
    """
    if isinstance(value, Integral) and not isinstance(value, bool):
        number = int(value)
        if number >= low and (high is None or number <= high):
            return number
    if low == 1 and high is None:
        rule = "a positive integer"
    elif high is None:
        rule = f"an integer from {low:,}"
    else:
        rule = f"an integer from {low:,} to {high:,}"
    raise InvalidArgumentError(f"{name} must be {rule}{' ' + note if note else ''}; got {value!r}")


def positive_int(name: str, value: Any, *, high: int | None = None, note: str = "") -> int:
    """``value`` as an ``int`` when it is an integer from 1 (to ``high``); see
    :func:`int_in_range`."""
    return int_in_range(name, value, low=1, high=high, note=note)


def one_of(name: str, value: Any, allowed: Collection[str]) -> str:
    """``value`` when it is one of the ``allowed`` strings.

    Raises:
        InvalidArgumentError: ``value`` is anything else; the message lists ``allowed``.
    """
    if isinstance(value, str) and value in allowed:
        return value
    raise InvalidArgumentError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def engine_argument(value: Any, name: str = "engine") -> AsyncEngine:
    """``value`` when it is an async engine (what :func:`taskkit.connect` makes).

    Raises:
        InvalidArgumentError: anything else (a URL string, a session, a sync engine).
    """
    if isinstance(value, AsyncEngine):
        return value
    hint = " (pass taskkit.connect(url), not the URL)" if isinstance(value, str) else ""
    raise InvalidArgumentError(
        f"{name} must be an AsyncEngine, as taskkit.connect() makes{hint}; "
        f"got {type(value).__name__}"
    )
