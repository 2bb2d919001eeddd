"""Load your own task data from a CSV file or a pandas DataFrame.

Columns (only ``title`` is required; the names are the header of the CSV):

=============== ==============================================================================
``title``       1 to 200 characters, not blank
``description`` optional; an empty cell means none
``status``      ``pending`` (default), ``in_progress`` or ``completed``
``priority``    ``low``, ``medium`` (default) or ``high``
``project``     a project **name**; created if no project has it
``workers``     worker **names** separated by ``;`` (``Ada Berg; Sam Silva``). A name that
                one worker has refers to that worker; an unknown name creates a worker whose
                id is made from the name (``ada-berg``, then ``ada-berg-2``...). A name that
                several workers share is an error: it cannot say which one is meant.
``id``          optional task id (a positive integer, unique in the file and not yet used)
``created_at``  ISO 8601; without an offset it is taken as UTC; default: the time of loading
``updated_at``  default: ``created_at`` (or ``completed_at``); never before ``created_at``
``completed_at`` only for ``completed`` tasks; default for them: ``updated_at``
``key``         optional: the tracker's own key (``HIVE-28515``), unique; a re-import updates
                the task that has it
=============== ==============================================================================

Tracker exports (Jira, GitHub, Asana, Linear, Plane, Trello) are recognised by their header or
JSON shape and mapped to these columns (``taskkit._importers``); any other file is read with
these names, plus the columns a mapping names.

Every value is checked by the rules of ``TaskCreate`` (and ``WorkerCreate`` / ``ProjectCreate``
for names): the same pydantic field validators, applied once per distinct value, which is
the same as checking every row because those models have no cross-field rules (a test holds
that). The rows then go in through the bulk path that seeding uses, in one transaction.
"""

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from taskkit._bulk import Batch, Existing, write_batches
from taskkit._errors import BulkWriteError, InvalidArgumentError, LoadError
from taskkit._importers.dates import DateOrder, parse_dates
from taskkit._importers.formats import WORKER_SEPARATOR, Converted, convert, detect, needed
from taskkit._importers.mapping import ImportMapping
from taskkit._importers.reading import Raw, read_file, read_frame
from taskkit._importers.sync import known_keys, write_keyed
from taskkit._models import (
    DESCRIPTION_MAX,
    KEY_MAX,
    NAME_MAX,
    TITLE_MAX,
    Priority,
    ProjectCreate,
    Status,
    TaskCreate,
    WorkerCreate,
    utcnow,
)

__all__ = ["COLUMNS", "ImportMapping", "LoadSummary", "RowProblem", "load_tasks"]

COLUMNS = (
    "id", "title", "description", "status", "priority", "project", "workers",
    "created_at", "updated_at", "completed_at", "key",
)  # fmt: skip
REQUIRED = ("title",)
SHOWN_PROBLEMS = 20  # distinct (field, value) groups listed; each with its count and rows
SHOWN_ROWS = 5
CHUNK = 200_000
_TIMESTAMPS = ("created_at", "updated_at", "completed_at")


@dataclass(frozen=True)
class RowProblem:
    """One bad value: the data row (1 = first row after the header), field and reason."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.reason}"


@dataclass(frozen=True)
class LoadSummary:
    """What :func:`load_tasks` stored, and what it read, ignored, filled in or skipped."""

    tasks: int  # new tasks
    projects_created: int
    workers_created: int
    links: int
    seconds: float
    skipped: list[RowProblem] = field(default_factory=list)
    updated: int = 0  # tasks with a known key whose values changed
    unchanged: int = 0  # tasks with a known key, same values
    format: str = "taskkit"
    detected: bool = False
    ignored: list[str] = field(default_factory=list)  # source columns nobody mapped
    filled: dict[str, str] = field(default_factory=dict)  # field -> what was filled in
    notes: list[str] = field(default_factory=list)  # time zone, merged rows, truncations

    @property
    def skipped_rows(self) -> list[int]:
        return sorted({p.row for p in self.skipped})

    def __str__(self) -> str:
        how = "detected" if self.detected else "as asked"
        text = (
            f"format: {self.format} ({how})\n"
            f"loaded {self.tasks:,} tasks ({self.projects_created:,} new projects, "
            f"{self.workers_created:,} new workers, {self.links:,} assignments) "
            f"in {self.seconds:.1f} s"
        )
        if self.updated or self.unchanged:
            text += (
                f"\nby key: {self.tasks:,} new, {self.updated:,} updated, "
                f"{self.unchanged:,} unchanged"
            )
        for name, what in self.filled.items():
            text += f"\nfilled in: {name}: {what}"
        for note in self.notes:
            text += f"\nnote: {note}"
        if self.ignored:
            text += f"\nignored {len(self.ignored)} column(s) nobody mapped: " + ", ".join(
                repr(c) for c in self.ignored
            )
        if self.skipped:
            text += f"\nskipped {len(self.skipped_rows):,} bad rows:\n" + _listing(self.skipped)
        return text


def _listing(problems: list[RowProblem], hints: dict[str, str] | None = None) -> str:
    """Problems grouped by field and value: ``status: 'Blocked' (6 rows: 7, 9, 12, ...),
    'Analyzing' (1 row: 15); map them with ...``, one line per field."""
    groups: dict[str, dict[str, list[int]]] = {}
    for p in problems:
        groups.setdefault(p.field, {}).setdefault(p.reason, []).append(p.row)
    lines = []
    shown = 0
    for name, reasons in groups.items():
        parts = []
        for reason, rows in reasons.items():
            if shown >= SHOWN_PROBLEMS:
                break
            rows = sorted(set(rows))
            listed = ", ".join(map(str, rows[:SHOWN_ROWS])) + (
                ", ..." if len(rows) > SHOWN_ROWS else ""
            )
            parts.append(f"{reason} ({len(rows):,} row{'s' if len(rows) > 1 else ''}: {listed})")
            shown += 1
        more = len(reasons) - len(parts)
        line = (
            f"  {name}: " + ", ".join(parts) + (f", and {more:,} more values" if more > 0 else "")
        )
        if hints and hints.get(name):
            line += f"; {hints[name]}"
        lines.append(line)
    return "\n".join(lines)


# --- reading --------------------------------------------------------------------------------


# --- checking -------------------------------------------------------------------------------


def _field_adapter(model: type, name: str) -> TypeAdapter[Any]:
    info = model.model_fields[name]  # type: ignore[attr-defined]
    return TypeAdapter(Annotated[info.annotation, info])  # type: ignore[arg-type]


_ADAPTERS = {
    "title": _field_adapter(TaskCreate, "title"),
    "description": _field_adapter(TaskCreate, "description"),
    "status": _field_adapter(TaskCreate, "status"),
    "priority": _field_adapter(TaskCreate, "priority"),
    "project": _field_adapter(ProjectCreate, "name"),
    "worker": _field_adapter(WorkerCreate, "name"),
    "key": _field_adapter(TaskCreate, "key"),
}


def _reason(exc: ValidationError) -> str:
    return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")


class _Checker:
    """Collects problems per row while each column is checked; rows are reported by their
    number in the source (``row_numbers``: a merged export has fewer rows than lines)."""

    def __init__(self, row_numbers: np.ndarray) -> None:
        self.n = len(row_numbers)
        self.row_numbers = row_numbers
        self.problems: list[RowProblem] = []
        self.bad = np.zeros(self.n, dtype=bool)
        self.hints: dict[str, str] = {}
        self.naive = 0  # times read in the zone of --tz

    def flag(self, rows: np.ndarray, field_name: str, reason: str, hint: str = "") -> None:
        self.bad[rows] = True
        self.problems.extend(RowProblem(int(self.row_numbers[r]), field_name, reason) for r in rows)
        if hint:
            self.hints[field_name] = hint

    def refuse(self, numbers: list[int], field_name: str, reason: str, hint: str = "") -> None:
        """Refuse source rows by their numbers (some may have been merged into others)."""
        self.bad[np.isin(self.row_numbers, numbers)] = True
        self.problems.extend(RowProblem(n, field_name, reason) for n in numbers)
        if hint:
            self.hints[field_name] = hint

    def by_value(
        self, column: pa.ChunkedArray, field_name: str, adapter: TypeAdapter[Any]
    ) -> pa.Array:
        """Validate each distinct value once; flag rows with a bad one; return parsed values."""
        encoded = column.combine_chunks().dictionary_encode()
        dictionary = encoded.dictionary
        limits = _TEXT_RULES.get(field_name)
        if limits is not None and pc.all(_plain_text_ok(dictionary, *limits)).as_py() is not False:
            # Every distinct value passes the field's rules checked in bulk (the same rules
            # as the model's: a test holds that), so pydantic has nothing to add.
            return dictionary.take(encoded.indices)
        parsed: list[Any] = []
        for code, value in enumerate(dictionary.to_pylist()):
            try:
                result = adapter.validate_python(value)
                parsed.append(result.value if isinstance(result, Status | Priority) else result)
            except ValidationError as exc:
                parsed.append(None)
                rows = np.flatnonzero(encoded.indices.to_numpy(zero_copy_only=False) == code)
                self.flag(rows, field_name, f"{_reason(exc)} (got {_shown(value)})")
        return pa.array(parsed, pa.string()).take(encoded.indices)


# Text fields whose rules are length, not blank and storable: (min length, max length).
_TEXT_RULES = {
    "title": (1, TITLE_MAX), "description": (0, DESCRIPTION_MAX), "key": (1, KEY_MAX),
    "project": (1, NAME_MAX), "worker": (1, NAME_MAX),
}  # fmt: skip


def _plain_text_ok(values: pa.Array, low: int, high: int) -> pa.Array:
    """True for each value within ``low``..``high`` code points, not blank (when ``low``),
    and without NUL (Arrow text is valid UTF-8, so no lone surrogates)."""
    length = pc.utf8_length(values)
    ok = pc.and_(pc.greater_equal(length, low), pc.less_equal(length, high))
    ok = pc.and_(ok, pc.invert(pc.match_substring(values, "\x00")))
    if low:
        ok = pc.and_(ok, pc.not_equal(pc.utf8_trim_whitespace(values), ""))
    return pc.fill_null(ok, False)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def _text(table: pa.Table, name: str, default: str | None = None) -> pa.ChunkedArray:
    """The column as text, empty cells as None (or ``default``); absent: all ``default``."""
    if name not in table.column_names:
        return pa.chunked_array([pa.array([default] * table.num_rows, pa.string())])
    column = table.column(name)
    empty = pc.equal(pc.utf8_trim_whitespace(column), "")
    filled = pc.if_else(empty, pa.scalar(default, pa.string()), column)
    return pc.if_else(pc.is_null(column), pa.scalar(default, pa.string()), filled)


@dataclass(frozen=True)
class _Options:
    """How values that need a decision are read (see :func:`load_tasks`)."""

    date_order: DateOrder = None
    tz: str = "UTC"
    long_titles: str = "refuse"
    open_completed: str = "refuse"


def _timestamps(
    table: pa.Table, name: str, check: _Checker, options: _Options = _Options()
) -> pd.Series:
    column = _text(table, name)
    fast = _iso_timestamps(column) if options.tz == "UTC" else None
    if fast is not None:
        return fast.to_pandas().astype("datetime64[us, UTC]")
    parsed = parse_dates(column.to_pandas(), order=options.date_order, tz=options.tz)
    for value, rows in parsed.bad.items():
        check.flag(
            rows, name, f"{_shown(value)} is not a date and time taskkit reads",
            "e.g. 2025-03-01T09:30:00Z, 17/Feb/22 11:02 AM, 06-09-2024 13:55",
        )  # fmt: skip
    for value, rows in parsed.ambiguous.items():
        check.flag(
            rows, name, f"{_shown(value)} could be day-month or month-day",
            "pass --dayfirst or --monthfirst (date_order='dayfirst' or 'monthfirst')",
        )  # fmt: skip
    check.naive += parsed.naive
    return parsed.values


def _iso_timestamps(text: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """Arrow's ISO 8601 parser (several times faster than pandas') when every value is plain
    ISO 8601 at microsecond precision, all without an offset (taken as UTC) or all with one;
    ``None`` otherwise, and pandas parses the column and names each bad value."""
    for target in (pa.timestamp("us"), pa.timestamp("us", "UTC")):
        try:
            parsed = pc.cast(text, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return parsed if target.tz else pc.assume_timezone(parsed, "UTC")
    return None


@dataclass
class _Checked:
    """The rows after checking, as columns (bad rows still in, flagged)."""

    title: pa.Array
    description: pa.Array
    status: pa.Array
    priority: pa.Array
    project: pa.Array
    workers: "_Links"
    ids: pd.Series  # Int64, <NA> where not given
    created_at: pd.Series
    updated_at: pd.Series
    completed_at: pd.Series
    key: pa.Array
    given: dict[str, np.ndarray] = field(default_factory=dict)  # timestamp -> given in source
    filled: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _check(
    table: pa.Table, *, now: pd.Timestamp, options: _Options = _Options()
) -> tuple[_Checked, _Checker]:
    """Check the rows of ``table`` (taskkit's columns as text, plus ``row``: source row
    numbers), each column by TaskCreate's rules; bad rows are flagged, not dropped."""
    if "row" in table.column_names:
        numbers = table.column("row").to_numpy()
        table = table.drop_columns(["row"])
    else:
        numbers = np.arange(1, table.num_rows + 1)
    unknown = [c for c in table.column_names if c not in COLUMNS]
    missing = [c for c in REQUIRED if c not in table.column_names]
    if unknown or missing:
        problems = []
        if missing:
            problems.append(f"missing required column(s): {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s): {', '.join(map(repr, unknown))}")
        raise LoadError(f"{'; '.join(problems)}; allowed columns: {', '.join(COLUMNS)}")
    if len(set(table.column_names)) != len(table.column_names):
        raise LoadError(f"duplicate column names in the header: {table.column_names}")
    if table.num_rows == 0:
        raise LoadError("no rows to load: the data has a header but no rows")
    check = _Checker(numbers)
    notes: list[str] = []
    titles = pc.fill_null(table.column("title"), "")
    long = pc.greater(pc.utf8_length(titles), TITLE_MAX).to_numpy(zero_copy_only=False)
    if long.any():
        # Trackers allow longer titles (GitHub 256, Jira 255): cut only when asked, so that a
        # title is never changed without a word.
        cut = pc.utf8_slice_codeunits(titles, 0, TITLE_MAX - 1)
        titles = pc.if_else(pa.array(long), pc.binary_join_element_wise(cut, "…", ""), titles)
        if options.long_titles == "truncate":
            notes.append(f"{int(long.sum()):,} titles longer than {TITLE_MAX} characters were cut")
        else:
            check.flag(
                np.flatnonzero(long), "title", f"longer than {TITLE_MAX} characters",
                "pass --long-titles truncate (long_titles='truncate') to cut them",
            )  # fmt: skip
    title = check.by_value(titles, "title", _ADAPTERS["title"])
    description = check.by_value(
        _text(table, "description"), "description", _ADAPTERS["description"]
    )
    status = check.by_value(_text(table, "status", "pending"), "status", _ADAPTERS["status"])
    priority = check.by_value(_text(table, "priority", "medium"), "priority", _ADAPTERS["priority"])
    project = _text(table, "project")
    project_ok = pc.is_valid(project).to_numpy(zero_copy_only=False)
    if project_ok.any():
        named = check.by_value(
            project.filter(pc.is_valid(project)), "project", _ADAPTERS["project"]
        )
        full = np.full(table.num_rows, None, dtype=object)
        full[project_ok] = named.to_pylist()
        project_array = pa.array(full, pa.string())
    else:
        project_array = project.combine_chunks()
    workers = _workers(table, check)
    ids = _ids(table, check)
    key = _keys(table, check)
    check.naive = 0
    created = _timestamps(table, "created_at", check, options)
    updated = _timestamps(table, "updated_at", check, options)
    completed = _timestamps(table, "completed_at", check, options)
    if check.naive:
        notes.append(f"{check.naive:,} times written without an offset were read as {options.tz}")
    given = {
        "created_at": created.notna().to_numpy(),
        "updated_at": updated.notna().to_numpy(),
        "completed_at": completed.notna().to_numpy(),
    }
    is_completed = pd.Series(
        pc.equal(status, Status.completed.value).to_numpy(zero_copy_only=False)
    )
    is_completed = is_completed.fillna(False).astype(bool)
    open_done = ~is_completed & completed.notna()
    if open_done.any() and options.open_completed == "drop":
        notes.append(
            f"{int(open_done.sum()):,} completed dates dropped: their status is not completed"
        )
        completed = completed.where(~open_done)
        open_done = open_done & False
    filled: dict[str, str] = {}
    for name, count, what in (
        ("created_at", int(created.isna().sum()), "the load time"),
        ("updated_at", int(updated.isna().sum()), "created_at (completed_at when completed)"),
        ("completed_at", int((is_completed & completed.isna()).sum()), "updated_at"),
    ):
        if count:
            filled[name] = f"{_rows(count)} given {what}"
    created = created.fillna(now)
    completed = completed.where(~is_completed | completed.notna(), updated)
    updated = updated.fillna(completed.where(is_completed, created)).fillna(created)
    completed = completed.where(~is_completed | completed.notna(), updated)
    for rows, name, reason, hint in (
        (
            open_done, "completed_at", "is set, but the status is not 'completed'",
            "pass --open-completed drop (open_completed='drop') to keep the status and drop "
            "the date",
        ),
        (updated < created, "updated_at", "is before created_at", ""),
        (is_completed & (completed < created), "completed_at", "is before created_at", ""),
    ):  # fmt: skip
        check.flag(np.flatnonzero(rows.to_numpy()), name, reason, hint)
    checked = _Checked(
        title=title, description=description, status=status, priority=priority,
        project=project_array, workers=workers, ids=ids, created_at=created,
        updated_at=updated, completed_at=completed.where(is_completed), key=key,
        given=given, filled=filled, notes=notes,
    )  # fmt: skip
    return checked, check


def _keys(table: pa.Table, check: _Checker) -> pa.Array:
    """Each row's tracker key (checked like TaskCreate.key); a key twice in the file is
    refused: it cannot say which row is the task."""
    keys = _text(table, "key")
    if keys.null_count == len(keys):
        return keys.combine_chunks()
    present = pc.is_valid(keys)
    checked = check.by_value(keys.filter(present), "key", _ADAPTERS["key"])
    full = np.full(table.num_rows, None, dtype=object)
    mask = present.to_numpy(zero_copy_only=False)
    full[mask] = checked.to_pylist()
    series = pd.Series(full)
    repeated = series.notna() & series.duplicated(keep=False)
    for value, rows in series[repeated].groupby(series[repeated], sort=False).groups.items():
        check.flag(
            np.asarray(rows), "key", f"{_shown(value)} names several rows",
            "each key names one task: remove the repeated rows",
        )  # fmt: skip
    return pa.array(full, pa.string())


@dataclass
class _Links:
    """Each row's worker names, flattened: ``names[i]`` is named by row ``rows[i]``; rows in
    order, a name at most once per row."""

    rows: np.ndarray  # int64 row positions, ascending
    names: pa.Array  # strings


def _workers(table: pa.Table, check: _Checker) -> _Links:
    """Split the ``workers`` cells (names joined by the format's separator, each trimmed) and
    check each distinct name."""
    if "workers" not in table.column_names:
        return _Links(np.zeros(0, np.int64), pa.array([], pa.string()))
    lists = pc.split_pattern(_text(table, "workers").combine_chunks(), WORKER_SEPARATOR)
    names = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    rows = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    pairs = pd.DataFrame({"row": rows, "name": names.to_pandas()})
    pairs = pairs[(pairs["name"] != "") & ~pairs.duplicated()]  # "a; ;a" names one worker
    links = _Links(pairs["row"].to_numpy(), pa.array(pairs["name"], pa.string()))
    encoded = links.names.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    for code, name in enumerate(encoded.dictionary.to_pylist()):
        try:
            _ADAPTERS["worker"].validate_python(name)
        except ValidationError as exc:
            check.flag(
                np.unique(links.rows[codes == code]),
                "workers",
                f"{_reason(exc)} (got {_shown(name)})",
            )
    return links


def _ids(table: pa.Table, check: _Checker) -> pd.Series:
    if "id" not in table.column_names:
        n = table.num_rows  # all missing
        return pd.Series(pd.arrays.IntegerArray(np.zeros(n, np.int64), np.ones(n, bool)))
    text = _text(table, "id").to_pandas()
    numbers = pd.to_numeric(text, errors="coerce")
    whole = numbers.notna() & (numbers == np.floor(numbers)) & (numbers >= 1) & (numbers < 2**63)
    for row in np.flatnonzero((text.notna() & ~whole).to_numpy()):
        check.flag(
            np.array([row]), "id", f"must be a positive integer (got {_shown(text.iloc[row])})"
        )
    ids = numbers.where(whole).astype("Int64")
    repeated = ids.notna() & ids.duplicated(keep=False)
    for value, rows in ids[repeated].groupby(ids[repeated], sort=False).groups.items():
        check.flag(np.asarray(rows), "id", f"{value} names several rows")
    return ids


# --- writing --------------------------------------------------------------------------------


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:56] or "worker"


def _batches(rows: _Checked, keep: np.ndarray, existing: Existing) -> Iterator[Batch]:
    """Resolve names to ids against what the database holds, then yield the rows."""
    kept_positions = np.flatnonzero(keep)
    project_names = rows.project.filter(pa.array(keep))
    projects = dict(existing.projects)
    new_projects: list[tuple[int, str]] = []
    for name in pc.unique(project_names.drop_null()).to_pylist():  # in order of appearance
        if name not in projects:
            projects[name] = existing.max_project_id + len(new_projects) + 1
            new_projects.append((projects[name], name))
    if new_projects:
        ids, names = zip(*new_projects, strict=True)
        yield "project", pa.table({"id": pa.array(ids, pa.int64()), "name": pa.array(names)})
    project_ids = _lookup(project_names, projects, pa.int64())

    kept_links = keep[rows.workers.rows]
    link_rows = rows.workers.rows[kept_links]
    link_names = rows.workers.names.filter(pa.array(kept_links))
    worker_ids = _worker_ids(link_names, link_rows, existing)
    if worker_ids.new:
        wids, names = zip(*worker_ids.new, strict=True)
        yield "worker", pa.table({"id": pa.array(wids), "name": pa.array(names)})
    link_workers = _lookup(link_names, worker_ids.by_name, pa.string())

    given = rows.ids[keep].reset_index(drop=True)
    first_free = max(existing.max_task_id, int(given.max()) if given.notna().any() else 0) + 1
    task_ids = given.to_numpy(dtype="int64", na_value=0)
    task_ids[given.isna().to_numpy()] = np.arange(first_free, first_free + int(given.isna().sum()))
    task_id_of_row = np.zeros(len(keep), np.int64)
    task_id_of_row[kept_positions] = task_ids
    for start in range(0, len(kept_positions), CHUNK):
        stop = min(start + CHUNK, len(kept_positions))
        positions = kept_positions[start:stop]
        taken = pa.array(positions)
        yield (
            "task",
            pa.table(
                {
                    "id": pa.array(task_ids[start:stop]),
                    "title": rows.title.take(taken),
                    "description": rows.description.take(taken),
                    "status": rows.status.take(taken),
                    "priority": rows.priority.take(taken),
                    "project_id": project_ids[start:stop],
                    "key": rows.key.take(taken),
                    **{
                        name: pa.array(series.iloc[positions], pa.timestamp("us", "UTC"))
                        for name, series in (
                            ("created_at", rows.created_at),
                            ("updated_at", rows.updated_at),
                            ("completed_at", rows.completed_at),
                        )
                    },
                }
            ),
        )
        # The links of these rows: link rows ascend, so they are one slice.
        low = int(np.searchsorted(link_rows, positions[0]))
        high = int(np.searchsorted(link_rows, positions[-1], side="right"))
        if high > low:
            yield (
                "taskworkerlink",
                pa.table(
                    {
                        "task_id": pa.array(task_id_of_row[link_rows[low:high]]),
                        "worker_id": link_workers[low:high],
                    }
                ),
            )


def _lookup(names: pa.Array, ids: dict[str, Any], id_type: pa.DataType) -> pa.Array:
    """``ids[name]`` for each name (null stays null), vectorized."""
    known = list(ids)
    positions = pc.index_in(names, value_set=pa.array(known, pa.string()))
    return pa.array([ids[name] for name in known], id_type).take(positions)


@dataclass
class _WorkerIds:
    by_name: dict[str, str] = field(default_factory=dict)
    new: list[tuple[str, str]] = field(default_factory=list)  # (id, name) to create


def _worker_ids(names: pa.Array, rows: np.ndarray, existing: Existing) -> _WorkerIds:
    """The worker id of each name: an existing worker's, or a new one made from the name."""
    sharing: dict[str, list[str]] = {}
    for wid, name in existing.workers.items():
        sharing.setdefault(name, []).append(wid)
    taken = set(existing.workers)
    result = _WorkerIds()
    distinct = pc.unique(names)  # in order of appearance
    for name in distinct.to_pylist():
        if name in sharing:
            if len(sharing[name]) > 1:
                first = int(rows[pc.index(names, name).as_py()])
                raise LoadError(
                    f"row {first + 1}: workers: {name!r} is the name of several workers "
                    f"({', '.join(sorted(sharing[name]))}); it cannot say which one is meant"
                )
            result.by_name[name] = sharing[name][0]
            continue
        wid, suffix = _slug(name), 1
        while wid in taken:
            suffix += 1
            wid = f"{_slug(name)}-{suffix}"
        taken.add(wid)
        result.by_name[name] = wid
        result.new.append((wid, name))
    return result


def _keyed_batches(
    rows: _Checked,
    keep: np.ndarray,
    now: pd.Timestamp,
    counts: dict[str, int],
) -> Callable[[Existing, pd.DataFrame, pd.DataFrame], Iterator[Batch]]:
    """The batch factory of a re-import: rows whose key a task has take that task's id (and
    its timestamps where the file gives none); rows equal to their task are left out."""

    def make(existing: Existing, current: pd.DataFrame, links: pd.DataFrame) -> Iterator[Batch]:
        keys = pd.Series(rows.key.to_pylist(), dtype=object)
        by_key = current.set_index("key")
        matched = keys.isin(by_key.index).to_numpy() & keep
        positions = np.flatnonzero(matched)
        found = by_key.loc[keys[matched]]
        ids = rows.ids.copy()
        ids.iloc[positions] = found["id"].to_numpy()
        stamps = {}
        for name in ("created_at", "updated_at", "completed_at"):
            series = getattr(rows, name).copy()
            keep_old = ~rows.given[name][positions]
            old = pd.to_datetime(found[name], utc=True).astype("datetime64[us, UTC]").to_numpy()
            if name == "completed_at":
                done = (rows.status.take(pa.array(positions)).to_numpy(zero_copy_only=False)
                        == "completed")  # fmt: skip
                keep_old &= done & ~pd.isna(old)
            series.iloc[positions[keep_old]] = old[keep_old]
            stamps[name] = series
        # Unchanged: every stored value equal (workers as a set of ids).
        names_of = {pid: name for name, pid in existing.projects.items()}
        workers_of = links.groupby("task_id")["worker_id"].agg(frozenset) if len(links) else {}
        by_name = {name: wid for wid, name in existing.workers.items()}
        same = np.zeros(len(keep), dtype=bool)
        link_rows = rows.workers.rows
        link_names = rows.workers.names.to_pylist()
        row_workers: dict[int, set[str]] = {}
        for r, n in zip(link_rows.tolist(), link_names, strict=True):
            row_workers.setdefault(r, set()).add(n)
        for i, (pos, (_, task)) in enumerate(zip(positions, found.iterrows(), strict=True)):
            wanted = {by_name.get(n, f"?{n}") for n in row_workers.get(int(pos), set())}
            same[pos] = (
                rows.title[int(pos)].as_py() == task["title"]
                and rows.description[int(pos)].as_py() == _none(task["description"])
                and rows.status[int(pos)].as_py() == str(task["status"])
                and rows.priority[int(pos)].as_py() == str(task["priority"])
                and rows.project[int(pos)].as_py() == names_of.get(_none(task["project_id"]))
                and wanted == set(workers_of.get(task["id"], frozenset()))
                and stamps["created_at"].iloc[pos] == pd.Timestamp(task["created_at"])
                and _same_time(stamps["completed_at"].iloc[pos], task["completed_at"])
                and (not rows.given["updated_at"][pos]
                     or stamps["updated_at"].iloc[pos] == pd.Timestamp(task["updated_at"]))
            )  # fmt: skip
            if not same[pos] and not rows.given["updated_at"][pos]:
                stamps["updated_at"].iloc[pos] = max(now, stamps["created_at"].iloc[pos])
            elif same[pos]:
                stamps["updated_at"].iloc[pos] = pd.Timestamp(task["updated_at"])
            _ = i
        counts["updated"] = int((matched & ~same).sum())
        counts["unchanged"] = int(same.sum())
        written = keep & ~same
        updated_rows = _Checked(**{**rows.__dict__, "ids": ids, **stamps})
        yield from _batches(updated_rows, written, existing)

    return make


def _none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def _same_time(a: Any, b: Any) -> bool:
    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    return bool(pd.Timestamp(a) == pd.Timestamp(b))


async def load_tasks(
    engine: AsyncEngine,
    source: str | Path | pd.DataFrame,
    *,
    format: str | None = None,
    mapping: ImportMapping | None = None,
    on_error: Literal["raise", "skip"] = "raise",
    date_order: DateOrder = None,
    tz: str = "UTC",
    long_titles: Literal["refuse", "truncate"] = "refuse",
    open_completed: Literal["refuse", "drop"] = "refuse",
    progress: bool | None = None,
) -> LoadSummary:
    """Read task rows from a tracker export, a CSV file or a DataFrame, check them and store
    them in one transaction.

    Args:
        engine: a taskkit engine whose tables exist.
        source: a path to a CSV (UTF-8, ``,`` ``;`` or tab separated) or JSON file, or a
            pandas DataFrame.
        format: ``jira``, ``github``, ``asana``, ``linear``, ``plane``, ``trello`` or
            ``taskkit``; ``None``: detected from the header or JSON shape (the summary says
            which). See the README for what each format reads.
        mapping: columns, statuses, priorities and the worker separator the format does not
            know (:class:`ImportMapping`, e.g.
            ``ImportMapping.build(status=["Blocked=in_progress"])``).
        on_error: ``"raise"``: any bad row stores nothing and :class:`LoadError` lists the
            problems grouped by field and value, with counts and first rows; ``"skip"``: the
            good rows are stored and the bad ones reported in :attr:`LoadSummary.skipped`.
        date_order: ``"dayfirst"`` or ``"monthfirst"`` for dates such as ``06-09-2024`` that
            the column's values do not decide (refused otherwise).
        tz: the zone of times written without an offset (an IANA name; default UTC).
        long_titles: ``"truncate"`` cuts titles longer than 200 characters (refused otherwise).
        open_completed: ``"drop"`` drops a completed date on a task whose status is not
            completed (refused otherwise).
        progress: show a progress bar (``None``: only in Jupyter or on a terminal).

    Returns:
        A :class:`LoadSummary`: new, updated and unchanged tasks (by key), what was ignored
        and filled in.

    Raises:
        LoadError: the file cannot be read (missing, empty, not UTF-8, not CSV or JSON), no
            column holds the title, bad rows (with ``on_error="raise"``), ids already in use.
        InvalidArgumentError: an option or ``source`` is of the wrong kind.
    """
    if on_error not in ("raise", "skip"):
        raise InvalidArgumentError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    options = _options(date_order, tz, long_titles, open_completed)
    started = time.perf_counter()
    if isinstance(source, pd.DataFrame):
        raw = read_frame(source)
    elif isinstance(source, str | Path):
        raw = read_file(Path(source), select=lambda header: _needed(header, format, mapping))
    else:
        raise InvalidArgumentError(
            f"source must be a CSV path or a pandas DataFrame, got {type(source).__name__}"
        )
    mapping = mapping or ImportMapping()
    fmt, detected = detect(raw, format or mapping.format)
    if raw.table.num_rows == 0 and raw.kind != "json":
        raise LoadError("no rows to load: the data has a header but no rows")
    converted = convert(raw, fmt, mapping, detected=detected)
    now = pd.Timestamp(utcnow())
    rows, check = _check(converted.table, now=now, options=options)
    _refusals(converted, check)
    problems = sorted(
        check.problems, key=lambda p: (COLUMNS.index(p.field) if p.field in COLUMNS else 99, p.row)
    )
    if problems and on_error == "raise":
        bad_rows = len({p.row for p in problems})
        where = " (row 1 is the line after the header)" if raw.kind == "csv" else ""
        raise LoadError(
            f"{bad_rows:,} of {converted.rows:,} rows are invalid{where}; nothing was "
            f"stored (format: {fmt.name}):\n" + _listing(problems, check.hints)
        )
    keep = ~check.bad
    written: dict[str, int] = {}
    counts: dict[str, int] = {}
    keys = [k for k in rows.key.filter(pa.array(keep)).to_pylist() if k is not None]
    try:
        if keys and await known_keys(engine, keys):
            written = await write_keyed(engine, keys, _keyed_batches(rows, keep, now, counts))
        elif keep.any():
            written = await write_batches(
                engine,
                lambda existing: _batches(rows, keep, existing),
                on_existing="keep",
                total_rows=int(keep.sum()),
                progress=progress,
                desc="loading",
            )
    except BulkWriteError as exc:
        if re.search(r"UNIQUE constraint failed: task\.id|task_pkey", str(exc)):
            raise LoadError(
                "some ids in the data are already used by tasks in the database; "
                "nothing was stored. Leave the id column out to have ids assigned."
            ) from None
        raise
    notes = list(rows.notes)
    if converted.merged:
        notes.append(f"{_rows(converted.merged)} merged into the task with the same key")
    filled = dict(rows.filled)
    for name, count in converted.filled.items():
        default = "pending" if name == "status" else "medium"
        filled[name] = f"{_rows(count)} given the default ({default})"
    return LoadSummary(
        tasks=written.get("task", 0),
        projects_created=written.get("project", 0),
        workers_created=written.get("worker", 0),
        links=written.get("taskworkerlink", 0),
        seconds=time.perf_counter() - started,
        skipped=problems,
        updated=counts.get("updated", 0),
        unchanged=counts.get("unchanged", 0),
        format=fmt.name,
        detected=detected,
        ignored=converted.ignored,
        filled=filled,
        notes=notes,
    )


def _needed(header: list[str], format_name: str | None, mapping: ImportMapping | None) -> set[str]:
    mapping = mapping or ImportMapping()
    shape = Raw(table=pa.table({}), header=header, kind="csv")
    fmt, _ = detect(shape, format_name or mapping.format)
    return needed(header, fmt, mapping)


def _rows(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"


def _refusals(converted: Converted, check: _Checker) -> None:
    for refusal in converted.refusals:
        check.refuse(refusal.rows, refusal.field, refusal.reason, refusal.hint)


def _options(date_order: Any, tz: str, long_titles: str, open_completed: str) -> _Options:
    if date_order not in (None, "dayfirst", "monthfirst"):
        raise InvalidArgumentError(
            f"date_order must be None, 'dayfirst' or 'monthfirst', got {date_order!r}"
        )
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgumentError(
            f"tz must be a time zone name such as 'UTC' or 'Europe/Berlin', got {tz!r}"
        ) from None
    if long_titles not in ("refuse", "truncate"):
        raise InvalidArgumentError(
            f"long_titles must be 'refuse' or 'truncate', got {long_titles!r}"
        )
    if open_completed not in ("refuse", "drop"):
        raise InvalidArgumentError(
            f"open_completed must be 'refuse' or 'drop', got {open_completed!r}"
        )
    return _Options(date_order, tz, long_titles, open_completed)
