"""Import without guessing (issue 23): no invented values, no silent merges, timestamps every
later read can hold, skipped records counted, every hint followed to right data, localized
Jira exports, and one line (CLI) or a LoadError (API) for hostile shapes. Each test failed
before the change it covers."""

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlmodel import select

import taskkit
from taskkit import ImportMapping, LoadError, Task, cli, load_tasks
from tests.helpers import snapshot

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "imports"


async def tasks_frame(engine) -> pd.DataFrame:
    return await taskkit.to_dataframe(engine, select(Task).order_by(Task.id))


def write_json(tmp_path: Path, document) -> Path:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def board(**changes):
    document = {
        "lists": [{"id": "L1", "name": "To Do"}, {"id": "L2", "name": "Done"}],
        "members": [{"id": "M1", "fullName": "Ann Lee"}],
        "cards": [
            {"id": "65f1a0000000000000000001", "name": "a", "idList": "L1", "idMembers": ["M1"]},
            {"id": "65f1a0000000000000000002", "name": "b", "idList": "L2", "idMembers": []},
        ],
    }
    document.update(changes)
    return document


# --- distinct tasks merged ---------------------------------------------------------------------


async def test_rows_sharing_an_excel_rounded_id_but_not_a_name_are_refused_naming_excel(engine):
    before = await snapshot(engine)
    with pytest.raises(LoadError) as info:
        await load_tasks(engine, FIXTURES / "asana_excel.csv", progress=False)
    message = str(info.value)
    assert "key: '7.18656E+14' names rows that differ in title, status, created_at" in message
    assert "Excel turned long ids into scientific notation" in message
    assert "column set to Text" in message
    assert await snapshot(engine) == before


async def test_rows_per_assignee_that_agree_are_still_one_task(engine):
    summary = await load_tasks(engine, FIXTURES / "asana.csv", progress=False)
    assert summary.tasks == 3 and "1 row merged into the task with the same key" in str(summary)


# --- values invented -------------------------------------------------------------------------


async def test_a_blank_status_is_refused_then_mapped_by_the_option_it_names(engine):
    frame = pd.DataFrame({"title": ["a", "b"], "status": ["completed", None]})
    with pytest.raises(LoadError) as info:
        await load_tasks(engine, frame, progress=False)
    assert "status: blank (1 row: 2); give them a status, or map blank cells with --status " \
        "'=pending'" in str(info.value)  # fmt: skip
    summary = await load_tasks(
        engine, frame, mapping=ImportMapping.build(status=["=pending"]), progress=False
    )
    assert [str(s) for s in (await tasks_frame(engine))["status"]] == ["completed", "pending"]
    assert summary.filled["status"] == "1 row given pending (--status '=pending')"


def test_the_cli_maps_blank_statuses_with_an_empty_value(tmp_path):
    path = tmp_path / "tasks.csv"
    path.write_text("title,status\na,\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    refused = CliRunner().invoke(cli, ["import", str(path), "--db", url])
    assert refused.exit_code == 1 and "status: blank (1 row: 1)" in refused.output
    done = CliRunner().invoke(cli, ["import", str(path), "--db", url, "--status", "=pending"])
    assert done.exit_code == 0, done.output


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"cards": [{"id": "65f1a0000000000000000001", "name": "a", "idList": "L9"}]},
         "status: list 'L9' is not among the board's lists (1 row: 1)"),
        ({"cards": [{"id": "65f1a0000000000000000001", "name": "a", "idList": "L1",
                     "idMembers": ["M999"]}]},
         "workers: member 'M999' is not among the board's members (1 row: 1)"),
        ({"cards": [{"id": "65f1a0000000000000000001", "name": "a", "idList": "L1",
                     "idMembers": "M1"}]},
         "workers: idMembers is a string ('M1'), expected a list of member ids (1 row: 1)"),
    ],
)  # fmt: skip
async def test_trello_cards_naming_what_the_board_lacks_are_refused(
    engine, tmp_path, changes, expected
):
    before = await snapshot(engine)
    with pytest.raises(LoadError) as info:
        await load_tasks(engine, write_json(tmp_path, board(**changes)), progress=False)
    assert expected in str(info.value)
    assert await snapshot(engine) == before


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
async def test_json_nan_and_infinity_are_refused_not_stored_as_text(engine, tmp_path, constant):
    path = tmp_path / "tasks.json"
    path.write_text(f'[{{"title": {constant}}}, {{"title": "ok"}}]', encoding="utf-8")
    with pytest.raises(LoadError, match=r"title: .* \(JSON NaN/Infinity: not a value\) \(1 row"):
        await load_tasks(engine, path, progress=False)
    trello = board()
    trello["cards"][0]["name"] = float(constant.replace("Infinity", "inf"))
    with pytest.raises(LoadError, match=r"title: .*is a float \(NaN/Infinity\), not text"):
        await load_tasks(engine, write_json(tmp_path, trello), progress=False)


async def test_a_closed_issue_without_closed_at_says_what_its_completion_was_given(
    engine, tmp_path
):
    issues = [
        {"number": 1, "title": "a", "state": "CLOSED", "url": "https://github.com/o/r/issues/1",
         "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-09T00:00:00Z"},
        {"number": 2, "title": "b", "state": "CLOSED", "url": "https://github.com/o/r/issues/2",
         "createdAt": "2024-01-02T00:00:00Z"},
    ]  # fmt: skip
    summary = await load_tasks(engine, write_json(tmp_path, issues), progress=False)
    frame = (await tasks_frame(engine)).set_index("key")
    assert frame.loc["o/r#1", "completed_at"] == pd.Timestamp("2024-01-09T00:00:00Z")
    assert frame.loc["o/r#2", "completed_at"] == pd.Timestamp("2024-01-02T00:00:00Z")
    assert summary.filled["completed_at"] == (
        "1 row given updated_at; 1 row given created_at (the file gives no updated_at either)"
    )


async def test_filled_in_counts_leave_out_the_rows_skipped(engine):
    frame = pd.DataFrame({"title": ["a", "", "c"], "priority": [None, None, "high"]})
    summary = await load_tasks(engine, frame, on_error="skip", progress=False)
    assert summary.tasks == 2 and summary.skipped_rows == [2]
    assert summary.filled["priority"] == "1 row given the default (medium)"
    assert summary.filled["created_at"] == "2 rows given the load time"


# --- timestamps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["0000-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00",
     "0999-12-31T23:59:59Z", "9000-01-01T00:00:00Z"],
)  # fmt: skip
async def test_timestamps_outside_what_every_reader_holds_are_refused_naming_the_row(engine, value):
    frame = pd.DataFrame({"title": ["ok", "far"], "created_at": ["2024-01-01T00:00:00Z", value]})
    before = await snapshot(engine)
    with pytest.raises(LoadError) as info:
        await load_tasks(engine, frame, progress=False)
    assert f"created_at: {value!r} is outside the years 1000 to 8999 in UTC" in str(info.value)
    assert "(1 row: 2)" in str(info.value)
    assert await snapshot(engine) == before


def test_the_cli_refuses_a_far_timestamp_in_one_line(tmp_path):
    path = tmp_path / "tasks.csv"
    path.write_text("title,created_at\nfar,9999-12-31T23:59:59-05:00\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["import", str(path), "--db", f"sqlite:///{tmp_path / 'x.db'}"]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "is outside the years 1000 to 8999 in UTC" in result.output


async def test_the_edges_of_the_range_are_stored_and_read_back(engine):
    frame = pd.DataFrame(
        {"title": ["first", "last"], "created_at": ["1000-01-01T00:00:00Z", "8999-12-31T00:00:00Z"]}
    )
    await load_tasks(engine, frame, progress=False)
    async with taskkit.session(engine) as s:
        stored = (await s.exec(select(Task).order_by(Task.id))).all()
    assert [t.created_at.year for t in stored] == [1000, 8999]


# --- skipped records counted, fields not read listed -----------------------------------------


async def test_pull_requests_and_repeated_records_are_counted_fields_not_read_listed(
    engine, tmp_path
):
    issue = {
        "number": 1,
        "title": "a",
        "state": "open",
        "milestone": None,
        "reactions": {},
        "html_url": "https://github.com/o/r/issues/1",
        "created_at": "2024-01-01T00:00:00Z",
    }
    pull = {**issue, "number": 2, "html_url": "https://github.com/o/r/pull/2", "pull_request": {}}
    path = write_json(tmp_path, [issue, pull, issue, pull])  # a page of a dump repeated
    summary = await load_tasks(engine, path, progress=False)
    assert summary.tasks == 1
    assert summary.left_out == {
        "pull requests": 2, "repeated records (same key, same values)": 1,
    }  # fmt: skip
    text = str(summary)
    assert "left out: pull requests: 2" in text
    assert "left out: repeated records (same key, same values): 1" in text
    assert "not read (2 fields): milestone, reactions" in text


async def test_rows_sharing_a_key_that_differ_are_refused_not_merged(engine, tmp_path):
    issue = {
        "number": 1,
        "title": "a",
        "state": "open",
        "html_url": "https://github.com/o/r/issues/1",
    }
    path = write_json(tmp_path, [issue, {**issue, "title": "renamed"}])
    with pytest.raises(LoadError, match="key: 'o/r#1' names rows that differ in title"):
        await load_tasks(engine, path, progress=False)


# --- hints followed --------------------------------------------------------------------------


async def test_an_asana_api_csv_keeps_its_completed_tasks_completed(engine, tmp_path):
    """The refusal once suggested --open-completed drop, which stored completed tasks as
    pending. Asana's API fields are read: completed tasks stay completed."""
    path = tmp_path / "asana.csv"
    path.write_text(
        "gid,name,completed,completed_at,created_at,modified_at,notes,tags,assignee_name\n"
        "1,a,true,2026-05-20T16:08:41.042Z,2026-02-24T15:49:06.342Z,2026-05-21T00:00:00Z,,"
        "email; credentialing,Ann\n"
        "2,b,true,,2026-02-24T15:49:06.342Z,2026-05-22T00:00:00Z,,,\n"
        "3,c,false,,2026-02-24T15:49:06.342Z,2026-02-25T00:00:00Z,,,\n",
        encoding="utf-8",
    )
    summary = await load_tasks(engine, path, progress=False)
    frame = (await tasks_frame(engine)).set_index("key")
    assert [str(s) for s in frame["status"]] == ["completed", "completed", "pending"]
    assert frame.loc["2", "completed_at"] == pd.Timestamp("2026-05-22T00:00:00Z")
    assert summary.filled["completed_at"] == "1 row given updated_at"
    async with taskkit.session(engine) as s:
        assert len((await s.exec(taskkit.select_tasks(label="credentialing"))).all()) == 1


async def test_open_completed_drop_keeps_the_status_and_drops_a_stated_resolution(engine):
    frame = pd.DataFrame({"title": ["reopened"], "status": ["pending"], "resolution": ["done"]})
    with pytest.raises(LoadError) as info:
        await load_tasks(engine, frame, progress=False)
    assert "resolution: is set, but the status is not 'completed' (1 row: 1); pass " \
        "--open-completed drop" in str(info.value)  # fmt: skip
    summary = await load_tasks(engine, frame, open_completed="drop", progress=False)
    stored = (await tasks_frame(engine)).iloc[0]
    assert str(stored["status"]) == "pending" and pd.isna(stored["resolution"])
    assert "1 resolutions dropped: their status is not completed" in str(summary)


async def test_map_column_title_on_an_unknown_csv_gives_right_data(engine, tmp_path):
    path = tmp_path / "own.csv"
    path.write_text("Name,State\nWrite docs,Done\n", encoding="utf-8")
    with pytest.raises(LoadError, match="map one with --map COLUMN=title"):
        await load_tasks(engine, path, progress=False)
    mapping = ImportMapping.build(columns=["Name=title", "State=status"], status=["Done=completed"])
    summary = await load_tasks(engine, path, mapping=mapping, progress=False)
    stored = (await tasks_frame(engine)).iloc[0]
    assert (stored["title"], str(stored["status"]), str(stored["resolution"])) == (
        "Write docs", "completed", "done",
    )  # fmt: skip
    assert summary.filled["resolution"] == "1 row given done (the file has no resolution column)"


async def test_a_gh_list_without_state_is_named_and_exporting_the_state_loads_it(engine, tmp_path):
    issues = [{"number": 1, "title": "a", "createdAt": "2024-01-01T00:00:00Z",
               "updatedAt": "2024-01-02T00:00:00Z"}]  # fmt: skip
    with pytest.raises(LoadError, match=r"looks like a GitHub issue list .* without the issues' "):
        await load_tasks(engine, write_json(tmp_path, issues), progress=False)
    issues[0]["state"] = "CLOSED"
    await load_tasks(engine, write_json(tmp_path, issues), progress=False)
    assert [str(s) for s in (await tasks_frame(engine))["status"]] == ["completed"]


async def test_a_hint_is_given_only_with_the_rows_it_is_for(engine):
    """--open-completed drop cannot fix a completion before the creation: it is not offered."""
    frame = pd.DataFrame(
        {"title": ["a"], "status": ["completed"], "created_at": ["2025-01-02T00:00:00Z"],
         "completed_at": ["2025-01-01T00:00:00Z"]}
    )  # fmt: skip
    with pytest.raises(LoadError) as info:
        await load_tasks(engine, frame, progress=False)
    assert "completed_at: is before created_at (1 row: 1)" in str(info.value)
    assert "--open-completed" not in str(info.value)


async def test_a_repeated_column_is_mapped_by_its_place_as_the_refusal_says(engine, tmp_path):
    path = tmp_path / "two_titles.csv"
    path.write_text("title,title\nold name,new name\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"--map 'title.1=title' for the second"):
        await load_tasks(engine, path, progress=False)
    mapping = ImportMapping.build(columns=["title.1=title"])
    await load_tasks(engine, path, mapping=mapping, progress=False)
    assert list((await tasks_frame(engine))["title"]) == ["new name"]


async def test_ids_already_used_load_once_the_id_column_is_left_out(engine):
    await load_tasks(engine, pd.DataFrame({"id": [1], "title": ["first"]}), progress=False)
    second = pd.DataFrame({"id": [1], "title": ["second"]})
    with pytest.raises(LoadError, match="Leave the id column out to have ids assigned"):
        await load_tasks(engine, second, progress=False)
    await load_tasks(engine, second.drop(columns=["id"]), progress=False)
    assert list((await tasks_frame(engine))["title"]) == ["first", "second"]


async def test_deleting_what_a_keyless_import_added_lets_it_import_again(engine):
    frame = pd.DataFrame({"title": ["a"], "created_at": ["2025-01-01T00:00:00Z"]})
    await load_tasks(engine, frame, progress=False)
    with pytest.raises(LoadError, match="delete the tasks the first import added"):
        await load_tasks(engine, frame, progress=False)
    async with taskkit.session(engine) as s:
        await taskkit.delete_task(s, 1)
    assert (await load_tasks(engine, frame, progress=False)).tasks == 1
    assert len(await tasks_frame(engine)) == 1


# --- localized Jira --------------------------------------------------------------------------


def localized(tmp_path: Path, header: str, row: str) -> Path:
    path = tmp_path / "jira.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    return path


async def test_a_jira_export_in_portuguese_is_detected(engine, tmp_path):
    path = localized(
        tmp_path,
        "Resumo,Chave da item,Tipo de item,Status,Resolução,Criado,Atualizado(a),Resolvido",
        "Tela de login,APP-1,Bug,Concluído,Itens concluídos,04/set/25 9:05 AM,"
        "05/set/25 10:00 AM,05/set/25 10:00 AM",
    )
    mapping = ImportMapping.build(status=["Concluído=completed"])
    summary = await load_tasks(engine, path, mapping=mapping, progress=False)
    assert (summary.format, summary.detected) == ("jira", True)
    stored = (await tasks_frame(engine)).iloc[0]
    assert stored["created_at"] == pd.Timestamp("2025-09-04T09:05:00Z")
    assert (str(stored["resolution"]), stored["kind"]) == ("done", "Bug")


@pytest.mark.parametrize(
    ("language", "header", "row"),
    [
        ("German", "Zusammenfassung,Vorgangsschlüssel,Status,Erstellt",
         "Anmeldung,APP-1,Erledigt,17/Mär/22 11:02 AM"),
        ("French", "Résumé,Clé de ticket,État,Création",
         "Connexion,APP-1,Terminé,17/févr./22 11:02"),
        ("Italian", "Riepilogo,Chiave,Stato,Creato", "Accesso,APP-1,Fatto,17/mag/22 11:02 AM"),
    ],
)  # fmt: skip
async def test_a_jira_export_in_an_unread_language_is_named_and_its_hint_works(
    engine, tmp_path, language, header, row
):
    path = localized(tmp_path, header, row)
    with pytest.raises(LoadError) as info:
        await load_tasks(engine, path, progress=False)
    assert f"this looks like a Jira export in {language}" in str(info.value)
    assert "taskkit reads Jira's column names in English, Spanish and Portuguese" in str(info.value)
    names = header.split(",")
    mapping = ImportMapping.build(
        columns=[f"{names[0]}=title", f"{names[1]}=key", f"{names[2]}=status",
                 f"{names[3]}=created_at"],
        status=[f"{row.split(',')[2]}=completed"],
        resolution=[f"{row.split(',')[2]}=done"],
    )  # fmt: skip
    await load_tasks(engine, path, format="jira", mapping=mapping, progress=False)
    stored = (await tasks_frame(engine)).iloc[0]
    assert stored["created_at"].year == 2022 and stored["created_at"].day == 17
    assert stored["created_at"].month == {"German": 3, "French": 2, "Italian": 5}[language]


async def test_a_spanish_jira_export_is_never_read_as_taskkits_own_format(engine):
    summary = await load_tasks(engine, FIXTURES / "jira_spanish.csv", progress=False)
    assert summary.format == "jira"
    assert [str(s) for s in (await tasks_frame(engine))["status"]] == [
        "completed", "in_progress", "pending",
    ]  # fmt: skip


# --- one line, never a traceback -------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (board(lists=[{"name": "To Do"}]),
         "a Trello export's 'lists': item 1 (named 'To Do') has no 'id'"),
        (board(lists=None), "a Trello export's 'lists' is a list of objects; got null"),
        (board(cards=["a card"]),
         "a Trello export's 'cards': item 1 is a string ('a card'), expected an object"),
        ({"idList": "L1", "name": "one card", "idBoard": "B"},
         "this is one Trello card's JSON export, not a board's"),
    ],
)  # fmt: skip
def test_hostile_trello_shapes_are_one_line(tmp_path, document, expected):
    path = write_json(tmp_path, document)
    result = CliRunner().invoke(
        cli, ["import", str(path), "--db", f"sqlite:///{tmp_path / 'x.db'}"]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert expected in result.output


async def test_github_assignees_and_labels_as_plain_strings_are_names_or_refused(engine, tmp_path):
    issue = {"number": 1, "title": "a", "state": "open", "url": "https://github.com/o/r/issues/1",
             "assignees": ["octocat"], "labels": ["bug"]}  # fmt: skip
    await load_tasks(engine, write_json(tmp_path, [issue]), progress=False)
    async with taskkit.session(engine) as s:
        task = (await s.exec(taskkit.select_tasks(label="bug", with_workers=True))).one()
    assert [w.name for w in task.workers] == ["octocat"]
    flat = {**issue, "number": 2, "url": "https://github.com/o/r/issues/2", "assignees": "octocat"}
    with pytest.raises(LoadError, match=r"workers: is str \(\"octocat\"\), expected a list"):
        await load_tasks(engine, write_json(tmp_path, [flat]), progress=False)


def test_a_github_csv_with_its_own_column_names_and_a_map_is_read(tmp_path):
    path = tmp_path / "issues.csv"
    path.write_text(
        "issue_title,url,state\nFix it,https://github.com/o/r/issues/9,open\n", encoding="utf-8"
    )
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = CliRunner().invoke(
        cli, ["import", str(path), "--db", url, "--from", "github", "--map", "issue_title=title"]
    )
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert "loaded 1 task (" in result.output
