"""Progress bars: one rule for where they show (taskkit.progress), used by every long job."""

import sys

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

import taskkit
from taskkit import Task
from taskkit._progress import progress_bar, wants_progress


def test_an_explicit_answer_wins_and_none_means_only_where_a_bar_is_seen():
    assert wants_progress(True) is True
    assert wants_progress(False) is False
    assert wants_progress(None) is False  # pytest captures stderr: not a terminal


def test_without_a_stderr_nothing_is_drawn_and_nothing_fails(monkeypatch: pytest.MonkeyPatch):
    # pythonw and some embedded interpreters have no stderr at all.
    monkeypatch.setattr(sys, "stderr", None)
    assert wants_progress(None) is False


async def test_seeding_and_reading_share_one_bar(
    engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
):
    await taskkit.seed(engine, tasks=20, projects=2, workers=2, progress=True)
    seeded = capsys.readouterr().err
    await taskkit.to_dataframe(engine, select(Task), progress=True, chunksize=5)
    read = capsys.readouterr().err
    assert " rows" in seeded
    assert " rows" in read
    bar = progress_bar(False, total=3, desc="x")
    assert bar.disable
    bar.close()
