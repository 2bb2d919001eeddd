"""The README and the user guide stay true: every Python block runs, the commands they show
exist, and the site builds strictly."""

import ast
import os
import re
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner

from taskkit import cli
from tests import documentation

ROOT = documentation.ROOT
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = documentation.text()


def test_readme_tour_runs_and_prints_the_open_task():
    tour = re.findall(r"```python\n(.*?)```", README, flags=re.S)[0]
    assert len([line for line in tour.splitlines() if line.strip()]) <= 18  # a short tour
    done = subprocess.run(
        [sys.executable, "-c", tour], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[('Write report', 'in_progress', 'high')]"


def notebook_blocks() -> list[tuple[str, str]]:
    """The blocks written as notebook cells (top-level await), named by page and number."""
    return [(name, b) for name, b in documentation.python_blocks() if "asyncio.run(" not in b]


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
    session ``s``, shared by the blocks in reading order, as cells share a kernel."""
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


@pytest.mark.parametrize(("name", "block"), notebook_blocks(), ids=lambda v: str(v)[:28])
def test_every_python_block_of_the_documentation_runs(
    readme_namespace, name: str, block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace, loop = readme_namespace
    monkeypatch.chdir(tmp_path)  # files a block writes land in a temporary directory
    code = compile(block, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    error = expected_error(block)
    raised: Exception | None = None
    try:
        result = eval(code, namespace)  # top-level await: a coroutine to run
        if result is not None:
            loop.run_until_complete(result)
    except Exception as exc:
        raised = exc
        if error is None:
            pytest.fail(f"{name} raised:\n{traceback.format_exc()}")
    if error is None:
        return
    _, parts = error
    assert raised is not None, f"{name} shows {error[0]} but raised nothing"
    assert type(raised).__name__ == error[0], (error[0], raised)
    assert all(part in str(raised) for part in parts), (parts, str(raised))


def test_every_cli_command_in_the_documentation_exists():
    shown = set(re.findall(r"uv run taskkit (\w[\w-]*)", DOCS))
    assert shown, "the documentation shows no taskkit command"
    for name in shown:
        assert name in cli.commands, f"the docs show `taskkit {name}`, which does not exist"


def test_every_cli_command_is_documented_and_has_help():
    runner = CliRunner()
    for name, command in cli.commands.items():
        assert f"taskkit {name}" in DOCS, f"`taskkit {name}` is not in the documentation"
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0 and command.help, name


def test_the_readme_imports_into_a_database_of_its_own():
    """Issue 28: the README's import examples wrote into the default database, which
    `taskkit report` fills with the synthetic dataset, so the next report mixed both."""
    # Each command with its continuation lines, comments left out.
    commands = [
        " ".join(line.split("#")[0] for line in m.group(0).splitlines())
        for m in re.finditer(r"uv run taskkit import (?:[^\n]*\\\n)*[^\n]*", DOCS)
    ]
    assert len(commands) >= 5
    for command in commands:
        assert "--db sqlite:///data/mine.db" in command, command


def test_the_readme_is_a_five_minute_read_and_links_every_page_of_the_guide():
    """Issue 26: the README was 11,000 words (user guide, benchmark diaries and design notes in
    one page); the guide now lives in docs/, and the README points to each page."""
    assert len(README.split()) <= 1_300  # about five minutes at 250 words a minute
    for page in documentation.pages()[1:]:
        if page.name != "index.md":
            assert f"](docs/{page.name})" in README, f"the README does not link {page.name}"


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    """mkdocs --strict: a link to a missing page or anchor, a docstring griffe cannot read or
    an API name that does not resolve fails the build."""
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    api = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    import taskkit

    for name in taskkit.__all__:
        if name != "__version__":
            assert f'id="taskkit.{name}"' in api, f"{name} is not in the API reference"
