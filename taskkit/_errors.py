"""The exceptions taskkit raises on purpose.

Field-level validation of user data raises pydantic's ``ValidationError`` (it already names
the field, the value and what is allowed). Everything else that taskkit reports is a
``TaskkitError``, so ``except taskkit.TaskkitError`` catches every deliberate error.
"""

from __future__ import annotations

__all__ = [
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
    "MissingTablesError",
    "NotFoundError",
    "TaskkitError",
    "WriteConflictError",
]


class TaskkitError(Exception):
    """Base class of every error taskkit raises deliberately."""


class InvalidArgumentError(TaskkitError, ValueError):
    """An argument from outside is malformed; the message names it, its value and the rule."""


class InvalidCursorError(InvalidArgumentError):
    """A cursor is not one taskkit made for this statement: edited, truncated, or foreign."""


class ConfigurationError(InvalidArgumentError):
    """A database URL or setting cannot be used. Messages never contain a password."""


class NotFoundError(TaskkitError, LookupError):
    """A row that was asked for, or referred to, does not exist."""


class AlreadyExistsError(TaskkitError):
    """A row with the same unique key (project name, worker id) already exists."""


class DatabaseUnavailableError(TaskkitError):
    """The database server cannot be reached or refused the credentials."""


class MissingTablesError(TaskkitError):
    """A query needs taskkit's tables and the database does not have them (yet); the message
    says how to create them (``taskkit init`` or ``create_db_and_tables``)."""


class ForeignDatabaseError(TaskkitError):
    """A command would write into a database that is not taskkit's (it holds other tables and
    no taskkit migration record); nothing was written."""


class DatabaseNotEmptyError(TaskkitError):
    """Seeding would overwrite data; pass ``reset=True`` (``--reset``) to replace it."""


class MigrationError(TaskkitError):
    """A migration command cannot run or failed; the database is left as it was."""


class InvalidDataError(TaskkitError, ValueError):
    """The database holds a value its model does not allow (written by another tool)."""


class LoadError(TaskkitError):
    """Task data to load is unreadable or invalid; nothing was stored. Lists the bad rows."""


class BulkWriteError(TaskkitError):
    """The database refused a bulk write (a constraint failed); nothing was written."""


class WriteConflictError(TaskkitError):
    """SQLite could not start a write in a transaction that had read first, because another
    connection wrote meanwhile (SQLITE_BUSY_SNAPSHOT); the message says how to write instead."""
