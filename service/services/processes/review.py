"""Reviewing a deployed version before it is activated, and activating it only once reviewed.

The review compares the version with the one the chosen schools use now (semantic and element
diff), runs the migration dry run, and warns about review roles that have no account in a chosen
school (issue 12 defect 8). `activate_reviewed` is the only path the web pages use to activate:
it refuses (422, nothing activated) unless every change that moves powers between roles is
confirmed by its key (defect 4), so no page, script or hand-made POST can skip the confirmation.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from service.db import write_transaction
from service.errors import InvalidInput, NotFound
from service.models import ProcessVersion, School, User
from service.services import processes
from service.services.actors import Actor
from service.services.processes import migration
from service.services.processes.compare import (
    Change,
    ElementDiff,
    confirmations_needed,
    element_diff,
    semantic_diff,
)
from service.services.processes.migration import MigrationReport


@dataclass
class AccountGap:
    """A review role of the new version with no active account in a school."""

    role: str
    role_name: str
    school_code: str
    school_name: str

    @property
    def sentence(self) -> str:
        return f"{self.role_name}在 {self.school_name}（{self.school_code}）还没有账号"


@dataclass
class ActivationCheck:
    """What activating `version` for `schools` changes, against each version those schools use now."""

    version: ProcessVersion
    schools: list[str] | None  # None: every school (the deployment default)
    against: list[ProcessVersion] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    gaps: list[AccountGap] = field(default_factory=list)

    @property
    def confirmations(self) -> list[Change]:
        return confirmations_needed(self.changes)


def clean_schools(codes: Sequence[str] | None) -> list[str] | None:
    """The chosen school codes, each existing; None or empty list means every school."""
    if not codes:
        return None
    chosen = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    known = {s.code for s in School.select(School.code).where(School.code.in_(chosen))}
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise InvalidInput(f"学校 {'、'.join(unknown)} 不存在", code="school_not_found",
                           details={"schools": [f"学校 {c} 不存在" for c in unknown]})
    return chosen or None


def _current_versions(schools: list[str] | None) -> list[ProcessVersion]:
    """The versions the chosen schools use now: for every school, its own or the default one."""
    if schools is None:
        codes: list[str | None] = [None, *(s.code for s in School.select(School.code).order_by(School.code))]
    else:
        codes = list(schools)
    found: dict[int, ProcessVersion] = {}
    for code in codes:
        try:
            version = processes.active_version(code)
        except NotFound:
            continue
        found.setdefault(version.id, version)
    return list(found.values())


def account_gaps(version: ProcessVersion, schools: list[str] | None) -> list[AccountGap]:
    """Review roles of `version` without one active account in a chosen school (all schools: every school)."""
    query = School.select().order_by(School.code)
    if schools is not None:
        query = query.where(School.code.in_(schools))
    school_rows = list(query)
    roles = list(dict.fromkeys(lv["role"] for lv in version.meta.get("levels", [])))
    labels = {lane["role"]: lane["name"] for lane in version.meta.get("lanes", [])}
    present = {
        (school, role)
        for school, role in User.select(User.school, User.role)
        .where(User.role.in_(roles) & User.active & User.school.in_([s.code for s in school_rows]))
        .tuples()
    }
    return [AccountGap(role, labels.get(role, role), s.code, s.name)
            for s in school_rows for role in roles if (s.code, role) not in present]


def check_activation(version: ProcessVersion, schools: Sequence[str] | None,
                     against: ProcessVersion | None = None) -> ActivationCheck:
    """The changes activating `version` for `schools` makes (against `against`, or what they use now)."""
    chosen = clean_schools(schools)
    check = ActivationCheck(version, chosen)
    check.against = [against] if against is not None else _current_versions(chosen)
    seen: set[str] = set()
    for old in check.against:
        if old.id == version.id:
            continue
        for change in semantic_diff(old.meta, version.meta):
            if change.key not in seen:
                seen.add(change.key)
                check.changes.append(change)
    check.gaps = account_gaps(version, chosen)
    return check


def activate_reviewed(ref: str, *, actor: Actor, schools: Sequence[str] | None,
                      confirmed: Collection[str]) -> ProcessVersion:
    """Activate a version for the chosen schools, refusing unless every power change is confirmed.

    The check is made against the versions the schools use at this moment, so a change that
    appeared since the page was shown (another activation in between) is refused too.
    """
    version = processes.find_version(ref)
    with write_transaction():  # the check and the activation see the same active versions
        check = check_activation(version, schools)
        missing = [c for c in check.confirmations if c.key not in set(confirmed)]
        if missing:
            raise InvalidInput(
                "启用前须逐项确认以下权限变化：" + "；".join(c.sentence for c in missing),
                code="confirmation_required", details=[{"key": c.key, "sentence": c.sentence} for c in missing])
        return processes.activate(str(version.id), actor=actor, schools=check.schools)


@dataclass
class Review:
    """Everything the review page shows about `version` compared with `against`."""

    version: ProcessVersion
    against: ProcessVersion | None
    changes: list[Change]
    elements: ElementDiff
    check: ActivationCheck
    dry_runs: list[tuple[str, MigrationReport]]  # (where: 全部学校 or a school, its dry run)


def review(version_ref: str, *, against_ref: str | None = None,
           schools: Sequence[str] | None = None) -> Review:
    """Compare a version with `against_ref` (default: the active default version) for the review page;
    the dry run covers the chosen schools (each on its own), or every waiting record."""
    version = processes.find_version(version_ref)
    against = processes.find_version(against_ref) if against_ref else processes.active_version_or_none()
    if against is not None and against.id != version.id:
        changes = semantic_diff(against.meta, version.meta)
        elements = element_diff(against.bpmn_xml, version.bpmn_xml)
    else:
        changes, elements = [], ElementDiff([], [], [])
    check = check_activation(version, schools)
    if check.schools is None:
        dry_runs = [("全部学校", migration.migrate(str(version.id), dry_run=True))]
    else:
        names = dict(School.select(School.code, School.name).where(School.code.in_(check.schools)).tuples())
        dry_runs = [(f"{names.get(code, code)}（{code}）", migration.migrate(str(version.id), dry_run=True, school=code))
                    for code in check.schools]
    return Review(version, against, changes, elements, check, dry_runs)
