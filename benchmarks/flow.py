"""Flow measures: taskkit's SQL beside reading the rows into pandas and computing there.

    uv run python benchmarks/flow.py 1000000               # a SQLite file
    uv run python benchmarks/flow.py 1000000 --pg URL      # PostgreSQL too (tables emptied)

The data: ``tests/flow_data.histories(N)``, N tasks over 2025 with about three status moves
each (reopened items, items sent back, items without a start, tasks without history), written
once. For each measure over the whole year, two timings in the same run, each the best of
``--repeat``:

* taskkit: the public function (``taskkit.throughput(engine, start=..., end=...)``, ...),
  from the call to the typed frame;
* pandas: reading the rows the measure needs with ``taskkit.to_dataframe`` (its fastest
  reader: ADBC), then computing the same frame with ``tests/flow_reference.py``, the plain
  pandas reference the tests hold taskkit to (the frames are checked equal here too).

The ratio is pandas / taskkit: above 1, the database is faster. Issue 24 asks >= 1 for each.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' data and reference

import taskkit
from taskkit import StatusChange, Task
from tests import flow_reference as reference
from tests.flow_data import histories

START, END = date(2025, 1, 1), date(2025, 12, 31)
TASK_COLUMNS = ["id", "title", "status", "resolution", "created_at", "updated_at",
                "started_at", "completed_at"]  # fmt: skip
HISTORY_COLUMNS = ["id", "task_id", "changed_at", "from_status", "to_status", "source"]


def _sqlite_text(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Rows as sqlite3 parameters, timestamps in the text form SQLAlchemy stores."""
    out = {}
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            text = column.dt.tz_convert(None).dt.strftime("%Y-%m-%d %H:%M:%S.%f")
            out[name] = text.astype(object).where(column.notna(), None)
        else:
            out[name] = column.astype(object).where(column.notna(), None)
    return list(zip(*(out[n].tolist() for n in frame.columns), strict=True))


async def write_sqlite(path: Path, tasks: pd.DataFrame, history: pd.DataFrame) -> None:
    engine = taskkit.connect(f"sqlite:///{path}")
    await taskkit.ensure_schema(engine)
    await engine.dispose()
    con = sqlite3.connect(path)
    with con:
        for table, frame in (("task", tasks), ("status_change", history)):
            names = ", ".join(frame.columns)
            marks = ", ".join("?" * len(frame.columns))
            for offset in range(0, len(frame), 200_000):
                rows = _sqlite_text(frame.iloc[offset : offset + 200_000])
                con.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
    con.execute("ANALYZE")
    con.close()


async def write_postgres(url: str, tasks: pd.DataFrame, history: pd.DataFrame) -> None:
    import adbc_driver_postgresql.dbapi as adbc

    engine = taskkit.connect(url)
    await taskkit.ensure_schema(engine)
    async with engine.begin() as conn:
        await conn.execute(sa.text("TRUNCATE task, status_change RESTART IDENTITY CASCADE"))
    await engine.dispose()
    plain = sa.engine.make_url(url).set(drivername="postgresql")
    with adbc.connect(plain.render_as_string(hide_password=False)) as con:
        with con.cursor() as cur:
            for table, frame in (("task", tasks), ("status_change", history)):
                arrow = pa.Table.from_pandas(frame, preserve_index=False)
                # COPY's binary format wants the columns' own widths: INTEGER ids are int32.
                for name in ("id", "task_id"):
                    if name in arrow.column_names:
                        at = arrow.column_names.index(name)
                        arrow = arrow.set_column(at, name, arrow.column(name).cast(pa.int32()))
                cur.adbc_ingest(table, arrow, mode="append")
            cur.execute("ANALYZE")
        con.commit()


async def best(repeat: int, run: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = await run()
        times.append(time.perf_counter() - began)
    return min(times), result


def measures(engine: Any) -> list[tuple[str, Callable[[], Awaitable[Any]], Callable[[], Any]]]:
    period = {"start": START, "end": END}

    async def tasks(*columns: str) -> pd.DataFrame:
        return await taskkit.to_dataframe(engine, select(*(getattr(Task, c) for c in columns)))

    async def both(*columns: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        history = await taskkit.to_dataframe(
            engine,
            select(
                StatusChange.id,
                StatusChange.task_id,
                StatusChange.changed_at,
                StatusChange.from_status,
                StatusChange.to_status,
            ),
        )
        return await tasks(*columns), history

    moving = ("id", "status", "created_at", "updated_at", "started_at", "completed_at")
    finishing = ("id", "status", "resolution", "started_at", "completed_at")

    async def ref_throughput() -> pd.DataFrame:
        return reference.throughput(await tasks("status", "resolution", "completed_at"), START, END)

    async def ref_weekly() -> pd.DataFrame:
        return reference.throughput(
            await tasks("status", "resolution", "completed_at"), START, END, "week"
        )

    async def ref_cycle() -> pd.DataFrame:
        return reference.cycle_times(await tasks(*finishing), START, END)

    async def ref_percentiles() -> pd.DataFrame:
        return reference.cycle_time_percentiles(await tasks(*finishing), START, END)

    async def ref_cfd() -> pd.DataFrame:
        return reference.cumulative_flow(*await both(*moving), START, END)

    async def ref_wip() -> pd.DataFrame:
        return reference.work_in_progress(*await both(*moving), START, END)

    async def ref_time_in_state() -> pd.DataFrame:
        return reference.time_in_state(*await both(*moving), START, END)

    async def ref_age() -> pd.DataFrame:
        rows, history = await both(*moving, "resolution")
        names = await taskkit.to_dataframe(
            engine,
            select(Task.id, Task.key, Task.title).where(Task.status == "in_progress"),
        )
        rows = rows.merge(names, on="id", how="left")
        return reference.work_item_age(rows, history, START, END)

    return [
        ("throughput per day", lambda: taskkit.throughput(engine, **period), ref_throughput),
        (
            "throughput per week",
            lambda: taskkit.throughput(engine, per="week", **period),
            ref_weekly,
        ),
        ("cycle time per item", lambda: taskkit.cycle_times(engine, **period), ref_cycle),
        (
            "cycle-time percentiles",
            lambda: taskkit.cycle_time_percentiles(engine, **period),
            ref_percentiles,
        ),
        ("cumulative flow", lambda: taskkit.cumulative_flow(engine, **period), ref_cfd),
        ("work in progress", lambda: taskkit.work_in_progress(engine, **period), ref_wip),
        (
            "time in each state",
            lambda: taskkit.time_in_state(engine, **period),
            ref_time_in_state,
        ),
        ("work item age", lambda: taskkit.work_item_age(engine, **period), ref_age),
    ]


async def run(url: str, label: str, repeat: int) -> None:
    engine = taskkit.connect(url)
    # The readers' start (SQLite's helper process, imports) is paid here, by neither side.
    await taskkit.to_dataframe(engine, select(Task.id, Task.created_at).limit(20_000))
    print(f"\n{label}: {'measure':<24}{'taskkit':>10}{'pandas':>10}{'ratio':>8}  same frame")
    for name, ours, theirs in measures(engine):
        # Alternated, best of each: a noisy neighbour costs both sides alike.
        ours_s, theirs_s, got, want = float("inf"), float("inf"), None, None
        for _ in range(repeat):
            took, got = await best(1, ours)
            ours_s = min(ours_s, took)
            took, want = await best(1, theirs)
            theirs_s = min(theirs_s, took)
        try:
            pd.testing.assert_frame_equal(got, want)
            same = "yes"
        except AssertionError as exc:
            same = f"NO: {str(exc).splitlines()[0]}"
        print(
            f"{label}: {name:<24}{ours_s:>9.3f}s{theirs_s:>9.3f}s{theirs_s / ours_s:>7.2f}x  {same}"
        )
    await engine.dispose()


def forecasts() -> None:
    """10,000 trials of each forecast, sampling 8 weeks of a steady team's days."""
    sample = pd.DataFrame(
        {
            "day": pd.date_range("2025-11-06", periods=56, freq="D", unit="s"),
            "finished": np.random.default_rng(0).poisson(3.0, 56),
        }
    )
    for name, run_one in (
        ("how many in 26 weeks", lambda: taskkit.forecast_how_many(sample, until="2026-07-01")),
        ("when will 500 be done", lambda: taskkit.forecast_when(sample, items=500)),
    ):
        took = []
        for _ in range(5):
            began = time.perf_counter()
            run_one()
            took.append(time.perf_counter() - began)
        print(f"forecast: {name:<24}{min(took) * 1000:>8.1f} ms for 10,000 trials (best of 5)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--pg", metavar="URL", help="also a PostgreSQL database (emptied)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", metavar="PATH", help="SQLite file to use (kept if it exists)")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    forecasts()

    began = time.perf_counter()
    tasks, history = histories(args.tasks, seed=0)
    print(f"data: {len(tasks):,} tasks, {len(history):,} history rows "
          f"({time.perf_counter() - began:.1f} s to draw)")  # fmt: skip
    if not args.skip_sqlite:
        path = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / "flow.db"
        if not path.exists():
            began = time.perf_counter()
            await write_sqlite(path, tasks, history)
            print(f"sqlite: written in {time.perf_counter() - began:.1f} s ({path})")
        await run(f"sqlite:///{path}", "sqlite", args.repeat)
    if args.pg:
        began = time.perf_counter()
        await write_postgres(args.pg, tasks, history)
        print(f"\npostgresql: written in {time.perf_counter() - began:.1f} s")
        await run(args.pg, "postgresql", args.repeat)


if __name__ == "__main__":
    asyncio.run(main())
