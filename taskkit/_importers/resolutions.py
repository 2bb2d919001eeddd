"""How a completed task ended, as the trackers spell it: their resolution values, and the
status names that say it when the resolution is blank.

Only spellings documented by a tracker or seen in real exports map without a word (see
:class:`taskkit.Resolution`); anything else on a completed task is refused with the option
that maps it (``--resolution VALUE=done``), never guessed.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from taskkit._importers.mapping import fold
from taskkit._rules import Resolution

__all__ = ["KNOWN", "NOT_A_RESOLUTION", "RESOLUTION_HINT", "lookup_resolution"]

RESOLUTION_HINT = "map them with --resolution VALUE=done|wont_do|duplicate|cancelled"

_SPELLINGS: dict[Resolution, tuple[str, ...]] = {
    # Jira Cloud's defaults (Done, Won't Do, Duplicate, Cannot Reproduce) and Server's (Fixed,
    # Won't Fix, Duplicate, Incomplete, Cannot Reproduce); GitHub's state_reason (completed,
    # not_planned, duplicate); Linear's and Plane's closed states (Done, Canceled, Duplicate);
    # Jira in Spanish (Listo, seen in real exports) and Portuguese (Itens concluídos, Não será
    # feito, Duplicado: from code that reads pt-BR exports); the trackers' done status names
    # (Done, Closed, Resolved, Completed) and Trello lists seen in real boards (TERMINADO,
    # Finalizado, Finalizada, Concluido, クローズ "closed", 中止 "cancelled").
    Resolution.done: (
        "done",
        "fixed",
        "resolved",
        "complete",
        "completed",
        "closed",
        "listo",
        "finalizada",
        "finalizado",
        "terminado",
        "concluido",
        "concluído",
        "itens concluídos",
        "feito",
        "クローズ",
        "完了",
    ),
    Resolution.wont_do: (
        "won't do",
        "wont do",
        "won't fix",
        "wont fix",
        "wontfix",
        "not_planned",
        "not planned",
        "cannot reproduce",
        "can't reproduce",
        "incomplete",
        "não será feito",
    ),
    Resolution.duplicate: ("duplicate", "duplicated", "duplicado"),
    Resolution.cancelled: ("cancelled", "canceled", "aborted", "cancelado", "cancelada", "中止"),
}
KNOWN: dict[str, str] = {
    fold(spelling): resolution.value
    for resolution, spellings in _SPELLINGS.items()
    for spelling in spellings
}
# Values of a resolution column that say "no resolution" (GitHub's state_reason of a reopened
# issue; Jira's "Unresolved" in some exports).
NOT_A_RESOLUTION = ("reopened", "unresolved", "no resolution", "sin resolver")


def lookup_resolution(column: pa.ChunkedArray | pa.Array, known: dict[str, str]) -> pa.Array:
    """Each value through ``known`` (folded keys): null where it has none."""
    flat = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    encoded = flat.dictionary_encode()
    mapped = [known.get(fold(v)) if v is not None else None for v in encoded.dictionary.to_pylist()]
    return pa.array(mapped, pa.string()).take(encoded.indices)


def said_none(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Where a resolution cell says there is none (``reopened``, ``Unresolved``)."""
    folded = pc.utf8_lower(pc.utf8_trim_whitespace(column))
    return pc.fill_null(pc.is_in(folded, pa.array(NOT_A_RESOLUTION)), False).to_numpy(
        zero_copy_only=False
    )
