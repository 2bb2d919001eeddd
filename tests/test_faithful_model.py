"""The richer task model: resolution, started_at, kind, labels and the status history, through
the public API on every backend."""

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import taskkit
from taskkit import (
    ChangeSource,
    InvalidArgumentError,
    Resolution,
    Status,
    StatusChange,
    Task,
)


async def history_of(db: AsyncSession, task_id: int) -> list[tuple]:
    rows = await db.exec(
        taskkit.select_history(select(Task).where(Task.id == task_id))  # type: ignore[arg-type]
    )
    return [(c.from_status, c.to_status, c.source) for c in rows]


async def test_create_task_records_its_first_status_in_the_history(db: AsyncSession):
    task = await taskkit.create_task(db, {"title": "Plan"})
    assert await history_of(db, task.id) == [(None, Status.pending, ChangeSource.api)]
    (change,) = (await db.exec(taskkit.select_history())).all()
    assert change.changed_at == task.created_at
    assert task.started_at is None and task.resolution is None


async def test_a_task_created_in_progress_started_then_and_one_created_completed_is_done(
    db: AsyncSession,
):
    running = await taskkit.create_task(db, {"title": "a", "status": "in_progress"})
    finished = await taskkit.create_task(db, {"title": "b", "status": "completed"})
    dropped = await taskkit.create_task(
        db, {"title": "c", "status": "completed", "resolution": "duplicate"}
    )
    assert running.started_at == running.created_at
    assert (finished.resolution, finished.started_at) == (Resolution.done, None)
    assert finished.completed_at == finished.created_at
    assert dropped.resolution == Resolution.duplicate


async def test_update_task_records_each_status_move_and_sets_start_once(db: AsyncSession):
    task = await taskkit.create_task(db, {"title": "Build"})
    await taskkit.update_task(db, task.id, {"status": "in_progress"})
    first_start = task.started_at
    await taskkit.update_task(db, task.id, {"status": "pending"})
    await taskkit.update_task(db, task.id, {"status": "in_progress"})
    await taskkit.update_task(db, task.id, {"title": "Build it"})  # no status change: no row
    done = await taskkit.update_task(db, task.id, {"status": "completed", "resolution": "wont_do"})

    assert await history_of(db, task.id) == [
        (None, Status.pending, ChangeSource.api),
        (Status.pending, Status.in_progress, ChangeSource.api),
        (Status.in_progress, Status.pending, ChangeSource.api),
        (Status.pending, Status.in_progress, ChangeSource.api),
        (Status.in_progress, Status.completed, ChangeSource.api),
    ]
    assert first_start is not None and done.started_at == first_start  # the first move
    assert done.resolution == Resolution.wont_do
    assert done.completed_at is not None and done.completed_at >= done.started_at


async def test_reopening_clears_completion_and_resolution_and_keeps_the_start(db: AsyncSession):
    task = await taskkit.create_task(db, {"title": "x", "status": "in_progress"})
    await taskkit.update_task(db, task.id, {"status": "completed"})
    reopened = await taskkit.update_task(db, task.id, {"status": "pending"})
    assert (reopened.completed_at, reopened.resolution) == (None, None)
    assert reopened.started_at == reopened.created_at


async def test_the_resolution_of_a_completed_task_can_be_corrected_without_a_history_row(
    db: AsyncSession,
):
    task = await taskkit.create_task(db, {"title": "x", "status": "completed"})
    fixed = await taskkit.update_task(db, task.id, {"resolution": "duplicate"})
    assert fixed.resolution == Resolution.duplicate
    assert len(await history_of(db, task.id)) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "x", "resolution": "done"}, "only for completed tasks; status is 'pending'"),
        ({"title": "x", "status": "completed", "resolution": "fixed"}, "'done', 'wont_do'"),
        ({"title": "x", "kind": " "}, "must not be blank"),
        ({"title": "x", "kind": "k" * 101}, "at most 100 characters"),
        ({"title": "x", "labels": ["ok", ""]}, "at least 1 character"),
        ({"title": "x", "labels": ["l" * 256]}, "at most 255 characters"),
        ({"title": "x", "labels": "bug"}, "valid list"),
        ({"title": "x", "started_at": "2025-01-01T00:00:00Z"}, "when status first becomes"),
        ({"title": "x", "history": []}, "every status change is recorded"),
    ],
)
async def test_create_task_refuses_bad_new_fields_naming_them_and_stores_nothing(
    db: AsyncSession, data: dict, message: str
):
    with pytest.raises(ValidationError) as refused:
        await taskkit.create_task(db, data)
    assert message in str(refused.value)
    assert (await db.exec(select(Task))).all() == []
    assert (await db.exec(taskkit.select_history())).all() == []


async def test_update_task_refuses_a_resolution_for_an_open_task_and_changes_nothing(
    db: AsyncSession,
):
    task = await taskkit.create_task(db, {"title": "x"})
    with pytest.raises(
        InvalidArgumentError, match=r"only for completed tasks; task \d+ is 'pending'"
    ):
        await taskkit.update_task(db, task.id, {"resolution": "done"})
    with pytest.raises(ValidationError, match="status is being set to 'in_progress'"):
        await taskkit.update_task(db, task.id, {"status": "in_progress", "resolution": "done"})
    assert len(await history_of(db, task.id)) == 1
    assert (await taskkit.get_task(db, task.id)).status == Status.pending


async def test_labels_are_created_once_shared_and_replaced(db: AsyncSession):
    a = await taskkit.create_task(db, {"title": "a", "labels": ["bug", "ui", "bug"]})
    b = await taskkit.create_task(db, {"title": "b", "labels": ["ui", "Bug"]})
    await taskkit.update_task(db, a.id, {"labels": ["docs"]})

    names = (await db.exec(select(taskkit.Label.name).order_by(taskkit.Label.name))).all()
    assert names == ["Bug", "bug", "docs", "ui"]  # case-sensitive, each once
    got_a = await taskkit.get_task(db, a.id, with_labels=True)
    got_b = await taskkit.get_task(db, b.id, with_labels=True)
    assert [label.name for label in got_a.labels] == ["docs"]
    assert sorted(label.name for label in got_b.labels) == ["Bug", "ui"]
    await taskkit.update_task(db, b.id, {"labels": []})
    assert (await taskkit.get_task(db, b.id, with_labels=True)).labels == []


async def test_select_tasks_filters_by_label_resolution_kind_and_start(db: AsyncSession):
    await taskkit.create_task(db, {"title": "bug", "labels": ["bug"], "kind": "Bug"})
    await taskkit.create_task(
        db, {"title": "dup", "status": "completed", "resolution": "duplicate", "kind": "Story"}
    )
    done = await taskkit.create_task(db, {"title": "done", "status": "completed"})
    started = await taskkit.create_task(db, {"title": "run", "status": "in_progress"})

    async def titles(**filters) -> list[str]:
        return [t.title for t in await db.exec(taskkit.select_tasks(order_by="id", **filters))]

    assert await titles(label="bug") == ["bug"]
    assert await titles(label=["nothing"]) == []
    assert await titles(resolution="done") == ["done"]
    assert await titles(resolution=["wont_do", "duplicate", "cancelled"]) == ["dup"]
    assert await titles(kind="Bug") == ["bug"]
    assert await titles(started_from=started.started_at) == ["run"]
    assert await titles(started_to=started.started_at) == []
    assert done.id is not None


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"resolution": "fixed"}, "resolution must be one of done, wont_do, duplicate, cancelled"),
        ({"label": ""}, "label must be a label name"),
        ({"label": 3}, "label must be a label name"),
        ({"kind": ["Bug", None]}, "kind must be a type of work item"),
        ({"started_from": "2025-01-01"}, None),
    ],
)
async def test_select_tasks_checks_the_new_filters(filters: dict, message: str | None):
    if message is None:
        taskkit.select_tasks(**filters)  # a date means midnight UTC: accepted
        return
    with pytest.raises(InvalidArgumentError, match=message):
        taskkit.select_tasks(**filters)


async def test_select_history_of_select_tasks(db: AsyncSession):
    a = await taskkit.create_task(db, {"title": "a", "status": "in_progress"})
    await taskkit.create_task(db, {"title": "b"})
    await taskkit.update_task(db, a.id, {"status": "completed"})
    rows = (await db.exec(taskkit.select_history(taskkit.select_tasks(status="completed")))).all()
    assert [(r.task_id, r.to_status) for r in rows] == [
        (a.id, Status.in_progress),
        (a.id, Status.completed),
    ]
    with pytest.raises(InvalidArgumentError, match="tasks must be a select of tasks"):
        taskkit.select_history("SELECT * FROM task")
    with pytest.raises(
        InvalidArgumentError, match=r"does not hold the task table itself \(it reads project;"
    ):
        taskkit.select_history(select(taskkit.Project))


async def test_select_history_takes_every_select_of_tasks_the_flow_measures_take(
    db: AsyncSession,
):
    """select_history refused a select of tasks joined to another table ('got SelectOfScalar')
    where every flow measure took it: both now read ``tasks`` by one rule."""
    apollo = await taskkit.create_project(db, {"name": "Apollo"})
    gemini = await taskkit.create_project(db, {"name": "Gemini"})
    a = await taskkit.create_task(db, {"title": "a", "project_id": apollo.id})
    b = await taskkit.create_task(db, {"title": "b", "project_id": gemini.id})
    for task in (a, b):
        await taskkit.update_task(db, task.id, {"status": "in_progress"})
    await taskkit.create_worker(db, {"id": "w1", "name": "Ann"})
    await taskkit.create_worker(db, {"id": "w2", "name": "Bo"})
    await taskkit.assign(db, a.id, "w1")
    await taskkit.assign(db, a.id, "w2")  # two rows of the join below for task a
    await db.commit()
    joined = select(Task).join(taskkit.Project).where(taskkit.Project.name == "Apollo")
    by_links = select(Task).join(taskkit.TaskWorkerLink)
    for tasks in (joined, by_links):
        rows = (await db.exec(taskkit.select_history(tasks))).all()
        assert [(r.task_id, r.to_status) for r in rows] == [
            (a.id, Status.pending),
            (a.id, Status.in_progress),
        ]
        today = taskkit.utcnow().date()
        stays = await taskkit.time_in_state(db, tasks, start=today, end=today)
        assert stays["id"].tolist() == [a.id]
    # An alias or a subquery of Task is refused: task.id would name a second copy of the
    # table, and the history would be every task's.
    other = aliased(Task)
    for tasks in (select(other).where(other.title == "a"), select(select(Task).subquery())):
        with pytest.raises(InvalidArgumentError, match="does not hold the task table itself"):
            taskkit.select_history(tasks)
        with pytest.raises(InvalidArgumentError, match="does not hold the task table itself"):
            await taskkit.time_in_state(db, tasks, start=today, end=today)
    # A LIMIT keeps its ORDER BY, which may name the statement's own columns.
    newest = select(Task, (-Task.id).label("neg")).where(Task.id.in_([a.id, b.id]))
    newest = newest.order_by("neg").limit(1)
    rows = (await db.exec(taskkit.select_history(newest))).all()
    assert {r.task_id for r in rows} == {max(a.id, b.id)}
    stays = await taskkit.time_in_state(db, newest, start=today, end=today)
    assert stays["id"].tolist() == [max(a.id, b.id)]
    # A grouped select's rows are groups: task.id in their place would be one task per group.
    grouped = select(Task).group_by(Task.project_id)
    with pytest.raises(InvalidArgumentError, match=r"groups its rows \(GROUP BY or HAVING\)"):
        taskkit.select_history(grouped)
    with pytest.raises(InvalidArgumentError, match="groups its rows"):
        await taskkit.time_in_state(db, grouped, start=today, end=today)
    same = (await db.exec(taskkit.select_history(taskkit.select_tasks(project="Apollo")))).all()
    assert [r.id for r in same] == [
        r.id for r in (await db.exec(taskkit.select_history(joined))).all()
    ]


async def test_deleting_a_task_deletes_its_history_and_label_links(db: AsyncSession):
    task = await taskkit.create_task(db, {"title": "x", "labels": ["bug"]})
    await taskkit.update_task(db, task.id, {"status": "completed"})
    await taskkit.delete_task(db, task.id)
    assert (await db.exec(taskkit.select_history())).all() == []
    assert (await db.exec(select(taskkit.TaskLabelLink))).all() == []
    assert (await db.exec(select(taskkit.Label.name))).all() == ["bug"]  # the label stays


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        (
            "INSERT INTO task (title, status, priority, created_at, updated_at, completed_at, "
            "resolution) VALUES ('x', 'completed', 'low', :t, :t, :t, NULL)",
            "ck_task_resolution",
        ),
        (
            "INSERT INTO task (title, status, priority, created_at, updated_at, resolution) "
            "VALUES ('x', 'pending', 'low', :t, :t, 'done')",
            "ck_task_resolution",
        ),
        (
            "INSERT INTO task (title, status, priority, created_at, updated_at, completed_at, "
            "resolution) VALUES ('x', 'completed', 'low', :t, :t, :t, 'fixed')",
            "ck_task_resolution",
        ),
        (
            "INSERT INTO task (title, status, priority, created_at, updated_at, started_at) "
            "VALUES ('x', 'pending', 'low', :t, :t, :before)",
            "ck_task_started_at",
        ),
        (
            "INSERT INTO task (title, status, priority, created_at, updated_at, completed_at, "
            "resolution, started_at) VALUES ('x', 'completed', 'low', :t, :t, :t, 'done', :after)",
            "ck_task_started_at",
        ),
        (
            "INSERT INTO status_change (task_id, changed_at, from_status, to_status, source) "
            "VALUES (:task, :t, 'pending', 'pending', 'api')",
            "ck_status_change_from_status",
        ),
        (
            "INSERT INTO status_change (task_id, changed_at, from_status, to_status, source) "
            "VALUES (:task, :t, NULL, 'pending', 'guess')",
            "ck_status_change_source",
        ),
        (
            "INSERT INTO status_change (task_id, changed_at, from_status, to_status, source) "
            "VALUES (999, :t, NULL, 'pending', 'api')",
            "FOREIGN KEY",
        ),
        ("INSERT INTO label (name) VALUES ('  ')", "ck_label_name"),
    ],
)
async def test_the_database_refuses_what_the_models_refuse(
    engine: AsyncEngine, sql: str, constraint: str
):
    async with taskkit.session(engine) as s:
        task = await taskkit.create_task(s, {"title": "exists"})
    t = taskkit.utcnow()
    params = {
        "t": t, "before": t - timedelta(days=1), "after": t + timedelta(days=1), "task": task.id
    }  # fmt: skip
    async with engine.connect() as conn:
        with pytest.raises(IntegrityError) as refused:
            await conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
    assert constraint.lower() in str(refused.value).lower()


async def test_a_history_row_reads_back_with_enum_types_and_aware_utc(db: AsyncSession):
    task = await taskkit.create_task(db, {"title": "x"})
    (row,) = (await db.exec(select(StatusChange).where(StatusChange.task_id == task.id))).all()
    assert isinstance(row.to_status, Status) and isinstance(row.source, ChangeSource)
    assert row.changed_at.utcoffset() == timedelta(0)
