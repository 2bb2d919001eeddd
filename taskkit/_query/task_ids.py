"""Which tasks a statement selects: the one rule by which ``select_history`` and every flow
measure read their ``tasks`` argument.

``tasks`` is any select that reads the task table: the task table alone
(``select(Task).where(...)``, ``select_tasks(...)``), in a join (``select(Task).join(Project)``),
or named only in its WHERE clause. The tasks are those its rows hold, each once however many
rows it has for a task, and its LIMIT, if it has one, counts as it would for its own rows.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import FromClause, Select
from sqlalchemy.sql import util as sa_util

from taskkit._errors import InvalidArgumentError
from taskkit._models import Task
from taskkit._sqlalchemy_internals import has_row_limit, named_froms, plain_table

__all__ = ["reads_task_table", "selected_task_ids"]

_task: sa.Table = Task.__table__  # type: ignore[attr-defined]


def reads_task_table(stmt: Select[Any]) -> bool:
    """The task table is in ``stmt``'s FROM, alone or in a join (or only in its WHERE clause,
    which compiling the statement shows: the rare case is the one that pays for it)."""

    def among(froms: Sequence[FromClause]) -> bool:
        return any(_task in {plain_table(t) for t in sa_util.find_tables(f)} for f in froms)

    return among(named_froms(stmt)) or among(stmt.get_final_froms())


def selected_task_ids(tasks: Any) -> Select[Any]:
    """``SELECT task.id`` of the tasks ``tasks`` selects (a subquery for ``IN``); its ORDER BY
    is dropped unless a LIMIT makes it choose the rows.

    Raises:
        InvalidArgumentError: ``tasks`` is not a select, or does not read the task table.
    """
    example = "such as select_tasks(project='Apollo') or select(Task).where(...)"
    if not isinstance(tasks, Select):
        raise InvalidArgumentError(
            f"tasks must be a select of tasks, {example}, or None for every task; "
            f"got {type(tasks).__name__}"
        )
    if not reads_task_table(tasks):
        tables = ", ".join(sorted({str(getattr(f, "name", f)) for f in named_froms(tasks)}))
        raise InvalidArgumentError(
            f"tasks must be a select of tasks, {example}, or None for every task; got a "
            f"select that does not read the task table (it reads {tables or 'no table'})"
        )
    if not has_row_limit(tasks):
        tasks = tasks.order_by(None)  # a sort means nothing to a set of ids
    return tasks.with_only_columns(_task.c.id, maintain_column_froms=True)
