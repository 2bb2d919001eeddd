"""The tasks a flow measure reads, and every move of their status.

``population`` turns the ``tasks`` argument (any select of tasks) into the task rows to read.
``moves`` gives every status move of those tasks, from the status history, as a chain: each
move leaves the status the one before it entered (``from_status`` NULL on a task's first, its
creation). Two gaps are filled from the task's own timestamps, and docs/flow.md says so:

* a task whose history does not begin with its creation (tasks stored before the history
  existed, then moved) was, from ``created_at`` to its first recorded move, in the status that
  move left;
* a task with no history at all went pending at ``created_at``, in progress at ``started_at``
  (one in progress with no known start: at ``updated_at``, the latest moment it is known to
  have been in progress from), completed at ``completed_at``; one back in pending after a
  start went back at ``updated_at``.

The measures add up moves (+1 for the status a move enters, -1 for the one it leaves) rather
than pairing each move with the next: sums group by day or task in one pass, where pairing
needs a window function, which SQLite computes several times slower.
"""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.sql import ColumnElement, FromClause, Select, Subquery
from sqlalchemy.sql.selectable import CTE

from taskkit._models import Status, StatusChange, Task
from taskkit._query.task_ids import selected_task_ids
from taskkit._sqlalchemy_internals import named_froms, plain_table, shapes_rows

__all__ = [
    "MOVE_COLUMNS",
    "before_first_move",
    "gaps",
    "moves",
    "narrowed",
    "population",
    "rebuilt",
    "recorded",
]

_task: sa.Table = Task.__table__  # type: ignore[attr-defined]
_history: sa.Table = StatusChange.__table__  # type: ignore[attr-defined]
_STATUS = _task.c.status.type


def _whole_table(tasks: Select[Any]) -> bool:
    """``tasks`` selects every task once: the task table alone, no WHERE, LIMIT or GROUP BY."""
    if tasks.whereclause is not None or shapes_rows(tasks):
        return False
    return [plain_table(f) for f in named_froms(tasks)] == [_task]


def population(tasks: Any) -> FromClause:
    """The task rows ``tasks`` selects (each once), as the task table or a filtered subquery.

    Raises:
        InvalidArgumentError: ``tasks`` is not a select that reads the task table.
    """
    if tasks is None:
        return _task
    ids = selected_task_ids(tasks)  # the rule select_history reads its tasks by too
    if _whole_table(tasks):
        return _task
    # By id, so that a statement joining other tables cannot count a task twice.
    return sa.select(_task).where(_task.c.id.in_(ids)).subquery("population")


def _status(value: Status) -> ColumnElement[Any]:
    return sa.literal(value.value, _STATUS)


#: The task columns the moves are rebuilt from (see :func:`moves`).
MOVE_COLUMNS = ("id", "status", "created_at", "updated_at", "started_at", "completed_at")


def narrowed(
    rows: FromClause,
    *where: ColumnElement[bool],
    name: str,
    extra: tuple[str, ...] = (),
    few: bool = False,
) -> CTE:
    """The rows of ``rows`` that match ``where``, with the columns :func:`moves` reads (and
    ``extra``). The moves read them more than once (the task ids that pick the history, the
    look for each task's first recorded move in :func:`gaps`, and the caller's own reads).

    ``few``: the rows are a small share of the table, and SQLite computes them once into a
    temporary table (work item age: the tasks that can be in progress at the end; 1M tasks,
    0.25 s CPU against 0.42 s). Otherwise each read scans the task table again, which costs
    less than writing most of it to a temporary table (the cumulative flow, 1M tasks: 0.3 s
    CPU against 0.7 s). PostgreSQL plans each read with the table's statistics either way
    (from a materialized CTE it would expect 200 rows, and probe the history's index for each
    of a million tasks)."""
    columns = [rows.c[c] for c in (*MOVE_COLUMNS, *extra)]
    stmt = sa.select(*columns).where(*where).cte(name)
    if few:
        return stmt.prefix_with("MATERIALIZED", dialect="sqlite").prefix_with(
            "NOT MATERIALIZED", dialect="postgresql"
        )
    return stmt.prefix_with("NOT MATERIALIZED")


def _labelled(*columns: Any) -> list[ColumnElement[Any]]:
    """``columns`` named as :func:`moves` names them."""
    names = ("task_id", "at", "from_status", "to_status")
    return [column.label(name) for column, name in zip(columns, names, strict=True)]


def _materialized(stmt: Select[Any], name: str) -> CTE:
    """``stmt`` as a CTE computed once per statement (SQLite and PostgreSQL would otherwise
    inline it, and compute it again for each place that reads it)."""
    return stmt.cte(name).prefix_with("MATERIALIZED")


def moves(rows: FromClause, dialect: str) -> Subquery:
    """Every status move of the tasks in ``rows``: ``task_id``, ``at``, ``from_status`` (NULL
    for a creation) and ``to_status`` (``dialect``: see :func:`gaps`)."""
    holes = gaps(rows, dialect)
    return sa.union_all(recorded(rows), before_first_move(holes), *rebuilt(holes)).subquery("moves")


def recorded(rows: FromClause) -> Select[Any]:
    """The moves the history records (in the columns of :func:`moves`)."""
    found = sa.select(
        _history.c.task_id,
        _history.c.changed_at.label("at"),
        _history.c.from_status,
        _history.c.to_status,
    )
    if rows is not _task:
        found = found.where(_history.c.task_id.in_(sa.select(rows.c.id)))
    return found


#: ``gaps.first_from`` of a task whose history begins with its creation (no gap to fill).
_WHOLE = ""


def gaps(rows: FromClause, dialect: str) -> CTE:
    """The tasks of ``rows`` whose history leaves moves out, computed once: the columns their
    moves are rebuilt from (:data:`MOVE_COLUMNS`) and ``first_from``, NULL for a task without
    history, else the status its first recorded move left (its history does not begin with
    its creation). ``dialect`` names the database (``sqlite``, ``postgresql``).

    Each task's first recorded move (by time, then id) answers both questions. SQLite finds it
    fastest by one look into the history's ``(task_id, changed_at)`` index per task (1M tasks:
    1.0 s CPU, against 2.0 s grouping the history by task and looking for tasks without any
    apart); PostgreSQL by one ordered pass over the history (``DISTINCT ON``: 2.1 s, against
    3.1 s for the lookups, which it sorts one by one)."""
    h = _history.c
    mark = sa.func.coalesce(sa.type_coerce(h.from_status, sa.String), _WHOLE)
    columns = [rows.c[c] for c in MOVE_COLUMNS]
    if dialect == "postgresql":
        firsts = sa.select(h.task_id, mark.label("first_from"))
        if rows is not _task:
            firsts = firsts.where(h.task_id.in_(sa.select(rows.c.id)))
        first = (
            firsts.ext(distinct_on(h.task_id))
            .order_by(h.task_id, h.changed_at, h.id)
            .subquery("firsts")
        )
        each = (
            sa.select(*columns, first.c.first_from)
            .select_from(rows.outerjoin(first, first.c.task_id == rows.c.id))
            .subquery("each")
        )
    else:
        lookup = (
            sa.select(mark)
            .where(h.task_id == rows.c.id)
            .order_by(h.changed_at, h.id)
            .limit(1)
            .scalar_subquery()
        )
        each = sa.select(*columns, lookup.label("first_from")).subquery("each")
    # One test, not two (IS NULL OR <> ''): SQLite puts the subquery in place of the name, and
    # would run it for each.
    incomplete = sa.func.coalesce(each.c.first_from, "none") != _WHOLE
    return _materialized(sa.select(each).where(incomplete), "gaps")


def before_first_move(holes: CTE) -> Select[Any]:
    """The creation of each task whose history does not begin with it (``holes`` is
    :func:`gaps`): at ``created_at``, into the status its first recorded move left."""
    g = holes.c
    return sa.select(*_labelled(g.id, g.created_at, sa.null().cast(_STATUS), g.first_from)).where(
        g.first_from.is_not(None)
    )


def rebuilt(holes: CTE) -> list[Select[Any]]:
    """The moves of the tasks without any history (``holes`` is :func:`gaps`), from their
    timestamps."""
    t = holes.c
    bare = t.first_from.is_(None)
    started = t.started_at.is_not(None) | (t.status == Status.in_progress.value)

    def move(at: Any, left: Any, to: Status, *where: ColumnElement[bool]) -> Select[Any]:
        return sa.select(*_labelled(t.id, at, left, _status(to))).where(bare, *where)

    before_completion = sa.case(
        (started, _status(Status.in_progress)), else_=_status(Status.pending)
    )
    return [
        move(t.created_at, sa.null().cast(_STATUS), Status.pending),
        move(
            sa.func.coalesce(t.started_at, t.updated_at),
            _status(Status.pending),
            Status.in_progress,
            started,
        ),
        move(
            t.completed_at,
            before_completion,
            Status.completed,
            t.status == Status.completed.value,
        ),
        move(
            t.updated_at,
            _status(Status.in_progress),
            Status.pending,
            t.status == Status.pending.value,
            t.started_at.is_not(None),
        ),
    ]
