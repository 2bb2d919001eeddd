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

The venv's modules should be byte-compiled (`uv sync --compile-bytecode`): with
PYTHONDONTWRITEBYTECODE set and no .pyc files, every process compiles its imports first.
"""

import argparse
import asyncio
import os
import resource
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--million", action="store_true", help="also report on 1M tasks")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
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
