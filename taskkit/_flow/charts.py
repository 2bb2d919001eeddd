"""The charts people expect of each flow measure, drawn with matplotlib from the measures'
frames: a cycle-time scatterplot with percentile lines, a throughput run chart, a work in
progress run chart, ageing work in progress, a cumulative flow diagram and a forecast's
histogram.

Each returns a ``matplotlib.figure.Figure``, closed in pyplot (a notebook shows it once, as the
cell's value; ``fig.savefig(path)`` writes it), or draws into the ``ax`` given (a panel of a
figure of your own) and returns its figure. Text that comes from the data (keys, titles) is
drawn with mathtext off, so ``$...$`` in a title reads as written.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from taskkit._errors import InvalidArgumentError
from taskkit._flow.forecast import Forecast
from taskkit._optional import require

__all__ = [
    "plot_ageing_wip",
    "plot_cumulative_flow",
    "plot_cycle_times",
    "plot_forecast",
    "plot_throughput",
    "plot_work_in_progress",
]

WIDE = (10, 3.6)  # inches: a page's width, a third of a screen's height
COLORS = {
    "pending": "#B0B0B0",
    "in_progress": "#DD8452",
    "completed": "#55A868",
    "items": "#4C72B0",
    "line": "#C44E52",
}
# Percentile lines, lightest for the 50th: the higher the line, the rarer the item above it.
_SHADES = ["#8C8C8C", "#6F6F6F", "#C44E52", "#8B1E22"]
_NAMES = {"pending": "pending", "in_progress": "in progress", "completed": "completed"}
# Labels sit inside the axes, on a light box, so that no layout engine is needed to fit them.
_LABEL_BOX = {"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1}
# Titles sit on top of the axes, given rather than found: left to itself, matplotlib measures
# every tick label of the y axis at each drawing to see whether a title must move up (it never
# must here: no ticks on top, integer labels without an offset), a tenth of a chart's time.
_TITLE_Y = 1.0
_TITLE_CHARS = 55  # a 9-point title on a phone's 4.4 inches
_TITLE_LINE_IN = 0.16  # a 9-point line
# Ageing work in progress: the items in one column (x from -_JITTER to _JITTER), the legend of
# the percentile lines in the empty space on their left, the names of the oldest on their right
# (the names sit at the top, where the oldest are, and would run under a legend there). Both
# sides keep room on a phone (3.5 inches of axes): the legend takes 1.4, a name of _NAME_CHARS
# at 8 points about 1.5 with the right margin.
_JITTER = 0.25
_AGEING_X = (-1.7, 1.5)
_NAME_CHARS = 22
_NAME_GAP_PT = 10  # between the middles of two names (8-point text)


def _pyplot() -> Any:
    return require("matplotlib.pyplot", extra="report", feature="the flow charts")


def _figure(ax: Any = None) -> tuple[Any, Any]:
    """A new figure of the page's width and its axes, or the figure of the ``ax`` given."""
    plt = _pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=WIDE)
        fig.subplots_adjust(left=0.07, right=0.98, top=0.9, bottom=0.14)
        plt.close(fig)  # returned, not left for pyplot to show a second time
    ax.spines[["top", "right"]].set_visible(False)
    return ax.figure, ax


def _count(value: float, axis: Any) -> str:
    """A tick's count, in one style for the whole axis: 9,500 where its top is under 10,000,
    else 12k (or 1.2M)."""
    top = max(abs(v) for v in axis.get_view_interval())
    if top >= 1_000_000:
        unit, suffix = 1_000_000, "M"
    elif top >= 10_000:
        unit, suffix = 1_000, "k"
    else:
        return f"{value:,.0f}"
    if not value:
        return "0"
    return f"{value / unit:,.1f}".removesuffix(".0") + suffix


def _integer_axis(axis: Any) -> None:
    """Whole counts on ``axis`` (see :func:`_count`). Tick labels live in the figure's fixed
    left margin (no layout engine): "32,000" pushed the axis' name off a phone's drawing."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(FuncFormatter(lambda value, _: _count(value, axis)))


def _dates(axis_owner: Any) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    axis_owner.xaxis.set_major_locator(locator)
    axis_owner.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _days(column: pd.Series) -> np.ndarray:
    """Naive timestamps as numpy datetime64, which matplotlib converts at once (a pandas
    Series of them goes through Python datetimes one by one)."""
    return column.to_numpy(dtype="datetime64[s]")


def _need(frame: Any, columns: set[str], what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame) or not columns <= set(frame.columns):
        raise InvalidArgumentError(
            f"{what} takes the frame of taskkit.{what.removeprefix('plot_')}() (columns "
            f"{', '.join(sorted(columns))}); got {type(frame).__name__}"
        )
    return frame


def _shared(values: list[Any], names: list[int]) -> list[tuple[Any, str, int]]:
    """Each distinct value with the names that share it ("85%, 95%") and the position of the
    last of them (for its shade): lines drawn on top of each other would hide a label."""
    found: dict[Any, list[int]] = {}
    for position, value in enumerate(values):
        found.setdefault(value, []).append(position)
    return [
        (value, ", ".join(f"{names[i]}%" for i in positions), positions[-1])
        for value, positions in found.items()
    ]


def _percentile_lines(ax: Any, percentiles: pd.DataFrame | None, loc: str = "upper right") -> None:
    """Horizontal lines at the cycle-time percentiles, named in a legend at ``loc`` (labels on
    the lines would overlap where two percentiles are a day or two apart)."""
    if percentiles is None:
        return
    known = percentiles.dropna(subset=["cycle_days"])
    if not len(known):
        return
    shades = _SHADES[-len(known) :]
    days = [int(d) for d in known["cycle_days"]]
    shared = _shared(days, [int(p) for p in known["percentile"]])
    for value, names, last in reversed(shared):  # the highest first, as the lines read
        ax.axhline(
            value, color=shades[last], linestyle="--", linewidth=1, label=f"{names}: {value:,} days"
        )
    ax.legend(loc=loc, fontsize=8, framealpha=0.9, edgecolor="none",
              title="cycle time percentiles", title_fontsize=8)  # fmt: skip


def _notes_title(ax: Any, notes: list[str], *, own: bool) -> None:
    """The chart's notes as its title: on one line, or a line each where one line would run
    past a phone's width (the chart keeps its text size there); a figure of the chart's own
    then gets the room above the axes that the lines take."""
    if len("; ".join(notes)) <= _TITLE_CHARS:
        ax.set_title("; ".join(notes), loc="left", fontsize=9, y=_TITLE_Y)
        return
    ax.set_title("\n".join(notes), loc="left", fontsize=9, y=_TITLE_Y)
    if own:
        fig = ax.figure
        height = fig.get_size_inches()[1]
        room = _TITLE_LINE_IN * len(notes) + 0.12  # the lines, and the title's pad
        fig.subplots_adjust(top=1 - room / height)


def plot_cycle_times(
    cycle_times: pd.DataFrame, percentiles: pd.DataFrame | None = None, *, ax: Any = None
) -> Any:
    """A cycle-time scatterplot: each finished item at its completion day and cycle time,
    with the percentiles as lines ("85% of items took 12 days or less").

    Args:
        cycle_times: :func:`cycle_times`' frame; items without a known start are not drawn,
            and the chart says how many.
        percentiles: :func:`cycle_time_percentiles`' frame, for the lines (optional).
    """
    frame = _need(cycle_times, {"completed_at", "cycle_days"}, "plot_cycle_times")
    known = frame.dropna(subset=["cycle_days"])
    own = ax is None
    fig, ax = _figure(ax)
    when = _days(known["completed_at"].dt.tz_convert("UTC").dt.tz_localize(None))
    ax.scatter(
        when, known["cycle_days"].astype("int64"), s=9, alpha=0.45, color=COLORS["items"],
        linewidths=0, rasterized=len(known) > 5_000,
    )  # fmt: skip
    _percentile_lines(ax, percentiles)
    ax.set_ylabel("cycle time (calendar days)")
    ax.set_ylim(bottom=0)
    notes = [f"{len(known):,} finished items by completion day"]
    if len(known) >= 100:
        # A few very long cycle times would squeeze the rest (and the percentile lines) into
        # the bottom of the chart: the axis stops above the 99th percentile, and says so.
        days = known["cycle_days"].astype("int64")
        top = max(int(np.ceil(days.quantile(0.99) * 1.15)), 10)
        above = days > top
        if above.any():
            ax.set_ylim(0, top)
            notes.append(
                f"{int(above.sum()):,} above {top:,} days (up to {days.max():,}) off scale"
            )
    _integer_axis(ax.yaxis)
    _dates(ax)
    missing = len(frame) - len(known)
    if missing:
        notes.append(f"{missing:,} without a known start not shown")
    _notes_title(ax, notes, own=own)
    return fig


def plot_throughput(throughput: pd.DataFrame, *, ax: Any = None) -> Any:
    """A throughput run chart: items finished per day (or week), with the average as a line.
    Weeks the period cuts are drawn lighter: they hold fewer days."""
    frame = _need(throughput, {"finished"}, "plot_throughput")
    per = "week" if "week" in frame.columns else "day"
    frame = _need(frame, {per}, "plot_throughput")
    fig, ax = _figure(ax)
    whole = frame["days"] == 7 if per == "week" else pd.Series(True, index=frame.index)
    # Widths in time, as the positions: a bare number added to a datetime64[s] position is
    # seconds, and the bars were drawn six seconds wide (invisible).
    width = np.timedelta64(6, "D") if per == "week" else np.timedelta64(73_440, "s")  # 0.85 day
    ax.bar(
        _days(frame[per]),
        frame["finished"].to_numpy(),
        width=width,
        align="edge" if per == "week" else "center",
        color=np.where(whole, COLORS["items"], "#A9BCD8"),
    )
    if whole.any():
        mean = frame.loc[whole, "finished"].mean()
        ax.axhline(
            mean,
            color=COLORS["line"],
            linestyle="--",
            linewidth=1,
            label=f"average {mean:,.1f} a {per}" + (" (whole weeks)" if per == "week" else ""),
        )
        ax.legend(loc="upper left", fontsize=8, framealpha=0.9, edgecolor="none")
    ax.set_ylabel(f"items finished a {per}")
    _integer_axis(ax.yaxis)
    _dates(ax)
    return fig


def plot_work_in_progress(work_in_progress: pd.DataFrame, *, ax: Any = None) -> Any:
    """A work in progress run chart: items in progress at the end of each day."""
    frame = _need(work_in_progress, {"day", "wip"}, "plot_work_in_progress")
    fig, ax = _figure(ax)
    days, wip = _days(frame["day"]), frame["wip"].to_numpy()
    ax.step(days, wip, where="post", color=COLORS["in_progress"])
    ax.fill_between(days, wip, step="post", color=COLORS["in_progress"],
                    alpha=0.2)  # fmt: skip
    ax.set_ylabel("items in progress")
    ax.set_ylim(bottom=0)
    _integer_axis(ax.yaxis)
    _dates(ax)
    return fig


def plot_ageing_wip(
    ages: pd.DataFrame,
    percentiles: pd.DataFrame | None = None,
    *,
    label: int = 5,
    ax: Any = None,
) -> Any:
    """Ageing work in progress: each item in progress by its age, against the cycle-time
    percentiles of finished work; items older than the highest percentile are in red, the
    ``label`` oldest are named (by key, else title, cut to 22 characters).

    Args:
        ages: :func:`work_item_age`'s frame; items without a known start are counted in the
            title, not drawn.
        percentiles: :func:`cycle_time_percentiles`' frame with the same period.
        label: how many of the oldest items to name (0: none).
    """
    frame = _need(ages, {"age_days", "beyond", "id"}, "plot_ageing_wip")
    known = frame.dropna(subset=["age_days"]).reset_index(drop=True)
    fig, ax = _figure(ax)
    if len(known):
        spread = np.random.default_rng(0).uniform(-_JITTER, _JITTER, len(known))  # same each run
        highest = None if percentiles is None else percentiles["percentile"].max()
        oldest = known["beyond"].eq(highest).fillna(False).to_numpy(dtype=bool)
        ages = known["age_days"].to_numpy(dtype="int64")
        # One color a call: a color per point costs matplotlib a conversion per point when
        # drawing (1,000 items: a third of the chart's time). Many points are one image in a
        # vector file (SVG, PDF), as in plot_cycle_times: 1,000 markers written one by one
        # made the chart's SVG 170 KiB.
        many = len(known) > 500
        for which, color in ((~oldest, COLORS["items"]), (oldest, COLORS["line"])):
            ax.scatter(spread[which], ages[which], s=22, color=color, alpha=0.8, rasterized=many)
    _percentile_lines(ax, percentiles, loc="upper left")
    ax.set_xlim(*_AGEING_X)
    ax.set_xticks([0], ["in progress"])
    ax.set_ylabel("age (calendar days since start)")
    ax.set_ylim(bottom=0)
    if len(known) and label > 0:
        _name_oldest(ax, known.head(label), spread)
    _integer_axis(ax.yaxis)
    missing = len(frame) - len(known)
    note = f"; {missing:,} without a known start not shown" if missing else ""
    ax.set_title(f"{len(known):,} items in progress{note}", loc="left", fontsize=9, y=_TITLE_Y)
    return fig


def _name_oldest(ax: Any, oldest: pd.DataFrame, spread: np.ndarray) -> None:
    """Name each item of ``oldest`` (oldest first) beside its point, by key, else title, else
    id; a name that would touch the one above it moves down (items of nearly the same age)."""
    names = oldest["key"] if "key" in oldest.columns else pd.Series(pd.NA, index=oldest.index)
    if "title" in oldest.columns:
        names = names.fillna(oldest["title"])
    # Points per day on the y axis, from the limits set and the axes' height (the phone's
    # drawing keeps the height, so the spacing holds there too).
    low, high = ax.get_ylim()
    height = ax.get_position().height * ax.figure.get_size_inches()[1] * 72
    per_day = height / max(high - low, 1e-9)
    above = float("inf")  # where the name above sits, in points from the axis' bottom
    for row in oldest.itertuples():
        text = names.loc[row.Index]
        text = f"#{row.id}" if pd.isna(text) else str(text)
        at = (row.age_days - low) * per_day
        placed = min(at, above - _NAME_GAP_PT)
        above = placed
        ax.annotate(
            text if len(text) <= _NAME_CHARS else text[: _NAME_CHARS - 1] + "…",
            xy=(spread[row.Index], row.age_days), xytext=(6, placed - at),
            textcoords="offset points", va="center", fontsize=8, parse_math=False,
        )  # fmt: skip


def plot_cumulative_flow(
    cumulative_flow: pd.DataFrame, *, since_start: bool = True, ax: Any = None
) -> Any:
    """A cumulative flow diagram: the day's count of items in each status, stacked with
    completed at the bottom. The width of a band is its work in progress (or backlog); the
    slope of the completed band is throughput.

    Args:
        cumulative_flow: :func:`cumulative_flow`'s frame.
        since_start: count completed items from the period's first day (the band starts at
            0), so that the work of the period is not dwarfed by everything finished before;
            ``False`` stacks the counts as they are.
    """
    frame = _need(
        cumulative_flow, {"day", "pending", "in_progress", "completed"}, "plot_cumulative_flow"
    )
    fig, ax = _figure(ax)
    order = ["completed", "in_progress", "pending"]
    bands = {s: frame[s] for s in order}
    names = dict(_NAMES)
    if since_start and len(frame):
        bands["completed"] = frame["completed"] - frame["completed"].iloc[0]
        names["completed"] = f"completed since {pd.Timestamp(frame['day'].iloc[0]):%d %b %Y}"
    ax.stackplot(
        _days(frame["day"]), *(bands[s].to_numpy() for s in order),
        labels=[names[s] for s in order],
        colors=[COLORS[s] for s in order], linewidth=0,
    )  # fmt: skip
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], frameon=False, loc="upper left")
    ax.set_ylabel("items")
    ax.set_ylim(bottom=0)
    ax.margins(x=0)
    _integer_axis(ax.yaxis)
    _dates(ax)
    return fig


def plot_forecast(forecast: Forecast, *, ax: Any = None) -> Any:
    """A forecast's histogram: how often each outcome came up in the trials, with the
    likelihoods marked ("85%: 42 items or more", "85%: by 12 May 2026")."""
    if not isinstance(forecast, Forecast):
        raise InvalidArgumentError(
            "plot_forecast takes what forecast_how_many or forecast_when returns; got "
            f"{type(forecast).__name__}"
        )
    fig, ax = _figure(ax)
    outcomes = forecast.outcomes
    low, high = int(outcomes.min()), int(outcomes.max())
    bins = np.arange(low, high + 2) - 0.5 if high - low <= 120 else 60
    ax.hist(outcomes, bins=bins, color=COLORS["items"], alpha=0.85)
    table = forecast.likelihoods
    shades = _SHADES[-len(table) :]
    column = "items" if forecast.question == "how many" else "days"
    values = [int(v) for v in table[column]]
    for value, names, last in _shared(values, [int(p) for p in table["likelihood"]]):
        ax.axvline(value, color=shades[last], linestyle="--", linewidth=1)
        if forecast.question == "how many":
            words = f"{names}: {value:,} or more"
        else:
            when = forecast.start + timedelta(days=value - 1)
            words = f"{names}: by {when:%d %b %Y}"
        ax.annotate(
            words, xy=(value, 1), xycoords=("data", "axes fraction"), xytext=(3, -4),
            textcoords="offset points", rotation=90, va="top", fontsize=8, color=shades[last],
            bbox=_LABEL_BOX,
        )  # fmt: skip
    if forecast.question == "how many":
        assert forecast.until is not None
        ax.set_xlabel(f"items finished from {forecast.start:%d %b %Y} to {forecast.until:%d %b %Y}")
    else:
        ax.set_xlabel(f"days from {forecast.start:%d %b %Y} to finish {forecast.items:,} items")
    ax.set_ylabel(f"trials (of {forecast.trials:,})")
    _integer_axis(ax.yaxis)
    return fig
