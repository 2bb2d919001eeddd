"""The command line: help, the commands that exist, and clear errors for bad input."""

import asyncio
import subprocess
import sys

import pytest
from click.testing import CliRunner

import taskkit
from taskkit.cli import cli
from tests.conftest import postgres_url, reset_postgres


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def test_help_lists_the_commands():
    result = run("--help")
    assert result.exit_code == 0
    for name in ("init", "info"):
        assert name in result.output


def test_python_dash_m_taskkit_works():
    done = subprocess.run(
        [sys.executable, "-m", "taskkit", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("taskkit, version ")


def test_init_then_info_on_a_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run("init", "--db", url).exit_code == 0
    result = run("info", "--db", url)
    assert result.exit_code == 0, result.output
    assert "task            0 rows" in result.output


def test_info_before_init_says_there_is_no_table(tmp_path):
    result = run("info", "--db", f"sqlite:///{tmp_path / 'empty.db'}")
    assert "(no table)" in result.output


def test_info_reads_database_url_from_the_environment(tmp_path):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    run("init", "--db", url)
    result = run("info", env={"DATABASE_URL": url})
    assert str(tmp_path / "env.db") in result.output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root:hunter2@h/db", "unsupported database URL scheme 'mysql'"),
        ("postgresql://root:hunter2@127.0.0.1:9/db", "cannot connect to PostgreSQL database 'db'"),
        ("sqlite:////no/such/dir/x.db", "directory '/no/such/dir' does not exist"),
    ],
)
def test_bad_database_urls_exit_1_with_a_one_line_message(url, message):
    result = run("info", "--db", url)
    assert result.exit_code == 1
    assert message in result.output
    assert "hunter2" not in result.output
    assert "Traceback" not in result.output


@pytest.mark.postgres
def test_init_and_info_on_postgres():
    url = postgres_url()

    async def reset() -> None:
        engine = taskkit.connect(url)
        await reset_postgres(engine)
        await engine.dispose()

    asyncio.run(reset())
    assert run("init", "--db", url).exit_code == 0
    result = run("info", "--db", url)
    assert result.exit_code == 0
    assert "postgresql+asyncpg://postgres:***@" in result.output
