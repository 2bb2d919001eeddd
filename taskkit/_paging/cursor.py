"""Cursors: the opaque, checksummed string that says where a page ended."""

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Integer, SmallInteger
from sqlalchemy.engine import Dialect

from taskkit._checks import MAX_INT64
from taskkit._errors import InvalidArgumentError, InvalidCursorError
from taskkit._paging.plan import Plan, plan_for

_CURSOR_VERSION = 1
_CURSOR_MAX_LENGTH = 65_536
_CHECKSUM_KEY = b"taskkit.paging.cursor"  # detects edits and truncation; not a secret
FORWARD, BACKWARD = "a", "b"


def statement_fingerprint(plan: Plan, dialect: Dialect) -> str:
    """A hash of the ordered statement's SQL and bound values (its filters and ordering)."""
    known = plan.fingerprints.get((dialect.name, dialect.driver))
    if known is not None:
        return known
    compiled = plan.ordered().compile(dialect=dialect)
    params = sorted((name, repr(value)) for name, value in compiled.params.items())
    digest = hashlib.blake2b(digest_size=12)
    digest.update(str(compiled).encode())
    digest.update(repr(params).encode())
    fingerprint = plan.fingerprints[dialect.name, dialect.driver] = digest.hexdigest()
    return fingerprint


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    # validate: the lenient default skips characters outside the alphabet.
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _checksum(payload: bytes) -> str:
    return _b64(hashlib.blake2b(payload, digest_size=8, key=_CHECKSUM_KEY).digest())


def _encode_value(value: Any) -> list[Any]:
    # Order matters: bool is an int, datetime is a date, StrEnum is a str.
    if value is None:
        return ["z"]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", int(value)]
    if isinstance(value, float):
        return ["f", repr(value)]
    if isinstance(value, str):
        return ["s", str(value)]
    if isinstance(value, Decimal):
        return ["d", str(value)]
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["D", value.isoformat()]
    if isinstance(value, time):
        return ["T", value.isoformat()]
    if isinstance(value, timedelta):
        return ["e", [value.days, value.seconds, value.microseconds]]
    if isinstance(value, UUID):
        return ["u", str(value)]
    if isinstance(value, bytes):
        return ["y", _b64(value)]
    raise InvalidArgumentError(
        f"cannot paginate by a sort key holding a {type(value).__name__} value ({value!r}); "
        "sort keys may be numbers, text, dates and times, UUIDs, bytes or NULL"
    )


_DECODERS: dict[str, Any] = {
    "b": lambda v: v if isinstance(v, bool) else _bad(),
    "i": lambda v: v if isinstance(v, int) and not isinstance(v, bool) else _bad(),
    "f": lambda v: float(v) if isinstance(v, str) else _bad(),
    "s": lambda v: v if isinstance(v, str) else _bad(),
    "d": lambda v: Decimal(v) if isinstance(v, str) else _bad(),
    "t": lambda v: datetime.fromisoformat(v) if isinstance(v, str) else _bad(),
    "D": lambda v: date.fromisoformat(v) if isinstance(v, str) else _bad(),
    "T": lambda v: time.fromisoformat(v) if isinstance(v, str) else _bad(),
    "e": lambda v: timedelta(*v) if isinstance(v, list) and len(v) == 3 else _bad(),
    "u": lambda v: UUID(v) if isinstance(v, str) else _bad(),
    "y": lambda v: _unb64(v) if isinstance(v, str) else _bad(),
}


def _fits(value: int, largest: int = MAX_INT64) -> bool:
    return -largest - 1 <= value <= largest


def int_limits(plan: Plan, dialect: Dialect) -> list[int]:
    """The largest integer each sort key's column holds on ``dialect`` (PostgreSQL's INTEGER
    is 32 bits, SMALLINT 16; SQLite's INTEGER is 64): a cursor value beyond it names no row,
    and the driver would raise on it."""
    limits = []
    for key in plan.keys:
        kind = key.expr.type
        if dialect.name == "postgresql" and isinstance(kind, Integer):
            if isinstance(kind, SmallInteger):
                limits.append(2**15 - 1)
                continue
            if not isinstance(kind, BigInteger):
                limits.append(2**31 - 1)
                continue
        limits.append(MAX_INT64)
    return limits


def _bad() -> Any:
    raise ValueError("malformed cursor value")


def _decode_value(item: Any) -> Any:
    if item == ["z"]:
        return None
    if not (isinstance(item, list) and len(item) == 2 and item[0] in _DECODERS):
        raise ValueError("malformed cursor value")
    return _DECODERS[item[0]](item[1])


def encode_cursor(
    fingerprint: str, direction: str, inclusive: bool, number: int, values: Sequence[Any]
) -> str:
    body = [_CURSOR_VERSION, fingerprint, direction, int(inclusive), number]
    body.append([_encode_value(v) for v in values])
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return f"{_b64(payload)}.{_checksum(payload)}"


def _short(cursor: str) -> str:
    return repr(cursor if len(cursor) <= 40 else cursor[:37] + "...")


def decode_cursor(
    cursor: Any, fingerprint: str, n_keys: int, limits: list[int] | None = None
) -> tuple[str, bool, int, list[Any]]:
    """(direction, inclusive, page number, key values) of a cursor made for ``fingerprint``;
    ``limits`` (:func:`int_limits`) bound the integer values per key."""
    if not isinstance(cursor, str):
        raise InvalidCursorError(
            "cursor must be a string from page.next_cursor or page.prev_cursor, or None for "
            f"the first page; got {type(cursor).__name__}"
        )
    invalid = InvalidCursorError(
        f"cursor {_short(cursor)} is not a valid taskkit cursor: it was edited, truncated or "
        "made elsewhere; pass page.next_cursor or page.prev_cursor exactly as given"
    )
    if len(cursor) > _CURSOR_MAX_LENGTH or cursor.count(".") != 1:
        raise invalid
    encoded, checksum = cursor.split(".")
    try:
        payload = _unb64(encoded)
    except (binascii.Error, ValueError):
        raise invalid from None
    # compare_digest refuses non-ASCII text with a TypeError: such a checksum is simply wrong.
    if not checksum.isascii() or not hmac.compare_digest(_checksum(payload), checksum):
        raise invalid
    try:
        body = json.loads(payload)
        version, made_for, direction, inclusive, number, raw_values = body
        if version != _CURSOR_VERSION:
            raise InvalidCursorError(
                f"cursor {_short(cursor)} was made by another version of taskkit (format "
                f"{version!r}, this one reads {_CURSOR_VERSION}); start again from the first page"
            )
        if (
            not isinstance(made_for, str)
            or direction not in (FORWARD, BACKWARD)
            or inclusive not in (0, 1)
            or not isinstance(number, int)
            or not _fits(number)
            or not isinstance(raw_values, list)
        ):
            raise ValueError("malformed cursor")
        values = [_decode_value(v) for v in raw_values]
    except InvalidCursorError:
        raise
    except (ValueError, TypeError, ArithmeticError, RecursionError):
        raise invalid from None
    if limits is not None and any(
        isinstance(v, int) and not _fits(v, largest)
        for v, largest in zip(values, limits, strict=False)
    ):
        raise invalid  # re-signed (the checksum is no secret): a value no such column holds
    if made_for != fingerprint or len(values) != n_keys:
        raise InvalidCursorError(
            f"cursor {_short(cursor)} belongs to a different statement: its ordering or "
            "filters differ (or it came from another database); a cursor only works with the "
            "statement whose page gave it"
        )
    return direction, bool(inclusive), max(1, number), values


def carry_cursor(cursor: str, source: Any, target: Any, dialect: Dialect) -> str:
    """``cursor``, made by a page of ``source``, for the same place in ``target``: a statement
    with the same rows in the same order (sort keys alike) whose SQL differs, as when a planner
    hint is added or dropped.

    Raises:
        InvalidCursorError: ``cursor`` is not one of ``source``'s, or ``target`` has other keys.
    """
    if source is target:
        return cursor
    old, new = plan_for(source), plan_for(target)
    if len(old.keys) != len(new.keys) or not all(
        a.expr.compare(b.expr) and a.descending == b.descending
        for a, b in zip(old.keys, new.keys, strict=True)
    ):
        raise InvalidCursorError("a cursor carries only to a statement with the same sort keys")
    direction, inclusive, number, values = decode_cursor(
        cursor, statement_fingerprint(old, dialect), len(old.keys)
    )
    return encode_cursor(statement_fingerprint(new, dialect), direction, inclusive, number, values)
