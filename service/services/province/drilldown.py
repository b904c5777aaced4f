"""One school seen from the province: its colleges' progress, review levels and deadline.

The figures are the centre's dashboard figures (progress.school_progress) computed for a view of
that one school, so the province and the school's centre always see the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.config import Settings
from service.errors import NotFound
from service.models import School
from service.services import processes, progress
from service.services.actors import Actor
from service.services.deadlines import store as deadline_store


@dataclass
class SchoolDetail:
    code: str
    name: str
    version_id: int
    levels: list[dict]  # the school's active version's review levels (role, level, status)
    ends: list[str]  # its completed statuses (完成)
    progress: progress.Progress
    deadline: datetime | None
    deadline_source: str | None
    extensions_in_force: int


def school_detail(actor: Actor, school_code: str, settings: Settings) -> SchoolDetail:
    """404 for a school that does not exist (the province sees every school that does)."""
    school = School.get_or_none(School.code == school_code)
    if school is None:
        raise NotFound(f"学校 {school_code} 不存在", code="school_not_found")
    version, definition = processes.active_definition(school.code)
    # A read-only view limited to this school: record_filter() is "school = code", no grants.
    view = Actor(username=actor.username, role=actor.role, school_code=school.code, user_id=actor.user_id)
    data = progress.school_progress(view, list(definition.statuses), settings.graduation_year)
    data.total.name = "全校合计"
    info = deadline_store.school_overview(school.code, settings)
    return SchoolDetail(code=school.code, name=school.name, version_id=version.id,
                        levels=list(definition.meta["levels"]),
                        ends=[end["status"] for end in definition.meta.get("ends", {}).values()],
                        progress=data, deadline=info.deadline, deadline_source=info.source,
                        extensions_in_force=len(info.in_force()))
