"""A Trello board's JSON export (menu > Print, export and share > Export as JSON) as rows, and
its ``actions`` as the cards' history.

What is read:

* ``cards``: ``name``, ``desc``, ``idList`` (the list is the status), ``idMembers`` (by
  ``members``), ``labels`` (names; colour-only labels have none and are counted), ``closed``
  (archived), ``dateLastActivity``; the creation time is in the first 4 bytes of the card's id
  (a Mongo id).
* ``actions``, newest first in the file: ``createCard`` (and ``copyCard``,
  ``convertToCardFromCheckItem``, ``moveCardToBoard``: the card appears in ``data.list``),
  ``updateCard`` with ``data.listBefore``/``data.listAfter`` (a move between lists) or with
  ``data.old.closed`` (archived or unarchived). Lists are named by their id where the board
  still has it (a list renamed since keeps its id), else by the name the action recorded.
  The export holds at most the latest 1,000 actions; when it holds that many, the history of
  older cards is cut, and the summary says so.

Everything else (due dates, checklists, comments, attachments, custom fields, other action
types) is listed as not read.
"""

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from taskkit._errors import LoadError
from taskkit._importers.reading import Raw, records_table

__all__ = ["ACTION_LIMIT", "Events", "Shaped", "trello_board"]

ACTION_LIMIT = 1000  # a board's JSON export holds the latest 1,000 actions at most
_CREATED = ("createCard", "copyCard", "convertToCardFromCheckItem", "moveCardToBoard")
_CARD_KEYS = (
    "id",
    "shortLink",
    "name",
    "desc",
    "idList",
    "idMembers",
    "labels",
    "idLabels",
    "closed",
    "dateLastActivity",
)
_BOARD_KEYS = ("cards", "lists", "members", "labels", "actions")


@dataclass
class Events:
    """What the tracker recorded, one event a row: ``row`` (1-based source row), ``at`` (ISO
    text), ``list`` (the list name the card was in after it), ``action`` (create, move,
    archive, unarchive, or ``first``/``first archived``: where a card was before its first
    recorded move or archive, dated at the card's creation because the export does not say
    more). :func:`taskkit._importers.convert.convert` adds ``status`` and ``resolution``."""

    table: pa.Table


@dataclass
class Shaped:
    """A JSON document as rows, with what the format learned on the way."""

    raw: Raw
    events: Events | None = None
    notes: list[str] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)  # what -> records not imported
    unread: list[str] = field(default_factory=list)  # fields present but not read
    derived: dict[str, str] = field(default_factory=dict)  # field -> what was derived, how
    refusals: list[tuple[str, str, list[int], str]] = field(default_factory=list)


def _objects(board: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """``board[name]``, a list of objects (missing: empty), refused in one line otherwise."""
    items = board.get(name, [])
    if items is None or not isinstance(items, list):
        raise LoadError(
            f"a Trello export's {name!r} is a list of objects; got {_kind(items)}: is this a "
            "board's JSON export (menu > Print, export and share > Export as JSON)?"
        )
    for position, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise LoadError(
                f"a Trello export's {name!r}: item {position} is {_kind(item)} "
                f"({_shown(item)}), expected an object"
            )
    return items


def _ids(items: list[dict[str, Any]], name: str) -> None:
    for position, item in enumerate(items, 1):
        if not isinstance(item.get("id"), str) or not item["id"]:
            label = f" (named {_shown(item['name'])})" if "name" in item else ""
            raise LoadError(
                f"a Trello export's {name!r}: item {position}{label} has no 'id' "
                f"(got {_shown(item.get('id'))}); cards refer to {name} by id"
            )


def _kind(value: Any) -> str:
    return {type(None): "null", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _text(value: Any, what: str, row: int, refusals: list[tuple[str, str, list[int], str]]) -> Any:
    """A card's text field: text or absent; a number (NaN, Infinity included) is refused."""
    if value is None or isinstance(value, str):
        return value
    shown = "NaN/Infinity" if isinstance(value, float) and not math.isfinite(value) else value
    refusals.append((what, f"is {_kind(value)} ({shown}), not text", [row], ""))
    return None


def trello_board(raw: Raw) -> Shaped:
    """The board's cards as rows (columns named as Trello names them), and their history."""
    board = raw.document
    if not isinstance(board, dict):
        raise LoadError("a Trello export is a JSON object with 'cards' and 'lists'")
    lists_in, members_in, cards = (_objects(board, n) for n in ("lists", "members", "cards"))
    labels_in, actions = _objects(board, "labels"), _objects(board, "actions")
    _ids(lists_in, "lists")
    _ids(members_in, "members")
    lists = {item["id"]: item.get("name") for item in lists_in}
    members = {m["id"]: m.get("fullName") or m.get("username") for m in members_in}
    board_labels = {lb.get("id"): lb.get("name") for lb in labels_in}
    shaped = Shaped(raw=raw)
    refusals = shaped.refusals
    rows: list[dict[str, Any]] = []
    row_of: dict[str, int] = {}
    unnamed = 0
    for row, card in enumerate(cards, 1):
        card_id = card.get("id")
        if not isinstance(card_id, str) or not card_id:
            raise LoadError(f"a Trello export's 'cards': card {row} has no 'id'")
        row_of[card_id] = row
        try:
            created: str | None = datetime.fromtimestamp(int(card_id[:8], 16), UTC).isoformat()
        except ValueError:
            created = None
        list_id = card.get("idList")
        if list_id not in lists:
            refusals.append(
                ("status", f"list {_shown(list_id)} is not among the board's lists", [row], "")
            )
        ids = card.get("idMembers", [])
        if not isinstance(ids, list):
            refusals.append(
                (
                    "workers",
                    f"idMembers is {_kind(ids)} ({_shown(ids)}), expected a list of member ids",
                    [row],
                    "",
                )
            )
            ids = []
        for member in ids:
            if member not in members:
                refusals.append(
                    (
                        "workers",
                        f"member {_shown(member)} is not among the board's members",
                        [row],
                        "",
                    )
                )
        names, unnamed_here = _card_labels(card, board_labels, row, refusals)
        unnamed += unnamed_here
        rows.append(
            {
                "shortLink": _text(card.get("shortLink"), "key", row, refusals) or card_id,
                "name": _text(card.get("name"), "title", row, refusals),
                "desc": _text(card.get("desc"), "description", row, refusals),
                "list": lists.get(list_id) if isinstance(list_id, str) else None,
                "members": json.dumps([members[m] for m in ids if m in members]),
                "labels": json.dumps(names, ensure_ascii=False),
                "created": created,
                "dateLastActivity": card.get("dateLastActivity"),
                "closed": "true" if card.get("closed") is True else "false",
            }
        )
    table = (
        records_table(rows)
        if rows
        else pa.table(
            {
                c: pa.array([], pa.string())
                for c in (
                    "shortLink",
                    "name",
                    "desc",
                    "list",
                    "members",
                    "labels",
                    "created",
                    "dateLastActivity",
                    "closed",
                )
            }
        )
    )
    shaped.raw = Raw(table=table, header=list(table.column_names), kind="rows")
    shaped.events, read_types = _events(actions, row_of, lists, rows, shaped)
    if unnamed:
        shaped.notes.append(f"{unnamed:,} card labels without a name (a colour only) were not read")
    shaped.unread = _unread(board, cards, actions, read_types)
    return shaped


def _card_labels(
    card: dict[str, Any],
    board_labels: dict[Any, Any],
    row: int,
    refusals: list[tuple[str, str, list[int], str]],
) -> tuple[list[str], int]:
    """A card's label names (by ``labels``, else ``idLabels``) and how many had no name."""
    given = card.get("labels")
    if given is None and isinstance(card.get("idLabels"), list):
        given = [{"name": board_labels.get(i)} for i in card["idLabels"]]
    if given is None:
        return [], 0
    if not isinstance(given, list):
        refusals.append(
            ("labels", f"is {_kind(given)} ({_shown(given)}), expected a list", [row], "")
        )
        return [], 0
    names: list[str] = []
    unnamed = 0
    for item in given:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip():
            names.append(name)
        elif name is None or (isinstance(name, str) and not name.strip()):
            unnamed += 1
        else:
            refusals.append(
                ("labels", f"a label is {_kind(name)} ({_shown(name)}), not text", [row], "")
            )
    return names, unnamed


def _events(
    actions: list[dict[str, Any]],
    row_of: dict[str, int],
    lists: dict[str, Any],
    rows: list[dict[str, Any]],
    shaped: Shaped,
) -> tuple[Events, set[str]]:
    """The cards' recorded moves, oldest first, and the action kinds read."""

    def list_name(item: Any) -> Any:
        if not isinstance(item, dict):
            return None
        return lists.get(str(item.get("id"))) or item.get("name")

    per_card: dict[int, list[tuple[str, str, Any]]] = {}
    read: set[str] = set()
    dates: list[str] = []
    for action in actions:
        data = action.get("data")
        at = action.get("date")
        kind = action.get("type")
        if isinstance(at, str):
            dates.append(at)
        if not isinstance(data, dict) or not isinstance(at, str):
            continue
        card = data.get("card")
        row = row_of.get(str(card.get("id"))) if isinstance(card, dict) else None
        if row is None:
            continue  # a card not in the export (deleted), or no card
        old: dict[str, Any] = data["old"] if isinstance(data.get("old"), dict) else {}
        if kind in _CREATED:
            per_card.setdefault(row, []).append((at, "create", list_name(data.get("list"))))
            read.add(kind)
        elif kind == "updateCard" and "listAfter" in data:
            before, after = list_name(data.get("listBefore")), list_name(data.get("listAfter"))
            per_card.setdefault(row, []).append((at, "move", (before, after)))
            read.add("updateCard (list moves)")
        elif kind == "updateCard" and "closed" in old and isinstance(card, dict):
            action_name = "unarchive" if old["closed"] is True else "archive"
            per_card.setdefault(row, []).append((at, action_name, None))
            read.add("updateCard (archive)")
    out: list[dict[str, Any]] = []
    first_from_move = 0
    for row, events in per_card.items():
        events.sort(key=lambda e: e[0])
        current: Any = None
        created = any(e[1] == "create" for e in events)
        for position, (at, action_name, value) in enumerate(events):
            if action_name == "create":
                current = value
                out.append({"row": row, "at": at, "list": value, "action": "create"})
            elif action_name == "move":
                before, after = value
                if current is None and not created and before is not None:
                    out.append(
                        {
                            "row": row,
                            "at": rows[row - 1]["created"],
                            "list": before,
                            "action": "first",
                        }
                    )
                    first_from_move += 1
                current = after
                out.append({"row": row, "at": at, "list": after, "action": "move"})
            else:
                where = current if current is not None else _list_before(events[position:])
                where = where if where is not None else rows[row - 1]["list"]
                if position == 0 and not created:
                    # Before its first recorded archive it sat in that list (or, before an
                    # unarchive, it was archived).
                    first = "first" if action_name == "archive" else "first archived"
                    out.append(
                        {"row": row, "at": rows[row - 1]["created"], "list": where, "action": first}
                    )
                    first_from_move += 1
                out.append({"row": row, "at": at, "list": where, "action": action_name})
    if len(actions) >= ACTION_LIMIT:
        since = min(dates) if dates else "?"
        recorded = sum(1 for events in per_card.values() if any(e[1] == "create" for e in events))
        shaped.notes.append(
            f"history truncated: the export holds Trello's latest {len(actions):,} actions "
            f"(from {since}); moves before that are not in the file, and "
            f"{len(rows) - recorded:,} of {len(rows):,} cards have no recorded creation"
        )
    if first_from_move:
        shaped.derived["history"] = (
            f"{first_from_move:,} cards' first list taken from their earliest recorded move or "
            "archive (dated at the card's creation; the export does not record its creation)"
        )
    names = ("row", "at", "list", "action")
    table = pa.table(
        {
            "row": pa.array([e["row"] for e in out], pa.int64()),
            **{n: pa.array([e[n] for e in out], pa.string()) for n in names[1:]},
        }
    )
    return Events(table), read


def _list_before(events: list[tuple[str, str, Any]]) -> Any:
    """The list a card was in before the first move among ``events`` (None: no move)."""
    return next((value[0] for _, kind, value in events if kind == "move"), None)


def _unread(
    board: dict[str, Any],
    cards: list[dict[str, Any]],
    actions: list[dict[str, Any]],
    read_types: set[str],
) -> list[str]:
    """What the board holds and the import does not read."""
    unread = [
        f"{key}"
        for key in board
        if key not in _BOARD_KEYS
        and key not in ("id", "name", "desc", "url", "shortUrl", "shortLink")
    ]
    card_keys: dict[str, None] = {}
    for card in cards:
        card_keys.update(dict.fromkeys(k for k in card if k not in _CARD_KEYS))
    unread += [f"cards[].{k}" for k in card_keys]
    kinds: Counter[str] = Counter()
    for action in actions:
        kind = action.get("type")
        data: dict[str, Any] = action["data"] if isinstance(action.get("data"), dict) else {}
        old: dict[str, Any] = data["old"] if isinstance(data.get("old"), dict) else {}
        if kind == "updateCard" and ("listAfter" in data or "closed" in old):
            continue
        if kind in _CREATED:
            continue
        kinds[str(kind) if kind != "updateCard" else "updateCard (other fields)"] += 1
    unread += [f"actions: {count:,} {kind}" for kind, count in kinds.most_common()]
    return unread
