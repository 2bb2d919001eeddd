"""Import speed: ``taskkit import`` of a Jira Cloud-shaped CSV beside pandas, in one run.

    uv run python benchmarks/import.py            # 200,000 rows
    uv run python benchmarks/import.py 50000

The file: about 95 columns as Jira Cloud's "Export Excel CSV (all fields)" writes them
(repeated Labels, Watchers, Sprint and Component/s columns, Status Category, local times like
``17/Feb/22 11:02 AM``), one description in ten quoted over several lines.

Prints seconds for:
* reference: a script doing ``pandas.read_csv`` of the raw file + ``DataFrame.to_sql`` into a
  SQLite table (text columns, no checks, no indexes), in a child process;
* taskkit: ``taskkit import FILE`` end to end in a child process (reading, format detection,
  mapping, date parsing, validation, projects, workers, links, indexes, one transaction).

Each side is split into its start-up (the interpreter, its imports and, for taskkit, opening
and migrating the new database) and the work itself (the reference times its read_csv +
to_sql; taskkit's summary gives the seconds of ``load_tasks``). Both children may use the
interpreter's bytecode cache, as an installed program does, and each runs once untimed on a
small file first (caches written, files in the page cache).
Target (issue 12): taskkit <= 0.5x the reference's time, end to end.
"""

import csv
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE = [
    "Summary", "Issue key", "Issue id", "Issue Type", "Status", "Project key", "Project name",
    "Project type", "Project lead", "Project description", "Project url", "Priority",
    "Resolution", "Assignee", "Reporter", "Creator", "Created", "Updated", "Last Viewed",
    "Resolved", "Affects Version/s", "Fix Version/s", "Component/s", "Component/s", "Due Date",
    "Votes", "Labels", "Labels", "Labels", "Description", "Environment", "Watchers",
    "Watchers", "Watchers", "Original Estimate", "Remaining Estimate", "Time Spent",
    "Work Ratio", "Σ Original Estimate", "Σ Remaining Estimate", "Σ Time Spent",
    "Security Level", "Attachment", "Sprint", "Sprint", "Parent", "Parent summary",
    "Status Category", "Status Category Changed",
]  # fmt: skip
CUSTOM = [f"Custom field ({name})" for name in (
    "Story Points", "Team", "Rank", "Epic Link", "Start date", "Flagged", "Development",
    "Acceptance Criteria", "Severity", "Environment Type", "Root Cause", "Steps to Reproduce",
    "Test Plan", "Release Notes", "Customer", "Region", "Component Owner", "Approvals",
    "Change Risk", "Change Type", "Impact", "Urgency", "Request Type", "Satisfaction",
    "Time to resolution", "Time to first response", "Sentiment", "Organizations",
    "Vulnerability", "Design", "Issue color", "Category", "Locked forms", "Open forms",
    "Submitted forms", "Total forms", "Target start", "Target end", "Actual start",
    "Actual end", "Budget", "Cost center", "Goals", "Checklist", "Checklist Progress",
    "Checklist Text",
)]  # fmt: skip
HEADER = BASE + CUSTOM
STATES = [("To Do", "To Do"), ("In Progress", "In Progress"), ("In Review", "In Progress"),
          ("Done", "Done"), ("Closed", "Done"), ("Backlog", "To Do")]  # fmt: skip
PRIORITIES = ["Highest", "High", "Medium", "Low", "Lowest"]
PEOPLE = [f"Person {i}" for i in range(200)]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def jira_time(rng: random.Random) -> str:
    hour = rng.randint(1, 12)
    return (
        f"{rng.randint(1, 28)}/{rng.choice(MONTHS)}/{rng.randint(19, 24)} "
        f"{hour}:{rng.randint(0, 59):02d} {rng.choice(['AM', 'PM'])}"
    )


def make_file(path: Path, n: int) -> None:
    rng = random.Random(12)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for i in range(n):
            status, category = rng.choice(STATES)
            created = jira_time(rng)
            description = (
                f'Steps for {i}:\n1. open the page\n2. click "save", twice\n\nExpected: saved'
                if i % 10 == 0
                else f"Description of issue {i}, with some words to make it a line of text."
            )
            row = {
                "Summary": f"Issue number {i}: something to fix in module {i % 97}",
                "Issue key": f"PROJ-{i + 1}", "Issue id": str(100000 + i),
                "Issue Type": rng.choice(["Bug", "Task", "Story"]), "Status": status,
                "Project key": "PROJ", "Project name": f"Project {i % 12}",
                "Project type": "software", "Priority": rng.choice(PRIORITIES),
                "Assignee": rng.choice(PEOPLE) if i % 5 else "", "Reporter": rng.choice(PEOPLE),
                "Creator": rng.choice(PEOPLE), "Created": created, "Updated": created,
                "Resolved": created if category == "Done" else "",
                "Description": description, "Status Category": category,
                "Status Category Changed": created,
            }  # fmt: skip
            values = [row.get(name, "") for name in HEADER]
            # The repeated columns hold values too, as in real exports.
            values[HEADER.index("Labels")] = rng.choice(["backend", "frontend", "infra"])
            values[HEADER.index("Watchers")] = rng.choice(PEOPLE)
            values[-1] = f"{rng.randint(0, 5)} of 5"
            out.writerow(values)


REFERENCE = """
import sqlite3, sys, time
import pandas as pd
started = time.perf_counter()
frame = pd.read_csv(sys.argv[1])
with sqlite3.connect(sys.argv[2]) as con:
    frame.to_sql("jira", con, index=False, chunksize=50_000)
print(f"{time.perf_counter() - started:.3f}")
"""
# The interpreter writes and reads its bytecode cache, as an installed program's does (a
# session may set PYTHONDONTWRITEBYTECODE: every import would then compile its source again).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def cpu() -> float:
    """CPU seconds (user + system) of the finished child processes (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# CPU seconds per side: less sensitive than wall time to what else runs on the machine.
CPU: dict[str, float] = {}


def reference(path: Path, db: Path) -> tuple[float, float]:
    """The pandas script a user would write, run as its own process like taskkit's command
    (so both pay their imports): (end to end, read_csv + to_sql) seconds."""
    started, cpu_before = time.perf_counter(), cpu()
    done = subprocess.run(
        [sys.executable, "-c", REFERENCE, str(path), str(db)],
        check=True, capture_output=True, text=True, env=ENV,
    )  # fmt: skip
    CPU["reference"] = cpu() - cpu_before
    return time.perf_counter() - started, float(done.stdout.strip())


def taskkit_import(path: Path, db: Path, *, show: bool = True) -> tuple[float, float]:
    """(end to end, load_tasks) seconds of ``taskkit import``."""
    started, cpu_before = time.perf_counter(), cpu()
    done = subprocess.run(
        [sys.executable, "-m", "taskkit", "import", str(path), "--db", f"sqlite:///{db}",
         "--no-progress"],
        capture_output=True, text=True, env=ENV,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    CPU["taskkit"] = cpu() - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"taskkit import failed:\n{done.stdout}\n{done.stderr}")
    if show:
        shown = [line for line in done.stdout.splitlines() if not line.startswith("ignored")]
        print("    " + "\n    ".join(shown))
    work = re.search(r" in ([0-9.]+) s$", done.stdout, re.MULTILINE)
    assert work is not None, done.stdout
    return seconds, float(work.group(1))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory(prefix="taskkit-import-bench-") as tmp:
        path = Path(tmp) / "jira.csv"
        make_file(path, n)
        warm = Path(tmp) / "warm.csv"
        make_file(warm, 1_000)
        reference(warm, Path(tmp) / "warm-ref.db")
        taskkit_import(warm, Path(tmp) / "warm.db", show=False)
        print(f"{n:,} rows, {len(HEADER)} columns, {path.stat().st_size / 2**20:.0f} MiB")
        os.sync()
        ref, ref_work = reference(path, Path(tmp) / "ref.db")
        os.sync()
        ours, our_work = taskkit_import(path, Path(tmp) / "taskkit.db")
        print(f"{'':38}{'total':>9}{'start-up':>10}{'work':>9}")
        print(
            f"{'reference: pandas read_csv + to_sql':38}{ref:8.2f}s{ref - ref_work:9.2f}s"
            f"{ref_work:8.2f}s"
        )
        print(
            f"{'taskkit:   taskkit import':38}{ours:8.2f}s{ours - our_work:9.2f}s{our_work:8.2f}s"
        )
        print(
            f"ratio taskkit / reference: {ours / ref:.2f}x end to end (target <= 0.5x), "
            f"{our_work / ref_work:.2f}x for the work alone"
        )
        print(
            f"CPU seconds (all processes): reference {CPU['reference']:.2f}, taskkit "
            f"{CPU['taskkit']:.2f}, {CPU['taskkit'] / CPU['reference']:.2f}x"
        )


if __name__ == "__main__":
    main()
