"""Import the roster (学籍) of a school's graduating class.

Every row ends as imported / updated / unchanged / excluded (out of scope, with the reason) /
error (row, column, message). Parsing and checking happen before any write; then ONE transaction
writes the changed rows with bulk upserts in chunks (each chunk in a savepoint, so a row the
database refuses is retried alone and reported, never half-written), the import batch and its
audit event. Existing rows are pre-loaded once, so a re-import of the same file writes nothing.
Records and workflow instances are not created here: that happens when a student binds.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from peewee import DatabaseError

from service.codes import CodeRegistry, get_codes
from service.db import database, write_transaction
from service.errors import InvalidInput, NotFound, PermissionDenied
from service.models import Major, RosterStudent, School, utcnow
from service.models.roster_import import RosterImport
from service.services import audit
from service.services.actors import Actor
from service.services.roster_read import Progress, read_roster
from service.services.roster_rows import REPORT_FIELDS, ParsedRow, parse_row, row_hash
from service.services.roster_xlsx import ReadLimits
from service.services.schools import OrgCache, school_chain

OUTCOMES = ("imported", "updated", "unchanged", "excluded", "error")
OUTCOME_LABELS = {"imported": "新增", "updated": "更新", "unchanged": "未变化", "excluded": "不在上报范围",
                  "error": "错误"}
CHUNK = 500
_WRITE_COLUMNS = ("school", "year", "student_no", "name", "gender", "id_type", "id_number", "category",
                  "nationality", "exam_no", "college", "major", "class_name", "fields", "eligible",
                  "exclusion_reason", "row_hash", "imported_at", "updated_at")


@dataclass
class RowOutcome:
    row: int
    student_no: str
    name: str
    outcome: str
    reason: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "student_no": self.student_no, "name": self.name, "outcome": self.outcome,
                "reason": self.reason, "errors": self.errors}


@dataclass
class ImportReport:
    id: int
    school_code: str
    year: int
    filename: str
    counts: dict[str, int]
    rows: list[dict[str, Any]]
    created_colleges: list[str]
    created_majors: list[str]
    ignored_columns: list[str]
    duration_ms: int
    actor: str = ""
    created_at: str = ""

    def as_dict(self, *, rows: bool = True) -> dict[str, Any]:
        body = {
            "id": self.id, "school_code": self.school_code, "year": self.year, "filename": self.filename,
            "counts": self.counts, "created_colleges": self.created_colleges,
            "created_majors": self.created_majors, "ignored_columns": self.ignored_columns,
            "duration_ms": self.duration_ms, "actor": self.actor, "created_at": self.created_at,
        }
        if rows:
            body["rows"] = self.rows
        return body


def _authorize(actor: Actor, school_code: str) -> School:
    school = School.get_or_none(School.code == school_code)
    if school is None or not (actor.is_admin or actor.school_code == school_code):
        raise NotFound(f"学校 {school_code} 不存在", code="school_not_found")
    if actor.restricted:
        raise PermissionDenied("只有全校范围的账号可以导入学籍")
    return school


def _mark_duplicates(parsed: list[ParsedRow], known_ids: dict[str, str]) -> None:
    """A 学号 or 证件号码 seen on an earlier row (or another student's imported row) is an error."""
    first_no: dict[str, int] = {}
    first_id: dict[str, int] = {}
    for row in parsed:
        no = row.student_no
        if no and not row.errors:
            if no in first_no:
                row.error("student_no", f"学号与第{first_no[no]}行重复")
                row.exclusion = ""
            else:
                first_no[no] = row.row
        number = row.values.get("id_number", "")
        if number and not row.errors and not row.exclusion:
            if number in first_id:
                row.error("id_number", f"证件号码与第{first_id[number]}行重复")
            elif known_ids.get(number, no) != no:
                row.error("id_number", f"证件号码与已导入的学号 {known_ids[number]} 重复")
            else:
                first_id[number] = row.row


def _mark_major_conflicts(parsed: list[ParsedRow], school_code: str) -> None:
    """A row whose (专业代码, 专业) contradicts the school's majors or an earlier row is an error.

    Within a school a code names one major and a major has one code (services.majors); a roster
    row with 080901 + 软件工程 would otherwise create a second, contradictory major."""
    by_code: dict[str, tuple[str, str]] = {}  # code -> (name, where it was seen)
    by_name: dict[str, tuple[str, str]] = {}
    for m in Major.select(Major.code, Major.name).where(Major.school == school_code).order_by(Major.id):
        by_code.setdefault(m.code, (m.name, "本校已有专业"))
        by_name.setdefault(m.name, (m.code, "本校已有专业"))
    for row in parsed:
        if row.errors or row.exclusion:
            continue
        code, name = row.values.get("major_code", ""), row.values.get("major", "")
        seen_name, where = by_code.get(code, (name, ""))
        seen_code, where_name = by_name.get(name, (code, ""))
        if seen_name != name:
            row.error("major_code", f"专业代码与专业不一致：专业代码 {code} 是“{seen_name}”（{where}），不是“{name}”")
        elif seen_code != code:
            row.error("major", f"专业代码与专业不一致：“{name}”的专业代码是 {seen_code}（{where_name}），不是 {code}")
        else:
            by_code.setdefault(code, (name, f"第{row.row}行"))
            by_name.setdefault(name, (code, f"第{row.row}行"))


def _stored(row: ParsedRow, school_code: str, year: int, org: OrgCache | None) -> dict[str, Any]:
    """The RosterStudent values for a checked row (org given only for in-scope rows)."""
    v = row.values
    extra = {k: v.get(k) for k in REPORT_FIELDS if v.get(k) not in (None, "")}
    extra.update({k: v.get(k, "") for k in ("study_form", "enrollment_status", "can_graduate")})
    extra.update(college_name=v.get("college", ""), major_name=v.get("major", ""))
    college = major = None
    if org is not None:
        college = org.college_id(v["college"])
        major = org.major_id(college, v["major_code"], v["major"])
    now = utcnow()
    return {
        "school": school_code, "year": year, "student_no": v["student_no"], "name": v["name"],
        "gender": v.get("gender", ""), "id_type": v.get("id_type", ""), "id_number": v.get("id_number", ""),
        "category": v.get("category") or "mainland", "nationality": v.get("nationality", "")[:32],
        "exam_no": v.get("exam_no", "")[:32], "college": college, "major": major,
        "class_name": v.get("class_name", ""), "fields": extra, "eligible": not row.exclusion,
        "exclusion_reason": row.exclusion, "row_hash": "", "imported_at": now, "updated_at": now,
    }


def _upsert(rows: list[dict[str, Any]]) -> None:
    preserve = [getattr(RosterStudent, c) for c in _WRITE_COLUMNS if c not in ("school", "student_no", "imported_at")]
    (RosterStudent.insert_many(rows)
     .on_conflict(conflict_target=[RosterStudent.school, RosterStudent.student_no], preserve=preserve)
     .execute())


def _write(pending: list[tuple[ParsedRow, dict[str, Any]]], outcomes: dict[int, RowOutcome],
           progress: Progress | None) -> None:
    """Upsert in chunks; a chunk the database refuses is retried row by row, each in a savepoint."""
    done = 0
    if progress is not None:
        progress("写入", 0, len(pending))
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start:start + CHUNK]
        try:
            with database.atomic():
                _upsert([values for _, values in chunk])
        except DatabaseError:
            for parsed, values in chunk:
                try:
                    with database.atomic():
                        _upsert([values])
                except DatabaseError as exc:
                    outcomes[parsed.row] = RowOutcome(parsed.row, parsed.student_no, parsed.name, "error",
                                                      errors=[{"column": "", "message": f"数据库拒绝写入：{str(exc)[:120]}"}])
        done += len(chunk)
        if progress is not None:
            progress("写入", done, len(pending))


def import_roster(data: bytes, filename: str, *, school_code: str, year: int, actor: Actor,
                  codes: CodeRegistry | None = None, progress: Progress | None = None,
                  limits: ReadLimits | None = None) -> ImportReport:
    """Import one roster file for (school, graduation year); returns the per-row report.

    `limits` bounds the reading (rows, columns, cells, unpacked size); callers pass
    ReadLimits.from_settings(settings), the defaults match config/defaults.toml."""
    started = time.perf_counter()
    school = _authorize(actor, school_code)
    if not 2000 <= year <= 2100:
        raise InvalidInput("毕业年份不正确", details={"year": ["应为四位年份，如2021"]})
    codes = codes or get_codes()
    roster = read_roster(data, filename, progress, limits)
    total = len(roster.rows)
    parsed: list[ParsedRow] = []
    if progress is not None:
        progress("校验", 0, total)
    for index, (number, raw) in enumerate(roster.rows, start=1):
        parsed.append(parse_row(number, raw, year, codes))
        if progress is not None and (index % 500 == 0 or index == total):
            progress("校验", index, total)

    existing: dict[str, str] = {}
    known_ids: dict[str, str] = {}
    for no, digest, number in (RosterStudent.select(RosterStudent.student_no, RosterStudent.row_hash,
                                                    RosterStudent.id_number)
                               .where(RosterStudent.school == school.code).tuples().iterator()):
        existing[no] = digest
        if number:
            known_ids[number] = no
    _mark_duplicates(parsed, known_ids)
    _mark_major_conflicts(parsed, school.code)

    outcomes: dict[int, RowOutcome] = {}
    to_write: list[tuple[ParsedRow, str, str]] = []  # (row, outcome, hash)
    for row in parsed:
        if row.errors:
            outcomes[row.row] = RowOutcome(row.row, row.student_no, row.name, "error",
                                           errors=[{"column": c, "message": m} for c, m in row.errors])
            continue
        digest = row_hash({**row.values, "exclusion": row.exclusion}, year)
        if existing.get(row.student_no) == digest:
            outcome = "unchanged"
        elif row.exclusion:
            outcome = "excluded"
        else:
            outcome = "updated" if row.student_no in existing else "imported"
        outcomes[row.row] = RowOutcome(row.row, row.student_no, row.name, outcome, row.exclusion)
        if outcome != "unchanged":
            to_write.append((row, outcome, digest))

    with write_transaction():
        # One import per school at a time: the second waits here for the first to commit, so it
        # sees the first one's colleges and rows instead of colliding with them.
        audit.lock_chain(school_chain(school.code))
        org = OrgCache(school.code)
        pending: list[tuple[ParsedRow, dict[str, Any]]] = []
        for row, _, digest in to_write:
            values = _stored(row, school.code, year, None if row.exclusion else org)
            values["row_hash"] = digest
            pending.append((row, values))
        _write(pending, outcomes, progress)
        ordered = [outcomes[row.row] for row in parsed]
        counts = {name: 0 for name in OUTCOMES}
        for done in ordered:
            counts[done.outcome] += 1
        counts["total"] = total
        duration_ms = int((time.perf_counter() - started) * 1000)
        batch = RosterImport.create(
            school=school.code, year=year, filename=filename[:255], actor=actor.username, actor_role=actor.role,
            total=total, imported=counts["imported"], updated=counts["updated"], unchanged=counts["unchanged"],
            excluded=counts["excluded"], errors=counts["error"], duration_ms=duration_ms,
            summary={"created_colleges": org.created_colleges, "created_majors": org.created_majors,
                     "ignored_columns": roster.ignored_columns},
            rows=[o.as_dict() for o in ordered],
        )
        audit.append(school_chain(school.code), school=school.code, actor=actor.username, actor_role=actor.role,
                     action="roster_import",
                     data_changed={"import_id": batch.id, "file": filename[:255], "year": year, "counts": counts})
    return _report(batch)


def _report(batch: RosterImport) -> ImportReport:
    counts = {"imported": batch.imported, "updated": batch.updated, "unchanged": batch.unchanged,
              "excluded": batch.excluded, "error": batch.errors, "total": batch.total}
    summary: dict[str, Any] = batch.summary or {}
    return ImportReport(
        id=batch.id, school_code=batch.school_id, year=batch.year, filename=batch.filename, counts=counts,
        rows=list(batch.rows or []), created_colleges=summary.get("created_colleges", []),
        created_majors=summary.get("created_majors", []), ignored_columns=summary.get("ignored_columns", []),
        duration_ms=batch.duration_ms, actor=batch.actor,
        created_at=batch.created_at.isoformat(timespec="seconds") + "Z",
    )


def _visible(actor: Actor) -> Any:
    query = RosterImport.select()
    if not actor.is_admin:
        query = query.where(RosterImport.school == actor.school_code)
    return query


def get_import(import_id: int, actor: Actor) -> ImportReport:
    batch = _visible(actor).where(RosterImport.id == import_id).first()
    if batch is None:
        raise NotFound("导入记录不存在")
    return _report(batch)


def list_imports(actor: Actor, limit: int = 50) -> Iterable[ImportReport]:
    query = (_visible(actor).select(*[f for f in RosterImport._meta.sorted_fields if f.name != "rows"])
             .order_by(RosterImport.id.desc()).limit(limit))
    return [_report(b) for b in query]
