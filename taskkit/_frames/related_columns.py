"""The columns ``related=`` adds: project names, worker ids and label names, looked up by the
frame's ids."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlmodel import col

from taskkit._errors import InvalidArgumentError
from taskkit._frames.arguments import IN_LIST_MAX, RELATED
from taskkit._frames.column_types import Spec, cached_specs
from taskkit._frames.reader import Reader
from taskkit._frames.typed_columns import Column
from taskkit._models import Label, Project, TaskLabelLink, TaskWorkerLink

# ---------------------------------------------------------------------------------------------
# related=: columns from the project, worker and label tables, looked up by the ids in the frame.


def _column_of(columns: list[Column], origin: tuple[str, str], related: str) -> pa.Array:
    for column in columns:
        if origin in column.spec.origin:
            return column.arrow().cast(pa.int64())
    table, name = origin
    raise InvalidArgumentError(
        f"related={related!r} needs {table.capitalize()}.{name} among the selected columns "
        f"(select(Task) has it); stmt selects: {', '.join(c.spec.name for c in columns)}"
    )


async def _lookup(reader: Reader, stmt: Any, key: Any, ids: pa.Array, chunksize: int) -> Any:
    unique = pc.unique(ids.drop_null())
    if len(unique) <= IN_LIST_MAX:
        stmt = stmt.where(key.in_(unique.to_pylist()))
    specs = cached_specs(stmt)
    columns = await reader.fetch(reader.query(stmt, specs), chunksize=chunksize)
    return [column.arrow() for column in columns]


async def related_column(
    reader: Reader, name: str, columns: list[Column], chunksize: int
) -> Column:
    if name == "project":
        ids = _column_of(columns, ("task", "project_id"), name)
        project_ids, names = await _lookup(
            reader, sa.select(col(Project.id), col(Project.name)), Project.id, ids, chunksize
        )
        found = pc.index_in(ids, value_set=project_ids)
        column = Column(Spec(RELATED[name], "text"))
        column.append(names.take(found))
        return column
    ids = _column_of(columns, ("task", "id"), name)
    if name == "workers":
        link = sa.select(col(TaskWorkerLink.task_id), col(TaskWorkerLink.worker_id))
        key = TaskWorkerLink.task_id
    else:
        link = sa.select(col(TaskLabelLink.task_id), col(Label.name)).join(
            Label, col(Label.id) == col(TaskLabelLink.label_id)
        )
        key = TaskLabelLink.task_id
    task_ids, items = await _lookup(reader, link, key, ids, chunksize)
    column = Column(Spec(RELATED[name], "list", nullable=False))
    column.append(_lists(ids, task_ids, items))
    return column


def _lists(ids: pa.Array, task_ids: pa.Array, items: pa.Array) -> pa.ListArray:
    """For each id in ``ids``, the ``items`` paired with it in ``task_ids`` (sorted)."""
    # Sort in Arrow, not SQL: byte order is the same on every backend, collations are not.
    order = pc.sort_indices(
        pa.table({"t": task_ids, "i": items}), [("t", "ascending"), ("i", "ascending")]
    )
    task_sorted = task_ids.take(order).to_numpy()
    items_sorted = items.take(order)
    keys, starts = np.unique(task_sorted, return_index=True)
    ends = np.append(starts[1:], len(task_sorted))
    wanted = pc.fill_null(ids, -1).to_numpy()
    lengths = np.zeros(len(wanted), np.int64)
    first = np.zeros(len(wanted), np.int64)
    if len(keys):
        pos = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        hit = keys[pos] == wanted
        lengths[hit] = (ends[pos] - starts[pos])[hit]
        first[hit] = starts[pos][hit]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    # Row i's items are items[first[i] : first[i] + lengths[i]], laid end to end.
    take = np.repeat(first - offsets[:-1], lengths) + np.arange(offsets[-1])
    values = items_sorted.take(pa.array(take, pa.int64())).cast(pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)
