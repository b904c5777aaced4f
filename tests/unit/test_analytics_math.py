"""The arithmetic of the analytics without a database: percentiles, comment grouping, projection."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from service.services.analytics.backlog import BacklogSeries
from service.services.analytics.burndown import project
from service.services.analytics.durations import quantile
from service.services.analytics.filters import normalise_comment


def test_quantile_interpolates_between_ranks() -> None:
    assert quantile([5.0], 0.9) == 5.0
    assert quantile([1.0, 2.0], 0.5) == 1.5
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.0) == 1.0 and quantile([1.0, 2.0, 3.0, 4.0], 1.0) == 4.0
    assert quantile([10.0, 20.0, 30.0, 40.0, 50.0], 0.9) == pytest.approx(46.0)  # rank 3.6: 40 + 0.6·10
    with pytest.raises(ValueError):
        quantile([], 0.5)


def test_comments_group_without_space_punctuation_and_width() -> None:
    same = ["请核对生源地", "请核对 生源地。", "  请核对，生源地！！", "请核对生源地．", "请\u3000核对生源地?"]
    assert {normalise_comment(c) for c in same} == {"请核对生源地"}
    assert normalise_comment("ＩＤ Number wrong") == normalise_comment("id number, wrong") == "idnumberwrong"
    assert normalise_comment("照片不清晰") != normalise_comment("照片清晰")


def _series(completed: list[int], last: date) -> BacklogSeries:
    days = [last - timedelta(days=len(completed) - 1 - i) for i in range(len(completed))]
    return BacklogSeries(days, ["done"], {"done": completed})


def test_projection_uses_the_last_seven_days_and_caps_at_the_total() -> None:
    now = datetime(2026, 11, 20, 4, 0)  # 12:00 Beijing on 11-20
    # 14 days; completed at the end of 11-13 (the day before the 7-day window) is 30, now 100
    series = _series([0, 5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100], date(2026, 11, 20))
    deadline = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # four days later
    b = project(series, ["done"], 200, deadline, now)
    assert b.pace == 10.0 and b.projected == 140 and b.projected_percent == 70.0  # 100 + 10 × 4
    assert b.sentence == "按当前进度，截止日预计完成 70%"
    assert project(series, ["done"], 120, deadline, now).projected == 120  # never past the total
    assert project(series, ["done"], 200, None, now).sentence == "未设置截止时间，无法推算"
    passed = project(series, ["done"], 200, deadline - timedelta(days=5), now)
    assert passed.deadline_passed and passed.projected == 100 and passed.sentence == "截止时间已过，目前完成 50%"
