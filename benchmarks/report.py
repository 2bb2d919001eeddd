"""Report speed: `taskkit report` beside its floor, in one run.

    uv run python benchmarks/report.py             # 10,000 tasks (and the floor), 3 rounds
    uv run python benchmarks/report.py --million   # also 1,000,000 tasks (one round)

Prints seconds, best of the rounds, each in a fresh process: wall clock, and CPU (user +
system of the child), which a shared, loaded machine distorts far less:
* floor: a Python process that imports taskkit's API, pandas and matplotlib and exits (what
  any report must pay before its first query);
* taskkit: `taskkit report` on an existing database (seeded beforehand, not timed);
* start-up: `python -c pass` beside `taskkit --help` (target: under 0.5 s beyond Python).
Targets (issue 15): report <= 2x the floor on 10,000 tasks.

    uv run python benchmarks/report.py --flow 100000   # the flow section's share, 5 rounds

The flow section's share of `taskkit report` (issue 24: at most 1 s on 100,000 tasks), each
round a `taskkit report` process on a seeded database, with the section and without it
(alternated): the section's reads (`flow_section`, in the report's snapshot) and its cell of
the notebook (the paragraph and the five charts, each an SVG at two widths) timed inside the
command, wall and CPU (all threads), medians; and the command's wall and CPU with the section
beside its time without it, best of the rounds, whose difference is what the section adds.

The venv's modules should be byte-compiled (`uv sync --compile-bytecode`): with
PYTHONDONTWRITEBYTECODE set and no .pyc files, every process compiles its imports first.
"""

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import taskkit

BIN = Path(sys.executable).parent


def seconds(args: list[str], env: dict[str, str], rounds: int) -> tuple[float, float]:
    """(wall, cpu) seconds of the best round."""
    best = (float("inf"), float("inf"))
    for _ in range(rounds):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(args, env=env, check=True, capture_output=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = min(best, (wall, cpu))
    return best


async def make(url: str, tasks: int) -> None:
    engine = taskkit.connect(url)
    await taskkit.ensure_schema(engine)
    await taskkit.seed(engine, tasks=tasks, progress=False)
    await engine.dispose()


# Run as each `taskkit report` process of the flow rounds (see that file).
IN_REPORT = Path(__file__).with_name("report_flow_timer.py")


class Round(NamedTuple):
    """One `taskkit report` process: its wall and CPU seconds, and the section's timings it
    wrote ({"reads": [wall, cpu], "cell": [wall, cpu]})."""

    wall: float
    cpu: float
    took: dict[str, list[float]]


def _report_process(url: str, out: str, flow: bool) -> Round:
    """One `taskkit report` process, with the flow section or without it."""
    read, write = os.pipe()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, str(IN_REPORT), "with" if flow else "without", "report",
         "--db", url, "--out", out],
        check=True, capture_output=True, pass_fds=(write,),
        env={**os.environ, "BENCH_FD": str(write)},
    )  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.close(write)
    with os.fdopen(read) as pipe:
        took = json.loads(pipe.read() or "{}")
    if not took:
        raise SystemExit(f"the flow cell did not run: does {IN_REPORT.name}'s FLOW_CELL still "
                         "begin the flow cell of notebooks/03-report.py?")  # fmt: skip
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Round(wall, cpu, took)


def flow_share(tasks: int, rounds: int) -> None:
    """The flow section's share of `taskkit report`: its reads and its cell timed inside the
    command, and the command's time with the section beside its time without it."""
    runs: dict[bool, list[Round]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="taskkit-bench-flow-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'flow.db'}"
        asyncio.run(make(url, tasks))
        _report_process(url, tmp, True)  # warms the page cache and matplotlib's font list
        for _ in range(rounds):  # alternated, so that a slow spell of the machine hits both
            for flow in (True, False):
                runs[flow].append(_report_process(url, tmp, flow))
    for part in ("reads", "cell"):
        wall = statistics.median(r.took[part][0] for r in runs[True])
        cpu = statistics.median(r.took[part][1] for r in runs[True])
        print(f"{tasks:>9,} tasks, flow {part:<7} wall {wall:5.2f} s   cpu {cpu:5.2f} s (median)")
    both = [r.took["reads"][0] + r.took["cell"][0] for r in runs[True]]
    print(f"{tasks:>9,} tasks, flow reads + cell wall {statistics.median(both):5.2f} s (median), "
          f"{min(both):5.2f} s (best)")  # fmt: skip
    for kind in ("wall", "cpu"):
        with_flow = min(getattr(r, kind) for r in runs[True])
        without = min(getattr(r, kind) for r in runs[False])
        print(f"{tasks:>9,} tasks, taskkit report {kind}: {with_flow:5.2f} s with the flow "
              f"section, {without:5.2f} s without (best of {rounds}): it adds "
              f"{with_flow - without:5.2f} s; target: at most 1 s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--million", action="store_true", help="also report on 1M tasks")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flow", type=int, metavar="N", help="only the flow section's share")
    args = parser.parse_args()
    if args.flow:
        flow_share(args.flow, max(args.rounds, 5))
        return
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    with tempfile.TemporaryDirectory(prefix="taskkit-bench-report-") as tmp:
        sizes = [10_000] + ([1_000_000] if args.million else [])
        python, _ = seconds([sys.executable, "-c", "pass"], env, args.rounds)
        helped, _ = seconds([str(BIN / "taskkit"), "--help"], env, args.rounds)
        print(f"start-up: python {python:.2f} s, taskkit --help {helped:.2f} s "
              f"({helped - python:+.2f} s beyond Python; target < 0.5 s)")  # fmt: skip
        floor_code = "from taskkit import *; import pandas, matplotlib.pyplot"
        floor = seconds([sys.executable, "-c", floor_code], env, args.rounds)
        for n in sizes:
            url = f"sqlite:///{Path(tmp) / f'{n}.db'}"
            asyncio.run(make(url, n))
            command = [str(BIN / "taskkit"), "report", "--db", url, "--out", tmp]
            took = seconds(command, env, args.rounds if n <= 10_000 else 1)
            target = "   (target <= 2x)" if n == 10_000 else ""
            for i, kind in enumerate(("wall", "cpu")):
                print(
                    f"{n:>9,} tasks, {kind}: floor {floor[i]:6.2f} s   taskkit report "
                    f"{took[i]:6.2f} s   {took[i] / floor[i]:4.2f}x the floor{target}"
                )


if __name__ == "__main__":
    main()
