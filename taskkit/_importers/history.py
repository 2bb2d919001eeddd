"""The status history an import writes (``status_change`` rows), and the starts and
completions that the tracker's own history gives.

A history row says a task's status became ``to_status`` at ``changed_at``; ``from_status`` is
the status taskkit knew before (NULL on a task's first row). Rows come from:

* the tracker's own record (``source='tracker'``): Trello's actions (creation, moves between
  lists, archive and unarchive); for the other trackers the dates their exports state: the
  creation (the task was open then, unless it started or completed at that very moment), the
  start (Linear's Started, Jira's Status Category Changed of an issue in progress) and the
  completion (Jira's Status Category Changed or Resolved, Linear's Completed or Canceled,
  GitHub's closedAt, Asana's Completed At);
* the export alone (``source='export'``), where no date says when a status was reached (a
  task in progress whose start is not in the file; a completion taken from ``updated_at``):
  dated by the export's ``updated_at``, and counted in the summary.

Moves the export does not record are not invented: from one known status to the next is one
row, whatever happened between.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from taskkit._importers.columns import iso_timestamps
from taskkit._importers.trello import Events

__all__ = ["HISTORY_COLUMNS", "TrackerDates", "appended", "history_rows", "tracker_dates"]

HISTORY_COLUMNS = ("position", "changed_at", "from_status", "to_status", "source")
_STAMP = "datetime64[us, UTC]"


@dataclass
class TrackerDates:
    """What the tracker's recorded events say, per row: the first start, the completion (the
    last move into completed, when the task is completed now), and the events themselves
    (``position``, ``at``, ``status``), oldest first."""

    started_at: pd.Series
    completed_at: pd.Series
    events: pd.DataFrame


def tracker_dates(
    events: Events, numbers: np.ndarray, status: pa.Array, created: pd.Series
) -> TrackerDates:
    """Starts and completions from ``events`` for the rows numbered ``numbers``."""
    n = len(numbers)
    table = events.table
    position_of = pd.Series(np.arange(n), index=numbers)
    rows = table.column("row").to_numpy()
    known = np.isin(rows, numbers)
    at = iso_timestamps(table.column("at").filter(pa.array(known)))
    frame = pd.DataFrame(
        {
            "position": position_of.loc[rows[known]].to_numpy(),
            "at": (
                at.to_pandas().astype(_STAMP)
                if at is not None
                else pd.to_datetime(
                    table.column("at").filter(pa.array(known)).to_pandas(),
                    utc=True,
                    errors="coerce",
                    format="ISO8601",
                )
            ),
            "status": table.column("status").filter(pa.array(known)).to_pandas(),
            "derived": pc.starts_with(table.column("action"), "first")
            .filter(pa.array(known))
            .to_numpy(zero_copy_only=False),
            "order": np.arange(int(known.sum())),
        }
    )
    frame = frame.dropna(subset=["at", "status"]).astype({"at": _STAMP})
    frame = _sorted(frame, ["position", "at", "order"]).reset_index(drop=True)
    # A card's creation time comes from its id: an event never precedes it.
    floor = created.iloc[frame["position"].to_numpy()].reset_index(drop=True)
    frame["at"] = frame["at"].where(frame["at"] >= floor, floor)
    started = pd.Series(pd.NaT, index=range(n), dtype=_STAMP)
    completed = pd.Series(pd.NaT, index=range(n), dtype=_STAMP)
    # A start is a recorded move: where a card was before its first recorded move (dated at
    # its creation) says it was in progress, not since when.
    moved_in = (frame["status"] == "in_progress") & ~frame["derived"].astype(bool)
    first_start = frame[moved_in].drop_duplicates("position")
    started.iloc[first_start["position"].to_numpy()] = first_start["at"].array
    previous = frame.groupby("position")["status"].shift()
    entered = frame[(frame["status"] == "completed") & (previous != "completed")]
    last = frame.drop_duplicates("position", keep="last")
    ends_done = set(last.loc[last["status"] == "completed", "position"].tolist())
    now_done = pc.fill_null(pc.equal(status, "completed"), False).to_numpy(zero_copy_only=False)
    entered = entered[entered["position"].isin(ends_done)].drop_duplicates("position", keep="last")
    entered = entered[now_done[entered["position"].to_numpy()]]
    completed.iloc[entered["position"].to_numpy()] = entered["at"].array
    return TrackerDates(started, completed, frame[["position", "at", "status"]])


def history_rows(
    *,
    status: pa.Array,
    created_at: pd.Series,
    updated_at: pd.Series,
    started_at: pd.Series,
    completed_at: pd.Series,
    given: dict[str, np.ndarray],
    tracker: TrackerDates | None,
    keep: np.ndarray,
) -> tuple[pd.DataFrame, int]:
    """The history rows of the kept rows (``HISTORY_COLUMNS``; ``position`` is the row's),
    oldest first per task, and how many are dated by the export alone."""
    current = pd.Series(status.to_pylist(), dtype=object)
    n = len(current)
    with_events = np.zeros(n, bool)
    parts = []
    if tracker is not None and len(tracker.events):
        with_events[tracker.events["position"].to_numpy()] = True
        ev = tracker.events.rename(columns={"at": "changed_at", "status": "to_status"})
        parts.append(ev.assign(source="tracker", order=1))
    dated = ~with_events
    created = created_at.reset_index(drop=True)
    started = started_at.reset_index(drop=True)
    completed = completed_at.reset_index(drop=True)
    done = (current == "completed").to_numpy()
    at_start = started.notna().to_numpy() & (started == created).to_numpy()
    at_done = done & ~started.notna().to_numpy() & (completed == created).to_numpy()
    first = np.where(at_start, "in_progress", np.where(at_done, "completed", "pending"))
    positions = np.arange(n)
    parts.append(
        pd.DataFrame(
            {
                "position": positions[dated],
                "changed_at": created[dated].array,
                "to_status": first[dated],
                "source": np.where(given["created_at"][dated], "tracker", "export"),
                "order": 0,
            }
        )
    )
    has_start = dated & started.notna().to_numpy()
    parts.append(
        pd.DataFrame(
            {
                "position": positions[has_start],
                "changed_at": started[has_start].array,
                "to_status": "in_progress",
                "source": "tracker",
                "order": 1,
            }
        )
    )
    has_done = dated & done
    parts.append(
        pd.DataFrame(
            {
                "position": positions[has_done],
                "changed_at": completed[has_done].array,
                "to_status": "completed",
                "source": np.where(given["completed_at"][has_done], "tracker", "export"),
                "order": 2,
            }
        )
    )
    points = pd.concat([p for p in parts if len(p)], ignore_index=True)
    points = points.astype({"changed_at": _STAMP})
    points = points[keep[points["position"].to_numpy()]]
    points = _sorted(points, ["position", "changed_at", "order"])
    rows, _ = _compressed(points, current, updated_at.reset_index(drop=True), keep)
    return rows, int((rows["source"] == "export").sum())


def _compressed(
    points: pd.DataFrame, current: pd.Series, updated: pd.Series, keep: np.ndarray
) -> tuple[pd.DataFrame, int]:
    """Points to rows: a status equal to the one before is no move; ``from_status`` is the
    one before; where the last known status is not the task's status now, a last row at
    ``updated_at`` (the export's) says so."""
    previous = points.groupby("position")["to_status"].shift()
    points = points[points["to_status"] != previous].copy()
    points["from_status"] = points.groupby("position")["to_status"].shift()
    points["from_status"] = (
        points["from_status"].astype(object).where(points["from_status"].notna(), None)
    )
    last = points.drop_duplicates("position", keep="last").set_index("position")
    kept = np.flatnonzero(keep)
    last_status = last["to_status"].reindex(kept)
    wrong = kept[(last_status.to_numpy() != current.iloc[kept].to_numpy())]
    export_at = updated.iloc[wrong].reset_index(drop=True)
    known_at = last["changed_at"].reindex(wrong).reset_index(drop=True)
    extra = pd.DataFrame(
        {
            "position": wrong,
            "changed_at": export_at.where(export_at >= known_at, known_at).array,
            "from_status": last["to_status"].reindex(wrong).to_numpy(),
            "to_status": current.iloc[wrong].to_numpy(),
            "source": "export",
        }
    )
    rows = points[list(HISTORY_COLUMNS)]
    if len(extra):
        extra = extra.astype({"changed_at": _STAMP})
        rows = pd.concat([rows, extra[list(HISTORY_COLUMNS)]], ignore_index=True)
        rows = _sorted(rows, ["position", "changed_at"])
    return rows.reset_index(drop=True), len(extra)


def appended(
    history: pd.DataFrame,
    known_last: pd.DataFrame,
    status: pa.Array,
    updated_at: pd.Series,
    written: np.ndarray,
) -> tuple[pd.DataFrame, int]:
    """The history of a re-import: the file's rows for tasks new to the database (or without
    a stored history), and for tasks with one, the file's moves after the last one stored,
    chained from it, plus a move dated by the export where the status differs from the one
    stored. ``known_last``: ``position``, ``changed_at`` and ``to_status`` of each known
    task's latest stored row (NaT where it has none); ``written``: rows to be written.
    Returns the rows and how many of the appended ones are dated by the export."""
    history = history[written[history["position"].to_numpy()]]
    with_stored = known_last[known_last["changed_at"].notna()]
    fresh = history[~history["position"].isin(with_stored["position"])]
    if not len(with_stored):
        return fresh.reset_index(drop=True), 0
    last = with_stored.rename(columns={"changed_at": "last_at"})[["position", "last_at"]]
    later = history.merge(last, on="position")
    later = later[(later["changed_at"] > later["last_at"]) & later["from_status"].notna()]
    points = pd.concat(
        [
            with_stored.assign(source="stored", order=0),
            later.drop(columns=["last_at", "from_status"]).assign(order=1),
        ],
        ignore_index=True,
    ).astype({"changed_at": _STAMP})
    points = points.sort_values(["position", "changed_at", "order"], kind="stable")
    mask = np.zeros(len(written), bool)
    mask[with_stored["position"].to_numpy()] = True
    current = pd.Series(status.to_pylist(), dtype=object)
    rows, _ = _compressed(points, current, updated_at.reset_index(drop=True), mask & written)
    rows = rows[rows["source"] != "stored"]
    from_export = int((rows["source"] == "export").sum())
    combined = pd.concat([fresh, rows], ignore_index=True)
    return combined.sort_values(["position", "changed_at"], kind="stable"), from_export


def _sorted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """``frame.sort_values(by, kind="stable")`` for integer and UTC timestamp columns (NaT
    last), as one numpy lexsort: pandas factorized each column first, 0.2 s of a 200,000-row
    import's history."""
    keys = []
    for name in reversed(by):  # np.lexsort sorts by its last key first
        column = frame[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            stamps = column.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
            values = stamps.view(np.int64).copy()
            values[np.isnat(stamps)] = np.iinfo(np.int64).max  # NaT sorts last, as in pandas
        else:
            values = column.to_numpy(np.int64)
        keys.append(values)
    return frame.iloc[np.lexsort(keys)]
