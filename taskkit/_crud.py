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
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from taskkit._checks import positive_int
from taskkit._db import begin_writing, has_open_work, reading
from taskkit._errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from taskkit._models import (
    Project,
    ProjectCreate,
    Status,
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
    """``data`` as a validated ``model``: a dict is validated, a model instance re-checked."""
    if isinstance(data, model):
        # Re-validate: an instance built with model_construct() skipped its rules.
        return model.model_validate({name: getattr(data, name) for name in data.model_fields_set})
    if isinstance(data, Mapping):
        return model.model_validate(dict(data))
    raise InvalidArgumentError(
        f"{argument} must be a {model.__name__} or a dict, got {type(data).__name__}"
    )


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


async def create_task(session: AsyncSession, data: TaskCreate | Mapping[str, Any]) -> Task:
    """Validate ``data`` and store it as a new task.

    Returns:
        The stored ``Task``, with ``id`` and timestamps set.

    Raises:
        pydantic.ValidationError: a field breaks a rule (names the field and what is allowed),
            or a key is not a field: ``unknown field 'statuss'; did you mean 'status'?``;
            ``id``, the timestamps, ``workers`` and ``project`` are refused with how they are set.
        NotFoundError: ``project_id`` refers to a project that does not exist.
    """
    task = Task.model_validate(_validated(TaskCreate, data).model_dump(mode="json"))
    if task.status == Status.completed:
        task.completed_at = task.created_at
    async with _unit_of_work(session):
        await _require_project(session, task.project_id)
        session.add(task)
    return task


async def get_task(
    session: AsyncSession,
    task_id: int,
    *,
    with_project: bool = False,
    with_workers: bool = False,
) -> Task:
    """The task with id ``task_id``, optionally with its project and workers loaded eagerly.

    Raises:
        InvalidArgumentError: ``task_id`` is not a positive integer.
        NotFoundError: there is no such task.
    """
    _check_task_id(task_id)
    wanted = [
        name for name, asked in (("project", with_project), ("workers", with_workers)) if asked
    ]
    task = await _load(session, Task, task_id, wanted)
    if task is None:
        raise NotFoundError(f"task {task_id} does not exist")
    return task


async def update_task(
    session: AsyncSession, task_id: int, data: TaskUpdate | Mapping[str, Any]
) -> Task:
    """Change only the fields given in ``data`` (PATCH semantics); ``updated_at`` moves on.

    Moving ``status`` to ``completed`` sets ``completed_at``; moving it away clears it.

    Raises:
        pydantic.ValidationError: a field breaks a rule, a required field is set to null, or a
            key is not a field (the message names the nearest one, or how it is set).
        NotFoundError: no task ``task_id``, or ``project_id`` names a missing project.
    """
    changes = _validated(TaskUpdate, data).model_dump(mode="json", exclude_unset=True)
    task = await get_task(session, task_id)
    if not changes:
        return task
    async with _unit_of_work(session):
        if "project_id" in changes:
            await _require_project(session, changes["project_id"])
        if "status" in changes and changes["status"] != task.status:
            # completed_at follows status (the table's CHECK insists on it).
            completed = changes["status"] == Status.completed
            changes["completed_at"] = max(utcnow(), task.created_at) if completed else None
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
