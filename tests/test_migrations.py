"""Migrations: revisions build what the models declare, keep data, and fail without a trace.

Every test gets its own empty database: a temporary SQLite file, or on PostgreSQL a database
created here (``CREATE DATABASE`` through the test server's URL) and dropped at the end, so the
shared test database that the other modules use is never touched.
"""

import asyncio
import hashlib
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import taskkit
import taskkit._migrate as migrate
from taskkit import MigrationError, Project, Task, TaskWorkerLink, Worker, cli
from taskkit._migrate import revisions
from tests.conftest import POSTGRES, postgres_url

NewEngine = Callable[[], Awaitable[AsyncEngine]]

HEAD = "0006"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
# Columns of revision 0001's task table (everything but completed_at, key and 0005's columns).
LATER_TASK_COLUMNS = ("completed_at", "key", "resolution", "started_at", "kind")
TASK_0001 = [c for c in Task.__table__.c if c.name not in LATER_TASK_COLUMNS]  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def new_engine(backend: str, tmp_path: Path) -> AsyncIterator[NewEngine]:
    """A factory of engines, each on a new empty database of ``backend``."""
    engines: list[AsyncEngine] = []
    databases: list[str] = []
    admin = taskkit.connect(postgres_url()) if backend == "postgresql" else None

    async def make() -> AsyncEngine:
        if admin is None:
            url = f"sqlite:///{tmp_path / f'db{len(engines)}.db'}"
        else:
            name = f"taskkit_migrations_{uuid4().hex[:12]}"
            async with admin.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            databases.append(name)
            url = make_url(taskkit.database_url(postgres_url())).set(database=name)
        engine = taskkit.connect(url)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        await engine.dispose()
    if admin is not None:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for name in databases:
                await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


@pytest.fixture
async def engine(new_engine: NewEngine) -> AsyncEngine:
    return await new_engine()


# ---------------------------------------------------------------------------------------------
# Helpers: the schema by reflection, rows, a copy of the migrations with an extra revision.


def _reflect(conn: Connection) -> dict[str, Any]:
    inspector = inspect(conn)
    schema: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        if table == migrate.VERSION_TABLE:
            continue
        schema[table] = {
            "columns": [
                (c["name"], str(c["type"].compile(conn.dialect)), c["nullable"], c["default"])
                for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "unique_constraints": sorted(
                (u["name"], tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
            "foreign_keys": sorted(
                (
                    tuple(f["constrained_columns"]),
                    f["referred_table"],
                    tuple(f["referred_columns"]),
                    f["options"].get("ondelete"),
                )
                for f in inspector.get_foreign_keys(table)
            ),
            "checks": sorted(
                (c["name"], c["sqltext"]) for c in inspector.get_check_constraints(table)
            ),
            "options": inspector.get_table_options(table),
        }
    return schema


async def reflect(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        return await conn.run_sync(_reflect)


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))


async def version_rows(engine: AsyncEngine) -> list[str] | None:
    """What alembic_version holds, or None when the table does not exist."""
    if migrate.VERSION_TABLE not in await table_names(engine):
        return None
    async with engine.connect() as conn:
        return list((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())


async def rows(engine: AsyncEngine) -> dict[str, list[tuple]]:
    """Every row of the 0001 tables (task without completed_at), in primary-key order."""
    out = {}
    async with engine.connect() as conn:
        for name, columns in [
            ("project", list(Project.__table__.c)),  # type: ignore[attr-defined]
            ("worker", list(Worker.__table__.c)),  # type: ignore[attr-defined]
            ("task", TASK_0001),
            ("taskworkerlink", list(TaskWorkerLink.__table__.c)),  # type: ignore[attr-defined]
        ]:
            keys = [c for c in columns if c.primary_key]
            result = await conn.execute(select(*columns).order_by(*keys))
            out[name] = [tuple(r) for r in result]
    return out


async def insert_0001_data(engine: AsyncEngine) -> None:
    """Projects, workers, tasks in every status and links, into a database at revision 0001."""
    async with engine.begin() as conn:
        await conn.execute(insert(Project.__table__), [{"id": 1, "name": "Apollo"}])  # type: ignore[attr-defined]
        await conn.execute(
            insert(Worker.__table__),  # type: ignore[attr-defined]
            [{"id": "w-1", "name": "Ann"}, {"id": "w-2", "name": "Bo"}],
        )
        tasks = [
            (1, "Plan", "completed", "high", 1),
            (2, "Build", "in_progress", "medium", None),
            (3, "Ship", "pending", "low", 1),
            (4, "Review", "completed", "low", None),
        ]
        await conn.execute(
            insert(Task.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": task_id,
                    "title": title,
                    "description": f"step {task_id}" if task_id % 2 else None,
                    "status": status,
                    "priority": priority,
                    "project_id": project_id,
                    "created_at": T0 + timedelta(days=task_id),
                    "updated_at": T0 + timedelta(days=task_id, hours=task_id),
                }
                for task_id, title, status, priority, project_id in tasks
            ],
        )
        await conn.execute(
            insert(TaskWorkerLink.__table__),  # type: ignore[attr-defined]
            [
                {"task_id": 1, "worker_id": "w-1"},
                {"task_id": 2, "worker_id": "w-1"},
                {"task_id": 2, "worker_id": "w-2"},
                {"task_id": 4, "worker_id": "w-2"},
            ],
        )
        if conn.dialect.name == "postgresql":
            # Explicit ids do not move the sequences: later inserts would collide.
            for table in ("project", "task"):
                await conn.execute(
                    text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
                )


def migrations_with(tmp_path: Path, name: str, source: str) -> Path:
    """A copy of taskkit's migrations with one more revision file."""
    location = tmp_path / "migrations"
    shutil.copytree(
        revisions.SCRIPT_LOCATION, location, ignore=shutil.ignore_patterns("__pycache__")
    )
    (location / "versions" / name).write_text(source, encoding="utf-8")
    return location


FAILING_0007 = '''"""a revision that fails half-way

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("scratch", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_index("ix_task_status_priority", "task", ["status", "priority"])
    op.add_column("project", sa.Column("colour", sa.String(20)))
    with op.batch_alter_table("task") as batch:  # a table rebuild on SQLite
        batch.drop_constraint("ck_task_title", type_="check")
    FAIL


def downgrade() -> None:
    raise NotImplementedError
'''


# ---------------------------------------------------------------------------------------------
# Revisions against the models.


async def test_upgrade_from_empty_to_head_gives_the_schema_create_all_gives(
    new_engine: NewEngine,
):
    migrated, created = await new_engine(), await new_engine()
    assert await taskkit.upgrade_schema(migrated) == HEAD
    await taskkit.create_db_and_tables(created)
    expected = await reflect(created)
    assert set(expected) == {
        "label", "project", "status_change", "task", "task_label_link", "taskworkerlink", "worker"
    }  # fmt: skip
    assert await reflect(migrated) == expected


async def test_autogenerate_finds_no_difference_at_head(engine: AsyncEngine):
    await taskkit.upgrade_schema(engine)

    def diffs(conn: Connection) -> list:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with engine.connect() as conn:
        assert await conn.run_sync(diffs) == []
    await taskkit.check_schema(engine)  # also compares CHECK constraints by name


async def test_downgrade_to_base_removes_every_table(engine: AsyncEngine):
    await taskkit.upgrade_schema(engine)
    assert await taskkit.downgrade_schema(engine, "base") is None
    assert await table_names(engine) == {"alembic_version"}
    assert await version_rows(engine) == []
    assert await taskkit.schema_revision(engine) is None


async def test_base_to_head_again_gives_the_same_schema(engine: AsyncEngine):
    await taskkit.upgrade_schema(engine)
    first = await reflect(engine)
    await taskkit.downgrade_schema(engine, "base")
    await taskkit.upgrade_schema(engine)
    assert await reflect(engine) == first
    await taskkit.check_schema(engine)


async def test_revision_0001_is_the_schema_without_completed_at(engine: AsyncEngine):
    await taskkit.upgrade_schema(engine, "0001")
    schema = await reflect(engine)
    assert "completed_at" not in [c[0] for c in schema["task"]["columns"]]
    assert "ix_task_completed_at" not in [i[0] for i in schema["task"]["indexes"]]
    assert [c[0] for c in schema["task"]["checks"]] == [
        "ck_task_description",
        "ck_task_priority",
        "ck_task_status",
        "ck_task_title",
        "ck_task_updated_after_created",
    ]
    assert (("project_id",), "project", ("id",), "SET NULL") in schema["task"]["foreign_keys"]
    links = schema["taskworkerlink"]["foreign_keys"]
    assert [fk[3] for fk in links] == ["CASCADE", "CASCADE"]


async def test_revision_0002_sets_completed_at_from_updated_at_and_keeps_every_row(
    engine: AsyncEngine,
):
    await taskkit.upgrade_schema(engine, "0001")
    await insert_0001_data(engine)
    before = await rows(engine)

    await taskkit.upgrade_schema(engine, "0002")

    # Nothing lost, links included (on SQLite the task table is rebuilt for the new CHECK).
    assert await rows(engine) == before
    async with engine.connect() as conn:
        result = await conn.execute(
            select(Task.id, Task.status, Task.updated_at, Task.completed_at).order_by(Task.id)
        )
        for task_id, status, updated_at, completed_at in result:
            expected = updated_at if status == "completed" else None
            assert completed_at == expected, task_id


@pytest.mark.parametrize(
    ("before", "after"),
    [("0001", "0002"), ("0002", "0003"), ("0003", "0004"), ("0004", "0005"), ("0005", "0006")],
)
async def test_each_revision_keeps_every_row_and_downgrades_to_the_same_schema(
    engine: AsyncEngine, before: str, after: str
):
    await taskkit.upgrade_schema(engine, "0001")
    await insert_0001_data(engine)
    await taskkit.upgrade_schema(engine, before)
    data, schema = await rows(engine), await reflect(engine)

    await taskkit.upgrade_schema(engine, after)
    assert await rows(engine) == data  # links included: SQLite rebuilds tables for both
    assert await reflect(engine) != schema

    await taskkit.downgrade_schema(engine, before)
    assert await rows(engine) == data
    assert await reflect(engine) == schema


async def _insert_many_0004_tasks(engine: AsyncEngine, n: int = 500) -> None:
    """Tasks in every status at a database at 0004: microsecond timestamps, keys, long text
    at 0004's limits, NULLs, links; the rows a real 0004 database holds."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO task (id, title, description, status, priority, project_id, "
                "created_at, updated_at, completed_at, key) VALUES (:id, :title, :description, "
                ":status, :priority, :project_id, :created_at, :updated_at, :completed_at, :key)"
            ),
            [
                {
                    "id": 100 + i,
                    "title": ("é" * 200) if i % 97 == 0 else f"task {i} ✓",
                    "description": ("d" * 10_000) if i % 89 == 0 else (None if i % 3 else "x"),
                    "status": ("pending", "in_progress", "completed")[i % 3],
                    "priority": ("low", "medium", "high")[i % 3 - 1],
                    "project_id": 1 if i % 2 else None,
                    "created_at": T0 + timedelta(days=i, microseconds=i * 7),
                    "updated_at": T0 + timedelta(days=i + 1, microseconds=i * 11),
                    "completed_at": (
                        T0 + timedelta(days=i + 1, microseconds=i * 11) if i % 3 == 2 else None
                    ),
                    "key": f"K-{i}" if i % 5 else None,
                }
                for i in range(n)
            ],
        )
        await conn.execute(
            text("INSERT INTO taskworkerlink (task_id, worker_id) VALUES (:t, :w)"),
            [{"t": 100 + i, "w": ("w-1", "w-2")[i % 2]} for i in range(0, n, 4)],
        )


async def _fingerprint(engine: AsyncEngine, tables: dict[str, str]) -> str:
    """A SHA-256 of every row of ``tables`` (name -> ORDER BY), values as Python reads them."""
    digest = hashlib.sha256()
    async with engine.connect() as conn:
        for table, order in tables.items():
            found = await conn.run_sync(lambda c, t=table: inspect(c).get_columns(t))
            columns = [c["name"] for c in found]
            if table == "task":
                columns = [c for c in columns if c not in ("resolution", "started_at", "kind")]
            result = await conn.execute(
                text(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
            )
            for row in result:
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


TABLES_0004 = {
    "project": "id", "worker": "id", "task": "id", "taskworkerlink": "task_id, worker_id"
}  # fmt: skip


async def test_revision_0005_keeps_every_row_link_and_timestamp_by_hash_and_back(
    engine: AsyncEngine,
):
    await taskkit.upgrade_schema(engine, "0001")
    await insert_0001_data(engine)
    await taskkit.upgrade_schema(engine, "0004")
    await _insert_many_0004_tasks(engine)
    before, schema = await _fingerprint(engine, TABLES_0004), await reflect(engine)

    await taskkit.upgrade_schema(engine, "0005")
    assert await _fingerprint(engine, TABLES_0004) == before
    async with engine.connect() as conn:
        resolutions = (
            await conn.execute(
                text("SELECT status, resolution, count(*), count(started_at), count(kind) "
                     "FROM task GROUP BY status, resolution ORDER BY status")
            )
        ).all()  # fmt: skip
        new_rows = [
            (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one()
            for t in ("label", "task_label_link", "status_change")
        ]
    # The earlier schema called every closed task completed: they become done, counted; no
    # start, kind, label or history is invented.
    assert resolutions == [
        ("completed", "done", 168, 0, 0),
        ("in_progress", None, 168, 0, 0),
        ("pending", None, 168, 0, 0),
    ]
    assert new_rows == [0, 0, 0]

    await taskkit.downgrade_schema(engine, "0004")
    assert await _fingerprint(engine, TABLES_0004) == before
    assert await reflect(engine) == schema


async def test_downgrade_below_0005_is_refused_while_text_is_longer_than_0004_holds(
    engine: AsyncEngine,
):
    await taskkit.upgrade_schema(engine)
    async with taskkit.session(engine) as s:
        await taskkit.create_task(s, {"title": "t" * 300})
        await taskkit.create_task(s, {"title": "short", "description": "d" * 20_000})
    schema, data = await reflect(engine), await _fingerprint(engine, TABLES_0004)

    with pytest.raises(MigrationError) as refused:
        await taskkit.downgrade_schema(engine, "0004")

    message = str(refused.value)
    assert "1 task title(s) are longer than 200 characters" in message
    assert "1 description(s) longer than 10,000" in message
    assert "nothing was changed" in message or "unchanged" in message
    assert await reflect(engine) == schema
    assert await _fingerprint(engine, TABLES_0004) == data
    assert await version_rows(engine) == [HEAD]


async def test_revision_0002_check_holds_after_upgrade(engine: AsyncEngine):
    await taskkit.upgrade_schema(engine)
    async with taskkit.session(engine) as s:
        task = await taskkit.create_task(s, {"title": "x", "status": "completed"})
    with pytest.raises(IntegrityError, match=r"ck_task_completed_at|CHECK constraint failed"):
        async with engine.begin() as conn:
            await conn.execute(text(f"UPDATE task SET completed_at = NULL WHERE id = {task.id}"))


async def test_downgrade_to_0001_removes_completed_at_and_keeps_the_other_data(
    engine: AsyncEngine,
):
    await taskkit.upgrade_schema(engine, "0001")
    await insert_0001_data(engine)
    before = await rows(engine)
    schema_0001 = await reflect(engine)
    await taskkit.upgrade_schema(engine)

    assert await taskkit.downgrade_schema(engine, "0001") == "0001"

    assert await rows(engine) == before
    assert await reflect(engine) == schema_0001
    async with taskkit.session(engine) as s:  # the CHECK went with the column
        await s.exec(text("UPDATE task SET status = 'completed' WHERE id = 2"))  # type: ignore[call-overload]
        await s.commit()


async def test_sqlite_foreign_keys_are_on_again_after_a_migration(tmp_path: Path):
    engine = taskkit.connect("sqlite+aiosqlite://")  # one shared connection: the one migrated
    try:
        await taskkit.upgrade_schema(engine)
        await taskkit.downgrade_schema(engine, "0001")
        await taskkit.upgrade_schema(engine)
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------------------------------
# Failures change nothing.


FAILURES = {
    "sql": ('op.execute("UPDATE task SET title = no_such_column")', "no_such_column"),
    "python": ('raise RuntimeError("a bug in the revision")', "RuntimeError: a bug in"),
}


def failing(tmp_path: Path, kind: str = "sql") -> Path:
    return migrations_with(
        tmp_path, "0007_fails.py", FAILING_0007.replace("FAIL", FAILURES[kind][0])
    )


@pytest.mark.parametrize("kind", FAILURES)
async def test_a_failing_revision_leaves_nothing_half_applied(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
):
    await taskkit.upgrade_schema(engine, "0001")
    await insert_0001_data(engine)
    await taskkit.upgrade_schema(engine)
    schema, data = await reflect(engine), await rows(engine)
    monkeypatch.setattr(revisions, "SCRIPT_LOCATION", failing(tmp_path, kind))

    with pytest.raises(MigrationError) as failed:
        await taskkit.upgrade_schema(engine)

    message = str(failed.value)
    assert "failed in revision 0007" in message
    assert FAILURES[kind][1] in message
    assert "the database is unchanged" in message
    assert await reflect(engine) == schema  # no scratch table, index, column; CHECK still there
    assert await version_rows(engine) == [HEAD]
    assert await rows(engine) == data


async def test_a_failing_upgrade_from_empty_leaves_the_database_empty(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(revisions, "SCRIPT_LOCATION", failing(tmp_path))
    with pytest.raises(MigrationError, match="failed in revision 0007"):
        await taskkit.upgrade_schema(engine)
    # 0001 to 0006 succeeded, but the command runs in one transaction: nothing stays.
    assert await table_names(engine) == set()


async def test_downgrade_to_an_unknown_revision_is_refused_and_changes_nothing(
    engine: AsyncEngine,
):
    await taskkit.upgrade_schema(engine)
    schema = await reflect(engine)
    with pytest.raises(MigrationError) as refused:
        await taskkit.downgrade_schema(engine, "9999")
    assert str(refused.value) == (
        "revision '9999' does not exist; known revisions: base, 0001 'initial schema', "
        "0002 'task.completed_at, for cycle time', 0003 'CHECKs as OR chains, a (status, "
        "created_at) index, link table WITHOUT ROWID on SQLite', 0004 'task.key, the key a tracker "
        "gives a task (unique, nullable)', 0005 'Real work, faithfully: longer text, resolution, "
        "started_at, kind, labels, status history', 0006 'the finished-work index also holds "
        "started_at, for cycle time' (head)"
    )
    assert await reflect(engine) == schema
    assert await version_rows(engine) == [HEAD]


async def test_downgrade_to_a_revision_above_the_current_one_is_refused(engine: AsyncEngine):
    await taskkit.upgrade_schema(engine, "0001")
    with pytest.raises(MigrationError, match="cannot downgrade to 'head'"):
        await taskkit.downgrade_schema(engine, "head")
    assert await version_rows(engine) == ["0001"]


async def test_upgrade_of_a_database_created_outside_migrations_is_refused(engine: AsyncEngine):
    await taskkit.create_db_and_tables(engine)
    async with taskkit.session(engine) as s:
        await taskkit.create_project(s, {"name": "Kept"})
    schema = await reflect(engine)

    for attempt in (taskkit.upgrade_schema, taskkit.ensure_schema):
        with pytest.raises(MigrationError) as refused:
            await attempt(engine)
        message = str(refused.value)
        assert (
            "has taskkit tables (label, project, status_change, task, task_label_link, "
            "taskworkerlink, worker)" in message
        )
        assert "created outside migrations" in message
        assert "taskkit db stamp head" in message
        assert "nothing was changed" in message

    assert await reflect(engine) == schema
    assert await version_rows(engine) is None  # not even an empty alembic_version
    async with taskkit.session(engine) as s:
        assert (await taskkit.get_project(s, 1)).name == "Kept"


async def test_a_database_at_a_revision_taskkit_does_not_know_is_refused(engine: AsyncEngine):
    await taskkit.upgrade_schema(engine)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    for attempt in (taskkit.upgrade_schema, taskkit.ensure_schema, taskkit.check_schema):
        with pytest.raises(MigrationError, match="at revision 'f00d', which this version"):
            await attempt(engine)
    assert await version_rows(engine) == ["f00d"]


# ---------------------------------------------------------------------------------------------
# ensure_schema, stamp_schema, check_schema, schema_history.


async def test_ensure_schema_creates_an_empty_database_at_head(engine: AsyncEngine):
    assert await taskkit.ensure_schema(engine) == HEAD
    assert await taskkit.ensure_schema(engine) == HEAD  # again: nothing to do
    await taskkit.check_schema(engine)


async def test_ensure_schema_upgrades_an_older_database_and_keeps_its_data(engine: AsyncEngine):
    await taskkit.upgrade_schema(engine, "0001")
    await insert_0001_data(engine)
    before = await rows(engine)
    assert await taskkit.ensure_schema(engine) == HEAD
    assert await rows(engine) == before


async def test_concurrent_ensure_schema_calls_both_succeed(new_engine: NewEngine):
    first = await new_engine()
    second = taskkit.connect(first.url)
    try:
        assert await asyncio.gather(
            taskkit.ensure_schema(first), taskkit.ensure_schema(second)
        ) == [HEAD, HEAD]
    finally:
        await second.dispose()
    await taskkit.check_schema(first)


async def test_stamp_head_adopts_a_database_that_matches_the_models(engine: AsyncEngine):
    await taskkit.create_db_and_tables(engine)
    with pytest.raises(
        MigrationError, match="its schema matches the models: run `taskkit db stamp"
    ):
        await taskkit.check_schema(engine)
    await taskkit.stamp_schema(engine, "head")
    assert await taskkit.schema_revision(engine) == HEAD
    await taskkit.check_schema(engine)
    assert await taskkit.ensure_schema(engine) == HEAD


async def test_stamp_head_refuses_a_database_that_differs_from_the_models(engine: AsyncEngine):
    await taskkit.create_db_and_tables(engine)
    async with engine.begin() as conn:
        await conn.execute(text("DROP INDEX ix_task_title"))
    with pytest.raises(MigrationError) as refused:
        await taskkit.stamp_schema(engine, "head")
    assert "index ix_task_title on task(title) is missing" in str(refused.value)
    assert await version_rows(engine) is None


async def test_check_reports_a_database_behind_head(engine: AsyncEngine):
    await taskkit.upgrade_schema(engine, "0001")
    with pytest.raises(MigrationError, match=f"is at revision 0001, head is {HEAD}"):
        await taskkit.check_schema(engine)


async def test_check_reports_each_kind_of_drift(engine: AsyncEngine):
    await taskkit.upgrade_schema(engine)
    async with engine.begin() as conn:
        await conn.execute(text("DROP INDEX ix_task_title"))
        await conn.execute(text("CREATE INDEX ix_extra ON task (priority, status)"))
        await conn.execute(text("CREATE TABLE stray (id INTEGER PRIMARY KEY)"))
        await conn.execute(text("ALTER TABLE worker ADD COLUMN email VARCHAR(200)"))
    with pytest.raises(MigrationError) as drift:
        await taskkit.check_schema(engine)
    message = str(drift.value)
    for phrase in (
        "differs from the models",
        "index ix_task_title on task(title) is missing",
        "index ix_extra on task(priority, status) is not in the models",
        "table stray is not in the models",
        "column worker.email is not in the models",
    ):
        assert phrase in message


async def test_check_reports_a_missing_check_constraint(engine: AsyncEngine):
    await taskkit.upgrade_schema(engine)
    if engine.dialect.name == "sqlite":
        async with engine.begin() as conn:  # SQLite cannot drop a constraint: rebuild the table
            await conn.run_sync(_drop_sqlite_check, "worker", "ck_worker_name")
    else:
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE worker DROP CONSTRAINT ck_worker_name"))
    with pytest.raises(MigrationError, match="CHECK ck_worker_name on worker is missing"):
        await taskkit.check_schema(engine)


async def test_check_on_sqlite_compares_check_texts_and_without_rowid(tmp_path: Path):
    # SQLite keeps a CHECK's text verbatim, so a changed rule is visible in its text
    # (autogenerate compares none; PostgreSQL's rewritten texts: the test below).
    link_options = TaskWorkerLink.__table__.dialect_options["sqlite"]  # type: ignore[attr-defined]
    declared_rowid = link_options["with_rowid"] is not False
    engine = taskkit.connect(f"sqlite:///{tmp_path / 'texts.db'}")
    try:
        await taskkit.upgrade_schema(engine)
        async with engine.begin() as conn:
            await conn.run_sync(_replace_sqlite_check, "task", "ck_task_title", "length(title) > 0")
            await conn.run_sync(_rebuild_with_rowid, "taskworkerlink", not declared_rowid)
        with pytest.raises(MigrationError) as drift:
            await taskkit.check_schema(engine)
        message = str(drift.value)
        assert "CHECK ck_task_title on task is (length(title) > 0) in the database" in message
        kinds = {True: "a rowid table", False: "WITHOUT ROWID"}
        assert (
            f"table taskworkerlink is {kinds[not declared_rowid]} in the database, "
            f"{kinds[declared_rowid]} in the models"
        ) in message
    finally:
        await engine.dispose()


def _replace_sqlite_check(conn: Connection, table: str, name: str, sql: str) -> None:
    _drop_sqlite_check(conn, table, name)
    with _batch(conn, table) as batch:
        batch.create_check_constraint(name, text(sql))


def _rebuild_with_rowid(conn: Connection, table: str, with_rowid: bool) -> None:
    with _batch(conn, table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}):
        pass


def _batch(conn: Connection, table: str, **options: Any) -> Any:
    return Operations(MigrationContext.configure(conn)).batch_alter_table(table, **options)


def _drop_sqlite_check(conn: Connection, table: str, name: str) -> None:
    with _batch(conn, table) as batch:
        batch.drop_constraint(name, type_="check")


def test_history_lists_the_revisions_oldest_first():
    assert [(r.id, r.down_revision, r.is_head) for r in taskkit.schema_history()] == [
        ("0001", None, False),
        ("0002", "0001", False),
        ("0003", "0002", False),
        ("0004", "0003", False),
        ("0005", "0004", False),
        ("0006", "0005", True),
    ]


async def test_the_revision_template_imports_sqlmodel_for_autogenerated_types(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Autogenerate a revision from a copy with 0001 only: it adds task.completed_at, whose type
    # is sqlmodel.sql.sqltypes.UTCDateTime, a NameError unless the file imports sqlmodel.
    location = tmp_path / "migrations"
    shutil.copytree(
        revisions.SCRIPT_LOCATION, location, ignore=shutil.ignore_patterns("__pycache__")
    )
    for later in location.glob("versions/000[2-9]_*.py"):
        later.unlink()
    monkeypatch.setattr(revisions, "SCRIPT_LOCATION", location)
    await taskkit.upgrade_schema(engine)

    def autogenerate(conn: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(location))
        config.attributes["connection"] = conn
        command.revision(config, message="completed at", autogenerate=True, rev_id="0002")

    async with migrate.migration_transaction(engine) as conn:
        await conn.run_sync(autogenerate)
    source = next((location / "versions").glob("0002_*.py")).read_text(encoding="utf-8")
    assert "sqlmodel.sql.sqltypes.UTCDateTime()" in source
    assert "import sqlmodel" in source

    assert await taskkit.upgrade_schema(engine) == "0002"  # the generated revision runs
    assert "completed_at" in [c[0] for c in (await reflect(engine))["task"]["columns"]]


# ---------------------------------------------------------------------------------------------
# The command line.


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


@pytest.fixture
async def url(engine: AsyncEngine) -> str:
    """The URL of a new empty database, for CLI tests (the CLI runs its own loop and engine)."""
    return engine.url.render_as_string(hide_password=False)


def on(url: str, work: Callable[[AsyncEngine], Awaitable[Any]]) -> Any:
    """Run ``work`` with an engine of its own, in an event loop of its own (like the CLI)."""

    async def go() -> Any:
        engine = taskkit.connect(url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def execute(url: str, *statements: str) -> None:
    async def work(engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))

    on(url, work)


def assert_one_line_error(result: Any, *phrases: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "throwaway-ci" not in result.output  # the test server's password
    error = result.output.strip()
    assert len(error.splitlines()) == 1, error
    for phrase in phrases:
        assert phrase in error


def test_cli_upgrade_current_check_downgrade_round_trip(url: str):
    result = run("db", "upgrade", "0001", "--db", url)
    assert result.exit_code == 0, result.output
    assert "from base to 0001" in result.output
    assert f"(head is {HEAD}: run `taskkit db upgrade`)" in run("db", "current", "--db", url).output
    assert_one_line_error(run("db", "check", "--db", url), f"is at revision 0001, head is {HEAD}")

    assert f"from 0001 to {HEAD}" in run("db", "upgrade", "--db", url).output
    assert f"{HEAD} (head)" in run("db", "current", "--db", url).output
    result = run("db", "check", "--db", url)
    assert result.exit_code == 0, result.output
    assert "matches the models" in result.output
    assert f"already at {HEAD}" in run("db", "upgrade", "--db", url).output

    result = run("db", "downgrade", "base", "--db", url, input="n\n")
    assert result.exit_code == 1  # declined: nothing happens
    assert f"{HEAD} (head)" in run("db", "current", "--db", url).output
    result = run("db", "downgrade", "base", "--yes", "--db", url)
    assert result.exit_code == 0, result.output
    assert f"from {HEAD} to base" in result.output
    assert "none (no revision recorded" in run("db", "current", "--db", url).output


def test_cli_check_exits_1_on_drift(url: str):
    assert run("db", "upgrade", "--db", url).exit_code == 0
    execute(url, "DROP INDEX ix_task_status_created_at")
    assert_one_line_error(
        run("db", "check", "--db", url),
        "index ix_task_status_created_at on task(status, created_at) is missing",
    )


def test_cli_errors_for_an_unknown_revision_and_a_database_made_outside_migrations(url: str):
    on(url, taskkit.create_db_and_tables)
    assert_one_line_error(
        run("db", "downgrade", "nope", "--yes", "--db", url), "revision 'nope' does not exist"
    )
    assert_one_line_error(run("db", "upgrade", "--db", url), "created outside migrations")
    assert_one_line_error(run("init", "--db", url), "taskkit db stamp head")
    assert_one_line_error(
        run("db", "check", "--db", url), "matches the models: run `taskkit db stamp head`"
    )
    result = run("db", "stamp", "head", "--db", url)
    assert result.exit_code == 0, result.output
    assert run("db", "check", "--db", url).exit_code == 0


def test_cli_init_creates_the_database_through_migrations(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'init.db'}"
    result = run("init", "--db", url)
    assert result.exit_code == 0, result.output
    assert f"(revision {HEAD})" in result.output
    assert run("db", "check", "--db", url).exit_code == 0


def test_cli_history_works_from_any_directory(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "taskkit", "db", "history"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert done.stdout.splitlines() == [
        "0001  initial schema",
        "0002  task.completed_at, for cycle time",
        "0003  CHECKs as OR chains, a (status, created_at) index, link table WITHOUT ROWID on "
        "SQLite",
        "0004  task.key, the key a tracker gives a task (unique, nullable)",
        "0005  Real work, faithfully: longer text, resolution, started_at, kind, labels, status "
        "history",
        "0006  the finished-work index also holds started_at, for cycle time  (head)",
    ]


def test_every_db_command_has_help():
    for name in ("upgrade", "downgrade", "current", "history", "check", "stamp"):
        result = run("db", name, "--help")
        assert result.exit_code == 0
        assert len(result.output.splitlines()) > 4, name


@pytest.mark.parametrize("backend", [POSTGRES])
async def test_check_on_postgres_compares_check_definitions(engine: AsyncEngine):
    """PostgreSQL rewrites CHECK texts; a rule changed by hand under the same name is still
    found (the declared rules are rewritten the same way on a temporary table)."""
    await taskkit.upgrade_schema(engine)
    await taskkit.check_schema(engine)  # as migrated: no drift, so the comparison is fair
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE task DROP CONSTRAINT ck_task_title"))
        await conn.execute(
            text("ALTER TABLE task ADD CONSTRAINT ck_task_title CHECK (length(title) > 0)")
        )
    with pytest.raises(MigrationError) as drift:
        await taskkit.check_schema(engine)
    message = str(drift.value)
    assert "CHECK ck_task_title on task is CHECK ((length((title)::text) > 0))" in message
    assert "in the models" in message and "ck_task_status" not in message
    async with engine.connect() as conn:  # the temporary copy was rolled back
        leftovers = await conn.execute(
            text("SELECT count(*) FROM pg_class WHERE relname LIKE 'taskkit_expected_%'")
        )
        assert leftovers.scalar_one() == 0


# ---------------------------------------------------------------------------------------------
# ensure_schema without Alembic: the revision ids read from the scripts, the SQLite head schema.


def test_revision_ids_read_without_alembic_agree_with_alembic():
    from taskkit._migrate.known import head_revision, revision_ids

    assert list(revision_ids()) == [r.id for r in taskkit.schema_history()]
    assert head_revision() == HEAD


async def test_the_sqlite_head_snapshot_is_what_the_migrations_build():
    from taskkit._database import sqlite_head
    from taskkit._migrate.snapshot import migrated_schema

    revision, statements = await migrated_schema()
    assert (sqlite_head.REVISION, list(sqlite_head.STATEMENTS)) == (revision, statements), (
        "the migrations changed: run `uv run python -m taskkit._migrate.snapshot`"
    )


async def test_ensure_schema_on_an_empty_sqlite_file_builds_what_the_migrations_build(tmp_path):
    from taskkit._migrate.snapshot import schema_of

    by_alembic = taskkit.connect(f"sqlite:///{tmp_path / 'alembic.db'}")
    by_snapshot = taskkit.connect(f"sqlite:///{tmp_path / 'snapshot.db'}")
    try:
        assert await taskkit.upgrade_schema(by_alembic) == HEAD
        assert await taskkit.ensure_schema(by_snapshot) == HEAD
        assert await schema_of(by_snapshot) == await schema_of(by_alembic)
        assert await version_rows(by_snapshot) == [HEAD]
        await taskkit.check_schema(by_snapshot)
        await taskkit.downgrade_schema(by_snapshot, "0001")  # a database Alembic can migrate
        assert await taskkit.ensure_schema(by_snapshot) == HEAD
        assert await schema_of(by_snapshot) == await schema_of(by_alembic)
    finally:
        await by_alembic.dispose()
        await by_snapshot.dispose()


def test_ensure_schema_imports_no_alembic_for_a_new_sqlite_file_or_one_at_head(tmp_path):
    code = (
        "import asyncio, sys, taskkit\n"
        "async def main():\n"
        f"    engine = taskkit.connect('sqlite:///{tmp_path / 'new.db'}')\n"
        "    print(await taskkit.ensure_schema(engine), await taskkit.ensure_schema(engine))\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in ('alembic', 'asyncpg') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == [f"{HEAD} {HEAD}", "[]"], done.stdout + done.stderr
