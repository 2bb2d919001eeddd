"""Deterministic, realistic synthetic task data, generated with numpy and Arrow, written in bulk.

What the data looks like (so that analyses have something to find):

* **Time.** The dataset's "now" is fixed (:data:`REFERENCE_END`, 2026-01-01 UTC); tasks are
  created over the 365 days before it, more on weekdays than at weekends, mostly in working
  hours (09-17 UTC), with a gentle upward trend over the year. Ids follow creation time.
* **Life cycle.** Each task waits a while before work starts, then takes a while to finish
  (both log-normal; high-priority tasks start and finish sooner, low-priority ones later), and
  about 4% are never picked up. Its status is where it stands at "now": old tasks are mostly
  ``completed``, recent ones mostly ``pending`` or ``in_progress``. ``completed_at`` is set for
  completed tasks (cycle time = ``completed_at - created_at``); ``updated_at`` is the last
  change (start or completion), never before ``created_at``.
* **Priority** is skewed: about 30% low, 55% medium, 15% high.
* **Projects** have names (Apollo, Borealis, ...; numbered past the list); task counts per
  project are skewed (a few big projects); about 6% of tasks have no project.
* **Workers** have ids ``w-0001``... and names; each task has 0 to 3 distinct workers (about
  15%, 45%, 28%, 12%), some workers much busier than others.
* **Text.** Titles combine a verb and an object from a small vocabulary ("Fix login timeout"),
  so that text search finds things; about a third of descriptions are empty (NULL).

Determinism: the same arguments give the same rows, ids included, on any day. Every column has
its own random stream (derived from ``seed`` and the column's name), so adding a column later
does not reshuffle the others.
"""

import itertools
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.ext.asyncio import AsyncEngine

from taskkit._bulk import Batch, Existing, write_batches
from taskkit._checks import engine_argument, int_in_range
from taskkit._errors import DatabaseNotEmptyError
from taskkit._models import Priority, Status

__all__ = ["MAX_ROWS", "REFERENCE_END", "SeedSummary", "seed"]

MAX_ROWS = 50_000_000
REFERENCE_END = datetime(2026, 1, 1, tzinfo=UTC)
CHUNK = 100_000  # tasks generated and written per batch; bounds memory, not the result

_US_PER_HOUR = 3_600_000_000
_US_PER_DAY = 24 * _US_PER_HOUR
_END_US = int(REFERENCE_END.timestamp() * 1_000_000)
_START_US = _END_US - 365 * _US_PER_DAY

PROJECT_NAMES = (
    "Apollo Borealis Cassini Dragonfly Europa Fermi Gemini Hubble Icarus Juno Kepler Lunar "
    "Mariner Nova Orion Pioneer Quasar Rosetta Soyuz Titan Ulysses Voyager Webb Xuntian Yutu "
    "Zenith"
).split()
FIRST_NAMES = (
    "Ada Alan Amara Ana Ben Chen Dara Elena Emeka Farah Grace Hiro Ines Ivan Jamal Kai Lea Lina "
    "Malik Maya Noor Omar Priya Rosa Sam Sofia Tariq Uma Yara Zoe"
).split()
LAST_NAMES = (
    "Adeyemi Berg Costa Dubois Eriksen Fischer Garcia Haddad Ito Jensen Kowalski Larsen Moreau "
    "Nakamura Okafor Petrov Quinn Rossi Silva Tanaka Novak Weber Yilmaz Zhang"
).split()
VERBS = (
    "Fix Review Update Write Test Deploy Refactor Document Investigate Design Migrate Optimize "
    "Plan Triage Automate"
).split()
OBJECTS = [
    "login timeout", "invoice export", "search index", "release notes", "payment webhook",
    "onboarding email", "CSV import", "dashboard filters", "API rate limits", "backup job",
    "settings page", "error reporting", "mobile layout", "database migration", "test coverage",
    "audit log", "access control", "cache invalidation", "report template", "notification queue",
]  # fmt: skip
SENTENCES = [
    "Customer reported this twice last week.", "Blocked until the design review is done.",
    "Needs a follow-up with the data team.", "See the incident notes from Monday.",
    "Pair with QA before merging.", "Affects the nightly batch.", "Low risk, small change.",
    "Check the logs for the failing requests.", "Coordinate with support before release.",
    "Estimate is rough; revisit after the spike.", "Keep backwards compatibility.",
    "Numbers in the weekly report depend on this.",
]  # fmt: skip

_LABELS = {
    "project": ("project", "projects"),
    "worker": ("worker", "workers"),
    "task": ("task", "tasks"),
    "taskworkerlink": ("assignment", "assignments"),
}
_PRIORITY_P = (0.30, 0.55, 0.15)  # low, medium, high
_SPEED = np.array([1.8, 1.0, 0.5])  # time multiplier per priority: high-priority work is faster
_WORKERS_PER_TASK_P = (0.15, 0.45, 0.28, 0.12)  # 0, 1, 2, 3 workers


@dataclass(frozen=True)
class SeedSummary:
    """What :func:`seed` wrote."""

    projects: int
    workers: int
    tasks: int
    links: int
    seed: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"seeded {self.tasks:,} tasks, {self.projects:,} projects, {self.workers:,} workers, "
            f"{self.links:,} assignments (seed {self.seed}) in {self.seconds:.1f} s"
        )


def _count(name: str, value: object) -> int:
    return int_in_range(name, value, low=0, high=MAX_ROWS)


def _stream(seed: int, column: str) -> np.random.Generator:
    """The random stream of one column: independent of every other column's."""
    return np.random.default_rng([seed, zlib.crc32(column.encode())])


def _created_at(seed: int, n: int) -> np.ndarray:
    """Sorted creation times (µs since the epoch, UTC) with weekly and daily rhythm."""
    rng = _stream(seed, "created_at")
    days = np.arange(365)
    weekday = (np.datetime64("2025-01-01") + days).astype("datetime64[D]").view("int64")
    is_weekend = ((weekday + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    day_weight = np.where(is_weekend, 0.08, 1.0) * np.linspace(0.7, 1.3, 365)
    hour_weight = np.array([0.02] * 7 + [0.3, 0.8, 1, 1, 1, 0.6, 1, 1, 1, 1, 0.6, 0.3] + [0.08] * 5)
    day = rng.choice(365, size=n, p=day_weight / day_weight.sum())
    hour = rng.choice(24, size=n, p=hour_weight / hour_weight.sum())
    within = rng.integers(0, _US_PER_HOUR, size=n)
    return np.sort(_START_US + day * _US_PER_DAY + hour * _US_PER_HOUR + within)


def _projects(n: int) -> pa.Table:
    names = [
        PROJECT_NAMES[i % len(PROJECT_NAMES)]
        + ("" if i < len(PROJECT_NAMES) else f" {i // len(PROJECT_NAMES) + 1}")
        for i in range(n)
    ]
    return pa.table({"id": pa.array(range(1, n + 1), pa.int64()), "name": pa.array(names)})


def _workers(seed: int, n: int) -> pa.Table:
    rng = _stream(seed, "worker.name")
    first = np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), n)]
    last = np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), n)]
    return pa.table(
        {
            "id": pa.array([f"w-{i:04d}" for i in range(1, n + 1)]),
            "name": pc.binary_join_element_wise(first, last, " "),
        }
    )


def _timestamp(us: np.ndarray) -> pa.Array:
    return pa.array(us, pa.timestamp("us", "UTC"))


class _TaskGenerator:
    """Task and link rows chunk by chunk; each column keeps drawing from its own stream."""

    def __init__(self, seed: int, tasks: int, projects: int, workers: int) -> None:
        self.tasks, self.projects, self.workers = tasks, projects, workers
        self.created = _created_at(seed, tasks)
        # One stream per draw, each used once per batch: then the batch size cannot change
        # the result (a stream shared by two draws would interleave differently).
        self.rng = {
            name: _stream(seed, name)
            for name in (
                "priority", "start_delay", "work_time", "abandoned", "project_id",
                "project_id.missing", "title.verb",
                "title.object", "description", "description.first", "description.second",
                "workers.count", "workers.first", "workers.second", "workers.third",
            )
        }  # fmt: skip
        project_weight = 1 / np.arange(1, projects + 1) ** 0.9 if projects else np.zeros(0)
        self.project_p = project_weight / project_weight.sum() if projects else project_weight
        worker_weight = 1 / np.arange(1, workers + 1) ** 0.6 if workers else np.zeros(0)
        self.worker_p = worker_weight / worker_weight.sum() if workers else worker_weight

    def batches(self) -> Iterator[Batch]:
        for start in range(0, self.tasks, CHUNK):
            stop = min(start + CHUNK, self.tasks)
            ids = np.arange(start + 1, stop + 1, dtype=np.int64)
            yield "task", self._tasks(ids, self.created[start:stop])
            if self.workers:
                yield "taskworkerlink", self._links(ids)

    def _tasks(self, ids: np.ndarray, created: np.ndarray) -> pa.Table:
        n, r = len(ids), self.rng
        priority = r["priority"].choice(3, size=n, p=_PRIORITY_P)
        speed = _SPEED[priority]
        hours = _US_PER_HOUR
        delay = (r["start_delay"].lognormal(np.log(20), 1.1, n) * speed * hours).astype(np.int64)
        work = (r["work_time"].lognormal(np.log(40), 0.9, n) * speed * hours).astype(np.int64)
        abandoned = r["abandoned"].random(n) < 0.04
        started_at, completed_at = created + delay, created + delay + work
        completed = ~abandoned & (completed_at <= _END_US)
        in_progress = ~abandoned & ~completed & (started_at <= _END_US)
        status_index = np.select([completed, in_progress], [2, 1], 0)
        updated = np.select([completed, in_progress], [completed_at, started_at], created)

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
        return pa.table(
            {
                "id": pa.array(ids),
                "title": pc.binary_join_element_wise(verbs, objects, " "),
                "description": description,
                "status": pa.array([s.value for s in Status]).take(status_index),
                "priority": pa.array([p.value for p in Priority]).take(priority),
                "project_id": project_id,
                "created_at": _timestamp(created),
                "updated_at": _timestamp(updated),
                "completed_at": pa.array(completed_at, pa.timestamp("us", "UTC"), mask=~completed),
            }
        )

    def _links(self, ids: np.ndarray) -> pa.Table:
        n, r, w = len(ids), self.rng, self.workers
        count = np.minimum(r["workers.count"].choice(4, size=n, p=_WORKERS_PER_TASK_P), w)
        first = r["workers.first"].choice(w, size=n, p=self.worker_p)
        # Distinct second and third workers: offsets 0 < a, b < w with b != a.
        a = 1 + r["workers.second"].integers(0, max(w - 1, 1), n)
        b = 1 + r["workers.third"].integers(0, max(w - 2, 1), n)
        b = b + (b >= a)
        task_ids, worker_idx = [ids[count >= 1]], [first[count >= 1]]
        for k, offset in ((2, a), (3, b)):
            chosen = count >= k
            task_ids.append(ids[chosen])
            worker_idx.append((first[chosen] + offset[chosen]) % w)
        task_id = np.concatenate(task_ids)
        worker = np.concatenate(worker_idx)
        order = np.lexsort((worker, task_id))
        return pa.table(
            {
                "task_id": pa.array(task_id[order]),
                "worker_id": pc.binary_join_element_wise(
                    "w-", pc.utf8_lpad(pa.array(worker[order] + 1).cast(pa.string()), 4, "0"), ""
                ),
            }
        )


async def seed(
    engine: AsyncEngine,
    *,
    tasks: int = 10_000,
    projects: int = 20,
    workers: int = 50,
    seed: int = 0,
    reset: bool = False,
    progress: bool | None = None,
) -> SeedSummary:
    """Fill the database with deterministic synthetic task data (see the module docstring).

    Args:
        engine: a taskkit engine whose tables exist.
        tasks, projects, workers: how many rows of each (0 to 50,000,000). ``projects=0``
            gives tasks without a project, ``workers=0`` tasks without workers.
        seed: the random seed (a non-negative integer); the same arguments give the same rows.
        reset: replace whatever the database holds. Without it, a database that already holds
            data is left untouched and :class:`DatabaseNotEmptyError` is raised.
        progress: show a progress bar (``None``: only in Jupyter or on a terminal).

    Returns:
        A :class:`SeedSummary` with the rows written per table and the time taken.

    Raises:
        InvalidArgumentError: ``engine`` is not an async engine, or a count or the seed is out
            of range; nothing is written.
        DatabaseNotEmptyError: the database holds data and ``reset`` is false.

    The whole dataset is written in one transaction: an error, Ctrl-C or a killed process
    leaves the database exactly as it was.
    """
    tasks, projects, workers = (
        _count("tasks", tasks),
        _count("projects", projects),
        _count("workers", workers),
    )
    engine_argument(engine)
    seed = int_in_range("seed", seed, low=0, high=2**63 - 1)
    started = time.perf_counter()
    # The rows do not depend on what the database holds (a seed refuses or resets, and always
    # numbers from 1), so the first batch is generated while the writer starts up. A daemon
    # thread: after a refusal nobody waits for it, not even the interpreter at exit.
    started_batches: Future[tuple[Iterator[Batch], list[Batch]]] = Future()

    def start() -> None:
        try:
            batches = _TaskGenerator(seed, tasks, projects, workers).batches()
            first = list(itertools.islice(batches, 2))  # the first tasks and their links
            started_batches.set_result((batches, first))
        except BaseException as exc:
            started_batches.set_exception(exc)

    threading.Thread(target=start, name="taskkit-seed", daemon=True).start()

    def make_batches(existing: Existing) -> Iterator[Batch]:
        if not existing.empty:
            held = ", ".join(
                f"{count:,} {_LABELS[table][count != 1]}"
                for table, count in existing.counts.items()
                if count
            )
            raise DatabaseNotEmptyError(
                f"the database already holds data ({held}); nothing was changed. "
                "Pass reset=True (taskkit seed --reset) to replace it."
            )
        if projects:
            yield "project", _projects(projects)
        if workers:
            yield "worker", _workers(seed, workers)
        batches, first = started_batches.result()
        yield from first
        yield from batches

    written = await write_batches(
        engine,
        make_batches,
        on_existing="replace" if reset else "keep",
        total_rows=tasks,
        progress=progress,
        desc="seeding",
        check_foreign_keys=False,  # ids made here, in an empty database: right by construction
    )
    return SeedSummary(
        projects=written.get("project", 0),
        workers=written.get("worker", 0),
        tasks=written.get("task", 0),
        links=written.get("taskworkerlink", 0),
        seed=seed,
        seconds=time.perf_counter() - started,
    )
