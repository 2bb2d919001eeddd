"""Dates and times in the forms real exports write, to aware UTC.

=================================== =============================================
form                                example (where it comes from)
=================================== =============================================
ISO 8601, ``Z`` or an offset        ``2025-03-01T09:30:00Z`` (GitHub, Linear, Plane)
ISO 8601 without an offset          ``2025-03-01 09:30:00``, ``2025-03-01`` (Asana)
Jira's local time                   ``17/Feb/22 11:02 AM``, ``04/ago/26 11:30 PM`` (Jira
                                    Cloud CSV, month names in English, Spanish,
                                    Portuguese, French, German or Italian)
JavaScript's ``Date.toString()``    ``Sat Feb 11 2023 01:51:47 GMT+0000 (GMT)`` (Linear)
day and month as numbers            ``06-09-2024 13:55``, ``4/17/16`` (Excel re-saves)
RFC 2822 style                      ``Sun, 20 Apr 2025 10:17:06 UTC+0000`` (mail, feeds)
=================================== =============================================

Times without an offset are read in the zone ``tz`` (UTC unless told). Numbers for day and
month (``06-09-2024``) are read in the order their values prove (a 13 or more is a day); when
no value in the column proves it, the values are refused unless ``order`` says which.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from taskkit._importers.options import DateOrder

__all__ = ["DateOrder", "Parsed", "parse_dates"]


_ISO = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"
ISO_AWARE = _ISO + r"\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
ISO_NAIVE = _ISO + r"$"
JIRA = r"^\d{1,2}/\pL{3,5}\.?/\d{2,4} \d{1,2}:\d{2}(?: ?[AaPp]\.? ?[Mm]\.?)?$"
JS_DATE = r"^[A-Za-z]{3} [A-Za-z]{3} \d{1,2} \d{4} \d{1,2}:\d{2}:\d{2} GMT[+-]\d{4}(?: \([^)]*\))?$"
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
    text = text.reset_index(drop=True)
    arrow = pa.array(text, pa.string(), from_pandas=True)
    if isinstance(arrow, pa.ChunkedArray):
        # One array, not the CSV reader's chunks: Arrow compiles a pattern again for every
        # chunk, and the month names' Unicode class (JIRA's \pL) takes milliseconds to compile
        # (0.2 s per pass over a 200,000-row column of 74 chunks, against 0.02 s).
        arrow = arrow.combine_chunks()
    arrow = pc.utf8_trim_whitespace(arrow)
    utc = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[us]")
    present = pc.fill_null(pc.not_equal(arrow, ""), False)
    done = pc.invert(present)
    parsed = Parsed(pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]"))

    def form(pattern: str) -> pa.Array:
        """Rows not yet read whose value has this form (RE2, in bulk)."""
        nonlocal done
        if pc.all(done).as_py():  # every value read already: no pass over the column
            return pa.array(np.zeros(len(arrow), dtype=bool))
        mask = pc.and_(
            pc.invert(done), pc.fill_null(pc.match_substring_regex(arrow, pattern), False)
        )
        done = pc.or_(done, mask)
        return mask

    def stripped(mask: Any) -> pd.Series:
        """The trimmed values where ``mask`` is true, as Python strings indexed by row (only
        those: a column of Jira's times is read by Arrow alone, and never needs them)."""
        where = np.asarray(mask)
        chosen = arrow.filter(pa.array(where)).to_pandas()
        return pd.Series(chosen, dtype=object).set_axis(np.flatnonzero(where))

    def put(mask: Any, values: Any) -> None:
        where = np.flatnonzero(np.asarray(mask))
        if isinstance(values, pa.Array | pa.ChunkedArray):
            values = values.to_pandas()
        values = pd.Series(values)
        if values.dt.tz is None:
            values = values.dt.tz_localize("UTC")
        utc[where] = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")

    def local(values: pd.Series) -> pd.Series:
        return values.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")

    def naive_series(values: pa.Array) -> pd.Series:
        return pd.Series(values.to_pandas()).astype("datetime64[us]")

    mask = form(ISO_AWARE)
    if pc.any(mask).as_py():
        put(
            mask,
            pd.to_datetime(stripped(mask), utc=True, format="ISO8601", errors="coerce"),
        )
    mask = form(ISO_NAIVE)
    if pc.any(mask).as_py():
        values = pd.to_datetime(stripped(mask), format="ISO8601", errors="coerce")
        put(mask, local(values))
        parsed.naive += int(pc.sum(mask).as_py())
    mask = form(JIRA)
    if pc.any(mask).as_py():
        put(mask, local(naive_series(jira_times(arrow.filter(mask)))))
        parsed.naive += int(pc.sum(mask).as_py())
    mask = form(JS_DATE)
    if pc.any(mask).as_py():
        values = pc.replace_substring_regex(arrow.filter(mask), r"^[A-Za-z]{3} | \([^)]*\)$", "")
        values = pc.replace_substring(values, "GMT", "")
        put(mask, pc.strptime(values, format="%b %d %Y %H:%M:%S %z", unit="us", error_is_null=True))
    mask = form(RFC2822)
    if pc.any(mask).as_py():
        values = pc.replace_substring_regex(arrow.filter(mask), r"^[A-Za-z]{3}, ", "")
        values = pc.utf8_trim_whitespace(
            pc.replace_substring_regex(values, r"\s*(?:UTC|GMT)\s*", " ")
        )
        has_offset = pc.match_substring_regex(values, r"[+-]\d{4}$")
        values = pc.if_else(has_offset, values, pc.binary_join_element_wise(values, "+0000", " "))
        read = pc.coalesce(
            pc.strptime(values, format="%d %b %Y %H:%M:%S %z", unit="us", error_is_null=True),
            pc.strptime(values, format="%d %b %Y %H:%M %z", unit="us", error_is_null=True),
        )
        put(mask, read)
    mask = form(NUMERIC)
    if pc.any(mask).as_py():
        numeric = stripped(mask)
        # Each separator is its own form (Excel's dd-mm-yyyy beside a US m/d/yy): the order
        # one proves says nothing about the other.
        separators = numeric.str.extract(r"^\d{1,2}([-/.])", expand=False)
        for separator in separators.unique():
            _numeric(numeric[separators == separator], order, parsed, put, local)
    parsed.values = pd.Series(utc, index=text.index).dt.tz_localize("UTC")
    bad = np.asarray(present) & np.isnat(utc)
    ambiguous_rows = set()
    for rows in parsed.ambiguous.values():
        ambiguous_rows.update(rows.tolist())
    bad_values = stripped(bad)
    for value, rows in bad_values.groupby(bad_values, sort=False).groups.items():
        positions = np.array([text.index.get_loc(r) for r in rows])
        if not ambiguous_rows.intersection(positions.tolist()):
            parsed.bad[str(value)] = positions
    return parsed


# Month abbreviations as Jira writes them in each language it exports in: English; Spanish
# (seen in real exports: ene feb mar abr may jun jul ago sep oct nov dic); Portuguese, French,
# German and Italian as the JDK's locale data abbreviates them (the Spanish files match it).
# Folded to lower case without a trailing dot.
MONTH_NAMES = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "ene", "janv", "gen"),
            ("feb", "fev", "févr", "fév"),
            ("mar", "mär", "mars"),
            ("apr", "abr", "avr"),
            ("may", "mai", "mag"),
            ("jun", "juin", "giu"),
            ("jul", "juil", "lug"),
            ("aug", "ago", "août"),
            ("sep", "set", "sept"),
            ("oct", "out", "okt", "ott"),
            ("nov",),
            ("dec", "dic", "dez", "déc"),
        ),
        start=1,
    )
    for name in names
}
JIRA_DAY = r"^(?P<day>\d{1,2})/(?P<month>\pL{3,5})\.?/(?P<year>\d{2}|\d{4})$"
JIRA_TIME = r"^(?P<hour>\d{1,2}):(?P<minute>\d{2}) ?(?P<half>[AaPp])?\.? ?(?:[Mm]\.?)?$"


def jira_times(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Jira's local times (``17/Feb/22 11:02 AM``, ``17/Feb/22 23:02``) as naive timestamps;
    null where a value is not such a time or names no real one (``31/Feb/22``, ``13:00 PM``).

    Read as ``strptime("%d/%b/%y %I:%M %p")`` reads them (two-digit years 69-99 are 19xx,
    00-68 20xx; a four-digit year as written), but column-wise: the day and the time of day
    each take few distinct values, so each distinct one is parsed once. Arrow's strptime with
    month names and AM/PM took 0.6 s per 200,000 values; this takes a tenth of that."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    shaped = pc.fill_null(pc.match_substring_regex(values, JIRA), False)
    halves = pc.split_pattern(pc.if_else(shaped, values, "1/Jan/70 0:00"), " ", max_splits=1)
    day_codes = pc.list_element(halves, 0).dictionary_encode()
    time_codes = pc.list_element(halves, 1).dictionary_encode()
    days, day_ok = _jira_days(day_codes.dictionary)
    minutes, time_ok = _jira_minutes(time_codes.dictionary)
    day_index = day_codes.indices.to_numpy(zero_copy_only=False)
    time_index = time_codes.indices.to_numpy(zero_copy_only=False)
    valid = shaped.to_numpy(zero_copy_only=False) & day_ok[day_index] & time_ok[time_index]
    stamp = days[day_index].astype("datetime64[us]") + minutes[time_index] * 60_000_000
    return pa.array(stamp, pa.timestamp("us"), mask=~valid)


def _parts(values: pa.Array, pattern: str) -> tuple[pa.Array, np.ndarray]:
    parts = pc.extract_regex(values, pattern)
    return parts, parts.is_valid().to_numpy(zero_copy_only=False)


def _field(parts: pa.Array, name: str, empty: str = "0") -> pa.Array:
    return pc.fill_null(pc.struct_field(parts, name), empty)


def _number(parts: pa.Array, name: str) -> np.ndarray:
    return pc.cast(_field(parts, name), pa.int64()).to_numpy(zero_copy_only=False)


def _jira_days(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``17/Feb/22`` as dates (datetime64[D]), and whether each is a real date."""
    parts, valid = _parts(values, JIRA_DAY)
    day, year = _number(parts, "day"), _number(parts, "year")
    names = pc.utf8_lower(_field(parts, "month", "")).to_pylist()
    month_number = np.array([MONTH_NAMES.get(n, 0) for n in names], dtype=np.int64)
    valid &= month_number > 0
    month = np.maximum(month_number - 1, 0)
    year = np.where(year >= 100, year, np.where(year < 69, 2000 + year, 1900 + year))
    months = ((year - 1970) * 12 + month).astype("datetime64[M]")
    date = months.astype("datetime64[D]") + (day - 1)
    valid &= (day >= 1) & (date.astype("datetime64[M]") == months)  # no 31/Feb
    return date, valid


def _jira_minutes(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``11:02 AM``, ``11:02AM`` or ``23:02`` as minutes after midnight, and whether each is a
    real time of day."""
    parts, valid = _parts(values, JIRA_TIME)
    hour, minute = _number(parts, "hour"), _number(parts, "minute")
    half = pc.utf8_upper(_field(parts, "half", ""))
    twelve = pc.not_equal(half, "").to_numpy(zero_copy_only=False)
    pm = pc.equal(half, "P").to_numpy(zero_copy_only=False)
    valid &= np.where(twelve, (hour >= 1) & (hour <= 12), hour <= 23) & (minute <= 59)
    hour = np.where(twelve, hour % 12 + np.where(pm, 12, 0), hour)
    return hour * 60 + minute, valid


def _numeric(
    values: pd.Series,
    order: DateOrder,
    parsed: Parsed,
    put: Callable[[Any, Any], None],
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
    mask = np.zeros(len(parsed.values), dtype=bool)
    mask[[parsed.values.index.get_loc(r) for r in values.index]] = True
    put(mask, local(pd.to_datetime(iso, format="ISO8601", errors="coerce")))
    parsed.naive += len(values)
