"""Flow charts: each draws from its measure's frame, says what it leaves out, reads names from
the data literally, and refuses a frame of another measure."""

import io
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from sqlalchemy.ext.asyncio import AsyncEngine

import taskkit
from taskkit import InvalidArgumentError
from taskkit._report.present import at_phone_size
from tests.flow_data import histories, write

PERIOD = {"start": date(2025, 6, 1), "end": date(2025, 12, 31)}


def texts(fig: Figure) -> list[str]:
    """Every piece of text drawn, once the figure is rendered."""
    fig.savefig(io.BytesIO(), format="png")  # draws it: a text that cannot render fails here
    return [t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))]


@pytest.fixture
async def seeded(engine: AsyncEngine) -> AsyncEngine:
    await write(engine, *histories(600, seed=5))
    return engine


@pytest.mark.parametrize("backend", ["sqlite-memory"], indirect=True)
async def test_each_chart_draws_from_its_measure(seeded: AsyncEngine):
    cycles = await taskkit.cycle_times(seeded, **PERIOD)
    levels = await taskkit.cycle_time_percentiles(seeded, **PERIOD)
    without = int(cycles["cycle_days"].isna().sum())
    scatter = texts(taskkit.plot_cycle_times(cycles, levels))
    (heading,) = [t for t in scatter if "finished items by completion day" in t]
    assert heading.startswith(f"{len(cycles) - without:,} finished items by completion day")
    # One line, or a line each where one would not fit a phone: the notes in the same order.
    assert heading.replace("\n", "; ").endswith(f"; {without:,} without a known start not shown")
    longest = int(cycles["cycle_days"].max())
    assert f"(up to {longest:,}) off scale" in heading  # a few long ones, said, not drawn
    assert {f"{p}%: {d:,} days" for p, d in zip(levels["percentile"], levels["cycle_days"],
                                                 strict=True)} <= set(scatter)  # fmt: skip
    weekly = await taskkit.throughput(seeded, per="week", **PERIOD)
    assert any(t.startswith("average ") for t in texts(taskkit.plot_throughput(weekly)))
    daily = await taskkit.throughput(seeded, **PERIOD)
    assert "items finished a day" in texts(taskkit.plot_throughput(daily))
    wip = await taskkit.work_in_progress(seeded, **PERIOD)
    assert "items in progress" in texts(taskkit.plot_work_in_progress(wip))
    flow = await taskkit.cumulative_flow(seeded, **PERIOD)
    drawn = set(texts(taskkit.plot_cumulative_flow(flow)))
    assert {"pending", "in progress", "completed since 01 Jun 2025"} <= drawn
    assert "completed" in set(texts(taskkit.plot_cumulative_flow(flow, since_start=False)))
    ages = await taskkit.work_item_age(seeded, **PERIOD)
    drawn = texts(taskkit.plot_ageing_wip(ages, levels, label=3))
    assert f"{len(ages):,} items in progress" in drawn
    assert set(ages["title"].head(3)) <= set(drawn)  # the oldest, named (no keys here)
    recent = daily.tail(42)
    many = taskkit.forecast_how_many(recent, until="2026-02-28", seed=1)
    assert f"85%: {many.likelihoods['items'][1]:,} or more" in texts(taskkit.plot_forecast(many))
    when = taskkit.forecast_when(recent, items=50, seed=1)
    due = pd.Timestamp(when.likelihoods["date"][1])
    assert f"85%: by {due:%d %b %Y}" in texts(taskkit.plot_forecast(when))


def test_names_from_the_data_are_drawn_as_written():
    ages = pd.DataFrame(
        {
            "id": [1, 2],
            "key": [None, "PAY-$1"],
            "title": ["$\\undefinedcmd$ totals", "x"],
            "started_at": pd.to_datetime(["2025-03-01", "2025-03-02"], utc=True),
            "age_days": pd.array([12, 11], dtype="Int64"),
            "beyond": pd.array([pd.NA, pd.NA], dtype="Int64"),
        }
    )
    drawn = texts(taskkit.plot_ageing_wip(ages))
    assert "$\\undefinedcmd$ totals" in drawn and "PAY-$1" in drawn


@pytest.mark.parametrize("size", [None, (4.4, 3.6)], ids=["wide", "phone"])
def test_the_names_of_the_oldest_touch_neither_each_other_nor_the_legend(size):
    """Five items of nearly the same age, long titles, and the percentile legend: drawn wide
    and at the report's phone size (the figure resized, as the report does), no two names
    overlap and none runs under the legend or off the figure."""
    ages = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "title": [f"Review the onboarding email number {i}" for i in range(6)],
            "started_at": pd.to_datetime(["2025-03-01"] * 6, utc=True),
            "age_days": pd.array([48, 47, 46, 46, 45, 3], dtype="Int64"),
            "beyond": pd.array([95, 95, 95, 95, 95, pd.NA], dtype="Int64"),
        }
    )
    levels = pd.DataFrame({"percentile": [50, 85, 95], "cycle_days": [3, 8, 14]})
    fig = taskkit.plot_ageing_wip(ages, levels)
    if size is not None:
        fig.set_size_inches(*size)  # the margins stay fractions: only tighter than the report
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    (ax,) = fig.axes
    names = [t for t in ax.texts if t.get_text()]
    assert len(names) == 5
    boxes = [t.get_window_extent(renderer) for t in names]
    legend = ax.get_legend().get_window_extent(renderer)
    page = fig.bbox
    for i, box in enumerate(boxes):
        assert not box.overlaps(legend), names[i].get_text()
        assert page.x0 <= box.x0 and box.x1 <= page.x1, names[i].get_text()
        for other in boxes[i + 1 :]:
            assert not box.overlaps(other)


def _drawn_at(fig: Figure, size: tuple[float, float]) -> Any:
    """``fig`` drawn at ``size`` as the report draws it for a phone (its margins kept in
    inches), and its renderer."""
    at_phone_size(fig, size)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def test_long_notes_go_on_lines_of_their_own_inside_a_phones_drawing():
    """Off-scale items and items without a start: three notes, which on one line ran past
    the right edge of a phone's drawing."""
    rng = np.random.default_rng(3)
    days = rng.integers(1, 20, 300).tolist() + [400] * 2  # beyond the 99th percentile
    cycles = pd.DataFrame(
        {
            "id": np.arange(len(days) + 40),
            "completed_at": pd.date_range("2025-06-01", periods=len(days) + 40, freq="h", tz="UTC"),
            "cycle_days": pd.array(days + [None] * 40, dtype="Int64"),
        }
    )
    fig = taskkit.plot_cycle_times(cycles)
    (ax,) = fig.axes
    (title,) = [t for t in fig.findobj(Text) if t.get_text() == ax.get_title(loc="left")]
    assert title.get_text().split("\n") == [
        "302 finished items by completion day",
        f"2 above {int(ax.get_ylim()[1]):,} days (up to 400) off scale",
        "40 without a known start not shown",
    ]
    for size in [(10, 3.6), (4.4, 3.6)]:
        box = title.get_window_extent(_drawn_at(fig, size))
        assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1), size


def test_large_counts_are_short_and_the_axis_keeps_its_name_on_a_phone():
    days = pd.date_range("2025-06-01", periods=30, freq="D").astype("datetime64[s]")
    flow = pd.DataFrame(
        {
            "day": days,
            "pending": np.full(30, 2_000),
            "in_progress": np.full(30, 1_000),
            "completed": np.linspace(0, 40_000, 30).astype("int64"),
        }
    )
    fig = taskkit.plot_cumulative_flow(flow, since_start=False)
    renderer = _drawn_at(fig, (4.4, 3.6))
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels[0] == "0" and all(label.endswith("k") for label in labels[1:]), labels
    assert ax.yaxis.label.get_window_extent(renderer).x0 >= 0
    small = taskkit.plot_throughput(pd.DataFrame({"day": days, "finished": np.full(30, 9)}))
    _drawn_at(small, (10, 3.6))
    assert "k" not in "".join(t.get_text() for t in small.axes[0].get_yticklabels())


def test_an_empty_period_still_draws():
    empty = pd.DataFrame(
        {
            "id": np.array([], dtype="int64"),
            "completed_at": pd.Series([], dtype="datetime64[us, UTC]"),
            "cycle_days": pd.array([], dtype="Int64"),
        }
    )
    assert "0 finished items by completion day" in texts(taskkit.plot_cycle_times(empty))


@pytest.mark.parametrize(
    ("plot", "argument", "message"),
    [
        (taskkit.plot_cycle_times, pd.DataFrame({"day": []}), "plot_cycle_times takes the frame"),
        (taskkit.plot_throughput, "weekly", "plot_throughput takes the frame"),
        (taskkit.plot_cumulative_flow, pd.DataFrame({"wip": [1]}), "columns completed, day"),
        (taskkit.plot_forecast, pd.DataFrame(), "plot_forecast takes what forecast_how_many"),
    ],
)
def test_a_chart_refuses_another_measures_frame(plot, argument, message: str):
    with pytest.raises(InvalidArgumentError, match=message):
        plot(argument)


def test_throughput_bars_are_as_wide_as_their_days():
    """Before, a week's bar was 6 seconds wide on a date axis (the width a bare number, read in
    the positions' unit, datetime64[s]): the chart showed its average line and no bar."""
    import matplotlib.dates as mdates

    weeks = pd.DataFrame(
        {
            "week": pd.to_datetime(["2025-10-13", "2025-10-20"]).astype("datetime64[s]"),
            "finished": [170, 196],
            "days": [6, 7],
        }
    )
    days = pd.DataFrame(
        {
            "day": pd.to_datetime(["2025-10-13", "2025-10-14"]).astype("datetime64[s]"),
            "finished": [3, 4],
        }
    )
    for frame, width in ((weeks, 6), (days, 0.85)):
        fig = taskkit.plot_throughput(frame)
        bars = [p for p in fig.axes[0].patches if p.get_height() > 0]
        assert len(bars) == 2
        assert [round(b.get_width(), 2) for b in bars] == [width, width]
        assert mdates.num2date(bars[0].get_x()).date() <= frame.iloc[0, 0].date()


@pytest.mark.parametrize(("items", "image"), [(400, False), (1_200, True)])
def test_many_items_in_progress_are_one_image_in_a_vector_file(items: int, image: bool):
    """Before, each of 1,000 items was a marker of its own in the report's SVG (170 KiB for
    the chart); past 500 items the points are one image, the text and lines stay vectors."""
    ages = pd.DataFrame(
        {
            "id": np.arange(1, items + 1),
            "title": [f"item {i}" for i in range(items)],
            "started_at": pd.Timestamp("2025-03-01", tz="UTC"),
            "age_days": pd.array(np.arange(items) % 60, dtype="Int64"),
            "beyond": pd.array([pd.NA] * items, dtype="Int64"),
        }
    )
    svg = io.StringIO()
    taskkit.plot_ageing_wip(ages).savefig(svg, format="svg")
    text = svg.getvalue()
    assert ("<image" in text) is image
    # Each marker is a <use> of one shape (so is each glyph of the text, a few hundred).
    if image:
        assert text.count("<use ") < 300
    else:
        assert text.count("<use ") >= items
