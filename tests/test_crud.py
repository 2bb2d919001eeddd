"""CRUD helpers: validation first, clear errors, and nothing partial stored after an error."""

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from sqlalchemy.exc import InvalidRequestError

import taskkit
from taskkit import (
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
    Priority,
    Status,
    Task,
    TaskCreate,
    TaskUpdate,
)
from tests.helpers import snapshot


async def test_create_task_stores_validated_data_with_aware_utc_timestamps(db):
    task = await taskkit.create_task(db, {"title": "Write report", "priority": "high"})
    assert task.id == 1
    assert (task.status, task.priority) == ("pending", "high")
    assert task.created_at.tzinfo is not None and task.created_at.utcoffset() == timedelta(0)
    assert task.updated_at >= task.created_at


async def test_timestamps_come_back_aware_and_equal(engine):
    when = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    async with taskkit.session(engine) as s:
        task = await taskkit.create_task(s, {"title": "t"})
        await taskkit.update_task(s, task.id, {"title": "t2"})
        stored = Task(title="x", created_at=when, updated_at=when)
        s.add(stored)
        await s.commit()
        stored_id = stored.id
    async with taskkit.session(engine) as s:
        again = await taskkit.get_task(s, stored_id)
    # The +02:00 offset is converted to UTC, not dropped.
    assert again.created_at == when
    assert again.created_at.utcoffset() == timedelta(0)
    assert again.created_at.hour == 10


async def test_create_task_accepts_a_model_or_a_dict(db):
    a = await taskkit.create_task(db, TaskCreate(title="a", status=Status.in_progress))
    b = await taskkit.create_task(db, {"title": "b", "status": "in_progress"})
    assert a.status == b.status == "in_progress"


async def test_create_task_revalidates_a_model_built_without_validation(engine, db):
    sneaky = TaskCreate.model_construct(title="x" * 500, status="bogus")
    with pytest.raises(ValidationError):
        await taskkit.create_task(db, sneaky)
    assert (await snapshot(engine))["task"] == []


@pytest.mark.parametrize("data", [["title"], "title", 42, Task(title="x")])
async def test_create_task_rejects_other_kinds_of_data(db, data):
    with pytest.raises(InvalidArgumentError, match="data must be a TaskCreate or a dict, got"):
        await taskkit.create_task(db, data)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "x" * 600}, "title"),
        ({"title": "ok", "status": "done"}, "status"),
        ({"title": "ok", "priority": "urgent"}, "priority"),
        ({"title": "nul\x00"}, "title"),
        ({}, "title"),
    ],
)
async def test_create_task_with_bad_fields_stores_nothing(engine, db, data, field):
    before = await snapshot(engine)
    with pytest.raises(ValidationError) as info:
        await taskkit.create_task(db, data)
    assert info.value.errors()[0]["loc"] == (field,)
    assert await snapshot(engine) == before


async def test_create_task_with_missing_project_names_it_and_stores_nothing(engine, db):
    before = await snapshot(engine)
    with pytest.raises(NotFoundError, match="project_id refers to project 999"):
        await taskkit.create_task(db, {"title": "orphan", "project_id": 999})
    assert await snapshot(engine) == before
    # the session is still usable
    assert (await taskkit.create_task(db, {"title": "fine"})).id == 1


async def test_error_leaves_work_the_caller_had_pending(engine):
    async with taskkit.session(engine) as s:
        s.add(Task(title="pending in caller's transaction"))
        await s.flush()
        with pytest.raises(NotFoundError):
            await taskkit.create_task(s, {"title": "orphan", "project_id": 999})
        assert s.in_transaction()
        await s.commit()
    titles = [row[0] for row in (await snapshot(engine))["task"]]
    assert titles == ["pending in caller's transaction"]


async def test_get_task_unknown_id_is_not_found(db):
    with pytest.raises(NotFoundError, match="task 7 does not exist"):
        await taskkit.get_task(db, 7)


@pytest.mark.parametrize("bad", [0, -1, "1", 1.5, None, True])
async def test_get_task_rejects_ids_that_are_not_positive_integers(db, bad):
    with pytest.raises(InvalidArgumentError, match="task_id must be a positive integer"):
        await taskkit.get_task(db, bad)


async def test_update_task_changes_only_given_fields_and_moves_updated_at(db):
    task = await taskkit.create_task(db, {"title": "a", "description": "keep", "priority": "low"})
    first_update = task.updated_at
    updated = await taskkit.update_task(db, task.id, TaskUpdate(status="completed"))
    assert (updated.title, updated.description, updated.priority, updated.status) == (
        "a",
        "keep",
        Priority.low,
        "completed",
    )
    assert updated.updated_at > first_update
    again = await taskkit.get_task(db, task.id)
    assert again.status == "completed" and again.updated_at == updated.updated_at


async def test_update_task_with_nothing_set_changes_nothing(engine, db):
    task = await taskkit.create_task(db, {"title": "a"})
    before = await snapshot(engine)
    assert (await taskkit.update_task(db, task.id, {})).updated_at == task.updated_at
    assert await snapshot(engine) == before


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"title": None}, ValidationError),
        ({"status": "done"}, ValidationError),
        ({"title": "y" * 513}, ValidationError),
        ({"project_id": 42}, NotFoundError),
    ],
)
async def test_update_task_bad_input_changes_nothing(engine, db, data, error):
    task = await taskkit.create_task(db, {"title": "a"})
    before = await snapshot(engine)
    with pytest.raises(error):
        await taskkit.update_task(db, task.id, data)
    assert await snapshot(engine) == before
    assert (await taskkit.get_task(db, task.id)).title == "a"


async def test_update_unknown_task_is_not_found(db):
    with pytest.raises(NotFoundError, match="task 5 does not exist"):
        await taskkit.update_task(db, 5, {"title": "x"})


async def test_delete_task_removes_it_and_its_links(engine, db):
    task = await taskkit.create_task(db, {"title": "a"})
    await taskkit.create_worker(db, {"id": "w1", "name": "Ann"})
    await taskkit.assign(db, task.id, "w1")
    await taskkit.delete_task(db, task.id)
    after = await snapshot(engine)
    assert (after["task"], after["taskworkerlink"], len(after["worker"])) == ([], [], 1)
    with pytest.raises(NotFoundError):
        await taskkit.get_task(db, task.id)


async def test_delete_unknown_task_is_not_found_and_changes_nothing(engine, db):
    await taskkit.create_task(db, {"title": "a"})
    before = await snapshot(engine)
    with pytest.raises(NotFoundError, match="task 99 does not exist"):
        await taskkit.delete_task(db, 99)
    assert await snapshot(engine) == before


async def test_duplicate_project_name_is_a_taskkit_error_and_session_stays_usable(engine, db):
    await taskkit.create_project(db, {"name": "Apollo"})
    before = await snapshot(engine)
    with pytest.raises(AlreadyExistsError, match="project named 'Apollo' already exists"):
        await taskkit.create_project(db, {"name": "Apollo"})
    assert await snapshot(engine) == before
    assert (await taskkit.create_project(db, {"name": "Gemini"})).name == "Gemini"


async def test_duplicate_worker_id_is_a_taskkit_error_and_session_stays_usable(engine, db):
    await taskkit.create_worker(db, {"id": "w1", "name": "Ann"})
    before = await snapshot(engine)
    with pytest.raises(AlreadyExistsError, match="worker with id 'w1' already exists"):
        await taskkit.create_worker(db, {"id": "w1", "name": "Other"})
    assert await snapshot(engine) == before
    assert (await taskkit.create_worker(db, {"id": "w2", "name": "Bo"})).id == "w2"


async def test_assign_is_idempotent_and_unassign_reports_whether_it_removed(engine, db):
    task = await taskkit.create_task(db, {"title": "a"})
    await taskkit.create_worker(db, {"id": "w1", "name": "Ann"})
    await taskkit.assign(db, task.id, "w1")
    await taskkit.assign(db, task.id, "w1")
    assert (await snapshot(engine))["taskworkerlink"] == [(task.id, "w1")]
    assert await taskkit.unassign(db, task.id, "w1") is True
    assert await taskkit.unassign(db, task.id, "w1") is False
    assert (await snapshot(engine))["taskworkerlink"] == []


@pytest.mark.parametrize(
    ("task_id", "worker_id", "error", "message"),
    [
        (99, "w1", NotFoundError, "task 99 does not exist"),
        (1, "nobody", NotFoundError, "worker 'nobody' does not exist"),
        ("1", "w1", InvalidArgumentError, "task_id must be a positive integer"),
        (1, "", InvalidArgumentError, "worker_id must be a non-empty string"),
        (1, 7, InvalidArgumentError, "worker_id must be a non-empty string"),
    ],
)
@pytest.mark.parametrize("helper", [taskkit.assign, taskkit.unassign])
async def test_assign_and_unassign_bad_ids(engine, db, helper, task_id, worker_id, error, message):
    await taskkit.create_task(db, {"title": "a"})
    await taskkit.create_worker(db, {"id": "w1", "name": "Ann"})
    before = await snapshot(engine)
    with pytest.raises(error, match=re.escape(message)):
        await helper(db, task_id, worker_id)
    assert await snapshot(engine) == before


async def test_get_task_loads_relationships_only_when_asked(db):
    project = await taskkit.create_project(db, {"name": "Apollo"})
    task = await taskkit.create_task(db, {"title": "a", "project_id": project.id})
    await taskkit.create_worker(db, {"id": "w1", "name": "Ann"})
    await taskkit.assign(db, task.id, "w1")
    db.expunge_all()
    plain = await taskkit.get_task(db, task.id)
    with pytest.raises(InvalidRequestError, match="lazy='raise_on_sql'"):
        _ = plain.workers
    full = await taskkit.get_task(db, task.id, with_project=True, with_workers=True)
    assert full.project.name == "Apollo"
    assert [w.name for w in full.workers] == ["Ann"]


async def test_get_project_and_worker_with_tasks(db):
    project = await taskkit.create_project(db, {"name": "Apollo"})
    task = await taskkit.create_task(db, {"title": "a", "project_id": project.id})
    await taskkit.create_worker(db, {"id": "w1", "name": "Ann"})
    await taskkit.assign(db, task.id, "w1")
    db.expunge_all()
    assert [
        t.title for t in (await taskkit.get_project(db, project.id, with_tasks=True)).tasks
    ] == ["a"]
    assert [t.title for t in (await taskkit.get_worker(db, "w1", with_tasks=True)).tasks] == ["a"]
    with pytest.raises(NotFoundError):
        await taskkit.get_project(db, 42)
    with pytest.raises(NotFoundError):
        await taskkit.get_worker(db, "w9")


async def test_helpers_end_the_transactions_they_open(db):
    await taskkit.create_task(db, {"title": "a"})
    assert not db.in_transaction()
    await taskkit.get_task(db, 1)
    assert not db.in_transaction()
    with pytest.raises(NotFoundError):
        await taskkit.update_task(db, 1, {"project_id": 5})
    assert not db.in_transaction()


async def test_text_round_trips_exactly(db):
    title = "emoji 🎉, combining é, right-to-left עברית, quote ' and \\ and %_"
    task = await taskkit.create_task(db, {"title": title, "description": "line\nbreak\ttab"})
    db.expunge_all()
    again = await taskkit.get_task(db, task.id)
    assert (again.title, again.description) == (title, "line\nbreak\ttab")


def test_utc_is_used_for_defaults():
    assert Task(title="x").created_at.tzinfo is UTC


async def test_completed_at_follows_status(db):
    task = await taskkit.create_task(db, {"title": "a"})
    assert task.completed_at is None
    done = await taskkit.update_task(db, task.id, {"status": "completed"})
    assert done.completed_at is not None and done.completed_at >= done.created_at
    again = await taskkit.update_task(db, task.id, {"title": "still done"})
    assert again.completed_at == done.completed_at
    reopened = await taskkit.update_task(db, task.id, {"status": "in_progress"})
    assert reopened.completed_at is None
    born_done = await taskkit.create_task(db, {"title": "b", "status": "completed"})
    assert born_done.completed_at == born_done.created_at


async def test_loading_relationships_keeps_those_loaded_earlier(db):
    project = await taskkit.create_project(db, {"name": "Apollo"})
    task = await taskkit.create_task(db, {"title": "a", "project_id": project.id})
    await taskkit.create_worker(db, {"id": "w1", "name": "Ann"})
    await taskkit.assign(db, task.id, "w1")
    db.expunge_all()
    full = await taskkit.get_task(db, task.id, with_project=True, with_workers=True)
    await taskkit.get_worker(db, "w1", with_tasks=True)
    await taskkit.get_project(db, project.id, with_tasks=True)
    assert full.project.name == "Apollo"
    assert [w.id for w in full.workers] == ["w1"]


# Unknown keys reach no helper silently (issue 13, item 1): refused, named, nothing stored.


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "t", "statuss": "completed"}, "unknown field 'statuss'; did you mean 'status'?"),
        ({"title": "t", "created_at": "2020-01-01T00:00:00Z"}, "is set by the database"),
        ({"title": "t", "completed_at": "2020-01-01T00:00:00Z"}, "is set by the database"),
        ({"title": "t", "id": 99}, "is set by the database"),
        ({"title": "t", "workers": ["w-1"]}, "taskkit.assign("),
        ({"title": "t", "project": "Apollo"}, "give project_id"),
    ],
)
async def test_create_task_refuses_unknown_keys_and_stores_nothing(engine, db, data, message):
    before = await snapshot(engine)
    with pytest.raises(ValidationError, match=re.escape(message)):
        await taskkit.create_task(db, data)
    assert await snapshot(engine) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"titel": "x"}, "unknown field 'titel'; did you mean 'title'?"),
        ({"status": "completed", "completed_at": None}, "set status instead"),
        ({"updated_at": "2020-01-01T00:00:00Z"}, "is set by the database"),
    ],
)
async def test_update_task_refuses_unknown_keys_and_changes_nothing(engine, db, data, message):
    task = await taskkit.create_task(db, {"title": "a"})
    before = await snapshot(engine)
    with pytest.raises(ValidationError, match=re.escape(message)):
        await taskkit.update_task(db, task.id, data)
    assert await snapshot(engine) == before


@pytest.mark.parametrize(
    ("helper", "data", "message"),
    [
        (taskkit.create_project, {"nmae": "Apollo"}, "did you mean 'name'?"),
        (taskkit.create_project, {"name": "Apollo", "id": 5}, "is set by the database"),
        (taskkit.create_worker, {"id": "w-1", "nmae": "Ann"}, "did you mean 'name'?"),
        (taskkit.create_worker, {"id": "w-1", "name": "Ann", "tasks": [1]}, "taskkit.assign("),
    ],
)
async def test_create_project_and_worker_refuse_unknown_keys(engine, db, helper, data, message):
    before = await snapshot(engine)
    with pytest.raises(ValidationError, match=re.escape(message)):
        await helper(db, data)
    assert await snapshot(engine) == before
