"""The pure deadline rules: which deadline applies, what is open at an instant, parsing instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.services.deadlines import policy as p

T = datetime(2020, 11, 5, 4, 0, tzinfo=UTC)  # 2020-11-05 12:00 Beijing time
S = timedelta(seconds=1)


def test_the_latest_of_school_college_and_student_applies() -> None:
    assert p.Window(None, college_until=T + S).deadline is None  # nothing to extend
    assert p.Window(T).deadline == T and p.Window(T).source == "school"
    w = p.Window(T, college_until=T + 2 * S, student_until=T + S)
    assert (w.deadline, w.source) == (T + 2 * S, "college")
    w = p.Window(T, p.SOURCE_DEFAULT, college_until=T - S, student_until=T + 3 * S)
    assert (w.deadline, w.source) == (T + 3 * S, "student")
    assert p.Window(T, p.SOURCE_DEFAULT, college_until=T - S).source == "default"  # an earlier one never shortens


def test_editing_and_binding_at_an_instant() -> None:
    w = p.Window(T, resubmit_until=T + 10 * S)
    assert p.editing(w, T, awaiting_resubmit=False).open  # the deadline instant itself is still open
    closed = p.editing(w, T + S, awaiting_resubmit=False)
    assert (closed.open, closed.code) == (False, "deadline_passed") and "2020-11-05 12:00" in closed.message
    window = p.editing(w, T + S, awaiting_resubmit=True)
    assert (window.open, window.code) == (True, "resubmit_window") and "2020-11-05 12:00" in window.message
    after = p.editing(w, T + 10 * S, awaiting_resubmit=True)  # now < resubmit_until, strictly
    assert not after.open and "重新提交期限" in after.message
    assert not p.editing(p.Window(T), T + S, awaiting_resubmit=True).open  # no window set
    assert p.binding(w, T).open and not p.binding(w, T + S).open  # the window never reopens binding
    assert "学籍绑定已截止" in p.binding(w, T + S).message
    assert p.editing(p.Window(None), datetime(2099, 1, 1, tzinfo=UTC), awaiting_resubmit=False).open


@pytest.mark.parametrize(("text", "expected"), [
    ("2020-11-05T12:00+08:00", T), ("2020-11-05T04:00Z", T), ("2020-11-05T12:00", T), ("2020-11-05 12:00:00", T),
])
def test_parse_instant(text: str, expected: datetime) -> None:
    assert p.parse_instant(text) == expected


@pytest.mark.parametrize("text", ["", "  ", "tomorrow", "2020-11-05T12:00\x00", "1999-12-31T12:00+08:00",
                                  "2101-01-01T00:00+00:00", "2100-12-31T23:00-08:00", "9" * 100,
                                  "0001-01-01T00:00+14:00", "2020-02-30T00:00"])
def test_parse_instant_refuses(text: str) -> None:
    with pytest.raises(p.BadInstant) as caught:
        p.parse_instant(text)
    assert any("\u4e00" <= c <= "\u9fff" for c in str(caught.value))


def test_page_fields_are_beijing_time() -> None:
    assert p.from_local_fields("2020-11-05", "12:00") == T
    assert p.from_local_fields("2020-11-05", "") == datetime(2020, 11, 5, 15, 59, tzinfo=UTC)  # 23:59 by default
    for day, clock in (("", "12:00"), ("2020-11-5", "12:00"), ("2020-11-05", "25:00"), ("1999-01-01", "00:00")):
        with pytest.raises(p.BadInstant):
            p.from_local_fields(day, clock)
    assert p.to_utc_naive(T) == datetime(2020, 11, 5, 4, 0) and p.from_utc_naive(datetime(2020, 11, 5, 4)) == T
    assert p.default_deadline("2020-11-05T12:00") == T and p.default_deadline(" ") is None
