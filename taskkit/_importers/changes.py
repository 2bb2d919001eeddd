"""What a re-import changes: rows whose key a task already has take that task's id (and
its timestamps where the file gives none), rows equal to their task are left out and
counted as unchanged, and the history is appended to: the file's moves after the last one
recorded, and a move dated by the export where its status differs from the one stored."""

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from taskkit._bulk_parts import Batch, Existing
from taskkit._importers.batches import task_batches
from taskkit._importers.history import appended
from taskkit._importers.rows import Checked
from taskkit._importers.sync import Stored

__all__ = ["keyed_batches"]


def keyed_batches(
    rows: Checked,
    keep: np.ndarray,
    now: pd.Timestamp,
    counts: dict[str, int],
    history: pd.DataFrame,
) -> Callable[[Existing, Stored], Iterator[Batch]]:
    """The batch factory of a re-import: rows whose key a task has take that task's id (and
    its timestamps where the file gives none); rows equal to their task are left out; the
    history rows of known tasks are appended after what is stored (``counts['history_export']``:
    those dated by the export)."""

    def make(existing: Existing, stored: Stored) -> Iterator[Batch]:
        current = stored.tasks
        keys = pd.Series(rows.key.to_pylist(), dtype=object)
        by_key = current.set_index("key")
        matched = keys.isin(by_key.index).to_numpy() & keep
        positions = np.flatnonzero(matched)
        found = by_key.loc[keys[matched]]
        ids = rows.ids.copy()
        ids.iloc[positions] = found["id"].to_numpy()
        stamps: dict[str, pd.Series] = {}
        stored_at: dict[str, pd.Series] = {}
        for name in ("created_at", "updated_at", "completed_at", "started_at"):
            series = getattr(rows, name).copy()
            keep_old = ~rows.given[name][positions]
            task_at = pd.to_datetime(found[name], utc=True).astype("datetime64[us, UTC]")
            stored_at[name] = task_at.reset_index(drop=True)
            old = task_at.array  # not to_numpy(): an object array of Timestamps, 10x slower
            if name == "completed_at":
                done = (
                    rows.status.take(pa.array(positions)).to_numpy(zero_copy_only=False)
                    == "completed"
                )
                keep_old &= done & ~pd.isna(old)
            if name == "started_at":  # a start stays once known (the first move into it)
                keep_old = ~pd.isna(old)
            series.iloc[positions[keep_old]] = old[keep_old]
            stamps[name] = series
        same_fields = _same_fields(rows, positions, found, existing, stored)
        # Timestamps, compared column by column (NULL equal to NULL).
        file_at = {name: stamps[name].iloc[positions].reset_index(drop=True) for name in stamps}
        given_updated = rows.given["updated_at"][positions]
        same_here = (
            same_fields
            & (file_at["created_at"] == stored_at["created_at"]).to_numpy()
            & _equal(file_at["completed_at"], stored_at["completed_at"])
            & _equal(file_at["started_at"], stored_at["started_at"])
            & (~given_updated | (file_at["updated_at"] == stored_at["updated_at"]).to_numpy())
        )
        same = np.zeros(len(keep), dtype=bool)
        same[positions] = same_here
        # updated_at: an unchanged task keeps its own; a changed one without a date in the
        # file is updated now (never before its creation).
        updated = stamps["updated_at"]
        updated.iloc[positions[same_here]] = stored_at["updated_at"][same_here].to_numpy()
        touched = positions[~same_here & ~given_updated]
        created = stamps["created_at"].iloc[touched]
        updated.iloc[touched] = created.where(created > now, now).to_numpy()
        counts["updated"] = int((matched & ~same).sum())
        counts["unchanged"] = int(same.sum())
        written = keep & ~same
        updated_rows = Checked(**{**rows.__dict__, "ids": ids, **stamps})
        last = stored.last_change.set_index("task_id")
        task_ids = found["id"].to_numpy()
        known_last = pd.DataFrame(
            {
                "position": positions,
                "changed_at": last["changed_at"].reindex(task_ids).to_numpy(),
                "to_status": last["to_status"].reindex(task_ids).to_numpy(),
            }
        )
        rows_now, from_export = appended(
            history, known_last, rows.status, updated, written & matched
        )
        counts["history_export"] = from_export
        yield from task_batches(updated_rows, written, existing, rows_now)

    return make


def _equal(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise equality, NULL equal to NULL."""
    return ((a == b) | (a.isna() & b.isna())).to_numpy()


def _same_fields(
    rows: Checked,
    positions: np.ndarray,
    found: pd.DataFrame,
    existing: Existing,
    stored: Stored,
) -> np.ndarray:
    """For each matched row, whether its title, description, status, priority, project,
    resolution, kind, workers and labels (as sets) equal its task's; compared as plain Python
    values, a row at a time."""
    links = stored.workers
    take = pa.array(positions)
    names_of = {pid: name for name, pid in existing.projects.items()}
    by_name = {name: wid for wid, name in existing.workers.items()}
    stored_workers: dict[Any, set[Any]] = {}
    for t, w in zip(links["task_id"].tolist(), links["worker_id"].tolist(), strict=True):
        stored_workers.setdefault(t, set()).add(w)  # a plain loop: pandas' groupby is 20x slower
    row_workers: dict[int, set[str]] = {}
    for r, n in zip(rows.workers.rows.tolist(), rows.workers.names.to_pylist(), strict=True):
        row_workers.setdefault(r, set()).add(n)
    stored_labels: dict[Any, set[Any]] = {}
    for t, n in zip(stored.labels["task_id"].tolist(), stored.labels["name"].tolist(), strict=True):
        stored_labels.setdefault(t, set()).add(n)
    row_labels: dict[int, set[str]] = {}
    for r, n in zip(rows.labels.rows.tolist(), rows.labels.names.to_pylist(), strict=True):
        row_labels.setdefault(r, set()).add(n)
    file_values = zip(
        rows.title.take(take).to_pylist(),
        rows.description.take(take).to_pylist(),
        rows.status.take(take).to_pylist(),
        rows.priority.take(take).to_pylist(),
        rows.project.take(take).to_pylist(),
        rows.resolution.take(take).to_pylist(),
        rows.kind.take(take).to_pylist(),
        ({by_name.get(n, f"?{n}") for n in row_workers.get(p, ())} for p in positions.tolist()),
        (row_labels.get(p, set()) for p in positions.tolist()),
        strict=True,
    )
    task_values = zip(
        found["title"].tolist(),
        [_none(v) for v in found["description"].tolist()],
        [str(v) for v in found["status"].tolist()],
        [str(v) for v in found["priority"].tolist()],
        [names_of.get(_none(v)) for v in found["project_id"].tolist()],
        [None if _none(v) is None else str(v) for v in found["resolution"].tolist()],
        [_none(v) for v in found["kind"].tolist()],
        [stored_workers.get(t, set()) for t in found["id"].tolist()],
        [stored_labels.get(t, set()) for t in found["id"].tolist()],
        strict=True,
    )
    return np.fromiter(
        (a == b for a, b in zip(file_values, task_values, strict=True)),
        dtype=bool,
        count=len(positions),
    )


def _none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value
