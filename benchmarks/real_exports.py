"""Import every tracker export in a folder and say, per file, what taskkit made of it.

    uv run python benchmarks/real_exports.py [FOLDER]      (default: /work/realdata)

Each file goes into a fresh SQLite database, with the mapping below when the file needs one
(Trello list names, a Jira status nobody spells like the trackers do). Printed per file: the
format, tasks, resolutions, starts and completions as read from the tracker's record or
derived (and from what), status history rows (from the tracker, dated by the export), labels,
what was left out, and the refusal when the file is refused. Compare the figures with the
files themselves (a Trello board's archive actions, Jira's Status Category Changed).
"""

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

import taskkit
from taskkit import ImportMapping, LoadError

# The real boards' lists and the statuses their names do not say (checked by hand against
# the boards: which lists are a backlog, which are work in progress, which are done).
MAPPINGS: dict[str, dict[str, Any]] = {
    "en_avidyne_skiitr.trimmed.json": {
        # Lists are product areas; a card is finished by archiving it.
        "status": {
            name: "pending"
            for name in (
                "TAS/TAS-A",
                "General Tasks",
                "EX5000 (E1 MFD)",
                "IFD5XX/4XX",
                "MHD, TWX, 1/2 ATI",
                "EX600",
                "IRU",
                "ADAHRS",
                "Bluetooth Keyboard",
                "Autopilot",
                "R9",
                "AXP340 (Transponder)",
                "AMX240 (Audio Panel)",
            )
        },
        "archived": "done",
    },
    "en_howgoesit_andrej1c.json": {
        "status": {
            "Ideas": "pending",
            "Blocked by Dependencies": "pending",
            "Available to Pickup": "pending",
            "Assigned, Ready for Work": "pending",
        },
    },
    "en_testdrive_gocd_marques.trimmed.json": {
        "status": {
            "Backlog/Future Work/Ideas": "pending",
            "Landing Page": "pending",
            "Loading Page": "pending",
            "Download/Install": "pending",
            "Dashboard Page": "pending",
            "Pipelines as Code (temporary column)": "pending",
            "Add Pipeline Page": "pending",
            "Config Repo SPA": "pending",
            "Documentation/Release Notes": "pending",
            "Homepage/Website": "pending",
            "Ready to merge": "in_progress",
            "Ready for QA": "in_progress",
            "Up Next": "pending",
        },
    },
    "en_volunteerbridge_stonekw.json": {
        "status": {
            "Product Backlog": "pending",
            "Product Backlog: User Story": "pending",
            "Current Sprint 1 Backlog": "pending",
            "Issues": "pending",
            "Testing/Review": "in_progress",
        },
    },
    "es_encriptador_emanuelgauna.json": {
        "status": {"Herramientas": "pending", "Pausado": "pending"},
    },
    "es_jsai2021_leonardorubiosalcedo.trimmed.json": {
        "status": {
            "CONVENCIONES - DESCRIPCION": "pending",
            "BLOQUEO": "in_progress",
            "PRUEBAS": "in_progress",
            "Visto Bueno Maria Ximena": "in_progress",
        },
    },
    "es_cloud_allfields_utn_juanpablo.trimmed.csv": {
        "resolution": {"Ready for Release": "done"},
    },
}


def _mapping(name: str) -> tuple[ImportMapping, str]:
    given = MAPPINGS.get(name, {})
    mapping = ImportMapping.build(
        status=given.get("status", {}), resolution=given.get("resolution", {})
    )
    return mapping, given.get("archived", "cancelled")


async def _one(path: Path) -> str:
    folder = Path(tempfile.mkdtemp())
    engine = taskkit.connect(f"sqlite:///{folder / 'real.db'}")
    await taskkit.create_db_and_tables(engine)
    mapping, archived = _mapping(path.name)
    started = time.perf_counter()
    try:
        summary = await taskkit.load_tasks(
            engine, path, mapping=mapping, archived=archived,  # type: ignore[arg-type]
            progress=False,
        )  # fmt: skip
    except LoadError as exc:
        await engine.dispose()
        first = str(exc).splitlines()
        return f"  refused: {first[0]}" + (f"\n    {first[1].strip()}" if len(first) > 1 else "")
    seconds = time.perf_counter() - started
    async with engine.connect() as conn:
        counts = (
            await conn.execute(
                text(
                    "SELECT count(*), count(started_at), count(completed_at), "
                    "(SELECT count(*) FROM status_change), "
                    "(SELECT count(*) FROM status_change WHERE source = 'tracker'), "
                    "(SELECT count(*) FROM label), (SELECT count(*) FROM task_label_link), "
                    "count(kind) FROM task"
                )
            )
        ).one()
    await engine.dispose()
    tasks, starts, completions, history, tracker, labels, links, kinds = counts
    lines = [
        f"  format {summary.format}: {tasks} tasks in {seconds:.2f} s; "
        f"resolutions {summary.resolutions or '{}'}; {kinds} with a kind",
        f"  starts {starts}, completions {completions}; history {history} rows "
        f"({tracker} tracker, {history - tracker} export); labels {labels} ({links} links)",
    ]
    for name, what in summary.read.items():
        lines.append(f"  read {name}: {what}")
    for name, what in summary.filled.items():
        if name != "priority":
            lines.append(f"  derived {name}: {what}")
    for what, count in summary.left_out.items():
        lines.append(f"  left out: {count} {what}")
    for note in summary.notes:
        if note.startswith(("history truncated", "archived cards", "derived", "1", "2", "3")):
            lines.append(f"  note: {note}")
    return "\n".join(lines)


def _files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.suffix in (".csv", ".json") and "tools" not in p.parts
    )


async def main(folder: Path) -> None:
    for path in _files(folder):
        print(path.relative_to(folder))
        print(await _one(path))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/realdata")))
