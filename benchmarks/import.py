"""Import speed: ``taskkit import`` beside pandas reading the same file plus ``to_sql``, in one run.

    uv run python benchmarks/import.py                  # small files, then 200,000 Jira rows
    uv run python benchmarks/import.py --small          # only the small files
    uv run python benchmarks/import.py 50000 --big      # only the Jira file, 50,000 rows

Small files, where start-up is most of the time (target, issue 23: at most 1.5x):
* a GitHub REST API dump of 2,000 issues (``gh api --paginate repos/O/R/issues``: every
  field the API writes, users, labels and reactions nested, one in ten a pull request);
* a Trello board's JSON export with 500 cards (badges, labels, members, the last 1,000
  actions, lists and members by id).
Each runs ``--rounds`` times (default 7), reference and taskkit alternating, each a whole
process (its interpreter, imports and work, into a new SQLite file); printed: the median and
the best seconds of each side, the ratio of the medians, the range of the per-round ratios,
and the ratio of the median CPU seconds (all of each side's processes; less disturbed by other
work on the machine than wall time).
The reference reads the file with pandas (``read_json``; the board's ``cards`` into a
DataFrame), turns the nested values into JSON text (what ``to_sql`` can store) and calls
``to_sql`` through ``sqlite3``.

The Jira file: about 95 columns as Jira Cloud's "Export Excel CSV (all fields)" writes them
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
Target (issues 12 and 23): taskkit <= 0.5x the reference's time, end to end, on a loaded
machine too.
"""

import argparse
import csv
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


# --- small files: a GitHub REST dump and a Trello board ---------------------------------------


def _user(login: str, i: int) -> dict[str, Any]:
    base = f"https://api.github.com/users/{login}"
    return {
        "login": login, "id": 1000 + i, "node_id": f"MDQ6VXNlcj{i:08d}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{1000 + i}?v=4",
        "gravatar_id": "", "url": base, "html_url": f"https://github.com/{login}",
        "followers_url": base + "/followers", "following_url": base + "/following{/other_user}",
        "gists_url": base + "/gists{/gist_id}", "starred_url": base + "/starred{/owner}{/repo}",
        "subscriptions_url": base + "/subscriptions", "organizations_url": base + "/orgs",
        "repos_url": base + "/repos", "events_url": base + "/events{/privacy}",
        "received_events_url": base + "/received_events", "type": "User",
        "user_view_type": "public", "site_admin": False,
    }  # fmt: skip


def github_issues(n: int, seed: int = 5) -> list[dict[str, Any]]:
    """``n`` issues as the REST API writes them (one in ten a pull request)."""
    rng = random.Random(seed)
    people = [_user(f"dev-{i}", i) for i in range(40)]
    labels = [
        {"id": 5000 + i, "node_id": f"LA_kw{i:06d}", "name": name, "color": "d73a4a",
         "url": f"https://api.github.com/repos/acme/app/labels/{name}", "default": i == 0,
         "description": f"{name} things"}
        for i, name in enumerate(["bug", "enhancement", "docs", "question", "ui", "good first"])
    ]  # fmt: skip
    start = datetime(2021, 1, 1, tzinfo=UTC)
    issues = []
    for number in range(1, n + 1):
        created = start + timedelta(minutes=rng.randint(0, 2_000_000))
        updated = created + timedelta(minutes=rng.randint(0, 50_000))
        closed, pull = rng.random() < 0.6, rng.random() < 0.1
        api = f"https://api.github.com/repos/acme/app/issues/{number}"
        assignees = rng.sample(people, rng.randint(0, 2))
        stamp = "%Y-%m-%dT%H:%M:%SZ"
        issue = {
            "url": api, "repository_url": "https://api.github.com/repos/acme/app",
            "labels_url": api + "/labels{/name}", "comments_url": api + "/comments",
            "events_url": api + "/events",
            "html_url": f"https://github.com/acme/app/{'pull' if pull else 'issues'}/{number}",
            "id": 900_000 + number, "node_id": f"I_kwDO{number:010d}", "number": number,
            "title": f"Issue {number}: {rng.choice(['crash when', 'support for', 'slow'])} "
                     f"module {number % 50}",
            "user": rng.choice(people), "labels": rng.sample(labels, rng.randint(0, 2)),
            "state": "closed" if closed else "open", "locked": False,
            "assignee": assignees[0] if assignees else None, "assignees": assignees,
            "milestone": None, "comments": rng.randint(0, 20),
            "created_at": created.strftime(stamp), "updated_at": updated.strftime(stamp),
            "closed_at": updated.strftime(stamp) if closed else None,
            "author_association": "CONTRIBUTOR", "type": None, "active_lock_reason": None,
            "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
            "body": f"### Steps\n1. run `app {number}`\n2. see the error\n\n"
                    + "Some more words about it. " * rng.randint(2, 30),
            "closed_by": rng.choice(people) if closed else None,
            "reactions": {"url": api + "/reactions", "total_count": 0, "+1": 0, "-1": 0,
                          "laugh": 0, "hooray": 0, "confused": 0, "heart": 0, "rocket": 0,
                          "eyes": 0},
            "timeline_url": api + "/timeline", "performed_via_github_app": None,
            "state_reason": ("completed" if rng.random() < 0.8 else "not_planned")
                            if closed else None,
        }  # fmt: skip
        if pull:
            issue["pull_request"] = {
                "url": f"https://api.github.com/repos/acme/app/pulls/{number}",
                "html_url": f"https://github.com/acme/app/pull/{number}", "merged_at": None,
            }  # fmt: skip
        issues.append(issue)
    return issues


def trello_board(n: int, seed: int = 7) -> dict[str, Any]:
    """A board's JSON export with ``n`` cards (and its last 1,000 actions)."""
    rng = random.Random(seed)
    board = "5ad3c6eb79d93844dc6b0b3f"
    lists = [
        {"id": f"60a{i:021x}", "name": name, "closed": False, "idBoard": board,
         "pos": 16384 * (i + 1), "subscribed": False, "softLimit": None, "color": None}
        for i, name in enumerate(["To Do", "Doing", "Done"])
    ]  # fmt: skip
    members = [
        {"id": f"5b{i:022x}", "fullName": f"Member {i}", "username": f"member{i}",
         "avatarUrl": None, "initials": f"M{i}", "memberType": "normal", "confirmed": True}
        for i in range(12)
    ]  # fmt: skip
    labels = [
        {"id": f"5c{i:022x}", "idBoard": board, "name": name, "color": color, "uses": 0}
        for i, (name, color) in enumerate([("bug", "red"), ("ux", "purple"), ("copy", "yellow")])
    ]  # fmt: skip
    cards = []
    for i in range(n):
        created = 1_600_000_000 + rng.randint(0, 60_000_000)
        short = "".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGH0123456789") for _ in range(8))
        chosen = rng.sample(labels, rng.randint(0, 2))
        last = datetime.fromtimestamp(created + rng.randint(0, 3_000_000), UTC)
        cards.append({
            "id": f"{created:08x}{i:016x}",
            "badges": {"votes": 0, "viewingMemberVoted": False, "subscribed": False,
                       "checkItems": 0, "checkItemsChecked": 0, "comments": rng.randint(0, 4),
                       "attachments": 0, "description": True, "due": None,
                       "dueComplete": False, "start": None},
            "checkItemStates": [], "closed": rng.random() < 0.05, "dueComplete": False,
            "dateLastActivity": last.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "desc": "Card description with a few words. " * rng.randint(0, 12),
            "descData": {"emoji": {}}, "due": None, "dueReminder": None, "email": None,
            "idBoard": board, "idChecklists": [], "idList": rng.choice(lists)["id"],
            "idMembers": [m["id"] for m in rng.sample(members, rng.randint(0, 2))],
            "idMembersVoted": [], "idShort": i + 1, "idAttachmentCover": None,
            "labels": chosen, "idLabels": [label["id"] for label in chosen],
            "manualCoverAttachment": False,
            "name": f"Card {i}: {rng.choice(['write', 'fix', 'design', 'review'])} part {i % 37}",
            "pos": 16384 * (i + 1), "shortLink": short,
            "shortUrl": f"https://trello.com/c/{short}", "start": None, "subscribed": False,
            "url": f"https://trello.com/c/{short}/{i + 1}-card-{i}",
            "cover": {"idAttachment": None, "color": None, "size": "normal",
                      "brightness": "dark"},
            "isTemplate": False, "cardRole": None,
        })  # fmt: skip
    actions = []
    for j in range(min(1000, 2 * n)):
        card = rng.choice(cards)
        kind = rng.choice(["createCard", "updateCard", "commentCard"])
        data: dict[str, Any] = {
            "card": {k: card[k] for k in ("id", "name", "idShort", "shortLink")},
            "board": {"id": board, "name": "Launch", "shortLink": "bRd12345"},
            "list": {"id": card["idList"], "name": "To Do"},
        }
        if kind == "updateCard":
            data["listBefore"] = {"id": lists[0]["id"], "name": "To Do"}
            data["listAfter"] = {"id": card["idList"], "name": "Doing"}
            data["old"] = {"idList": lists[0]["id"]}
        elif kind == "commentCard":
            data["text"] = "A comment. " * 5
        when = datetime.fromtimestamp(1_600_000_000 + j * 1000, UTC)
        actions.append({
            "id": f"{1_600_000_000 + j * 1000:08x}{j:016x}", "idMemberCreator": members[0]["id"],
            "data": data, "type": kind, "date": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "memberCreator": {k: members[0][k] for k in ("id", "fullName", "username")},
        })  # fmt: skip
    return {
        "id": board, "name": "Launch", "desc": "", "closed": False,
        "url": "https://trello.com/b/bRd12345/launch", "prefs": {"permissionLevel": "private"},
        "actions": actions, "cards": cards, "labels": labels, "lists": lists,
        "members": members, "checklists": [], "customFields": [],
    }  # fmt: skip


REFERENCE_JSON = """
import json, sqlite3, sys, time
import pandas as pd
started = time.perf_counter()
path, db, kind = sys.argv[1:4]
if kind == "trello":
    with open(path, encoding="utf-8") as f:
        frame = pd.DataFrame(json.load(f)["cards"])
else:
    frame = pd.read_json(path, dtype=False)
for name in frame.columns:  # nested values as JSON text: what sqlite3 can store
    nested = frame[name].map(lambda v: isinstance(v, (dict, list)))
    if nested.any():
        frame[name] = [json.dumps(v) if n else v for v, n in zip(frame[name], nested)]
with sqlite3.connect(db) as con:
    frame.to_sql("tasks", con, index=False)
print(f"{time.perf_counter() - started:.3f}")
"""


def whole_process(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one child process, start to end (it must succeed)."""
    started, cpu_before = time.perf_counter(), cpu()
    done = subprocess.run(argv, capture_output=True, text=True, env=ENV)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, cpu() - cpu_before


def small_files(tmp: Path, rounds: int) -> None:
    files = {
        "GitHub REST dump, 2,000 issues": (tmp / "issues.json", github_issues(2_000), "github"),
        "Trello board, 500 cards": (tmp / "board.json", trello_board(500), "trello"),
    }
    for path, document, _ in files.values():
        path.write_text(json.dumps(document), encoding="utf-8")
    print(f"small files, {rounds} rounds, each a whole process into a new SQLite file "
          f"(load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    print(f"{'':32}{'reference':>20}{'taskkit import':>20}{'ratio':>8}{'per round':>15}{'CPU':>8}")
    both = f"{'median / best':>20}"
    print(f"{'':32}{both}{both}{'medians':>8}{'min-max':>15}{'ratio':>8}")
    for label, (path, _, kind) in files.items():
        ref, ours, ref_cpu, our_cpu = [], [], [], []
        for i in range(rounds + 1):  # the first round warms the caches, and is not counted
            db_ref, db_ours = tmp / f"ref-{kind}-{i}.db", tmp / f"ours-{kind}-{i}.db"
            r = whole_process([sys.executable, "-c", REFERENCE_JSON, str(path), str(db_ref), kind])
            o = whole_process(
                [sys.executable, "-m", "taskkit", "import", str(path), "--db",
                 f"sqlite:///{db_ours}", "--no-progress"]
            )  # fmt: skip
            if i:
                ref.append(r[0])
                ours.append(o[0])
                ref_cpu.append(r[1])
                our_cpu.append(o[1])
        ratios = [o / r for o, r in zip(ours, ref, strict=True)]
        print(
            f"{label:32}{statistics.median(ref):11.2f} / {min(ref):.2f}"
            f"{statistics.median(ours):13.2f} / {min(ours):.2f}"
            f"{statistics.median(ours) / statistics.median(ref):7.2f}x"
            f"{min(ratios):9.2f}-{max(ratios):.2f}x"
            f"{statistics.median(our_cpu) / statistics.median(ref_cpu):7.2f}x"
        )
    print(f"{path.stat().st_size / 2**20:.1f} MiB and "
          f"{files['GitHub REST dump, 2,000 issues'][0].stat().st_size / 2**20:.1f} MiB; "
          "target (issue 23): at most 1.5x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rows", nargs="?", type=int, default=200_000, help="Jira rows")
    parser.add_argument("--small", action="store_true", help="only the small files")
    parser.add_argument("--big", action="store_true", help="only the Jira file")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of the small files")
    parser.add_argument("--jira-rounds", type=int, default=3, help="rounds of the Jira file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="taskkit-import-bench-") as tmp:
        if not args.big:
            small_files(Path(tmp), args.rounds)
        if not args.small:
            if not args.big:
                print()
            jira(Path(tmp), args.rows, args.jira_rounds)


def jira(tmp: Path, n: int, rounds: int) -> None:
    path = tmp / "jira.csv"
    make_file(path, n)
    warm = tmp / "warm.csv"
    make_file(warm, 1_000)
    reference(warm, tmp / "warm-ref.db")
    taskkit_import(warm, tmp / "warm.db", show=False)
    print(
        f"{n:,} rows, {len(HEADER)} columns, {path.stat().st_size / 2**20:.0f} MiB, {rounds} "
        f"round(s) (load average {os.getloadavg()[0]:.1f})"
    )
    print(f"{'':38}{'total':>9}{'start-up':>10}{'work':>9}{'CPU':>9}")
    ratios = []
    for i in range(rounds):
        os.sync()
        ref, ref_work = reference(path, tmp / f"ref-{i}.db")
        os.sync()
        ours, our_work = taskkit_import(path, tmp / f"taskkit-{i}.db", show=i == 0)
        ratios.append(ours / ref)
        print(
            f"{'reference: pandas read_csv + to_sql':38}{ref:8.2f}s{ref - ref_work:9.2f}s"
            f"{ref_work:8.2f}s{CPU['reference']:8.2f}s"
        )
        print(
            f"{'taskkit:   taskkit import':38}{ours:8.2f}s{ours - our_work:9.2f}s"
            f"{our_work:8.2f}s{CPU['taskkit']:8.2f}s"
        )
        print(
            f"  ratio taskkit / reference: {ours / ref:.2f}x end to end, "
            f"{our_work / ref_work:.2f}x for the work alone, "
            f"{CPU['taskkit'] / CPU['reference']:.2f}x in CPU seconds (load average "
            f"{os.getloadavg()[0]:.1f})"
        )
    print(
        f"end to end: {min(ratios):.2f}x to {max(ratios):.2f}x, median "
        f"{statistics.median(ratios):.2f}x (target <= 0.5x)"
    )


if __name__ == "__main__":
    main()
