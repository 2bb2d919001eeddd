"""``select_history``: the status history of the tasks a statement selects, as a statement."""

from typing import Any

from sqlalchemy.sql import Select
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from taskkit._errors import InvalidArgumentError
from taskkit._models import StatusChange, Task

__all__ = ["select_history"]


def select_history(tasks: Any = None) -> SelectOfScalar[StatusChange]:
    """A ``select(StatusChange)``: the status changes of the tasks ``tasks`` selects, oldest
    first (by ``changed_at``, then ``id``).

    Args:
        tasks: a statement selecting from the task table, such as ``select_tasks(...)`` or
            ``select(Task).where(...)``: the tasks it would return (with its limit, if it
            has one). ``None``: every task's history.

    Returns:
        A plain statement: run it with ``await session.exec(stmt)``, extend it with
        ``.where(StatusChange.source == "tracker")``, or read it with ``to_dataframe``
        (``from_status``/``to_status`` become ordered categoricals, ``changed_at`` UTC).

    Raises:
        InvalidArgumentError: ``tasks`` is not a select that reads the task table.
    """
    stmt = select(StatusChange)
    order = (col(StatusChange.changed_at), col(StatusChange.id))
    if tasks is None:
        return stmt.order_by(*order)
    task_table = Task.__table__  # type: ignore[attr-defined]
    if not isinstance(tasks, Select) or task_table not in tasks.get_final_froms():
        raise InvalidArgumentError(
            "tasks must be a select of tasks, such as select_tasks(status='completed') or "
            f"select(Task).where(...); got {type(tasks).__name__}"
        )
    ids = tasks.with_only_columns(col(Task.id), maintain_column_froms=True)
    return stmt.where(col(StatusChange.task_id).in_(ids)).order_by(*order)
