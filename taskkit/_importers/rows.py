"""The rows of an import checked as a whole: every column by TaskCreate's rules, titles
too long, timestamps filled in and ordered, completed dates and resolutions on open tasks,
starts and completions from the tracker's history; bad rows are flagged, not dropped
(:class:`Checked`)."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from taskkit._errors import LoadError
from taskkit._importers.columns import (
    Links,
    check_ids,
    check_keys,
    check_labels,
    check_timestamps,
    check_workers,
)
from taskkit._importers.convert import Counted
from taskkit._importers.history import TrackerDates, tracker_dates
from taskkit._importers.options import DEFAULT_OPTIONS, ImportOptions
from taskkit._importers.trello import Events
from taskkit._importers.value_checks import ADAPTERS, Checker, text_column
from taskkit._rules import TITLE_MAX, Status

__all__ = ["COLUMNS", "REQUIRED", "Checked", "check_rows"]

COLUMNS = (
    "id", "title", "description", "status", "priority", "project", "workers",
    "created_at", "updated_at", "completed_at", "key", "resolution", "started_at", "kind",
    "labels",
)  # fmt: skip
REQUIRED = ("title",)


@dataclass
class Checked:
    """The rows after checking, as columns (bad rows still in, flagged)."""

    title: pa.Array
    description: pa.Array
    status: pa.Array
    priority: pa.Array
    project: pa.Array
    workers: "Links"
    ids: pd.Series  # Int64, <NA> where not given
    created_at: pd.Series
    updated_at: pd.Series
    completed_at: pd.Series
    key: pa.Array
    resolution: pa.Array
    started_at: pd.Series
    kind: pa.Array
    labels: Links
    given: dict[str, np.ndarray] = field(default_factory=dict)  # timestamp -> given in source
    counted: list[Counted] = field(default_factory=list)  # read from a named source, derived
    notes: list[str] = field(default_factory=list)
    tracker: TrackerDates | None = None  # moves read from the tracker's own history


def check_rows(
    table: pa.Table,
    *,
    now: pd.Timestamp,
    options: ImportOptions = DEFAULT_OPTIONS,
    events: Events | None = None,
) -> tuple[Checked, Checker]:
    """Check the rows of ``table`` (taskkit's columns as text, plus ``row``: source row
    numbers), each column by TaskCreate's rules; bad rows are flagged, not dropped.
    ``events``: the tracker's own history (Trello's actions), whose moves give starts and
    completions."""
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
    check = Checker(numbers)
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
                np.flatnonzero(long),
                "title",
                f"longer than {TITLE_MAX} characters",
                "pass --long-titles truncate (long_titles='truncate') to cut them",
            )
    title = check.by_value(titles, "title", ADAPTERS["title"])
    description = check.by_value(
        text_column(table, "description"), "description", ADAPTERS["description"]
    )
    status = check.by_value(text_column(table, "status", "pending"), "status", ADAPTERS["status"])
    priority = check.by_value(
        text_column(table, "priority", "medium"), "priority", ADAPTERS["priority"]
    )
    project_array = check.present(text_column(table, "project"), "project", ADAPTERS["project"])
    resolution = check.present(
        text_column(table, "resolution"), "resolution", ADAPTERS["resolution"]
    )
    kind = check.present(text_column(table, "kind"), "kind", ADAPTERS["kind"])
    workers = check_workers(table, check)
    labels = check_labels(table, check)
    ids = check_ids(table, check)
    key = check_keys(table, check)
    check.naive = 0
    created = check_timestamps(table, "created_at", check, options)
    updated = check_timestamps(table, "updated_at", check, options)
    completed = check_timestamps(table, "completed_at", check, options)
    started = check_timestamps(table, "started_at", check, options)
    if check.naive:
        notes.append(f"{check.naive:,} times written without an offset were read as {options.tz}")
    is_completed = pd.Series(
        pc.equal(status, Status.completed.value).to_numpy(zero_copy_only=False)
    )
    is_completed = is_completed.fillna(False).astype(bool)
    counted: list[Counted] = []
    tracker = None
    if events is not None:
        # The tracker's own record of the moves: starts and completions where it has them.
        created_filled = created.fillna(now)
        tracker = tracker_dates(events, numbers, status, created_filled)
        read_done = is_completed.to_numpy() & tracker.completed_at.notna().to_numpy()
        completed = completed.where(~read_done, tracker.completed_at)
        read_start = tracker.started_at.notna().to_numpy() & started.isna().to_numpy()
        started = started.where(~read_start, tracker.started_at)
        for name, rows, what in (
            ("completed_at", read_done, "from the move into a done list or the archive action"),
            ("started_at", read_start, "from the first move into an in-progress list"),
        ):
            if rows.any():
                counted.append(Counted(name, what, rows))
    given = {
        "created_at": created.notna().to_numpy(),
        "updated_at": updated.notna().to_numpy(),
        "completed_at": completed.notna().to_numpy(),
        "started_at": started.notna().to_numpy(),
    }
    stated_resolution = pc.is_valid(resolution).to_numpy(zero_copy_only=False)
    open_done = ~is_completed & completed.notna()
    open_resolved = ~is_completed.to_numpy() & stated_resolution
    if (open_done.any() or open_resolved.any()) and options.open_completed == "drop":
        if open_done.any():
            notes.append(
                f"{int(open_done.sum()):,} completed dates dropped: their status is not completed"
            )
        if open_resolved.any():
            notes.append(
                f"{int(open_resolved.sum()):,} resolutions dropped: their status is not completed"
            )
        completed = completed.where(~open_done)
        open_done = open_done & False
        resolution = pc.if_else(pa.array(open_resolved), None, resolution)
        open_resolved = open_resolved & False
    for name, rows, what in (
        ("created_at", created.isna().to_numpy(), "the load time"),
        ("updated_at", updated.isna().to_numpy(), "created_at (completed_at when completed)"),
        (
            "completed_at",
            (is_completed & completed.isna() & updated.notna()).to_numpy(),
            "updated_at",
        ),
        (
            "completed_at",
            (is_completed & completed.isna() & updated.isna()).to_numpy(),
            "created_at (the file gives no updated_at either)",
        ),
    ):
        if rows.any():
            counted.append(Counted(name, what, rows, derived=True))
    created = created.fillna(now)
    completed = completed.where(~is_completed | completed.notna(), updated)
    updated = updated.fillna(completed.where(is_completed, created)).fillna(created)
    completed = completed.where(~is_completed | completed.notna(), updated)
    for rows, name, reason, hint in (
        (
            open_done,
            "completed_at",
            "is set, but the status is not 'completed'",
            "pass --open-completed drop (open_completed='drop') to keep the status and drop "
            "the date",
        ),
        (
            pd.Series(open_resolved),
            "resolution",
            "is set, but the status is not 'completed'",
            "pass --open-completed drop (open_completed='drop') to keep the status and drop "
            "the resolution",
        ),
        (updated < created, "updated_at", "is before created_at", ""),
        (is_completed & (completed < created), "completed_at", "is before created_at", ""),
        (started < created, "started_at", "is before created_at", ""),
        (is_completed & (completed < started), "completed_at", "is before started_at", ""),
    ):
        check.flag(np.flatnonzero(rows.to_numpy()), name, reason, hint)
    checked = Checked(
        title=title,
        description=description,
        status=status,
        priority=priority,
        project=project_array,
        workers=workers,
        ids=ids,
        created_at=created,
        updated_at=updated,
        completed_at=completed.where(is_completed),
        key=key,
        resolution=resolution,
        started_at=started,
        kind=kind,
        labels=labels,
        given=given,
        counted=counted,
        notes=notes,
        tracker=tracker,
    )
    return checked, check
