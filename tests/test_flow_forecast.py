"""Monte Carlo forecasts: reproducible with a seed, right where the answer is known exactly,
close to the exact distribution where it is not, and the argument checks."""

import math
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

import taskkit
from taskkit import InvalidArgumentError


def daily(counts: list[int], first: str = "2025-01-01") -> pd.DataFrame:
    days = pd.date_range(first, periods=len(counts), freq="D", unit="s")
    return pd.DataFrame({"day": days, "finished": np.array(counts, dtype="int64")})


def test_the_same_seed_gives_the_same_forecast_and_another_seed_another():
    sample = daily(list(np.random.default_rng(1).poisson(2.5, 60)))
    one = taskkit.forecast_how_many(sample, until="2025-05-31", seed=7)
    again = taskkit.forecast_how_many(sample, until="2025-05-31", seed=7)
    other = taskkit.forecast_how_many(sample, until="2025-05-31", seed=8)
    assert np.array_equal(one.outcomes, again.outcomes)
    assert not np.array_equal(one.outcomes, other.outcomes)
    when = [taskkit.forecast_when(sample, items=120, seed=7).outcomes for _ in range(2)]
    assert np.array_equal(*when)


def test_a_steady_pace_forecasts_exactly():
    steady = daily([2] * 28)  # two items every day, weekends too
    many = taskkit.forecast_how_many(steady, until="2025-02-07", trials=500, seed=0)
    assert many.start == date(2025, 1, 29)  # the day after the sample
    assert many.likelihoods["items"].tolist() == [20, 20, 20]  # 10 days x 2
    when = taskkit.forecast_when(steady, items=7, trials=500, seed=0)
    assert when.likelihoods["days"].tolist() == [4, 4, 4]  # 2, 4, 6, then 8 >= 7
    assert when.likelihoods["date"].tolist() == [pd.Timestamp("2025-02-01")] * 3


def _binomial_at_least(n: int, k: int) -> float:
    """P(Binomial(n, 1/2) >= k)."""
    return sum(math.comb(n, i) for i in range(max(k, 0), n + 1)) / 2**n


def test_how_many_matches_the_exact_distribution_of_a_coin_flip_pace():
    # Each day finishes 0 or 4 items, as often: 30 days finish 4 x Binomial(30, 1/2).
    coin = daily([0, 4] * 20)
    got = taskkit.forecast_how_many(coin, until="2025-03-13", seed=3)  # 30 days
    for likelihood, items in zip(got.likelihoods["likelihood"], got.likelihoods["items"],
                                 strict=True):  # fmt: skip
        # The exact answer: the most items reached with at least that likelihood.
        exact = max(4 * k for k in range(31) if _binomial_at_least(30, k) >= likelihood / 100)
        assert abs(items - exact) <= 4, (likelihood, items, exact)  # one step of the sample


def test_when_matches_the_exact_distribution_of_a_coin_flip_pace():
    # Each day finishes 0 or 1 item: 10 items are done by day d when Binomial(d, 1/2) >= 10.
    coin = daily([0, 1] * 20)
    got = taskkit.forecast_when(coin, items=10, seed=3)
    for likelihood, days in zip(got.likelihoods["likelihood"], got.likelihoods["days"],
                                strict=True):  # fmt: skip
        exact = min(d for d in range(10, 200) if _binomial_at_least(d, 10) >= likelihood / 100)
        assert abs(days - exact) <= 1, (likelihood, days, exact)


def test_the_likelihood_table_reads_the_outcomes_by_nearest_rank():
    sample = daily(list(np.random.default_rng(2).poisson(1.5, 45)))
    many = taskkit.forecast_how_many(sample, until="2025-04-30", trials=1_000, seed=1)
    totals = np.sort(many.outcomes)
    for likelihood, items in zip(many.likelihoods["likelihood"], many.likelihoods["items"],
                                 strict=True):  # fmt: skip
        assert (totals >= items).mean() >= likelihood / 100
        assert (totals >= items + 1).mean() < likelihood / 100
    when = taskkit.forecast_when(sample, items=40, trials=1_000, seed=1)
    for likelihood, days in zip(when.likelihoods["likelihood"], when.likelihoods["days"],
                                strict=True):  # fmt: skip
        assert (when.outcomes <= days).mean() >= likelihood / 100
        assert (when.outcomes <= days - 1).mean() < likelihood / 100


def test_a_series_of_daily_counts_is_a_sample_too():
    series = daily([1, 0, 3]).set_index("day")["finished"]
    frame = daily([1, 0, 3])
    a = taskkit.forecast_how_many(series, until="2025-01-20", seed=4)
    b = taskkit.forecast_how_many(frame, until="2025-01-20", seed=4)
    pd.testing.assert_frame_equal(a.likelihoods, b.likelihoods)


@pytest.mark.parametrize(
    ("sample", "kwargs", "message"),
    [
        ("x", {"until": "2025-02-01"}, "daily must be the frame of taskkit.throughput"),
        (daily([]), {"until": "2025-02-01"}, "daily holds no day"),
        (daily([1, 2]).iloc[[0, 1, 1]], {"until": "2025-02-01"}, "one row per calendar day"),
        (
            pd.DataFrame({"day": pd.to_datetime(["2025-01-06", "2025-01-13"]), "finished": [3, 4]}),
            {"until": "2025-02-01"},
            "a week's count cannot be sampled as a day's",
        ),
        (daily([1, -1]), {"until": "2025-02-01"}, "whole numbers of 0 or more"),
        (daily([1, 2]), {"until": "2025-01-02"}, r"until \(2025-01-02\) must not be before"),
        (daily([1, 2]), {"until": "2025-02-01", "trials": 0}, "trials must be"),
        (daily([1, 2]), {"until": "2025-02-01", "seed": -1}, "seed must be a whole number"),
        (daily([1, 2]), {"until": "2025-02-01", "likelihoods": [0]}, "whole numbers from 1"),
    ],
)
def test_how_many_refuses_arguments_naming_them(sample: Any, kwargs: dict, message: str):
    with pytest.raises(InvalidArgumentError, match=message):
        taskkit.forecast_how_many(sample, **kwargs)


def test_when_refuses_a_sample_that_finished_nothing():
    with pytest.raises(InvalidArgumentError, match="finished no item: no finish date"):
        taskkit.forecast_when(daily([0] * 14), items=3)
    with pytest.raises(InvalidArgumentError, match="items must be"):
        taskkit.forecast_when(daily([1] * 14), items=0)


def test_when_gives_up_beyond_a_hundred_years():
    with pytest.raises(InvalidArgumentError, match="beyond 36,525 days"):
        taskkit.forecast_when(daily([1] + [0] * 999), items=100, trials=10, seed=0)
