"""The rows of an import checked as a whole: every column by TaskCreate's rules, titles
too long, timestamps filled in and ordered, completed dates on open tasks; bad rows are
flagged, not dropped (:class:`Checked`)."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from taskkit._errors import LoadError
from taskkit._importers.checks import ADAPTERS, DEFAULT_OPTIONS, Checker, Options, text_column
from taskkit._importers.columns import (
    Links,
    check_ids,
    check_keys,
    check_timestamps,
    check_workers,
)
from taskkit._importers.summary import row_count
from taskkit._models import TITLE_MAX, Status

__all__ = ["COLUMNS", "REQUIRED", "Checked", "check_rows"]

COLUMNS = (
    "id", "title", "description", "status", "priority", "project", "workers",
    "created_at", "updated_at", "completed_at", "key",
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
    given: dict[str, np.ndarray] = field(default_factory=dict)  # timestamp -> given in source
    filled: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def check_rows(
    table: pa.Table, *, now: pd.Timestamp, options: Options = DEFAULT_OPTIONS
) -> tuple[Checked, Checker]:
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
                np.flatnonzero(long), "title", f"longer than {TITLE_MAX} characters",
                "pass --long-titles truncate (long_titles='truncate') to cut them",
            )  # fmt: skip
    title = check.by_value(titles, "title", ADAPTERS["title"])
    description = check.by_value(
        text_column(table, "description"), "description", ADAPTERS["description"]
    )
    status = check.by_value(text_column(table, "status", "pending"), "status", ADAPTERS["status"])
    priority = check.by_value(
        text_column(table, "priority", "medium"), "priority", ADAPTERS["priority"]
    )
    project_array = check.present(text_column(table, "project"), "project", ADAPTERS["project"])
    workers = check_workers(table, check)
    ids = check_ids(table, check)
    key = check_keys(table, check)
    check.naive = 0
    created = check_timestamps(table, "created_at", check, options)
    updated = check_timestamps(table, "updated_at", check, options)
    completed = check_timestamps(table, "completed_at", check, options)
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
            filled[name] = f"{row_count(count)} given {what}"
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
    checked = Checked(
        title=title, description=description, status=status, priority=priority,
        project=project_array, workers=workers, ids=ids, created_at=created,
        updated_at=updated, completed_at=completed.where(is_completed), key=key,
        given=given, filled=filled, notes=notes,
    )  # fmt: skip
    return checked, check
