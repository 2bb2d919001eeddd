"""Seeded rows as Arrow tables, batch by batch: projects, workers and labels, then per batch of
tasks the tasks, their workers, their labels and their status history.

Every draw has its own random stream (derived from the seed and the draw's name), used once per
batch for every task of the batch: so the batch size cannot change the result, and adding a
draw later does not reshuffle the others.
"""

import zlib
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from taskkit._bulk_parts import Batch
from taskkit._models import ChangeSource, Priority, Resolution, Status
from taskkit._seed.life_cycle import STREAMS, LifeCycles, created_at, life_cycles
from taskkit._seed.vocabulary import (
    FIRST_NAMES,
    KINDS,
    LABEL_NAMES,
    LAST_NAMES,
    OBJECTS,
    PROJECT_NAMES,
    SENTENCES,
    VERBS,
)

__all__ = ["CHUNK", "TaskGenerator", "label_rows", "project_rows", "stream", "worker_rows"]

CHUNK = 100_000  # tasks generated and written per batch; bounds memory, not the result

_PRIORITY_P = (0.30, 0.55, 0.15)  # low, medium, high
# Kinds of work (KINDS: Task, Bug, Story, Epic) by priority (low, medium, high): urgent work
# is mostly bugs.
_KIND_P = np.array([[0.45, 0.15, 0.35, 0.05], [0.40, 0.25, 0.30, 0.05], [0.25, 0.55, 0.17, 0.03]])
_WORKERS_PER_TASK_P = (0.15, 0.45, 0.28, 0.12)  # 0, 1, 2, 3 workers
_LABELS_PER_TASK_P = (0.45, 0.37, 0.13, 0.05)  # 0, 1, 2, 3 labels

_STATUSES = pa.array([s.value for s in Status])
_PRIORITIES = pa.array([p.value for p in Priority])
_RESOLUTIONS = pa.array([r.value for r in Resolution])
_SEED_SOURCE = pa.array([ChangeSource.seed.value])


def stream(seed: int, draw: str) -> np.random.Generator:
    """The random stream of one draw: independent of every other draw's."""
    return np.random.default_rng([seed, zlib.crc32(draw.encode())])


def project_rows(n: int) -> pa.Table:
    names = [
        PROJECT_NAMES[i % len(PROJECT_NAMES)]
        + ("" if i < len(PROJECT_NAMES) else f" {i // len(PROJECT_NAMES) + 1}")
        for i in range(n)
    ]
    return pa.table({"id": pa.array(range(1, n + 1), pa.int64()), "name": pa.array(names)})


def worker_rows(seed: int, n: int) -> pa.Table:
    rng = stream(seed, "worker.name")
    first = np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), n)]
    last = np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), n)]
    return pa.table(
        {
            "id": pa.array([f"w-{i:04d}" for i in range(1, n + 1)]),
            "name": pc.binary_join_element_wise(first, last, " "),
        }
    )


def label_rows() -> pa.Table:
    """The label vocabulary, ids from 1 in LABEL_NAMES order."""
    return pa.table(
        {"id": pa.array(range(1, len(LABEL_NAMES) + 1), pa.int64()), "name": pa.array(LABEL_NAMES)}
    )


def _timestamp(us: np.ndarray, known: np.ndarray | None = None) -> pa.Array:
    mask = None if known is None else ~known
    return pa.array(us, pa.timestamp("us", "UTC"), mask=mask)


def _zipf(n: int, exponent: float) -> np.ndarray:
    weight = 1 / np.arange(1, n + 1) ** exponent if n else np.zeros(0)
    return weight / weight.sum() if n else weight


class TaskGenerator:
    """Task rows and the rows that hang off them, batch by batch."""

    def __init__(self, seed: int, tasks: int, projects: int, workers: int) -> None:
        self.tasks, self.projects, self.workers = tasks, projects, workers
        self.created = created_at(stream(seed, "created_at"), tasks)
        self.rng = {
            name: stream(seed, name)
            for name in (
                "priority", "kind", "project_id", "project_id.missing", "title.verb",
                "title.object", "description", "description.first", "description.second",
                "workers.count", "workers.first", "workers.second", "workers.third",
                "labels.count", "labels.first", "labels.second", "labels.third", *STREAMS,
            )
        }  # fmt: skip
        self.project_p = _zipf(projects, 0.9)
        self.worker_p = _zipf(workers, 0.6)
        self.label_p = _zipf(len(LABEL_NAMES), 0.8)

    @property
    def per_batch(self) -> int:
        """How many tables each batch of tasks yields."""
        return 4 if self.workers else 3

    def batches(self) -> Iterator[Batch]:
        """For each batch of tasks: ``task``, ``taskworkerlink`` (unless there are no workers),
        ``task_label_link`` and ``status_change`` rows."""
        for start in range(0, self.tasks, CHUNK):
            stop = min(start + CHUNK, self.tasks)
            ids = np.arange(start + 1, stop + 1, dtype=np.int64)
            priority = self.rng["priority"].choice(3, size=len(ids), p=_PRIORITY_P)
            cumulative = np.cumsum(_KIND_P, axis=1)[priority]
            kind_draw = self.rng["kind"].random(len(ids))
            kind = np.minimum((kind_draw[:, None] >= cumulative).sum(axis=1), len(KINDS) - 1)
            lives = life_cycles(self.rng, self.created[start:stop], priority, kind)
            yield "task", self._tasks(ids, priority, kind, lives)
            if self.workers:
                yield "taskworkerlink", self._worker_links(ids)
            yield "task_label_link", self._label_links(ids)
            yield "status_change", self._history(ids, lives)

    def _tasks(
        self, ids: np.ndarray, priority: np.ndarray, kind: np.ndarray, lives: LifeCycles
    ) -> pa.Table:
        n, r = len(ids), self.rng
        if self.projects:
            project = r["project_id"].choice(self.projects, size=n, p=self.project_p) + 1
            no_project = r["project_id.missing"].random(n) < 0.06
            project_id = pa.array(project, pa.int64(), mask=no_project)
        else:
            project_id = pa.nulls(n, pa.int64())

        verbs = pa.array(VERBS).take(r["title.verb"].integers(0, len(VERBS), n))
        objects = pa.array(OBJECTS).take(r["title.object"].integers(0, len(OBJECTS), n))
        sentences = pa.array(SENTENCES)
        first = sentences.take(r["description.first"].integers(0, len(SENTENCES), n))
        second = sentences.take(r["description.second"].integers(0, len(SENTENCES), n))
        empty = r["description"].random(n) < 1 / 3
        description = pc.if_else(
            pa.array(empty),
            pa.nulls(n, pa.string()),
            pc.binary_join_element_wise(first, second, " "),
        )
        completed = lives.completed
        return pa.table(
            {
                "id": pa.array(ids),
                "title": pc.binary_join_element_wise(verbs, objects, " "),
                "description": description,
                "status": _STATUSES.take(lives.status),
                "priority": _PRIORITIES.take(priority),
                "project_id": project_id,
                "created_at": _timestamp(self.created[ids[0] - 1 : ids[-1]]),
                "updated_at": _timestamp(lives.updated_at),
                "completed_at": _timestamp(lives.completed_at, completed),
                "resolution": _RESOLUTIONS.take(pa.array(lives.resolution, mask=~completed)),
                "started_at": _timestamp(lives.started_at, lives.started),
                "kind": pa.array(KINDS).take(kind),
            }
        )

    def _picks(
        self, ids: np.ndarray, draw: str, choices: int, p: np.ndarray, per_task: tuple[float, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        """0 to 3 distinct choices (indexes below ``choices``, the first drawn with weights
        ``p``) per task: (task ids, choice indexes), sorted by task and choice."""
        n, r = len(ids), self.rng
        count = np.minimum(r[f"{draw}.count"].choice(4, size=n, p=per_task), choices)
        first = r[f"{draw}.first"].choice(choices, size=n, p=p)
        # Distinct second and third choices: offsets 0 < a, b < choices with b != a.
        a = 1 + r[f"{draw}.second"].integers(0, max(choices - 1, 1), n)
        b = 1 + r[f"{draw}.third"].integers(0, max(choices - 2, 1), n)
        b = b + (b >= a)
        task_ids, picked = [ids[count >= 1]], [first[count >= 1]]
        for k, offset in ((2, a), (3, b)):
            chosen = count >= k
            task_ids.append(ids[chosen])
            picked.append((first[chosen] + offset[chosen]) % choices)
        task_id = np.concatenate(task_ids)
        choice = np.concatenate(picked)
        order = np.lexsort((choice, task_id))
        return task_id[order], choice[order]

    def _worker_links(self, ids: np.ndarray) -> pa.Table:
        task_id, worker = self._picks(
            ids, "workers", self.workers, self.worker_p, _WORKERS_PER_TASK_P
        )
        return pa.table(
            {
                "task_id": pa.array(task_id),
                "worker_id": pc.binary_join_element_wise(
                    "w-", pc.utf8_lpad(pa.array(worker + 1).cast(pa.string()), 4, "0"), ""
                ),
            }
        )

    def _label_links(self, ids: np.ndarray) -> pa.Table:
        task_id, label = self._picks(
            ids, "labels", len(LABEL_NAMES), self.label_p, _LABELS_PER_TASK_P
        )
        return pa.table({"task_id": pa.array(task_id), "label_id": pa.array(label + 1)})

    def _history(self, ids: np.ndarray, lives: LifeCycles) -> pa.Table:
        """The moves, by task and time. Without ids: the database numbers them in this order
        (from 1 in the seed's empty table), which spares SQLite a look-up per row."""
        moves = len(lives.move_task)
        from_status = pa.array(lives.move_from, mask=lives.move_from < 0)
        return pa.table(
            {
                "task_id": pa.array(ids[lives.move_task]),
                "changed_at": _timestamp(lives.move_at),
                "from_status": _STATUSES.take(from_status),
                "to_status": _STATUSES.take(lives.move_to),
                "source": _SEED_SOURCE.take(np.zeros(moves, dtype=np.int8)),
            }
        )
