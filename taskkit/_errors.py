"""The exceptions taskkit raises on purpose.

Field-level validation of user data raises pydantic's ``ValidationError`` (it already names
the field, the value and what is allowed). Everything else that taskkit reports is a
``TaskkitError``, so ``except taskkit.TaskkitError`` catches every deliberate error.
"""

from __future__ import annotations

import sys
import sysconfig
import traceback
from pathlib import Path

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
    "MissingExtraError",
    "MissingTablesError",
    "NotFoundError",
    "TaskkitError",
    "WriteConflictError",
]


class TaskkitError(Exception):
    """Base class of every error taskkit raises deliberately.

    In IPython and Jupyter the error shows as its message under the lines of *your* code that
    led to it, without the frames inside taskkit and the libraries it uses (the message says
    everything needed; dozens of library frames would bury it). The whole traceback is one
    call away: ``traceback.print_exception(sys.last_value)``.
    """

    def _render_traceback_(self) -> list[str]:
        # IPython calls this, when it exists, instead of formatting the traceback itself.
        frames = [f for f in traceback.extract_tb(self.__traceback__) if _is_users(f.filename)]
        lines = ["Traceback (your code; taskkit's frames left out):\n"] if frames else []
        lines += traceback.format_list(frames)
        lines.append(f"{type(self).__name__}: {self}\n")  # as IPython names it
        lines.append("(the whole traceback: traceback.print_exception(sys.last_value))\n")
        return "".join(lines).rstrip("\n").split("\n")


# Where code that is not the user's lives: the standard library, installed packages, taskkit.
_NOT_USERS = tuple(
    str(Path(p).resolve())
    for p in {
        sysconfig.get_path("stdlib"),
        sysconfig.get_path("purelib"),
        sysconfig.get_path("platlib"),
        str(Path(__file__).resolve().parent),
        sys.prefix,
        sys.base_prefix,
    }
    if p
)


def _is_users(filename: str) -> bool:
    if filename.startswith("<") and not filename.startswith("<ipython-input"):
        return False  # <frozen ...>, <string>: not code to look at
    try:
        resolved = str(Path(filename).resolve())
    except OSError:
        return True
    return not resolved.startswith(_NOT_USERS)


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


class MissingExtraError(TaskkitError, ImportError):
    """A feature needs a package of an optional extra that is not installed; the message says
    which extra installs it (``pip install 'taskkit[report]'``)."""


class BulkWriteError(TaskkitError):
    """The database refused a bulk write (a constraint failed); nothing was written."""


class WriteConflictError(TaskkitError):
    """SQLite could not start a write in a transaction that had read first, because another
    connection wrote meanwhile (SQLITE_BUSY_SNAPSHOT); the message says how to write instead."""
