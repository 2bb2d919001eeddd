"""What a bulk write is made of, apart from any database driver: the batches (Arrow tables in
foreign-key order), what the database held when the write began (:class:`Existing`), the SQL
that reads it, and the text SQLite stores timestamps as.

Shared by the writers (``taskkit._bulk``; ``taskkit._new_sqlite_file``, which needs no
SQLAlchemy) and by what makes batches (the importers, the seed).
"""

import asyncio
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pyarrow as pa

__all__ = [
    "LABELS_SQL",
    "NUMBERED",
    "PROJECTS_SQL",
    "SERIAL",
    "SQLITE_CHILD_MIN_ROWS",
    "SUMMARY_SQL",
    "TABLES",
    "WORKERS_SQL",
    "Batch",
    "BatchFactory",
    "Existing",
    "count_written",
    "existing_from",
    "insert_sql",
    "prepared_ahead",
    "records",
    "sqlite_ready",
]

T = TypeVar("T")
Batch = tuple[str, pa.Table]
# Below this many task rows, starting the ADBC child (about a second of imports) costs more
# than it saves: write through the engine's own connection instead.
SQLITE_CHILD_MIN_ROWS = 100_000
# Parents before children, so every foreign key points at a row already there.
TABLES = (
    "project", "worker", "label", "task", "taskworkerlink", "task_label_link", "status_change",
)  # fmt: skip
# Tables whose ids a batch may give explicitly: their sequences move past them afterwards.
NUMBERED = ("task", "project", "label")
# What the database holds, read inside the write transaction.
SUMMARY_SQL = "SELECT " + ", ".join(
    [f"(SELECT count(*) FROM {name})" for name in TABLES]
    + [f"(SELECT coalesce(max(id), 0) FROM {name})" for name in NUMBERED]
)
# The tables whose ids the database numbers when a row comes without one (a serial on
# PostgreSQL, the rowid on SQLite).
SERIAL = ("project", "label", "task", "status_change")
PROJECTS_SQL = "SELECT id, name FROM project"
WORKERS_SQL = "SELECT id, name FROM worker"
LABELS_SQL = "SELECT id, name FROM label"


@dataclass
class Existing:
    """What the database held when the write transaction started (after a reset: nothing)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    max_task_id: int = 0
    max_project_id: int = 0
    max_label_id: int = 0
    projects: dict[str, int] = field(default_factory=dict)  # name -> id
    workers: dict[str, str] = field(default_factory=dict)  # id -> name
    labels: dict[str, int] = field(default_factory=dict)  # name -> id

    @property
    def empty(self) -> bool:
        return not any(self.counts.values())


BatchFactory = Callable[[Existing], Iterable[Batch]]


def existing_from(
    summary: Sequence[Any],
    projects: Sequence[Sequence[Any]],
    workers: Sequence[Sequence[Any]],
    labels: Sequence[Sequence[Any]],
) -> Existing:
    """:class:`Existing` from the rows of ``SUMMARY_SQL``, ``PROJECTS_SQL``, ``WORKERS_SQL``
    and ``LABELS_SQL``."""
    *counts, max_task_id, max_project_id, max_label_id = (int(v) for v in summary)
    return Existing(
        counts=dict(zip(TABLES, counts, strict=True)),
        max_task_id=max_task_id,
        max_project_id=max_project_id,
        max_label_id=max_label_id,
        projects={name: int(pid) for pid, name in projects},
        workers={wid: name for wid, name in workers},
        labels={name: int(lid) for lid, name in labels},
    )


def sqlite_ready(table: pa.Table) -> pa.Table:
    """Timestamps as the text SQLAlchemy's SQLite dialect stores (UTC, fixed width)."""
    for i, column in enumerate(table.schema):
        if pa.types.is_timestamp(column.type):
            # A cast to naive UTC and then to text gives exactly that format, 10x faster
            # than strftime.
            as_text = table.column(i).cast(pa.timestamp("us", "UTC")).cast(pa.timestamp("us"))
            as_text = as_text.cast(pa.string())
            table = table.set_column(i, column.name, as_text)
    return table


def count_written(written: dict[str, int], name: str, rows: int, bar: Any) -> None:
    """Add ``rows`` of table ``name`` to ``written``; the progress bar counts tasks."""
    written[name] = written.get(name, 0) + rows
    if name == "task":
        bar.update(rows)


def insert_sql(name: str, table: pa.Table) -> str:
    """The ``INSERT`` of ``table``'s rows into table ``name`` (qmark parameters)."""
    return (
        f"INSERT INTO {name} ({', '.join(table.column_names)}) "
        f"VALUES ({', '.join('?' * table.num_columns)})"
    )


def records(table: pa.Table) -> Iterator[tuple[Any, ...]]:
    """``table``'s rows as tuples, for ``executemany``."""
    return zip(*(column.to_pylist() for column in table.columns), strict=True)


async def prepared_ahead(
    batches: Iterable[Batch], prepare: Callable[[str, pa.Table], T]
) -> AsyncGenerator[T, None]:
    """``prepare(name, table)`` of each batch, generated and prepared in a thread (CPU work: the
    event loop, a notebook's, stays responsive) while the caller writes the one before.

    Use it inside ``contextlib.aclosing``: after an error, the batch still being prepared is
    waited for (a thread cannot be stopped) and dropped.
    """
    items = iter(batches)

    def step() -> T | None:
        item = next(items, None)
        return None if item is None else prepare(*item)

    upcoming = asyncio.ensure_future(asyncio.to_thread(step))
    try:
        while (ready := await upcoming) is not None:
            upcoming = asyncio.ensure_future(asyncio.to_thread(step))
            yield ready
    finally:
        await asyncio.wait([upcoming])
        if not upcoming.cancelled():
            upcoming.exception()  # retrieved: an error there is not the one to report
