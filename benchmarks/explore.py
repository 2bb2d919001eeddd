"""The explore grid's kernel side beside ``paginate`` alone, in one run.

    uv run python benchmarks/explore.py 1000000 [--db FILE] [--pg URL] [--reps 30]

On N seeded tasks (a temporary SQLite file, or --db FILE, seeded once and reused while it holds
N tasks; with --pg also the PostgreSQL database at URL,
re-seeded with reset=True, so never point it at data you want to keep), pages of 50, the time
``grid.handle(request)`` takes to produce a page (what a click costs in the kernel: the query,
the cells, the SQL panel, the traits set) for:

* the first page (``select_tasks()``, newest first);
* a page at 90% depth (the grid holds a page there, then "next");
* the last page (a reversed keyset);
* the first page after a header click changes the sort to another indexed column (``title``,
  alternately ascending and descending);
* the first page after a status filter (alternately pending and in_progress: the grid keeps
  the views met before, so this is a filter changed back);
* the first page after a filter never used before (a status and a creation date that differs
  on every run: a new statement to plan and compile);
* the first page after a status filter (alternately pending and completed) on the grid sorted
  by title: SQLite's own plan sorts every matching row, the grid walks the title index.

Beside each: ``paginate`` (or the last page read the same way) on the same statement, in the
same process, the two interleaved. Figures are p95 and median in ms over --reps runs, and the
grid's median CPU time in this thread (what the machine's load does not stretch). The row
count and the plan verdict run in the background after a first page; they are waited for
outside the timings, and their own time is printed. Machines are shared and noisy: read the ratios.
"""

import argparse
import asyncio
import datetime
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import taskkit
from taskkit import Page, pages, paginate
from taskkit._explore.widget import Explorer
from taskkit._paging.last import last_page

SIZE = 50
TARGET_MS = 10.0


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def timed(
    grid: Callable[[int], Awaitable[Any]],
    alone: Callable[[int], Awaitable[Any]],
    reps: int,
    settle: Callable[[], Awaitable[Any]],
) -> tuple[list[float], list[float], list[float]]:
    """Times of ``grid`` and ``alone``, interleaved (each goes first every other run) so that
    neither is always the one that meets a cold cache; then the grid's CPU times."""
    times: tuple[list[float], list[float], list[float]] = ([], [], [])
    for i in range(reps):
        order = [(0, grid), (1, alone)] if i % 2 == 0 else [(1, alone), (0, grid)]
        for which, run in order:
            started, cpu = time.perf_counter(), time.thread_time()
            await run(i)
            times[which].append((time.perf_counter() - started) * 1000)
            if which == 0:
                times[2].append((time.thread_time() - cpu) * 1000)
            await settle()
    return times


def line(label: str, grid: list[float], alone: list[float], cpu: list[float]) -> None:
    ratio = p95(grid) / p95(alone) if p95(alone) else float("nan")
    verdict = "ok" if p95(grid) <= TARGET_MS else f"over {TARGET_MS:.0f} ms"
    print(
        f"  {label:38s} grid p95 {p95(grid):7.2f} (median {statistics.median(grid):6.2f}, "
        f"cpu {statistics.median(cpu):5.2f})   paginate p95 {p95(alone):7.2f} (median "
        f"{statistics.median(alone):6.2f})   x{ratio:4.2f}  {verdict}",
        flush=True,
    )


async def deep_page(engine: Any, stmt: Any, n: int) -> Page[Any]:
    """The page that ends at 90% of the result (walked in pages of 10,000)."""
    target, seen = int(n * 0.9), 0
    async with taskkit.session(engine) as s:
        async for page in pages(s, stmt, size=10_000):
            seen += len(page)
            if seen >= target:
                return page
    raise RuntimeError("the result is shorter than expected")


async def bench(engine: Any, n: int, reps: int, label: str) -> None:
    print(f"{label}: {n:,} tasks, pages of {SIZE}, {reps} runs each", flush=True)
    grid: Explorer = await taskkit.explore(engine, size=SIZE)
    started = time.perf_counter()
    await grid.settled()
    background = 1000 * (time.perf_counter() - started)
    print(f"  (row count and plan verdict, in the background: {background:.0f} ms; {grid.total:,})")

    async def settle() -> None:
        await grid.settled()

    stmt = grid.statement

    async def alone_first(_: int) -> None:
        async with taskkit.session(engine) as s:
            await paginate(s, stmt, size=SIZE)

    line(
        "first page",
        *await timed(lambda _: grid.handle({"action": "first"}), alone_first, reps, settle),
    )

    deep = await deep_page(engine, stmt, n)
    # The grid pages a select of the columns it shows (same rows, same order).
    grid_deep_page = await deep_page(engine, grid._view.page_statement(), n)

    async def grid_deep(_: int) -> None:
        grid._page = grid_deep_page  # the grid stands at 90% depth; the click is "next"
        await grid.handle({"action": "next"})

    async def alone_deep(_: int) -> None:
        async with taskkit.session(engine) as s:
            await paginate(s, stmt, size=SIZE, cursor=deep.next_cursor)

    line(
        "page at 90% depth",
        *await timed(grid_deep, alone_deep, reps, settle),
    )

    async def alone_last(_: int) -> None:
        async with taskkit.session(engine) as s:
            await last_page(s, stmt, size=SIZE)

    line(
        "last page (reversed keyset)",
        *await timed(lambda _: grid.handle({"action": "last"}), alone_last, reps, settle),
    )

    async def grid_sort(_: int) -> None:
        await grid.handle({"action": "sort", "column": "title"})

    async def alone_sort(i: int) -> None:
        async with taskkit.session(engine) as s:
            order = "title" if i % 2 == 0 else "-title"
            await paginate(s, taskkit.select_tasks(order_by=order), size=SIZE)

    line(
        "first page after sorting by title",
        *await timed(grid_sort, alone_sort, reps, settle),
    )
    print(f"  (notice after the title sort: {grid.notice or 'none: an index serves the order'})")

    await grid.handle({"action": "sort", "column": "created_at"})
    await grid.handle({"action": "sort", "column": "created_at"})  # back to newest first
    await grid.settled()

    async def grid_filter(i: int) -> None:
        status = "pending" if i % 2 == 0 else "in_progress"
        await grid.handle({"action": "filter", "filters": {"status": [status]}})

    async def alone_filter(i: int) -> None:
        status = "pending" if i % 2 == 0 else "in_progress"
        async with taskkit.session(engine) as s:
            await paginate(s, taskkit.select_tasks(status=[status]), size=SIZE)

    line(
        "first page after a status filter",
        *await timed(grid_filter, alone_filter, reps, settle),
    )
    print(f"  (grid.code: {grid.code})")

    def fresh(i: int) -> dict[str, Any]:
        day = datetime.date(2025, 1, 1) + datetime.timedelta(days=i % 300)
        status = "pending" if i % 2 == 0 else "in_progress"
        return {"status": [status], "created_from": day.isoformat()}

    async def grid_fresh(i: int) -> None:
        await grid.handle({"action": "filter", "filters": fresh(1000 + i)})

    async def alone_fresh(i: int) -> None:
        async with taskkit.session(engine) as s:
            await paginate(s, taskkit.select_tasks(**fresh(2000 + i)), size=SIZE)

    line(
        "first page after a new filter",
        *await timed(grid_fresh, alone_fresh, reps, settle),
    )
    print(f"  (grid.code: {grid.code})")

    await grid.handle({"action": "filter", "filters": {}})
    await grid.handle({"action": "sort", "column": "title"})
    await grid.settled()

    def sorted_status(i: int) -> str:
        return "pending" if i % 2 == 0 else "completed"

    async def grid_sorted_filter(i: int) -> None:
        await grid.handle({"action": "filter", "filters": {"status": [sorted_status(i)]}})

    async def alone_sorted_filter(i: int) -> None:
        stmt = taskkit.select_tasks(status=[sorted_status(i)], order_by="title")
        async with taskkit.session(engine) as s:
            await paginate(s, stmt, size=SIZE)

    line(
        "status filter, sorted by title",
        *await timed(grid_sorted_filter, alone_sorted_filter, reps, settle),
    )
    print(f"  (grid.code: {grid.code}; notice: {grid.notice or 'none'})")


async def seeded(url: str, n: int, *, reuse: bool = False) -> Any:
    engine = taskkit.connect(url)
    await taskkit.ensure_schema(engine)
    if reuse:
        async with taskkit.session(engine) as s:
            if await taskkit.count(s, taskkit.select_tasks()) == n:
                print(f"reusing {n:,} tasks in {url}", flush=True)
                return engine
    started = time.perf_counter()
    await taskkit.seed(engine, tasks=n, seed=0, reset=True, progress=False)
    print(f"seeded {n:,} tasks in {time.perf_counter() - started:.1f} s", flush=True)
    return engine


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--db", help="a SQLite file to seed once and reuse (kept afterwards)")
    parser.add_argument("--pg", help="a PostgreSQL URL to re-seed and measure too")
    parser.add_argument("--reps", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or os.path.join(tmp, "explore.db")
        engine = await seeded(f"sqlite:///{path}", args.n, reuse=bool(args.db))
        await bench(engine, args.n, args.reps, "SQLite file")
        await engine.dispose()
    if args.pg:
        engine = await seeded(args.pg, args.n)
        await bench(engine, args.n, args.reps, "PostgreSQL")
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
