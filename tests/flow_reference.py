"""The flow measures computed in plain pandas from the task and history rows, as an analyst
would write them: the reference the tests hold taskkit's SQL to, and the one the benchmark
times (reading the rows included).

Each function takes the frames ``to_dataframe(engine, select(Task))`` and
``to_dataframe(engine, select(StatusChange))`` give (only the columns it names are used) and
the period's first and last day, and returns what the taskkit function of the same name
returns. The rules are docs/flow.md's, written again here from the text, not from the SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

STATUSES = ["pending", "in_progress", "completed"]


def _days(start: date, end: date) -> pd.DatetimeIndex:
    return pd.date_range(start, end, freq="D", unit="s")


def _bounds(start: date, end: date) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1)


def _day(moments: pd.Series) -> pd.Series:
    """The UTC calendar day of each moment, as naive midnight."""
    return moments.dt.tz_convert("UTC").dt.tz_localize(None).dt.floor("D").astype("datetime64[s]")


def _finished(tasks: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    begins, ends = _bounds(start, end)
    done = tasks[
        (tasks["status"] == "completed")
        & (tasks["resolution"] == "done")
        & (tasks["completed_at"] >= begins)
        & (tasks["completed_at"] < ends)
    ]
    return done


def throughput(tasks: pd.DataFrame, start: date, end: date, per: str = "day") -> pd.DataFrame:
    done = _finished(tasks, start, end)
    daily = _day(done["completed_at"]).value_counts().reindex(_days(start, end), fill_value=0)
    frame = pd.DataFrame({"day": daily.index, "finished": daily.to_numpy(dtype="int64")})
    if per == "day":
        return frame
    week = frame["day"] - pd.to_timedelta(frame["day"].dt.day_of_week, unit="D")
    weekly = frame.groupby(week).agg(finished=("finished", "sum"), days=("day", "size"))
    weekly = weekly.rename_axis("week").reset_index()
    return weekly.astype({"week": "datetime64[s]", "finished": "int64", "days": "int64"})


def cycle_times(tasks: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    done = _finished(tasks, start, end).sort_values(["completed_at", "id"])
    days = (_day(done["completed_at"]) - _day(done["started_at"])).dt.days + 1
    return pd.DataFrame(
        {
            "id": done["id"].to_numpy(dtype="int64"),
            "completed_at": done["completed_at"].array,
            "cycle_days": pd.array(days.to_numpy(dtype="float64"), dtype="Int64"),
        }
    )


def cycle_time_percentiles(
    tasks: pd.DataFrame, start: date, end: date, percentiles: Sequence[int] = (50, 70, 85, 95)
) -> pd.DataFrame:
    cycle = cycle_times(tasks, start, end)["cycle_days"]
    known = cycle.dropna().to_numpy(dtype="int64")
    values = (
        [int(np.percentile(known, p, method="inverted_cdf")) for p in percentiles]
        if len(known)
        else [pd.NA] * len(percentiles)
    )
    return pd.DataFrame(
        {
            "percentile": np.array(percentiles, dtype="int64"),
            "cycle_days": pd.array(values, dtype="Int64"),
            "items": np.full(len(percentiles), len(known), dtype="int64"),
            "without_start": np.full(len(percentiles), int(cycle.isna().sum()), dtype="int64"),
        }
    )


def moves(tasks: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Every move of every task (``task_id``, ``at``, ``order``, ``status``), in order: the
    history, with the time before a history's first recorded move given to the status that
    move left, and tasks without history rebuilt from their timestamps."""
    h = history[history["task_id"].isin(tasks["id"])].sort_values(["task_id", "changed_at", "id"])
    recorded = pd.DataFrame(
        {
            "task_id": h["task_id"].to_numpy(),
            "at": h["changed_at"].array,
            "order": h["id"].to_numpy(),
            "status": h["to_status"].astype(str).to_numpy(),
        }
    )
    first = h.groupby("task_id", sort=False).head(1)
    first = first[first["from_status"].notna()]
    created = tasks.set_index("id")["created_at"]
    before = pd.DataFrame(
        {
            "task_id": first["task_id"].to_numpy(),
            "at": created.loc[first["task_id"]].array,
            "order": -1,
            "status": first["from_status"].astype(str).to_numpy(),
        }
    )
    bare = tasks[~tasks["id"].isin(history["task_id"])]
    status = bare["status"].astype(str)
    started = bare["started_at"].notna()
    parts = [
        (bare["created_at"], "pending", pd.Series(True, index=bare.index)),
        (
            bare["started_at"].fillna(bare["updated_at"]),
            "in_progress",
            started | (status == "in_progress"),
        ),
        (bare["completed_at"], "completed", status == "completed"),
        (bare["updated_at"], "pending", (status == "pending") & started),
    ]
    rebuilt = [
        pd.DataFrame(
            {
                "task_id": bare.loc[which, "id"].to_numpy(),
                "at": at[which].array,
                "order": -10 + step,
                "status": name,
            }
        )
        for step, (at, name, which) in enumerate(parts)
    ]
    every = pd.concat([recorded, before, *rebuilt], ignore_index=True)
    return every.sort_values(["task_id", "at", "order"], ignore_index=True)


def cumulative_flow(
    tasks: pd.DataFrame, history: pd.DataFrame, start: date, end: date
) -> pd.DataFrame:
    _, ends = _bounds(start, end)
    m = moves(tasks, history)
    m = m[m["at"] < ends].copy()
    m["day"] = _day(m["at"]).clip(lower=pd.Timestamp(start))
    # Where each task stands at the end of a day is its last move of that day; it stays
    # there until the day of its next such move.
    last_of_day = m.groupby(["task_id", "day"], sort=False).tail(1)
    nxt = last_of_day.groupby("task_id")["day"].shift(-1)
    arrive = last_of_day.groupby(["day", "status"]).size()
    leave = last_of_day[nxt.notna()].assign(day=nxt).groupby(["day", "status"]).size()
    change = arrive.sub(leave, fill_value=0).unstack("status", fill_value=0)
    change = change.reindex(index=_days(start, end), columns=STATUSES, fill_value=0)
    counts = change.cumsum().astype("int64")
    return counts.rename_axis("day").rename_axis(None, axis=1).reset_index()


def work_in_progress(
    tasks: pd.DataFrame, history: pd.DataFrame, start: date, end: date
) -> pd.DataFrame:
    flow = cumulative_flow(tasks, history, start, end)
    return flow[["day", "in_progress"]].rename(columns={"in_progress": "wip"})


def time_in_state(
    tasks: pd.DataFrame, history: pd.DataFrame, start: date, end: date
) -> pd.DataFrame:
    begins, ends = _bounds(start, end)
    m = moves(tasks, history)
    seconds = m["at"].astype("int64") // 1_000_000  # whole seconds (ns since the epoch)
    following = seconds.groupby(m["task_id"]).shift(-1)
    lo, hi = begins.value // 1_000_000_000, ends.value // 1_000_000_000
    span = (following.fillna(hi).clip(upper=hi) - seconds.clip(lower=lo)).clip(lower=0)
    totals = span.groupby([m["task_id"], m["status"]]).sum().unstack(fill_value=0)
    totals = totals.reindex(columns=STATUSES, fill_value=0)
    totals = totals[(totals["pending"] + totals["in_progress"]) > 0] / 86_400
    out = totals.rename_axis("id").rename_axis(None, axis=1).reset_index()
    return out.astype({"id": "int64", **dict.fromkeys(STATUSES, "float64")})


def work_item_age(
    tasks: pd.DataFrame,
    history: pd.DataFrame,
    start: date,
    end: date,
    percentiles: Sequence[int] = (50, 70, 85, 95),
) -> pd.DataFrame:
    _, ends = _bounds(start, end)
    m = moves(tasks, history)
    now = m[m["at"] < ends].groupby("task_id").tail(1)
    ids = now.loc[now["status"] == "in_progress", "task_id"]
    rows = tasks[tasks["id"].isin(ids)]
    started = rows["started_at"].where(rows["started_at"] < ends)
    age = (pd.Timestamp(end) - _day(started)).dt.days + 1
    out = pd.DataFrame(
        {
            "id": rows["id"].to_numpy(dtype="int64"),
            "key": rows["key"].array,
            "title": rows["title"].array,
            "started_at": started.array,
            "age_days": pd.array(age.to_numpy(dtype="float64"), dtype="Int64"),
        }
    )
    out = out.sort_values(["age_days", "id"], ascending=[False, True], na_position="last")
    levels = cycle_time_percentiles(tasks, start, end, percentiles).dropna()
    beyond = pd.Series(pd.NA, index=out.index, dtype="Int64")
    for p, days in zip(levels["percentile"], levels["cycle_days"], strict=True):
        beyond[(out["age_days"] > days).fillna(False)] = p
    out["beyond"] = beyond
    return out.reset_index(drop=True)
