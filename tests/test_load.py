"""Loading task data from CSV files and DataFrames: validation, names, atomicity."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from click.testing import CliRunner
from sqlmodel import select

import taskkit
import taskkit._bulk as bulk
from taskkit import InvalidArgumentError, LoadError, Task, TaskCreate, cli, load_tasks
from taskkit._importers import columns
from taskkit._importers.rows import COLUMNS
from taskkit._importers.value_checks import ADAPTERS, TEXT_RULES, Checker, plain_text_ok
from taskkit._models import InputModel
from tests.helpers import snapshot

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "example_tasks.csv"


@pytest.fixture(params=["engine-connection", "adbc-child"])
def write_path(request, monkeypatch):
    if request.param == "adbc-child":
        monkeypatch.setattr(bulk, "SQLITE_CHILD_MIN_ROWS", 0)
    return request.param


def write_csv(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def tasks_of(engine) -> list[Task]:
    async with taskkit.session(engine) as s:
        return list((await s.exec(select(Task).order_by(Task.id))).all())


def test_taskcreate_has_no_cross_field_rules_but_the_resolution_one_load_checks_itself():
    """load checks each field's distinct values once: the same as checking every row only
    while TaskCreate's one cross-field rule (a resolution only with status completed, done by
    default) is checked by the import itself (tests of resolutions below)."""
    decorators = TaskCreate.__pydantic_decorators__
    # InputModel's one model validator only names unknown keys (load refuses unknown columns).
    assert set(decorators.model_validators) - set(
        InputModel.__pydantic_decorators__.model_validators
    ) == {"_resolution_goes_with_completed"}
    assert set(COLUMNS) >= {"title", "description", "status", "priority", "resolution"}


async def test_example_csv_loads_with_projects_workers_and_times(engine, write_path):
    summary = await load_tasks(engine, EXAMPLE, progress=False)
    assert (summary.tasks, summary.projects_created, summary.workers_created) == (8, 4, 4)
    tasks = await tasks_of(engine)
    report = tasks[0]
    assert (report.title, report.status, report.priority) == (
        "Write the quarterly report", "completed", "high",
    )  # fmt: skip
    assert report.completed_at == pd.Timestamp("2025-09-04T16:40:00Z")
    assert report.updated_at == report.completed_at  # defaults to completed_at
    login = tasks[1]
    assert login.created_at == pd.Timestamp("2025-09-03T08:05:00Z")  # +02:00 converted
    assert login.completed_at is None
    async with taskkit.session(engine) as s:
        full = await taskkit.get_task(s, report.id, with_project=True, with_workers=True)
        assert full.project.name == "Reporting"
        assert sorted(w.name for w in full.workers) == ["Ada Berg", "Sam Silva"]
    assert tasks[5].project_id is None and tasks[2].description is None


async def test_loading_twice_reuses_projects_and_workers_by_name(engine, tmp_path):
    await load_tasks(engine, EXAMPLE, progress=False)
    next_week = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    next_week["title"] = "(next) " + next_week["title"]
    other = tmp_path / "next_week.csv"
    next_week.to_csv(other, index=False)
    again = await load_tasks(engine, other, progress=False)
    assert (again.tasks, again.projects_created, again.workers_created) == (8, 0, 0)
    data = await snapshot(engine)
    assert (len(data["task"]), len(data["project"]), len(data["worker"])) == (16, 4, 4)


async def test_a_dataframe_loads_like_a_csv(engine):
    frame = pd.DataFrame(
        {
            "title": ["a", "b"],
            "status": ["completed", "pending"],
            "created_at": pd.to_datetime(["2025-01-01T10:00:00Z", "2025-01-02T10:00:00Z"]),
            "workers": ["Ann", float("nan")],
        }
    )
    summary = await load_tasks(engine, frame, progress=False)
    tasks = await tasks_of(engine)
    assert summary.tasks == 2 and summary.workers_created == 1
    assert [t.status for t in tasks] == ["completed", "pending"]
    assert tasks[0].completed_at == tasks[0].created_at == pd.Timestamp("2025-01-01T10:00:00Z")


async def test_unknown_worker_names_get_ids_from_their_names(engine):
    async with taskkit.session(engine) as s:
        await taskkit.create_worker(s, {"id": "ada-berg", "name": "Someone Else"})
    frame = pd.DataFrame({"title": ["x"], "workers": ["Ada Berg ;  Ada Berg;Bo"]})
    await load_tasks(engine, frame, progress=False)
    async with engine.connect() as conn:
        rows = (await conn.exec_driver_sql("SELECT name, id FROM worker")).all()
    assert dict(rows) == {"Someone Else": "ada-berg", "Ada Berg": "ada-berg-2", "Bo": "bo"}
    assert len((await snapshot(engine))["taskworkerlink"]) == 2  # the repeated name counts once


async def test_a_worker_name_shared_by_two_workers_is_an_error(engine):
    async with taskkit.session(engine) as s:
        await taskkit.create_worker(s, {"id": "w1", "name": "Sam"})
        await taskkit.create_worker(s, {"id": "w2", "name": "Sam"})
    before = await snapshot(engine)
    with pytest.raises(LoadError, match=r"'Sam' is the name of several workers \(w1, w2\)"):
        await load_tasks(engine, pd.DataFrame({"title": ["x"], "workers": ["Sam"]}), progress=False)
    assert await snapshot(engine) == before


async def test_given_ids_are_kept_and_later_rows_continue_after_them(engine):
    frame = pd.DataFrame({"id": [10, None, 12], "title": ["a", "b", "c"]})
    await load_tasks(engine, frame, progress=False)
    assert [t.id for t in await tasks_of(engine)] == [10, 12, 13]


BAD_ROWS = """title,status,priority,created_at,updated_at,completed_at,id
ok,pending,low,2025-01-01T00:00:00Z,,,1
,pending,low,,,,2
{long},done,urgent,not a date,,,3
fine,completed,high,2025-01-02T00:00:00Z,2025-01-01T00:00:00Z,,3
late,pending,medium,2025-01-01T00:00:00Z,,2025-01-03T00:00:00Z,x
"""


async def test_bad_rows_are_listed_with_row_field_and_reason_and_nothing_is_stored(
    engine, tmp_path, write_path
):
    path = write_csv(tmp_path, BAD_ROWS.format(long="t" * 513))
    await load_tasks(engine, EXAMPLE, progress=False)
    before = await snapshot(engine)
    with pytest.raises(LoadError) as info:
        await load_tasks(engine, path, progress=False)
    message = str(info.value)
    assert message.startswith("4 of 5 rows are invalid (row 1 is the line after the header)")
    for expected in (
        "  title: String should have at least 1 character (got '') (1 row: 2), longer than 512 "
        "characters (1 row: 3); pass --long-titles truncate",
        "  status: 'done' (1 row: 3); map them with --status VALUE=pending|in_progress|completed",
        "  priority: 'urgent' (1 row: 3); map them with --priority VALUE=low|medium|high",
        "  created_at: 'not a date' is not a date and time taskkit reads (1 row: 3)",
        "  id: 3 names several rows (2 rows: 3, 4), must be a positive integer (got 'x') "
        "(1 row: 5)",
        "  updated_at: is before created_at (1 row: 4)",
        "is set, but the status is not 'completed' (1 row: 5); pass --open-completed drop",
    ):
        assert expected in message, expected
    assert await snapshot(engine) == before


async def test_skip_stores_the_good_rows_and_reports_the_bad(engine, tmp_path):
    path = write_csv(tmp_path, BAD_ROWS.format(long="t" * 513))
    summary = await load_tasks(engine, path, on_error="skip", progress=False)
    assert summary.tasks == 1
    assert summary.skipped_rows == [2, 3, 4, 5]
    assert "skipped 4 bad rows" in str(summary)
    assert [t.title for t in await tasks_of(engine)] == ["ok"]


async def test_error_listing_groups_rows_by_value_with_counts(engine):
    frame = pd.DataFrame({"title": ["ok"] * 5 + [""] * 30})
    with pytest.raises(LoadError) as info:
        await load_tasks(engine, frame, progress=False)
    message = str(info.value)
    assert message.startswith("30 of 35 rows are invalid; nothing was stored")
    assert message.endswith(
        "  title: String should have at least 1 character (got '') (30 rows: 6, 7, 8, 9, 10, ...)"
    )


async def test_error_listing_stops_at_twenty_values_with_a_count(engine):
    frame = pd.DataFrame({"title": ["ok"] * 30, "status": [f"state {i}" for i in range(30)]})
    with pytest.raises(LoadError) as info:
        await load_tasks(engine, frame, progress=False)
    message = str(info.value)
    assert "'state 19' (1 row: 20), and 10 more values; map them with --status" in message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty: expected a header line"),
        ("\n\n", "has no header line"),
        ("title\n", "no rows to load: the data has a header but no rows"),
        ("status,priority\npending,low\n", "no column holds the title (format taskkit)"),
        ("title,title\nx,y\n", "column 'title' appears 2 times in the header"),
        ('title,status\n"unclosed,pending\n', "is not a CSV file taskkit can read"),
    ],
)
async def test_unreadable_files_are_clear_errors(engine, tmp_path, content, message):
    path = write_csv(tmp_path, content)
    before = await snapshot(engine)
    with pytest.raises(LoadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await load_tasks(engine, path, progress=False)
    assert await snapshot(engine) == before


async def test_a_file_that_is_not_utf8_names_the_line(engine, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("title\nCafé crème\n".encode("latin-1"))
    with pytest.raises(LoadError, match=r"not UTF-8 text \(line 2"):
        await load_tasks(engine, path, progress=False)


async def test_ids_already_in_the_database_store_nothing(engine, write_path):
    await load_tasks(engine, pd.DataFrame({"id": [1, 2], "title": ["a", "b"]}), progress=False)
    before = await snapshot(engine)
    with pytest.raises(LoadError, match="ids in the data are already used"):
        await load_tasks(engine, pd.DataFrame({"id": [3, 2], "title": ["c", "d"]}), progress=False)
    assert await snapshot(engine) == before


async def test_a_missing_file_is_a_load_error(engine, tmp_path):
    with pytest.raises(LoadError, match=r"file '.*missing.csv' does not exist"):
        await load_tasks(engine, tmp_path / "missing.csv", progress=False)


@pytest.mark.parametrize(
    ("source", "on_error", "message"),
    [
        (42, "raise", "source must be a CSV path or a pandas DataFrame, got int"),
        (EXAMPLE, "ignore", "on_error must be one of raise, skip; got 'ignore'"),
    ],
)
async def test_bad_arguments(engine, source, on_error, message):
    with pytest.raises(InvalidArgumentError, match=message):
        await load_tasks(engine, source, on_error=on_error, progress=False)


async def test_text_round_trips_exactly(engine):
    titles = ["emoji 🎉", "combining é", "עברית right-to-left", "quote ' \" and ; , %_"]
    await load_tasks(engine, pd.DataFrame({"title": titles}), progress=False)
    assert [t.title for t in await tasks_of(engine)] == titles


def test_cli_import_example_and_bad_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(cli, ["import", str(EXAMPLE), "--db", url])
    assert result.exit_code == 0, result.output
    assert "loaded 8 tasks (4 new projects, 4 new workers" in result.output
    bad = write_csv(tmp_path, "title,status\nx,done\n")
    result = CliRunner().invoke(cli, ["import", str(bad), "--db", url])
    assert result.exit_code == 1
    assert "status: 'done' (1 row: 1); map them with --status" in result.output
    missing = CliRunner().invoke(cli, ["import", str(tmp_path / "nope.csv"), "--db", url])
    assert missing.exit_code == 2 and "does not exist" in missing.output


async def test_each_row_gets_exactly_its_workers_across_batches(engine, write_path, monkeypatch):
    """Worker lists resolved in bulk land on the right tasks, across batch boundaries and
    around skipped rows; a bad name flags its row only."""
    monkeypatch.setattr(sys.modules["taskkit._importers.batches"], "CHUNK", 3)
    cells = ["Ann; Bo", None, "  ", "Bo;Ann;Bo", "x" * 500, "Cy", ";Ann;", "Bo ; Cy; Dee", "Ann"]
    frame = pd.DataFrame({"title": [f"t{i}" for i in range(len(cells))], "workers": cells})
    summary = await load_tasks(engine, frame, on_error="skip", progress=False)
    assert summary.skipped_rows == [5]
    assert summary.skipped[0].field == "workers"
    async with taskkit.session(engine) as s:
        stored = {}
        for task in await tasks_of(engine):
            full = await taskkit.get_task(s, task.id, with_workers=True)
            stored[task.title] = sorted(w.name for w in full.workers)
    assert stored == {
        "t0": ["Ann", "Bo"], "t1": [], "t2": [], "t3": ["Ann", "Bo"], "t5": ["Cy"],
        "t6": ["Ann"], "t7": ["Bo", "Cy", "Dee"], "t8": ["Ann"],
    }  # fmt: skip
    assert summary.links == 10 and summary.workers_created == 4


@pytest.mark.parametrize(
    ("values", "arrow_parses"),
    [
        (["2025-01-01 09:00:00.123456", "2025-01-01", "2025-01-01T09:00", None], True),
        (["2025-01-01T09:00:00Z", "2025-01-01T09:00:00.5+05:30", "2025-06-30T23:59-0800"], True),
        (["2025-01-01T09:00:00", "2025-01-01T09:00:00Z"], False),  # mixed
        (["2025-01-01 09:00:00.123456789", " 2025-01-01 "], False),  # beyond Arrow's parser
    ],
)
def test_arrows_timestamp_parser_agrees_with_pandas(values, arrow_parses, monkeypatch):
    """The fast ISO 8601 path gives exactly what the pandas path gives, or steps aside."""
    table = pa.table({"created_at": pa.array(values, pa.string())})
    assert (columns.iso_timestamps(table.column("created_at")) is not None) == arrow_parses
    fast = columns.check_timestamps(table, "created_at", Checker(np.arange(1, len(values) + 1)))
    monkeypatch.setattr(columns, "iso_timestamps", lambda text: None)
    slow = columns.check_timestamps(table, "created_at", Checker(np.arange(1, len(values) + 1)))
    pd.testing.assert_series_equal(fast, slow)
    assert str(fast.dtype) == "datetime64[us, UTC]"


@pytest.mark.parametrize("name", ["title", "description", "key", "project", "worker"])
@pytest.mark.parametrize(
    "value",
    ["", " ", "\t\n", "a", "x\x00y", "é" * 100, "é" * 101, "t" * 200, "t" * 201, "d" * 10_001],
)
def test_bulk_text_rules_agree_with_the_models(name, value):
    """The bulk check that lets most values skip pydantic accepts exactly what the model
    accepts (it may only refuse more, and then pydantic gives the message)."""
    ok = plain_text_ok(pa.array([value]), *TEXT_RULES[name])[0].as_py()
    try:
        ADAPTERS[name].validate_python(value)
        valid = True
    except Exception:
        valid = False
    assert ok == valid


@pytest.mark.parametrize("field", ["project", "key"])
async def test_a_bad_optional_value_after_empty_cells_names_its_own_row(engine, field):
    """Projects and keys are checked where given only; a bad one is reported (and skipped) on
    its own row, not on the row of the same position among the given values."""
    frame = pd.DataFrame({"title": ["a", "b", "c"], field: [None, None, "x" * 500]})
    with pytest.raises(LoadError, match=r"\(1 row: 3\)"):
        await load_tasks(engine, frame, progress=False)
    summary = await load_tasks(engine, frame, on_error="skip", progress=False)
    assert summary.skipped_rows == [3]
    assert sorted(t.title for t in await tasks_of(engine)) == ["a", "b"]


JIRA_TIMES = [
    "17/Feb/22 11:02 AM", "17/Feb/22 11:02AM", "1/jan/70 12:00 am", "31/Feb/22 1:00 PM",
    "29/Feb/24 12:59 PM", "29/Feb/23 1:00 AM", "13/Mar/99 23:59", "13/Mar/68 0:00",
    "5/Xyz/22 1:00 PM", "5/May/22 13:00 PM", "5/May/22 0:30 AM", "5/May/22 7:60 PM",
    "5/May/22 7:05 pm", "05/MAY/22 07:05 PM", "5/May/2022 7:05 PM", "5/May/222 7:05 PM",
    "17/Feb/22", "11:02 AM", "", None,
]  # fmt: skip


def test_jira_times_read_as_strptime_reads_them():
    """The column-wise reader of Jira's local times agrees with ``datetime.strptime`` on
    every value it accepts, and refuses (null) what strptime refuses."""
    from datetime import datetime

    from taskkit._importers.dates import jira_times

    def strptime(value):
        if not value:
            return None
        text = value.upper().replace("AM", " AM").replace("PM", " PM").replace("  ", " ")
        for form in ("%d/%b/%y %I:%M %p", "%d/%b/%y %H:%M", "%d/%b/%Y %I:%M %p", "%d/%b/%Y %H:%M"):
            try:
                if len(text.split(" ")[0].split("/")[-1]) in (2, 4):
                    return datetime.strptime(text, form)
            except ValueError:
                continue
        return None

    assert jira_times(pa.array(JIRA_TIMES, pa.string())).to_pylist() == [
        strptime(v) for v in JIRA_TIMES
    ]


def test_cli_import_reports_the_databases_error_before_the_files(tmp_path):
    """The CLI reads the file while it brings the database to head: when both fail, the
    database's error is reported (as when the two ran one after the other), in one line."""
    import asyncio
    import sqlite3

    path = tmp_path / "old.db"
    engine = taskkit.connect(f"sqlite:///{path}")
    asyncio.run(taskkit.create_db_and_tables(engine))  # tables, but no recorded revision
    asyncio.run(engine.dispose())
    bad = write_csv(tmp_path, "title,status\nx,done\n")
    result = CliRunner().invoke(cli, ["import", str(bad), "--db", f"sqlite:///{path}"])
    assert result.exit_code == 1, result.output
    assert "revision" in result.output and "status: 'done'" not in result.output
    assert "Traceback" not in result.output
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT count(*) FROM task").fetchone() == (0,)


async def test_prepare_then_store_is_load_tasks(engine):
    """The two halves the CLI runs apart give what load_tasks gives; preparing needs no
    database."""
    from taskkit._importers.load import prepare_import, store_import

    prepared = prepare_import(EXAMPLE)
    summary = await store_import(engine, prepared, progress=False)
    assert (summary.tasks, summary.format, summary.links) == (8, "taskkit", 8)


def test_summaries_count_in_words_that_agree_with_the_number():
    """Before: "loaded 1 tasks", "skipped 1 bad rows", "ignored 1 column(s)"."""
    from taskkit import LoadSummary, RowProblem, SeedSummary

    one = LoadSummary(
        tasks=1,
        projects_created=1,
        workers_created=1,
        links=1,
        seconds=0.1,
        skipped=[RowProblem(3, "status", "'Blocked'")],
        ignored=["colour"],
        unread=["milestone"],
        history=1,
    )
    text = str(one)
    assert "loaded 1 task (1 new project, 1 new worker, 1 assignment)" in text
    assert "history: 1 status change\n" in text
    assert "ignored 1 column nobody mapped: 'colour'" in text
    assert "not read (1 field): milestone" in text
    assert "skipped 1 bad row:\n  status: 'Blocked' (1 row: 3)" in text
    two = str(LoadSummary(tasks=2, projects_created=0, workers_created=2, links=3, seconds=0))
    assert "loaded 2 tasks (0 new projects, 2 new workers, 3 assignments)" in two
    seeded = str(
        SeedSummary(1, 1, 1, 1, seed=0, seconds=0, labels=1, label_links=1, status_changes=1)
    )
    assert seeded.startswith(
        "seeded 1 task, 1 project, 1 worker, 1 assignment, 1 label name (1 label on tasks), "
        "1 status change (seed 0)"
    )
