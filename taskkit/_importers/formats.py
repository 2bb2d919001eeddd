"""What each tracker's export holds, and how it becomes taskkit's columns.

A format names the source columns for each taskkit field, how the tracker spells statuses,
priorities and resolutions, how several workers or labels share a cell, and (for JSON) how the
document becomes rows. The shapes come from real exports and the trackers' own documentation;
each format's comment says where. :mod:`taskkit._importers.convert` applies a format.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from taskkit._errors import LoadError
from taskkit._importers.github import github_csv, github_json
from taskkit._importers.jira import (
    CATEGORY_CHANGED,
    JIRA_COLUMNS,
    STATUS_CATEGORY,
    looks_like_jira,
    refusal,
    refused_language,
)
from taskkit._importers.mapping import FIELDS, ImportMapping, fold
from taskkit._importers.options import FORMAT_NAMES
from taskkit._importers.reading import Raw
from taskkit._importers.trello import Shaped, trello_board

__all__ = [
    "FORMATS",
    "ORDER",
    "Format",
    "category_statuses",
    "detect",
    "needed",
    "prepared",
    "statuses",
]

_PENDING = ("pending", "to do", "todo", "open", "new", "backlog", "reopened", "triage")
_ACTIVE = ("in_progress", "in progress", "doing", "in review", "review", "started")
_DONE = ("completed", "done", "closed", "resolved", "complete")
# Status names seen in real exports in other languages (Jira in Spanish; Trello boards in
# Spanish and Japanese): To Do / In Progress / Done and their like.
_PENDING_SEEN = ("por hacer", "tareas por hacer", "cosas por hacer", "やること", "やりたいこと")
_ACTIVE_SEEN = ("en curso", "en progreso", "haciendo", "en desarrollo", "作業中", "進行中")
_DONE_SEEN = ("finalizada", "finalizado", "terminado", "concluido", "listo", "クローズ", "完了")
# Dropped work: a completed status whose resolution says so (see resolutions.KNOWN).
_DROPPED = ("cancelled", "canceled", "aborted", "won't do", "duplicate", "中止")


def statuses(
    pending: tuple[str, ...] = (), active: tuple[str, ...] = (), done: tuple[str, ...] = ()
) -> dict[str, str]:
    """The status names every format knows, plus the ones given."""
    table = {}
    for values, status in (
        (_PENDING + _PENDING_SEEN + pending, "pending"),
        (_ACTIVE + _ACTIVE_SEEN + active, "in_progress"),
        (_DONE + _DONE_SEEN + _DROPPED + done, "completed"),
    ):
        table.update({fold(v): status for v in values})
    return table


def category_statuses() -> dict[str, str]:
    """Jira's status categories (To Do / In Progress / Done), in English and Spanish."""
    return {
        fold(k): v
        for k, v in {
            "to do": "pending", "in progress": "in_progress", "done": "completed",
            "por hacer": "pending", "en curso": "in_progress", "listo": "completed",
        }.items()
    }  # fmt: skip


_PRIORITIES = {
    "low": "low", "lowest": "low", "minor": "low", "trivial": "low",
    "medium": "medium", "normal": "medium",
    "high": "high", "highest": "high", "major": "high", "critical": "high", "urgent": "high",
    "blocker": "high",
}  # fmt: skip


@dataclass(frozen=True)
class Format:
    """One tracker's export: see the module docstring."""

    name: str
    detect: Callable[[Raw], bool]
    columns: dict[str, str]  # source column -> taskkit field (several sources: first present)
    status: dict[str, str] = field(default_factory=dict)
    priority: dict[str, str] = field(default_factory=dict)
    # Workers (and labels) in one cell: a separator; "json": a JSON list of names; "json or
    # ,": a JSON list, else names joined by commas.
    separator: str | None = None
    labels_separator: str | None = None  # "repeated": one label a column, the column repeated
    status_category: tuple[str, ...] = ()  # e.g. Jira's To Do / In Progress / Done
    # The column that says when the status category last changed (Jira).
    category_changed: tuple[str, ...] = ()
    completed_from_date: bool = False  # no status column: completed when completed_at is set
    merge_rows: bool = False  # one row per assignee: rows sharing a key are one task
    prepare: Callable[[Raw], Shaped] | None = None  # JSON documents to rows
    also_reads: tuple[str, ...] = ()  # columns used by prepare or the category
    # Text cells a spreadsheet would run (= + - @ tab CR) got a quote in front (Linear's
    # export, spreadsheet_safe): removed, to store the text as it was (see GUARDED_CELL).
    formula_quote: bool = False
    note: Callable[[pa.Table], str] | None = None  # what the summary should say about the file
    # Priority cells that say there is none ("No priority"): empty cells, so the default
    # (medium) they get is listed under "filled in" like any other empty cell's.
    no_priority: tuple[str, ...] = ()
    # Columns whose date also completes a task, with the resolution it means (Linear's
    # Canceled): read where completed_at is empty.
    completed_by: dict[str, str] = field(default_factory=dict)
    # The resolution of a completed task that states none (GitHub: closed issues without a
    # state reason, which GitHub shows as completed), and why.
    unstated_resolution: tuple[str, str] | None = None
    # Jira keeps Resolution and Resolved on an issue that was reopened: on an open issue they
    # belong to an earlier resolution, and are not read (counted).
    stale_on_open: bool = False
    # Closed, archived records (Trello's closed cards) become completed tasks.
    archived: str | None = None
    # Whether a status name can say how a task ended (Jira's "Cancelled"); not GitHub's
    # "closed" nor taskkit's "completed", which say nothing of it.
    resolution_from_status: bool = True
    # The resolution of completed work where the tracker has only one (Asana: "done").
    completed_means: str | None = None


def _has(*names: str) -> Callable[[Raw], bool]:
    return lambda raw: raw.kind != "json" and all(n in raw.header for n in names)


def _json_list_with(*names: str) -> Callable[[Raw], bool]:
    return lambda raw: (
        raw.kind == "json"
        and isinstance(raw.document, list)
        and bool(raw.document)
        and isinstance(raw.document[0], dict)
        and all(n in raw.document[0] for n in names)
    )


def _plane_clock(table: pa.Table) -> str:
    """Plane's own exporter writes times on a 12-hour clock without AM/PM (``%I``)."""
    if "created_at" not in table.column_names:
        return ""
    rfc = pc.match_substring_regex(table.column("created_at"), r"^[A-Za-z]{3}, \d")
    if not pc.any(rfc).as_py():
        return ""
    return (
        "Plane writes times of day on a 12-hour clock without AM/PM (its exporter's %I): "
        "times after noon were read 12 hours early; dates are exact"
    )


# --- the formats ----------------------------------------------------------------------------

FORMATS: dict[str, Format] = {
    # Jira Cloud's "Export Excel CSV (all fields)": ~90 to 360 columns, repeated names for
    # multi-value fields (Labels, Watchers, Sprint, Component/s), local times like
    # 17/Feb/22 11:02 AM, the team's own Status names beside Status Category (To Do / In
    # Progress / Done) and Status Category Changed (when the category last changed). Column
    # names as in adamstirtan/jira-to-github JiraCase.cs, linear/linear's Jira CSV importer and
    # real exports in English and Spanish (taskkit._importers.jira); the short server shape
    # Key,Summary,Status,Priority (prescottbreeden/my-task-buddy src/types/Jira.type.ts) is
    # read by the same format. Sprint columns are not read: a sprint is a time box, not a
    # label, and the repeated columns hold every sprint an issue was carried through.
    "jira": Format(
        name="jira",
        detect=looks_like_jira,
        columns=JIRA_COLUMNS,
        status=statuses(("selected for development",), ("in development", "in testing")),
        priority=_PRIORITIES,
        separator=None,
        labels_separator="repeated",
        status_category=STATUS_CATEGORY,
        category_changed=CATEGORY_CHANGED,
        also_reads=STATUS_CATEGORY + CATEGORY_CHANGED,
        stale_on_open=True,
    ),
    # gh issue list --json number,title,body,state,stateReason,assignees,labels,createdAt,
    # updatedAt,closedAt,url (fields of `gh issue list --help`), or the REST API's issue objects
    # (taskkit._importers.github); as CSV the same names. State OPEN/CLOSED (API: open/closed);
    # closed issues are completed, their state reason says whether done or not planned.
    "github": Format(
        name="github",
        detect=lambda raw: (
            _json_list_with("number", "title", "state")(raw)
            or _has("number", "title", "state")(raw)
        ),
        columns={
            "key": "key",
            "title": "title",
            "body": "description",
            "state": "status",
            "state_reason": "resolution",
            "stateReason": "resolution",
            "assignees": "workers",
            "labels": "labels",
            "type": "kind",
            "createdAt": "created_at",
            "updatedAt": "updated_at",
            "closedAt": "completed_at",
        },
        status={"open": "pending", "closed": "completed"},
        separator="json",
        labels_separator="json",
        also_reads=("number", "url"),
        resolution_from_status=False,
        unstated_resolution=(
            "done",
            "closed issues without a state reason (GitHub shows them as closed as completed)",
        ),
    ),
    # Asana's project export (prescottbreeden/my-task-buddy src/types/Asana.type.ts; linear/linear
    # packages/import/src/importers/asanaCsv/AsanaCsvImporter.ts, Priority High/Med/Low): Task ID,
    # Created At, Completed At, Last Modified, Name, Section/Column, Assignee, Notes, Projects,
    # Tags. No status column: a Completed At date means completed (Asana has no "cancelled").
    # Some exports repeat a task once per assignee: rows with the same Task ID are one task
    # with several workers, when they agree on everything else. Tags are labels; a section is a
    # place on a board whose meaning the export does not say (a status column, a topic): not
    # read unless mapped (--map "Section/Column=labels"). Also the CSV that Asana's API gives
    # (gid, name, completed, completed_at, created_at, modified_at, notes, tags joined by "; ").
    "asana": Format(
        name="asana",
        detect=lambda raw: (
            _has("Task ID", "Name", "Completed At")(raw)
            or _has("gid", "name", "completed", "completed_at")(raw)
        ),
        columns={
            "Task ID": "key",
            "gid": "key",
            "Name": "title",
            "name": "title",
            "Notes": "description",
            "notes": "description",
            "completed": "status",
            "Assignee": "workers",
            "assignee_name": "workers",
            "Created At": "created_at",
            "created_at": "created_at",
            "Last Modified": "updated_at",
            "modified_at": "updated_at",
            "Completed At": "completed_at",
            "completed_at": "completed_at",
            "Projects": "project",
            "Priority": "priority",
            "Tags": "labels",
            "tags": "labels",
        },
        status={"true": "completed", "false": "pending"},
        priority={**_PRIORITIES, "med": "medium"},  # High / Med / Low (linear/linear's importer)
        completed_from_date=True,
        completed_means="done",
        resolution_from_status=False,
        merge_rows=True,
        separator=",",
        labels_separator=",;",
    ),
    # Linear's CSV export (Settings > Import / Export > Export CSV). The header is the one
    # Linear's own importer of that file reads and tests (linear/linear
    # packages/import/src/importers/linearCsv/LinearCsvImporter.ts and its
    # _tests/LinearCsvImporter.test.ts) and a real 2023 export: ID, Team, Title, Description,
    # Status, Estimate, Priority (No priority / Urgent / High / Medium / Low), Project,
    # Creator, Assignee (one name), Labels (joined by ", "), Cycle ..., Created, Updated,
    # Started, Completed, Canceled, Archived, Blocks, Blocked By; times as ISO 8601 or as
    # JavaScript's Date.toString() ("Sat Feb 11 2023 01:51:47 GMT+0000 (GMT)"). Text that
    # could read as a formula gets a leading ' (stripped). Completed and Canceled issues are
    # completed; Canceled (and a Duplicate status) is dropped work.
    "linear": Format(
        name="linear",
        detect=lambda raw: (
            _has("Team", "Title", "Status")(raw) and ("Id" in raw.header or "ID" in raw.header)
        ),
        columns={
            "Id": "key",
            "ID": "key",
            "Title": "title",
            "Description": "description",
            "Status": "status",
            "Priority": "priority",
            "Project": "project",
            "Assignee": "workers",
            "Labels": "labels",
            "Created": "created_at",
            "Updated": "updated_at",
            "Started": "started_at",
            "Completed": "completed_at",
        },
        status=statuses(("unstarted",), (), ()),
        priority=_PRIORITIES,
        no_priority=("no priority",),
        formula_quote=True,
        labels_separator=",",
        completed_by={"Canceled": "cancelled"},
        completed_means="done",
        also_reads=("Canceled",),
    ),
    # Plane's work item export, in the two shapes found:
    # * the CSV that Linear's Plane importer reads (linear/linear
    #   packages/import/src/importers/planeCsv/__tests__/sample.csv): Identifier, Name,
    #   State Name, Priority, Assignees as a JSON list, ISO 8601 times, Project Name;
    # * Plane's own exporter (makeplane/plane apps/api/plane/utils/exporters/schemas/issue.py
    #   and formatters.py; before that apiserver/plane/bgtasks/export_task.py): ID, Project,
    #   Name, Description, State, Priority, Assignees joined by ", " in CSV (a JSON list in its
    #   JSON export), Labels likewise, times written with strftime("%a, %d %b %Y %I:%M:%S
    #   %Z%z"), e.g. "Sun, 20 Apr 2025 10:17:06 UTC+0000": a 12-hour clock without AM/PM, said
    #   in the summary. Priority urgent/high/medium/low/none. The state group is not in the
    #   export: states named Cancelled (Plane's default in the cancelled group) are dropped
    #   work, Done is done; other state names are mapped with --status and --resolution.
    "plane": Format(
        name="plane",
        detect=lambda raw: (
            (
                _has("Name", "Priority")(raw)
                and ("State" in raw.header or "State Name" in raw.header)
                and ("ID" in raw.header or "Identifier" in raw.header)
            )
            or _json_list_with("ID", "Name", "State")(raw)
        ),
        columns={
            "Identifier": "key",
            "ID": "key",
            "Name": "title",
            "Description": "description",
            "State Name": "status",
            "State": "status",
            "Priority": "priority",
            "Project Name": "project",
            "Project": "project",
            "Assignees": "workers",
            "Assignee": "workers",
            "Labels": "labels",
            "Created At": "created_at",
            "Updated At": "updated_at",
            "Completed At": "completed_at",
        },
        status=statuses(),
        priority=_PRIORITIES,
        no_priority=("none",),
        separator="json or ,",
        labels_separator="json or ,",
        note=_plane_clock,
    ),
    # A Trello board's JSON export (taskkit._importers.trello): a card's list is its status
    # ("To Do", "Doing", "Done" and the list names of real boards are known; any other list
    # name must be mapped with --status); archived cards are completed: done in a done list,
    # else as --archived says (cancelled by default); actions give the history.
    "trello": Format(
        name="trello",
        detect=lambda raw: (
            raw.kind == "json"
            and isinstance(raw.document, dict)
            and "cards" in raw.document
            and "lists" in raw.document
        ),
        columns={
            "shortLink": "key",
            "name": "title",
            "desc": "description",
            "list": "status",
            "members": "workers",
            "labels": "labels",
            "created": "created_at",
            "dateLastActivity": "updated_at",
        },
        status=statuses(),
        separator="json",
        labels_separator="json",
        prepare=trello_board,
        also_reads=("closed",),
        archived="closed",
    ),
    # taskkit's own columns (see taskkit.load): the names are the fields.
    "taskkit": Format(
        name="taskkit",
        detect=lambda raw: "title" in raw.header,
        columns={name: name for name in FIELDS},
        status={s: s for s in ("pending", "in_progress", "completed")},
        priority={p: p for p in ("low", "medium", "high")},
        separator=";",
        labels_separator=";",
        resolution_from_status=False,
        formula_quote=True,  # what taskkit.spreadsheet_safe wrote
    ),
}
ORDER = FORMAT_NAMES  # detection tries them in this order


def detect(raw: Raw, name: str | None) -> tuple[Format, bool]:
    """The format ``name`` names, or the first whose shape the source has (and True).

    A Jira export in a language taskkit does not read is refused, named, rather than read as
    taskkit's own format."""
    if name is not None:
        if name not in FORMATS:
            raise LoadError(f"format must be one of {', '.join(ORDER)}; got {name!r}")
        return FORMATS[name], False
    for candidate in ORDER[:-1]:
        if FORMATS[candidate].detect(raw):
            return FORMATS[candidate], True
    language = refused_language(raw.header) if raw.kind != "json" else None
    if language is not None:
        raise LoadError(refusal(raw.header, language))
    if raw.kind == "json" and isinstance(raw.document, dict) and "idList" in raw.document:
        raise LoadError(
            "this is one Trello card's JSON export, not a board's: export the board "
            "(board menu > Print, export and share > Export as JSON)"
        )
    if _json_list_with("number", "title")(raw):
        raise LoadError(
            "this looks like a GitHub issue list (number, title) without the issues' 'state': "
            "export it with the state, e.g. gh issue list --state all --json number,title,"
            "state,stateReason,body,assignees,labels,createdAt,updatedAt,closedAt,url"
        )
    return FORMATS["taskkit"], True  # taskkit's own columns, or the columns a mapping names


def prepared(raw: Raw, fmt: Format) -> Shaped:
    """The source as rows of the format's columns (JSON documents flattened)."""
    if fmt.prepare is not None:
        return fmt.prepare(raw)
    if fmt.name == "github":
        if raw.kind == "json":
            if not isinstance(raw.document, list):
                raise LoadError("a GitHub export is a JSON list of issues")
            return github_json(raw)
        return Shaped(raw=github_csv(raw))
    return Shaped(raw=raw)


def needed(raw_header: list[str], fmt: Format, mapping: ImportMapping) -> set[str]:
    """The source columns (unique names) a conversion reads."""
    names = set(fmt.columns) | set(fmt.also_reads) | set(mapping.columns) | set(fmt.completed_by)
    if fmt.labels_separator == "repeated":
        labels = {source for source, target in fmt.columns.items() if target == "labels"}
        names |= {n for n in raw_header if n.split(".")[0] in labels}
    return names
