"""Re-imports: tasks that carry a tracker key already in the database are updated, not added.

A first import (no key of the file in the database) takes the bulk path like any load. When
some keys are already there, the write runs on the engine's own connection in one transaction:
the tasks with a known key are updated in place (their worker links replaced), the others
inserted, so nothing is duplicated and a refused import stores nothing.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taskkit._bulk_parts import (
    LABELS_SQL,
    NUMBERED,
    PROJECTS_SQL,
    SUMMARY_SQL,
    TABLES,
    WORKERS_SQL,
    Batch,
    Existing,
    existing_from,
)
from taskkit._database.engine import write_transaction
from taskkit._database.messages import what_went_wrong
from taskkit._errors import BulkWriteError
from taskkit._models import Label, StatusChange, Task, TaskLabelLink, TaskWorkerLink

__all__ = [
    "CURRENT_COLUMNS",
    "KeyedFactory",
    "Stored",
    "known_keys",
    "matching_tasks",
    "write_keyed",
]

CHUNK = 500  # keys per IN list (SQLite allows 32,766 parameters; PostgreSQL 65,535)
WHOLE_TABLE = 20_000  # tasks above which their links and history are read in one pass
CURRENT_COLUMNS = (
    "id", "key", "title", "description", "status", "priority", "project_id",
    "created_at", "updated_at", "completed_at", "resolution", "started_at", "kind",
)  # fmt: skip
_task = Task.__table__  # type: ignore[attr-defined]
_link = TaskWorkerLink.__table__  # type: ignore[attr-defined]
_label_link = TaskLabelLink.__table__  # type: ignore[attr-defined]
_label = Label.__table__  # type: ignore[attr-defined]
_history = StatusChange.__table__  # type: ignore[attr-defined]


@dataclass
class Stored:
    """What the database holds for the tasks whose keys a re-import names."""

    tasks: pd.DataFrame  # CURRENT_COLUMNS
    workers: pd.DataFrame  # task_id, worker_id
    labels: pd.DataFrame  # task_id, name
    last_change: pd.DataFrame  # task_id, changed_at, to_status: each task's latest history row


KeyedFactory = Callable[[Existing, Stored], Iterable[Batch]]


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


async def known_keys(engine: AsyncEngine, keys: list[str]) -> int:
    """How many of ``keys`` tasks in the database already have."""
    found = 0
    async with engine.connect() as conn:
        # A first import (no task has a key yet) needs no lookup per key.
        if (
            await conn.execute(select(_task.c.id).where(_task.c.key.is_not(None)).limit(1))
        ).first() is None:
            return 0
        for part in _chunks(keys):
            result = await conn.execute(select(_task.c.key).where(_task.c.key.in_(part)))
            found += len(result.all())
    return found


async def matching_tasks(
    engine: AsyncEngine, titles: list[str], created: list[Any], descriptions: list[Any]
) -> list[bool]:
    """For each row (title, created_at or None, description), whether a stored task has the
    same title and created_at, or, where the row gives no created_at, the same title and
    description: the row was probably imported before."""
    by_created: set[tuple[Any, Any]] = set()
    by_text: set[tuple[Any, Any]] = set()
    async with engine.connect() as conn:
        if (await conn.execute(select(_task.c.id).limit(1))).first() is None:
            return [False] * len(titles)
        for part in _chunks(sorted(set(titles))):
            stored = await conn.execute(
                select(_task.c.title, _task.c.created_at, _task.c.description).where(
                    _task.c.title.in_(part)
                )
            )
            for title, at, text in stored:
                by_created.add((title, pd.Timestamp(at).tz_convert("UTC")))
                by_text.add((title, text))
    return [
        (title, at) in by_created if at is not None else (title, text) in by_text
        for title, at, text in zip(titles, created, descriptions, strict=True)
    ]


async def _current(conn: AsyncConnection, keys: list[str]) -> Stored:
    tasks: list[Any] = []
    columns = [_task.c[name] for name in CURRENT_COLUMNS]
    for part in _chunks(keys):
        tasks.extend((await conn.execute(select(*columns).where(_task.c.key.in_(part)))).all())
    frame = pd.DataFrame([tuple(r) for r in tasks], columns=list(CURRENT_COLUMNS))
    ids = [int(i) for i in frame["id"]]
    workers: list[Any] = []
    labels: list[Any] = []
    changes: list[Any] = []
    if len(ids) > WHOLE_TABLE:
        # Most of a big table: one pass over the keyed tasks' rows beats thousands of IN
        # lists; the timestamps come as the driver gives them and are parsed in bulk.
        keyed = "(SELECT id FROM task WHERE key IS NOT NULL)"
        wanted = set(ids)
        for sql, out in (
            (f"SELECT task_id, worker_id FROM taskworkerlink WHERE task_id IN {keyed}", workers),
            ("SELECT l.task_id, n.name FROM task_label_link l JOIN label n ON n.id = l.label_id "
             f"WHERE l.task_id IN {keyed}", labels),
            ("SELECT task_id, changed_at, to_status, id FROM status_change "
             f"WHERE task_id IN {keyed}", changes),
        ):  # fmt: skip
            rows = (await conn.exec_driver_sql(sql)).all()
            out.extend(r for r in rows if r[0] in wanted)
    else:
        for part in _chunks(ids):
            workers.extend((await conn.execute(
                select(_link.c.task_id, _link.c.worker_id).where(_link.c.task_id.in_(part))
            )).all())  # fmt: skip
            labels.extend((await conn.execute(
                select(_label_link.c.task_id, _label.c.name)
                .join(_label, _label.c.id == _label_link.c.label_id)
                .where(_label_link.c.task_id.in_(part))
            )).all())  # fmt: skip
            changes.extend((await conn.execute(
                select(_history.c.task_id, _history.c.changed_at, _history.c.to_status,
                       _history.c.id)
                .where(_history.c.task_id.in_(part))
            )).all())  # fmt: skip
    history = pd.DataFrame(
        [tuple(r) for r in changes], columns=["task_id", "changed_at", "to_status", "id"]
    )
    history["changed_at"] = pd.to_datetime(history["changed_at"], utc=True, format="ISO8601")
    history["to_status"] = history["to_status"].astype(object).map(str)
    history = history.sort_values(["task_id", "changed_at", "id"])
    return Stored(
        tasks=frame,
        workers=pd.DataFrame([tuple(r) for r in workers], columns=["task_id", "worker_id"]),
        labels=pd.DataFrame([tuple(r) for r in labels], columns=["task_id", "name"]),
        last_change=history.drop_duplicates("task_id", keep="last")[
            ["task_id", "changed_at", "to_status"]
        ],
    )


async def write_keyed(
    engine: AsyncEngine, keys: list[str], make_batches: KeyedFactory
) -> dict[str, int]:
    """Write ``make_batches(existing, stored)`` in one transaction: task rows whose id is one
    of ``stored.tasks`` update it (and replace its worker and label links), the others are
    inserted, and so is every other row (history is only ever appended). Returns rows per
    table (``task_updated`` for updates)."""
    written: dict[str, int] = {}
    try:
        async with write_transaction(engine) as conn:  # SQLite: the write lock from the start
            if engine.dialect.name == "postgresql":
                await conn.exec_driver_sql(f"LOCK TABLE {', '.join(TABLES)} IN EXCLUSIVE MODE")
            existing = await _existing(conn)
            stored = await _current(conn, keys)
            known = set(stored.tasks["id"].tolist())
            for name, table in make_batches(existing, stored):
                records = table.to_pylist()
                if name == "task":
                    old = [r for r in records if r["id"] in known]
                    new = [r for r in records if r["id"] not in known]
                    if old:
                        await _update(conn, old)
                    if new:
                        await conn.execute(insert(_task), new)
                    written["task"] = written.get("task", 0) + len(new)
                    written["task_updated"] = written.get("task_updated", 0) + len(old)
                elif records:
                    await conn.execute(insert(_table(name)), records)
                    written[name] = written.get(name, 0) + len(records)
            if engine.dialect.name == "postgresql":
                for name in NUMBERED:
                    await conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"coalesce((SELECT max(id) FROM {name}), 0) + 1, false)"
                    )
    except BulkWriteError:
        raise
    except Exception as exc:
        if type(exc).__module__.startswith(("sqlalchemy", "asyncpg", "sqlite3")):
            reason = what_went_wrong(exc, engine.url)
            raise BulkWriteError(
                f"the database refused the write, nothing was stored: {reason}"
            ) from exc
        raise
    return written


async def _update(conn: AsyncConnection, records: list[dict[str, Any]]) -> None:
    fields = [c for c in records[0] if c != "id"]
    statement = (
        update(_task)
        .where(_task.c.id == bindparam("task_id"))
        .values({name: bindparam(f"new_{name}") for name in fields})
    )
    await conn.execute(
        statement,
        [{"task_id": r["id"], **{f"new_{n}": r[n] for n in fields}} for r in records],
    )
    ids = [r["id"] for r in records]
    for part in _chunks(ids):
        await conn.execute(delete(_link).where(_link.c.task_id.in_(part)))
        await conn.execute(delete(_label_link).where(_label_link.c.task_id.in_(part)))


def _table(name: str) -> Any:
    from sqlmodel import SQLModel

    return SQLModel.metadata.tables[name]


async def _existing(conn: AsyncConnection) -> Existing:
    async def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]

    return existing_from(
        (await rows(SUMMARY_SQL))[0],
        await rows(PROJECTS_SQL),
        await rows(WORKERS_SQL),
        await rows(LABELS_SQL),
    )
