"""The README stays true: every Python block runs, and the commands it shows exist."""

import ast
import re
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner

from taskkit._cli import cli

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


def notebook_blocks() -> list[tuple[int, str]]:
    """The blocks written as notebook cells (top-level await), numbered as in the README."""
    return [(i, b) for i, b in enumerate(python_blocks()) if "asyncio.run(" not in b]


def expected_error(block: str) -> tuple[str, list[str]] | None:
    """A block that ends in comment lines ``# SomeError: text`` (then more ``# text`` lines)
    shows what a user sees: it must raise that error, each text part of its message (a
    line cut short ends in ``...``)."""
    comments: list[str] = []
    for line in reversed(block.rstrip().splitlines()):
        if not line.startswith("#"):
            break
        comments.insert(0, line[1:].strip())
    found = re.fullmatch(r"(\w+(?:Error|Exception)): (.+)", comments[0]) if comments else None
    if not found:
        return None
    parts = [found[2], *comments[1:]]
    return found[1], [p.removesuffix("...").strip() for p in parts]


@pytest.fixture(scope="module")
def readme_namespace(tmp_path_factory: pytest.TempPathFactory):
    """What the notebook-style blocks assume: ``engine`` on a seeded SQLite file and an open
    session ``s``, shared by the blocks in README order, as cells share a kernel."""
    import asyncio

    import taskkit

    loop = asyncio.new_event_loop()
    path = tmp_path_factory.mktemp("readme") / "readme.db"
    engine = taskkit.connect(f"sqlite:///{path}")
    loop.run_until_complete(taskkit.create_db_and_tables(engine))
    loop.run_until_complete(taskkit.seed(engine, tasks=2_000, seed=0, progress=False))
    session = taskkit.session(engine)
    yield {"__name__": "readme", "engine": engine, "s": session, "taskkit": taskkit}, loop
    loop.run_until_complete(session.close())
    loop.run_until_complete(engine.dispose())
    loop.close()


@pytest.mark.parametrize(("number", "block"), notebook_blocks(), ids=lambda v: str(v)[:20])
def test_every_readme_python_block_runs(
    readme_namespace, number: int, block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace, loop = readme_namespace
    monkeypatch.chdir(tmp_path)  # files a block writes land in a temporary directory
    code = compile(block, f"README block {number}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    error = expected_error(block)
    raised: Exception | None = None
    try:
        result = eval(code, namespace)  # top-level await: a coroutine to run
        if result is not None:
            loop.run_until_complete(result)
    except Exception as exc:
        raised = exc
        if error is None:
            pytest.fail(f"README block {number} raised:\n{traceback.format_exc()}")
    if error is None:
        return
    name, parts = error
    assert raised is not None, f"README block {number} shows {name} but raised nothing"
    assert type(raised).__name__ == name, (name, raised)
    assert all(part in str(raised) for part in parts), (parts, str(raised))


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


def test_the_readme_imports_into_a_database_of_its_own():
    """Issue 28: the README's import examples wrote into the default database, which
    `taskkit report` fills with the synthetic dataset, so the next report mixed both."""
    # Each command with its continuation lines, comments left out.
    commands = [
        " ".join(line.split("#")[0] for line in m.group(0).splitlines())
        for m in re.finditer(r"uv run taskkit import (?:[^\n]*\\\n)*[^\n]*", README)
    ]
    assert len(commands) >= 5
    for command in commands:
        assert "--db sqlite:///data/mine.db" in command, command
