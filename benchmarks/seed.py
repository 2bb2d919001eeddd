"""Seeding speed: taskkit's seed beside the references, in one run.

    uv run python benchmarks/seed.py 1000000            # SQLite
    uv run python benchmarks/seed.py 1000000 --pg URL   # also PostgreSQL (COPY vs executemany)
    uv run python benchmarks/seed.py 1000000 --history-only --pg URL  # only the first part

First, what the status history costs (issue 22: at most 1.5x today's seed time per task):
today's seed, without history, labels or the new task columns (the revision before migration
0005, taken from git into a temporary directory, ``--baseline REV`` for another), this seed
with its history rows left out (to see the history's own share), and this seed, taking turns
(``--rounds``), each in a process of its own on a new database.
Prints the seed's own seconds (wall) and the CPU seconds of the seeding process and of its
SQLite writer (PostgreSQL: of the local server's processes), and the ratios of the medians.

Then rows/s for:
* reference: sqlite3 ``executemany`` of the same task rows taskkit's seed writes, pre-built
  as tuples, into taskkit's task table with its indexes and constraints (the issue's target);
* reference: ../shared/bench/reference.py's own rows and its simpler table (no CHECK or
  foreign-key constraints, shorter rows), run as is, for comparison with the issue's figures;
* reference: the patterns document's ``session.add_all`` + commit (20,000 rows, scaled);
* taskkit: ``taskkit seed`` end to end (generation, projects, workers, labels, links, the
  status history, indexes, constraints, one transaction), in a child process so that its peak
  memory is its own; per task, and per row written (a task now comes with about 5.4 more rows:
  its history, links and labels).
Targets (issue 3): taskkit >= 1x executemany, >= 50x add_all, peak memory < 1 GiB for 1M.
"""

import argparse
import asyncio
import contextlib
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

import taskkit
from taskkit._bulk import _sqlite_ready
from taskkit._seed.generator import TaskGenerator

SHARED_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"


def settle() -> None:
    """Write back what earlier steps left in the page cache, so that each measurement starts
    with the disk idle (the first one would otherwise have an advantage)."""
    os.sync()
    time.sleep(1)


def rate(n: int, seconds: float) -> str:
    return f"{seconds:8.2f} s {n / seconds:12,.0f} rows/s"


def task_rows(n: int) -> tuple[list[str], list[tuple]]:
    """The task rows taskkit's seed writes, as pre-built tuples (timestamps as stored text)."""
    tables = [
        _sqlite_ready(t) for name, t in TaskGenerator(0, n, 20, 50).batches() if name == "task"
    ]
    table = pa.concat_tables(tables)
    columns = table.column_names
    return columns, list(zip(*(table.column(c).to_pylist() for c in columns), strict=True))


async def create_schema(url: str) -> None:
    engine = taskkit.connect(url)
    await taskkit.create_db_and_tables(engine)
    await engine.dispose()


def executemany_taskkit_schema(path: str, columns: list[str], rows: list[tuple]) -> float:
    asyncio.run(create_schema(f"sqlite:///{path}"))
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=ON")
    con.executemany(
        "INSERT INTO project (id, name) VALUES (?, ?)", [(i, f"p{i}") for i in range(1, 21)]
    )
    sql = f"INSERT INTO task ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    start = time.perf_counter()
    con.executemany(sql, rows)
    con.commit()
    seconds = time.perf_counter() - start
    con.close()
    return seconds


def reference_write(n: int) -> dict[str, float]:
    """../shared/bench/reference.py write N, run as is (its table model cannot share a
    process with taskkit's: both are named ``task``); returns rows/s per label."""
    done = subprocess.run(
        [sys.executable, str(SHARED_BENCH / "reference.py"), "write", str(n)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    out = {}
    for line in done.stdout.splitlines():
        print(f"reference.py | {line}")
        label, _, figures = line.partition("  ")
        out[label.strip()] = float(figures.split()[-2].replace(",", ""))
    return out


def add_all_pattern(path: str, n: int) -> float:
    """The patterns document's way: ORM objects, session.add_all, commit."""
    from datetime import UTC, datetime

    from sqlmodel.ext.asyncio.session import AsyncSession

    async def go() -> float:
        engine = taskkit.connect(f"sqlite:///{path}")
        await taskkit.create_db_and_tables(engine)
        now = datetime(2025, 1, 1, tzinfo=UTC)
        objects = [
            taskkit.Task(title=f"task {i}", created_at=now, updated_at=now) for i in range(n)
        ]
        start = time.perf_counter()
        async with AsyncSession(engine) as s:
            s.add_all(objects)
            await s.commit()
        seconds = time.perf_counter() - start
        await engine.dispose()
        return seconds

    return asyncio.run(go())


def _rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants, from /proc (0 once it is gone)."""
    total = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        return total
    return total + sum(_rss_kib(c) for c in children)


def rows_written(summary: "taskkit.SeedSummary") -> int:
    """Every row a seed wrote, in every table (the history is most of them)."""
    return (
        summary.projects + summary.workers + summary.labels + summary.tasks + summary.links
        + summary.label_links + summary.status_changes
    )  # fmt: skip


def taskkit_seed(url: str, n: int) -> tuple[float, float, int]:
    """``taskkit seed`` in a child process: (seconds inside seed, peak RSS in MiB, rows
    written in all tables).

    The peak is sampled from /proc every 20 ms over the child and its own writer process
    together (ru_maxrss would also count the pages this benchmark process had at fork)."""
    asyncio.run(create_schema(url))
    code = (
        "import asyncio, logging, taskkit\n"
        "logging.basicConfig(format='taskkit seed | %(message)s')\n"
        "logging.getLogger('taskkit.bulk').setLevel(logging.DEBUG)  # the writer's phases\n"
        "async def main():\n"
        f"    e = taskkit.connect({url!r})\n"
        f"    s = await taskkit.seed(e, tasks={n}, progress=False)\n"
        "    await e.dispose()\n"
        "    print(s.seconds, s.projects + s.workers + s.labels + s.tasks + s.links\n"
        "          + s.label_links + s.status_changes)\n"
        "asyncio.run(main())\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    peak = 0
    while child.poll() is None:
        peak = max(peak, _rss_kib(child.pid))
        time.sleep(0.02)
    out = child.stdout.read() if child.stdout else ""
    if child.returncode:
        raise SystemExit(f"taskkit seed failed with exit code {child.returncode}")
    seconds, rows = out.split()
    return float(seconds), peak / 1024, int(rows)


# --- What the history costs: today's seed beside this one ---------------------------------

ROOT = Path(__file__).resolve().parents[1]
# Where migration 0005 was added (its directory is taskkit/_alembic since): git log finds the
# commit that added it there, the one whose parent is the seed before 0005.
MIGRATION_0005 = "taskkit/_migrations/versions/0005_faithful_tasks.py"
# Run in a process of its own, with the taskkit of ROOT: prints wall seconds, CPU seconds of
# this process and of its SQLite writer, and what it wrote.
SEED_CHILD = """
import asyncio, os, sys, time
sys.path.insert(0, {root!r})
import taskkit
from sqlalchemy import text
from taskkit._sqlite_child.client import SQLiteChild

def cpu(pid):
    with open(f"/proc/{{pid}}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

if {without_history!r}:
    # This seed without its history: every batch of history rows left empty.
    from taskkit._seed.generator import TaskGenerator

    full = TaskGenerator._history
    TaskGenerator._history = lambda self, ids, lives: full(self, ids, lives).slice(0, 0)

async def main():
    engine = taskkit.connect({url!r})
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await taskkit.create_db_and_tables(engine)
    before = time.process_time()
    summary = await taskkit.seed(engine, tasks={n}, progress=False)
    own = time.process_time() - before
    await engine.dispose()
    writer = sum(cpu(pid) for pid in SQLiteChild.idle_pids())
    print(summary.seconds, own, writer)
    print(summary)

asyncio.run(main())
"""


def baseline_root(rev: str | None, into: str) -> str | None:
    """Today's taskkit (the revision before migration 0005, or ``rev``) extracted from git into
    ``into``; None (with the reason printed) when this is not a git checkout."""
    try:
        if rev is None:
            added = subprocess.run(
                ["git", "log", "--diff-filter=A", "--format=%H", "--", MIGRATION_0005],
                cwd=ROOT, capture_output=True, text=True, check=True,
            ).stdout.split()  # fmt: skip
            if not added:
                print(f"baseline: {MIGRATION_0005} is not in git's history; skipped")
                return None
            rev = f"{added[-1]}^"
        archive = subprocess.run(
            ["git", "archive", rev, "taskkit"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"baseline: cannot take it from git ({exc}); skipped")
        return None
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    described = subprocess.run(
        ["git", "log", "-1", "--format=%h %s", rev], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(f"baseline: {described[:90]}")
    return into


def _server_cpu(url: str) -> float | None:
    """CPU seconds used so far by the processes of a PostgreSQL server on this machine (its
    postmaster's children), found by the port; None if it is not local."""
    from sqlalchemy.engine import make_url

    port = make_url(url).port or 5432
    total, found = 0.0, False
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
            if not cmdline[0].endswith(b"postgres") or str(port).encode() not in cmdline:
                continue
            found = True
            # The postmaster's own time and its ended children's (cutime, cstime), then the
            # time of the children still running (the backends, the background writers).
            for child, fields_used in ((pid, 4), *((c, 2) for c in _children(int(pid)))):
                with open(f"/proc/{child}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                ticks = sum(int(v) for v in fields[11 : 11 + fields_used])
                total += ticks / os.sysconf("SC_CLK_TCK")
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return total if found else None


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except FileNotFoundError:
        return []


def seed_in_child(
    root: str, url: str, n: int, without_history: bool = False
) -> tuple[float, float, str]:
    """One seed of ``n`` tasks by the taskkit at ``root`` into a new database at ``url``:
    (seconds, CPU seconds of the seeding process, its writer and the server, the summary)."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(url.removeprefix("sqlite:///") + suffix)
    server_before = _server_cpu(url) if url.startswith("postgresql") else None
    code = SEED_CHILD.format(root=root, url=url, n=n, without_history=without_history)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    figures, summary = done.stdout.strip().split("\n", 1)
    seconds, own, writer = (float(v) for v in figures.split())
    server = 0.0
    if server_before is not None:
        server = (_server_cpu(url) or server_before) - server_before
    return seconds, own + writer + server, summary


def history_cost(url: str, n: int, rounds: int, baseline: str, label: str) -> None:
    """Today's seed, this seed without its history rows and this seed, taking turns,
    ``rounds`` times each; medians and ratios."""
    seeds = {
        "today": (baseline, False),
        "no-history": (str(ROOT), True),
        "history": (str(ROOT), False),
    }
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in seeds}
    summaries = {}
    for _ in range(rounds):
        for name, (root, without_history) in seeds.items():
            settle()
            seconds, cpu, summary = seed_in_child(root, url, n, without_history)
            runs[name].append((seconds, cpu))
            summaries[name] = summary
            load = os.getloadavg()[0]
            print(f"{label} {name:10} {seconds:7.2f} s  CPU {cpu:7.2f} s  (load {load:.1f})")
    for name, summary in summaries.items():
        print(f"{label} {name:10} {summary}")
    wall = {k: statistics.median(s for s, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
    for base, what in (("today", "today's seed"), ("no-history", "this seed without history")):
        print(
            f"{label} seed with history / {what}, per task: wall "
            f"{wall['history'] / wall[base]:.2f}x (medians {wall['history']:.2f} s / "
            f"{wall[base]:.2f} s), CPU {cpu['history'] / cpu[base]:.2f}x "
            f"({cpu['history']:.2f} s / {cpu[base]:.2f} s)"
        )
    print(f"{label} target: seed with history / today's seed <= 1.5x")


def export_csv(db: str, path: str) -> None:
    """The seeded tasks as a CSV that ``taskkit import`` reads (project and worker names)."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA cache_size=-200000")
    query = """
        SELECT t.title, t.description, t.status, t.priority, p.name,
               (SELECT group_concat(w.name, ';') FROM taskworkerlink l JOIN worker w
                  ON w.id = l.worker_id WHERE l.task_id = t.id),
               t.created_at, t.updated_at, t.completed_at
        FROM task t LEFT JOIN project p ON p.id = t.project_id ORDER BY t.id
    """
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["title", "description", "status", "priority", "project", "workers",
                      "created_at", "updated_at", "completed_at"])  # fmt: skip
        out.writerows(con.execute(query))
    con.close()


def taskkit_load(url: str, csv_path: str) -> float:
    """``load_tasks`` of the CSV into a fresh database, in a child process: seconds."""
    asyncio.run(create_schema(url))
    code = (
        "import asyncio, taskkit\n"
        "async def main():\n"
        f"    e = taskkit.connect({url!r})\n"
        f"    s = await taskkit.load_tasks(e, {csv_path!r}, progress=False)\n"
        "    await e.dispose()\n"
        "    print(s.seconds)\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def postgres(url: str, n: int, columns: list[str], rows: list[tuple]) -> None:
    """COPY (taskkit) beside asyncpg's executemany and copy_records_to_table, pre-built rows."""
    from datetime import datetime

    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(taskkit.database_url(url)).set(drivername="postgresql")
    dsn_text = dsn.render_as_string(hide_password=False)
    stamps = {i for i, c in enumerate(columns) if c.endswith("_at")}
    typed = [
        tuple(
            datetime.fromisoformat(f"{v}+00:00") if i in stamps and v is not None else v
            for i, v in enumerate(r)
        )
        for r in rows
    ]
    insert = (
        f"INSERT INTO task ({', '.join(columns)}) "
        f"VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})"
    )

    async def empty_tables(with_projects: bool) -> None:
        engine = taskkit.connect(url)
        await taskkit.create_db_and_tables(engine)
        async with engine.begin() as conn:
            await conn.exec_driver_sql(
                "TRUNCATE task, worker, project, label RESTART IDENTITY CASCADE"
            )
            if with_projects:
                await conn.exec_driver_sql(
                    "INSERT INTO project (id, name) "
                    "SELECT g, 'p' || g FROM generate_series(1, 20) g"
                )
        await engine.dispose()

    async def raw(records: list[tuple], how: str) -> float:
        await empty_tables(with_projects=True)
        conn = await asyncpg.connect(dsn_text)
        start = time.perf_counter()
        async with conn.transaction():
            if how == "executemany":
                await conn.executemany(insert, records)
            else:
                await conn.copy_records_to_table("task", records=records, columns=columns)
        seconds = time.perf_counter() - start
        await conn.close()
        return seconds

    async def seed() -> tuple[float, int]:
        await empty_tables(with_projects=False)
        engine = taskkit.connect(url)
        summary = await taskkit.seed(engine, tasks=n, progress=False)
        await engine.dispose()
        return summary.seconds, rows_written(summary)

    few = min(n, 100_000)
    t_many = asyncio.run(raw(typed[:few], "executemany"))
    t_copy = asyncio.run(raw(typed, "copy"))
    t_seed, written = asyncio.run(seed())
    print(f"pg reference: asyncpg executemany ({few:,} rows)             {rate(few, t_many)}")
    print(f"pg reference: asyncpg copy_records_to_table, pre-built    {rate(n, t_copy)}")
    print(f"pg taskkit seed, per task (COPY of every table)           {rate(n, t_seed)}")
    print(f"pg taskkit seed, per row written ({written:,} rows)  {rate(written, t_seed)}")
    print(
        f"pg ratios per task: taskkit / executemany {(n / t_seed) / (few / t_many):.1f}x, "
        f"taskkit / copy_records {t_copy / t_seed:.2f}x; per row written: "
        f"{(written / t_seed) / (few / t_many):.1f}x, {(written / t_seed) / (n / t_copy):.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("n", type=int, nargs="?", default=1_000_000)
    parser.add_argument(
        "--pg",
        metavar="URL",
        help="also measure on this PostgreSQL database (its tables are emptied)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs of each seed (default 3; 0: skip that part)"
    )
    parser.add_argument("--baseline", metavar="REV", help="today's seed from this git revision")
    parser.add_argument(
        "--history-only", action="store_true", help="only today's seed beside this one"
    )
    parser.add_argument("--pg-only", action="store_true", help="skip SQLite (with --history-only)")
    args = parser.parse_args()
    n = args.n
    with tempfile.TemporaryDirectory() as d:
        baseline = baseline_root(args.baseline, d) if args.rounds else None
        if baseline is not None:
            if not args.pg_only:
                url = f"sqlite:///{os.path.join(d, 'h.db')}"
                history_cost(url, n, args.rounds, baseline, "sqlite")
            if args.pg:
                history_cost(args.pg, n, args.rounds, baseline, "pg")
    if args.history_only:
        return
    columns, rows = task_rows(n)
    with tempfile.TemporaryDirectory() as d:
        results = {}
        if SHARED_BENCH.is_dir():
            settle()
            ref = reference_write(n)
            executemany = next(v for k, v in ref.items() if "executemany" in k)
            results["ref"] = n / executemany
        settle()
        results["own"] = executemany_taskkit_schema(os.path.join(d, "own.db"), columns, rows)
        print(f"reference: executemany, pre-built, taskkit's task table  {rate(n, results['own'])}")
        small = min(n, 20_000)
        settle()
        t_add = add_all_pattern(os.path.join(d, "orm.db"), small)
        print(f"reference: patterns' add_all + commit ({small:,} rows)     {rate(small, t_add)}")
        del rows
        settle()
        t_seed, peak, written = taskkit_seed(f"sqlite:///{os.path.join(d, 'seed.db')}", n)
        print(f"taskkit seed, per task (and its links, labels, history) {rate(n, t_seed)}")
        print(f"taskkit seed, per row written ({written:,} rows)   {rate(written, t_seed)}")
        print(
            f"taskkit seed peak RSS, parent and writer together: {peak:,.0f} MiB (target < 1,024)"
        )
        csv_path = os.path.join(d, "seeded.csv")
        export_csv(os.path.join(d, "seed.db"), csv_path)
        settle()
        t_load = taskkit_load(f"sqlite:///{os.path.join(d, 'load.db')}", csv_path)
        print(f"taskkit load_tasks of the same rows from CSV           {rate(n, t_load)}")
        print(f"load / seed time: {t_load / t_seed:.2f}x (target <= 2x)")
        print(
            "ratios (issue 3's, per task; a task now comes with about 5 more rows): taskkit / "
            f"executemany of the same task rows into taskkit's table {results['own'] / t_seed:.2f}x"
            f" (target >= 1x), taskkit / add_all {(n / t_seed) / (small / t_add):.0f}x "
            "(target >= 50x)\n"
            "        per row written: taskkit / executemany "
            f"{(written / t_seed) / (n / results['own']):.2f}x, taskkit / add_all "
            f"{(written / t_seed) / (small / t_add):.0f}x"
        )
        if "ref" in results:
            print(
                "        taskkit / reference.py's executemany into its simpler table "
                f"{results['ref'] / t_seed:.2f}x"
            )
    if args.pg:
        postgres(args.pg, n, columns, task_rows(n)[1])


if __name__ == "__main__":
    main()
