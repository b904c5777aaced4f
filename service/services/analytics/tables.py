"""The analytics as tables: what the page shows under each chart, the API's xlsx and the export.

Every chart on the dashboard has one of these tables behind it with the same figures, so people
who cannot read a chart (or want the numbers) have them; each table exports as .xlsx.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.config import Settings
from service.services.analytics import backlog as backlog_mod
from service.services.analytics import burndown as burndown_mod
from service.services.analytics import durations as durations_mod
from service.services.analytics import timeline
from service.services.analytics.backlog import Backlog, BacklogSeries
from service.services.analytics.burndown import Burndown, deadline_of, expected_total, project
from service.services.analytics.durations import Durations, GroupDuration, GroupedDurations, StatusDuration
from service.services.analytics.filters import Scope, process_labels
from service.services.analytics.rejections import Rejections, rejections
from service.services.analytics.throughput import Throughput, throughput


@dataclass(frozen=True)
class Table:
    key: str  # durations | rejection_rates | rejection_reasons | throughput | backlog | burndown
    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""


def _num(value: float | None) -> str:
    return "" if value is None else (f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value))


def durations_table(rows: list[StatusDuration]) -> Table:
    return Table("durations", "各状态停留时间", ["状态", "已结束次数", "中位数（小时）", "P90（小时）", "仍在该状态"],
                 [[r.status, str(r.count), _num(r.median_hours), _num(r.p90_hours), str(r.open)] for r in rows],
                 "按离开该状态的时间计入日期范围；P90 为第 90 百分位（线性插值）")


BY_LABELS = {"school": "学校", "college": "院系", "major": "专业", "reviewer": "审核人"}


def durations_by_table(by: str, rows: list[GroupDuration]) -> Table:
    label = BY_LABELS[by]
    note = ("按结束该停留的审核人（或学生本人提交）分组" if by == "reviewer" else f"按记录所在{label}分组")
    return Table(f"durations_by_{by}", f"各{label}停留时间", [label, "状态", "已结束次数", "中位数（小时）", "P90（小时）"],
                 [[r.group, r.status, str(r.count), _num(r.median_hours), _num(r.p90_hours)] for r in rows],
                 note + "；日期范围与审核人筛选同上表")


def rejection_rates_table(r: Rejections) -> Table:
    return Table("rejection_rates", "各级不通过率", ["审核级别", "审核次数", "不通过次数", "不通过率（%）"],
                 [[lv.level, str(lv.reviews), str(lv.rejected), _num(lv.rate)] for lv in r.levels])


def rejection_reasons_table(r: Rejections) -> Table:
    return Table("rejection_reasons", "主要不通过原因", ["原因", "次数", "占不通过（%）"],
                 [[x.text, str(x.count), _num(x.share)] for x in r.reasons],
                 "意见去掉空白与标点后相同的归为一类")


def throughput_table(t: Throughput) -> Table:
    return Table("throughput", "审核人每日审核量", ["日期", "学校", "审核人", "姓名", "审核条数", "其中不通过"],
                 [[r.day.isoformat(), r.school, r.reviewer, r.name, str(r.count), str(r.rejected)] for r in t.rows])


def backlog_table(b: BacklogSeries) -> Table:
    return Table("backlog", "各状态积压（每日 24:00）", ["日期", *b.statuses],
                 [[day.isoformat(), *(str(b.counts[s][i]) for s in b.statuses)] for i, day in enumerate(b.days)])


def burndown_table(b: Burndown) -> Table:
    rows = [[day.isoformat(), str(b.daily[i]), str(b.completed[i]), str(b.remaining[i]),
             _num(b.percent(b.completed[i]))] for i, day in enumerate(b.days)]
    return Table("burndown", "完成进度（燃尽图）", ["日期", "当日完成", "累计完成", "未完成", "完成率（%）"], rows,
                 f"应报 {b.total} 人；{b.rule}；{b.sentence}")


@dataclass
class Report:
    """Everything the dashboard shows, from one pass over the events and two GROUP BY queries."""

    durations: list[StatusDuration]
    by_college: list[GroupDuration]
    by_reviewer: list[GroupDuration]
    rejections: Rejections
    throughput: Throughput
    backlog: BacklogSeries
    burndown: Burndown
    levels: list[str]
    end_statuses: list[str]

    def tables(self) -> dict[str, Table]:
        tables = [durations_table(self.durations), durations_by_table("college", self.by_college),
                  durations_by_table("reviewer", self.by_reviewer), rejection_rates_table(self.rejections),
                  rejection_reasons_table(self.rejections), throughput_table(self.throughput),
                  backlog_table(self.backlog), burndown_table(self.burndown)]
        return {t.key: t for t in tables}


def report(scope: Scope, settings: Settings) -> Report:
    """Durations and backlog come from the filtered scope; the burn-down from the whole history
    (its own Backlog over the same pass, without the date range)."""
    labels = process_labels(scope.school_code)
    undated = dataclasses.replace(scope, filters=dataclasses.replace(scope.filters, since=None, until=None))
    durations, backlog = Durations(scope), Backlog(scope)
    dated = scope.filters.since is not None or scope.filters.until is not None
    history = Backlog(undated) if dated else backlog  # undated, the backlog is the burn-down's history
    by_college, by_reviewer = GroupedDurations(scope, "college"), GroupedDurations(scope, "reviewer")
    timeline.run(scope, [durations, by_college, by_reviewer, backlog, *([history] if dated else [])])
    burn = project(history.result(labels), labels.end_statuses,
                   expected_total(scope, settings.graduation_year), deadline_of(scope, settings))
    return Report(durations.result(labels), by_college.grouped_result(labels), by_reviewer.grouped_result(labels),
                  rejections(scope), throughput(scope), backlog.result(labels), burn,
                  labels.levels, labels.end_statuses)


def one_table(key: str, scope: Scope, settings: Settings) -> Table:
    """A single table by key (KeyError for an unknown one); computes only what it needs."""
    if key.startswith("durations_by_") and key[len("durations_by_"):] in durations_mod.BY:
        by = key[len("durations_by_"):]
        return durations_by_table(by, durations_mod.durations_by(scope, by))
    builders: dict[str, Callable[[], Table]] = {
        "durations": lambda: durations_table(durations_mod.status_durations(scope)),
        "rejection_rates": lambda: rejection_rates_table(rejections(scope)),
        "rejection_reasons": lambda: rejection_reasons_table(rejections(scope)),
        "throughput": lambda: throughput_table(throughput(scope)),
        "backlog": lambda: backlog_table(backlog_mod.backlog(scope)),
        "burndown": lambda: burndown_table(burndown_mod.burndown(scope, settings)),
    }
    return builders[key]()


TABLE_KEYS = ("durations", *(f"durations_by_{by}" for by in durations_mod.BY), "rejection_rates", "rejection_reasons", "throughput", "backlog", "burndown")


def as_json(table: Table) -> dict[str, Any]:
    return {"key": table.key, "title": table.title, "headers": table.headers, "rows": table.rows, "note": table.note}
