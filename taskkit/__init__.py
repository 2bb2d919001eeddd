"""taskkit: explore task data with SQLModel in Jupyter.

The public API is what ``__all__`` lists; everything else lives in private-by-convention
modules and may change. See README.md for a tour.
"""

from importlib.metadata import version as _version

from taskkit.crud import (
    assign,
    create_project,
    create_task,
    create_worker,
    delete_task,
    get_project,
    get_task,
    get_worker,
    unassign,
    update_task,
)
from taskkit.db import connect, create_db_and_tables, database_url, get_session, session
from taskkit.errors import (
    AlreadyExistsError,
    BulkWriteError,
    ConfigurationError,
    DatabaseNotEmptyError,
    DatabaseUnavailableError,
    InvalidArgumentError,
    InvalidCursorError,
    InvalidDataError,
    LoadError,
    MigrationError,
    NotFoundError,
    TaskkitError,
)
from taskkit.explore import explore
from taskkit.frames import models_to_frame, to_dataframe
from taskkit.load import LoadSummary, RowProblem, load_tasks
from taskkit.migrate import ensure_schema
from taskkit.models import (
    Priority,
    Project,
    ProjectCreate,
    ProjectRead,
    ProjectReadWithTasks,
    Status,
    Task,
    TaskBase,
    TaskCreate,
    TaskRead,
    TaskReadWithRelations,
    TaskUpdate,
    TaskWorkerLink,
    Worker,
    WorkerCreate,
    WorkerRead,
    WorkerReadWithTasks,
)
from taskkit.paging import Page, pages, paginate, paginate_offset
from taskkit.query import (
    any_of,
    count,
    project_progress,
    select_tasks,
    status_priority_counts,
    tasks_per_week,
    worker_load,
)
from taskkit.seed import SeedSummary, seed
from taskkit.sql_view import QueryPlan, explain, show_sql

__version__ = _version("taskkit")

__all__ = [
    "AlreadyExistsError",
    "BulkWriteError",
    "ConfigurationError",
    "DatabaseNotEmptyError",
    "DatabaseUnavailableError",
    "InvalidArgumentError",
    "InvalidCursorError",
    "InvalidDataError",
    "LoadError",
    "LoadSummary",
    "MigrationError",
    "NotFoundError",
    "Page",
    "Priority",
    "Project",
    "ProjectCreate",
    "ProjectRead",
    "ProjectReadWithTasks",
    "QueryPlan",
    "RowProblem",
    "SeedSummary",
    "Status",
    "Task",
    "TaskBase",
    "TaskCreate",
    "TaskRead",
    "TaskReadWithRelations",
    "TaskUpdate",
    "TaskWorkerLink",
    "TaskkitError",
    "Worker",
    "WorkerCreate",
    "WorkerRead",
    "WorkerReadWithTasks",
    "__version__",
    "any_of",
    "assign",
    "connect",
    "count",
    "create_db_and_tables",
    "create_project",
    "create_task",
    "create_worker",
    "database_url",
    "delete_task",
    "ensure_schema",
    "explain",
    "explore",
    "get_project",
    "get_session",
    "get_task",
    "get_worker",
    "load_tasks",
    "models_to_frame",
    "pages",
    "paginate",
    "paginate_offset",
    "project_progress",
    "seed",
    "select_tasks",
    "session",
    "show_sql",
    "status_priority_counts",
    "tasks_per_week",
    "to_dataframe",
    "unassign",
    "update_task",
    "worker_load",
]
