"""`taskkit report` with its flow section timed, or left out: run by benchmarks/report.py.

    python benchmarks/report_flow_timer.py with|without report --db URL --out DIR

Runs the console script's own entry point (which freezes the command's imports out of the
garbage collector, as an in-process run would not) after timing the flow section's reads and
its notebook cell, or after replacing the section by the empty one (its cell is then skipped).
The timings go to the file descriptor named by BENCH_FD as soon as the cell has run: the
command ends with ``os._exit``, which runs no exit hooks.
"""

import json
import os
import sys
import time
from typing import Any

import taskkit._report.data as report_data
from taskkit._cli import main
from taskkit._report.execute import _shell_class
from taskkit._report.flow import FlowSection, _empty

FLOW_CELL = "if data.tasks and flow.start is not None:"  # the first line of the flow cell

took = {"reads": [0.0, 0.0], "cell": [0.0, 0.0]}
section = report_data.flow_section


async def timed_section(*args: Any, **kwargs: Any) -> FlowSection:
    wall, cpu = time.perf_counter(), time.process_time()
    result = await section(*args, **kwargs)
    took["reads"] = [time.perf_counter() - wall, time.process_time() - cpu]
    return result


async def no_section(*args: Any, **kwargs: Any) -> FlowSection:
    return _empty()


shell = _shell_class()
run_cell = shell.run_cell


def timed_cell(self: Any, raw_cell: str, *args: Any, **kwargs: Any) -> Any:
    wall, cpu = time.perf_counter(), time.process_time()
    result = run_cell(self, raw_cell, *args, **kwargs)
    if raw_cell.lstrip().startswith(FLOW_CELL):
        took["cell"] = [time.perf_counter() - wall, time.process_time() - cpu]
        os.write(int(os.environ["BENCH_FD"]), json.dumps(took).encode())
    return result


if __name__ == "__main__":
    with_flow = sys.argv.pop(1) == "with"
    report_data.flow_section = timed_section if with_flow else no_section
    shell.run_cell = timed_cell
    sys.argv[0] = "taskkit"
    main()
