"""Keyset pagination beside OFFSET, beside raw SQL and beside the reference, in one run.

    uv run python benchmarks/paging.py 1000000 [--db URL]

On N seeded tasks (a temporary SQLite file unless --db names a database; PostgreSQL is
re-seeded with reset=True, so never point it at data you want to keep), ordered by
``created_at`` descending (``select_tasks()``, ORM ``Task`` objects, pages of 50):

* taskkit's first page, its keyset page at 90% depth (target: at most 2x the first page) and
  OFFSET at the same depth (``paginate_offset``, which also counts, and the bare statement);
* walking all N rows with ``pages(size=1000)`` against one unpaged ``session.exec(stmt)``
  (target: at least 0.5x its rows/s);
* raw SQL (sqlite3, no ORM) on the same table, and the ``paging`` logic of
  ../shared/bench/reference.py on its own table (replicated here: importing that file would
  define a second ``task`` table on SQLModel's metadata).

With --sqlakeyset (run as ``uv run --with sqlakeyset python benchmarks/paging.py N
--sqlakeyset``; taskkit does not depend on it), the same data is first walked in pages of 1,000
by sqlakeyset's async ``select_page`` and by taskkit's ``paginate`` over orderings with NULLs
and ties, counting the rows each returns.

Figures are medians in ms per page, or rows/s. Machines are shared and noisy: read the ratios,
which come from the same run. The data comes from ``taskkit.seed``; where that module is not
available, the task table is filled with a vectorized sqlite3 executemany in the same schema.
"""

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

import taskkit
from taskkit import pages, paginate, paginate_offset, select_tasks

PAGE = 50
WALK_PAGE = 1000


def line(label: str, value: str, note: str = "") -> None:
    print(f"  {label:44s} {value:>16s}  {note}", flush=True)


async def median_ms(run: Callable[[], Awaitable[Any]], reps: int) -> float:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        await run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def sync_median_ms(run: Callable[[], Any], reps: int) -> float:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


# ---------------------------------------------------------------------------------------------
# Data.


def fill_with_sqlite3(path: str, n: int) -> None:
    """N tasks in taskkit's schema and storage format, for when taskkit.seed is missing."""
    rng = np.random.default_rng(0)
    base = np.datetime64("2025-01-01T00:00:00", "us")
    created = base + np.sort(rng.integers(0, 365 * 86_400_000_000, n)).astype("timedelta64[us]")
    done = rng.random(n) < 0.5
    completed = created + rng.integers(0, 7 * 86_400_000_000, n).astype("timedelta64[us]")

    def text(values: np.ndarray) -> list[str]:
        # taskkit's SQLite storage format: 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC, no offset).
        return [s.replace("T", " ") for s in np.datetime_as_string(values, unit="us")]

    created_text, completed_text = text(created), text(completed)
    statuses = np.where(done, "completed", rng.choice(["pending", "in_progress"], n))
    priorities = rng.choice(["low", "medium", "high"], n, p=[0.3, 0.55, 0.15])
    rows = (
        (
            f"task {i % 997}",
            None if i % 3 else f"about {i % 101}",
            str(statuses[i]),
            str(priorities[i]),
            created_text[i],
            completed_text[i] if done[i] else created_text[i],
            completed_text[i] if done[i] else None,
        )
        for i in range(n)
    )
    con = sqlite3.connect(path)
    con.executemany(
        "INSERT INTO task (title, description, status, priority, created_at, updated_at, "
        "completed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    con.commit()
    con.close()


async def fill(engine: AsyncEngine, n: int, sqlite_path: str | None) -> str:
    await taskkit.create_db_and_tables(engine)
    try:
        from taskkit import seed
    except ImportError:
        if sqlite_path is None:
            sys.exit("taskkit.seed is not available: only a SQLite file can be filled without it")
        fill_with_sqlite3(sqlite_path, n)
        return "a sqlite3 executemany (taskkit.seed not available)"
    summary = await seed(engine, tasks=n, projects=50, workers=200, seed=0, reset=True)
    return f"taskkit.seed: {summary}"


# ---------------------------------------------------------------------------------------------
# References.


def raw_sql_on_taskkit_table(path: str, depth: int, created_at: str, task_id: int) -> float:
    """First page vs keyset vs OFFSET in raw sqlite3 on taskkit's own table; returns first."""
    con = sqlite3.connect(path)
    order = "ORDER BY created_at DESC, id DESC"
    first = sync_median_ms(
        lambda: con.execute(f"SELECT * FROM task {order} LIMIT {PAGE}").fetchall(), 30
    )
    keyset = sync_median_ms(
        lambda: con.execute(
            f"SELECT * FROM task WHERE (created_at, id) < (?, ?) {order} LIMIT {PAGE}",
            (created_at, task_id),
        ).fetchall(),
        30,
    )
    offset = sync_median_ms(
        lambda: con.execute(f"SELECT * FROM task {order} LIMIT {PAGE} OFFSET {depth}").fetchall(), 3
    )
    con.close()
    print("raw SQL (sqlite3) on the same table:")
    line("first page", f"{first:.3f} ms")
    line(f"keyset at {depth:,}", f"{keyset:.3f} ms", f"{keyset / first:.2f}x first page")
    line(f"OFFSET {depth:,}", f"{offset:.1f} ms", f"{offset / first:,.0f}x first page")
    return first


def reference_paging(n: int, directory: str) -> None:
    """../shared/bench/reference.py's bench_paging, line for line, on its own table."""
    path = os.path.join(directory, "reference-paging.db")
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE task (id INTEGER PRIMARY KEY, title TEXT, created_at TEXT)")
    base = datetime(2025, 1, 1)
    con.executemany(
        "INSERT INTO task (title, created_at) VALUES (?, ?)",
        ((f"t{i}", (base + timedelta(seconds=i // 3)).isoformat()) for i in range(n)),
    )
    con.execute("CREATE INDEX ix_created ON task (created_at, id)")
    con.commit()
    order = "ORDER BY created_at DESC, id DESC"

    def ms(q: str, args: tuple[Any, ...] = (), reps: int = 10) -> float:
        t = time.perf_counter()
        for _ in range(reps):
            con.execute(q, args).fetchall()
        return (time.perf_counter() - t) / reps * 1000

    depth = int(n * 0.9)
    first = ms(f"SELECT * FROM task {order} LIMIT 50")
    offset = ms(f"SELECT * FROM task {order} LIMIT 50 OFFSET {depth}", reps=3)
    ca, i = con.execute(
        f"SELECT created_at, id FROM task {order} LIMIT 1 OFFSET {depth}"
    ).fetchone()
    keyset = ms(f"SELECT * FROM task WHERE (created_at, id) < (?, ?) {order} LIMIT 50", (ca, i))
    con.close()
    print("reference (shared/bench/reference.py paging, raw sqlite3, its own 3-column table):")
    line("first page", f"{first:.3f} ms")
    line(f"keyset at {depth:,}", f"{keyset:.3f} ms", f"{keyset / first:.2f}x first page")
    line(f"OFFSET {depth:,}", f"{offset:.1f} ms", f"{offset / first:,.0f}x first page")


# ---------------------------------------------------------------------------------------------
# sqlakeyset against the cases the issue names.


async def compare_sqlakeyset(engine: AsyncEngine, n: int) -> None:
    import warnings

    from sqlakeyset.asyncio import select_page  # type: ignore[import-not-found]
    from sqlmodel import col, select

    from taskkit import Task

    cases = {
        "completed_at (NULL until done)": (col(Task.completed_at),),
        "completed_at DESC": (col(Task.completed_at).desc(),),
        "description (a third NULL), created_at DESC": (
            col(Task.description),
            col(Task.created_at).desc(),
        ),
        "completed_at NULLS LAST (explicit)": (col(Task.completed_at).asc().nulls_last(),),
        "priority (ties), created_at DESC": (col(Task.priority), col(Task.created_at).desc()),
    }
    print(f"walking {n:,} tasks in pages of {WALK_PAGE:,}: rows returned (distinct)")
    for label, order in cases.items():
        # sqlakeyset is given what its README asks for: the order made unique with the id.
        stmt = select(Task.id).order_by(*order, col(Task.id))
        async with taskkit.session(engine) as s:
            seen: list[int] = []
            outcome = ""
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    page = await select_page(s, stmt, per_page=WALK_PAGE)
                    seen += [r[0] for r in page]
                    while page.paging.has_next and len(seen) <= 2 * n:
                        bookmark = page.paging.bookmark_next
                        page = await select_page(s, stmt, per_page=WALK_PAGE, page=bookmark)
                        seen += [r[0] for r in page]
                except Exception as exc:  # whatever the library raises is the finding
                    outcome = f"; raised {type(exc).__name__}: {str(exc).splitlines()[0][:70]}"
            await s.commit()
            # Its own warnings, not SQLModel's advice to use exec() (sqlakeyset calls execute()).
            messages = [" ".join(str(w.message).split()) for w in caught]
            warned = {m[:64] for m in messages if "session.exec()" not in m}
            ours = [i for p in [p async for p in pages(s, stmt, size=WALK_PAGE)] for i in p]
        line(f"{label}", "")
        line("  sqlakeyset 2.0", f"{len(seen):,} ({len(set(seen)):,})", outcome.lstrip("; "))
        if warned:
            line("    its warnings", "", " / ".join(sorted(warned)))
        line("  taskkit", f"{len(ours):,} ({len(set(ours)):,})")


# ---------------------------------------------------------------------------------------------
# taskkit.


async def bench(n: int, url: str | None, *, sqlakeyset: bool) -> None:
    with tempfile.TemporaryDirectory() as directory:
        sqlite_path = None if url else os.path.join(directory, "paging.db")
        engine = taskkit.connect(url or f"sqlite:///{sqlite_path}")
        started = time.perf_counter()
        how = await fill(engine, n, sqlite_path)
        backend = engine.url.get_backend_name()
        print(f"{n:,} tasks on {backend} in {time.perf_counter() - started:.1f} s, by {how}")
        if sqlakeyset:
            await compare_sqlakeyset(engine, n)
        stmt = select_tasks()  # ORDER BY created_at DESC, id DESC
        depth = int(n * 0.9)

        async with taskkit.session(engine) as s:
            # Walk everything in pages of 1,000, keeping the cursor at 90% depth, and fetch
            # everything at once; twice each, alternating, best of two.
            walk_s, unpaged_s = [], []
            cursor, at = None, 0
            for round_ in range(2):
                started, seen = time.perf_counter(), 0
                async for page in pages(s, stmt, size=WALK_PAGE):
                    seen += len(page.items)
                    # The deepest page boundary at or before 90%: a cursor that has a next page
                    # even when the walk's pages are large next to n (n = 5,000: at 4,000).
                    if round_ == 0 and 0 < seen <= depth:
                        cursor, at = page.next_cursor, seen
                walk_s.append(time.perf_counter() - started)
                assert seen == n, (seen, n)
                started = time.perf_counter()
                everything = (await s.exec(stmt)).all()
                await s.commit()
                unpaged_s.append(time.perf_counter() - started)
                assert len(everything) == n
                del everything

            async def orm_floor() -> None:
                (await s.exec(stmt.limit(PAGE + 1))).all()
                await s.commit()

            floor = await median_ms(orm_floor, 30)
            first = await median_ms(lambda: paginate(s, stmt, size=PAGE), 30)
            keyset = await median_ms(lambda: paginate(s, stmt, size=PAGE, cursor=cursor), 30)
            sql: list[tuple[str, Any]] = []

            def capture(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
                sql.append((statement, params))

            event.listen(engine.sync_engine, "before_cursor_execute", capture)
            deep = await paginate(s, stmt, size=PAGE, cursor=cursor)
            event.remove(engine.sync_engine, "before_cursor_execute", capture)
            offset_page = at // PAGE + 1
            offset_full = await median_ms(
                lambda: paginate_offset(s, stmt, page=offset_page, size=PAGE), 3
            )

            async def bare_offset() -> None:
                (await s.exec(stmt.offset(at).limit(PAGE))).all()
                await s.commit()

            offset_bare = await median_ms(bare_offset, 3)
            bare = (await s.exec(stmt.offset(at).limit(1))).one()
            await s.commit()
            assert deep.items[0].id == bare.id, "keyset and OFFSET disagree on the page start"
        statement, params = sql[-1]
        explain = "EXPLAIN QUERY PLAN" if sqlite_path else "EXPLAIN"
        async with engine.connect() as conn:
            plan = (await conn.exec_driver_sql(f"{explain} {statement}", params)).all()
        await engine.dispose()

        print(
            f"taskkit: select_tasks(), ORDER BY created_at DESC, id DESC; Task objects; size {PAGE}"
        )
        line("session.exec(stmt.limit(51)): the ORM floor", f"{floor:.3f} ms")
        line("first page", f"{first:.3f} ms", f"{first / floor:.2f}x the ORM floor")
        line(
            f"keyset page at {at:,} (90%)",
            f"{keyset:.3f} ms",
            f"{keyset / first:.2f}x first page (target <= 2x)",
        )
        line(
            f"paginate_offset at {at:,} (+ count)",
            f"{offset_full:.1f} ms",
            f"{offset_full / first:,.0f}x first page",
        )
        line(
            f"bare OFFSET {at:,} statement",
            f"{offset_bare:.1f} ms",
            f"{offset_bare / first:,.0f}x first page",
        )
        unpaged_rate, walk_rate = n / min(unpaged_s), n / min(walk_s)
        line("one unpaged fetch of all rows", f"{unpaged_rate:,.0f} rows/s")
        line(
            f"pages of {WALK_PAGE:,} through all rows",
            f"{walk_rate:,.0f} rows/s",
            f"{walk_rate / unpaged_rate:.2f}x unpaged (target >= 0.5x)",
        )
        print("  the keyset page's query plan:", "; ".join(str(r[-1]).strip() for r in plan))
        if sqlite_path is not None:
            created_at = bare.created_at.strftime("%Y-%m-%d %H:%M:%S.%f")
            raw_sql_on_taskkit_table(sqlite_path, at, created_at, bare.id)
        reference_paging(n, directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=200_000, help="tasks (default 200,000)")
    parser.add_argument("--db", help="a database URL (default: a temporary SQLite file)")
    parser.add_argument(
        "--sqlakeyset", action="store_true", help="first compare with sqlakeyset (see above)"
    )
    args = parser.parse_args()
    if args.n < 1000:
        sys.exit("n must be at least 1,000")
    asyncio.run(bench(args.n, args.db, sqlakeyset=args.sqlakeyset))


if __name__ == "__main__":
    main()
