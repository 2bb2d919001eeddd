"""Errors in a notebook are short: the message under the user's line, not pages of library
frames (issue 28). Run through a real IPython shell, as Jupyter shows them."""

import re

import pytest

IPython = pytest.importorskip("IPython")
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    ip = InteractiveShell.instance()
    ip.run_cell("import sys, traceback, taskkit\nengine = taskkit.connect('sqlite+aiosqlite://')")
    ip.run_cell("await taskkit.create_db_and_tables(engine)\ns = taskkit.session(engine)")
    return ip


def shown(shell: InteractiveShell, code: str) -> list[str]:
    with capture_output() as out:
        shell.run_cell(code)
    return ANSI.sub("", out.stdout + out.stderr).strip().splitlines()


def test_a_taskkit_error_shows_its_message_under_the_users_line_only(shell):
    lines = shown(shell, "await taskkit.get_task(s, 99)")
    assert lines == [
        "Traceback (your code; taskkit's frames left out):",
        lines[1],  # File "<ipython-input-...>", line 1, in <module>
        "    await taskkit.get_task(s, 99)",
        "NotFoundError: task 99 does not exist",
        "(the whole traceback: traceback.print_exception(sys.last_value))",
    ]
    assert "ipython-input" in lines[1]


def test_the_whole_traceback_is_where_the_short_one_says(shell):
    shown(shell, "taskkit.select_tasks(status='bogus')")
    lines = shown(shell, "traceback.print_exception(sys.last_value)")
    assert any("taskkit/_query" in line for line in lines)  # taskkit's own frames, all of them
    assert lines[-1].endswith("got 'bogus'")


def test_a_validation_error_from_a_helper_leaves_out_pydantics_frames(shell):
    lines = shown(shell, "await taskkit.create_task(s, {'title': 'x', 'status': 'done'})")
    assert len(lines) <= 20, "\n".join(lines)
    assert "Input should be 'pending', 'in_progress' or 'completed'" in "\n".join(lines)
    assert not any("pydantic" in line and "File" in line for line in lines)
    assert not any("sqlmodel/" in line for line in lines)
