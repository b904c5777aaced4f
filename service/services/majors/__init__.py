"""A major is one thing: the pair (专业代码, 专业) of one of the school's majors.

The report stores 专业代码 and 专业 as two values, so every write path (student save and submit,
reviewer edit, 添加, roster import) checks the pair against the school's majors here; a form offers
one select "代码 名称" (choices) so the two cannot be picked apart. Majors come from the roster
import (services.schools.OrgCache), whose rows are checked against the same rule: within a school a
code names one major and a major has one code.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.models import Major, PendingTask, Record
from service.services.actors import Actor

PAIR_FIELD = "school.major_code"


@dataclass(frozen=True)
class MajorChoice:
    id: int
    college_id: int
    code: str
    name: str

    @property
    def value(self) -> str:
        """The value a form's one major select posts (see split_choice)."""
        return f"{self.code}|{self.name}"

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


def split_choice(value: str) -> tuple[str, str] | None:
    """'080901|计算机科学与技术' -> (code, name); None when the posted value is not of that form."""
    code, sep, name = (value or "").partition("|")
    return (code.strip(), name.strip()) if sep and code.strip() and name.strip() else None


def _majors(school_code: str, college_id: int | None) -> list[MajorChoice]:
    query = Major.select(Major.id, Major.college, Major.code, Major.name).where(Major.school == school_code)
    if college_id is not None:
        query = query.where(Major.college == college_id)
    return [MajorChoice(m.id, m.college_id, m.code, m.name) for m in query.order_by(Major.code, Major.name)]


def choices(actor: Actor, school_code: str, college_id: int | None = None) -> list[MajorChoice]:
    """The majors a form may offer: the school's (of the record's college when known) in the actor's scope."""
    return [m for m in _majors(school_code, college_id) if actor.can_see(school_code, m.college_id, m.id)]


def _norm(code: object) -> str:
    return "".join(str(code or "").split()).upper()


def pair_problem(school_code: str, code: object, name: object, college_id: int | None = None) -> str | None:
    """Why (专业代码, 专业) is not one of the school's majors (of ``college_id`` when given), or None.

    Blank values are left to the required-field checks. The message names both halves and what
    the school's list says about each, e.g. 专业代码 080901 是“计算机科学与技术”，不是“软件工程”.
    """
    code_s, name_s = _norm(code), " ".join(str(name or "").split())
    if not code_s or not name_s:
        return None
    known = _majors(school_code, college_id)
    if any(m.code == code_s and m.name == name_s for m in known):
        return None
    where = "本学院" if college_id is not None else "本校"
    by_code = sorted({m.name for m in known if m.code == code_s})
    by_name = sorted({m.code for m in known if m.name == name_s})
    if by_code:
        return (f"专业代码与专业不一致：{where}专业代码 {code_s} 是“{'、'.join(by_code)}”，不是“{name_s}”"
                + (f"（“{name_s}”的代码是 {'、'.join(by_name)}）" if by_name else "") + "；请从专业列表中选择")
    if by_name:
        return f"专业代码与专业不一致：“{name_s}”的专业代码是 {'、'.join(by_name)}，不是 {code_s}；请从专业列表中选择"
    return f"“{code_s} {name_s}”不是{where}的专业，请从专业列表中选择"


def find(school_code: str, code: object, name: object, college_id: int | None = None) -> Major | None:
    """The school's major with exactly this pair (of ``college_id`` when given)."""
    query = Major.select().where((Major.school == school_code) & (Major.code == _norm(code))
                                 & (Major.name == " ".join(str(name or "").split())))
    if college_id is not None:
        query = query.where(Major.college == college_id)
    return query.order_by(Major.id).first()


def reassign(record_id: int, old_major_id: int | None, new_major_id: int | None) -> None:
    """Point the record and its pending tasks at the chosen major (inboxes and counts are per major).
    Call inside the change's transaction, under the record's lock."""
    if new_major_id is None or new_major_id == old_major_id:
        return
    Record.update(major=new_major_id).where(Record.id == record_id).execute()
    PendingTask.update(major=new_major_id).where(PendingTask.record == record_id).execute()
