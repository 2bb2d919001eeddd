"""The README stays true: its tour runs and the commands it shows exist."""

import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from taskkit.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_tour_runs_and_prints_the_open_task():
    tour = python_blocks()[0]
    assert len([line for line in tour.splitlines() if line.strip()]) <= 18  # a short tour
    done = subprocess.run(
        [sys.executable, "-c", tour], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[('Write report', 'in_progress', 'high')]"


def test_every_cli_command_in_the_readme_exists():
    shown = set(re.findall(r"uv run taskkit (\w[\w-]*)", README))
    assert shown, "the README shows no taskkit command"
    for name in shown:
        assert name in cli.commands, f"README shows `taskkit {name}`, which does not exist"


def test_every_cli_command_is_documented_and_has_help():
    runner = CliRunner()
    for name, command in cli.commands.items():
        assert f"taskkit {name}" in README, f"`taskkit {name}` is not in the README"
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0 and command.help, name
