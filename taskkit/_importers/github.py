"""GitHub issues as rows: the REST API's issue objects (``GET /repos/{o}/{r}/issues``) or
``gh issue list --json ...``, and a CSV with the gh field names.

Read: ``number`` with ``html_url``/``url`` (the key ``owner/repo#123``), ``title``, ``body``,
``state`` (open/closed), ``state_reason``/``stateReason`` (``completed``, ``not_planned``,
``duplicate``; ``reopened`` on an open issue), ``assignees`` (``login``), ``labels``
(``name``), the issue ``type`` (its ``name``), ``created_at``/``createdAt``,
``updated_at``/``updatedAt``, ``closed_at``/``closedAt``. Pull requests, which the REST API
lists among issues (they carry ``pull_request``), are left out and counted.
"""

import json
from typing import Any

import pyarrow as pa

from taskkit._importers.reading import Raw, records_table
from taskkit._importers.trello import Shaped

__all__ = ["github_csv", "github_json", "github_key"]

_READ = (
    "number",
    "html_url",
    "url",
    "title",
    "body",
    "state",
    "state_reason",
    "stateReason",
    "assignees",
    "assignee",
    "labels",
    "type",
    "created_at",
    "createdAt",
    "updated_at",
    "updatedAt",
    "closed_at",
    "closedAt",
    "pull_request",
)
_COLUMNS = (
    "key",
    "title",
    "body",
    "state",
    "state_reason",
    "assignees",
    "labels",
    "type",
    "createdAt",
    "updatedAt",
    "closedAt",
)


def github_key(url: Any, number: Any) -> str | None:
    """``owner/repo#123`` from an issue's web address: numbers repeat across repositories."""
    if isinstance(url, str) and "/issues/" in url:
        path = url.split("://", 1)[-1].split("/", 1)[-1]  # owner/repo/issues/123
        owner_repo, _, num = path.partition("/issues/")
        return f"{owner_repo.removeprefix('repos/')}#{num}"
    return None if number is None else f"#{number}"


def _names(value: Any, key: str, what: str, row: int, shaped: Shaped) -> str:
    """A list of objects (``login``/``name``) or of names, as a JSON list of names."""
    if value is None:
        return "[]"
    if not isinstance(value, list):
        shaped.refusals.append(
            (
                what,
                f"is {type(value).__name__} ({json.dumps(value)[:40]}), expected a list",
                [row],
                "",
            ),
        )
        return "[]"
    names = []
    for item in value:
        name = item.get(key) if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip():
            names.append(name)
        elif name is not None:
            shaped.refusals.append((what, f"holds {json.dumps(item)[:40]}, not a name", [row], ""))
    return json.dumps(names, ensure_ascii=False)


def _text(value: Any, what: str, row: int, shaped: Shaped) -> str | None:
    if value is None or isinstance(value, str):
        return value
    shaped.refusals.append((what, f"is {json.dumps(value)}, not text", [row], ""))
    return None


def github_json(raw: Raw) -> Shaped:
    """Issues (REST or gh) as rows; pull requests left out and counted."""
    shaped = Shaped(raw=raw)
    rows: list[dict[str, Any]] = []
    unread: dict[str, None] = {}
    pulls = 0
    for issue in raw.document:
        if "pull_request" in issue:
            pulls += 1
            continue
        row = len(rows) + 1
        unread.update(dict.fromkeys(k for k in issue if k not in _READ))
        kind = issue.get("type")
        assignees = issue.get("assignees")
        if assignees is None and isinstance(issue.get("assignee"), dict):
            assignees = [issue["assignee"]]
        reason = issue.get("state_reason", issue.get("stateReason"))
        rows.append(
            {
                "key": github_key(issue.get("html_url") or issue.get("url"), issue.get("number")),
                "title": _text(issue.get("title"), "title", row, shaped),
                "body": _text(issue.get("body"), "description", row, shaped),
                "state": _text(issue.get("state"), "status", row, shaped),
                "state_reason": _text(reason or None, "resolution", row, shaped),
                "assignees": _names(assignees, "login", "workers", row, shaped),
                "labels": _names(issue.get("labels"), "name", "labels", row, shaped),
                "type": kind.get("name")
                if isinstance(kind, dict)
                else _text(kind, "kind", row, shaped),
                "createdAt": issue.get("created_at") or issue.get("createdAt"),
                "updatedAt": issue.get("updated_at") or issue.get("updatedAt"),
                "closedAt": issue.get("closed_at") or issue.get("closedAt"),
            }
        )
    if rows:
        table = records_table(rows)
    else:
        table = pa.table({c: pa.array([], pa.string()) for c in _COLUMNS})
    shaped.raw = Raw(table=table, header=list(table.column_names), kind="rows")
    if pulls:
        shaped.left_out["pull requests"] = pulls
    shaped.unread = list(unread)
    return shaped


def github_csv(raw: Raw) -> Raw:
    """A CSV with gh's field names: the key from ``url`` and ``number`` when it has both."""
    header = set(raw.table.column_names)
    if "key" in header or "url" not in header:
        return raw
    urls = raw.table.column("url").to_pylist()
    numbers = raw.table.column("number").to_pylist() if "number" in header else [None] * len(urls)
    keys = pa.array([github_key(u, n) for u, n in zip(urls, numbers, strict=True)], pa.string())
    table = raw.table.append_column("key", keys)
    return Raw(table=table, header=[*raw.header, "key"], kind=raw.kind)
