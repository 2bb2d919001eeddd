"""The public API is exactly what is documented, sorted (httpx's test_exported_members)."""

import taskkit

DOCUMENTED = {
    # models
    "Priority", "Project", "ProjectCreate", "ProjectRead", "ProjectReadWithTasks", "Status",
    "Task", "TaskBase", "TaskCreate", "TaskRead", "TaskReadWithRelations", "TaskUpdate",
    "TaskWorkerLink", "Worker", "WorkerCreate", "WorkerRead", "WorkerReadWithTasks",
    # database
    "connect", "create_db_and_tables", "database_url", "get_session", "session",
    # migrations
    "ensure_schema", "MigrationError",
    # CRUD
    "assign", "create_project", "create_task", "create_worker", "delete_task", "get_project",
    "get_task", "get_worker", "unassign", "update_task",
    # query and paginate
    "select_tasks", "any_of", "count", "status_priority_counts", "tasks_per_week",
    "project_progress", "worker_load", "Page", "paginate", "paginate_offset", "pages",
    "InvalidCursorError",
    # DataFrames
    "to_dataframe", "models_to_frame", "InvalidDataError",
    # the teaching view and the explore grid
    "show_sql", "explain", "QueryPlan", "explore",
    # seeding and loading
    "seed", "SeedSummary", "load_tasks", "LoadSummary", "RowProblem", "LoadError",
    "ImportMapping",
    # errors
    "AlreadyExistsError", "BulkWriteError", "ConfigurationError", "DatabaseNotEmptyError",
    "DatabaseUnavailableError", "ForeignDatabaseError", "MissingTablesError",
    "InvalidArgumentError", "NotFoundError", "TaskkitError",
    "__version__",
}  # fmt: skip


def test_all_is_exactly_the_documented_api():
    assert set(taskkit.__all__) == DOCUMENTED


def test_all_is_sorted_and_every_name_exists():
    assert taskkit.__all__ == sorted(taskkit.__all__)
    for name in taskkit.__all__:
        assert getattr(taskkit, name) is not None, name


def test_every_public_callable_has_a_docstring():
    missing = [
        n
        for n in taskkit.__all__
        if callable(getattr(taskkit, n)) and not getattr(taskkit, n).__doc__
    ]
    assert missing == []
