"""The checked rows as bulk batches: project and worker names resolved against what the
database holds (new ones created), task ids assigned, links in order, ``CHUNK`` rows a batch."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from taskkit._bulk import Batch, Existing
from taskkit._errors import LoadError
from taskkit._importers.rows import Checked

__all__ = ["CHUNK", "task_batches"]

CHUNK = 50_000


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:56] or "worker"


def task_batches(rows: Checked, keep: np.ndarray, existing: Existing) -> Iterator[Batch]:
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
