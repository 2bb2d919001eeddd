"""The weekly chart's weeks (issue 28): every week of the range, a week without a task a zero,
a week the data covers only in part left out, at the range's ends and inside it."""

from datetime import date

import pandas as pd

from taskkit._report.weeks import monday, weekly


def days(*rows: tuple[str, int, int, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["day", "created", "done", "dropped"])


def test_weeks_without_a_task_are_zeros_not_left_out():
    """Before, a week with no task had no row, and the line joined the weeks around it: three
    imported tasks 48 weeks after the synthetic data read as a slow decline."""
    data = days(("2025-03-03", 5, 1, 0), ("2025-03-31", 2, 0, 1))
    weeks = weekly(data, date(2025, 3, 3), date(2025, 4, 6))
    assert list(weeks.counts.index.date) == [
        date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 17), date(2025, 3, 24),
        date(2025, 3, 31),
    ]  # fmt: skip
    assert list(weeks.counts["created"]) == [5, 0, 0, 0, 2]
    assert weeks.partial == []


def test_days_add_up_to_their_week_and_days_after_the_range_are_left_out():
    data = days(
        ("2025-03-03", 1, 0, 0),
        ("2025-03-09", 2, 1, 0),  # Sunday: same week
        ("2025-03-09", 0, 2, 1),  # completions of that day, grouped apart
        ("2025-03-10", 0, 7, 0),  # after the range's last day
    )
    weeks = weekly(data, date(2025, 3, 3), date(2025, 3, 9))
    assert weeks.counts.loc["2025-03-03"].to_dict() == {"created": 3, "done": 3, "dropped": 1}
    assert len(weeks.counts) == 1


def test_partial_weeks_at_both_ends_are_left_out():
    data = days(("2025-03-05", 1, 0, 0), ("2025-03-12", 2, 0, 0), ("2025-03-29", 4, 0, 0))
    # 2025-03-05 is a Wednesday, 2025-03-29 a Saturday.
    weeks = weekly(data, date(2025, 3, 5), date(2025, 3, 29))
    assert weeks.partial == [date(2025, 3, 3), date(2025, 3, 24)]
    assert weeks.at_ends == weeks.partial and weeks.inside == []
    assert list(weeks.whole.index.date) == [date(2025, 3, 10), date(2025, 3, 17)]
    assert weeks.counts.loc["2025-03-03"].isna().all()


def test_a_part_of_the_data_stopping_mid_week_leaves_that_week_out_inside_the_range():
    """Before, only the weeks at the range's two ends were left out: the synthetic dataset's
    last week (it ends on a Wednesday) read as a drop before the imported tasks."""
    data = days(("2024-12-30", 50, 0, 0), ("2025-01-06", 70, 0, 0), ("2025-03-03", 1, 0, 0))
    synthetic = (date(2024, 12, 30), date(2025, 1, 8))  # Monday to Wednesday
    imported = (date(2025, 3, 3), date(2025, 3, 9))  # Monday to Sunday: whole
    weeks = weekly(data, date(2024, 12, 30), date(2025, 3, 9), [synthetic, imported])
    assert weeks.partial == [date(2025, 1, 6)] == weeks.inside
    assert weeks.counts["created"].loc["2025-01-13":"2025-02-24"].tolist() == [0] * 7
    assert list(weeks.whole["created"].iloc[[0, -1]]) == [50, 1]


def test_a_part_outside_the_chosen_dates_is_cut_to_them():
    weeks = weekly(
        days(("2025-03-10", 1, 0, 0)), date(2025, 3, 10), date(2025, 3, 23),
        [(date(2025, 1, 1), date(2025, 12, 31))],
    )  # fmt: skip
    assert weeks.partial == []


def test_monday():
    assert monday(date(2025, 3, 9)) == date(2025, 3, 3)
    assert monday(date(2025, 3, 10)) == date(2025, 3, 10)
