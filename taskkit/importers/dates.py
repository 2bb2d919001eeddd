"""Dates and times in the forms real exports write, to aware UTC.

=================================== =============================================
form                                example (where it comes from)
=================================== =============================================
ISO 8601, ``Z`` or an offset        ``2025-03-01T09:30:00Z`` (GitHub, Linear, Plane)
ISO 8601 without an offset          ``2025-03-01 09:30:00``, ``2025-03-01`` (Asana)
Jira's local time                   ``17/Feb/22 11:02 AM`` (Jira Cloud CSV)
day and month as numbers            ``06-09-2024 13:55``, ``4/17/16`` (Excel re-saves)
RFC 2822 style                      ``Sun, 20 Apr 2025 10:17:06 UTC+0000`` (mail, feeds)
=================================== =============================================

Times without an offset are read in the zone ``tz`` (UTC unless told). Numbers for day and
month (``06-09-2024``) are read in the order their values prove (a 13 or more is a day); when
no value in the column proves it, the values are refused unless ``order`` says which.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["DateOrder", "Parsed", "parse_dates"]

DateOrder = Literal["dayfirst", "monthfirst"] | None

_ISO = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"
ISO_AWARE = _ISO + r"\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
ISO_NAIVE = _ISO + r"$"
JIRA = r"^\d{1,2}/[A-Za-z]{3}/\d{2,4} \d{1,2}:\d{2}(?: ?[AaPp][Mm])?$"
RFC2822 = (
    r"^(?:[A-Za-z]{3}, )?\d{1,2} [A-Za-z]{3} \d{4} \d{1,2}:\d{2}(?::\d{2})?"
    r"\s*(?:UTC|GMT)?\s*(?:[+-]\d{4})?$"
)
NUMERIC = (
    r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4}|\d{2})"
    r"(?:[ T](?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?\s*(?P<p>[AaPp][Mm])?)?$"
)


@dataclass
class Parsed:
    """A parsed column and what could not be read (value -> row positions)."""

    values: pd.Series  # datetime64[us, UTC], NaT where missing or bad
    bad: dict[str, np.ndarray] = field(default_factory=dict)
    ambiguous: dict[str, np.ndarray] = field(default_factory=dict)
    naive: int = 0  # values read in the zone ``tz``


def parse_dates(text: pd.Series, *, order: DateOrder = None, tz: str = "UTC") -> Parsed:
    """Parse a column of text (``None``/NaN: missing) in the forms above."""
    text = text.astype(object).where(text.notna(), None)
    stripped = text.str.strip()
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    present = stripped.notna() & (stripped != "")
    done = ~present
    parsed = Parsed(out)

    def put(mask: pd.Series, values: pd.Series) -> None:
        nonlocal done
        good = values.notna()
        out[mask[mask].index[good.to_numpy()]] = values[good].astype("datetime64[us, UTC]")
        done = done | mask

    def local(values: pd.Series) -> pd.Series:
        return values.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")

    aware = present & stripped.str.match(ISO_AWARE, na=False)
    if aware.any():
        put(aware, pd.to_datetime(stripped[aware], utc=True, format="ISO8601", errors="coerce"))
    naive = present & ~done & stripped.str.match(ISO_NAIVE, na=False)
    if naive.any():
        put(naive, local(pd.to_datetime(stripped[naive], format="ISO8601", errors="coerce")))
        parsed.naive += int(naive.sum())
    jira = present & ~done & stripped.str.match(JIRA, na=False)
    if jira.any():
        values = stripped[jira].str.upper()
        has_ampm = values.str.contains("M", regex=False)
        read = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
        for mask, form in ((has_ampm, "%d/%b/%y %I:%M %p"), (~has_ampm, "%d/%b/%y %H:%M")):
            if mask.any():
                cleaned = values[mask].str.replace(r"(\d)([AP]M)$", r"\1 \2", regex=True)
                read[mask] = pd.to_datetime(cleaned, format=form, errors="coerce")
        put(jira, local(read))
        parsed.naive += int(jira.sum())
    rfc = present & ~done & stripped.str.match(RFC2822, na=False)
    if rfc.any():
        values = stripped[rfc].str.replace(r"^[A-Za-z]{3}, ", "", regex=True)
        values = values.str.replace(r"\s*(?:UTC|GMT)\s*", " ", regex=True).str.strip()
        values = values.where(values.str.contains(r"[+-]\d{4}$"), values + " +0000")
        put(rfc, pd.to_datetime(values, utc=True, format="mixed", errors="coerce"))
    numeric = present & ~done & stripped.str.match(NUMERIC, na=False)
    if numeric.any():
        # Each separator is its own form (Excel's dd-mm-yyyy beside a US m/d/yy): the order
        # one proves says nothing about the other.
        separators = stripped[numeric].str.extract(r"^\d{1,2}([-/.])", expand=False)
        for separator in separators.unique():
            _numeric(stripped[numeric][separators == separator], order, parsed, put, local)
        done = done | numeric
    bad = present & out.isna()
    ambiguous_rows = set()
    for rows in parsed.ambiguous.values():
        ambiguous_rows.update(rows.tolist())
    for value, rows in stripped[bad].groupby(stripped[bad], sort=False).groups.items():
        positions = np.array([text.index.get_loc(r) for r in rows])
        if not ambiguous_rows.intersection(positions.tolist()):
            parsed.bad[str(value)] = positions
    return parsed


def _numeric(
    values: pd.Series,
    order: DateOrder,
    parsed: Parsed,
    put: Callable[[pd.Series, pd.Series], None],
    local: Callable[[pd.Series], pd.Series],
) -> None:
    parts = values.str.extract(NUMERIC)
    a, b = parts["a"].astype(int), parts["b"].astype(int)
    if order is None:
        day_first = bool((a > 12).any())
        month_first = bool((b > 12).any())
        if day_first != month_first:
            order = "dayfirst" if day_first else "monthfirst"
    if order is None:
        for value, rows in values.groupby(values, sort=False).groups.items():
            parsed.ambiguous[str(value)] = np.array([parsed.values.index.get_loc(r) for r in rows])
        return
    day, month = (a, b) if order == "dayfirst" else (b, a)
    year = parts["y"].astype(int)
    year = year.where(year >= 100, year + 2000)
    hour = parts["h"].fillna("0").astype(int)
    pm = parts["p"].fillna("").str.upper()
    hour = hour.where(pm == "", hour % 12 + np.where(pm == "PM", 12, 0))
    iso = (
        year.astype(str).str.zfill(4) + "-" + month.astype(str).str.zfill(2) + "-"
        + day.astype(str).str.zfill(2) + "T" + hour.astype(str).str.zfill(2) + ":"
        + parts["m"].fillna("00") + ":" + parts["s"].fillna("00")
    )  # fmt: skip
    put(values.notna(), local(pd.to_datetime(iso, format="ISO8601", errors="coerce")))
    parsed.naive += len(values)
