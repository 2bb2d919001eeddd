"""What the report's sections say (issues 22 and 28): done and dropped apart, cycle time from
the start of work, tasks without a project counted, ties said, and a warning when synthetic
and imported tasks share a database.

Each test makes a small database through taskkit's own import, writes the report, and reads
the page's text.
"""

import asyncio
import html
import re
from pathlib import Path

import pandas as pd
import pytest

import taskkit
from tests.reports import write_report
from tests.test_report_data import BOARD, mark_as_seeded, rows, task


def make(path: Path, *frames: pd.DataFrame, seed: int = 0) -> str:
    url = f"sqlite:///{path}"

    async def build() -> None:
        engine = taskkit.connect(url)
        await taskkit.ensure_schema(engine)
        if seed:
            await taskkit.seed(engine, tasks=seed, progress=False)
            await mark_as_seeded(engine)
        for frame in frames:
            await taskkit.load_tasks(engine, frame, format="taskkit", progress=False)
        await engine.dispose()

    asyncio.run(build())
    return url


def text_of(url: str, out: Path, **values: str) -> str:
    """The report's page as plain text (tags dropped, entities read)."""
    path, _ = write_report(url, out, **values)
    page = path.read_text(encoding="utf-8")
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_done_and_dropped_are_told_apart_and_cycle_time_says_its_basis(tmp_path):
    """Before: "5 of them (71%) are completed", the cancelled, duplicate and won't-do tasks
    among them, and "time from creation to completion" for all five."""
    text = text_of(make(tmp_path / "board.db", BOARD), tmp_path / "out")
    assert "This report covers 7 tasks created between 03 Mar 2025 and 13 Mar 2025 (UTC)" in text
    assert "2 of them (29%) are done, 3 were dropped (won't do, duplicate or cancelled)" in text
    assert "2 are still open" in text
    assert "Dropped: 1 won't do, 1 duplicate, 1 cancelled" in text
    assert "1 of the 2 done tasks has a recorded start; the other 1 (50%) is not" in text
    assert "The 2 labels, most used first; a task may carry several, and 5 tasks (71%)" in text
    assert "Dropped work is not counted" in text
    assert "completed share" not in text and "done share" in text


def test_tasks_without_a_project_are_counted_as_such(tmp_path):
    """Before, the projects section left out the tasks without a project without a word."""
    text = text_of(make(tmp_path / "board.db", BOARD), tmp_path / "out")
    assert "4 tasks (57%) have no project: the last row, (no project)." in text
    # tasks, open, done, dropped, done share
    assert re.search(r"\(no project\) 4 1 1 2 25%", text)


def tied_workers(n: int) -> pd.DataFrame:
    """Worker w-01 with 3 open tasks, then ``n`` - 1 workers with one open task each."""
    tasks = [task(f"lead {i}", "2025-03-03T09:00Z", workers="Lead") for i in range(3)]
    tasks += [task(f"t{i}", "2025-03-03T09:00Z", workers=f"Worker {i:02d}") for i in range(n - 1)]
    return rows(*tasks)


def test_a_cut_through_a_tie_is_said(tmp_path):
    """Before, the top-15 chart cut through an 11-way tie by id without saying so."""
    text = text_of(make(tmp_path / "tie.db", tied_workers(20)), tmp_path / "out")
    # 19 workers tie at 1 open task; 14 of them are shown.
    assert "The chart shows the 15 workers with the most open tasks" in text
    assert "5 more workers have 1 open, as many as the last one shown" in text
    assert "within a tie workers are listed by id" in text


def test_a_tie_for_the_most_open_work_is_said(tmp_path):
    frame = rows(*(task(f"t{i}", "2025-03-03T09:00Z", workers=f"W{i % 3}") for i in range(6)))
    text = text_of(make(tmp_path / "tie.db", frame), tmp_path / "out")
    assert "3 workers share the most open tasks, 2 each" in text
    assert "more worker" not in text


def test_a_database_mixing_synthetic_and_imported_tasks_is_said_to(tmp_path):
    """Before, the README's import examples wrote into the database the report had seeded,
    and the next report counted both without a word."""
    url = make(tmp_path / "mixed.db", BOARD, seed=300)
    text = text_of(url, tmp_path / "out")
    assert "This database mixes synthetic and real tasks." in text
    assert "300 synthetic tasks made by taskkit seed (created 01 Jan 2025 to" in text
    assert "beside 7 tasks imported (03 Mar 2025 to 13 Mar 2025)" in text
    assert "taskkit import FILE --db sqlite:///data/mine.db" in text
    apart = make(tmp_path / "apart.db", BOARD)
    assert "mixes synthetic" not in text_of(apart, tmp_path / "out2")


def test_no_warning_when_the_selection_holds_synthetic_tasks_only(tmp_path):
    url = make(tmp_path / "mixed.db", BOARD, seed=300)
    text = text_of(url, tmp_path / "out", date_to="2025-02-28")  # before the imported tasks
    assert "mixes synthetic" not in text


@pytest.mark.parametrize("tie", [False, True])
def test_a_tie_is_said_only_where_there_is_one(tmp_path, tie):
    # W00 has 1 open task, W01 2, ... W14 15: fifteen workers, none tied.
    tasks = [
        task(f"{k}-{i}", "2025-03-03T09:00Z", workers=f"W{k:02d}")
        for k in range(15)
        for i in range(k + 1)
    ]
    if tie:
        tasks.append(task("one more", "2025-03-03T09:00Z", workers="W99"))  # 1 open, as W00
    text = text_of(make(tmp_path / "t.db", rows(*tasks)), tmp_path / "out")
    assert ("1 more worker has 1 open, as many as the last one shown" in text) is tie
    assert "more workers" not in text and "share the most" not in text
