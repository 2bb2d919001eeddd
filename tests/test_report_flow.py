"""The report's flow section: what it says is what the flow measures give, its charts are
there, and its settings are in the provenance."""

import asyncio
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import taskkit
from tests.flow_data import histories, write
from tests.reports import write_report

pytestmark = pytest.mark.slow  # runs the report notebook


def _board(tmp_path: Path) -> str:
    """A SQLite file holding generated tasks with their histories (the report runs its own
    event loop, so these tests are plain functions)."""

    async def make() -> None:
        engine = taskkit.connect(f"sqlite:///{tmp_path / 'flow.db'}")
        await taskkit.ensure_schema(engine)  # the report reads databases made by migrations
        await write(engine, *histories(3_000, seed=11))
        await engine.dispose()

    asyncio.run(make())
    return f"sqlite:///{tmp_path / 'flow.db'}"


def _measures(url: str, period: dict[str, date]) -> tuple[int, pd.DataFrame, pd.DataFrame]:
    async def measure() -> tuple[int, pd.DataFrame, pd.DataFrame]:
        engine = taskkit.connect(url)
        finished = int((await taskkit.throughput(engine, **period))["finished"].sum())
        levels = await taskkit.cycle_time_percentiles(engine, **period)
        ages = await taskkit.work_item_age(engine, **period)
        await engine.dispose()
        return finished, levels.set_index("percentile"), ages

    return asyncio.run(measure())


def test_the_flow_section_says_what_the_measures_give(tmp_path: Path):
    url = _board(tmp_path)
    path, _ = write_report(url, tmp_path / "out")
    html = path.read_text(encoding="utf-8")
    # The data ends on 31 Dec 2025 (its last change): the section covers the 12 weeks before.
    period = {"start": date(2025, 10, 9), "end": date(2025, 12, 31)}
    finished, levels, ages = _measures(url, period)
    assert "<h2>Flow: how work moves</h2>" in html
    assert (
        f"Over the last 12 weeks, 09 Oct 2025 to 31 Dec 2025, <strong>{finished:,} items were "
        "finished</strong>"
    ) in html
    assert f"took <strong>{levels.loc[85, 'cycle_days']} days or less</strong>" in html
    assert f"{levels.loc[50, 'without_start']} finished without a known start" in html
    assert f"{len(ages):,} items were in progress" in html
    for alt in (
        "Bars of items finished per week",
        "Scatterplot of cycle time by completion day, with percentile lines",
        "Items in progress by age, against the cycle-time percentiles",
        "Cumulative flow: items completed, in progress and pending each day",
        "Histogram of the days needed to finish the open items, with likelihoods",
    ):
        assert f'alt="{alt}"' in html
    provenance = {
        m[0]: m[1] for m in re.findall(r"<tr>\s*<th>([^<]+)</th>\s*<td>([^<]*)</td>", html)
    }
    assert provenance["flow period"] == "2025-10-09 to 2025-12-31 (the last 12 weeks, UTC days)"
    assert provenance["flow percentiles"] == "50, 70, 85, 95"
    assert "10,000 trials, seed 0" in provenance["forecast"]
    assert provenance["flow data fingerprint"].startswith("sha256:")


def test_the_flow_section_follows_the_reports_dates(tmp_path: Path):
    url = _board(tmp_path)
    path, _ = write_report(url, tmp_path / "out", date_from="2025-03-01", date_to="2025-04-30")
    html = path.read_text(encoding="utf-8")
    # 12 weeks up to date_to, but not before date_from.
    assert "Over the last 12 weeks, 01 Mar 2025 to 30 Apr 2025" in html
