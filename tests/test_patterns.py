"""Each pattern of the SQLModel patterns document, in the form that works today."""

import pytest
from sqlalchemy.orm import selectinload
from sqlmodel import or_, select

import taskkit
from taskkit import Project, Task, TaskCreate, TaskRead, TaskReadWithRelations, Worker


@pytest.fixture
async def filled(db):
    """Two projects, six tasks, three workers, a few assignments."""
    apollo = await taskkit.create_project(db, {"name": "Apollo"})
    gemini = await taskkit.create_project(db, {"name": "Gemini"})
    rows = [
        ("a", "pending", "high", apollo.id),
        ("b", "in_progress", "low", apollo.id),
        ("c", "completed", "medium", gemini.id),
        ("d", "pending", "low", None),
        ("e", "pending", "high", gemini.id),
        ("f", "completed", "high", apollo.id),
    ]
    for title, status, priority, project_id in rows:
        await taskkit.create_task(
            db, {"title": title, "status": status, "priority": priority, "project_id": project_id}
        )
    for wid, name in [("w1", "Ann"), ("w2", "Bo"), ("w3", "Cy")]:
        await taskkit.create_worker(db, {"id": wid, "name": name})
    for task_id, wid in [(1, "w1"), (1, "w2"), (3, "w2"), (5, "w3")]:
        await taskkit.assign(db, task_id, wid)
    db.expunge_all()
    return db


def test_hierarchy_base_table_create_update_read():
    assert issubclass(Task, taskkit.TaskBase) and issubclass(TaskCreate, taskkit.TaskBase)
    assert Task.model_config.get("table") is True
    assert not TaskCreate.model_config.get("table")
    read = TaskRead.model_validate(
        Task(
            id=1,
            title="x",
            created_at=taskkit.utcnow(),
            updated_at=taskkit.utcnow(),
        )
    )
    assert read.id == 1 and read.status == "pending"


async def test_exec_select_with_a_filter(filled):
    result = await filled.exec(select(Task).where(Task.status == "pending"))
    assert sorted(t.title for t in result.all()) == ["a", "d", "e"]


async def test_multiple_conditions_are_anded(filled):
    stmt = select(Task).where(Task.status == "pending", Task.priority == "high")
    assert sorted(t.title for t in (await filled.exec(stmt)).all()) == ["a", "e"]


async def test_or_conditions(filled):
    stmt = select(Task).where(or_(Task.status == "in_progress", Task.priority == "low"))
    assert sorted(t.title for t in (await filled.exec(stmt)).all()) == ["b", "d"]


async def test_ordering_with_offset_and_limit_and_a_unique_tiebreak(filled):
    stmt = select(Task).order_by(Task.priority.desc(), Task.id).offset(1).limit(3)
    # priority sorts as text here: medium > low > high
    assert [t.title for t in (await filled.exec(stmt)).all()] == ["b", "d", "a"]


async def test_get_by_id(filled):
    assert (await filled.get(Task, 3)).title == "c"
    assert await filled.get(Task, 99) is None


async def test_one_to_many_with_selectinload(filled):
    stmt = select(Project).options(selectinload(Project.tasks)).order_by(Project.id)
    projects = (await filled.exec(stmt)).all()
    assert {p.name: sorted(t.title for t in p.tasks) for p in projects} == {
        "Apollo": ["a", "b", "f"],
        "Gemini": ["c", "e"],
    }


async def test_many_to_many_with_selectinload_both_ways(filled):
    tasks = (
        await filled.exec(select(Task).options(selectinload(Task.workers)).order_by(Task.id))
    ).all()
    assert {t.title: sorted(w.id for w in t.workers) for t in tasks if t.workers} == {
        "a": ["w1", "w2"],
        "c": ["w2"],
        "e": ["w3"],
    }
    workers = (await filled.exec(select(Worker).options(selectinload(Worker.tasks)))).all()
    assert {w.id: sorted(t.title for t in w.tasks) for w in workers} == {
        "w1": ["a"],
        "w2": ["a", "c"],
        "w3": ["e"],
    }


async def test_read_model_with_relations(filled):
    task = await taskkit.get_task(
        filled, 1, with_project=True, with_workers=True, with_labels=True, with_history=True
    )
    read = TaskReadWithRelations.model_validate(task)
    assert read.project.name == "Apollo"
    assert sorted(w.name for w in read.workers) == ["Ann", "Bo"]
    assert [(c.from_status, c.to_status) for c in read.history] == [(None, "pending")]
    assert read.labels == []


async def test_a_read_model_needs_its_relations_loaded_and_names_the_missing_one(filled):
    task = await taskkit.get_task(filled, 1, with_project=True, with_workers=True)
    with pytest.raises(ValueError, match=r"Task\.labels' is not available.*raise_on_sql"):
        TaskReadWithRelations.model_validate(task)


async def test_lazy_access_in_async_is_a_clear_error_not_missing_greenlet(filled):
    task = (await filled.exec(select(Task).where(Task.id == 1))).one()
    with pytest.raises(Exception, match=r"Task\.project.*lazy='raise_on_sql'"):
        _ = task.project
    await filled.refresh(task, ["project"])  # the explicit fix
    assert task.project.name == "Apollo"


async def test_in_memory_sqlite_testing_pattern():
    engine = taskkit.connect("sqlite+aiosqlite://")
    await taskkit.create_db_and_tables(engine)
    async with taskkit.session(engine) as s:
        await taskkit.create_task(s, {"title": "in memory"})
        assert (await s.exec(select(Task))).one().title == "in memory"
    await engine.dispose()
