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
    LoadError,
    MigrationError,
    NotFoundError,
    TaskkitError,
)
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
from taskkit.seed import SeedSummary, seed

__version__ = _version("taskkit")

__all__ = [
    "AlreadyExistsError",
    "BulkWriteError",
    "ConfigurationError",
    "DatabaseNotEmptyError",
    "DatabaseUnavailableError",
    "InvalidArgumentError",
    "LoadError",
    "LoadSummary",
    "MigrationError",
    "NotFoundError",
    "Priority",
    "Project",
    "ProjectCreate",
    "ProjectRead",
    "ProjectReadWithTasks",
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
    "assign",
    "connect",
    "create_db_and_tables",
    "create_project",
    "create_task",
    "create_worker",
    "database_url",
    "delete_task",
    "ensure_schema",
    "get_project",
    "get_session",
    "get_task",
    "get_worker",
    "load_tasks",
    "seed",
    "session",
    "unassign",
    "update_task",
]
