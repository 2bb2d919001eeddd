"""Ask questions of task data: composable filters, a count for any select, SQL-side aggregates.

Everything here builds plain SQLModel/SQLAlchemy ``select()`` statements. Extend them with
``.where()`` and ``.order_by()``, run them with ``await session.exec(stmt)``, page through them
with :func:`taskkit.paginate`, or turn them into DataFrames. The aggregates group inside the
database, so they work on tables far too big to load.

* ``arguments``: checks of the values the queries take.
* ``filters``: the task filters, described once from the task table's columns.
* ``ordering``: ``ORDER_COLUMNS`` and the ORDER BY for ``order_by``.
* ``select``: ``select_tasks`` (filters ANDed) and ``any_of`` (filters ORed).
* ``history``: ``select_history``, the status changes of the tasks a statement selects.
* ``aggregates``: status/priority counts, tasks per week, project progress, worker load.

``count`` works on any select and lives in the generic layer (``taskkit._sql``); it is
re-exported here beside the task queries it is used with.
"""

from taskkit._query.aggregates import (
    project_progress,
    status_priority_counts,
    tasks_per_week,
    worker_load,
)
from taskkit._query.history import select_history
from taskkit._query.ordering import ORDER_COLUMNS
from taskkit._query.select import any_of, select_tasks
from taskkit._sql.select import count

__all__ = [
    "ORDER_COLUMNS",
    "any_of",
    "count",
    "project_progress",
    "select_history",
    "select_tasks",
    "status_priority_counts",
    "tasks_per_week",
    "worker_load",
]
