"""taskkit.to_dataframe beside the references, in one run (figures are rows/s, best of 3).

    uv run python benchmarks/frames.py 1000000 [--pg URL] [--subset 100000] [--db /tmp/x.db]

SQLite: a temporary file with N tasks in the taskkit schema (plus 49 projects), read by
  * the reference: ADBC -> Arrow -> typed DataFrame, as ../shared/bench/reference.py does it
    (to_pandas, then pandas.to_datetime and Categorical), on the same table;
  * the SQLModel patterns' way: async ORM objects -> model_dump -> DataFrame (on a subset);
  * taskkit: await to_dataframe(engine, select(Task)), and its SQLAlchemy reader (a subset);
then peak memory of to_dataframe (a fresh process) against the frame's memory_usage(deep=True).

PostgreSQL (with --pg URL or TASKKIT_TEST_POSTGRES_URL): the same tasks in a schema of their
own (taskkit_frames_bench, dropped at the end), read by ADBC-PostgreSQL -> Arrow and by
asyncpg -> Arrow (COPY ... CSV into pyarrow.csv, its fastest road to Arrow), each typed, and by
taskkit. Machines are shared and noisy: compare the ratios, which come from the same run.
"""

import argparse
import asyncio
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import text
from sqlmodel import select

import taskkit
from taskkit import ChangeSource, Priority, Status, StatusChange, Task, to_dataframe

STATUSES = [s.value for s in Status]
PRIORITIES = [p.value for p in Priority]
PG_SCHEMA = "taskkit_frames_bench"
ROUNDS = 3


def task_rows(n: int) -> pa.Table:
    """reference.py's arrow_rows, plus completed_at and resolution (the schema's CHECKs tie them
    to the status)."""
    rng = np.random.default_rng(42)
    ts = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="min")
    stamps = pa.array(np.asarray(ts.strftime("%Y-%m-%d %H:%M:%S.%f")))
    status = pa.array(np.array(STATUSES)[rng.integers(0, 3, n)])
    is_done = pc.equal(status, "completed")
    done = pc.if_else(is_done, stamps, pa.scalar(None, pa.string()))
    return pa.table(
        {
            "title": pa.array([f"task {i}" for i in range(n)]),
            "description": pa.array([None if i % 3 else f"desc {i}" for i in range(n)]),
            "status": status,
            "priority": pa.array(np.array(PRIORITIES)[rng.integers(0, 3, n)]),
            "project_id": pa.array(rng.integers(1, 50, n)),
            "created_at": stamps,
            "updated_at": stamps,
            "completed_at": done,
            "resolution": pc.if_else(is_done, "done", pa.scalar(None, pa.string())),
        }
    )


def helper_cpu() -> dict[int, float]:
    """CPU seconds used so far by each of taskkit's idle SQLite helper processes (they outlive
    a read), by process id."""
    from taskkit._sqlite_child.client import SQLiteChild

    found = {}
    for pid in SQLiteChild.idle_pids():
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def helper_cpu_since(before: dict[int, float]) -> float:
    """CPU seconds the helper processes used since ``before`` (one that ended meanwhile, or
    that idled out, counts for nothing rather than for less than nothing)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in helper_cpu().items())


def best(label: str, n: int, fn: Callable[[], Any], rounds: int = ROUNDS) -> tuple[float, float]:
    """Best-of-``rounds`` rows/s of ``fn`` reading ``n`` rows, by wall clock and by CPU time
    (this process and the SQLite helper process): printed, and returned in that order."""
    walls, cpus = [], []
    for _ in range(rounds):
        start, cpu, helper = time.perf_counter(), time.process_time(), helper_cpu()
        out = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu + helper_cpu_since(helper))
        assert len(out) == n, (label, len(out), n)
        del out
    rate, cpu_rate = n / min(walls), n / min(cpus)
    print(
        f"  {label:66s} {min(walls):6.3f}s {rate:11,.0f} rows/s"
        f"  (CPU {min(cpus):6.3f}s, {cpu_rate:11,.0f} rows/CPU-s)",
        flush=True,
    )
    return rate, cpu_rate


def typed(df: pd.DataFrame, stamps: tuple[str, ...] = ("created_at", "updated_at")) -> pd.DataFrame:
    """reference.py's typing step (its table has no completed_at: ``stamps`` adds it)."""
    for c in stamps:
        df[c] = pd.to_datetime(df[c], utc=True, format="ISO8601")
    df["status"] = pd.Categorical(df["status"], categories=STATUSES)
    df["priority"] = pd.Categorical(df["priority"], categories=PRIORITIES)
    return df


SOURCES = [s.value for s in ChangeSource]


async def copy_csv_table(url: str, sql: str, columns: list[str], types: dict[str, Any]) -> pa.Table:
    """The reference's PostgreSQL read: asyncpg ``COPY (sql) TO STDOUT`` as CSV, parsed by
    pyarrow.csv into ``columns`` of ``types`` (an empty string is NULL, a quoted one is not)."""
    import asyncpg
    import pyarrow.csv as pcsv

    conn = await asyncpg.connect(libpq(url))
    buffer = io.BytesIO()
    await conn.copy_from_query(sql, output=buffer, format="csv")
    await conn.close()
    buffer.seek(0)
    return pcsv.read_csv(
        buffer,
        read_options=pcsv.ReadOptions(column_names=columns),
        convert_options=pcsv.ConvertOptions(
            column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False
        ),
    )


def typed_history(df: pd.DataFrame) -> pd.DataFrame:
    """The typing to_dataframe gives the history, done in pandas: changed_at UTC, the statuses
    and the source ordered categoricals."""
    df["changed_at"] = pd.to_datetime(df["changed_at"], utc=True, format="ISO8601")
    for name, categories in (
        ("from_status", STATUSES),
        ("to_status", STATUSES),
        ("source", SOURCES),
    ):
        df[name] = pd.Categorical(df[name], categories=categories, ordered=True)
    return df


# ---------------------------------------------------------------------------------------------
# SQLite


async def make_sqlite(path: str, n: int) -> None:
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    engine = taskkit.connect(f"sqlite:///{path}")
    await taskkit.create_db_and_tables(engine)
    await engine.dispose()
    with adbc_sqlite.connect(path) as con:
        with con.cursor() as cur:
            projects = pa.table({"name": [f"project {i}" for i in range(1, 50)]})
            cur.adbc_ingest("project", projects, mode="append")
            cur.adbc_ingest("task", task_rows(n), mode="append")
        con.commit()


def reusable(path: str, n: int) -> bool:
    """Whether ``path`` is a database an earlier run built with ``n`` tasks."""
    import sqlite3

    if not os.path.isfile(path):
        return False
    try:
        with contextlib.closing(sqlite3.connect(path)) as con:
            return con.execute("SELECT count(*) FROM task").fetchone()[0] == n
    except sqlite3.Error:
        return False


def bench_sqlite(path: str, n: int, subset: int) -> None:
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    print(f"SQLite file, {n:,} tasks")

    def reference(stamps: tuple[str, ...]) -> pd.DataFrame:
        with adbc_sqlite.connect(path) as con, con.cursor() as cur:
            cur.execute("SELECT * FROM task")
            return typed(cur.fetch_arrow_table().to_pandas(), stamps)

    ref, ref_cpu = best(
        "reference: ADBC -> Arrow -> typed DataFrame (reference.py's typing)",
        n,
        lambda: reference(("created_at", "updated_at")),
    )
    best(
        "reference: the same, completed_at typed too (the frame taskkit makes)",
        n,
        lambda: reference(("created_at", "updated_at", "completed_at")),
    )

    async def patterns() -> pd.DataFrame:
        engine = taskkit.connect(f"sqlite:///{path}")
        async with taskkit.session(engine) as s:
            rows = (await s.exec(select(Task).limit(subset))).all()
            df = pd.DataFrame([t.model_dump() for t in rows])
        await engine.dispose()
        return df

    naive, naive_cpu = best(
        f"patterns: async ORM objects -> model_dump -> DataFrame ({subset:,})",
        subset,
        lambda: asyncio.run(patterns()),
    )

    async def ours(reader: str, limit: int | None) -> pd.DataFrame:
        engine = taskkit.connect(f"sqlite:///{path}")
        stmt = select(Task) if limit is None else select(Task).limit(limit)
        df = await to_dataframe(engine, stmt, reader=reader, progress=False)  # type: ignore[arg-type]
        await engine.dispose()
        return df

    fast, fast_cpu = best(
        "taskkit: to_dataframe(engine, select(Task))", n, lambda: asyncio.run(ours("auto", None))
    )
    best(
        f"taskkit: the same, reader='sqlalchemy' ({subset:,})",
        subset,
        lambda: asyncio.run(ours("sqlalchemy", subset)),
        rounds=1,
    )
    print(
        f"  ratios (wall clock): taskkit / reference = {fast / ref:.2f}x (target >= 0.8x); "
        f"taskkit / patterns = {fast / naive:.1f}x (target >= 20x)\n"
        f"  ratios (CPU time, steadier on a busy machine): taskkit / reference = "
        f"{fast_cpu / ref_cpu:.2f}x; taskkit / patterns = {fast_cpu / naive_cpu:.1f}x"
    )


SIZES = (10, 1_000, 10_000, 100_000, 1_000_000)


def interleaved(fns: tuple[Callable[[], Any], ...], rounds: int) -> list[float]:
    """Best wall-clock seconds of each function over ``rounds`` rounds, taking turns (a slow
    spell of the machine then falls on all of them alike)."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


class AdbcTimer:
    """The ADBC reference, timed in a process of its own (``--adbc-timer``): ADBC's own copy
    of SQLite must not open the file in this process, since closing its connection drops the
    file locks of this process's other connections (SQLite's "two copies" problem) and their
    next reads pay for it. One case at a time, between this process's measurements of it."""

    def __init__(self, path: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--adbc-timer", path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def seconds(self, rounds: int, kind: str, sql: str) -> list[float]:
        """The best seconds of ``rounds`` reads of ``sql`` (``kind``: task or history), as
        :func:`adbc_timer` answers them."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{rounds}\t{kind}\t{sql}\n")
        self.process.stdin.flush()
        return [float(v) for v in self.process.stdout.readline().split()]

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def adbc_timer(path: str) -> None:
    """The ADBC reference of bench_sizes and bench_history, in a process of its own: for each
    line ``rounds\tkind\tsql`` on stdin (kind: ``task`` or ``history``), the best seconds of
    ADBC -> Arrow -> typed DataFrame on stdout."""
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    stamps = ("created_at", "updated_at", "completed_at")
    for line in sys.stdin:
        rounds, kind, sql = line.rstrip("\n").split("\t", 2)

        def adbc(sql: str = sql, kind: str = kind) -> None:
            with adbc_sqlite.connect(path) as c, c.cursor() as cur:
                cur.execute(sql)
                frame = cur.fetch_arrow_table().to_pandas()
                typed(frame, stamps) if kind == "task" else typed_history(frame)

        adbc()
        cpu = time.process_time()
        wall = interleaved((adbc,), int(rounds))[0]
        print(wall, (time.process_time() - cpu) / int(rounds), flush=True)


def bench_sizes(path: str, n: int, sizes: tuple[int, ...] = SIZES) -> None:
    """to_dataframe at each result size beside the faster of pandas.read_sql over sqlite3 and
    ADBC with the typing done in pandas (issue 16's table), in one run.

    Two shapes: ``select(Task).order_by(Task.id).limit(k)`` (the LIMIT says how many rows come
    back) and ``select(Task).where(Task.id <= k)`` (nothing says it: taskkit finds out).
    """
    import sqlite3

    columns = ", ".join(c.name for c in Task.__table__.columns)  # type: ignore[attr-defined]
    loop = asyncio.new_event_loop()
    engine = taskkit.connect(f"sqlite:///{path}")  # kept open, as a notebook keeps it
    print(f"SQLite file, {n:,} tasks: small and large results (ms, best of several runs)")
    print(
        f"  {'rows':>9} {'shape':9} {'read_sql':>9} {'ADBC typed':>11} {'to_dataframe':>13}"
        f" {'taskkit vs the faster':>22}"
    )
    con = sqlite3.connect(path)
    timer = AdbcTimer(path)
    for k in (size for size in sizes if size <= n):
        # Small reads take a fraction of a millisecond: many rounds, so that the best of each
        # is not one lucky (or unlucky) moment of a shared machine.
        rounds = 300 if k <= 1_000 else 30 if k <= 10_000 else 5 if k <= 100_000 else 3
        for shape, where, stmt in (
            ("LIMIT", f"ORDER BY id LIMIT {k}", select(Task).order_by(Task.id).limit(k)),
            ("WHERE", f"WHERE id <= {k}", select(Task).where(Task.id <= k)),
        ):
            sql = f"SELECT {columns} FROM task {where}"

            def read_sql(sql: str = sql) -> None:
                pd.read_sql(sql, con)

            def ours(stmt: Any = stmt, k: int = k) -> None:
                frame = loop.run_until_complete(to_dataframe(engine, stmt, progress=False))
                assert len(frame) == k

            ours()  # the helper process and caches warm, as after a notebook's first read
            b = timer.seconds(rounds, "task", sql)[0]
            a, c = interleaved((read_sql, ours), rounds)
            print(
                f"  {k:>9,} {shape:9} {a * 1000:9.2f} {b * 1000:11.2f} {c * 1000:13.2f}"
                f" {min(a, b) / c:21.2f}x",
                flush=True,
            )
    timer.close()
    con.close()
    loop.run_until_complete(engine.dispose())
    loop.close()
    print("  target: taskkit >= 1.00x the faster reference at every size")


# ---------------------------------------------------------------------------------------------
# The status history (issue 22): a seeded database, about 3.3 history rows per task.

HISTORY_COLUMNS = [c.name for c in StatusChange.__table__.columns]  # type: ignore[attr-defined]


async def seed_history(url: str, n: int, connect_args: dict[str, Any] | None = None) -> int:
    """``taskkit.seed`` of ``n`` tasks (replacing what is there); the history rows written."""
    engine = taskkit.connect(url, connect_args=connect_args or {})
    await taskkit.create_db_and_tables(engine)
    summary = await taskkit.seed(engine, tasks=n, reset=True, progress=False)
    await engine.dispose()
    return summary.status_changes


def history_cases(table: str = "status_change") -> list[tuple[str, Any, str]]:
    """(name, statement, the same SQL written by hand) for the history reads measured."""
    columns = ", ".join(HISTORY_COLUMNS)
    return [
        ("select(StatusChange)", select(StatusChange), f"SELECT {columns} FROM {table}"),
        (
            "select_history()",
            taskkit.select_history(),
            f"SELECT {columns} FROM {table} ORDER BY changed_at, id",
        ),
    ]


def timed(fns: tuple[Callable[[], Any], ...], rounds: int) -> list[tuple[float, float]]:
    """Best wall-clock seconds and best CPU seconds (this process and the SQLite helper
    processes) of each function over ``rounds`` rounds, taking turns."""
    walls = [float("inf")] * len(fns)
    cpus = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            start, cpu, helper = time.perf_counter(), time.process_time(), helper_cpu()
            fn()
            walls[i] = min(walls[i], time.perf_counter() - start)
            cpus[i] = min(cpus[i], time.process_time() - cpu + helper_cpu_since(helper))
    return list(zip(walls, cpus, strict=True))


def history_line(name: str, rows: int, refs: dict[str, tuple[float, float]], ours: tuple) -> None:
    cells = "  ".join(f"{k} {w:6.2f} s (CPU {c:5.2f})" for k, (w, c) in refs.items())
    faster = min(w for w, _ in refs.values())
    faster_cpu = min(c for _, c in refs.values())
    print(
        f"  {name:21} {rows:,} rows: {cells}  to_dataframe {ours[0]:6.2f} s (CPU {ours[1]:5.2f})"
        f"  -> {faster / ours[0]:.2f}x the faster by wall clock, "
        f"{faster_cpu / ours[1]:.2f}x by CPU",
        flush=True,
    )


def bench_history_sqlite(path: str, n: int, rounds: int = ROUNDS) -> None:
    """to_dataframe of the history beside pandas.read_sql over sqlite3 and ADBC (in a process
    of its own), each typed in pandas as to_dataframe types it."""
    import sqlite3

    rows = asyncio.run(seed_history(f"sqlite:///{path}", n))
    print(f"SQLite file, {n:,} seeded tasks, {rows:,} history rows (best of {rounds})")
    loop = asyncio.new_event_loop()
    engine = taskkit.connect(f"sqlite:///{path}")
    con = sqlite3.connect(path)
    timer = AdbcTimer(path)
    for name, stmt, sql in history_cases():

        def read_sql(sql: str = sql) -> None:
            assert len(typed_history(pd.read_sql(sql, con))) == rows

        def ours(stmt: Any = stmt) -> None:
            frame = loop.run_until_complete(to_dataframe(engine, stmt, progress=False))
            assert len(frame) == rows

        adbc = tuple(timer.seconds(rounds, "history", sql))
        by_read_sql, by_us = timed((read_sql, ours), rounds)
        history_line(name, rows, {"read_sql": by_read_sql, "ADBC typed": adbc}, by_us)
    timer.close()
    con.close()
    loop.run_until_complete(engine.dispose())
    loop.close()
    print("  target: taskkit >= 1.00x the faster reference")


def bench_history_postgres(url: str, n: int, rounds: int = ROUNDS) -> None:
    """The same on PostgreSQL, beside pandas.read_sql (over an ADBC connection: no other
    synchronous driver is installed), ADBC -> Arrow typed, and asyncpg COPY -> pyarrow.csv."""
    import adbc_driver_postgresql.dbapi as adbc_pg

    settings = {"server_settings": {"search_path": PG_SCHEMA}}
    rows = asyncio.run(seed_history(url, n, settings))
    print(f"PostgreSQL, {n:,} seeded tasks, {rows:,} history rows (best of {rounds})")
    loop = asyncio.new_event_loop()
    engine = taskkit.connect(url, connect_args=settings)
    types = {c: pa.string() for c in HISTORY_COLUMNS}
    types.update(task_id=pa.int64(), id=pa.int64(), changed_at=pa.timestamp("us", "UTC"))
    for name, stmt, sql in history_cases(f"{PG_SCHEMA}.status_change"):

        def read_sql(sql: str = sql) -> None:
            with adbc_pg.connect(libpq(url)) as con:
                assert len(typed_history(pd.read_sql(sql, con))) == rows

        def adbc(sql: str = sql) -> None:
            with adbc_pg.connect(libpq(url)) as con, con.cursor() as cur:
                cur.execute(sql)
                assert len(typed_history(cur.fetch_arrow_table().to_pandas())) == rows

        async def copy(sql: str) -> pd.DataFrame:
            table = await copy_csv_table(url, sql, HISTORY_COLUMNS, types)
            return typed_history(table.to_pandas())

        def via_asyncpg(sql: str = sql) -> None:
            assert len(loop.run_until_complete(copy(sql))) == rows

        def ours(stmt: Any = stmt) -> None:
            frame = loop.run_until_complete(to_dataframe(engine, stmt, progress=False))
            assert len(frame) == rows

        a, b, c, d = timed((read_sql, adbc, via_asyncpg, ours), rounds)
        history_line(name, rows, {"read_sql": a, "ADBC typed": b, "asyncpg COPY": c}, d)
    loop.run_until_complete(engine.dispose())
    loop.close()
    print("  target: taskkit >= 1.00x the faster reference")


MEMORY_PROBE = """
import asyncio, gc, sys, tracemalloc
import pyarrow as pa
from sqlmodel import select
import taskkit
from taskkit._frames import to_dataframe
from taskkit._models import Task

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

async def main(url, schema):
    settings = {"server_settings": {"search_path": schema}} if schema else {}
    engine = taskkit.connect(url, connect_args=settings) if schema else taskkit.connect(url)
    await to_dataframe(engine, select(Task).limit(10), progress=False)  # imports, driver load
    gc.collect()
    open("/proc/self/clear_refs", "w").write("5")  # resets the peak (VmHWM) to now
    before = rss("VmRSS:")
    tracemalloc.start()
    df = await to_dataframe(engine, select(Task), progress=False)
    py_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    peak = rss("VmHWM:") - before
    frame = int(df.memory_usage(deep=True).sum())
    from taskkit._sqlite_child.client import SQLiteChild
    child = 0
    for pid in SQLiteChild.idle_pids():  # the SQLite reader's helper process, if one ran
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                child = max(child, int(line.split()[1]) * 1024)
    print(len(df), frame, peak, py_peak, pa.default_memory_pool().max_memory(), child)
    await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def bench_memory(url: str, label: str, schema: str = "") -> None:
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, url, schema],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    rows, frame, peak, py_peak, arrow_peak, child = map(int, out)
    mb = 1 << 20
    print(
        f"  memory ({label}, {rows:,} rows): frame memory_usage(deep=True) {frame / mb:.0f} MiB; "
        f"peak RSS growth during to_dataframe {peak / mb:.0f} MiB = {peak / frame:.2f}x the "
        f"frame (target <= 2x); traced within it: Python/numpy {py_peak / mb:.0f} MiB, Arrow "
        f"pool {arrow_peak / mb:.0f} MiB"
        + (
            f"; SQLite helper process peak RSS {child / mb:.0f} MiB (all of its life)"
            if child
            else ""
        )
    )


# ---------------------------------------------------------------------------------------------
# PostgreSQL


async def make_postgres(url: str, n: int) -> None:
    import adbc_driver_postgresql.dbapi as adbc_pg

    engine = taskkit.connect(url, connect_args={"server_settings": {"search_path": PG_SCHEMA}})
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        await conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    await taskkit.create_db_and_tables(engine)
    await engine.dispose()
    rows = task_rows(n)
    for name in ("created_at", "updated_at", "completed_at"):
        stamps = pc.cast(rows.column(name), pa.timestamp("us")).cast(pa.timestamp("us", "UTC"))
        rows = rows.set_column(rows.schema.get_field_index(name), name, stamps)
    i = rows.schema.get_field_index("project_id")
    rows = rows.set_column(i, "project_id", rows.column(i).cast(pa.int32()))
    with adbc_pg.connect(libpq(url)) as con:
        with con.cursor() as cur:
            projects = pa.table({"name": [f"project {i}" for i in range(1, 50)]})
            cur.adbc_ingest("project", projects, mode="append", db_schema_name=PG_SCHEMA)
            cur.adbc_ingest("task", rows, mode="append", db_schema_name=PG_SCHEMA)
            cur.execute(f"ANALYZE {PG_SCHEMA}.task")
        con.commit()


def libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def bench_postgres(url: str, n: int) -> None:
    import adbc_driver_postgresql.dbapi as adbc_pg

    print(f"PostgreSQL, {n:,} tasks")
    columns = [c.name for c in Task.__table__.columns]  # type: ignore[attr-defined]
    sql = f"SELECT {', '.join(columns)} FROM {PG_SCHEMA}.task"

    def pg_typed(table: pa.Table) -> pd.DataFrame:
        df = table.to_pandas()
        df["project_id"] = df["project_id"].astype("Int64")
        df["status"] = pd.Categorical(df["status"], categories=STATUSES)
        df["priority"] = pd.Categorical(df["priority"], categories=PRIORITIES)
        return df

    def adbc() -> pd.DataFrame:
        with adbc_pg.connect(libpq(url)) as con, con.cursor() as cur:
            cur.execute(sql)
            return pg_typed(cur.fetch_arrow_table())

    adbc_rate, adbc_cpu = best("reference: ADBC-PostgreSQL -> Arrow -> typed DataFrame", n, adbc)

    types = {c: pa.string() for c in columns}
    types.update(
        project_id=pa.int64(),
        id=pa.int64(),
        created_at=pa.timestamp("us", "UTC"),
        updated_at=pa.timestamp("us", "UTC"),
        completed_at=pa.timestamp("us", "UTC"),
    )

    async def via_asyncpg() -> pd.DataFrame:
        return pg_typed(await copy_csv_table(url, sql, columns, types))

    asyncpg_rate, asyncpg_cpu = best(
        "reference: asyncpg COPY csv -> pyarrow.csv -> typed DataFrame",
        n,
        lambda: asyncio.run(via_asyncpg()),
    )

    async def ours() -> pd.DataFrame:
        engine = taskkit.connect(url, connect_args={"server_settings": {"search_path": PG_SCHEMA}})
        df = await to_dataframe(engine, select(Task), progress=False)
        await engine.dispose()
        return df

    rate, cpu = best("taskkit: to_dataframe(engine, select(Task))", n, lambda: asyncio.run(ours()))
    faster = max(adbc_rate, asyncpg_rate)
    print(
        f"  ratios: taskkit / faster reference = {rate / faster:.2f}x (target >= 0.8x); "
        f"ADBC / asyncpg = {adbc_rate / asyncpg_rate:.2f}x; by CPU time: taskkit / "
        f"faster = {cpu / max(adbc_cpu, asyncpg_cpu):.2f}x"
    )


async def drop_postgres(url: str) -> None:
    engine = taskkit.connect(url)
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=1_000_000, help="tasks (1,000,000)")
    parser.add_argument("--subset", type=int, default=100_000, help="rows for the slow ways")
    parser.add_argument("--pg", default=os.environ.get("TASKKIT_TEST_POSTGRES_URL", ""))
    parser.add_argument(
        "--sizes-only", action="store_true", help="only the table of result sizes (SQLite)"
    )
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, SIZES)),
        help="result sizes of the table (comma-separated; default: all of issue 16's)",
    )
    parser.add_argument(
        "--db",
        default="",
        help="SQLite file to build once and reuse in later runs (default: a temporary one)",
    )
    parser.add_argument(
        "--history-only",
        action="store_true",
        help="only the status history of N seeded tasks (SQLite, and PostgreSQL with --pg)",
    )
    parser.add_argument("--adbc-timer", help=argparse.SUPPRESS)  # the ADBC reference
    args = parser.parse_args()
    if args.adbc_timer:
        adbc_timer(args.adbc_timer)
        return
    subset = min(args.subset, args.n)
    with tempfile.TemporaryDirectory() as tmp:
        bench_history_sqlite(os.path.join(tmp, "history.db"), args.n)
        if args.pg:
            url = taskkit.database_url(args.pg)
            asyncio.run(make_postgres(url, 0))  # the benchmark's own schema
            try:
                bench_history_postgres(url, args.n)
            finally:
                asyncio.run(drop_postgres(url))
        if args.history_only:
            return
        path = args.db or os.path.join(tmp, "frames.db")
        if not reusable(path, args.n):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
            asyncio.run(make_sqlite(path, args.n))
        bench_sizes(path, args.n, tuple(int(k) for k in args.sizes.split(",")))
        if args.sizes_only:
            return
        bench_sqlite(path, args.n, subset)
        bench_memory(f"sqlite:///{path}", "SQLite")
    if args.pg:
        url = taskkit.database_url(args.pg)
        asyncio.run(make_postgres(url, args.n))
        try:
            bench_postgres(url, args.n)
            bench_memory(url, "PostgreSQL", PG_SCHEMA)
        finally:
            asyncio.run(drop_postgres(url))
    else:
        print("PostgreSQL: skipped (give --pg URL or set TASKKIT_TEST_POSTGRES_URL)")


if __name__ == "__main__":
    main()
