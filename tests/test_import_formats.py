"""Tracker exports as they are: detection, each format's semantics, mappings, grouped
refusals, dates and time zones, on every backend."""

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlmodel import select

import taskkit
from taskkit import ImportMapping, InvalidArgumentError, LoadError, Task, cli, load_tasks
from tests.helpers import snapshot

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "imports"
JIRA_MAP = ImportMapping.build(status=["Analyzing=pending"])


async def frame_of(engine) -> pd.DataFrame:
    return await taskkit.to_dataframe(engine, select(Task).order_by(Task.id))


async def workers_of(engine) -> dict[str, list[str]]:
    out = {}
    async with taskkit.session(engine) as s:
        for task in (await s.exec(taskkit.select_tasks(order_by="id", with_workers=True))).all():
            out[task.key] = sorted(w.name for w in task.workers)
    return out


@pytest.mark.parametrize(
    ("name", "format_name"),
    [
        ("jira_short.csv", "jira"),
        ("github_gh.json", "github"),
        ("github_api.json", "github"),
        ("github_issues.csv", "github"),
        ("asana.csv", "asana"),
        ("linear.csv", "linear"),
        ("plane.csv", "plane"),
        ("plane_oss.csv", "plane"),
    ],
)
async def test_each_export_is_detected_and_loads_as_is(engine, name, format_name):
    summary = await load_tasks(engine, FIXTURES / name, progress=False)
    assert (summary.format, summary.detected) == (format_name, True)
    assert str(summary).startswith(f"format: {format_name} (detected)")


async def test_jira_cloud_uses_status_category_and_refuses_unknown_states_grouped(engine):
    path = FIXTURES / "jira_cloud.csv"
    before = await snapshot(engine)
    with pytest.raises(LoadError) as info:
        await load_tasks(engine, path, progress=False)
    assert str(info.value).endswith(
        "  status: 'Analyzing' (1 row: 5); map them with --status "
        "VALUE=pending|in_progress|completed"
    )
    assert await snapshot(engine) == before
    summary = await load_tasks(engine, path, mapping=JIRA_MAP, progress=False)
    assert summary.tasks == 5
    assert "'Labels (x3)'" not in str(summary) and "'Watchers (x2)'" in str(summary)
    frame = await frame_of(engine)
    # Done -> completed, In Review (category In Progress) -> in_progress, Blocked (category
    # In Progress) -> in_progress, Analyzing mapped by the user.
    assert list(frame["status"]) == [
        "completed",
        "in_progress",
        "pending",
        "in_progress",
        "pending",
    ]
    assert list(frame["priority"]) == ["high", "high", "medium", "low", "low"]
    assert frame.loc[0, "created_at"] == pd.Timestamp("2022-02-17T11:02:00Z")
    assert frame.loc[0, "completed_at"] == pd.Timestamp("2022-02-20T16:15:00Z")
    assert frame.loc[0, "description"].count("\n") == 3
    assert (await workers_of(engine))["HIVE-101"] == ["Ada Berg"]


async def test_jira_local_times_are_read_in_the_zone_given(engine):
    summary = await load_tasks(
        engine, FIXTURES / "jira_cloud.csv", mapping=JIRA_MAP, tz="Europe/Berlin", progress=False
    )
    frame = await frame_of(engine)
    assert frame.loc[0, "created_at"] == pd.Timestamp("2022-02-17T10:02:00Z")
    assert "read as Europe/Berlin" in str(summary)


async def test_github_keys_keep_issue_numbers_of_different_repositories_apart(engine):
    await load_tasks(engine, FIXTURES / "github_gh.json", progress=False)
    frame = await frame_of(engine)
    assert list(frame["key"]) == ["acme/widgets#1404", "acme/widgets#1405", "acme/gadgets#1404"]
    assert list(frame["status"]) == ["completed", "pending", "pending"]
    assert frame.loc[2, "created_at"] == pd.Timestamp("2024-03-03T11:00:00Z")  # +01:00
    assert (await workers_of(engine))["acme/widgets#1405"] == ["bo-dev", "octo-ann"]


async def test_github_api_json_leaves_pull_requests_out(engine):
    summary = await load_tasks(engine, FIXTURES / "github_api.json", progress=False)
    assert summary.tasks == 1
    assert list((await frame_of(engine))["key"]) == ["acme/cli#7"]


async def test_asana_rows_per_assignee_become_one_task_completion_from_the_date(engine):
    summary = await load_tasks(engine, FIXTURES / "asana.csv", progress=False)
    assert summary.tasks == 3 and "1 row merged into the task with the same key" in str(summary)
    frame = await frame_of(engine)
    assert list(frame["key"]) == ["1206543210987654", "1206543210987655", "1206543210987656"]
    assert list(frame["status"]) == ["completed", "pending", "pending"]
    assert (await workers_of(engine))["1206543210987655"] == ["Ada Berg", "Sam Silva"]
    assert "filled in: priority: 3 rows given the default (medium)" in str(summary)


async def test_plane_csv_as_linears_importer_reads_it_json_lists_and_cancelled(engine):
    summary = await load_tasks(engine, FIXTURES / "plane.csv", progress=False)
    frame = await frame_of(engine)
    assert frame.loc[0, "created_at"] == pd.Timestamp("2025-04-20T10:17:06Z")
    assert list(frame["priority"]) == ["high", "medium", "low", "medium"]
    assert list(frame["status"]) == ["in_progress", "completed", "pending", "completed"]
    assert frame["project_id"].nunique() == 1
    assert (await workers_of(engine))["WEB-12"] == ["Ann Lee", "Bo Chen"]
    assert "12-hour clock" not in str(summary)


async def test_planes_own_exporter_comma_lists_and_its_12_hour_clock_said(engine):
    """Plane's exporter joins lists with ", " in CSV and writes times with %I (no AM/PM)."""
    summary = await load_tasks(engine, FIXTURES / "plane_oss.csv", progress=False)
    frame = await frame_of(engine)
    assert frame.loc[0, "created_at"] == pd.Timestamp("2025-04-20T10:17:06Z")
    assert list(frame["key"]) == ["WEB-12", "WEB-13", "WEB-14"]
    assert (await workers_of(engine))["WEB-12"] == ["Ann Lee", "Bo Chen"]
    assert "note: Plane writes times of day on a 12-hour clock without AM/PM" in str(summary)


async def test_linear_statuses_word_priorities_and_formula_quotes(engine):
    summary = await load_tasks(engine, FIXTURES / "linear.csv", progress=False)
    # "No priority" is an empty cell: its default is said, not silently given.
    assert summary.filled["priority"] == "1 row given the default (medium)"
    frame = await frame_of(engine)
    assert list(frame["key"]) == ["ENG-21", "ENG-22", "ENG-23", "ENG-24"]
    assert list(frame["status"]) == ["in_progress", "pending", "completed", "completed"]
    assert list(frame["priority"]) == ["high", "medium", "high", "low"]
    assert frame.loc[3, "title"] == "=SUM(A1) shows as text in the report"
    assert frame.loc[0, "description"] == "Move every consumer.\nThen drop the old one."


async def test_trello_list_names_are_statuses_unknown_lists_must_be_mapped(engine):
    path = FIXTURES / "trello.json"
    with pytest.raises(LoadError, match=r"status: 'Waiting on legal' \(1 row: 3\); map them"):
        await load_tasks(engine, path, progress=False)
    mapping = ImportMapping.build(status={"Waiting on legal": "pending"})
    summary = await load_tasks(engine, path, mapping=mapping, progress=False)
    assert summary.format == "trello" and summary.tasks == 3
    frame = await frame_of(engine)
    assert list(frame["status"]) == ["completed", "in_progress", "pending"]
    assert frame.loc[0, "created_at"] == pd.Timestamp(int("65f1a000", 16), unit="s", tz="UTC")
    assert (await workers_of(engine))["aB3dE5fG"] == ["Ann Lee", "Bo Chen"]


async def test_a_named_format_overrides_detection(engine, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Key,Summary,Status\nA-1,x,Open\n", encoding="utf-8")
    summary = await load_tasks(engine, path, format="jira", progress=False)
    assert (summary.format, summary.detected) == ("jira", False)
    with pytest.raises(
        InvalidArgumentError, match="format must be one of None, trello, github, jira"
    ):
        await load_tasks(engine, path, format="redmine", progress=False)


async def test_column_mapping_and_value_mappings_on_any_csv(engine, tmp_path):
    path = tmp_path / "own.csv"
    path.write_text(
        "Issue Summary,State,Urgency,People\n"
        "a,Blocked,Blocker,Ann/Bo\nb,Shipped,Low,\nc,Blocked,Blocker,Bo\n",
        encoding="utf-8",
    )
    mapping = ImportMapping.build(
        columns=["Issue Summary=title", "State=status", "Urgency=priority", "People=workers"],
        status=["Blocked=in_progress", "shipped=completed"],
        priority=["Blocker=high"],
        separator="/",
    )
    await load_tasks(engine, path, mapping=mapping, progress=False)
    frame = await frame_of(engine)
    assert list(frame["status"]) == ["in_progress", "completed", "in_progress"]
    assert list(frame["priority"]) == ["high", "low", "high"]
    async with taskkit.session(engine) as s:
        first = await taskkit.get_task(s, int(frame.loc[0, "id"]), with_workers=True)
        assert sorted(w.name for w in first.workers) == ["Ann", "Bo"]


async def test_a_toml_mapping_file_holds_the_same(engine, tmp_path):
    mapping_file = tmp_path / "jira.toml"
    mapping_file.write_text(
        'format = "jira"\n[status]\nAnalyzing = "pending"\n[priority]\nMinor = "medium"\n',
        encoding="utf-8",
    )
    mapping = ImportMapping.build(file=mapping_file)
    await load_tasks(engine, FIXTURES / "jira_cloud.csv", mapping=mapping, progress=False)
    assert list((await frame_of(engine))["priority"])[-1] == "medium"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"columns": ["Summary=titel"]}, "'titel' is not a taskkit field; allowed: key, id"),
        ({"status": ["Blocked=stuck"]}, "'stuck' is not a status; allowed: pending"),
        ({"priority": ["Blocker"]}, "expected SOURCE=TARGET"),
    ],
)
def test_bad_mappings_are_refused_naming_what_is_allowed(kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        ImportMapping.build(**kwargs)


async def test_many_unmapped_values_are_grouped_with_counts_and_first_rows(engine):
    states = ["Blocked"] * 6 + ["Analyzing", "verifyy", "pending"]
    frame = pd.DataFrame({"title": [f"t{i}" for i in range(9)], "status": states})
    with pytest.raises(LoadError) as info:
        await load_tasks(engine, frame, progress=False)
    assert (
        "status: 'Blocked' (6 rows: 1, 2, 3, 4, 5, ...), 'Analyzing' (1 row: 7), "
        "'verifyy' (1 row: 8); map them with --status VALUE=pending|in_progress|completed"
    ) in str(info.value)


@pytest.mark.parametrize(
    ("values", "order", "expected"),
    [
        (["13-09-2024 10:00", "06-09-2024 13:55"], None, "2024-09-06T13:55:00Z"),
        (["06-09-2024 13:55"], "dayfirst", "2024-09-06T13:55:00Z"),
        (["06-09-2024 13:55"], "monthfirst", "2024-06-09T13:55:00Z"),
        (["4/17/16", "4/5/16"], None, "2016-04-05T00:00:00Z"),
        (["2025-01-01T00:00:00+02:00", "2025-01-01T00:00:00Z"], None, "2025-01-01T00:00:00Z"),
    ],
)
async def test_dates_in_the_forms_exports_use(engine, values, order, expected):
    frame = pd.DataFrame({"title": [f"t{i}" for i in range(len(values))], "created_at": values})
    await load_tasks(engine, frame, date_order=order, progress=False)
    stored = await frame_of(engine)
    assert stored.loc[len(values) - 1, "created_at"] == pd.Timestamp(expected)


async def test_ambiguous_day_month_is_refused_unless_told(engine):
    frame = pd.DataFrame({"title": ["a", "b"], "created_at": ["06-09-2024 13:55", "05-09-2024"]})
    with pytest.raises(LoadError) as info:
        await load_tasks(engine, frame, progress=False)
    assert "'06-09-2024 13:55' could be day-month or month-day (1 row: 1)" in str(info.value)
    assert "pass --dayfirst or --monthfirst" in str(info.value)


async def test_titles_up_to_512_import_intact_longer_ones_are_refused_or_cut_when_asked(engine):
    # Jira allows 255 characters, GitHub 256: both fit; beyond 512 no tracker goes.
    intact = pd.DataFrame({"title": ["x" * 256, "y" * 512], "description": ["d" * 1_048_576, ""]})
    await load_tasks(engine, intact, progress=False)
    stored = await frame_of(engine)
    assert list(stored["title"].str.len()) == [256, 512]
    assert len(stored.loc[0, "description"]) == 1_048_576
    frame = pd.DataFrame({"title": ["x" * 513, "short"]})
    with pytest.raises(LoadError, match=r"longer than 512 characters .* pass --long-titles"):
        await load_tasks(engine, frame, progress=False)
    summary = await load_tasks(engine, frame, long_titles="truncate", progress=False)
    assert "1 titles longer than 512 characters were cut" in str(summary)
    assert len((await frame_of(engine)).loc[2, "title"]) == 512


async def test_a_description_over_one_mebibyte_is_refused_naming_the_limit(engine):
    frame = pd.DataFrame({"title": ["big"], "description": ["d" * 1_048_577]})
    with pytest.raises(LoadError, match=r"description: String should have at most 1048576"):
        await load_tasks(engine, frame, progress=False)


async def test_a_completed_date_on_an_open_task_is_refused_or_dropped_when_asked(engine):
    frame = pd.DataFrame(
        {"key": ["R-1"], "title": ["reopened"], "status": ["pending"],
         "completed_at": ["2025-01-02T00:00:00Z"], "created_at": ["2025-01-01T00:00:00Z"]}
    )  # fmt: skip
    with pytest.raises(LoadError, match="pass --open-completed drop"):
        await load_tasks(engine, frame, progress=False)
    summary = await load_tasks(engine, frame, open_completed="drop", progress=False)
    assert "1 completed dates dropped" in str(summary)
    assert pd.isna((await frame_of(engine)).loc[0, "completed_at"])


def test_cli_imports_a_jira_export_with_options_and_says_what_it_did(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    path = str(FIXTURES / "jira_cloud.csv")
    refused = CliRunner().invoke(cli, ["import", path, "--db", url])
    assert refused.exit_code == 1 and "'Analyzing' (1 row: 5)" in refused.output
    assert "Traceback" not in refused.output
    skipped = CliRunner().invoke(cli, ["import", path, "--on-error", "skip", "--db", url])
    assert skipped.exit_code == 3, skipped.output
    assert "skipped 1 bad row:" in skipped.output
    again = CliRunner().invoke(
        cli, ["import", path, "--from", "jira", "--status", "Analyzing=pending", "--db", url]
    )
    assert again.exit_code == 0, again.output
    assert "format: jira (as asked)" in again.output
    assert "by key: 1 new, 0 updated, 4 unchanged" in again.output


async def test_asana_priorities_as_asana_spells_them(engine, tmp_path):
    path = tmp_path / "asana.csv"
    path.write_text(
        "Task ID,Created At,Completed At,Last Modified,Name,Assignee,Priority\n"
        "1,2024-01-15,,2024-01-15,a,,High\n2,2024-01-15,,2024-01-15,b,,Med\n"
        "3,2024-01-15,,2024-01-15,c,,Low\n",
        encoding="utf-8",
    )
    await load_tasks(engine, path, progress=False)
    assert list((await frame_of(engine))["priority"]) == ["high", "medium", "low"]
