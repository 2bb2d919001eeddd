"""Checking that an argument is a ``select()`` statement."""

from typing import Any

from sqlalchemy.sql import Select

from taskkit.errors import InvalidArgumentError

__all__ = ["check_select"]


def check_select(stmt: Any, argument: str = "stmt") -> Select[Any]:
    """``stmt`` if it is a ``select()`` statement, else an InvalidArgumentError naming
    ``argument`` (the caller's name for it)."""
    if not isinstance(stmt, Select):
        raise InvalidArgumentError(
            f"{argument} must be a select() statement such as select(Task) or select_tasks(); "
            f"got {type(stmt).__name__}"
        )
    return stmt
