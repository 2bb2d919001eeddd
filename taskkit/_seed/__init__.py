"""Deterministic, realistic synthetic task data, generated with numpy and Arrow, written in bulk.

What the data looks like (so that analyses have something to find):

* **Time.** The dataset's "now" is fixed (:data:`REFERENCE_END`, 2026-01-01 UTC); tasks are
  created over the 365 days before it, more on weekdays than at weekends, mostly in working
  hours (09-17 UTC), with a gentle upward trend over the year. Ids follow creation time.
* **Life cycle and history** (``life_cycle`` has the details). Each task is created
  ``pending``, waits a while before work starts (``started_at``), then takes a while to finish
  (both log-normal; high-priority work is faster, epics slower); about 1 in 6 started tasks is
  paused (back to ``pending``) and resumed, and about 1 in 14 finished tasks is reopened and
  finished again. Most completed work is ``done``; about 4% of tasks are never picked up
  (half of them closed as ``wont_do`` weeks later, the others left pending), 3% closed as
  ``duplicate`` and 3% as ``wont_do`` soon after creation, 4% ``cancelled`` while under way.
  Status, ``resolution``, ``completed_at`` (the last close) and ``updated_at`` (the last move)
  are where each task stands at "now", and every move is a ``status_change`` row
  (``source='seed'``): about 3.3 rows per task.
* **Priority** is skewed: about 30% low, 55% medium, 15% high. **Kind** (the tracker's type of
  work item): Task, Bug, Story, Epic; urgent work is mostly bugs.
* **Projects** have names (Apollo, Borealis, ...; numbered past the list); task counts per
  project are skewed (a few big projects); about 6% of tasks have no project.
* **Workers** have ids ``w-0001``... and names; each task has 0 to 3 distinct workers (about
  15%, 45%, 28%, 12%), some workers much busier than others.
* **Labels**: twelve (``backend``, ``frontend``, ``customer``, ...), some far more used than
  others; each task carries 0 to 3 of them (about 45%, 37%, 13%, 5%).
* **Text.** Titles combine a verb and an object from a small vocabulary ("Fix login timeout"),
  so that text search finds things; about a third of descriptions are empty (NULL).

Determinism: the same arguments give the same rows, ids included, on any day. Every draw has
its own random stream (derived from ``seed`` and the draw's name), so adding a column later
does not reshuffle the others.
"""

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from taskkit._bulk import write_batches
from taskkit._bulk_parts import Batch, Existing
from taskkit._checks import engine_argument, int_in_range
from taskkit._errors import DatabaseNotEmptyError
from taskkit._seed.generator import TaskGenerator, label_rows, project_rows, worker_rows
from taskkit._seed.life_cycle import REFERENCE_END
from taskkit._words import plural

__all__ = ["MAX_ROWS", "REFERENCE_END", "SeedSummary", "seed"]

MAX_ROWS = 50_000_000

_LABELS = {
    "project": ("project", "projects"),
    "worker": ("worker", "workers"),
    "label": ("label", "labels"),
    "task": ("task", "tasks"),
    "taskworkerlink": ("assignment", "assignments"),
    "task_label_link": ("task label", "task labels"),
    "status_change": ("status change", "status changes"),
}


@dataclass(frozen=True)
class SeedSummary:
    """What :func:`seed` wrote: rows per table, the seed and the time taken."""

    projects: int
    workers: int
    tasks: int
    links: int  # worker assignments
    seed: int
    seconds: float
    labels: int = 0  # label names
    label_links: int = 0  # labels on tasks
    status_changes: int = 0  # rows of the status history

    def __str__(self) -> str:
        return (
            f"seeded {plural(self.tasks, 'task')}, {plural(self.projects, 'project')}, "
            f"{plural(self.workers, 'worker')}, {plural(self.links, 'assignment')}, "
            f"{plural(self.labels, 'label name')} ({plural(self.label_links, 'label')} on "
            f"tasks), {plural(self.status_changes, 'status change')} (seed {self.seed}) in "
            f"{self.seconds:.1f} s"
        )


def _count(name: str, value: object) -> int:
    return int_in_range(name, value, low=0, high=MAX_ROWS)


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
    """Fill the database with deterministic synthetic task data (see the module docstring):
    tasks with their projects, workers, labels and status history.

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
        MissingTablesError: taskkit's tables do not exist there (or the SQLite file does not):
            the seed does not create them; ``taskkit init`` or
            :func:`~taskkit.create_db_and_tables` does. Nothing is created.

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
            generator = TaskGenerator(seed, tasks, projects, workers)
            batches = generator.batches()
            # The first tasks and the rows that hang off them.
            first = list(itertools.islice(batches, generator.per_batch))
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
            yield "project", project_rows(projects)
        if workers:
            yield "worker", worker_rows(seed, workers)
        if tasks:
            yield "label", label_rows()
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
        labels=written.get("label", 0),
        label_links=written.get("task_label_link", 0),
        status_changes=written.get("status_change", 0),
    )
