"""Who reviews, at which level, and what they may see — all read from the BPMN, never hard-coded.

Reviewer roles are the roles of the review levels (lanes with review tasks); the "centre" is the
role of the last level. The centre needs full 证件号码 (it reports to the province, whose upload
template carries the full number); everyone else sees it masked.
"""

from __future__ import annotations

from peewee import Expression

from service.models import PendingTask, ProcessVersion
from service.services import processes
from service.services.actors import ADMIN_ROLE, Actor
from service.validation.identity import mask_id_number
from service.workflow.definitions import ProcessDefinition


def _school(actor: Actor | None) -> str | None:
    return actor.school_code if actor is not None else None


def reviewer_roles(actor: Actor | None = None) -> list[str]:
    """The review roles of every version the actor's school uses or used (newest first): after a
    roll back, reviewers of the earlier version still act on the records running on it."""
    roles: list[str] = []
    for definition in processes.definitions_in_use(_school(actor)):
        roles.extend(r for r in definition.reviewer_roles if r not in roles)
    return roles


def reviewer_or_admin_roles(actor: Actor | None = None) -> list[str]:
    return [*reviewer_roles(actor), ADMIN_ROLE]


def school_definition(actor: Actor | None) -> ProcessDefinition:
    """The definition new records of the actor's school start on (the default for the admin)."""
    return processes.active_definition(_school(actor))[1]


def centre_role(actor: Actor | None = None) -> str:
    """The school-wide role (the last review level) of the actor's school's active version."""
    return school_definition(actor).school_wide_role


def audit_roles(actor: Actor | None = None) -> list[str]:
    return [centre_role(actor), ADMIN_ROLE]


def needs_full_id(actor: Actor) -> bool:
    """Only the centre sees full numbers (in exports and, on request, in a record view): the role of
    the last review level of the school's active version."""
    return actor.role == centre_role(actor)


def id_for(actor: Actor, number: str) -> str:
    return number if needs_full_id(actor) else mask_id_number(number)


def known_statuses() -> list[str]:
    """Every status label of every deployed version (old instances keep their version's labels)."""
    return _union("statuses")


def known_report_statuses() -> list[str]:
    return _union("report_statuses")


def _union(key: str) -> list[str]:
    seen: list[str] = []
    for (meta,) in ProcessVersion.select(ProcessVersion.meta).order_by(ProcessVersion.id.desc()).tuples():
        for value in meta.get(key, []):
            if value not in seen:
                seen.append(value)
    return seen


def pending_scope(actor: Actor) -> Expression:
    """WHERE clause limiting PendingTask rows to the actor's school and grants."""
    clause = PendingTask.school == actor.school_code
    grants = actor.grants_clause(PendingTask.college, PendingTask.major)
    return clause if grants is None else clause & grants


def level_index(role: str, school_code: str | None = None) -> int | None:
    """Position of a role among the review levels of the school's process (None: not a reviewer)."""
    for i, level in enumerate(processes.active_definition(school_code)[1].meta["levels"]):
        if level["role"] == role:
            return i
    return None
