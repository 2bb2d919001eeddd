"""Load your own task data from a CSV file or a pandas DataFrame.

Columns (only ``title`` is required; the names are the header of the CSV):

=============== ==============================================================================
``title``       1 to 512 characters, not blank
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

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from taskkit._bulk_parts import BatchFactory
from taskkit._errors import BulkWriteError, InvalidArgumentError, LoadError, TaskkitError
from taskkit._importers.batches import task_batches
from taskkit._importers.convert import Converted, Counted, convert
from taskkit._importers.formats import detect, needed
from taskkit._importers.history import history_rows
from taskkit._importers.mapping import ImportMapping
from taskkit._importers.options import DEFAULT_OPTIONS, DateOrder, ImportOptions
from taskkit._importers.reading import Raw, read_file, read_frame
from taskkit._importers.rows import COLUMNS, Checked, check_rows
from taskkit._importers.source import open_source
from taskkit._importers.summary import LoadSummary, RowProblem, listing, row_count
from taskkit._importers.value_checks import Checker
from taskkit._rules import utcnow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = [
    "PreparedImport",
    "load_tasks",
    "may_need_the_writer",
    "prepare_import",
    "run_import",
    "store_import",
    "store_in_new_sqlite_file",
]

# Files this big may hold enough rows (100,000 tasks: SQLITE_CHILD_MIN_ROWS) for the SQLite
# writer process, which then starts early, while the file is read. A CSV row takes 80 bytes
# and up (taskkit's columns; a Jira export's are about 400); a JSON record more than 1,000 (a
# GitHub issue about 5,000, a Trello card with its actions 1,000 to 2,000).
AHEAD_BYTES = 8 << 20
AHEAD_JSON_BYTES = 100 << 20


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
    archived: Literal["cancelled", "done", "skip"] = "cancelled",
    progress: bool | None = None,
    options: ImportOptions | None = None,
) -> LoadSummary:
    """Read task rows from a tracker export, a CSV file or a DataFrame, check them and store
    them in one transaction.

    Args:
        engine: a taskkit engine whose tables exist.
        source: a path to a CSV (``,`` ``;`` or tab separated) or JSON file in UTF-8,
            UTF-16 or UTF-32 (with or without a BOM), or a pandas DataFrame.
        format: ``jira``, ``github``, ``asana``, ``linear``, ``plane``, ``trello`` or
            ``taskkit``; ``None``: detected from the header or JSON shape (the summary says
            which). docs/importing.md says what each format reads.
        mapping: columns, statuses, priorities and the worker separator the format does not
            know (:class:`ImportMapping`, e.g.
            ``ImportMapping.build(status=["Blocked=in_progress"])``).
        on_error: ``"raise"``: any bad row stores nothing and :class:`LoadError` lists the
            problems grouped by field and value, with counts and first rows; ``"skip"``: the
            good rows are stored and the bad ones reported in :attr:`LoadSummary.skipped`.
        date_order: ``"dayfirst"`` or ``"monthfirst"`` for dates such as ``06-09-2024`` that
            the column's values do not decide (refused otherwise).
        tz: the zone of times written without an offset (an IANA name; default UTC).
        long_titles: ``"truncate"`` cuts titles longer than 512 characters (refused otherwise).
        open_completed: ``"drop"`` drops a completed date or a resolution on a task whose
            status is not completed (refused otherwise).
        archived: what an archived Trello card outside a done list becomes: a completed task
            resolved ``"cancelled"`` (archived without being done), ``"done"`` (on boards
            where archiving is how cards are finished), or ``"skip"`` (left out, counted).
            Archived cards in a done list are completed as that list says.
        progress: show a progress bar (``None``: only in Jupyter or on a terminal).
        options: the choices above (``format`` to ``archived``) as one
            :class:`ImportOptions`, as ``taskkit import`` passes them; then leave those
            keywords out.

    Returns:
        A :class:`LoadSummary`: new, updated and unchanged tasks (by key), what was ignored
        and filled in.

    Raises:
        LoadError: the file cannot be read (missing; a directory, FIFO or device, refused
            before it is opened; empty; not text in UTF-8, UTF-16 or UTF-32; not CSV or JSON,
            with the row and line named), no column holds the title, bad rows (with
            ``on_error="raise"``), ids already in use.
        InvalidArgumentError: ``engine``, an option or ``source`` is of the wrong kind.
    """
    from taskkit._checks import engine_argument

    engine_argument(engine)  # before the file is read: the mistake is found at once
    given = ImportOptions(
        format=format, on_error=on_error, date_order=date_order, tz=tz,
        long_titles=long_titles, open_completed=open_completed, archived=archived,
    )  # fmt: skip
    if options is None:
        options = given
    elif not isinstance(options, ImportOptions):
        raise InvalidArgumentError(
            f"options must be an ImportOptions, got {type(options).__name__}"
        )
    elif changed := given.changed():
        both = ", ".join(f"{name}={value!r}" for name, value in changed.items())
        raise InvalidArgumentError(
            f"give the import's choices either as options=ImportOptions(...) or as keywords, "
            f"not both (got options and {both})"
        )
    prepare = functools.partial(prepare_import, source, mapping=mapping, options=options)
    return await run_import(engine, source, prepare, progress=progress)


async def run_import(
    engine: AsyncEngine,
    source: str | Path | pd.DataFrame,
    prepare: Callable[[], PreparedImport],
    *,
    progress: bool | None = None,
    before: Callable[[], Awaitable[object]] | None = None,
    accepted: Callable[[], Awaitable[object]] | None = None,
) -> LoadSummary:
    """The one way an import runs, for :func:`load_tasks` and ``taskkit import`` alike.

    ``prepare`` (:func:`prepare_import` with its arguments: reading and checking, no database)
    runs in a thread, as Arrow's reader and most checks release the GIL, while ``before``
    runs here (the CLI looks at the database and brings an existing one to head; when both
    fail, its error is the one raised, as if they had run one after the other). For a big
    file the SQLite writer process starts meanwhile, so that its own start overlaps too.
    ``accepted`` runs only once the source was read and accepted (the CLI creates the tables
    of a new database there: a refused import creates nothing); then the rows are stored.
    """
    from taskkit._bulk import start_writer

    preparing = asyncio.ensure_future(asyncio.to_thread(prepare))
    try:
        if may_need_the_writer(source):
            start_writer(engine)
        if before is not None:
            await before()
    except BaseException:
        await asyncio.wait([preparing])
        if not preparing.cancelled():
            preparing.exception()  # retrieved: the database's error is the one to report
        raise
    prepared = await preparing
    if accepted is not None:
        await accepted()
    return await store_import(engine, prepared, progress=progress)


def may_need_the_writer(source: object) -> bool:
    """Whether ``source`` (a path) is big enough to hold rows for the SQLite writer process:
    it starts early then (``AHEAD_BYTES``)."""
    if not isinstance(source, str | Path):
        return False
    try:
        opened = open_source(Path(source))
    except (TaskkitError, OSError):
        return False  # the reader says what is wrong with the file
    return opened.size >= (AHEAD_JSON_BYTES if opened.is_json else AHEAD_BYTES)


@dataclass
class PreparedImport:
    """An import read and checked, not stored yet: what :func:`prepare_import` found."""

    rows: Checked
    keep: np.ndarray  # rows to store (with on_error="skip", the bad ones are left out)
    problems: list[RowProblem]
    converted: Converted
    format: str
    detected: bool
    now: pd.Timestamp  # the load time, for what is filled in
    seconds: float  # spent reading and checking
    history: pd.DataFrame  # status_change rows of the kept rows (position: the row's)
    history_from_export: int  # of them, dated by the export alone


def prepare_import(
    source: str | Path | pd.DataFrame,
    *,
    mapping: ImportMapping | None = None,
    options: ImportOptions = DEFAULT_OPTIONS,
) -> PreparedImport:
    """The first half of :func:`load_tasks` (no engine): read the source, recognise its
    format, map and check every row; no database is touched, so it may run in a thread while
    the database is opened. Raises what :func:`load_tasks` raises for the source and the
    rows."""
    format, on_error, archived = options.format, options.on_error, options.archived
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
    if raw.kind != "json" and raw.table.num_rows == 0:
        raise LoadError("no rows to load: the data has a header but no rows")
    now = pd.Timestamp(utcnow())
    kind = raw.kind
    with _no_traceback(fmt.name):
        converted = convert(raw, fmt, mapping, detected=detected, archived=archived)
        del raw  # a JSON document is about twice its file in memory: gone before the checks
        if converted.table.num_rows == 0:
            raise LoadError(_nothing_left(converted))
        rows, check = check_rows(converted.table, now=now, options=options, events=converted.events)
    _refusals(converted, check)
    problems = sorted(
        check.problems, key=lambda p: (COLUMNS.index(p.field) if p.field in COLUMNS else 99, p.row)
    )
    if problems and on_error == "raise":
        bad_rows = len({p.row for p in problems})
        where = " (row 1 is the line after the header)" if kind == "csv" else ""
        raise LoadError(
            f"{bad_rows:,} of {converted.rows:,} rows are invalid{where}; nothing was "
            f"stored (format: {fmt.name}):\n" + listing(problems, check.hints)
        )
    keep = ~check.bad
    history, from_export = history_rows(
        status=rows.status, created_at=rows.created_at, updated_at=rows.updated_at,
        started_at=rows.started_at, completed_at=rows.completed_at, given=rows.given,
        tracker=rows.tracker, keep=keep,
    )  # fmt: skip
    return PreparedImport(
        rows=rows, keep=keep, problems=problems, converted=converted, format=fmt.name,
        detected=detected, now=now, seconds=time.perf_counter() - started, history=history,
        history_from_export=from_export,
    )  # fmt: skip


async def _imported_before(engine: AsyncEngine, prepared: PreparedImport) -> list[str]:
    """Rows without a key are added on every import: refuse a file whose every such row is a
    task already stored (a second import would double them); note those that are."""
    rows = prepared.rows
    keyless = prepared.keep & pc.is_null(rows.key).to_numpy(zero_copy_only=False)
    if not keyless.any():
        return []
    positions = pa.array(np.flatnonzero(keyless))
    given = rows.given["created_at"][keyless]
    created = [
        at if has else None
        for at, has in zip(rows.created_at[keyless].tolist(), given.tolist(), strict=True)
    ]
    from taskkit._importers.sync import matching_tasks

    matched = await matching_tasks(
        engine, rows.title.take(positions).to_pylist(), created,
        rows.description.take(positions).to_pylist(),
    )  # fmt: skip
    count, total = sum(matched), len(matched)
    what = "same title and created date" if given.all() else "same title and created date, or "
    what += "" if given.all() else "title and description where the file gives no date"
    if count and count == total:
        raise LoadError(
            f"all {total:,} rows without a key match tasks already stored ({what}): the file "
            "was imported before, and without a key a second import would add every task "
            "again; nothing was stored. Import it into another database, or delete the tasks "
            "the first import added and import again"
        )
    if count:
        return [
            f"{count:,} of {total:,} rows without a key match tasks already stored ({what}) "
            "and were added again (without a key an import cannot update them)"
        ]
    return []


def _nothing_left(converted: Converted) -> str:
    said = ", ".join(f"{count:,} {what}" for what, count in converted.left_out.items())
    return f"no tasks to load: the file holds {said or 'no records'}"


async def store_import(
    engine: AsyncEngine,
    prepared: PreparedImport,
    *,
    progress: bool | None = None,
) -> LoadSummary:
    """The second half of :func:`load_tasks`: store a prepared import in one transaction."""
    from taskkit._bulk import write_batches
    from taskkit._importers.changes import keyed_batches
    from taskkit._importers.sync import known_keys, write_keyed

    started = time.perf_counter() - prepared.seconds  # reading and checking, then storing
    rows, keep, now = prepared.rows, prepared.keep, prepared.now
    written: dict[str, int] = {}
    counts: dict[str, int] = {}
    keys = [k for k in rows.key.filter(pa.array(keep)).to_pylist() if k is not None]
    again = await _imported_before(engine, prepared)
    with _ids_in_use():
        if keys and await known_keys(engine, keys):
            written = await write_keyed(
                engine, keys, keyed_batches(rows, keep, now, counts, prepared.history)
            )
        elif keep.any():
            written = await write_batches(
                engine, _new_rows(prepared), on_existing="keep",
                total_rows=int(keep.sum()), progress=progress, desc="loading",
            )  # fmt: skip
    return _summary(prepared, written, counts, again, started)


def store_in_new_sqlite_file(
    path: Path, prepared: PreparedImport, *, progress: bool | None = None
) -> LoadSummary | None:
    """:func:`store_import` into a SQLite file that does not exist yet, which it creates with
    the rows (:mod:`taskkit._new_sqlite_file`, no SQLAlchemy), from code without a running
    event loop. ``None`` when the file exists by now: nothing was stored, and
    :func:`store_import` is the one to use."""
    from taskkit._new_sqlite_file import write_new_file

    started = time.perf_counter() - prepared.seconds
    total = int(prepared.keep.sum())
    with _ids_in_use():
        written = write_new_file(
            path, _new_rows(prepared), total_rows=total, progress=progress, desc="loading"
        )
    return None if written is None else _summary(prepared, written, {}, [], started)


def _new_rows(prepared: PreparedImport) -> BatchFactory:
    return lambda existing: task_batches(prepared.rows, prepared.keep, existing, prepared.history)


@contextlib.contextmanager
def _ids_in_use() -> Iterator[None]:
    try:
        yield
    except BulkWriteError as exc:
        if re.search(r"UNIQUE constraint failed: task\.id|task_pkey", str(exc)):
            raise LoadError(
                "some ids in the data are already used by tasks in the database; "
                "nothing was stored. Leave the id column out to have ids assigned."
            ) from None
        raise


def _summary(
    prepared: PreparedImport,
    written: dict[str, int],
    counts: dict[str, int],
    again: list[str],
    started: float,
) -> LoadSummary:
    rows, keep, converted = prepared.rows, prepared.keep, prepared.converted
    notes = list(rows.notes) + converted.notes + again
    if converted.merged:
        notes.append(f"{row_count(converted.merged)} merged into the task with the same key")
    read, filled = _counts([*converted.counted, *rows.counted], keep)
    resolutions = pd.Series(rows.resolution.filter(pa.array(keep)).to_pylist())
    history = written.get("status_change", 0)
    return LoadSummary(
        tasks=written.get("task", 0),
        projects_created=written.get("project", 0),
        workers_created=written.get("worker", 0),
        links=written.get("taskworkerlink", 0),
        seconds=time.perf_counter() - started,
        skipped=prepared.problems,
        updated=counts.get("updated", 0),
        unchanged=counts.get("unchanged", 0),
        format=prepared.format,
        detected=prepared.detected,
        ignored=converted.ignored,
        unread=converted.unread,
        filled=filled,
        notes=notes,
        read=read,
        resolutions={str(k): int(v) for k, v in resolutions.value_counts(sort=False).items() if k},
        history=history,
        history_from_export=prepared.history_from_export if history else 0,
        labels_created=written.get("label", 0),
        label_links=written.get("task_label_link", 0),
        left_out=dict(converted.left_out),
    )


def _counts(counted: list[Counted], keep: np.ndarray) -> tuple[dict[str, str], dict[str, str]]:
    """What the summary says was read from a named source, and what was derived, per field,
    over the rows stored."""
    read: dict[str, list[str]] = {}
    filled: dict[str, list[str]] = {}
    for item in counted:
        count = int((item.rows & keep).sum())
        if count:
            target = filled if item.derived else read
            verb = "given" if item.derived else ""
            target.setdefault(item.field, []).append(
                f"{row_count(count)} {verb} {item.what}".replace("  ", " ")
            )
    return ({k: "; ".join(v) for k, v in read.items()},
            {k: "; ".join(v) for k, v in filled.items()})  # fmt: skip


@contextlib.contextmanager
def _no_traceback(format_name: str) -> Iterator[None]:
    """A file of a shape the format's reader does not handle (a list where it expects an
    object, a null where it expects a list) stops with a one-line LoadError, not a traceback.
    The readers refuse the shapes they know of with a message of their own; this says what
    stopped one on a shape nobody foresaw."""
    try:
        yield
    except TaskkitError:
        raise
    except (TypeError, KeyError, AttributeError, IndexError, ValueError) as exc:
        raise LoadError(
            f"taskkit cannot read this file as a {format_name} export: its reader stopped at "
            f"{type(exc).__name__}: {_first_line(exc)} (a shape it does not handle; please "
            "report it); nothing was stored"
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0][:200] if text else "") or repr(exc)


def _needed(header: list[str], format_name: str | None, mapping: ImportMapping | None) -> set[str]:
    mapping = mapping or ImportMapping()
    shape = Raw(table=pa.table({}), header=header, kind="csv")
    fmt, _ = detect(shape, format_name or mapping.format)
    return needed(header, fmt, mapping)


def _refusals(converted: Converted, check: Checker) -> None:
    for refusal in converted.refusals:
        check.refuse(refusal.rows, refusal.field, refusal.reason, refusal.hint)
