"""Which tasks a statement selects: the one rule by which ``select_history`` and every flow
measure read their ``tasks`` argument.

``tasks`` is any select that reads the task table itself: alone (``select(Task).where(...)``,
``select_tasks(...)``), in a join (``select(Task).join(Project)``), or named only in its WHERE
clause; not through an alias or a subquery. The tasks are those its rows hold, each once
however many rows it has for a task, and its LIMIT, if it has one, counts as it would for its
own rows.
"""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import FromClause, Select

from taskkit._errors import InvalidArgumentError
from taskkit._models import Task
from taskkit._sqlalchemy_internals import (
    group_by_clauses,
    has_having,
    has_row_limit,
    named_froms,
    plain_table,
)

__all__ = ["reads_task_table", "selected_task_ids"]

_task: sa.Table = Task.__table__  # type: ignore[attr-defined]


def reads_task_table(stmt: Select[Any]) -> bool:
    """The task table itself is in ``stmt``'s FROM, alone or in a join (or only in its WHERE
    clause, which compiling the statement shows: the rare case is the one that pays for it).

    Not an alias or a subquery of it: ``task.id`` then names a second copy of the table, and
    the statement's ids would be every task's."""

    def among(froms: Sequence[FromClause]) -> bool:
        return any(
            isinstance(item, sa.Table) and plain_table(item) is _task
            for found in froms
            for item in _joins_taken_apart(found)
        )

    return among(named_froms(stmt)) or among(stmt.get_final_froms())


def _joins_taken_apart(item: FromClause) -> Iterator[FromClause]:
    if isinstance(item, sa.Join):
        yield from _joins_taken_apart(item.left)
        yield from _joins_taken_apart(item.right)
    else:
        yield item


def selected_task_ids(tasks: Any) -> Select[Any]:
    """``SELECT task.id`` of the tasks ``tasks`` selects (a subquery for ``IN``); its ORDER BY
    is dropped unless a LIMIT makes it choose the rows.

    Raises:
        InvalidArgumentError: ``tasks`` is not a select, does not read the task table, or
            groups its rows.
    """
    example = "such as select_tasks(project='Apollo') or select(Task).where(...)"
    if not isinstance(tasks, Select):
        raise InvalidArgumentError(
            f"tasks must be a select of tasks, {example}, or None for every task; "
            f"got {type(tasks).__name__}"
        )
    if not reads_task_table(tasks):
        tables = ", ".join(
            _named(item) for found in named_froms(tasks) for item in _joins_taken_apart(found)
        )
        raise InvalidArgumentError(
            f"tasks must be a select of tasks, {example}, or None for every task; got a "
            f"select whose FROM does not hold the task table itself (it reads "
            f"{tables or 'no table'}; an alias or a subquery of Task does not count)"
        )
    if group_by_clauses(tasks) or has_having(tasks):
        # Its rows are groups: task.id in place of its columns would be one task per group.
        raise InvalidArgumentError(
            f"tasks must be a select of tasks, {example}; got a select that groups its rows "
            "(GROUP BY or HAVING): leave the grouping out, each task is counted once anyway"
        )
    if has_row_limit(tasks):
        # Its ORDER BY chooses the rows, and may name its own columns (order_by("label")):
        # they stay, and the id is read from its rows.
        rows = tasks.add_columns(_task.c.id.label("taskkit_task_id")).subquery()
        return sa.select(rows.c.taskkit_task_id)
    # A sort means nothing to a set of ids.
    return tasks.order_by(None).with_only_columns(_task.c.id, maintain_column_froms=True)


def _named(item: FromClause) -> str:
    """How a FROM item is named in a message (an anonymous alias has no name of its own)."""
    if isinstance(item, sa.Table):
        return item.name
    if isinstance(item, sa.Subquery):
        return "a subquery"
    if isinstance(item, sa.Alias):
        return f"an alias of {_named(item.element)}"
    return type(item).__name__
