"""Monte Carlo forecasts from sampled daily throughput: how many items by a date, and when a
number of items will be done, each with the likelihoods people plan with (50, 85, 95%).

Each trial draws every future calendar day's throughput from the days sampled (with
replacement: a day that finished nothing can be drawn too, as weekends are), the way
ActionableAgile, LetPeopleWork's Lighthouse and jira-agile-metrics forecast. numpy draws
10,000 trials at once: a trial's total over many days is one multinomial draw (how often
each observed value comes up), so a year ahead costs no more than a week.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from taskkit._checks import positive_int
from taskkit._errors import InvalidArgumentError
from taskkit._flow.cycle_time import check_percentiles
from taskkit._flow.period import DAY_DTYPE, check_day

__all__ = ["LIKELIHOODS", "Forecast", "forecast_how_many", "forecast_when"]

#: The likelihoods forecasts report by default.
LIKELIHOODS = (50, 85, 95)
TRIALS = 10_000
# A "when" forecast gives up beyond this many days (a hundred years), rather than run on.
_LONGEST = 36_525
# Draws held at once by a "when" forecast (trials x days): about 40 MB of int64.
_DRAWS_AT_ONCE = 5_000_000


@dataclass(frozen=True, eq=False)
class Forecast:
    """The outcome of a Monte Carlo forecast.

    Attributes:
        question: ``"how many"`` (items finished from ``start`` to ``until``) or ``"when"``
            (days until ``items`` are finished, counting ``start`` as day 1).
        likelihoods: one row per likelihood: ``likelihood`` (percent), then for "how many"
            ``items`` (at least this many are finished, in that share of the trials), for
            "when" ``days`` and ``date`` (finished by then in that share of the trials).
        outcomes: each trial's result (items, or days), for a histogram.
        start: the first forecast day; ``until`` / ``items``: what was asked.
        sample_first, sample_last: the days whose throughput was sampled.
        trials, seed: how it was drawn; the same seed gives the same outcomes.
    """

    question: Literal["how many", "when"]
    likelihoods: pd.DataFrame
    outcomes: np.ndarray = field(repr=False)
    start: date
    until: date | None
    items: int | None
    sample_first: date
    sample_last: date
    trials: int
    seed: int | None


def _daily_sample(daily: Any) -> tuple[np.ndarray, date, date]:
    """The finished counts of ``daily`` (``throughput(..., per="day")``'s frame, or a Series
    indexed by day), with its first and last day."""
    if isinstance(daily, pd.DataFrame) and {"day", "finished"} <= set(daily.columns):
        days, counts = pd.DatetimeIndex(daily["day"]), daily["finished"]
    elif isinstance(daily, pd.Series) and isinstance(daily.index, pd.DatetimeIndex):
        days, counts = daily.index, daily
    else:
        raise InvalidArgumentError(
            "daily must be the frame of taskkit.throughput(..., per='day') (columns day and "
            "finished) or a Series of finished items indexed by day; got "
            f"{type(daily).__name__}"
        )
    if len(days) == 0:
        raise InvalidArgumentError("daily holds no day: there is no throughput to sample")
    normalized = days.tz_localize(None) if days.tz is not None else days
    steps = np.diff(normalized.to_numpy().astype("datetime64[D]").astype(np.int64))
    if (normalized != normalized.normalize()).any() or (steps != 1).any():
        raise InvalidArgumentError(
            "daily must hold one row per calendar day, in order and without gaps (as "
            "throughput(..., per='day') gives); a week's count cannot be sampled as a day's"
        )
    values = pd.to_numeric(counts, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    if np.isnan(values).any() or (values < 0).any() or (values != np.floor(values)).any():
        raise InvalidArgumentError(
            "daily's finished counts must be whole numbers of 0 or more, none missing"
        )
    return values.astype(np.int64), normalized[0].date(), normalized[-1].date()


def _generator(seed: Any) -> np.random.Generator:
    if seed is None or (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        return np.random.default_rng(seed)
    raise InvalidArgumentError(f"seed must be a whole number of 0 or more, or None; got {seed!r}")


def _start(start: Any, last: date) -> date:
    return last + timedelta(days=1) if start is None else check_day("start", start)


def _nearest_rank(sorted_values: np.ndarray, share: int) -> Any:
    """The smallest value that at least ``share`` percent of the sorted values do not exceed."""
    rank = -(-share * len(sorted_values) // 100)  # ceil(share * n / 100), in integers
    return sorted_values[rank - 1]


def forecast_how_many(
    daily: Any,
    *,
    until: Any,
    start: Any = None,
    trials: int = TRIALS,
    seed: int | None = None,
    likelihoods: Any = LIKELIHOODS,
) -> Forecast:
    """How many items will be finished from ``start`` to ``until`` (both included)?

    Args:
        daily: the days to sample: ``throughput(..., per="day")``'s frame (or a Series of
            counts indexed by day), typically the last weeks or months.
        until: the last day of the forecast (a date or an ISO date).
        start: the first day (default: the day after the sample's last day).
        trials: how many futures to draw (default 10,000).
        seed: the same seed gives the same forecast (default: a fresh one each time).
        likelihoods: percentages (default 50, 85, 95).

    Returns:
        A :class:`Forecast`; its ``likelihoods`` frame says, for each likelihood L, the most
        items finished in at least L% of the trials ("85%: 42 items or more").

    Raises:
        InvalidArgumentError: an argument is not allowed (the message names it).
    """
    sample, first, last = _daily_sample(daily)
    begin = _start(start, last)
    end = check_day("until", until)
    if end < begin:
        raise InvalidArgumentError(
            f"until ({end.isoformat()}) must not be before start ({begin.isoformat()})"
        )
    count = positive_int("trials", trials)
    shares = check_percentiles(likelihoods)
    rng = _generator(seed)
    values, times = np.unique(sample, return_counts=True)
    # A trial's total is the sum of one draw per day; how often each observed value is drawn
    # over the days is multinomial, so the totals need no day-by-day draws.
    drawn = rng.multinomial((end - begin).days + 1, times / times.sum(), size=count)
    totals = np.sort(drawn @ values)
    # At least X items in L% of the trials: the largest X that L% of the totals reach.
    most = [int(totals[count - -(-share * count // 100)]) for share in shares]
    table = pd.DataFrame(
        {"likelihood": np.array(shares, dtype="int64"), "items": np.array(most, dtype="int64")}
    )
    return Forecast("how many", table, totals, begin, end, None, first, last, count, seed)


def forecast_when(
    daily: Any,
    *,
    items: int,
    start: Any = None,
    trials: int = TRIALS,
    seed: int | None = None,
    likelihoods: Any = LIKELIHOODS,
) -> Forecast:
    """When will ``items`` more items be finished, counting from ``start``?

    Args:
        daily: the days to sample, as for :func:`forecast_how_many`.
        items: how many items are to be finished (1 or more).
        start: the first day of the forecast (default: the day after the sample's last day).
        trials, seed, likelihoods: as for :func:`forecast_how_many`.

    Returns:
        A :class:`Forecast`; its ``likelihoods`` frame says, for each likelihood L, the day by
        which the items were finished in at least L% of the trials (``days``, counting
        ``start`` as day 1, and ``date``).

    Raises:
        InvalidArgumentError: an argument is not allowed, or the sampled days finished
            nothing (no finish can be forecast from them), or the forecast would run beyond a
            hundred years.
    """
    sample, first, last = _daily_sample(daily)
    begin = _start(start, last)
    wanted = positive_int("items", items)
    count = positive_int("trials", trials)
    shares = check_percentiles(likelihoods)
    rng = _generator(seed)
    if not sample.any():
        raise InvalidArgumentError(
            f"the sampled days ({first.isoformat()} to {last.isoformat()}) finished no item: "
            "no finish date can be forecast from them; sample a period with finished work"
        )
    days = _days_needed(rng, sample, wanted, count)
    ordered = np.sort(days)
    needed = [int(_nearest_rank(ordered, share)) for share in shares]
    dates = [begin + timedelta(days=n - 1) for n in needed]
    table = pd.DataFrame(
        {
            "likelihood": np.array(shares, dtype="int64"),
            "days": np.array(needed, dtype="int64"),
            "date": pd.to_datetime(dates).astype(DAY_DTYPE),
        }
    )
    return Forecast("when", table, ordered, begin, None, wanted, first, last, count, seed)


def _days_needed(
    rng: np.random.Generator, sample: np.ndarray, items: int, trials: int
) -> np.ndarray:
    """For each trial, the first day (1-based) by which its running total reaches ``items``."""
    done_after = np.zeros(trials, dtype=np.int64)  # days drawn so far
    total = np.zeros(trials, dtype=np.int64)
    result = np.zeros(trials, dtype=np.int64)
    running = np.arange(trials)
    # Enough days for most trials in one block: twice the days the mean throughput needs.
    block = int(min(2 * items / sample.mean() + 16, _DRAWS_AT_ONCE // trials + 1, _LONGEST))
    while len(running):
        if done_after[running[0]] >= _LONGEST:
            raise InvalidArgumentError(
                f"finishing {items:,} items at the sampled pace would take beyond "
                f"{_LONGEST:,} days in some trials; sample a period with more finished work"
            )
        draws = rng.choice(sample, size=(len(running), block))
        reached = total[running, None] + np.cumsum(draws, axis=1) >= items
        finished = reached.any(axis=1)
        first_day = reached.argmax(axis=1)
        ended = running[finished]
        result[ended] = done_after[ended] + first_day[finished] + 1
        still = running[~finished]
        total[still] += draws[~finished].sum(axis=1)
        done_after[still] += block
        running = still
    if result.max() > _LONGEST:
        raise InvalidArgumentError(
            f"finishing {items:,} items at the sampled pace would take beyond {_LONGEST:,} "
            "days in some trials; sample a period with more finished work"
        )
    return result
