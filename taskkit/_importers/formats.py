"""What each tracker's export holds, and how it becomes taskkit's columns.

A format names the source columns for each taskkit field, how the tracker spells statuses and
priorities, how several workers share a cell, and (for JSON) how the document becomes rows.
The shapes come from real exports and the trackers' own documentation; each format's comment
says where.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from taskkit._errors import LoadError
from taskkit._importers.mapping import FIELDS, ImportMapping, fold
from taskkit._importers.reading import Raw, records_table, unique_names
from taskkit._spreadsheet import GUARDED_CELL

__all__ = [
    "FORMATS",
    "WORKER_SEPARATOR",
    "Converted",
    "Format",
    "Refusal",
    "convert",
    "detect",
    "needed",
]

WORKER_SEPARATOR = "\x1f"  # between worker names once a format has split its cells
SHOWN_ROWS = 5

_PENDING = ("pending", "to do", "todo", "open", "new", "backlog", "reopened", "triage")
_ACTIVE = ("in_progress", "in progress", "doing", "in review", "review", "started")
_DONE = ("completed", "done", "closed", "resolved", "complete")


def _statuses(
    pending: tuple[str, ...] = (), active: tuple[str, ...] = (), done: tuple[str, ...] = ()
) -> dict[str, str]:
    table = {}
    for values, status in (
        (_PENDING + pending, "pending"),
        (_ACTIVE + active, "in_progress"),
        (_DONE + done, "completed"),
    ):
        table.update({fold(v): status for v in values})
    return table


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
    # Workers in one cell: a separator; "json": a JSON list of names; "json or ,": a JSON list,
    # else names joined by commas.
    separator: str | None = None
    status_category: str | None = None  # e.g. Jira's To Do / In Progress / Done
    completed_from_date: bool = False  # no status column: completed when completed_at is set
    merge_rows: bool = False  # one row per assignee: rows sharing a key are one task
    prepare: Callable[[Raw], Raw] | None = None  # JSON documents to rows
    also_reads: tuple[str, ...] = ()  # columns used by prepare or the category
    # Text cells a spreadsheet would run (= + - @ tab CR) got a quote in front (Linear's
    # export, spreadsheet_safe): removed, to store the text as it was (see GUARDED_CELL).
    formula_quote: bool = False
    note: Callable[[pa.Table], str] | None = None  # what the summary should say about the file
    # Priority cells that say there is none ("No priority"): empty cells, so the default
    # (medium) they get is listed under "filled in" like any other empty cell's.
    no_priority: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """Rows refused for one value of one field (rows are 1-based data rows)."""

    field: str
    reason: str  # the value as written, e.g. 'Blocked'
    rows: list[int]
    hint: str = ""  # how to map it


@dataclass
class Converted:
    table: pa.Table  # taskkit field names, text values
    format: str
    detected: bool
    ignored: list[str] = field(default_factory=list)
    filled: dict[str, int] = field(default_factory=dict)  # field -> rows given a default
    refusals: list[Refusal] = field(default_factory=list)
    merged: int = 0  # rows folded into the row before with the same key
    rows: int = 0  # rows read from the source
    notes: list[str] = field(default_factory=list)


def _has(*names: str) -> Callable[[Raw], bool]:
    return lambda raw: raw.kind != "json" and all(n in raw.header for n in names)


def _json_list_with(*names: str) -> Callable[[Raw], bool]:
    return lambda raw: (
        raw.kind == "json"
        and isinstance(raw.document, list)
        and bool(raw.document)
        and all(n in raw.document[0] for n in names)
    )


# --- JSON shapes --------------------------------------------------------------------------


def _github_json(raw: Raw) -> Raw:
    """REST API issues (``html_url``, ``assignees[].login``, ``created_at``) or
    ``gh issue list --json ...`` (``url``, ``assignees[].login``, ``createdAt``)."""
    rows = []
    for issue in raw.document:
        if "pull_request" in issue:
            continue  # the REST API lists pull requests among issues
        rows.append(
            {
                "key": _github_key(issue.get("html_url") or issue.get("url"), issue.get("number")),
                "title": issue.get("title"),
                "body": issue.get("body"),
                "state": issue.get("state"),
                "assignees": json.dumps(
                    [a.get("login") for a in issue.get("assignees") or [] if a.get("login")]
                ),
                "labels": json.dumps([lb.get("name") for lb in issue.get("labels") or []]),
                "createdAt": issue.get("created_at") or issue.get("createdAt"),
                "updatedAt": issue.get("updated_at") or issue.get("updatedAt"),
                "closedAt": issue.get("closed_at") or issue.get("closedAt"),
            }
        )
    table = records_table(rows)
    return Raw(table=table, header=list(table.column_names), kind="rows")


def _github_key(url: Any, number: Any) -> str | None:
    """``owner/repo#123`` from an issue's web address: numbers repeat across repositories."""
    if isinstance(url, str) and "/issues/" in url:
        path = url.split("://", 1)[-1].split("/", 1)[-1]  # owner/repo/issues/123
        owner_repo, _, num = path.partition("/issues/")
        return f"{owner_repo.removeprefix('repos/')}#{num}"
    return None if number is None else f"#{number}"


def _github_csv_key(raw: Raw) -> Raw:
    if "url" in raw.header:
        urls = raw.table.column("url").to_pylist()
        numbers = raw.table.column("number").to_pylist()
        keys = pa.array(
            [_github_key(u, n) for u, n in zip(urls, numbers, strict=True)], pa.string()
        )
        table = raw.table.append_column("key", keys)
        return Raw(table=table, header=[*raw.header, "key"], kind=raw.kind)
    return raw


def _trello_json(raw: Raw) -> Raw:
    """A board's JSON export: ``cards`` (``idList``, ``idMembers``, ``closed``), ``lists`` and
    ``members`` by id. A card's creation time is the first 4 bytes of its id (a Mongo id)."""
    board = raw.document
    lists = {item["id"]: item.get("name") for item in board.get("lists", [])}
    members = {m["id"]: m.get("fullName") or m.get("username") for m in board.get("members", [])}
    rows = []
    for card in board.get("cards", []):
        card_id = str(card.get("id", ""))
        try:
            created = datetime.fromtimestamp(int(card_id[:8], 16), UTC).isoformat()
        except ValueError:
            created = None
        rows.append(
            {
                "shortLink": card.get("shortLink") or card_id,
                "name": card.get("name"),
                "desc": card.get("desc"),
                "list": lists.get(card.get("idList")),
                "members": json.dumps([members.get(m, m) for m in card.get("idMembers", [])]),
                "created": created,
                "dateLastActivity": card.get("dateLastActivity"),
                "closed": "true" if card.get("closed") else "false",
            }
        )
    table = records_table(rows)
    return Raw(table=table, header=list(table.column_names), kind="rows")


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
    # Jira Cloud's "Export Excel CSV (all fields)": ~90 columns, repeated names for multi-value
    # fields (Labels, Watchers, Sprint, Component/s), local times like 17/Feb/22 11:02 AM, the
    # team's own Status names beside Status Category (To Do / In Progress / Done). Column names
    # as in adamstirtan/jira-to-github JiraCase.cs and linear/linear's Jira CSV importer; the
    # short server shape Key,Summary,Status,Priority (prescottbreeden/my-task-buddy
    # src/types/Jira.type.ts) is read by the same format.
    "jira": Format(
        name="jira",
        detect=lambda raw: (
            raw.kind != "json"
            and "Summary" in raw.header
            and ("Issue key" in raw.header or "Key" in raw.header or "Issue Key" in raw.header)
        ),
        columns={
            "Issue key": "key",
            "Issue Key": "key",
            "Key": "key",
            "Summary": "title",
            "Description": "description",
            "Status": "status",
            "Priority": "priority",
            "Project name": "project",
            "Assignee": "workers",
            "Created": "created_at",
            "Updated": "updated_at",
            "Resolved": "completed_at",
        },
        status=_statuses(("selected for development",), ("in development", "in testing")),
        priority=_PRIORITIES,
        separator=None,
        status_category="Status Category",
        also_reads=("Status Category",),
    ),
    # gh issue list --json number,title,body,state,assignees,labels,createdAt,updatedAt,
    # closedAt,url (fields of `gh issue list --help`), or the REST API's issue objects; as CSV
    # the same names. State OPEN/CLOSED (API: open/closed); closed issues are completed.
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
            "assignees": "workers",
            "createdAt": "created_at",
            "updatedAt": "updated_at",
            "closedAt": "completed_at",
        },
        status={"open": "pending", "closed": "completed"},
        separator="json",
        also_reads=("number", "url"),
    ),
    # Asana's project export (prescottbreeden/my-task-buddy src/types/Asana.type.ts; linear/linear
    # packages/import/src/importers/asanaCsv/AsanaCsvImporter.ts, Priority High/Med/Low): Task ID,
    # Created At, Completed At, Last Modified, Name, Section/Column, Assignee, Notes, Projects.
    # No status column: a Completed At date means completed. Some exports repeat a task once
    # per assignee: rows with the same Task ID are one task with several workers.
    "asana": Format(
        name="asana",
        detect=_has("Task ID", "Name", "Completed At"),
        columns={
            "Task ID": "key",
            "Name": "title",
            "Notes": "description",
            "Assignee": "workers",
            "Created At": "created_at",
            "Last Modified": "updated_at",
            "Completed At": "completed_at",
            "Projects": "project",
            "Priority": "priority",
        },
        priority={**_PRIORITIES, "med": "medium"},  # High / Med / Low (linear/linear's importer)
        completed_from_date=True,
        merge_rows=True,
        separator=",",
    ),
    # Linear's CSV export (Settings > Import / Export > Export CSV). The header is the one
    # Linear's own importer of that file reads and tests (linear/linear
    # packages/import/src/importers/linearCsv/LinearCsvImporter.ts and its
    # _tests/LinearCsvImporter.test.ts): Id, Team, Title, Description, Status, Estimate,
    # Priority (No priority / Urgent / High / Medium / Low), Project, Creator, Assignee (one
    # name), Labels, Cycle ..., Created, Updated, Started, Completed, Canceled, Archived,
    # Blocks, Blocked By. Text that could read as a formula gets a leading ' (stripped).
    # Canceled and Duplicate issues are closed: completed, as GitHub's closed ones are.
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
            "Created": "created_at",
            "Updated": "updated_at",
            "Completed": "completed_at",
        },
        status=_statuses(("unstarted",), (), ("canceled", "cancelled", "duplicate")),
        priority=_PRIORITIES,
        no_priority=("no priority",),
        formula_quote=True,
    ),
    # Plane's work item export, in the two shapes found:
    # * the CSV that Linear's Plane importer reads (linear/linear
    #   packages/import/src/importers/planeCsv/__tests__/sample.csv): Identifier, Name,
    #   State Name, Priority, Assignees as a JSON list, ISO 8601 times, Project Name;
    # * Plane's own exporter (makeplane/plane apps/api/plane/utils/exporters/schemas/issue.py
    #   and formatters.py; before that apiserver/plane/bgtasks/export_task.py): ID, Project,
    #   Name, Description, State, Priority, Assignees joined by ", " in CSV (a JSON list in its
    #   JSON export), times written with strftime("%a, %d %b %Y %I:%M:%S %Z%z"), e.g.
    #   "Sun, 20 Apr 2025 10:17:06 UTC+0000": a 12-hour clock without AM/PM, said in the
    #   summary. Priority urgent/high/medium/low/none; Cancelled is a closed state.
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
            "Created At": "created_at",
            "Updated At": "updated_at",
            "Completed At": "completed_at",
        },
        status=_statuses((), (), ("cancelled", "canceled")),
        priority=_PRIORITIES,
        no_priority=("none",),
        separator="json or ,",
        note=_plane_clock,
    ),
    # A Trello board's JSON export (menu > Print, export and share > Export as JSON): cards
    # with idList, idMembers and closed; lists and members by id. A card's list is its status:
    # "To Do", "Doing", "Done" are known; any other list name must be mapped (--status).
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
            "created": "created_at",
            "dateLastActivity": "updated_at",
        },
        status=_statuses(),
        separator="json",
        prepare=_trello_json,
        also_reads=("closed",),
    ),
    # taskkit's own columns (see taskkit.load): the names are the fields.
    "taskkit": Format(
        name="taskkit",
        detect=lambda raw: "title" in raw.header,
        columns={name: name for name in FIELDS},
        status={s: s for s in ("pending", "in_progress", "completed")},
        priority={p: p for p in ("low", "medium", "high")},
        separator=";",
        formula_quote=True,  # what taskkit.spreadsheet_safe wrote
    ),
}
ORDER = ("trello", "github", "jira", "asana", "linear", "plane", "taskkit")


def detect(raw: Raw, name: str | None) -> tuple[Format, bool]:
    """The format ``name`` names, or the first whose shape the source has (and True)."""
    if name is not None:
        if name not in FORMATS:
            raise LoadError(f"format must be one of {', '.join(ORDER)}; got {name!r}")
        return FORMATS[name], False
    for candidate in ORDER:
        if FORMATS[candidate].detect(raw):
            return FORMATS[candidate], True
    return FORMATS["taskkit"], True


def _prepared(raw: Raw, fmt: Format) -> Raw:
    if fmt.prepare is not None:
        if fmt.name == "trello" and not isinstance(raw.document, dict):
            raise LoadError("a Trello export is a JSON object with 'cards' and 'lists'")
        return fmt.prepare(raw)
    if fmt.name == "github":
        return _github_json(raw) if raw.kind == "json" else _github_csv_key(raw)
    return raw


def convert(raw: Raw, fmt: Format, mapping: ImportMapping, *, detected: bool = False) -> Converted:
    """The source's rows as taskkit's columns (text), with what was ignored, filled in or
    refused."""
    raw = _prepared(raw, fmt)
    table, n = raw.table, raw.table.num_rows
    sources: dict[str, str] = {}  # field -> source column
    for source, target in {**fmt.columns, **mapping.columns}.items():
        if source in table.column_names and target not in sources:
            sources[target] = source
    for source, target in mapping.columns.items():  # the user's choice wins over the format's
        if source not in table.column_names:
            raise LoadError(
                f"--map {source}={target}: the file has no column {source!r}; its columns: "
                + ", ".join(repr(c) for c in raw.header[:30])
                + (" ..." if len(raw.header) > 30 else "")
            )
        sources[target] = source
    if "title" not in sources:
        raise LoadError(
            f"no column holds the title (format {fmt.name}); map one with --map COLUMN=title. "
            "The file's columns: " + ", ".join(repr(c) for c in raw.header[:30])
        )
    for target, source in sources.items():
        if raw.header.count(source) > 1:
            raise LoadError(
                f"column {source!r} appears {raw.header.count(source)} times in the header: "
                f"which one holds the {target}? Rename the others, or map one with --map"
            )
    used = set(sources.values()) | set(fmt.also_reads)
    ignored = _ignored(raw, used)
    out = Converted(table=pa.table({}), format=fmt.name, detected=detected, ignored=ignored)
    columns: dict[str, pa.ChunkedArray] = {
        target: _blank_as_null(table.column(source)) for target, source in sources.items()
    }
    if fmt.formula_quote:
        for name in ("title", "description", "project", "workers", "key"):
            if name in columns:
                columns[name] = pc.replace_substring_regex(columns[name], GUARDED_CELL, r"\1")
    columns["status"] = _status(table, fmt, mapping, columns, out)
    if "priority" in columns and fmt.no_priority:
        said_none = pc.is_in(pc.utf8_lower(columns["priority"]), pa.array(fmt.no_priority))
        columns["priority"] = pc.if_else(said_none, None, columns["priority"])
    if "priority" in columns:
        columns["priority"] = _values(
            columns["priority"], {**fmt.priority, **mapping.priority}, "priority", out,
            "map them with --priority VALUE=low|medium|high",
        )  # fmt: skip
    if "workers" in columns:
        columns["workers"] = _workers(columns["workers"], mapping.separator or fmt.separator)
    columns["row"] = pa.chunked_array([pa.array(np.arange(1, n + 1), pa.int64())])
    out.table = pa.table({name: columns[name] for name in (*FIELDS, "row") if name in columns})
    out.rows = n
    if fmt.note is not None and (note := fmt.note(out.table)):
        out.notes.append(note)
    if fmt.merge_rows and "key" in columns:
        out.table, out.merged = _merge(out.table)
    # Counted after merging: one per task. Refused values are null too, but they are listed
    # as refusals and their rows are not stored.
    priority = out.table.column("priority") if "priority" in out.table.column_names else None
    missing = out.table.num_rows if priority is None else priority.null_count
    missing -= sum(len(r.rows) for r in out.refusals if r.field == "priority")
    if missing > 0:
        out.filled["priority"] = missing
    return out


def needed(raw_header: list[str], fmt: Format, mapping: ImportMapping) -> set[str]:
    """The source columns (unique names) a conversion reads."""
    return set(fmt.columns) | set(fmt.also_reads) | set(mapping.columns)


def _ignored(raw: Raw, used: set[str]) -> list[str]:
    names: dict[str, int] = {}
    for original, unique in zip(raw.header, unique_names(raw.header), strict=True):
        if unique not in used:
            names[original] = names.get(original, 0) + 1
    return [name if count == 1 else f"{name} (x{count})" for name, count in names.items()]


def _blank_as_null(column: pa.ChunkedArray) -> pa.ChunkedArray:
    blank = pc.equal(pc.utf8_trim_whitespace(column), "")
    return pc.if_else(blank, pa.scalar(None, pa.string()), column)


def _status(
    table: pa.Table, fmt: Format, mapping: ImportMapping, columns: dict[str, Any], out: Converted
) -> pa.ChunkedArray:
    """The user's mapping first, then the tracker's status category, then the format's own
    spellings; what none of them knows is refused."""
    n = table.num_rows
    if "status" in columns:
        column = columns["status"]
        choices = [_lookup(column, mapping.status)]
        if fmt.status_category and fmt.status_category in table.column_names:
            choices.append(_lookup(_blank_as_null(table.column(fmt.status_category)), _statuses()))
        choices.append(_lookup(column, fmt.status))
        result = pc.coalesce(*choices)
        _refuse_unmapped(
            column,
            result,
            "status",
            "map them with --status VALUE=pending|in_progress|completed",
            out,
        )
        return result
    if "completed_at" in columns and fmt.completed_from_date:
        done = pc.is_valid(columns["completed_at"])
        return pc.if_else(done, "completed", "pending")
    out.filled["status"] = n
    return pa.chunked_array([pa.array(["pending"] * n, pa.string())])


def _lookup(column: pa.ChunkedArray, known: dict[str, str]) -> pa.ChunkedArray:
    """Each value through ``known`` (folded keys): null where it has none."""
    encoded = column.combine_chunks().dictionary_encode()
    mapped = [known.get(fold(v)) if v is not None else None for v in encoded.dictionary.to_pylist()]
    return pa.chunked_array([pa.array(mapped, pa.string()).take(encoded.indices)])


def _refuse_unmapped(
    column: pa.ChunkedArray, result: pa.ChunkedArray, name: str, hint: str, out: Converted
) -> None:
    # A value nobody mapped is never stored as a default: that is how 18 rows of "Blocked"
    # once became "pending" without a word.
    """One refusal per distinct value that has no mapping, with its rows."""
    unmapped = pc.and_(pc.is_null(result), pc.is_valid(column))
    values = column.filter(unmapped)
    if not len(values):
        return
    rows = np.flatnonzero(unmapped.to_numpy(zero_copy_only=False))
    frame = pd.DataFrame({"value": values.to_pandas(), "row": rows + 1})
    for value, group in frame.groupby("value", sort=False):
        out.refusals.append(Refusal(name, repr(value), group["row"].tolist(), hint))


def _values(
    column: pa.ChunkedArray, known: dict[str, str], name: str, out: Converted, hint: str
) -> pa.ChunkedArray:
    result = _lookup(column, known)
    _refuse_unmapped(column, result, name, hint, out)
    return result


def _workers(column: pa.ChunkedArray, separator: str | None) -> pa.ChunkedArray:
    """Worker cells as names joined by WORKER_SEPARATOR."""
    if separator in ("json", "json or ,"):
        values: list[str | None] = []
        for cell in column.to_pylist():
            if cell is None:
                values.append(None)
                continue
            try:
                names = json.loads(cell)
            except json.JSONDecodeError:
                # "json or ,": a JSON list, or names joined by ", " (Plane's CSV and JSON)
                names = cell.split(",") if separator == "json or ," else [cell]
            if isinstance(names, str):
                names = [names]
            if isinstance(names, list):
                names = [
                    (n.get("login") or n.get("name") or n.get("display_name"))
                    if isinstance(n, dict)
                    else n
                    for n in names
                ]
            values.append(WORKER_SEPARATOR.join(str(x) for x in names if x))
        return pa.chunked_array([pa.array(values, pa.string())])
    if separator is None:
        return column
    return pc.replace_substring(column, separator, WORKER_SEPARATOR)


def _merge(table: pa.Table) -> tuple[pa.Table, int]:
    """Rows sharing a key become the first such row, with every row's workers."""
    frame = table.to_pandas()
    keyed = frame["key"].notna()
    if not frame.loc[keyed, "key"].duplicated().any():
        return table, 0
    first = ~keyed | ~frame["key"].duplicated()
    if "workers" in frame:
        joined = (
            frame[keyed].groupby("key", sort=False)["workers"]
            .agg(lambda cells: WORKER_SEPARATOR.join(c for c in cells if isinstance(c, str)))
        )  # fmt: skip
        frame.loc[first & keyed, "workers"] = frame.loc[first & keyed, "key"].map(joined)
        frame["workers"] = frame["workers"].replace("", None)
    merged = frame[first]
    return pa.Table.from_pandas(merged, preserve_index=False, schema=table.schema), int(
        (~first).sum()
    )
