"""The checked rows as bulk batches: project, worker and label names resolved against what
the database holds (new ones created), task ids assigned, links and history rows in order,
``CHUNK`` rows a batch."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from taskkit._bulk_parts import Batch, Existing
from taskkit._errors import LoadError
from taskkit._importers.rows import Checked

__all__ = ["CHUNK", "history_batches", "task_batches"]

CHUNK = 50_000


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:56] or "worker"


def task_batches(
    rows: Checked,
    keep: np.ndarray,
    existing: Existing,
    history: pd.DataFrame | None = None,
) -> Iterator[Batch]:
    """Resolve names to ids against what the database holds, then yield the rows: tasks, their
    worker and label links, and ``history`` (``position`` -> the task's id)."""
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

    kept_labels = keep[rows.labels.rows]
    label_rows = rows.labels.rows[kept_labels]
    label_names = rows.labels.names.filter(pa.array(kept_labels))
    labels = dict(existing.labels)
    new_labels: list[tuple[int, str]] = []
    for name in pc.unique(label_names).to_pylist():
        if name not in labels:
            labels[name] = existing.max_label_id + len(new_labels) + 1
            new_labels.append((labels[name], name))
    if new_labels:
        ids, names = zip(*new_labels, strict=True)
        yield "label", pa.table({"id": pa.array(ids, pa.int64()), "name": pa.array(names)})
    link_labels = _lookup(label_names, labels, pa.int64())

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
                    "resolution": rows.resolution.take(taken),
                    "kind": rows.kind.take(taken),
                    **{
                        name: pa.array(series.iloc[positions], pa.timestamp("us", "UTC"))
                        for name, series in (
                            ("created_at", rows.created_at),
                            ("updated_at", rows.updated_at),
                            ("completed_at", rows.completed_at),
                            ("started_at", rows.started_at),
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
        low = int(np.searchsorted(label_rows, positions[0]))
        high = int(np.searchsorted(label_rows, positions[-1], side="right"))
        if high > low:
            yield (
                "task_label_link",
                pa.table(
                    {
                        "task_id": pa.array(task_id_of_row[label_rows[low:high]]),
                        "label_id": link_labels[low:high],
                    }
                ),
            )
    if history is not None and len(history):
        yield from history_batches(history[keep[history["position"].to_numpy()]], task_id_of_row)


def history_batches(history: pd.DataFrame, task_id_of_row: np.ndarray) -> Iterator[Batch]:
    """``status_change`` rows, ``CHUNK`` a batch (ids from the table's sequence)."""
    for start in range(0, len(history), CHUNK):
        part = history.iloc[start : start + CHUNK]
        yield (
            "status_change",
            pa.table(
                {
                    "task_id": pa.array(task_id_of_row[part["position"].to_numpy()]),
                    "changed_at": pa.array(part["changed_at"], pa.timestamp("us", "UTC")),
                    "from_status": pa.array(part["from_status"], pa.string(), from_pandas=True),
                    "to_status": pa.array(part["to_status"], pa.string()),
                    "source": pa.array(part["source"], pa.string()),
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
