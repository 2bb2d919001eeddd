"""List columns (``worker_ids``, ``labels``) in the one form that survives Parquet, Feather and
CSV.

A column of ``pd.ArrowDtype(pa.list_(pa.string()))`` is what Arrow hands over for free, but it
does not travel: ``df.to_parquet`` and ``df.to_feather`` record its dtype as the text
``list<item: string>[pyarrow]``, which ``pd.read_parquet`` / ``pd.read_feather`` then cannot
parse back (``TypeError: data type 'list<item: string>[pyarrow]' not understood``: pandas
issues 53011 and 57411, apache/arrow 39914, still open on pandas 3.1 / pyarrow 26), and
``df.to_csv`` writes ``['w-1' 'w-2']``. An ``object`` column of lists is written as the same
Arrow ``list<string>`` and read back as ``object`` (cells come back as numpy arrays, which
compare equal to the lists), and each cell's ``str()`` is what ``to_csv`` writes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SEPARATOR = ";"  # the separator taskkit.load_tasks reads in its ``workers`` and ``labels``


class IdList(list[str]):
    """A list of ids or names whose ``str()`` is them joined by ``;`` (``w-1;w-2``).

    Otherwise an ordinary list (equal to ``["w-1", "w-2"]``, same ``repr``): the ``str()``
    is what ``df.to_csv`` writes into a cell, and ``;`` is what ``load_tasks`` splits on.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return SEPARATOR.join(self)


def id_lists(array: pa.ListArray | pa.ChunkedArray) -> np.ndarray[Any, Any]:
    """An Arrow ``list<string>`` array (no null lists) as an ``object`` array of ``IdList``."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    # Ids repeat (a few hundred workers over a million tasks): one Python string per distinct
    # id, shared by every cell, instead of one per assignment.
    encoded = pc.dictionary_encode(array.flatten())
    words = np.array(encoded.dictionary.to_pylist(), dtype=object)
    flat = words[encoded.indices.to_numpy(zero_copy_only=False)].tolist()
    # A sliced array's offsets point into its parent's values; flatten() starts at its own.
    starts = array.offsets.to_numpy()
    offsets = (starts - starts[0]).tolist()
    cells = list(map(IdList, map(flat.__getitem__, map(slice, offsets[:-1], offsets[1:]))))
    # Assigning into an object array of the right length keeps each list one cell (numpy
    # stops at the target's one dimension, as pandas relies on); np.array(cells) would make
    # lists of equal length a 2-D array.
    out = np.empty(len(cells), dtype=object)
    out[:] = cells
    return out
