"""The import's choices are one public dataclass, ImportOptions: checked once, when made, and
the same for load_tasks and `taskkit import`."""

from pathlib import Path

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import taskkit
from taskkit import ImportOptions, InvalidArgumentError, Task, cli, load_tasks

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "imports"
# Two bad rows among good ones: what on_error decides.
MIXED = "title,status\nfine,pending\n,pending\nalso fine,completed\nbad status,paused\n"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("format", "redmine", "format must be one of None, trello, github, jira, asana, linear, "
         "plane, taskkit; got 'redmine'"),
        ("on_error", "ignore", "on_error must be one of raise, skip; got 'ignore'"),
        ("date_order", "yearfirst", "date_order must be one of None, dayfirst, monthfirst; got "
         "'yearfirst'"),
        ("long_titles", "cut", "long_titles must be one of refuse, truncate; got 'cut'"),
        ("open_completed", None, "open_completed must be one of refuse, drop; got None"),
        ("archived", ["skip"], "archived must be one of cancelled, done, skip; got ['skip']"),
        ("tz", "Mars/Olympus", "tz must be a time zone name such as 'UTC' or 'Europe/Berlin', "
         "got 'Mars/Olympus'"),
        ("tz", 5, "tz must be a time zone name, got 5"),
    ],
)  # fmt: skip
def test_a_choice_outside_what_is_allowed_is_refused_when_the_options_are_made(
    field, value, message
):
    with pytest.raises(InvalidArgumentError) as info:
        ImportOptions(**{field: value})
    assert str(info.value) == message


def test_the_command_offers_exactly_the_choices_the_options_allow():
    command = cli.commands["import"]
    offered = {
        p.name: tuple(p.type.choices) for p in command.params if isinstance(p.type, click.Choice)
    }
    offered["format"] = offered.pop("format_")
    allowed = {
        name: tuple(v for v in values if v is not None)
        for name, values in ImportOptions.CHOICES.items()
        if name != "date_order"  # two flags, --dayfirst and --monthfirst
    }
    assert offered == allowed
    flags = {p.opts[0]: p.flag_value for p in command.params if p.name == "date_order"}
    assert flags == {"--dayfirst": "dayfirst", "--monthfirst": "monthfirst"}


async def count_tasks(engine) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(sa.select(sa.func.count()).select_from(Task)) or 0


async def test_options_say_what_the_keywords_say(tmp_path: Path):
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED, encoding="utf-8")
    by_keyword = taskkit.connect(f"sqlite:///{tmp_path / 'k.db'}")
    by_options = taskkit.connect(f"sqlite:///{tmp_path / 'o.db'}")
    for engine in (by_keyword, by_options):
        await taskkit.create_db_and_tables(engine)
    kept = await load_tasks(by_keyword, path, on_error="skip", progress=False)
    same = await load_tasks(
        by_options, path, options=ImportOptions(on_error="skip"), progress=False
    )
    assert (kept.tasks, kept.skipped_rows) == (same.tasks, same.skipped_rows) == (2, [2, 4])
    assert await count_tasks(by_keyword) == await count_tasks(by_options) == 2
    for engine in (by_keyword, by_options):
        await engine.dispose()


async def test_options_and_keywords_together_are_refused_and_nothing_is_stored(
    engine, tmp_path: Path
):
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED, encoding="utf-8")
    with pytest.raises(InvalidArgumentError) as info:
        await load_tasks(
            engine, path, options=ImportOptions(on_error="skip"), tz="Europe/Berlin",
            progress=False,
        )  # fmt: skip
    assert str(info.value) == (
        "give the import's choices either as options=ImportOptions(...) or as keywords, "
        "not both (got options and tz='Europe/Berlin')"
    )
    with pytest.raises(InvalidArgumentError, match="options must be an ImportOptions, got dict"):
        await load_tasks(engine, path, options={"on_error": "skip"}, progress=False)  # type: ignore[arg-type]
    assert await count_tasks(engine) == 0


def test_the_command_refuses_a_zone_in_one_line_naming_it(tmp_path: Path):
    result = CliRunner().invoke(
        cli,
        ["import", str(FIXTURES / "jira_short.csv"), "--tz", "Mars/Olympus",
         "--db", f"sqlite:///{tmp_path / 'z.db'}"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert result.output.strip() == (
        "Error: tz must be a time zone name such as 'UTC' or 'Europe/Berlin', got 'Mars/Olympus'"
    )
    assert not (tmp_path / "z.db").exists()  # a refused import creates nothing
