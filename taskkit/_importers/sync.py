"""Re-imports: tasks that carry a tracker key already in the database are updated, not added.

A first import (no key of the file in the database) takes the bulk path like any load. When
some keys are already there, the write runs on the engine's own connection in one transaction:
the tasks with a known key are updated in place (their worker links replaced), the others
inserted, so nothing is duplicated and a refused import stores nothing.
"""

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taskkit._bulk import PROJECTS_SQL, SUMMARY_SQL, TABLES, WORKERS_SQL, Batch, Existing
from taskkit._db import write_transaction
from taskkit._db_errors import what_went_wrong
from taskkit._errors import BulkWriteError
from taskkit._models import Task, TaskWorkerLink

__all__ = ["CURRENT_COLUMNS", "KeyedFactory", "known_keys", "write_keyed"]

CHUNK = 500  # keys per IN list (SQLite allows 32,766 parameters; PostgreSQL 65,535)
CURRENT_COLUMNS = (
    "id", "key", "title", "description", "status", "priority", "project_id",
    "created_at", "updated_at", "completed_at",
)  # fmt: skip
KeyedFactory = Callable[[Existing, pd.DataFrame, pd.DataFrame], Iterable[Batch]]
_task = Task.__table__  # type: ignore[attr-defined]
_link = TaskWorkerLink.__table__  # type: ignore[attr-defined]


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


async def _current(conn: AsyncConnection, keys: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    tasks: list[Any] = []
    links: list[Any] = []
    columns = [_task.c[name] for name in CURRENT_COLUMNS]
    for part in _chunks(keys):
        tasks.extend((await conn.execute(select(*columns).where(_task.c.key.in_(part)))).all())
    frame = pd.DataFrame([tuple(r) for r in tasks], columns=list(CURRENT_COLUMNS))
    for part in _chunks([int(i) for i in frame["id"]]):
        links.extend(
            (
                await conn.execute(
                    select(_link.c.task_id, _link.c.worker_id).where(_link.c.task_id.in_(part))
                )
            ).all()
        )
    return frame, pd.DataFrame([tuple(r) for r in links], columns=["task_id", "worker_id"])


async def write_keyed(
    engine: AsyncEngine, keys: list[str], make_batches: KeyedFactory
) -> dict[str, int]:
    """Write ``make_batches(existing, current_tasks, current_links)`` in one transaction: task
    rows whose id is one of ``current_tasks`` update it (and replace its links), the others
    are inserted. Returns rows per table (``task_updated`` for updates)."""
    written: dict[str, int] = {}
    try:
        async with write_transaction(engine) as conn:  # SQLite: the write lock from the start
            if engine.dialect.name == "postgresql":
                await conn.exec_driver_sql(f"LOCK TABLE {', '.join(TABLES)} IN EXCLUSIVE MODE")
            existing = await _existing(conn)
            current, links = await _current(conn, keys)
            known = set(current["id"].tolist())
            for name, table in make_batches(existing, current, links):
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
                await conn.exec_driver_sql(
                    "SELECT setval(pg_get_serial_sequence('task', 'id'), "
                    "coalesce((SELECT max(id) FROM task), 0) + 1, false)"
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


def _table(name: str) -> Any:
    from sqlmodel import SQLModel

    return SQLModel.metadata.tables[name]


async def _existing(conn: AsyncConnection) -> Existing:
    async def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]

    *counts, max_task_id, max_project_id = (int(v) for v in (await rows(SUMMARY_SQL))[0])
    return Existing(
        counts=dict(zip(TABLES, counts, strict=True)),
        max_task_id=max_task_id,
        max_project_id=max_project_id,
        projects={name: int(pid) for pid, name in await rows(PROJECTS_SQL)},
        workers={wid: name for wid, name in await rows(WORKERS_SQL)},
    )
