"""Checks of the values given to the task queries: each error names the argument, the value and
what is allowed."""

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from taskkit._checks import MAX_INT32
from taskkit._errors import InvalidArgumentError

__all__ = [
    "check_flag",
    "check_key",
    "check_moment",
    "check_project",
    "check_search",
    "check_worker",
    "choice_checker",
    "values",
]


def values(name: str, value: Any, check: Callable[[Any], Any], allowed: str) -> list[Any]:
    """``value`` (one, or an iterable of them) checked, as a de-duplicated list in a stable
    order (bound values feed cursor hashes)."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        items = [value]
    else:
        items = list(value)
        if not items:
            raise InvalidArgumentError(
                f"{name} must be {allowed}, or a non-empty list of them; got an empty "
                f"{type(value).__name__} (leave {name} out to not filter on it)"
            )
    checked = {check(item) for item in items}
    return sorted(checked, key=lambda v: (type(v).__name__, v))


def choice_checker(name: str, choices: Sequence[str]) -> Callable[[Any], str]:
    """A check that a value is one of ``choices`` (a ``StrEnum`` member counts as its value)."""
    allowed = ", ".join(choices)

    def check(value: Any) -> str:
        if isinstance(value, str) and value in choices:
            return choices[choices.index(value)]  # the plain text, also for an enum member
        raise InvalidArgumentError(
            f"{name} must be one of {allowed} (or a list of them); got {value!r}"
        )

    return check


def check_project(value: Any) -> int | str:
    # Ids are INTEGER on PostgreSQL: a larger number is no project, and the driver would
    # raise on it (OverflowError beyond 64 bits) rather than find nothing.
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_INT32:
        return value
    if isinstance(value, str) and value.strip():
        return value
    raise InvalidArgumentError(
        f"project must be a project id (an integer from 1 to {MAX_INT32:,}) or a project name "
        f"(a non-empty string), or a list of them; got {value!r}"
    )


def check_worker(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        return value
    raise InvalidArgumentError(
        f"worker must be a worker id (a non-empty string such as 'w-017'), or a list of them; "
        f"got {value!r}"
    )


def check_key(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        return value
    raise InvalidArgumentError(
        f"key must be a tracker key (a non-empty string such as 'HIVE-28515'), or a list of "
        f"them; got {value!r}"
    )


def check_label(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        return value
    raise InvalidArgumentError(
        f"label must be a label name (a non-empty string such as 'bug'), or a list of them; "
        f"got {value!r}"
    )


def check_kind(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        return value
    raise InvalidArgumentError(
        f"kind must be a type of work item as the tracker names it (a non-empty string such as "
        f"'Bug'), or a list of them; got {value!r}"
    )


SEARCH_MAX = 10_000


def check_search(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentError(f"search must be a string; got {value!r}")
    if "\x00" in value:
        raise InvalidArgumentError(f"search must not contain NUL characters (\\x00); got {value!r}")
    if len(value) > SEARCH_MAX:
        # SQLite refuses LIKE and GLOB patterns over 50,000 bytes (four bytes a character at
        # most, and the case-folding pattern doubles letters).
        raise InvalidArgumentError(
            f"search must be at most {SEARCH_MAX:,} characters (a substring of a title or a "
            f"description); got {len(value):,}"
        )
    return value


def _parse_moment(name: str, value: str) -> datetime | date:
    """An ISO 8601 date (``2025-06-01``) or timestamp with an offset (``...T09:00:00Z``)."""
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgumentError(
            f"{name} must be an ISO 8601 date such as '2025-06-01' or a timestamp with an "
            f"offset such as '2025-06-01T09:00:00Z'; got {value!r}"
        ) from None


def check_moment(name: str, value: Any) -> datetime:
    """``value`` as an aware UTC datetime: a date is midnight UTC, naive datetimes are refused."""
    if isinstance(value, str):
        value = _parse_moment(name, value)
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise InvalidArgumentError(
                f"{name} must be timezone-aware (timestamps are stored in UTC), for example "
                f"datetime(2025, 1, 1, tzinfo=UTC); got the naive {value!r}"
            )
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise InvalidArgumentError(
        f"{name} must be a timezone-aware datetime, a date (midnight UTC) or an ISO 8601 "
        f"string of either; got {value!r}"
    )


def check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be True or False; got {value!r}")
    return value
