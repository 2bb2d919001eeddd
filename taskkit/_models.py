"""The task data model: one model family per entity, in the form that works on current releases.

The hierarchy is the one in the SQLModel patterns (Base -> Table -> Create/Update/Read), with
five changes, each because the pattern's form fails on SQLModel 0.0.50 / SQLAlchemy 2.1:

* ``status`` and ``priority`` are ``StrEnum`` fields stored as short strings with a CHECK
  constraint. ``Literal[...]`` on a ``table=True`` model raises ``TypeError`` at class
  definition, and SQLAlchemy's ``Enum`` would store member *names* and create a native
  PostgreSQL type that migrations must manage.
* Timestamps are timezone-aware UTC (``datetime.now(UTC)``); SQLModel rejects naive values and
  returns aware UTC on both SQLite and PostgreSQL.
* ``table=True`` models do not validate on construction, so data from outside goes through
  ``TaskCreate`` / ``TaskUpdate`` first (the CRUD helpers do this), and the database holds the
  same rules as CHECK / NOT NULL / FOREIGN KEY constraints so that a raw ``INSERT`` fails too.
* Relationships use ``lazy="raise_on_sql"``: in async code an implicit lazy load would fail
  with ``MissingGreenlet``; this way the mistake is a clear error naming the relationship, and
  the fix (``selectinload`` or ``await session.refresh(obj, ["tasks"])``) is explicit.
* The Create/Update models refuse keys that are not their fields (``InputModel``): pydantic
  ignores unknown keys by default, so a misspelled ``statuss`` would be dropped without a word.
"""

import difflib
import enum
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

import sqlalchemy as sa
from pydantic import (
    AfterValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, Relationship, SQLModel

__all__ = [
    "DESCRIPTION_MAX",
    "KEY_MAX",
    "NAME_MAX",
    "TITLE_MAX",
    "WORKER_ID_MAX",
    "InputModel",
    "Priority",
    "Project",
    "ProjectBase",
    "ProjectCreate",
    "ProjectRead",
    "ProjectReadWithTasks",
    "Status",
    "Task",
    "TaskBase",
    "TaskCreate",
    "TaskRead",
    "TaskReadWithRelations",
    "TaskUpdate",
    "TaskWorkerLink",
    "Worker",
    "WorkerBase",
    "WorkerCreate",
    "WorkerRead",
    "WorkerReadWithTasks",
    "storable_text",
    "utcnow",
]

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
NAME_MAX = 100
WORKER_ID_MAX = 64
KEY_MAX = 200  # a tracker's own key: HIVE-28515, owner/repo#1404, an Asana id


class Status(enum.StrEnum):
    """Where a task stands. Declaration order is the natural order (used for categories)."""

    pending = "pending"
    in_progress = "in_progress"
    completed = "completed"


class Priority(enum.StrEnum):
    """How urgent a task is, from least to most."""

    low = "low"
    medium = "medium"
    high = "high"


def utcnow() -> datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


def storable_text(value: str) -> str:
    """``value`` if both SQLite and PostgreSQL can store it; ``ValueError`` otherwise."""
    # SQLite accepts NUL bytes and PostgreSQL rejects them; lone surrogates fail on both, but
    # only at commit time. Rejecting both here keeps the two backends accepting the same data.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters (\\x00)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it contains a lone surrogate)") from None
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Description = Annotated[
    str, StringConstraints(max_length=DESCRIPTION_MAX), AfterValidator(storable_text)
]
RequiredText = Annotated[str, AfterValidator(storable_text), AfterValidator(_not_blank)]
Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TITLE_MAX),
    AfterValidator(storable_text),
    AfterValidator(_not_blank),
]

Key = Annotated[
    str,
    StringConstraints(min_length=1, max_length=KEY_MAX),
    AfterValidator(storable_text),
    AfterValidator(_not_blank),
]


class InputModel(SQLModel):
    """Base of the models data from outside goes through: unknown keys are refused.

    pydantic ignores unknown keys by default, so ``{"statuss": "completed"}`` would store a
    pending task without a word. Here each unknown key is a validation error that names it and
    the nearest allowed field (``unknown field 'statuss'; did you mean 'status'?``), or says
    how to set it when the database or another helper sets it (``set_elsewhere``). Reported
    together with the other field errors, in one ``pydantic.ValidationError``.

    Only the input (Create/Update) models derive from it: table models and read models keep
    pydantic's default, since they are built from database rows, not from callers.
    """

    # SQLModel types model_config as its own TypedDict, a ConfigDict with table options; a
    # ConfigDict merges into it the same way (pydantic merges a subclass's config).
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]
    # Keys a caller might send that are not fields of this model, and how they are set.
    set_elsewhere: ClassVar[dict[str, str]] = {}

    @model_validator(mode="wrap")
    @classmethod
    def _name_unknown_keys(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            errors = exc.errors()
            if not any(e["type"] == "extra_forbidden" for e in errors):
                raise
            details = [
                _unknown_key(cls, e) if e["type"] == "extra_forbidden" else _kept(e) for e in errors
            ]
            raise ValidationError.from_exception_data(exc.title, details) from None

    @classmethod
    def unknown_key_message(cls, key: Any) -> str:
        """What is wrong with ``key``, which is not a field of this model, and what to send."""
        if isinstance(key, str) and key in cls.set_elsewhere:
            return f"{key!r} {cls.set_elsewhere[key]}"
        fields = list(cls.model_fields)
        near = difflib.get_close_matches(key, fields, n=1) if isinstance(key, str) else []
        hint = f"did you mean {near[0]!r}?" if near else f"allowed: {', '.join(fields)}"
        return f"unknown field {key!r}; {hint}"


def _unknown_key(model: type[InputModel], error: Any) -> InitErrorDetails:
    message = model.unknown_key_message(error["loc"][-1])
    # The message goes in through the context: a template would read braces in a key as
    # placeholders.
    kind = PydanticCustomError("unknown_field", "{message}", {"message": message})
    return {"type": kind, "loc": error["loc"], "input": error["input"]}


def _kept(error: Any) -> InitErrorDetails:
    kept: InitErrorDetails = {"type": error["type"], "loc": error["loc"], "input": error["input"]}
    if "ctx" in error:
        kept["ctx"] = error["ctx"]
    return kept


_BY_DATABASE = "is set by the database"
_TASK_SET_ELSEWHERE = {
    "id": f"{_BY_DATABASE} (the task's id)",
    "created_at": f"{_BY_DATABASE} when the task is stored",
    "updated_at": f"{_BY_DATABASE} on every change",
    "completed_at": f"{_BY_DATABASE} when status becomes 'completed'; set status instead",
    "workers": "cannot be set here; assign workers with taskkit.assign(session, task_id, "
    "worker_id)",
    "project": "cannot be set here; give project_id, the id of an existing project",
}


def _stored_as_text(values: type[enum.StrEnum]) -> sa.Enum:
    """A VARCHAR holding the member's value, read back as the enum member.

    Not a native PostgreSQL ENUM type (migrations would have to manage it) and without
    SQLAlchemy's own CHECK (the table declares a named one, below).
    """
    return sa.Enum(
        values,
        native_enum=False,
        create_constraint=False,
        length=max(len(m.value) for m in values),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _one_of(column: str, values: type[enum.StrEnum]) -> str:
    # `a = 'x' OR a = 'y'` rather than `a IN ('x', 'y')`: SQLite evaluates an IN list in a CHECK
    # through a temporary table per row, which measured twice as slow on bulk inserts.
    return " OR ".join(f"{column} = '{member.value}'" for member in values)


# ---------------------------------------------------------------------------------------------
class TaskWorkerLink(SQLModel, table=True):
    """Which worker is assigned to which task (the many-to-many link table).

    Links disappear with their task or worker (ON DELETE CASCADE). On SQLite the table is
    WITHOUT ROWID: the composite primary key is the table, one B-tree instead of two.
    """

    __table_args__ = {"sqlite_with_rowid": False}

    task_id: int = Field(
        sa_column=Column(Integer, ForeignKey("task.id", ondelete="CASCADE"), primary_key=True)
    )
    worker_id: str = Field(
        sa_column=Column(
            String(WORKER_ID_MAX), ForeignKey("worker.id", ondelete="CASCADE"), primary_key=True
        )
    )


# ---------------------------------------------------------------------------------------------
# Project family.


class ProjectBase(SQLModel):
    """Project fields and their rules, shared by the table and the API models."""

    name: RequiredText = Field(min_length=1, max_length=NAME_MAX, unique=True, index=True)


class Project(ProjectBase, table=True):
    """The ``project`` table. Deleting a project keeps its tasks (project_id becomes NULL)."""

    __table_args__ = (
        CheckConstraint(
            f"length(trim(name)) >= 1 AND length(name) <= {NAME_MAX}", name="ck_project_name"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    tasks: list["Task"] = Relationship(
        back_populates="project",
        passive_deletes=True,
        sa_relationship_kwargs={"lazy": "raise_on_sql"},
    )


class ProjectCreate(InputModel, ProjectBase):
    """What a caller sends to create a project (validated, unlike the table model)."""

    set_elsewhere: ClassVar[dict[str, str]] = {
        "id": f"{_BY_DATABASE} (the project's id)",
        "tasks": "cannot be set here; give each task this project's id as project_id",
    }


class ProjectRead(ProjectBase):
    """A project as returned to a reader."""

    id: int


class ProjectReadWithTasks(ProjectRead):
    """A project with its tasks (load with ``selectinload(Project.tasks)``)."""

    tasks: list["TaskRead"] = []


# ---------------------------------------------------------------------------------------------
# Worker family.


class WorkerBase(SQLModel):
    """Worker fields and their rules, shared by the table and the API models."""

    name: RequiredText = Field(min_length=1, max_length=NAME_MAX)


class Worker(WorkerBase, table=True):
    """The ``worker`` table; ``id`` is a caller-chosen string such as ``"w-017"``."""

    __table_args__ = (
        CheckConstraint(
            f"length(trim(id)) >= 1 AND length(id) <= {WORKER_ID_MAX}", name="ck_worker_id"
        ),
        CheckConstraint(
            f"length(trim(name)) >= 1 AND length(name) <= {NAME_MAX}", name="ck_worker_name"
        ),
    )
    id: str = Field(primary_key=True, max_length=WORKER_ID_MAX)
    tasks: list["Task"] = Relationship(
        back_populates="workers",
        link_model=TaskWorkerLink,
        passive_deletes=True,
        sa_relationship_kwargs={"lazy": "raise_on_sql"},
    )


class WorkerCreate(InputModel, WorkerBase):
    """What a caller sends to create a worker (validated, unlike the table model)."""

    set_elsewhere: ClassVar[dict[str, str]] = {
        "tasks": "cannot be set here; assign tasks with taskkit.assign(session, task_id, "
        "worker_id)",
    }

    id: RequiredText = Field(min_length=1, max_length=WORKER_ID_MAX)


class WorkerRead(WorkerBase):
    """A worker as returned to a reader."""

    id: str


class WorkerReadWithTasks(WorkerRead):
    """A worker with its tasks (load with ``selectinload(Worker.tasks)``)."""

    tasks: list["TaskRead"] = []


# ---------------------------------------------------------------------------------------------
# Task family.


class TaskBase(SQLModel):
    """Task fields and their rules, shared by the table, TaskCreate and TaskRead."""

    title: Title = Field(index=True, sa_type=sa.String(TITLE_MAX))
    description: Description | None = Field(default=None, sa_type=sa.Text)
    status: Status = Field(default=Status.pending, sa_type=_stored_as_text(Status))
    priority: Priority = Field(default=Priority.medium, sa_type=_stored_as_text(Priority))
    project_id: int | None = Field(
        default=None, foreign_key="project.id", ondelete="SET NULL", index=True
    )


class Task(TaskBase, table=True):
    """The ``task`` table. Timestamps are aware UTC; ``updated_at`` moves on every ORM update.

    ``completed_at`` is set exactly when ``status`` is ``completed`` (a CHECK holds it), so
    cycle time is ``completed_at - created_at``.

    Building a ``Task(...)`` directly does not validate (SQLModel table models skip
    validation): send data from outside through ``TaskCreate`` or ``taskkit.create_task``.
    """

    __table_args__ = (
        CheckConstraint(_one_of("status", Status), name="ck_task_status"),
        CheckConstraint(_one_of("priority", Priority), name="ck_task_priority"),
        CheckConstraint(
            f"length(trim(title)) >= 1 AND length(title) <= {TITLE_MAX}", name="ck_task_title"
        ),
        CheckConstraint(
            f"description IS NULL OR length(description) <= {DESCRIPTION_MAX}",
            name="ck_task_description",
        ),
        CheckConstraint("updated_at >= created_at", name="ck_task_updated_after_created"),
        CheckConstraint(
            "(status = 'completed' AND completed_at IS NOT NULL AND completed_at >= created_at)"
            " OR (status <> 'completed' AND completed_at IS NULL)",
            name="ck_task_completed_at",
        ),
        # Status has three values: an index on it alone rarely beats a scan, but "pending
        # tasks, newest first" (and keyset pages of it) reads this one in order.
        Index("ix_task_status_created_at", "status", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_column_kwargs={"onupdate": utcnow})
    completed_at: datetime | None = None
    # The tracker's own key, unique: re-importing an export updates the task that has it.
    # Declared last, where migration 0004 added the column.
    key: str | None = Field(default=None, unique=True, index=True, sa_type=sa.String(KEY_MAX))
    project: Project | None = Relationship(
        back_populates="tasks", sa_relationship_kwargs={"lazy": "raise_on_sql"}
    )
    workers: list[Worker] = Relationship(
        back_populates="tasks",
        link_model=TaskWorkerLink,
        passive_deletes=True,
        sa_relationship_kwargs={"lazy": "raise_on_sql"},
    )


class TaskCreate(InputModel, TaskBase):
    """What a caller sends to create a task: every rule of TaskBase is checked here."""

    key: Key | None = None

    set_elsewhere: ClassVar[dict[str, str]] = _TASK_SET_ELSEWHERE


class TaskUpdate(InputModel):
    """PATCH semantics: every field optional; only the fields given are changed."""

    set_elsewhere: ClassVar[dict[str, str]] = _TASK_SET_ELSEWHERE

    title: Title | None = None
    description: Description | None = None
    status: Status | None = None
    priority: Priority | None = None
    project_id: int | None = None

    @field_validator("title", "status", "priority")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Only runs for values the caller gave: omitting a field keeps the current value.
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep the current value")
        return value


class TaskRead(TaskBase):
    """A task as returned to a reader."""

    id: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    key: str | None = None


class TaskReadWithRelations(TaskRead):
    """A task with its project and workers.

    Load them eagerly first: ``get_task(s, id, with_project=True, with_workers=True)``.
    """

    project: ProjectRead | None = None
    workers: list[WorkerRead] = []


ProjectReadWithTasks.model_rebuild()
WorkerReadWithTasks.model_rebuild()
