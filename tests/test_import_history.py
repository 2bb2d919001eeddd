"""Imports take the tracker's own record (issue 22): resolutions, start and completion dates,
kinds, labels, and the status history, on every backend. Expected values are read from the
fixture files here, independently of taskkit's readers."""

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import select

import taskkit
from taskkit import ImportMapping, LoadError, Task, load_tasks

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "imports"
REAL = FIXTURES / "real"
TRELLO_MAP = ImportMapping.build(status=["Ideas=pending"])
TRELLO_STATUS = {"To Do": "pending", "Backlog": "pending", "Ideas": "pending",
                 "Doing": "in_progress", "Done": "completed", "Won't do": "completed"}  # fmt: skip


async def tasks_frame(engine) -> pd.DataFrame:
    return await taskkit.to_dataframe(engine, select(Task).order_by(Task.id))


async def history_by_key(engine) -> dict[str, list[tuple]]:
    """Each task's history as (changed_at, from_status, to_status, source), through
    to_dataframe(select_history(...))."""
    tasks = await tasks_frame(engine)
    keys = dict(zip(tasks["id"], tasks["key"], strict=True))
    frame = await taskkit.to_dataframe(engine, taskkit.select_history(taskkit.select_tasks()))
    out: dict[str, list[tuple]] = {}
    for row in frame.itertuples():
        out.setdefault(keys[row.task_id], []).append(
            (
                row.changed_at,
                None if pd.isna(row.from_status) else str(row.from_status),
                str(row.to_status),
                str(row.source),
            )
        )
    return out


def stamp(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


async def grid_history_by_key(engine) -> dict[str, list[tuple]]:
    """Each task's history as the grid shows it when the task is selected (from, to, when to
    the second, source), by key."""
    grid = await taskkit.explore(engine)
    tasks = await tasks_frame(engine)
    out = {}
    for task_id, key in zip(tasks["id"], tasks["key"], strict=True):
        await grid.handle({"action": "select", "id": str(task_id)})
        assert grid.error == ""
        out[key] = [
            (pd.Timestamp(at, tz="UTC"), before, after, source)
            for before, after, at, source in grid.detail["history"]
        ]
    await grid.settled()
    return out


def to_the_second(history: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """``history_by_key``'s rows as the grid shows them: (when to the second, from, to, source)."""
    return {
        key: [(at.floor("s"), before, after, source) for at, before, after, source in rows]
        for key, rows in history.items()
    }


@pytest.mark.parametrize(
    ("fixture", "mapping"),
    [("trello_actions.json", TRELLO_MAP), ("jira_resolutions.csv", None)],
)
async def test_a_tasks_history_in_the_grid_agrees_with_to_dataframe_and_the_export(
    engine, fixture: str, mapping
):
    """Issue 22: the grid shows the selected task's history; here for every imported task of
    the Trello and Jira fixtures, beside to_dataframe's (which the tests above check against
    the file itself)."""
    await load_tasks(engine, FIXTURES / fixture, mapping=mapping, progress=False)
    shown = await grid_history_by_key(engine)
    assert shown == to_the_second(await history_by_key(engine))
    assert sum(map(len, shown.values())) > len(shown)  # moves beyond each creation


# --- Trello ----------------------------------------------------------------------------------


def trello_expected(path: Path) -> dict[str, list[tuple]]:
    """The moves the board's actions record, per card (short link), parsed here: created in
    a list, moved between lists, archived (completed) and unarchived; a card without a
    recorded creation starts in the list its first move left, at its creation."""
    board = json.loads(path.read_text(encoding="utf-8"))
    by_id = {c["id"]: c for c in board["cards"]}
    moves: dict[str, list[tuple[pd.Timestamp, str]]] = {}
    for action in sorted(board["actions"], key=lambda a: a["date"]):
        data = action["data"]
        card = by_id.get(data.get("card", {}).get("id"))
        if card is None:
            continue
        at = stamp(action["date"])
        key = card["shortLink"]
        if action["type"] == "createCard":
            moves.setdefault(key, []).append((at, TRELLO_STATUS[data["list"]["name"]]))
        elif "listAfter" in data:
            if key not in moves:
                created = pd.Timestamp(int(card["id"][:8], 16), unit="s", tz="UTC")
                moves[key] = [(created, TRELLO_STATUS[data["listBefore"]["name"]])]
            moves[key].append((at, TRELLO_STATUS[data["listAfter"]["name"]]))
        elif "closed" in data.get("old", {}):
            archived = not data["old"]["closed"]
            status = "completed" if archived else TRELLO_STATUS[data["list"]["name"]]
            moves.setdefault(key, []).append((at, status))
    expected = {}
    for key, points in moves.items():
        rows, last = [], None
        for at, status in points:
            if status != last:
                rows.append((at, last, status, "tracker"))
                last = status
        expected[key] = rows
    return expected


async def test_trello_history_in_to_dataframe_agrees_with_the_boards_actions(engine):
    path = FIXTURES / "trello_actions.json"
    summary = await load_tasks(engine, path, mapping=TRELLO_MAP, progress=False)
    history = await history_by_key(engine)
    for key, rows in trello_expected(path).items():
        assert history[key] == rows, key
    # The card without any action: open at its creation, completed at its last activity
    # (the export does not say when): dated by the export, and counted.
    board = json.loads(path.read_text(encoding="utf-8"))
    quiet = next(c for c in board["cards"] if c["name"] == "Card without actions")
    created = pd.Timestamp(int(quiet["id"][:8], 16), unit="s", tz="UTC")
    assert history[quiet["shortLink"]] == [
        (created, None, "pending", "tracker"),
        (stamp(quiet["dateLastActivity"]), "pending", "completed", "export"),
    ]
    assert summary.history == sum(len(rows) for rows in history.values())
    assert "(1 dated by the export's updated_at" in str(summary)


async def test_trello_starts_and_completions_come_from_the_moves_not_the_last_activity(engine):
    await load_tasks(engine, FIXTURES / "trello_actions.json", mapping=TRELLO_MAP, progress=False)
    frame = (await tasks_frame(engine)).set_index("title")
    press = frame.loc["Press kit"]
    assert press["started_at"] == stamp("2024-03-04T10:00:00Z")
    assert press["completed_at"] == stamp("2024-03-08T16:30:00Z")  # not dateLastActivity
    assert str(press["resolution"]) == "done"
    landing = frame.loc["Landing page"]  # in, out and back into Doing: the first start
    assert landing["started_at"] == stamp("2024-03-05T11:00:00Z")
    assert pd.isna(landing["completed_at"]) and pd.isna(landing["resolution"])
    assert str(frame.loc["Dropped idea", "resolution"]) == "wont_do"  # the "Won't do" list
    # A card first seen moving out of Doing: when it started is not in the export.
    assert pd.isna(frame.loc["Shipped FAQ", "started_at"])


async def test_trello_archived_cards_are_not_open_work_and_are_counted(engine):
    summary = await load_tasks(
        engine, FIXTURES / "trello_actions.json", mapping=TRELLO_MAP, progress=False
    )
    frame = (await tasks_frame(engine)).set_index("title")
    # Archived in a done list: done when it moved there, not when it was archived.
    assert str(frame.loc["Shipped FAQ", "resolution"]) == "done"
    assert frame.loc["Shipped FAQ", "completed_at"] == stamp("2024-03-09T15:00:00Z")
    # Archived elsewhere: dropped at the archive action, unless told archiving means done.
    assert str(frame.loc["Old banner", "resolution"]) == "cancelled"
    assert frame.loc["Old banner", "completed_at"] == stamp("2024-03-10T08:00:00Z")
    assert str(frame.loc["Unarchived card", "status"]) == "pending"
    assert (
        "archived cards: 1 in a done list stored as completed there; 1 outside a done list "
        "stored as completed (cancelled); pass --archived done" in str(summary)
    )


@pytest.mark.parametrize(
    ("archived", "resolution", "tasks"), [("done", "done", 7), ("skip", None, 6)]
)
async def test_trello_archived_option_done_or_skip(engine, archived, resolution, tasks):
    summary = await load_tasks(
        engine, FIXTURES / "trello_actions.json", mapping=TRELLO_MAP, archived=archived,
        progress=False,
    )  # fmt: skip
    frame = (await tasks_frame(engine)).set_index("title")
    assert summary.tasks == tasks
    if resolution is None:
        assert "Old banner" not in frame.index
        assert summary.left_out == {"archived cards outside a done list (--archived skip)": 1}
        assert "left out: archived cards outside a done list (--archived skip): 1" in str(summary)
    else:
        assert str(frame.loc["Old banner", "resolution"]) == resolution


async def test_trello_labels_and_what_is_not_read_are_said(engine):
    summary = await load_tasks(
        engine, FIXTURES / "trello_actions.json", mapping=TRELLO_MAP, progress=False
    )
    async with taskkit.session(engine) as s:
        tagged = (await s.exec(taskkit.select_tasks(label="bug"))).all()
    assert [t.title for t in tagged] == ["Press kit"]
    assert "1 card labels without a name (a colour only) were not read" in str(summary)
    assert {"cards[].due", "actions: 1 commentCard", "checklists"} <= set(summary.unread)


async def test_a_trello_export_with_1000_actions_says_its_history_is_cut(engine, tmp_path):
    board = json.loads((FIXTURES / "trello_actions.json").read_text(encoding="utf-8"))
    card = board["cards"][0]
    filler = {"type": "commentCard", "date": "2024-03-02T00:00:00.000Z",
              "data": {"card": {"id": card["id"]}, "text": "ok"}}  # fmt: skip
    board["actions"] += [filler] * (1000 - len(board["actions"]))
    path = tmp_path / "board.json"
    path.write_text(json.dumps(board), encoding="utf-8")
    summary = await load_tasks(engine, path, mapping=TRELLO_MAP, progress=False)
    assert "history truncated: the export holds Trello's latest 1,000 actions" in str(summary)
    assert "2 of 7 cards have no recorded creation" in str(summary)


async def test_a_real_board_where_archiving_is_finishing(engine):
    """Avidyne's board (MIT, Skiitr/trello-data-reporter-node): lists are product areas and
    cards are finished by archiving them; each completion is its archive action's date."""
    path = REAL / "trello_avidyne_skiitr.json"
    board = json.loads(path.read_text(encoding="utf-8"))
    areas = ImportMapping.build(status={lst["name"]: "pending" for lst in board["lists"]})
    with pytest.raises(LoadError, match="status: 'TAS/TAS-A'"):
        await load_tasks(engine, path, progress=False)
    summary = await load_tasks(engine, path, mapping=areas, archived="done", progress=False)
    archived_at: dict[str, pd.Timestamp] = {}
    for action in sorted(board["actions"], key=lambda a: a["date"]):
        old = action["data"].get("old", {})
        if action["type"] == "updateCard" and old.get("closed") is False:
            archived_at[action["data"]["card"]["id"]] = stamp(action["date"])
        elif action["type"] == "updateCard" and old.get("closed") is True:
            archived_at.pop(action["data"]["card"]["id"], None)
    frame = (await tasks_frame(engine)).set_index("key")
    closed = [c for c in board["cards"] if c["closed"]]
    assert summary.resolutions == {"done": len(closed)}
    for card in closed:
        assert frame.loc[card["shortLink"], "completed_at"] == archived_at[card["id"]]


# --- Jira ------------------------------------------------------------------------------------


def jira_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]  # repeated names: the last


def jira_time(text: str) -> pd.Timestamp:
    return pd.Timestamp(datetime.strptime(text, "%d/%b/%y %I:%M %p").replace(tzinfo=UTC))


async def test_jira_history_in_to_dataframe_agrees_with_the_export(engine):
    path = FIXTURES / "jira_resolutions.csv"
    await load_tasks(engine, path, progress=False)
    history = await history_by_key(engine)
    for row in jira_rows(path):
        created = jira_time(row["Created"])
        changed = jira_time(row["Status Category Changed"])
        category = {"To Do": "pending", "In Progress": "in_progress", "Done": "completed"}
        now = category[row["Status Category"]]
        expected = [(created, None, "pending", "tracker")]
        if now != "pending":
            expected.append((changed, "pending", now, "tracker"))
        assert history[row["Issue key"]] == expected, row["Issue key"]


async def test_jira_dropped_work_dates_kinds_labels_and_long_text(engine):
    path = FIXTURES / "jira_resolutions.csv"
    summary = await load_tasks(engine, path, progress=False)
    frame = (await tasks_frame(engine)).set_index("key")
    rows = {r["Issue key"]: r for r in jira_rows(path)}
    # Cancelled and Aborted with a blank Resolution in the Done category: dropped, not done.
    assert str(frame.loc["DOM-102", "resolution"]) == "cancelled"
    assert str(frame.loc["DOM-103", "resolution"]) == "cancelled"
    assert str(frame.loc["DOM-107", "resolution"]) == "duplicate"
    assert str(frame.loc["DOM-101", "resolution"]) == "done"
    # Completion: when the issue entered Done (Status Category Changed), not Resolved.
    assert frame.loc["DOM-101", "completed_at"] == jira_time(
        rows["DOM-101"]["Status Category Changed"]
    )
    assert frame.loc["DOM-108", "completed_at"] == stamp("2025-11-20T14:00:00Z")
    # In progress: started when its category last changed.
    assert frame.loc["DOM-104", "started_at"] == jira_time("29/Dec/25 10:20 AM")
    # Reopened: Jira keeps the old Resolution and Resolved; they are not read (and said).
    assert str(frame.loc["DOM-106", "status"]) == "pending"
    assert pd.isna(frame.loc["DOM-106", "resolution"])
    assert "1 Resolution values of issues that are open again not read" in str(summary)
    assert list(frame["kind"]) == [r["Issue Type"] for r in rows.values()]
    assert len(frame.loc["DOM-101", "description"]) == 28_889
    async with taskkit.session(engine) as s:
        android = (await s.exec(taskkit.select_tasks(label="Android"))).all()
    assert sorted(t.key for t in android) == ["DOM-101", "DOM-106"]
    assert "read: completed_at: 5 rows from Status Category Changed" in str(summary)
    assert "'Sprint (x2)'" in str(summary)  # a sprint is a time box, not a label: not read


async def test_jira_unknown_done_status_without_resolution_is_refused_then_mapped(engine, tmp_path):
    text = (FIXTURES / "jira_resolutions.csv").read_text(encoding="utf-8-sig")
    path = tmp_path / "jira.csv"
    path.write_text(text.replace("Aborted", "Ready for Release"), encoding="utf-8")
    with pytest.raises(LoadError) as info:
        await load_tasks(engine, path, progress=False)
    assert (
        "resolution: none for status 'Ready for Release' (1 row: 3); map them with "
        "--resolution VALUE=done|wont_do|duplicate|cancelled" in str(info.value)
    )
    mapping = ImportMapping.build(resolution=["Ready for Release=done"])
    await load_tasks(engine, path, mapping=mapping, progress=False)
    frame = (await tasks_frame(engine)).set_index("key")
    assert str(frame.loc["DOM-103", "resolution"]) == "done"


async def test_jira_in_spanish_is_read_with_its_month_names(engine):
    summary = await load_tasks(engine, FIXTURES / "jira_spanish.csv", progress=False)
    assert (summary.format, summary.detected) == ("jira", True)
    frame = (await tasks_frame(engine)).set_index("key")
    assert frame.loc["TIC-319", "created_at"] == stamp("2026-04-11T08:56:00Z")
    assert frame.loc["TIC-320", "created_at"] == stamp("2026-08-04T23:30:00Z")  # ago
    assert str(frame.loc["TIC-319", "resolution"]) == "done"  # Listo
    assert len(frame.loc["TIC-319", "title"]) == 255
    assert frame.loc["TIC-320", "started_at"] == stamp("2026-08-05T09:00:00Z")
    assert list(frame["kind"]) == ["Subtarea", "Tarea", "Historia"]


async def test_real_jira_exports_read_their_sprint_and_category_columns(engine):
    """Two MIT/Apache exports (Maarten-DLVW, ericmedlock): every Done issue completes when its
    category changed (or when Resolved, where the export has no such column)."""
    for name in ("jira_sprints_maarten.csv", "jira_planeso_ericmedlock.csv"):
        await load_tasks(engine, REAL / name, progress=False)
    frame = (await tasks_frame(engine)).set_index("key")
    for name in ("jira_sprints_maarten.csv", "jira_planeso_ericmedlock.csv"):
        for row in jira_rows(REAL / name):
            task = frame.loc[row["Issue key"]]
            done = row["Status Category"] == "Done"
            assert (str(task["status"]) == "completed") == done
            if done:
                when = row.get("Status Category Changed") or row["Resolved"]
                assert task["completed_at"] == jira_time(when), row["Issue key"]
                assert str(task["resolution"]) == "done"
            assert task["kind"] == row["Issue Type"]


# --- Linear, GitHub --------------------------------------------------------------------------


async def test_real_linear_export_started_completed_canceled(engine):
    """semperos/shortcut-repl's Linear export (Apache-2.0): JavaScript dates, Canceled."""
    path = REAL / "linear_semperos.csv"
    await load_tasks(engine, path, progress=False)
    frame = (await tasks_frame(engine)).set_index("key")
    js = "%a %b %d %Y %H:%M:%S GMT%z (GMT)"
    for row in jira_rows(path):
        task = frame.loc[row["ID"]]
        for column, field in (("Started", "started_at"), ("Created", "created_at")):
            if row[column]:
                assert task[field] == pd.Timestamp(datetime.strptime(row[column], js))
        end = row["Completed"] or row["Canceled"]
        if end:
            assert task["completed_at"] == pd.Timestamp(datetime.strptime(end, js))
            assert str(task["resolution"]) == ("cancelled" if row["Canceled"] else "done")
        else:
            assert pd.isna(task["resolution"])


async def test_github_state_reason_closed_at_labels_and_pull_requests(engine, tmp_path):
    issues = [
        {"number": 1, "title": "a", "state": "closed", "state_reason": "not_planned",
         "html_url": "https://github.com/o/r/issues/1", "labels": [{"name": "bug"}],
         "created_at": "2024-01-01T00:00:00Z", "closed_at": "2024-01-03T00:00:00Z"},
        {"number": 2, "title": "b", "state": "closed", "state_reason": "completed",
         "html_url": "https://github.com/o/r/issues/2", "labels": [],
         "created_at": "2024-01-01T00:00:00Z", "closed_at": "2024-01-04T00:00:00Z"},
        {"number": 3, "title": "c", "state": "closed", "state_reason": None,
         "html_url": "https://github.com/o/r/issues/3", "labels": [],
         "created_at": "2024-01-01T00:00:00Z", "closed_at": "2024-01-05T00:00:00Z"},
        {"number": 4, "title": "d", "state": "open", "state_reason": "reopened",
         "html_url": "https://github.com/o/r/issues/4", "labels": [],
         "created_at": "2024-01-01T00:00:00Z", "closed_at": None},
        {"number": 5, "title": "pr", "state": "open", "pull_request": {},
         "html_url": "https://github.com/o/r/pull/5", "created_at": "2024-01-01T00:00:00Z"},
    ]  # fmt: skip
    path = tmp_path / "issues.json"
    path.write_text(json.dumps(issues + issues[:2]), encoding="utf-8")  # a page twice
    summary = await load_tasks(engine, path, progress=False)
    frame = (await tasks_frame(engine)).set_index("key")
    assert [None if pd.isna(r) else str(r) for r in frame["resolution"]] == [
        "wont_do", "done", "done", None,
    ]  # fmt: skip
    assert frame.loc["o/r#1", "completed_at"] == stamp("2024-01-03T00:00:00Z")
    assert summary.left_out == {
        "pull requests": 1, "repeated records (same key, same values)": 2,
    }  # fmt: skip
    assert summary.filled["resolution"] == (
        "1 row given done: closed issues without a state reason (GitHub shows them as closed "
        "as completed)"
    )
    async with taskkit.session(engine) as s:
        assert [t.key for t in (await s.exec(taskkit.select_tasks(label="bug"))).all()] == ["o/r#1"]


async def test_real_github_rest_dump_completes_each_closed_issue_at_closed_at(engine):
    """pocc/pre-commit-hooks' REST dump (Apache-2.0): 32 closed as completed, 14 open."""
    path = REAL / "github_rest_pocc.json"
    issues = json.loads(path.read_text(encoding="utf-8"))
    await load_tasks(engine, path, progress=False)
    frame = (await tasks_frame(engine)).set_index("key")
    for issue in issues:
        task = frame.loc[f"pocc/pre-commit-hooks#{issue['number']}"]
        if issue["state"] == "closed":
            assert task["completed_at"] == stamp(issue["closed_at"])
            assert str(task["resolution"]) == {"completed": "done"}[issue["state_reason"]]
        else:
            assert str(task["status"]) == "pending"


# --- re-imports ------------------------------------------------------------------------------


@pytest.fixture(params=["by key", "whole table"])
def stored_read(request, monkeypatch):
    """A re-import reads what is stored by IN lists of keys, or, for many keys, in one pass
    over the keyed tasks (taskkit._importers.sync.WHOLE_TABLE): both ways here."""
    if request.param == "whole table":
        monkeypatch.setattr("taskkit._importers.sync.WHOLE_TABLE", 0)


@pytest.mark.usefixtures("stored_read")
async def test_a_newer_export_appends_to_the_history_and_keeps_what_was_there(engine, tmp_path):
    first = pd.DataFrame(
        {"key": ["A-1", "A-2"], "title": ["a", "b"], "status": ["pending", "in_progress"],
         "created_at": ["2025-01-01T00:00:00Z"] * 2, "started_at": [None, "2025-01-02T00:00:00Z"],
         "updated_at": ["2025-01-02T00:00:00Z"] * 2}
    )  # fmt: skip
    await load_tasks(engine, first, progress=False)
    before = await history_by_key(engine)
    again = await load_tasks(engine, first, progress=False)  # the same export: nothing new
    assert again.history == 0 and await history_by_key(engine) == before
    newer = first.copy()
    newer["status"] = ["in_progress", "completed"]
    newer["updated_at"] = ["2025-01-05T00:00:00Z", "2025-01-06T00:00:00Z"]
    newer["completed_at"] = [None, "2025-01-06T00:00:00Z"]
    summary = await load_tasks(engine, newer, progress=False)
    after = await history_by_key(engine)
    assert after["A-1"] == [
        *before["A-1"],
        (stamp("2025-01-05T00:00:00Z"), "pending", "in_progress", "export"),
    ]
    assert after["A-2"] == [
        *before["A-2"],
        (stamp("2025-01-06T00:00:00Z"), "in_progress", "completed", "tracker"),
    ]
    assert summary.history == 2 and summary.history_from_export == 1
    # A start, once known, stays the first move into in_progress.
    frame = (await tasks_frame(engine)).set_index("key")
    assert frame.loc["A-2", "started_at"] == stamp("2025-01-02T00:00:00Z")
    assert frame.loc["A-1", "started_at"] == stamp("2025-01-05T00:00:00Z") or pd.isna(
        frame.loc["A-1", "started_at"]
    )


@pytest.mark.usefixtures("stored_read")
async def test_a_newer_trello_export_appends_its_new_moves_only(engine, tmp_path):
    path = FIXTURES / "trello_actions.json"
    await load_tasks(engine, path, mapping=TRELLO_MAP, progress=False)
    before = await history_by_key(engine)
    board = json.loads(path.read_text(encoding="utf-8"))
    landing = next(c for c in board["cards"] if c["name"] == "Landing page")
    landing["idList"] = "L3"
    landing["dateLastActivity"] = "2024-03-21T10:00:00.000Z"
    board["actions"].insert(0, {
        "type": "updateCard", "date": "2024-03-21T10:00:00.000Z",
        "data": {"card": {"id": landing["id"]}, "listBefore": {"id": "L2", "name": "Doing"},
                 "listAfter": {"id": "L3", "name": "Done"}, "old": {"idList": "L2"}},
    })  # fmt: skip
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(board), encoding="utf-8")
    summary = await load_tasks(engine, newer, mapping=TRELLO_MAP, progress=False)
    after = await history_by_key(engine)
    key = landing["shortLink"]
    assert after[key] == [
        *before[key],
        (stamp("2024-03-21T10:00:00Z"), "in_progress", "completed", "tracker"),
    ]
    assert {k: v for k, v in after.items() if k != key} == {
        k: v for k, v in before.items() if k != key
    }
    assert summary.history == 1
