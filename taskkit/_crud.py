"""Create, read, update and delete tasks, projects and workers, and assign workers to tasks.

Every helper takes the session first; each call is one unit of work that commits on success.
Data from outside is validated through the Create/Update models before it reaches the
database (table models do not validate); a key that is not a field of the model is refused,
never dropped (see ``taskkit._models.InputModel``). On any
error only what the call did is undone: nothing partial is stored, the session stays usable,
and anything the caller left pending in it is left as it was.

On SQLite the writing helpers take the write lock when they start (reads never take it). Called
inside your own transaction that has only read (a notebook session after a query), a helper
keeps that transaction, and its snapshot, when no other connection wrote since; when another
did, SQLite cannot write in it, so the helper ends it (it holds no change: nothing is lost) and
writes in a new one. Your snapshot then moves to the present: later reads see the other
connection's writes, while objects already loaded keep their values until refreshed.
"""

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from taskkit._checks import positive_int
from taskkit._database.engine import begin_writing, has_open_work, reading
from taskkit._errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from taskkit._models import (
    ChangeSource,
    Label,
    Project,
    ProjectCreate,
    Resolution,
    Status,
    StatusChange,
    Task,
    TaskCreate,
    TaskUpdate,
    TaskWorkerLink,
    Worker,
    WorkerCreate,
    storable_text,
    utcnow,
)

__all__ = [
    "assign",
    "create_project",
    "create_task",
    "create_worker",
    "delete_task",
    "get_project",
    "get_task",
    "get_worker",
    "unassign",
    "update_task",
]

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R", bound=SQLModel)


def _validated(model: type[M], data: M | Mapping[str, Any], *, argument: str = "data") -> M:
    """``data`` as a validated ``model``: a dict is validated, a model instance re-checked.

    A ``ValidationError`` is raised again from here without pydantic's own frames: in a
    notebook its message then follows the caller's line, not thirty lines of library code.
    """
    if isinstance(data, model):
        # Re-validate: an instance built with model_construct() skipped its rules.
        values = {name: getattr(data, name) for name in data.model_fields_set}
    elif isinstance(data, Mapping):
        values = dict(data)
    else:
        raise InvalidArgumentError(
            f"{argument} must be a {model.__name__} or a dict, got {type(data).__name__}"
        )
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        refused = exc
    raise refused.with_traceback(None)


def _check_task_id(value: Any, name: str = "task_id") -> int:
    return positive_int(name, value)


def _check_worker_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"worker_id must be a non-empty string, got {value!r}")
    try:
        return storable_text(value)
    except ValueError as exc:
        raise InvalidArgumentError(f"worker_id {exc}, got {value!r}") from None


async def _require_project(session: AsyncSession, project_id: int | None) -> None:
    if project_id is not None and await session.get(Project, project_id) is None:
        raise NotFoundError(f"project_id refers to project {project_id}, which does not exist")


@asynccontextmanager
async def _unit_of_work(session: AsyncSession) -> AsyncIterator[None]:
    """Run the body as one unit: committed on success, undone on error.

    The body runs in a savepoint, so an error undoes only what the body did: work the caller
    left pending in the session stays pending. A transaction this call opened is always ended
    (committed, empty after an error): on SQLite an open transaction holds the write lock.
    On SQLite the write lock is taken first (``begin_writing``): a caller's transaction that
    has only read, when another connection wrote since, is ended and begun again, so its
    snapshot moves to the present rather than the write failing.
    """
    caller_transaction = has_open_work(session)
    await begin_writing(session)
    try:
        async with session.begin_nested():
            yield
    except BaseException:
        if not caller_transaction:
            await session.commit()
        raise
    await session.commit()


async def _load(
    session: AsyncSession, model: type[R], key: Any, relationships: list[str]
) -> R | None:
    """``session.get`` plus the named relationships, loaded now (they never load lazily).

    ``refresh`` of just those attributes rather than ``populate_existing``: the latter would
    reset relationships loaded earlier on other objects of the session.
    """
    async with reading(session):
        obj = await session.get(model, key)
        if obj is not None and relationships:
            await session.refresh(obj, attribute_names=relationships)
    return obj


async def _labels_named(session: AsyncSession, names: list[str]) -> list[Label]:
    """The ``Label`` rows with these names, in this order, creating those that do not exist.

    ``INSERT ... ON CONFLICT DO NOTHING`` rather than look-then-add: two writers adding the
    same new label at once both succeed (on PostgreSQL they do not wait for each other's look).
    """
    if not names:
        return []
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    new = insert(Label).values([{"name": name} for name in names])
    await session.exec(new.on_conflict_do_nothing(index_elements=["name"]))
    found = await session.exec(select(Label).where(col(Label.name).in_(names)))
    by_name = {label.name: label for label in found}
    return [by_name[name] for name in names]


def _move(task: Task, to: Status, at: datetime, resolution: str | None) -> dict[str, Any]:
    """The changes that move ``task`` to status ``to`` at ``at`` (``resolution`` for a move
    to completed): ``completed_at`` and ``resolution`` follow the status (the table's CHECKs
    insist on it); ``started_at`` is set by the first move into ``in_progress`` and kept."""
    completed = to == Status.completed
    changes: dict[str, Any] = {
        "status": to.value,
        "completed_at": at if completed else None,
        "resolution": (resolution or Resolution.done.value) if completed else None,
    }
    if to == Status.in_progress and task.started_at is None:
        changes["started_at"] = at
    return changes


async def create_task(session: AsyncSession, data: TaskCreate | Mapping[str, Any]) -> Task:
    """Validate ``data`` and store it as a new task, with the first row of its history.

    A task created ``in_progress`` has started at its creation; one created ``completed`` has
    completed then (``resolution`` ``done`` unless given) and has no known start. ``labels``
    are names; the labels that do not exist yet are created.

    Returns:
        The stored ``Task``, with ``id`` and timestamps set.

    Raises:
        pydantic.ValidationError: a field breaks a rule (names the field and what is allowed),
            or a key is not a field: ``unknown field 'statuss'; did you mean 'status'?``;
            ``id``, the timestamps, ``workers`` and ``project`` are refused with how they are set.
        NotFoundError: ``project_id`` refers to a project that does not exist.
    """
    __tracebackhide__ = True  # IPython leaves this frame out of a shown traceback
    checked = _validated(TaskCreate, data)
    task = Task.model_validate(checked.model_dump(mode="json", exclude={"labels"}))
    if task.status == Status.completed:
        task.completed_at = task.created_at
    if task.status == Status.in_progress:
        task.started_at = task.created_at
    async with _unit_of_work(session):
        await _require_project(session, task.project_id)
        task.labels = await _labels_named(session, checked.labels)
        session.add(task)
        await session.flush()  # the task's id, for its first history row
        assert task.id is not None
        first = StatusChange(
            task_id=task.id,
            changed_at=task.created_at,
            from_status=None,
            to_status=task.status,
            source=ChangeSource.api,
        )
        session.add(first)
    return task


async def get_task(
    session: AsyncSession,
    task_id: int,
    *,
    with_project: bool = False,
    with_workers: bool = False,
    with_labels: bool = False,
    with_history: bool = False,
) -> Task:
    """The task with id ``task_id``, optionally with its project, workers, labels and status
    history (oldest first) loaded eagerly.

    Raises:
        InvalidArgumentError: ``task_id`` is not a positive integer.
        NotFoundError: there is no such task.
    """
    _check_task_id(task_id)
    asked = {
        "project": with_project,
        "workers": with_workers,
        "labels": with_labels,
        "history": with_history,
    }
    task = await _load(session, Task, task_id, [name for name, on in asked.items() if on])
    if task is None:
        raise NotFoundError(f"task {task_id} does not exist")
    return task


async def update_task(
    session: AsyncSession, task_id: int, data: TaskUpdate | Mapping[str, Any]
) -> Task:
    """Change only the fields given in ``data`` (PATCH semantics); ``updated_at`` moves on.

    A change of ``status`` is recorded in the task's history (``source='api'``, now). Moving
    to ``completed`` sets ``completed_at`` and ``resolution`` (``done`` unless given); moving
    away clears both; the first move to ``in_progress`` sets ``started_at``. ``labels``
    replaces the task's labels.

    Raises:
        pydantic.ValidationError: a field breaks a rule, a required field is set to null, or a
            key is not a field (the message names the nearest one, or how it is set).
        InvalidArgumentError: ``resolution`` for a task that is not (or not becoming)
            completed.
        NotFoundError: no task ``task_id``, or ``project_id`` names a missing project.
    """
    __tracebackhide__ = True  # IPython leaves this frame out of a shown traceback
    changes = _validated(TaskUpdate, data).model_dump(mode="json", exclude_unset=True)
    task = await get_task(session, task_id)
    if not changes:
        return task
    labels = changes.pop("labels", None)
    status = Status(changes.pop("status", task.status))
    resolution = changes.pop("resolution", None)
    if resolution is not None and status != Status.completed:
        raise InvalidArgumentError(
            f"resolution {resolution!r} is only for completed tasks; task {task_id} is "
            f"{status.value!r} (give status='completed' too)"
        )
    async with _unit_of_work(session):
        if "project_id" in changes:
            await _require_project(session, changes["project_id"])
        if status != task.status:
            assert task.id is not None
            moment = max(utcnow(), task.created_at)
            move = StatusChange(
                task_id=task.id,
                changed_at=moment,
                from_status=task.status,
                to_status=status,
                source=ChangeSource.api,
            )
            session.add(move)
            changes.update(_move(task, status, moment, resolution))
        elif resolution is not None:
            changes["resolution"] = resolution
        if labels is not None:
            await session.refresh(task, attribute_names=["labels"])
            task.labels = await _labels_named(session, labels)
        task.sqlmodel_update(changes)
        session.add(task)
    return task


async def delete_task(session: AsyncSession, task_id: int) -> None:
    """Delete task ``task_id``; its worker assignments go with it (ON DELETE CASCADE).

    Raises:
        InvalidArgumentError: ``task_id`` is not a positive integer.
        NotFoundError: there is no such task.
    """
    _check_task_id(task_id)
    async with _unit_of_work(session):
        result = await session.exec(delete(Task).where(Task.id == task_id))  # type: ignore[arg-type]
        if result.rowcount == 0:
            raise NotFoundError(f"task {task_id} does not exist")


async def _create_unique(
    session: AsyncSession,
    table: type[R],
    create: type[BaseModel],
    data: Any,
    taken: Callable[[R], str],
) -> R:
    """Validate ``data`` with ``create`` and store it as a new ``table`` row, whose unique key
    (a project's name, a worker's id) may already be taken: then ``taken(row)`` says so."""
    __tracebackhide__ = True  # IPython leaves this frame out of a shown traceback
    row = table.model_validate(_validated(create, data).model_dump(mode="json"))
    try:
        async with _unit_of_work(session):
            session.add(row)
    except IntegrityError:
        raise AlreadyExistsError(taken(row)) from None
    return row


async def create_project(session: AsyncSession, data: ProjectCreate | Mapping[str, Any]) -> Project:
    """Validate ``data`` and store a new project.

    Raises:
        pydantic.ValidationError: a field breaks a rule, or a key is not ``name``.
        AlreadyExistsError: a project with that name exists.
    """
    __tracebackhide__ = True  # IPython leaves this frame out of a shown traceback
    return await _create_unique(
        session,
        Project,
        ProjectCreate,
        data,
        lambda p: f"a project named {p.name!r} already exists",
    )


async def get_project(
    session: AsyncSession, project_id: int, *, with_tasks: bool = False
) -> Project:
    """The project with id ``project_id`` (with its tasks loaded when asked).

    Raises:
        NotFoundError: there is no such project.
    """
    _check_task_id(project_id, "project_id")
    project = await _load(session, Project, project_id, ["tasks"] if with_tasks else [])
    if project is None:
        raise NotFoundError(f"project {project_id} does not exist")
    return project


async def create_worker(session: AsyncSession, data: WorkerCreate | Mapping[str, Any]) -> Worker:
    """Validate ``data`` and store a new worker.

    Raises:
        pydantic.ValidationError: a field breaks a rule, or a key is not ``id`` or ``name``.
        AlreadyExistsError: a worker with that id exists.
    """
    __tracebackhide__ = True  # IPython leaves this frame out of a shown traceback

    def taken(worker: Worker) -> str:
        return f"a worker with id {worker.id!r} already exists"

    return await _create_unique(session, Worker, WorkerCreate, data, taken)


async def get_worker(session: AsyncSession, worker_id: str, *, with_tasks: bool = False) -> Worker:
    """The worker with id ``worker_id`` (with its tasks loaded when asked).

    Raises:
        NotFoundError: there is no such worker.
    """
    _check_worker_id(worker_id)
    worker = await _load(session, Worker, worker_id, ["tasks"] if with_tasks else [])
    if worker is None:
        raise NotFoundError(f"worker {worker_id!r} does not exist")
    return worker


async def _require_task_and_worker(session: AsyncSession, task_id: int, worker_id: str) -> None:
    if await session.get(Task, task_id) is None:
        raise NotFoundError(f"task {task_id} does not exist")
    if await session.get(Worker, worker_id) is None:
        raise NotFoundError(f"worker {worker_id!r} does not exist")


async def assign(session: AsyncSession, task_id: int, worker_id: str) -> TaskWorkerLink:
    """Assign worker ``worker_id`` to task ``task_id``; assigning twice is a no-op.

    Raises:
        InvalidArgumentError: an id of the wrong type.
        NotFoundError: the task or the worker does not exist.
    """
    _check_task_id(task_id)
    _check_worker_id(worker_id)
    async with _unit_of_work(session):
        await _require_task_and_worker(session, task_id, worker_id)
        link = await session.get(TaskWorkerLink, (task_id, worker_id))
        if link is None:
            link = TaskWorkerLink(task_id=task_id, worker_id=worker_id)
            session.add(link)
    return link


async def unassign(session: AsyncSession, task_id: int, worker_id: str) -> bool:
    """Remove worker ``worker_id`` from task ``task_id``.

    Returns:
        ``True`` if the worker was assigned, ``False`` if there was nothing to remove.

    Raises:
        InvalidArgumentError: an id of the wrong type.
        NotFoundError: the task or the worker does not exist.
    """
    _check_task_id(task_id)
    _check_worker_id(worker_id)
    statement = delete(TaskWorkerLink).where(
        TaskWorkerLink.task_id == task_id,  # type: ignore[arg-type]
        TaskWorkerLink.worker_id == worker_id,  # type: ignore[arg-type]
    )
    async with _unit_of_work(session):
        await _require_task_and_worker(session, task_id, worker_id)
        result = await session.exec(statement)
    return bool(result.rowcount)
