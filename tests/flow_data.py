"""Task data with status histories shaped like real work, for the flow tests and benchmark.

``histories(n, seed)`` draws ``n`` tasks over a year and every status move of each, as two
frames holding exactly the columns of the ``task`` and ``status_change`` tables. Each kind of
path the flow measures must handle occurs:

* the usual one: created (pending), started, completed (done, or dropped: wont_do, duplicate,
  cancelled);
* sent back to pending after a start, then started again (the first start stays);
* completed, reopened into progress, completed again (cycle time runs to the last completion);
* completed straight from pending (no start known: done without a start, or dropped);
* still open at the data's end (pending or in progress), moves after it cut off;
* no history at all (as tasks stored before the history existed): the measures fall back on
  the timestamps;
* a history without its creation row (stored before the history existed, then moved).

``write(engine, tasks, history)`` stores them through SQLAlchemy (any backend, small sizes);
benchmarks/flow.py writes large ones faster.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from taskkit import StatusChange, Task

__all__ = ["END", "START", "histories", "write"]

START = pd.Timestamp("2025-01-01", tz="UTC")
END = pd.Timestamp("2025-12-31 18:00", tz="UTC")  # the moment the "export" was taken
_US_DAY = 86_400_000_000
_NEVER = np.iinfo(np.int64).max
# The slots of a task's path: each move, when it happens, goes to this status.
_SLOTS = ("pending", "in_progress", "pending", "in_progress", "completed", "in_progress",
          "completed")  # fmt: skip
CREATED, STARTED, SENT_BACK, RESTARTED, FINISHED, REOPENED, FINISHED_AGAIN = range(7)


def _days(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    """Durations in microseconds, log-normally spread around ``median`` days."""
    return (rng.lognormal(np.log(median), sigma, n) * _US_DAY).astype(np.int64)


def histories(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` tasks and their status history: (tasks, history) frames, ids from 1."""
    rng = np.random.default_rng(seed)
    start_us, end_us = START.value // 1000, END.value // 1000
    created = np.sort(rng.integers(start_us, end_us, n))
    at = np.full((n, len(_SLOTS)), _NEVER, dtype=np.int64)
    at[:, CREATED] = created

    skips = rng.random(n) < 0.12  # completed straight from pending
    started = ~skips
    at[started, STARTED] = created[started] + _days(rng, 2, 1.2, started.sum())
    back = started & (rng.random(n) < 0.1)
    at[back, SENT_BACK] = at[back, STARTED] + _days(rng, 0.5, 1, back.sum())
    at[back, RESTARTED] = at[back, SENT_BACK] + _days(rng, 1, 1, back.sum())
    last_start = np.where(back, at[:, RESTARTED], at[:, STARTED])
    work = _days(rng, 3, 1.1, n)
    at[started, FINISHED] = last_start[started] + work[started]
    at[skips, FINISHED] = created[skips] + _days(rng, 5, 1, skips.sum())
    reopened = started & (rng.random(n) < 0.06)
    at[reopened, REOPENED] = at[reopened, FINISHED] + _days(rng, 0.5, 1, reopened.sum())
    at[reopened, FINISHED_AGAIN] = at[reopened, REOPENED] + _days(rng, 1, 1, reopened.sum())

    happened = at <= end_us  # moves after the export are not known yet
    last = happened.shape[1] - 1 - np.argmax(happened[:, ::-1], axis=1)
    slots = np.array(_SLOTS)
    status = slots[last]
    rows = np.arange(n)
    latest = at[rows, last]
    done_share = np.where(skips, 0.3, 0.88)
    done = rng.random(n) < done_share
    dropped = np.array(["wont_do", "duplicate", "cancelled"])[rng.integers(0, 3, n)]
    completed = status == "completed"
    ids = np.arange(1, n + 1)
    tasks = pd.DataFrame(
        {
            "id": ids,
            "title": [f"task {i}" for i in ids],
            "status": status,
            "priority": "medium",
            "resolution": np.where(completed, np.where(done, "done", dropped), None),
            "created_at": _stamps(created),
            "updated_at": _stamps(latest),
            "started_at": _stamps(np.where(happened[:, STARTED], at[:, STARTED], _NEVER)),
            "completed_at": _stamps(np.where(completed, latest, _NEVER)),
        }
    )

    # One history row per move that happened, in order; the first row of a task has no
    # from_status. Some tasks lose their history, some only their creation row.
    no_history = rng.random(n) < 0.04
    lost_creation = ~no_history & (rng.random(n) < 0.03) & (last > CREATED)
    keep = happened & ~no_history[:, None]
    keep[:, CREATED] &= ~lost_creation
    task_of, slot_of = np.nonzero(happened)  # row-major: by task, then by slot (time order)
    previous = np.full(len(task_of), "", dtype=object)
    same_task = np.r_[False, task_of[1:] == task_of[:-1]]
    previous[1:][same_task[1:]] = slots[slot_of[:-1]][same_task[1:]]
    kept = keep[task_of, slot_of]
    history = pd.DataFrame(
        {
            "task_id": ids[task_of[kept]],
            "changed_at": _stamps(at[task_of[kept], slot_of[kept]]),
            "from_status": np.where(previous[kept] == "", None, previous[kept]),
            "to_status": slots[slot_of[kept]],
            "source": "seed",
        }
    )
    history.insert(0, "id", np.arange(1, len(history) + 1))
    return tasks, history


def _stamps(us: np.ndarray) -> pd.Series:
    """Microseconds since the epoch (``_NEVER``: missing) as aware UTC timestamps."""
    values = np.where(us == _NEVER, np.iinfo(np.int64).min, us).astype("datetime64[us]")
    return pd.Series(pd.DatetimeIndex(values).tz_localize("UTC"))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.astype(object).where(frame.notna(), None)
    return [
        {k: (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v) for k, v in row.items()}
        for row in out.to_dict("records")
    ]


async def write(engine: AsyncEngine, tasks: pd.DataFrame, history: pd.DataFrame) -> None:
    """Store the frames as they are (ids included), in one transaction."""
    async with engine.begin() as conn:
        if len(tasks):
            await conn.execute(sa.insert(Task), _records(tasks))
        if len(history):
            await conn.execute(sa.insert(StatusChange), _records(history))
        if conn.dialect.name == "postgresql":
            # Ids were given: move the sequences past them.
            for table in ("task", "status_change"):
                await conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                    )
                )
