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

Beyond the teaching model, ``Task`` holds what real trackers record: text as long as theirs, a
``resolution`` that tells finished work from dropped work, ``started_at``, the tracker's type
of work item (``kind``) and labels (a many-to-many ``label`` table), and every status change in
``status_change`` (a one-to-many history), so that flow figures count only work that was done.
"""

import difflib
import enum
from datetime import datetime
from typing import Annotated, Any, ClassVar

import sqlalchemy as sa
from pydantic import (
    AfterValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, Relationship, SQLModel

from taskkit._rules import (
    DESCRIPTION_MAX,
    KEY_MAX,
    KIND_MAX,
    LABEL_MAX,
    NAME_MAX,
    TITLE_MAX,
    WORKER_ID_MAX,
    ChangeSource,
    Description,
    Key,
    Kind,
    LabelName,
    Name,
    Priority,
    RequiredText,
    Resolution,
    Status,
    Title,
    storable_text,
    utcnow,
)

__all__ = [
    "DESCRIPTION_MAX",
    "KEY_MAX",
    "KIND_MAX",
    "LABEL_MAX",
    "NAME_MAX",
    "TITLE_MAX",
    "WORKER_ID_MAX",
    "ChangeSource",
    "InputModel",
    "Label",
    "LabelBase",
    "LabelRead",
    "Priority",
    "Project",
    "ProjectBase",
    "ProjectCreate",
    "ProjectRead",
    "ProjectReadWithTasks",
    "Resolution",
    "Status",
    "StatusChange",
    "StatusChangeRead",
    "Task",
    "TaskBase",
    "TaskCreate",
    "TaskLabelLink",
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
    "started_at": f"{_BY_DATABASE} when status first becomes 'in_progress'; set status instead",
    "history": f"{_BY_DATABASE}: every status change is recorded; set status instead",
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


class TaskLabelLink(SQLModel, table=True):
    """Which label a task carries (the many-to-many link between tasks and labels).

    Links disappear with their task or label (ON DELETE CASCADE). The primary key serves
    "the labels of a task"; the index on ``(label_id, task_id)`` serves "the tasks with a label"
    (``select_tasks(label=...)``). WITHOUT ROWID on SQLite, as the worker links.
    """

    __tablename__ = "task_label_link"
    __table_args__ = (
        Index("ix_task_label_link_label_id_task_id", "label_id", "task_id"),
        {"sqlite_with_rowid": False},
    )

    task_id: int = Field(
        sa_column=Column(Integer, ForeignKey("task.id", ondelete="CASCADE"), primary_key=True)
    )
    label_id: int = Field(
        sa_column=Column(Integer, ForeignKey("label.id", ondelete="CASCADE"), primary_key=True)
    )


# ---------------------------------------------------------------------------------------------
# Label family.


class LabelBase(SQLModel):
    """Label fields and their rules: a name as the tracker spells it (``bug``, ``Sprint 12``)."""

    name: LabelName = Field(unique=True, index=True, sa_type=sa.String(LABEL_MAX))


class Label(LabelBase, table=True):
    """The ``label`` table: one row per distinct name; tasks carry labels through links.

    Names are case-sensitive (``Bug`` and ``bug`` are two labels), as GitHub and Jira keep them.
    Create tasks with ``labels=["bug", ...]``: taskkit makes the rows it needs.
    """

    __table_args__ = (
        CheckConstraint(
            f"length(trim(name)) >= 1 AND length(name) <= {LABEL_MAX}", name="ck_label_name"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    tasks: list["Task"] = Relationship(
        back_populates="labels",
        link_model=TaskLabelLink,
        passive_deletes=True,
        sa_relationship_kwargs={"lazy": "raise_on_sql"},
    )


class LabelRead(LabelBase):
    """A label as returned to a reader."""

    id: int


# ---------------------------------------------------------------------------------------------
# Project family.


class ProjectBase(SQLModel):
    """Project fields and their rules, shared by the table and the API models."""

    name: Name = Field(unique=True, index=True, sa_type=sa.String(NAME_MAX))


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

    name: Name = Field(sa_type=sa.String(NAME_MAX))


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

    * ``completed_at`` and ``resolution`` are set exactly when ``status`` is ``completed`` (CHECKs
      hold both): the moment the task left the flow, and whether it was done or dropped.
    * ``started_at`` is the first move into ``in_progress``; it stays when a task moves back,
      and is NULL when no start is known (a task completed straight from ``pending``, or
      imported from a file that does not say). Cycle time is ``completed_at - started_at``.
    * ``history`` lists every status change (``status_change``); ``labels`` and ``workers`` are
      many-to-many.

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
        CheckConstraint(
            # IS NOT NULL: a CHECK passes when it is NULL, and `NULL = 'done'` is NULL.
            f"(status = 'completed' AND resolution IS NOT NULL AND "
            f"({_one_of('resolution', Resolution)}))"
            " OR (status <> 'completed' AND resolution IS NULL)",
            name="ck_task_resolution",
        ),
        CheckConstraint(
            "started_at IS NULL OR (started_at >= created_at"
            " AND (completed_at IS NULL OR completed_at >= started_at))",
            name="ck_task_started_at",
        ),
        CheckConstraint(
            f"kind IS NULL OR (length(trim(kind)) >= 1 AND length(kind) <= {KIND_MAX})",
            name="ck_task_kind",
        ),
        # Status has three values: an index on it alone rarely beats a scan, but "pending
        # tasks, newest first" (and keyset pages of it) reads this one in order.
        Index("ix_task_status_created_at", "status", "created_at"),
        # Finished work by day (throughput, cycle times of done work) reads this one alone:
        # 1M tasks, per-day counts in 0.1 s instead of 2 s grouping the table on SQLite, and
        # cycle times (which need started_at too) in 0.5 s instead of 4 s of row lookups.
        Index(
            "ix_task_resolution_completed_at_started_at",
            "resolution",
            "completed_at",
            "started_at",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_column_kwargs={"onupdate": utcnow})
    completed_at: datetime | None = None
    # The tracker's own key, unique: re-importing an export updates the task that has it.
    # Declared after the timestamps, where migration 0004 added the column.
    key: str | None = Field(default=None, unique=True, index=True, sa_type=sa.String(KEY_MAX))
    # Added by migration 0005, in this order.
    resolution: Resolution | None = Field(default=None, sa_type=_stored_as_text(Resolution))
    started_at: datetime | None = None
    kind: str | None = Field(default=None, sa_type=sa.String(KIND_MAX))
    project: Project | None = Relationship(
        back_populates="tasks", sa_relationship_kwargs={"lazy": "raise_on_sql"}
    )
    workers: list[Worker] = Relationship(
        back_populates="tasks",
        link_model=TaskWorkerLink,
        passive_deletes=True,
        sa_relationship_kwargs={"lazy": "raise_on_sql"},
    )
    labels: list[Label] = Relationship(
        back_populates="tasks",
        link_model=TaskLabelLink,
        passive_deletes=True,
        sa_relationship_kwargs={"lazy": "raise_on_sql"},
    )
    history: list["StatusChange"] = Relationship(
        back_populates="task",
        passive_deletes=True,
        sa_relationship_kwargs={
            "lazy": "raise_on_sql",
            "order_by": "(StatusChange.changed_at, StatusChange.id)",
        },
    )


def _labels_once(value: list[str]) -> list[str]:
    # A label twice is one label: keep the first spelling's place, drop the repeat.
    return list(dict.fromkeys(value))


Labels = Annotated[list[LabelName], AfterValidator(_labels_once)]


class TaskCreate(InputModel, TaskBase):
    """What a caller sends to create a task: every rule of TaskBase is checked here.

    ``resolution`` only goes with ``status='completed'``; a completed task without one is
    ``done`` (completing a task means doing it unless you say it was dropped). ``labels`` are
    names; labels that do not exist yet are created.
    """

    key: Key | None = None
    resolution: Resolution | None = None
    kind: Kind | None = None
    labels: Labels = []

    set_elsewhere: ClassVar[dict[str, str]] = _TASK_SET_ELSEWHERE

    @model_validator(mode="after")
    def _resolution_goes_with_completed(self) -> "TaskCreate":
        if self.status == Status.completed:
            if self.resolution is None:
                self.resolution = Resolution.done
        elif self.resolution is not None:
            raise ValueError(
                f"resolution {self.resolution.value!r} is only for completed tasks; "
                f"status is {self.status.value!r} (give status='completed' too, or no resolution)"
            )
        return self


class TaskUpdate(InputModel):
    """PATCH semantics: every field optional; only the fields given are changed.

    ``labels`` replaces the task's labels with the names given (``[]`` removes them all).
    ``resolution`` is for completed tasks (given with ``status='completed'``, or to correct
    the resolution of a task that is completed already); moving a task away from
    ``completed`` clears it.
    """

    set_elsewhere: ClassVar[dict[str, str]] = _TASK_SET_ELSEWHERE

    title: Title | None = None
    description: Description | None = None
    status: Status | None = None
    priority: Priority | None = None
    project_id: int | None = None
    resolution: Resolution | None = None
    kind: Kind | None = None
    labels: Labels | None = None

    @field_validator("title", "status", "priority", "labels")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Only runs for values the caller gave: omitting a field keeps the current value.
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep the current value")
        return value

    @model_validator(mode="after")
    def _resolution_goes_with_completed(self) -> "TaskUpdate":
        if self.resolution is not None and self.status not in (None, Status.completed):
            raise ValueError(
                f"resolution {self.resolution.value!r} is only for completed tasks; "
                f"status is being set to {self.status.value!r}"
            )
        return self


class TaskRead(TaskBase):
    """A task as returned to a reader."""

    id: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    key: str | None = None
    resolution: Resolution | None = None
    started_at: datetime | None = None
    kind: str | None = None


# ---------------------------------------------------------------------------------------------
# Status history: one row per change of a task's status (one-to-many from Task).


class StatusChangeBase(SQLModel):
    """A move of one task from one status to another, when, and where taskkit learned it."""

    task_id: int = Field(
        sa_column=Column(Integer, ForeignKey("task.id", ondelete="CASCADE"), nullable=False)
    )
    changed_at: datetime
    from_status: Status | None = Field(default=None, sa_type=_stored_as_text(Status))
    to_status: Status = Field(sa_type=_stored_as_text(Status))
    source: ChangeSource = Field(sa_type=_stored_as_text(ChangeSource))


class StatusChange(StatusChangeBase, table=True):
    """The ``status_change`` table: a task's history, oldest first by ``(changed_at, id)``.

    ``from_status`` is NULL on the row that records the status a task was created with. Rows
    go with their task (ON DELETE CASCADE). Written by taskkit, never by callers: by
    ``create_task`` and ``update_task``, by imports (from the tracker's own history where the
    export has it, else from what changed between two exports), and by ``seed``.
    """

    __tablename__ = "status_change"
    __table_args__ = (
        CheckConstraint(_one_of("to_status", Status), name="ck_status_change_to_status"),
        CheckConstraint(
            f"from_status IS NULL OR (from_status <> to_status AND "
            f"({_one_of('from_status', Status)}))",
            name="ck_status_change_from_status",
        ),
        CheckConstraint(_one_of("source", ChangeSource), name="ck_status_change_source"),
        # A task's history in order, and every read of the history by task.
        Index("ix_status_change_task_id_changed_at", "task_id", "changed_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    task: Task | None = Relationship(
        back_populates="history", sa_relationship_kwargs={"lazy": "raise_on_sql"}
    )


class StatusChangeRead(StatusChangeBase):
    """A status change as returned to a reader."""

    id: int


class TaskReadWithRelations(TaskRead):
    """A task with its project, workers, labels and history.

    Load them eagerly first: ``get_task(s, id, with_project=True, with_workers=True,
    with_labels=True, with_history=True)``.
    """

    project: ProjectRead | None = None
    workers: list[WorkerRead] = []
    labels: list[LabelRead] = []
    history: list[StatusChangeRead] = []


ProjectReadWithTasks.model_rebuild()
WorkerReadWithTasks.model_rebuild()
