"""taskkit: explore task data with SQLModel in Jupyter.

The public API is what ``__all__`` lists (and docs/api.md, the API reference); everything else
lives in private modules (``taskkit/_*.py``) and may change. See README.md for a tour.
"""

import typing as _typing
from importlib import import_module as _import_module

# Names load on first use (PEP 562): `taskkit --help` must not import pandas, SQLAlchemy and
# Alembic. Type checkers and readers see the imports below.
if _typing.TYPE_CHECKING:
    from taskkit._cli import cli
    from taskkit._crud import (
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
    from taskkit._database.access import require_existing_database, require_taskkit_database
    from taskkit._database.engine import (
        connect,
        create_db_and_tables,
        database_url,
        get_session,
        session,
    )
    from taskkit._errors import (
        AlreadyExistsError,
        BulkWriteError,
        ConfigurationError,
        DatabaseNotEmptyError,
        DatabaseUnavailableError,
        ForeignDatabaseError,
        InvalidArgumentError,
        InvalidCursorError,
        InvalidDataError,
        LoadError,
        MigrationError,
        MissingExtraError,
        MissingTablesError,
        NotFoundError,
        TaskkitError,
        WriteConflictError,
    )
    from taskkit._explore import explore
    from taskkit._flow.age import work_item_age
    from taskkit._flow.charts import (
        plot_ageing_wip,
        plot_cumulative_flow,
        plot_cycle_times,
        plot_forecast,
        plot_throughput,
        plot_work_in_progress,
    )
    from taskkit._flow.cycle_time import cycle_time_percentiles, cycle_times
    from taskkit._flow.forecast import Forecast, forecast_how_many, forecast_when
    from taskkit._flow.states import cumulative_flow, time_in_state, work_in_progress
    from taskkit._flow.throughput import throughput
    from taskkit._frames import models_to_frame, to_dataframe
    from taskkit._importers.load import load_tasks
    from taskkit._importers.mapping import ImportMapping
    from taskkit._importers.options import ImportOptions
    from taskkit._importers.summary import LoadSummary, RowProblem
    from taskkit._migrate.commands import (
        check_schema,
        downgrade_schema,
        schema_revision,
        stamp_schema,
        upgrade_schema,
    )
    from taskkit._migrate.ensure import ensure_schema
    from taskkit._migrate.revisions import RevisionInfo, schema_history
    from taskkit._models import (
        ChangeSource,
        Label,
        LabelRead,
        Priority,
        Project,
        ProjectCreate,
        ProjectRead,
        ProjectReadWithTasks,
        Resolution,
        Status,
        StatusChange,
        StatusChangeRead,
        Task,
        TaskBase,
        TaskCreate,
        TaskLabelLink,
        TaskRead,
        TaskReadWithRelations,
        TaskUpdate,
        TaskWorkerLink,
        Worker,
        WorkerCreate,
        WorkerRead,
        WorkerReadWithTasks,
        utcnow,
    )
    from taskkit._paging import Page, pages, paginate, paginate_offset
    from taskkit._query import (
        any_of,
        project_progress,
        select_history,
        select_tasks,
        status_priority_counts,
        tasks_per_week,
        worker_load,
    )
    from taskkit._seed import SeedSummary, seed
    from taskkit._spreadsheet import spreadsheet_safe
    from taskkit._sql.select import count
    from taskkit._sql.view import QueryPlan, explain, show_sql

_MODULES: dict[str, tuple[str, ...]] = {
    "taskkit._cli": ("cli",),
    "taskkit._sql.view": ("QueryPlan", "explain", "show_sql"),
    "taskkit._sql.select": ("count",),
    "taskkit._crud": (
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
    ),
    "taskkit._database.engine": (
        "connect",
        "create_db_and_tables",
        "database_url",
        "get_session",
        "session",
    ),
    "taskkit._errors": (
        "AlreadyExistsError",
        "BulkWriteError",
        "ConfigurationError",
        "DatabaseNotEmptyError",
        "DatabaseUnavailableError",
        "ForeignDatabaseError",
        "InvalidArgumentError",
        "InvalidCursorError",
        "InvalidDataError",
        "LoadError",
        "MigrationError",
        "MissingExtraError",
        "MissingTablesError",
        "NotFoundError",
        "TaskkitError",
        "WriteConflictError",
    ),
    "taskkit._frames": (
        "models_to_frame",
        "to_dataframe",
    ),
    "taskkit._spreadsheet": ("spreadsheet_safe",),
    "taskkit._explore": ("explore",),
    "taskkit._flow.age": ("work_item_age",),
    "taskkit._flow.charts": (
        "plot_ageing_wip",
        "plot_cumulative_flow",
        "plot_cycle_times",
        "plot_forecast",
        "plot_throughput",
        "plot_work_in_progress",
    ),
    "taskkit._flow.cycle_time": ("cycle_time_percentiles", "cycle_times"),
    "taskkit._flow.forecast": ("Forecast", "forecast_how_many", "forecast_when"),
    "taskkit._flow.states": ("cumulative_flow", "time_in_state", "work_in_progress"),
    "taskkit._flow.throughput": ("throughput",),
    "taskkit._importers.mapping": ("ImportMapping",),
    "taskkit._importers.options": ("ImportOptions",),
    "taskkit._importers.summary": (
        "LoadSummary",
        "RowProblem",
    ),
    "taskkit._importers.load": ("load_tasks",),
    "taskkit._migrate.commands": (
        "check_schema",
        "downgrade_schema",
        "schema_revision",
        "stamp_schema",
        "upgrade_schema",
    ),
    "taskkit._migrate.ensure": ("ensure_schema",),
    "taskkit._migrate.revisions": ("RevisionInfo", "schema_history"),
    "taskkit._models": (
        "ChangeSource",
        "Label",
        "LabelRead",
        "Priority",
        "Project",
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
        "WorkerCreate",
        "WorkerRead",
        "WorkerReadWithTasks",
        "utcnow",
    ),
    "taskkit._database.access": ("require_existing_database", "require_taskkit_database"),
    "taskkit._paging": (
        "Page",
        "pages",
        "paginate",
        "paginate_offset",
    ),
    "taskkit._query": (
        "any_of",
        "project_progress",
        "select_history",
        "select_tasks",
        "status_priority_counts",
        "tasks_per_week",
        "worker_load",
    ),
    "taskkit._seed": (
        "SeedSummary",
        "seed",
    ),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> _typing.Any:
    if name == "__version__":
        from importlib.metadata import version

        value: _typing.Any = version("taskkit")
    elif name in _WHERE:
        value = getattr(_import_module(_WHERE[name]), name)
    else:
        raise AttributeError(f"module 'taskkit' has no attribute {name!r}")
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "AlreadyExistsError",
    "BulkWriteError",
    "ChangeSource",
    "ConfigurationError",
    "DatabaseNotEmptyError",
    "DatabaseUnavailableError",
    "Forecast",
    "ForeignDatabaseError",
    "ImportMapping",
    "ImportOptions",
    "InvalidArgumentError",
    "InvalidCursorError",
    "InvalidDataError",
    "Label",
    "LabelRead",
    "LoadError",
    "LoadSummary",
    "MigrationError",
    "MissingExtraError",
    "MissingTablesError",
    "NotFoundError",
    "Page",
    "Priority",
    "Project",
    "ProjectCreate",
    "ProjectRead",
    "ProjectReadWithTasks",
    "QueryPlan",
    "Resolution",
    "RevisionInfo",
    "RowProblem",
    "SeedSummary",
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
    "TaskkitError",
    "Worker",
    "WorkerCreate",
    "WorkerRead",
    "WorkerReadWithTasks",
    "WriteConflictError",
    "__version__",
    "any_of",
    "assign",
    "check_schema",
    "cli",
    "connect",
    "count",
    "create_db_and_tables",
    "create_project",
    "create_task",
    "create_worker",
    "cumulative_flow",
    "cycle_time_percentiles",
    "cycle_times",
    "database_url",
    "delete_task",
    "downgrade_schema",
    "ensure_schema",
    "explain",
    "explore",
    "forecast_how_many",
    "forecast_when",
    "get_project",
    "get_session",
    "get_task",
    "get_worker",
    "load_tasks",
    "models_to_frame",
    "pages",
    "paginate",
    "paginate_offset",
    "plot_ageing_wip",
    "plot_cumulative_flow",
    "plot_cycle_times",
    "plot_forecast",
    "plot_throughput",
    "plot_work_in_progress",
    "project_progress",
    "require_existing_database",
    "require_taskkit_database",
    "schema_history",
    "schema_revision",
    "seed",
    "select_history",
    "select_tasks",
    "session",
    "show_sql",
    "spreadsheet_safe",
    "stamp_schema",
    "status_priority_counts",
    "tasks_per_week",
    "throughput",
    "time_in_state",
    "to_dataframe",
    "unassign",
    "update_task",
    "upgrade_schema",
    "utcnow",
    "work_in_progress",
    "work_item_age",
    "worker_load",
]
