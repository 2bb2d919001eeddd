"""The database holds the models' rules: a raw INSERT of bad data fails on every backend."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.helpers import snapshot

GOOD = {
    "title": "'ok'",
    "description": "NULL",
    "status": "'pending'",
    "priority": "'medium'",
    "project_id": "NULL",
    "created_at": "'2025-01-01 00:00:00'",
    "updated_at": "'2025-01-01 00:00:00'",
    "completed_at": "NULL",
}


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("status", "'bogus'"),
        ("priority", "'urgent'"),
        ("priority", "3"),
        ("title", "''"),
        ("title", "'   '"),
        ("title", "'" + "x" * 513 + "'"),
        ("title", "NULL"),
        ("status", "NULL"),
        ("description", "'" + "d" * 1_048_577 + "'"),
        ("project_id", "999"),
        ("updated_at", "'2024-12-31 23:59:59'"),
        ("completed_at", "'2025-01-02 00:00:00'"),
        ("status", "'completed'"),
    ],
)
async def test_raw_insert_of_bad_task_fails(engine, column, value):
    before = await snapshot(engine)
    row = {**GOOD, column: value}
    sql = f"INSERT INTO task ({', '.join(row)}) VALUES ({', '.join(row.values())})"
    with pytest.raises((IntegrityError, DBAPIError)):
        async with engine.begin() as conn:
            await conn.execute(text(sql))
    assert await snapshot(engine) == before


async def test_raw_insert_of_good_task_succeeds(engine):
    async with engine.begin() as conn:
        await conn.execute(
            text(f"INSERT INTO task ({', '.join(GOOD)}) VALUES ({', '.join(GOOD.values())})")
        )
    assert len((await snapshot(engine))["task"]) == 1


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO project (name) VALUES ('')",
        "INSERT INTO worker (id, name) VALUES ('', 'Ann')",
        "INSERT INTO worker (id, name) VALUES ('w1', '  ')",
        "INSERT INTO taskworkerlink (task_id, worker_id) VALUES (1, 'nobody')",
    ],
)
async def test_raw_insert_of_bad_project_worker_or_link_fails(engine, sql):
    with pytest.raises((IntegrityError, DBAPIError)):
        async with engine.begin() as conn:
            await conn.execute(text(sql))


async def test_duplicate_project_name_fails_in_the_database(engine):
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO project (name) VALUES ('Apollo')"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO project (name) VALUES ('Apollo')"))


async def test_deleting_a_task_or_worker_removes_its_links(engine):
    async with engine.begin() as conn:
        for sql in [
            "INSERT INTO worker (id, name) VALUES ('w1', 'Ann'), ('w2', 'Bo')",
            f"INSERT INTO task ({', '.join(GOOD)}) VALUES ({', '.join(GOOD.values())})",
            f"INSERT INTO task ({', '.join(GOOD)}) VALUES ({', '.join(GOOD.values())})",
            "INSERT INTO taskworkerlink VALUES (1, 'w1'), (1, 'w2'), (2, 'w1'), (2, 'w2')",
            "DELETE FROM task WHERE id = 1",
            "DELETE FROM worker WHERE id = 'w2'",
        ]:
            await conn.execute(text(sql))
    assert (await snapshot(engine))["taskworkerlink"] == [(2, "w1")]


async def test_deleting_a_project_keeps_its_tasks(engine):
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO project (name) VALUES ('Apollo')"))
        row = {**GOOD, "project_id": "1"}
        await conn.execute(
            text(f"INSERT INTO task ({', '.join(row)}) VALUES ({', '.join(row.values())})")
        )
        await conn.execute(text("DELETE FROM project"))
        assert (await conn.execute(text("SELECT project_id FROM task"))).all() == [(None,)]
