"""Process analytics checked against figures computed by hand on a small fixed history.

The history (tests/support/analytics_history.py) is five records moved through the real process
at fixed Beijing times. Every expected number below is worked out in the comments from that
timetable, not read back from the code. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date

import pytest

from service import clock
from service.services.analytics import backlog, burndown, durations, rejections, throughput
from service.services.analytics.filters import AnalyticsFilters, normalise_comment, scope_for
from service.services.analytics.tables import report
from tests.support import analytics_history as h

pytestmark = pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def history(db, settings):
    return h.build(settings)


def _scope(history, **kw):
    return scope_for(history.centre, AnalyticsFilters(**kw))


def _by_status(rows):
    return {r.status: (r.count, r.median_hours, r.p90_hours, r.open) for r in rows}


def test_durations_by_hand(history) -> None:
    with clock.fixed(h.NOW):
        rows = durations.status_durations(_scope(history))
    # 未提交: A 09→10 = 1 h, B 09→12 = 3 h, C 10-01 09 → 10-02 09 = 24 h, D → 10-03 09 = 48 h; E still there.
    #   sorted [1, 3, 24, 48]: median (3 + 24) / 2 = 13.5; p90 at rank 3·0.9 = 2.7: 24 + 0.7·(48 − 24) = 40.8
    # 二级待审: A 10→14 = 4, B 10-01 12 → 10-02 12 = 24, B again 10-03 12→18 = 6, C 09→21 = 12,
    #   D 10-03 09 → 10-04 09 = 24; D's second stay is open. sorted [4, 6, 12, 24, 24]: median 12;
    #   p90 at rank 4·0.9 = 3.6: 24 + 0.6·0 = 24
    # 中心待审: A 10-01 14 → 10-02 10 = 20, B 10-03 18 → 10-04 18 = 24, C 10-02 21 → 10-03 07 = 10.
    #   sorted [10, 20, 24]: median 20; p90 at rank 1.8: 20 + 0.8·4 = 23.2
    # 不同意: B 10-02 12 → 10-03 12 = 24, D 10-04 09 → 21 = 12; C still there. [12, 24]: median 18;
    #   p90 at rank 0.9: 12 + 0.9·12 = 22.8
    assert _by_status(rows) == {
        "未提交": (4, 13.5, 40.8, 1), "二级待审": (5, 12.0, 24.0, 1), "中心待审": (3, 20.0, 23.2, 0),
        "不同意": (2, 18.0, 22.8, 1),
    }
    assert [r.status for r in rows] == ["未提交", "二级待审", "中心待审", "不同意"]  # the BPMN's order


def test_durations_filtered_by_day_and_reviewer(history) -> None:
    # Stays that ended on 10-02 (Beijing): 未提交 C 24 h; 二级待审 B 24 h and C 12 h; 中心待审 A 20 h.
    day = date(2026, 10, 2)
    got = _by_status(durations.status_durations(_scope(history, since=day, until=day)))
    assert got["未提交"][:3] == (1, 24.0, 24.0)
    assert got["二级待审"][:3] == (2, 18.0, 22.8)  # [12, 24]: median 18, p90 12 + 0.9·12
    assert got["中心待审"][:3] == (1, 20.0, 20.0)
    assert got["不同意"][:3] == (0, None, None)
    # Ended by cent1 only: the three 中心待审 stays [10, 20, 24]; nothing else is cent1's.
    got = _by_status(durations.status_durations(_scope(history, reviewer="cent1")))
    assert got["中心待审"] == (3, 20.0, 23.2, 0)
    assert got["二级待审"][0] == got["未提交"][0] == got["不同意"][0] == 0


def test_rejection_rates_and_reasons_by_hand(history) -> None:
    r = rejections.rejections(_scope(history))
    # 二级: A ok, B no, B ok, C ok, D no → 5 reviews, 2 rejected = 40 %. 中心: A ok, B ok, C no → 1/3 = 33.3 %.
    assert [(lv.level, lv.reviews, lv.rejected, lv.rate) for lv in r.levels] == [
        ("二级", 5, 2, 40.0), ("中心", 3, 1, 33.3)]
    # "请核对生源地。" and "请核对 生源地！" are one reason once space and punctuation go (2 of 3 = 66.7 %);
    # it is shown by its first wording in text order (both occur once): the one with the space.
    assert [(x.text, x.count, x.share) for x in r.reasons] == [("请核对 生源地！", 2, 66.7), ("照片不清晰", 1, 33.3)]
    assert r.rejected == 3
    # Only 10-04 (Beijing): coun1 rejects D at 09:00 (二级 1 of 1) and cent1 approves B at 18:00 (中心 0 of 1).
    day = date(2026, 10, 4)
    r = rejections.rejections(_scope(history, since=day, until=day))
    assert [(lv.level, lv.reviews, lv.rejected) for lv in r.levels] == [("二级", 1, 1), ("中心", 1, 0)]
    assert normalise_comment("  请核对，生源地！ ") == normalise_comment("请核对生源地") == "请核对生源地"


def test_throughput_per_reviewer_per_day_by_hand(history) -> None:
    t = throughput.throughput(_scope(history))
    # coun1: 10-01 A; 10-02 B (reject), C; 10-03 B; 10-04 D (reject).
    # cent1: 10-02 A; 10-03 C (07:00 Beijing = 10-02 23:00 UTC: counted on the Beijing day); 10-04 B.
    got = {(r.day.isoformat(), r.reviewer): r.count for r in t.rows}
    assert got == {
        ("2026-10-01", "coun1"): 1, ("2026-10-02", "coun1"): 2, ("2026-10-03", "coun1"): 1, ("2026-10-04", "coun1"): 1,
        ("2026-10-02", "cent1"): 1, ("2026-10-03", "cent1"): 1, ("2026-10-04", "cent1"): 1,
    }
    assert t.totals() == {("10561", "coun1"): 5, ("10561", "cent1"): 3}
    # of which 不通过: coun1 B on 10-02 and D on 10-04; cent1 C on 10-03
    assert {(r.day.isoformat(), r.reviewer) for r in t.rows if r.rejected} == {
        ("2026-10-02", "coun1"), ("2026-10-04", "coun1"), ("2026-10-03", "cent1")}
    assert sum(r.rejected for r in t.rows) == 3
    # The other college (E, never submitted) has no reviews at all.
    assert throughput.throughput(_scope(history, college=(history.world.c2.id,))).rows == []


def test_backlog_per_day_by_hand(history) -> None:
    with clock.fixed(h.NOW):
        b = backlog.backlog(_scope(history))
    # End of each Beijing day (stays entered and left the same day never show):
    # 10-01 未提交 C D E = 3, 二级待审 B = 1, 中心待审 A = 1
    # 10-02 未提交 D E = 2, 中心待审 C = 1, 不同意 B = 1, 完成 A = 1
    # 10-03 未提交 E, 二级待审 D, 中心待审 B, 不同意 C, 完成 A: 1 each
    # 10-04 … 10-10 未提交 E, 二级待审 D, 不同意 C: 1 each, 完成 A B = 2
    assert b.statuses == ["未提交", "二级待审", "中心待审", "不同意", "完成"]
    assert b.days[0] == date(2026, 10, 1) and b.days[-1] == date(2026, 10, 10) and len(b.days) == 10
    rows = [[b.counts[s][i] for s in b.statuses] for i in range(len(b.days))]
    assert rows[:4] == [[3, 1, 1, 0, 0], [2, 0, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 0, 1, 2]]
    assert rows[4:] == [[1, 1, 0, 1, 2]] * 6
    assert all(sum(r) == 5 for r in rows)
    # A window: the counts at its first day carry everything before it.
    with clock.fixed(h.NOW):
        w = backlog.backlog(_scope(history, since=date(2026, 10, 3), until=date(2026, 10, 4)))
    assert w.days == [date(2026, 10, 3), date(2026, 10, 4)]
    assert [[w.counts[s][i] for s in w.statuses] for i in range(2)] == [[1, 1, 1, 1, 1], [1, 1, 0, 1, 2]]


def test_burndown_and_projection_by_hand(history, settings) -> None:
    with clock.fixed(h.NOW):
        b = burndown.burndown(_scope(history), settings)
        full = report(_scope(history), settings)
    # total: 5 records + 2 unbound roster students = 7.
    # completed at the end of each day 10-01 … 10-10: 0, 1 (A), 1, 2 (B), 2, 2, 2, 2, 2, 2
    # pace: the last 7 days are 10-04 … 10-10; completed at the end of 10-03 was 1, now 2 → 1 / 7 = 0.14 a day
    # days left: 10-10 12:00 → 10-15 12:00 = 5.0; projected 2 + 5 / 7 = 2.71 → 2 whole records; 2 / 7 = 28.6 %
    assert b.total == 7
    assert b.completed == [0, 1, 1, 2, 2, 2, 2, 2, 2, 2]
    assert b.daily == [0, 1, 0, 1, 0, 0, 0, 0, 0, 0]
    assert b.remaining[-1] == 5
    assert b.pace == 0.14
    assert b.projected == 2 and b.projected_percent == 28.6
    assert b.sentence == "按当前进度，截止日预计完成 29%"
    assert b.deadline == h.DEADLINE
    # The dashboard's one-pass report gives the same figures as the separate calls.
    assert full.burndown.completed == b.completed and full.burndown.projected == b.projected
    assert _by_status(full.durations)["中心待审"] == (3, 20.0, 23.2, 0)
    assert full.backlog.counts["完成"][-1] == 2
    # Two days before the deadline, at the same pace: 2 + 2 / 7 ≈ 2.29 → 2 (28.6 %); after it: what was done.
    with clock.fixed(h.at("10-13", "12:00")):
        later = burndown.burndown(_scope(history), settings)
    # window 10-07 … 10-13: completed at the end of 10-06 was 2, now 2 → pace 0 → projected 2
    assert later.pace == 0.0 and later.projected == 2
    with clock.fixed(h.at("10-16", "12:00")):
        after = burndown.burndown(_scope(history), settings)
    assert after.deadline_passed and after.sentence == "截止时间已过，目前完成 29%"


def test_stays_are_the_same_whatever_the_chunk_of_records(history) -> None:
    from service.services.analytics import timeline

    scope = _scope(history)
    whole = list(timeline.stays(scope))
    # status-changing events: A 4 (create, submit, 2 approvals), B 6, C 4, D 4, E 1 (create) = 19, each
    # starting a stay: 14 closed (the 4 + 5 + 3 + 2 of test_durations_by_hand) and 5 open, one per record
    assert len(whole) == 19 and sum(s.left is None for s in whole) == 5
    assert list(timeline.stays(scope, chunk=2)) == whole == list(timeline.stays(scope, chunk=1))


def test_durations_by_reviewer_and_by_college_by_hand(history) -> None:
    by_reviewer = {(g.group, g.status): (g.count, g.median_hours, g.p90_hours)
                   for g in durations.durations_by(_scope(history), "reviewer")}
    # every 二级待审 stay ended with coun1's decision: [4, 6, 12, 24, 24] → 12, p90 24; every 中心待审 one with
    # cent1's: [10, 20, 24] → 20, 23.2; 未提交 and 不同意 stays end with the student's (re)submission.
    assert by_reviewer == {
        ("coun1", "二级待审"): (5, 12.0, 24.0), ("cent1", "中心待审"): (3, 20.0, 23.2),
        ("stuA", "未提交"): (1, 1.0, 1.0), ("stuB", "未提交"): (1, 3.0, 3.0), ("stuC", "未提交"): (1, 24.0, 24.0),
        ("stuD", "未提交"): (1, 48.0, 48.0), ("stuB", "不同意"): (1, 24.0, 24.0), ("stuD", "不同意"): (1, 12.0, 12.0),
    }
    # A–D are in 计算机科学与工程学院, E (外国语学院) has no finished stay: one college, the overall figures
    by_college = [(g.group, g.status, g.count, g.median_hours) for g in durations.durations_by(_scope(history), "college")]
    assert by_college == [("计算机科学与工程学院", "未提交", 4, 13.5), ("计算机科学与工程学院", "二级待审", 5, 12.0),
                          ("计算机科学与工程学院", "中心待审", 3, 20.0), ("计算机科学与工程学院", "不同意", 2, 18.0)]


def test_backlog_stops_at_today(history) -> None:
    with clock.fixed(h.NOW):
        b = backlog.backlog(_scope(history, since=date(2026, 10, 9), until=date(2026, 12, 31)))
    assert b.days == [date(2026, 10, 9), date(2026, 10, 10)]
    assert [b.counts[s][-1] for s in b.statuses] == [1, 1, 0, 1, 2]


def test_the_one_pass_report_equals_the_separate_calls_with_a_date_range(history, settings) -> None:
    scope = _scope(history, since=date(2026, 10, 2), until=date(2026, 10, 3))
    with clock.fixed(h.NOW):
        full = report(scope, settings)
        alone = durations.status_durations(scope)
        back = backlog.backlog(scope)
        burn = burndown.burndown(scope, settings)
    assert full.durations == alone
    # at the end of 10-03: 未提交 E, 二级待审 D, 中心待审 B, 不同意 C (open); D's and E's 未提交 … see test_backlog
    assert _by_status(alone)["不同意"] == (1, 24.0, 24.0, 1)  # B's 24 h ended 10-03; C is still there
    assert full.backlog.counts == back.counts and full.backlog.days == back.days
    assert full.burndown.completed == burn.completed and burn.days[-1] == date(2026, 10, 10)
