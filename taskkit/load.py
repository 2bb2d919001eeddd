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
=============== ==============================================================================

Every value is checked by the rules of ``TaskCreate`` (and ``WorkerCreate`` / ``ProjectCreate``
for names): the same pydantic field validators, applied once per distinct value, which is
the same as checking every row because those models have no cross-field rules (a test holds
that). The rows then go in through the bulk path that seeding uses, in one transaction.
"""

import csv
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from taskkit.bulk import Batch, Existing, write_batches
from taskkit.errors import BulkWriteError, InvalidArgumentError, LoadError
from taskkit.models import (
    Priority,
    ProjectCreate,
    Status,
    TaskCreate,
    WorkerCreate,
    utcnow,
)

__all__ = ["COLUMNS", "LoadSummary", "RowProblem", "load_tasks"]

COLUMNS = (
    "id", "title", "description", "status", "priority", "project", "workers",
    "created_at", "updated_at", "completed_at",
)  # fmt: skip
REQUIRED = ("title",)
SHOWN_PROBLEMS = 20
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
    """What :func:`load_tasks` stored, and the rows it skipped (``on_error="skip"``)."""

    tasks: int
    projects_created: int
    workers_created: int
    links: int
    seconds: float
    skipped: list[RowProblem] = field(default_factory=list)

    @property
    def skipped_rows(self) -> list[int]:
        return sorted({p.row for p in self.skipped})

    def __str__(self) -> str:
        text = (
            f"loaded {self.tasks:,} tasks ({self.projects_created:,} new projects, "
            f"{self.workers_created:,} new workers, {self.links:,} assignments) "
            f"in {self.seconds:.1f} s"
        )
        if self.skipped:
            text += f"; skipped {len(self.skipped_rows):,} bad rows:\n" + _listing(self.skipped)
        return text


def _listing(problems: list[RowProblem]) -> str:
    shown = "\n".join(f"  {p}" for p in problems[:SHOWN_PROBLEMS])
    more = len(problems) - SHOWN_PROBLEMS
    return shown + (f"\n  ... and {more:,} more" if more > 0 else "")


# --- reading --------------------------------------------------------------------------------


def _read_csv(path: Path) -> pa.Table:
    if not path.is_file():
        raise InvalidArgumentError(f"CSV file {str(path)!r} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise LoadError(f"{str(path)!r} is empty: expected a header line with at least 'title'")
    try:
        with path.open(encoding="utf-8", newline="") as f:
            header = next(csv.reader(f), [])
    except UnicodeDecodeError:
        raise LoadError(f"{str(path)!r} is not a CSV file taskkit can read: {_why(path)}") from None
    if not any(h.strip() for h in header):
        raise LoadError(
            f"{str(path)!r} has no header line: expected column names, at least 'title'"
        )
    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,  # an empty cell is "", turned into None per column
            ),
        )
    except pa.ArrowInvalid as exc:
        reason = _why(path) or str(exc).strip().splitlines()[0]
        raise LoadError(f"{str(path)!r} is not a CSV file taskkit can read: {reason}") from None
    return table


def _why(path: Path) -> str:
    """Why the file is not UTF-8, or "" when it is."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        line = data[: bad.start].count(b"\n") + 1
        return f"it is not UTF-8 text (line {line}, byte {bad.start}); save it as UTF-8"
    return ""


def _from_frame(frame: pd.DataFrame) -> pa.Table:
    columns: dict[str, pa.Array] = {}
    for name in frame.columns:
        if not isinstance(name, str):
            raise LoadError(
                f"column names must be text, got {name!r}; allowed: {', '.join(COLUMNS)}"
            )
        series = frame[name]
        if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series):
            stamps = pd.to_datetime(series, utc=True)
            columns[name] = pa.array(stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"), pa.string())
        else:
            values = [None if _missing(v) else str(v) for v in series.tolist()]
            columns[name] = pa.array(values, pa.string())
    return pa.table(columns) if columns else pa.table({})


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


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
}


def _reason(exc: ValidationError) -> str:
    return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")


class _Checker:
    """Collects problems per row while each column is checked."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.problems: list[RowProblem] = []
        self.bad = np.zeros(n, dtype=bool)

    def flag(self, rows: np.ndarray, field_name: str, reason: str) -> None:
        self.bad[rows] = True
        self.problems.extend(RowProblem(int(r) + 1, field_name, reason) for r in rows)

    def by_value(
        self, column: pa.ChunkedArray, field_name: str, adapter: TypeAdapter[Any]
    ) -> pa.Array:
        """Validate each distinct value once; flag rows with a bad one; return parsed values."""
        encoded = column.combine_chunks().dictionary_encode()
        parsed: list[Any] = []
        for code, value in enumerate(encoded.dictionary.to_pylist()):
            try:
                result = adapter.validate_python(value)
                parsed.append(result.value if isinstance(result, Status | Priority) else result)
            except ValidationError as exc:
                parsed.append(None)
                rows = np.flatnonzero(encoded.indices.to_numpy(zero_copy_only=False) == code)
                self.flag(rows, field_name, f"{_reason(exc)} (got {_shown(value)})")
        return pa.array(parsed, pa.string()).take(encoded.indices)


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


def _timestamps(table: pa.Table, name: str, check: _Checker) -> pd.Series:
    column = _text(table, name)
    fast = _iso_timestamps(column)
    if fast is not None:
        return fast.to_pandas().astype("datetime64[us, UTC]")
    text = column.to_pandas()
    parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    unparseable = parsed.isna() & text.notna()
    for row in np.flatnonzero(unparseable.to_numpy()):
        check.flag(
            np.array([row]),
            name,
            f"not a date and time in ISO 8601 form (got {_shown(text.iloc[row])}), "
            "e.g. 2025-03-01T09:30:00Z",
        )
    return parsed.astype("datetime64[us, UTC]")


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


def _check(table: pa.Table, *, now: pd.Timestamp) -> tuple[_Checked, _Checker]:
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
    check = _Checker(table.num_rows)
    title = check.by_value(pc.fill_null(table.column("title"), ""), "title", _ADAPTERS["title"])
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
    created = _timestamps(table, "created_at", check)
    updated = _timestamps(table, "updated_at", check)
    completed = _timestamps(table, "completed_at", check)
    is_completed = pd.Series(
        pc.equal(status, Status.completed.value).to_numpy(zero_copy_only=False)
    )
    is_completed = is_completed.fillna(False).astype(bool)
    created = created.fillna(now)
    completed = completed.where(~is_completed | completed.notna(), updated)
    updated = updated.fillna(completed.where(is_completed, created)).fillna(created)
    completed = completed.where(~is_completed | completed.notna(), updated)
    for rows, name, reason in (
        (
            ~is_completed & completed.notna(),
            "completed_at",
            "is set, but the status is not 'completed'",
        ),
        (updated < created, "updated_at", "is before created_at"),
        (is_completed & (completed < created), "completed_at", "is before created_at"),
    ):
        check.flag(np.flatnonzero(rows.to_numpy()), name, reason)
    checked = _Checked(
        title=title, description=description, status=status, priority=priority,
        project=project_array, workers=workers, ids=ids, created_at=created,
        updated_at=updated, completed_at=completed.where(is_completed),
    )  # fmt: skip
    return checked, check


@dataclass
class _Links:
    """Each row's worker names, flattened: ``names[i]`` is named by row ``rows[i]``; rows in
    order, a name at most once per row."""

    rows: np.ndarray  # int64 row positions, ascending
    names: pa.Array  # strings


def _workers(table: pa.Table, check: _Checker) -> _Links:
    """Split the ``workers`` cells on ``;`` (each name trimmed) and check each distinct name."""
    if "workers" not in table.column_names:
        return _Links(np.zeros(0, np.int64), pa.array([], pa.string()))
    lists = pc.split_pattern(_text(table, "workers").combine_chunks(), ";")
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
    for row in np.flatnonzero(repeated.to_numpy()):
        others = [
            int(r) + 1
            for r in np.flatnonzero((ids == ids.iloc[row]).fillna(False).to_numpy())
            if r != row
        ]
        check.flag(np.array([row]), "id", f"{ids.iloc[row]} is also used by row {others[0]}")
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


async def load_tasks(
    engine: AsyncEngine,
    source: str | Path | pd.DataFrame,
    *,
    on_error: Literal["raise", "skip"] = "raise",
    progress: bool | None = None,
) -> LoadSummary:
    """Validate task rows from a CSV file or a DataFrame and store them in one transaction.

    Args:
        engine: a taskkit engine whose tables exist.
        source: a path to a UTF-8 CSV file with a header, or a pandas DataFrame with the same
            columns (see the module docstring for the columns and their rules).
        on_error: ``"raise"``: any bad row stores nothing and :class:`LoadError` lists the bad
            rows (the first 20, and a count); ``"skip"``: the good rows are stored and the bad
            ones reported in :attr:`LoadSummary.skipped`.
        progress: show a progress bar (``None``: only in Jupyter or on a terminal).

    Returns:
        A :class:`LoadSummary`.

    Raises:
        LoadError: the file cannot be read (missing, empty, not UTF-8, not CSV), has missing or
            unknown columns, bad rows (with ``on_error="raise"``), ids already in use.
        InvalidArgumentError: ``on_error`` or ``source`` is of the wrong kind.
    """
    if on_error not in ("raise", "skip"):
        raise InvalidArgumentError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    started = time.perf_counter()
    if isinstance(source, pd.DataFrame):
        table = _from_frame(source)
    elif isinstance(source, str | Path):
        table = _read_csv(Path(source))
    else:
        raise InvalidArgumentError(
            f"source must be a CSV path or a pandas DataFrame, got {type(source).__name__}"
        )
    rows, check = _check(table, now=pd.Timestamp(utcnow()))
    problems = sorted(
        check.problems, key=lambda p: (p.row, COLUMNS.index(p.field) if p.field in COLUMNS else 99)
    )
    if problems and on_error == "raise":
        bad_rows = len({p.row for p in problems})
        where = (
            " (row 1 is the line after the header)" if not isinstance(source, pd.DataFrame) else ""
        )
        raise LoadError(
            f"{bad_rows:,} of {table.num_rows:,} rows are invalid{where}; nothing was stored:\n"
            + _listing(problems)
        )
    keep = ~check.bad
    written: dict[str, int] = {}
    if keep.any():
        try:
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
    return LoadSummary(
        tasks=written.get("task", 0),
        projects_created=written.get("project", 0),
        workers_created=written.get("worker", 0),
        links=written.get("taskworkerlink", 0),
        seconds=time.perf_counter() - started,
        skipped=problems,
    )
