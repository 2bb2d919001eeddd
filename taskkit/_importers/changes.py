"""What a re-import changes: rows whose key a task already has take that task's id (and
its timestamps where the file gives none), and rows equal to their task are left out and
counted as unchanged."""

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from taskkit._bulk import Batch, Existing
from taskkit._importers.batches import task_batches
from taskkit._importers.rows import Checked

__all__ = ["keyed_batches"]


def keyed_batches(
    rows: Checked,
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
        updated_rows = Checked(**{**rows.__dict__, "ids": ids, **stamps})
        yield from task_batches(updated_rows, written, existing)

    return make


def _none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def _same_time(a: Any, b: Any) -> bool:
    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    return bool(pd.Timestamp(a) == pd.Timestamp(b))
