"""A source's rows as taskkit's columns (text), by a :class:`~taskkit._importers.formats.Format`
and the user's :class:`ImportMapping`: statuses, priorities and resolutions mapped, workers and
labels split, the tracker's dates chosen; what is refused, left out, derived or not read is
said (:class:`Converted`)."""

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from taskkit._errors import LoadError
from taskkit._importers.formats import Format, category_statuses, prepared
from taskkit._importers.mapping import FIELDS, ImportMapping
from taskkit._importers.reading import Raw, blank, unique_names
from taskkit._importers.resolutions import (
    KNOWN,
    RESOLUTION_HINT,
    lookup_resolution,
    said_none,
)
from taskkit._importers.trello import Events
from taskkit._spreadsheet import GUARDED_CELL

__all__ = ["WORKER_SEPARATOR", "Converted", "Counted", "Refusal", "convert"]

WORKER_SEPARATOR = "\x1f"  # between worker (and label) names once a format has split its cells
STATUS_HINT = "map them with --status VALUE=pending|in_progress|completed"
_SCIENTIFIC = re.compile(r"^\d(?:[.,]\d+)?E\+?\d+$", re.IGNORECASE)


@dataclass(frozen=True)
class Refusal:
    """Rows refused for one value of one field (rows are 1-based data rows)."""

    field: str
    reason: str  # the value as written, e.g. 'Blocked'
    rows: list[int]
    hint: str = ""  # how to map it


@dataclass
class Counted:
    """Values the summary counts: read from a named source, or derived (``derived``), over
    the rows of ``rows`` (a mask over the converted rows)."""

    field: str
    what: str
    rows: np.ndarray
    derived: bool = False


@dataclass
class Converted:
    table: pa.Table  # taskkit field names, text values, and "row" (source row numbers)
    format: str
    detected: bool
    ignored: list[str] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    counted: list[Counted] = field(default_factory=list)
    merged: int = 0  # rows folded into the row before with the same key
    rows: int = 0  # rows read from the source
    notes: list[str] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)  # records not imported, by kind
    events: Events | None = None  # the tracker's own history (Trello's actions)
    unread: list[str] = field(default_factory=list)  # JSON fields present but not read


def convert(
    raw: Raw,
    fmt: Format,
    mapping: ImportMapping,
    *,
    detected: bool = False,
    archived: str = "cancelled",
) -> Converted:
    """The source's rows as taskkit's columns (text), with what was ignored, filled in or
    refused. ``archived``: what an archived record outside a done list becomes (``cancelled``,
    ``done`` or ``skip``)."""
    shaped = prepared(raw, fmt)
    raw = shaped.raw
    table, n = raw.table, raw.table.num_rows
    sources = _sources(raw, fmt, mapping, detected)
    used = set(sources.values()) | set(fmt.also_reads) | set(fmt.completed_by)
    out = Converted(table=pa.table({}), format=fmt.name, detected=detected, events=shaped.events)
    out.ignored = _ignored(raw, used, fmt)
    out.unread = shaped.unread
    out.notes += shaped.notes
    out.left_out.update(shaped.left_out)
    for what, reason, rows, hint in shaped.refusals:
        out.refusals.append(Refusal(what, reason, rows, hint))
    for name, what in shaped.derived.items():
        out.notes.append(f"derived: {name}: {what}")
    if raw.kind == "json" and isinstance(raw.document, list):
        _refuse_not_finite(raw.document, sources, out)
    columns: dict[str, pa.ChunkedArray] = {
        target: _blank_as_null(table.column(source)) for target, source in sources.items()
    }
    if fmt.labels_separator == "repeated" and "labels" in sources:
        columns["labels"] = _repeated(table, sources["labels"])
    # Only files were written for spreadsheets: values handed over in memory are as they are.
    if fmt.formula_quote and raw.kind == "csv":
        for name in ("title", "description", "project", "workers", "key", "kind", "labels"):
            if name in columns:
                columns[name] = pc.replace_substring_regex(columns[name], GUARDED_CELL, r"\1")
    status_names = columns.get("status")
    columns["status"] = _status(table, fmt, mapping, columns, out)
    keep = np.ones(n, dtype=bool)
    if out.events is not None:
        out.events = _event_statuses(out.events, fmt, mapping, archived, out)
    if fmt.archived and fmt.archived in table.column_names:
        keep = _archived(table.column(fmt.archived), columns, mapping, archived, out)
    _dates(table, fmt, columns, out)
    columns["resolution"] = _resolution(table, fmt, mapping, columns, status_names, out)
    if "priority" in columns and fmt.no_priority:
        said = pc.is_in(pc.utf8_lower(columns["priority"]), pa.array(fmt.no_priority))
        columns["priority"] = pc.if_else(said, None, columns["priority"])
    if "priority" in columns:
        columns["priority"] = _values(
            columns["priority"],
            {**fmt.priority, **mapping.priority},
            "priority",
            out,
            "map them with --priority VALUE=low|medium|high",
        )
    if "workers" in columns:
        columns["workers"] = _split(columns["workers"], mapping.separator or fmt.separator)
    if "labels" in columns and fmt.labels_separator != "repeated":
        columns["labels"] = _split(columns["labels"], fmt.labels_separator)
    columns["row"] = pa.chunked_array([pa.array(np.arange(1, n + 1), pa.int64())])
    out.table = pa.table({name: columns[name] for name in (*FIELDS, "row") if name in columns})
    out.rows = n
    if not keep.all():
        out.table = out.table.filter(pa.array(keep))
        gone = set((np.flatnonzero(~keep) + 1).tolist())
        out.refusals = [
            Refusal(r.field, r.reason, [n for n in r.rows if n not in gone], r.hint)
            for r in out.refusals
            if any(n not in gone for n in r.rows)
        ]
        for counted in out.counted:
            counted.rows = counted.rows[keep]
    if fmt.note is not None and (note := fmt.note(out.table)):
        out.notes.append(note)
    if "key" in out.table.column_names:
        out.table, first = _repeated_rows(out.table, fmt, out)
        for counted in out.counted:
            counted.rows = counted.rows[first]
    # Counted after merging: one per task. Refused values are null too, but they are listed
    # as refusals and their rows are not stored.
    priority = out.table.column("priority") if "priority" in out.table.column_names else None
    missing = np.ones(out.table.num_rows, bool) if priority is None else _nulls(priority)
    refused = {r for x in out.refusals if x.field == "priority" for r in x.rows}
    if refused:
        missing &= ~np.isin(out.table.column("row").to_numpy(), list(refused))
    if missing.any():
        out.counted.append(Counted("priority", "the default (medium)", missing, derived=True))
    return out


def _refuse_not_finite(
    records: list[dict[str, Any]], sources: dict[str, str], out: Converted
) -> None:
    """JSON's NaN and Infinity (Python's json reads them) are no value of any field: refused,
    never stored as the text "nan"."""
    field_of = {source: target for target, source in sources.items()}
    for row, record in enumerate(records, 1):
        for name, value in record.items():
            if isinstance(value, float) and not math.isfinite(value) and name in field_of:
                out.refusals.append(
                    Refusal(field_of[name], f"{value} (JSON NaN/Infinity: not a value)", [row])
                )


def _nulls(column: pa.ChunkedArray) -> np.ndarray:
    return pc.is_null(column).to_numpy(zero_copy_only=False)


def _sources(raw: Raw, fmt: Format, mapping: ImportMapping, detected: bool) -> dict[str, str]:
    """field -> source column (unique name)."""
    table = raw.table
    sources: dict[str, str] = {}
    for source, target in {**fmt.columns, **mapping.columns}.items():
        if source in table.column_names and target not in sources:
            sources[target] = source
    for source, target in mapping.columns.items():  # the user's choice wins over the format's
        if source not in table.column_names:
            raise LoadError(
                f"--map {source}={target}: the file has no column {source!r}; its columns: "
                + ", ".join(repr(c) for c in raw.header[:30])
                + (" ..." if len(raw.header) > 30 else "")
            )
        sources[target] = source
    if "title" not in sources:
        unknown = (
            " (taskkit did not recognise it as an export of Jira, GitHub, Asana, Linear, Plane "
            "or Trello, and read it as its own columns)"
            if fmt.name == "taskkit" and detected
            else ""
        )
        raise LoadError(
            f"no column holds the title (format {fmt.name}){unknown}; map one with --map "
            "COLUMN=title. The file's columns: " + ", ".join(repr(c) for c in raw.header[:30])
        )
    for target, source in sources.items():
        repeated_ok = target == "labels" and fmt.labels_separator == "repeated"
        if raw.header.count(source) > 1 and not repeated_ok:
            raise LoadError(
                f"column {source!r} appears {raw.header.count(source)} times in the header: "
                f"which one holds the {target}? Rename the others, or map one by its place: "
                f"--map '{source}={target}' for the first, --map '{source}.1={target}' for the "
                "second, and so on"
            )
    return sources


def _repeated(table: pa.Table, name: str) -> pa.ChunkedArray:
    """A column repeated in the header (``Labels``, ``Labels.1`` ...) as one cell of names."""
    pattern = re.compile(rf"^{re.escape(name)}(?:\.\d+)?$")
    parts = [pc.fill_null(table.column(c), "") for c in table.column_names if pattern.match(c)]
    # Empty cells give empty names between separators, which splitting drops. (Arrow's
    # null_handling="skip" here lost rows whose cells were all null: pyarrow 26.)
    joined = pc.binary_join_element_wise(*parts, WORKER_SEPARATOR)
    return _blank_as_null(pc.replace_substring_regex(joined, f"^{WORKER_SEPARATOR}+$", ""))


def _ignored(raw: Raw, used: set[str], fmt: Format) -> list[str]:
    names: dict[str, int] = {}
    labels = {s for s, t in fmt.columns.items() if t == "labels"}
    for original, unique in zip(raw.header, unique_names(raw.header), strict=True):
        repeated_label = fmt.labels_separator == "repeated" and original in labels
        if unique not in used and not (repeated_label and original in used):
            names[original] = names.get(original, 0) + 1
    return [name if count == 1 else f"{name} (x{count})" for name, count in names.items()]


def _blank_as_null(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.if_else(blank(column), pa.scalar(None, pa.string()), column)


def _lookup(column: pa.ChunkedArray, known: dict[str, str]) -> pa.ChunkedArray:
    """Each value through ``known`` (folded keys): null where it has none."""
    return pa.chunked_array([lookup_resolution(column, known)])


def _status(
    table: pa.Table, fmt: Format, mapping: ImportMapping, columns: dict[str, Any], out: Converted
) -> pa.ChunkedArray:
    """The user's mapping first, then the tracker's status category, then the format's own
    spellings; what none of them knows is refused, and so are blank cells unless mapped."""
    n = table.num_rows
    if "status" in columns:
        column = columns["status"]
        choices = [_lookup(column, mapping.status)]
        for category in fmt.status_category:
            if category in table.column_names:
                choices.append(_lookup(_blank_as_null(table.column(category)), category_statuses()))
                break
        choices.append(_lookup(column, fmt.status))
        result = pc.coalesce(*choices)
        _refuse_unmapped(column, result, "status", STATUS_HINT, out)
        blank = _nulls(column)
        if blank.any():
            if "" in mapping.status:
                result = pc.if_else(pa.array(blank), mapping.status[""], result)
                out.counted.append(
                    Counted(
                        "status",
                        f"{mapping.status['']} (--status '={mapping.status['']}')",
                        blank,
                        derived=True,
                    )
                )
            else:
                out.refusals.append(
                    Refusal(
                        "status",
                        "blank",
                        (np.flatnonzero(blank) + 1).tolist(),
                        "give them a status, or map blank cells with --status "
                        "'=pending' (or in_progress, completed)",
                    )
                )
        return result
    if "completed_at" in columns and fmt.completed_from_date:
        done = pc.is_valid(columns["completed_at"])
        return pc.if_else(done, "completed", "pending")
    out.counted.append(Counted("status", "the default (pending)", np.ones(n, bool), derived=True))
    return pa.chunked_array([pa.array(["pending"] * n, pa.string())])


def _event_statuses(
    events: Events, fmt: Format, mapping: ImportMapping, archived: str, out: Converted
) -> Events:
    """The status each recorded event left the card in: its list's, as the cards' lists are
    mapped; archived is completed (see :func:`_archived`). A list name in the history that
    nobody mapped refuses the card, as its current list would."""
    table = events.table
    lists = table.column("list")
    by_list = pc.coalesce(_lookup(lists, mapping.status), _lookup(lists, fmt.status))
    action = table.column("action")
    archived_now = pc.is_in(action, pa.array(["archive", "first archived"]))
    status = pc.if_else(archived_now, "completed", by_list)
    unmapped = pc.and_(pc.invert(archived_now), pc.and_(pc.is_null(by_list), pc.is_valid(lists)))
    values = lists.filter(unmapped).to_pylist()
    rows = table.column("row").filter(unmapped).to_pylist()
    for value in dict.fromkeys(values):
        out.refusals.append(
            Refusal(
                "status",
                repr(value),
                sorted({r for r, v in zip(rows, values, strict=True) if v == value}),
                STATUS_HINT,
            )
        )
    return Events(table.append_column("status", status))


def _archived(
    closed: pa.ChunkedArray,
    columns: dict[str, Any],
    mapping: ImportMapping,
    archived: str,
    out: Converted,
) -> np.ndarray:
    """Archived records are not open work: in a done list they are completed as that list
    says; elsewhere completed as ``archived`` says (cancelled, done), or left out (skip).
    Returns the rows to keep."""
    is_archived = pc.equal(closed, "true").to_numpy(zero_copy_only=False)
    keep = np.ones(len(is_archived), dtype=bool)
    if not is_archived.any():
        return keep
    status = columns["status"]
    in_done = pc.fill_null(pc.equal(status, "completed"), False).to_numpy(zero_copy_only=False)
    mapped = pc.is_valid(status).to_numpy(zero_copy_only=False)
    done_list = is_archived & in_done
    elsewhere = is_archived & ~in_done & mapped
    said: list[str] = []
    if done_list.any():
        said.append(f"{int(done_list.sum()):,} in a done list stored as completed there")
    if elsewhere.any():
        if archived == "skip":
            keep &= ~elsewhere
            out.left_out["archived cards outside a done list (--archived skip)"] = int(
                elsewhere.sum()
            )
        else:
            said.append(
                f"{int(elsewhere.sum()):,} outside a done list stored as completed ({archived})"
                + (
                    "; pass --archived done if archiving means finished on this board"
                    if archived == "cancelled"
                    else ""
                )
            )
            columns["archived_as"] = pa.chunked_array(
                [pa.array([archived if e else None for e in elsewhere], pa.string())]
            )
    columns["status"] = pc.if_else(pa.array(is_archived & mapped), "completed", status)
    if said:
        out.notes.append("archived cards: " + "; ".join(said))
    return keep


def _dates(table: pa.Table, fmt: Format, columns: dict[str, Any], out: Converted) -> None:
    """Completion and start dates from the tracker's own record: Jira's Status Category
    Changed (when the issue entered its category) before Resolved; Linear's Canceled where
    Completed is empty."""
    status = columns["status"]
    completed = pc.fill_null(pc.equal(status, "completed"), False).to_numpy(zero_copy_only=False)
    active = pc.fill_null(pc.equal(status, "in_progress"), False).to_numpy(zero_copy_only=False)
    resolved = columns.get("completed_at")
    if fmt.stale_on_open and resolved is not None:
        stale = ~completed & ~_nulls(resolved)
        if stale.any():
            columns["completed_at"] = resolved = pc.if_else(pa.array(stale), None, resolved)
            out.notes.append(
                f"{int(stale.sum()):,} Resolved dates of issues that are open again not read "
                "(Jira keeps them after a reopen)"
            )
    changed_name = next((c for c in fmt.category_changed if c in table.column_names), None)
    if changed_name is not None:
        changed = _blank_as_null(table.column(changed_name))
        has_changed = ~_nulls(changed)
        done_changed = completed & has_changed
        if done_changed.any():
            base = resolved if resolved is not None else pa.nulls(len(status), pa.string())
            columns["completed_at"] = pc.if_else(pa.array(done_changed), changed, base)
            out.counted.append(Counted("completed_at", f"from {changed_name}", done_changed))
        started = active & has_changed
        if started.any() and "started_at" not in columns:
            columns["started_at"] = pc.if_else(pa.array(started), changed, None)
            out.counted.append(
                Counted(
                    "started_at", f"from {changed_name} (the last move into In Progress)", started
                )
            )
    if resolved is not None:
        from_resolved = completed & ~_nulls(resolved)
        if changed_name is not None:
            from_resolved &= _nulls(_blank_as_null(table.column(changed_name)))
        if from_resolved.any() and fmt.name == "jira":
            out.counted.append(Counted("completed_at", "from Resolved", from_resolved))
    for source in fmt.completed_by:
        if source not in table.column_names:
            continue
        other = _blank_as_null(table.column(source))
        current = columns.get("completed_at")
        empty = np.ones(len(status), bool) if current is None else _nulls(current)
        use = empty & ~_nulls(other)
        if use.any():
            base = current if current is not None else pa.nulls(len(status), pa.string())
            columns["completed_at"] = pc.if_else(pa.array(use), other, base)


def _resolution(
    table: pa.Table,
    fmt: Format,
    mapping: ImportMapping,
    columns: dict[str, Any],
    status_names: pa.ChunkedArray | None,
    out: Converted,
) -> pa.ChunkedArray:
    """How each completed row ended: the resolution the file states (the user's mapping, then
    the known spellings), else its status name, else the column that completed it (Linear's
    Canceled), else the format's rule (GitHub); refused otherwise. Open rows keep a stated
    resolution (refused later unless --open-completed drop), except where the format says it
    is stale (Jira)."""
    n = table.num_rows
    completed = pc.fill_null(pc.equal(columns["status"], "completed"), False).to_numpy(
        zero_copy_only=False
    )
    result = pa.nulls(n, pa.string())
    stated = np.zeros(n, bool)
    known = {**KNOWN, **mapping.resolution}
    if "resolution" in columns:
        cells = columns["resolution"]
        cells = pc.if_else(pa.array(said_none(cells)), None, cells)
        stated = ~_nulls(cells)
        if fmt.stale_on_open:
            stale = stated & ~completed
            if stale.any():
                out.notes.append(
                    f"{int(stale.sum()):,} Resolution values of issues that are open again not "
                    "read (Jira keeps them after a reopen)"
                )
                cells = pc.if_else(pa.array(stale), None, cells)
                stated &= completed
        result = lookup_resolution(cells, known)
        _refuse_unmapped(
            _chunked(cells),
            _chunked(result),
            "resolution",
            RESOLUTION_HINT,
            out,
        )
    if "archived_as" in columns:
        result = pc.coalesce(result, columns["archived_as"].combine_chunks())
    if status_names is not None and fmt.resolution_from_status:
        by_name = lookup_resolution(status_names, known)
        result = pc.if_else(pa.array(completed & ~stated), pc.coalesce(result, by_name), result)
    for source, meaning in fmt.completed_by.items():
        if source in table.column_names:
            said = ~_nulls(_blank_as_null(table.column(source)))
            gap = completed & _nulls(result) & said
            result = pc.if_else(pa.array(gap), meaning, result)
    if fmt.completed_means is not None:
        # A tracker whose completed work has one meaning (Asana: no cancel), or whose
        # completion date is set for finished work only (Linear's Completed).
        gap = completed & _nulls(result)
        if fmt.name == "linear":
            gap &= ~_nulls(columns.get("completed_at", pa.nulls(n)))
        result = pc.if_else(pa.array(gap), fmt.completed_means, result)
    gap = completed & _nulls(result) & ~stated
    if gap.any() and fmt.unstated_resolution is not None:
        value, why = fmt.unstated_resolution
        result = pc.if_else(pa.array(gap), value, result)
        out.counted.append(Counted("resolution", f"{value}: {why}", gap, derived=True))
    elif gap.any() and fmt.name == "taskkit" and "resolution" not in columns:
        result = pc.if_else(pa.array(gap), "done", result)
        out.counted.append(
            Counted("resolution", "done (the file has no resolution column)", gap, derived=True)
        )
    elif gap.any():
        shown = status_names if status_names is not None else pa.nulls(n, pa.string())
        names = pd.Series(shown.to_pylist(), dtype=object).fillna("(no status)")
        rows = np.flatnonzero(gap)
        for value, group in pd.Series(rows + 1).groupby(names.iloc[rows].to_numpy(), sort=False):
            out.refusals.append(
                Refusal("resolution", f"none for status {value!r}", group.tolist(), RESOLUTION_HINT)
            )
    return pa.chunked_array([result])


def _chunked(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    # pa.chunked_array([values]) of a ChunkedArray goes value by value through Python objects
    # (0.2 s per 200,000 rows); one that is chunked already is used as it is.
    return values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])


def _refuse_unmapped(
    column: pa.ChunkedArray, result: pa.ChunkedArray, name: str, hint: str, out: Converted
) -> None:
    """One refusal per distinct value that has no mapping, with its rows."""
    # A value nobody mapped is never stored as a default: that is how 18 rows of "Blocked"
    # once became "pending" without a word.
    unmapped = pc.and_(pc.is_null(result), pc.is_valid(column))
    values = column.filter(unmapped)
    if not len(values):
        return
    rows = np.flatnonzero(unmapped.to_numpy(zero_copy_only=False))
    frame = pd.DataFrame({"value": values.to_pandas(), "row": rows + 1})
    for value, group in frame.groupby("value", sort=False):
        out.refusals.append(Refusal(name, repr(value), group["row"].tolist(), hint))


def _values(
    column: pa.ChunkedArray, known: dict[str, str], name: str, out: Converted, hint: str
) -> pa.ChunkedArray:
    result = _lookup(column, known)
    _refuse_unmapped(column, result, name, hint, out)
    return result


def _split(column: pa.ChunkedArray, separator: str | None) -> pa.ChunkedArray:
    """Cells of names as names joined by WORKER_SEPARATOR."""
    if separator in ("json", "json or ,"):
        values: list[str | None] = []
        for cell in column.to_pylist():
            if cell is None:
                values.append(None)
                continue
            try:
                names = json.loads(cell)
            except json.JSONDecodeError:
                # "json or ,": a JSON list, or names joined by ", " (Plane's CSV and JSON)
                names = cell.split(",") if separator == "json or ," else [cell]
            if isinstance(names, str):
                names = [names]
            if isinstance(names, list):
                names = [
                    (n.get("login") or n.get("name") or n.get("display_name"))
                    if isinstance(n, dict)
                    else n
                    for n in names
                ]
            else:
                names = [cell]
            values.append(WORKER_SEPARATOR.join(str(x) for x in names if x))
        return pa.chunked_array([pa.array(values, pa.string())])
    if separator is None:
        return column
    for one in separator[1:]:  # several separators: ",;" splits on either
        column = pc.replace_substring(column, one, separator[0])
    return pc.replace_substring(column, separator[0], WORKER_SEPARATOR)


def _repeated_rows(table: pa.Table, fmt: Format, out: Converted) -> tuple[pa.Table, np.ndarray]:
    """Rows sharing a key: identical rows are one record repeated (left out, counted); rows
    per assignee (Asana) are one task with every row's workers; rows that differ in anything
    else are not one task and are refused, naming Excel's rounding of long ids when the key
    looks like it. Returns the table and which rows were kept."""
    key = table.column("key")
    if pc.count_distinct(key, mode="only_valid").as_py() == len(key) - key.null_count:
        return table, np.ones(table.num_rows, dtype=bool)  # no key twice
    frame = table.to_pandas()
    keyed = frame["key"].notna()
    compared = [c for c in frame.columns if c not in ("row", "workers" if fmt.merge_rows else "")]
    shared = frame[keyed & frame["key"].duplicated(keep=False)]
    bad: set[Any] = set()
    for key, group in shared.groupby("key", sort=False):
        if len(group[compared].astype(str).drop_duplicates()) > 1:
            bad.add(key)
            differ = [c for c in compared if group[c].astype(str).nunique() > 1]
            scientific = _SCIENTIFIC.match(str(key)) is not None
            out.refusals.append(
                Refusal(
                    "key",
                    f"{key!r} names rows that differ in {', '.join(differ)}",
                    group["row"].tolist(),
                    "Excel turned long ids into scientific notation (7.18656E+14), so different "
                    "tasks share one; export again from the tracker, or import the CSV in Excel "
                    "with Data > From Text/CSV and the id column set to Text before saving"
                    if scientific
                    else "each key names one task: keep one row per key",
                )
            )
    # One row of each refused key stays (refused with the others), so that the key is not
    # also reported as repeated.
    first = ~(keyed & frame["key"].duplicated()).to_numpy()
    repeated = keyed & frame["key"].duplicated() & ~frame["key"].isin(bad)
    if fmt.merge_rows and "workers" in frame:
        joined = (
            frame[keyed]
            .groupby("key", sort=False)["workers"]
            .agg(lambda cells: WORKER_SEPARATOR.join(c for c in cells if isinstance(c, str)))
        )
        at = first & keyed.to_numpy() & ~frame["key"].isin(bad).to_numpy()
        frame.loc[at, "workers"] = frame.loc[at, "key"].map(joined)
        frame["workers"] = frame["workers"].replace("", None)
    merged = int(repeated.sum())
    if fmt.merge_rows:
        out.merged = merged
    elif merged:
        out.left_out["repeated records (same key, same values)"] = merged
    return pa.Table.from_pandas(frame[first], preserve_index=False, schema=table.schema), first
