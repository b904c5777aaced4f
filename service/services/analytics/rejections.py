"""Rejection rate per review level and the top rejection reasons (SQL aggregation).

The rate of a level is its 不通过 decisions over all its decisions (通过 + 不通过) in the date range
(by the reviewer, if given). Reasons: the comments of the rejections, counted per distinct text
in SQL, then merged in Python by their normalised form (filters.normalise_comment); each group is
shown by its most frequent original wording (ties: the first in text order).
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import fn

from service.models import AuditEvent, Record
from service.services.analytics.filters import Scope, normalise_comment, process_labels
from service.workflow.variables import DECISIONS

APPROVE, REJECT = DECISIONS
TOP_REASONS = 10
MAX_TOP = 50


@dataclass(frozen=True)
class LevelRate:
    level: str
    reviews: int
    rejected: int

    @property
    def rate(self) -> float:
        return round(100.0 * self.rejected / self.reviews, 1) if self.reviews else 0.0


@dataclass(frozen=True)
class Reason:
    text: str  # the most frequent wording of the group
    count: int
    share: float  # of all rejections in the range, %


@dataclass(frozen=True)
class Rejections:
    levels: list[LevelRate]
    reasons: list[Reason]
    rejected: int


def decision_events(scope: Scope):  # noqa: ANN201 - a peewee expression
    """The review decisions on records in scope, in the date range, by the reviewer if given."""
    where = AuditEvent.record.is_null(False) & AuditEvent.decision.in_(list(DECISIONS))
    in_range = scope.event_range()
    if in_range is not None:
        where &= in_range
    if scope.filters.reviewer:
        where &= AuditEvent.actor == scope.filters.reviewer
    return where


def rejections(scope: Scope, top: int = TOP_REASONS) -> Rejections:
    where = decision_events(scope)
    counts: dict[str, dict[str, int]] = {}
    query = scope.records(AuditEvent.select(AuditEvent.level, AuditEvent.decision, fn.COUNT(AuditEvent.id))
                          .join(Record, on=(AuditEvent.record == Record.id)).where(where)
                          .group_by(AuditEvent.level, AuditEvent.decision))
    for level, decision, n in query.tuples():
        counts.setdefault(level, {})[decision] = n
    labels = process_labels(scope.school_code)
    order = [*labels.levels, *sorted(set(counts) - set(labels.levels))]
    levels = [LevelRate(lv, sum(counts.get(lv, {}).values()), counts.get(lv, {}).get(REJECT, 0)) for lv in order]

    groups: dict[str, dict[str, int]] = {}
    reasons = scope.records(AuditEvent.select(AuditEvent.comment, fn.COUNT(AuditEvent.id))
                            .join(Record, on=(AuditEvent.record == Record.id))
                            .where(where & (AuditEvent.decision == REJECT))
                            .group_by(AuditEvent.comment))
    for comment, n in reasons.tuples():
        key = normalise_comment(comment)
        wordings = groups.setdefault(key, {})
        wordings[comment] = wordings.get(comment, 0) + n
    rejected = sum(lv.rejected for lv in levels)
    ranked = []
    for key, wordings in groups.items():
        total = sum(wordings.values())
        shown = min(wordings, key=lambda w: (-wordings[w], w)).strip() or "（无说明）"
        ranked.append((total, key, shown))
    ranked.sort(key=lambda r: (-r[0], r[1]))
    return Rejections(levels, [Reason(shown, n, round(100.0 * n / rejected, 1) if rejected else 0.0)
                               for n, _, shown in ranked[:max(1, min(top, MAX_TOP))]], rejected)
