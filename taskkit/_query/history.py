"""``select_history``: the status history of the tasks a statement selects, as a statement."""

from typing import Any

from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from taskkit._models import StatusChange
from taskkit._query.task_ids import selected_task_ids

__all__ = ["select_history"]


def select_history(tasks: Any = None) -> SelectOfScalar[StatusChange]:
    """A ``select(StatusChange)``: the status changes of the tasks ``tasks`` selects, oldest
    first (by ``changed_at``, then ``id``).

    Args:
        tasks: a statement that reads the task table, such as ``select_tasks(...)``,
            ``select(Task).where(...)`` or ``select(Task).join(Project).where(...)``: the
            tasks it would return, each once (with its limit, if it has one). ``None``: every
            task's history. The flow measures read their ``tasks`` by the same rule.

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
    ids = selected_task_ids(tasks)  # the rule the flow measures read their tasks by too
    return stmt.where(col(StatusChange.task_id).in_(ids)).order_by(*order)
