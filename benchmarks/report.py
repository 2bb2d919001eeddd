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

The flow section's share of `taskkit report` (issue 24: at most 1 s on 100,000 tasks), taken
inside the report as it runs (the in-process path of `taskkit report`, on a seeded database):
the section's reads (`flow_section`, in the report's snapshot) and its cell of the notebook
(the paragraph and the five charts, each a PNG and a phone SVG), wall and CPU (this process,
all threads), each round a whole report; medians, and the whole report's wall for scale.

The venv's modules should be byte-compiled (`uv sync --compile-bytecode`): with
PYTHONDONTWRITEBYTECODE set and no .pyc files, every process compiles its imports first.
"""

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


FLOW_CELL = "if data.tasks and flow.start is not None:"  # the first line of the flow cell


def flow_share(tasks: int, rounds: int) -> None:
    """Time the flow section's reads and its notebook cell inside `taskkit report` runs."""
    import taskkit._report.data as report_data
    from taskkit._report import run_report
    from taskkit._report.execute import _shell_class

    took: dict[str, list[tuple[float, float]]] = {"reads": [], "cell": [], "report": []}
    section = report_data.flow_section

    async def timed_section(*args: object, **kwargs: object) -> object:
        wall, cpu = time.perf_counter(), time.process_time()
        result = await section(*args, **kwargs)
        took["reads"].append((time.perf_counter() - wall, time.process_time() - cpu))
        return result

    shell = _shell_class()
    run_cell = shell.run_cell

    def timed_cell(self: object, raw_cell: str, *args: object, **kwargs: object) -> object:
        wall, cpu = time.perf_counter(), time.process_time()
        result = run_cell(self, raw_cell, *args, **kwargs)
        if raw_cell.lstrip().startswith(FLOW_CELL):
            took["cell"].append((time.perf_counter() - wall, time.process_time() - cpu))
        return result

    report_data.flow_section = timed_section
    shell.run_cell = timed_cell
    with tempfile.TemporaryDirectory(prefix="taskkit-bench-flow-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'flow.db'}"
        asyncio.run(make(url, tasks))
        for _ in range(rounds + 1):  # the first round warms imports and fonts: not counted
            began = time.perf_counter()
            run_report({"database_url": url}, out=tmp)
            took["report"].append((time.perf_counter() - began, 0.0))
    if len(took["cell"]) != rounds + 1:
        raise SystemExit(f"the flow cell ran {len(took['cell'])} times in {rounds + 1} reports")
    kept = {name: times[1:] for name, times in took.items()}
    both = [(r[0] + c[0], r[1] + c[1]) for r, c in zip(kept["reads"], kept["cell"], strict=True)]
    for name, times in (("reads", kept["reads"]), ("cell", kept["cell"]), ("section", both)):
        wall = statistics.median(t[0] for t in times)
        cpu = statistics.median(t[1] for t in times)
        print(f"{tasks:>9,} tasks, flow {name:<8} wall {wall:5.2f} s   cpu {cpu:5.2f} s")
    whole = statistics.median(t[0] for t in kept["report"])
    print(f"{tasks:>9,} tasks, the whole report (in process) wall {whole:5.2f} s; "
          f"target: the flow section adds at most 1 s")  # fmt: skip


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
