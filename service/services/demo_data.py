"""Realistic demo data and a fast bulk seeder (100,000 records in well under a minute on SQLite).

`generate_students` yields plausible graduates: Chinese names, valid resident IDs with real
county codes, some 港澳台 students, some 定向/委培 with their unit — every coded value valid, so
submitted records pass service.validation.report. `seed_school` writes a whole school: roster
rows and records at every status of the ACTIVE process, with their instances, pending tasks and
one chained audit event per record.

Why templates: running the engine 100,000 times costs ~1 ms each; instead the engine is really
run once per target status (start, submit, approve … / reject) and that serialized state is
reused for every record at the status (task ids need only be unique within an instance). The
statuses, levels and roles all come from the process definition, not from this file.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from service.codes import HMT_REGIONS, REGION, get_codes, is_county_level_region, region_path
from service.db import database, is_sqlite, write_transaction
from service.models import (
    AuditEvent,
    College,
    Major,
    PendingTask,
    ProcessInstance,
    Record,
    RosterStudent,
    School,
    User,
    UserScope,
    utcnow,
)
from service.services import audit, processes
from service.services.accounts import hash_password
from service.services.transitions import pending_rows
from service.validation.identity import make_resident_id
from service.workflow import engine
from service.workflow.definitions import ProcessDefinition

COLLEGES: list[tuple[str, list[tuple[str, str]]]] = [
    ("计算机科学与工程学院", [("080901", "计算机科学与技术"), ("080902", "软件工程"), ("080903", "网络工程"),
                             ("080910T", "数据科学与大数据技术"), ("080717T", "人工智能")]),
    ("机械与汽车工程学院", [("080202", "机械设计制造及其自动化"), ("080207", "车辆工程"), ("080204", "机械电子工程"),
                           ("080801", "自动化")]),
    ("外国语学院", [("050201", "英语"), ("050207", "日语"), ("050261", "翻译"), ("050262", "商务英语")]),
    ("经济与贸易学院", [("020401", "国际经济与贸易"), ("020101", "经济学"), ("020301K", "金融学"),
                       ("120203K", "会计学")]),
    ("化学与化工学院", [("081301", "化学工程与工艺"), ("070301", "化学"), ("081302", "制药工程")]),
    ("数学学院", [("070101", "数学与应用数学"), ("070102", "信息与计算科学"), ("071201", "统计学")]),
    ("新闻与传播学院", [("050301", "新闻学"), ("050302", "广播电视学"), ("050303", "广告学")]),
    ("法学院", [("030101K", "法学"), ("030302", "社会工作")]),
    ("土木与交通学院", [("081001", "土木工程"), ("081801", "交通运输"), ("081003", "给排水科学与工程")]),
    ("电子与信息学院", [("080701", "电子信息工程"), ("080703", "通信工程"), ("080702", "电子科学与技术"),
                       ("080705", "光电信息科学与工程")]),
]
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢"
            "姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向汤")
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "司徒")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲飞鹏辉建国俊峰志斌宇浩凯婷雪琳晨欣怡"
         "梓涵子轩雨桐思源嘉怡浩然一鸣佳琪子豪晓彤诗琪文博铭泽家乐semi".replace("semi", ""))
DIRECTED_UNITS = ("广东省教育厅", "中国南方电网有限责任公司", "广州市天河区教育局", "深圳市南山区卫生健康局",
                  "中国人民解放军南部战区", "湛江市霞山区人民政府", "梅州市教育局")
STREETS = ("中山路", "解放路", "人民路", "建设路", "新华路", "东风路", "文明路", "健康路", "滨江路", "学府路")
HMT_NAMES = ("陳嘉欣", "黃志明", "李詠詩", "張家豪", "林美玲", "何俊傑", "吳雅婷", "梁浩賢")


@dataclass
class Student:
    """One generated graduate: what the roster holds, and the full report they would submit."""

    student_no: str
    name: str
    gender: str
    id_type: str
    id_number: str
    category: str
    exam_no: str
    college: str
    major_code: str
    major: str
    class_name: str
    report: dict[str, dict[str, Any]]
    eligible: bool = True
    exclusion_reason: str = ""


class Generator:
    """Deterministic for a given seed; region codes come from the configured code tables."""

    def __init__(self, seed: int = 1, *, school_code: str = "10561", year: int = 2021) -> None:
        self.rng = random.Random(seed)
        self.school_code = school_code
        self.year = year
        self.codes = get_codes()
        table = self.codes.table(REGION)
        counties = [r.code for r in table if r.code not in HMT_REGIONS and is_county_level_region(r.code)
                    and not r.code.startswith("71")]
        self.guangdong = [c for c in counties if c.startswith("44")]
        self.elsewhere = [c for c in counties if not c.startswith("44")]

    def structure(self, colleges: int = 5, majors: int = 20) -> list[tuple[str, list[tuple[str, str]]]]:
        """`colleges` colleges sharing `majors` majors (round-robin from a realistic list)."""
        chosen = COLLEGES[:max(1, min(colleges, len(COLLEGES)))]
        pool = [(i, m) for i, (_, ms) in enumerate(chosen) for m in ms]
        out: list[tuple[str, list[tuple[str, str]]]] = [(name, []) for name, _ in chosen]
        per = [list(ms) for _, ms in chosen]
        taken = 0
        while taken < min(majors, len(pool)):
            for i in range(len(chosen)):
                if per[i] and taken < majors:
                    out[i][1].append(per[i].pop(0))
                    taken += 1
        return [c for c in out if c[1]]

    def name(self) -> str:
        rng = self.rng
        surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(SURNAMES)
        return surname + "".join(rng.choice(GIVEN) for _ in range(1 if rng.random() < 0.35 else 2))

    def region(self) -> str:
        return self.rng.choice(self.guangdong if self.rng.random() < 0.75 else self.elsewhere)

    def address(self, region: str) -> str:
        place = "".join(r.label for r in region_path(region, self.codes))
        return f"{place}{self.rng.choice(STREETS)}{self.rng.randint(1, 399)}号"

    def student(self, index: int, college: str, major_code: str, major: str) -> Student:
        rng = self.rng
        enroll_year = self.year - 4
        student_no = f"{enroll_year}{index:07d}"
        hmt = rng.random() < 0.02
        gender = "1" if rng.random() < 0.5 else "2"
        birth = date(enroll_year - 18 - (rng.random() < 0.2), rng.randint(1, 12), rng.randint(1, 28))
        seq = rng.randrange(0, 999, 2) + (1 if gender == "1" else 0)
        if hmt:
            kind = rng.choice(("02", "03", "04"))
            origin = rng.choice(sorted(HMT_REGIONS))
            name = rng.choice(HMT_NAMES)
            if kind == "02":
                id_number = rng.choice("HM") + f"{rng.randint(0, 99_999_999):08d}"
            elif kind == "03":
                id_number = f"{rng.randint(0, 99_999_999):08d}"
            else:
                id_number = make_resident_id(origin, birth, seq)
            phone = f"{rng.choice('569')}{rng.randint(0, 9_999_999):07d}"
            category, hukou = "hmt", None
        else:
            kind, origin, name = "01", self.region(), self.name()
            id_number = make_resident_id(origin, birth, seq)
            phone = f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"
            category = "mainland"
            hukou = origin if rng.random() < 0.6 else "440106"
        mode = rng.choices(("1", "2", "4", "5"), weights=(90, 5, 3, 2))[0]
        exam_no = f"{enroll_year % 100:02d}{(origin if not hmt else '440106')}{rng.randint(0, 999_999):06d}"
        class_name = f"{major[:2]}{enroll_year % 100}{rng.randint(1, 4)}班"
        report: dict[str, dict[str, Any]] = {
            "school": {
                "school_code": self.school_code, "student_no": student_no, "college": college, "major": major,
                "major_code": major_code, "class_name": class_name, "exam_no": exam_no, "education_level": "31",
                "duration_years": 4.0, "enroll_date": f"{enroll_year}09", "grad_date": f"{self.year}0630",
                "training_mode": mode, "normal_type": "2" if rng.random() < 0.9 else "1",
                **({"directed_unit": rng.choice(DIRECTED_UNITS)} if mode in ("2", "4") else {}),
            },
            "personal": {
                "name": name, "gender": gender, "id_type": kind, "id_number": id_number,
                "ethnicity": "01" if rng.random() < 0.92 else rng.choice(("02", "03", "04", "05", "08", "09")),
                "political": rng.choices(("03", "01", "02", "13"), weights=(70, 10, 5, 15))[0],
                "origin_region": origin, "urban_rural": rng.choice(("1", "2")),
                "hardship": rng.choices(("0", "1", "2", "3"), weights=(85, 5, 8, 2))[0],
            },
            "other": {
                "hukou_moved": rng.random() < 0.3, "archive_moved": rng.random() < 0.8,
                **({"current_hukou_region": hukou} if hukou else {}),
                "phone": phone, "email": f"{student_no}@mail.example.edu.cn", "home_address": self.address(origin),
            },
        }
        out_reason = ""
        if rng.random() < 0.01:
            out_reason = rng.choice(("外籍生源", "成人教育", "已确定不能正常毕业", "无正式学籍"))
        return Student(student_no, name, gender, kind, id_number, category, exam_no, college, major_code, major,
                       class_name, report, eligible=not out_reason, exclusion_reason=out_reason)

    def students(self, n: int, structure: list[tuple[str, list[tuple[str, str]]]], *, start: int = 1) -> Iterator[Student]:
        majors = [(college, code, name) for college, ms in structure for code, name in ms]
        for i in range(n):
            college, code, name = majors[i % len(majors)]
            yield self.student(start + i, college, code, name)


# --- engine templates --------------------------------------------------------------------------


@dataclass
class StatusTemplate:
    status: str
    report_status: str
    role: str
    completed: bool
    state: str
    pending: list[engine.PendingStep]
    submitted: bool  # the student has submitted at least once (full report data)
    rejected: bool  # came back from a rejection
    path: tuple[PathStep, ...] = ()  # the steps that led here from the start, as the audit records them


@dataclass(frozen=True)
class PathStep:
    """One human step on the way to a template's status (its audit event, without who and when)."""

    task: str
    action: str
    role: str
    level: str
    decision: str
    comment: str
    status_before: str
    status_after: str


def status_templates(definition: ProcessDefinition) -> dict[str, StatusTemplate]:
    """One really-run engine state per reachable status: initial, each level, rejected, the end."""
    out: dict[str, StatusTemplate] = {}
    path: list[PathStep] = []

    def keep(workflow: Any, submitted: bool, rejected: bool) -> None:
        snap = engine.snapshot(definition, workflow)
        out.setdefault(snap.status, StatusTemplate(snap.status, snap.report_status, snap.role, snap.completed,
                                                   engine.dump(definition, workflow), snap.pending, submitted,
                                                   rejected, tuple(path)))

    def step(workflow: Any, data: dict[str, Any]) -> None:
        pending = engine.pending(definition, workflow)
        before = engine.snapshot(definition, workflow, pending).status
        engine.complete(definition, workflow, pending[0].task_id, data)
        done = pending[0]
        path.append(PathStep(done.task_name, done.action, done.role, done.level, str(data.get("decision", "")),
                             str(data.get("comment", "")), before, engine.snapshot(definition, workflow).status))

    wf = engine.start(definition)
    keep(wf, False, False)
    step(wf, {})
    while engine.pending(definition, wf):
        keep(wf, True, False)
        step(wf, {"decision": "approve", "comment": ""})
    keep(wf, True, False)
    wf = engine.start(definition)
    path.clear()
    step(wf, {})
    step(wf, {"decision": "reject", "comment": "请核对生源所在地"})
    keep(wf, True, True)
    return out


def default_status_mix(templates: dict[str, StatusTemplate]) -> dict[str, float]:
    """Mid-campaign shape: some not submitted, most waiting at a level, some rejected, some done."""
    mix: dict[str, float] = {}
    waiting = [t for t in templates.values() if t.submitted and not t.completed and not t.rejected]
    for t in templates.values():
        if not t.submitted:
            mix[t.status] = 0.10
        elif t.completed:
            mix[t.status] = 0.20
        elif t.rejected:
            mix[t.status] = 0.08
    for i, t in enumerate(waiting):  # earlier levels hold more records
        mix[t.status] = 0.62 * (2 ** (len(waiting) - 1 - i)) / (2 ** len(waiting) - 1)
    return mix


# --- the seeder --------------------------------------------------------------------------------


@dataclass
class SeedSummary:
    school_code: str
    colleges: int
    majors: int
    roster_rows: int
    records: int
    by_status: dict[str, int] = field(default_factory=dict)
    college_ids: list[int] = field(default_factory=list)
    major_ids: list[int] = field(default_factory=list)


def _row_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def _next_id(model: Any) -> int:
    from peewee import fn

    return (model.select(fn.MAX(model.id)).scalar() or 0) + 1


def bulk_insert(model: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT many rows with one prepared statement (executemany).

    Peewee builds the SQL of insert_many value by value (~90 % of a seed's time); values still go
    through each field's db_value, so what is stored is exactly what the ORM would store.
    """
    if not rows:
        return
    names = list(rows[0])
    fields = [model._meta.fields[n] for n in names]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    marks = ", ".join([database.param] * len(fields))
    sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'
    values = [tuple(f.db_value(row[n]) for f, n in zip(fields, names, strict=True)) for row in rows]
    database.cursor().executemany(sql, values)


def _fix_sequences(models: list[Any]) -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move them past the new rows."""
    if is_sqlite():
        return
    for model in models:
        table = model._meta.table_name
        database.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))")


@dataclass
class SchoolPlan:
    """What a seeder needs to write one school's rows: its structure, the process and the next ids."""

    school_code: str
    year: int
    version_id: int
    definition: ProcessDefinition
    templates: dict[str, StatusTemplate]
    major_ids: dict[tuple[str, str], tuple[int, int]]
    roster_id: int
    record_id: int
    instance_id: int


def prepare_school(school_code: str, school_name: str, *, seed: int, colleges: int, majors: int, year: int,
                   status_mix: dict[str, float] | None, summary: SeedSummary,
                   next_ids: tuple[int, int, int] | None = None) -> tuple[SchoolPlan, Generator, list[str],
                                                                          list[float], int]:
    """Create (or find) the school, its colleges and majors; returns the plan, the generator, the
    status labels and weights, and the roster number to start at. Call inside a write transaction."""
    version, definition = processes.active_definition()
    templates = status_templates(definition)
    mix = status_mix or default_status_mix(templates)
    unknown = set(mix) - set(templates)
    if unknown:
        raise ValueError(f"statuses not reachable in the active process: {sorted(unknown)}")
    gen = Generator(seed, school_code=school_code, year=year)
    structure = gen.structure(colleges, majors)
    school = School.get_or_none(School.code == school_code) or School.create(code=school_code, name=school_name)
    major_ids: dict[tuple[str, str], tuple[int, int]] = {}
    for college_name, ms in structure:
        col = (College.get_or_none((College.school == school) & (College.name == college_name))
               or College.create(school=school, name=college_name))
        summary.college_ids.append(col.id)
        for code, name in ms:
            maj = (Major.get_or_none((Major.college == col) & (Major.code == code) & (Major.name == name))
                   or Major.create(school=school, college=col, code=code, name=name))
            major_ids[(college_name, name)] = (col.id, maj.id)
            summary.major_ids.append(maj.id)
    summary.colleges, summary.majors = len(structure), len(major_ids)
    start = RosterStudent.select().where(RosterStudent.school == school).count() + 1
    ids = next_ids or (_next_id(RosterStudent), _next_id(Record), _next_id(ProcessInstance))
    plan = SchoolPlan(school_code, year, version.id, definition, templates, major_ids, *ids)
    return plan, gen, list(mix), [mix[s] for s in mix], start


def build_rows(plan: SchoolPlan, batch: list[tuple[Student, str]], summary: SeedSummary,
               now: Any) -> list[tuple[Any, list[dict[str, Any]]]]:
    """The rows of a batch of (student, status) for each table, in insert order; advances plan's ids.

    Record rows carry review_status/report_status (the copies m0003's triggers keep), so a seeder
    may write them with the instance trigger disabled.
    """
    roster_rows, record_rows, instance_rows, pending, events = [], [], [], [], []
    templates, school_code = plan.templates, plan.school_code
    for st, status in batch:
        cid, mid = plan.major_ids[(st.college, st.major)]
        school_part = st.report["school"]
        extra = {k: v for k, v in school_part.items()
                 if k not in ("school_code", "student_no", "college", "major", "major_code", "class_name",
                              "exam_no")}
        roster = {"id": plan.roster_id, "school": school_code, "year": plan.year, "student_no": st.student_no,
                  "name": st.name, "gender": st.gender, "id_type": st.id_type, "id_number": st.id_number,
                  "category": st.category, "nationality": "中国", "exam_no": st.exam_no, "college": cid,
                  "major": mid, "class_name": st.class_name, "fields": extra, "eligible": st.eligible,
                  "exclusion_reason": st.exclusion_reason, "imported_at": now, "updated_at": now}
        roster["row_hash"] = _row_hash(roster)
        roster_rows.append(roster)
        if st.eligible:
            t = templates[status]
            data = st.report if t.submitted else {
                "school": dict(school_part),
                "personal": {k: st.report["personal"][k] for k in ("name", "gender", "id_type", "id_number")},
                "other": {}}
            origin = st.report["personal"]["origin_region"] if t.submitted else ""
            record_rows.append({
                "id": plan.record_id, "school": school_code, "student": plan.roster_id, "college": cid,
                "major": mid, "category": st.category, "student_no": st.student_no, "name": st.name,
                "id_number": st.id_number, "origin_region": origin, "data": data, "created_by": "seed",
                "created_at": now, "updated_at": now, "submitted_at": now if t.submitted else None,
                "review_status": t.status, "report_status": t.report_status})
            chain_events, head = _seed_events(plan.record_id, plan.instance_id, school_code, t, plan.definition,
                                              now)
            instance_rows.append({  # the chain head on the instance, as a step writes it (m0014)
                "id": plan.instance_id, "record": plan.record_id, "version": plan.version_id, "state": t.state,
                "status": t.status, "report_status": t.report_status, "role": t.role,
                "completed": t.completed, "lock_version": 1, "updated_at": now,
                "audit_seq": head["seq"], "audit_hash": head["hash"]})
            pending.extend(pending_rows(plan.instance_id, plan.record_id, school_code, cid, mid, t.pending))
            events.extend(chain_events)
            summary.by_status[status] = summary.by_status.get(status, 0) + 1
            summary.records += 1
            plan.record_id += 1
            plan.instance_id += 1
        plan.roster_id += 1
        summary.roster_rows += 1
    return [(RosterStudent, roster_rows), (Record, record_rows), (ProcessInstance, instance_rows),
            (PendingTask, pending), (AuditEvent, events)]


def seed_school(school_code: str, school_name: str, *, students: int, seed: int = 1,
                status_mix: dict[str, float] | None = None, colleges: int = 5, majors: int = 20,
                chunk: int = 500, year: int = 2021) -> SeedSummary:
    """Create (or extend) a school with `students` roster rows and their records, in bulk.

    status_mix maps status labels of the active process to weights (default: default_status_mix).
    About 1 % of roster rows are ineligible (with a reason) and get no record.
    """
    summary = SeedSummary(school_code, 0, 0, 0, 0)
    with write_transaction():
        plan, gen, labels, weights, start = prepare_school(
            school_code, school_name, seed=seed, colleges=colleges, majors=majors, year=year,
            status_mix=status_mix, summary=summary)
        now = utcnow()
        batch: list[tuple[Student, str]] = []

        def flush() -> None:
            for model, rows in build_rows(plan, batch, summary, now):
                if model is Record:  # the trigger on process_instance fills the status copies
                    rows = [{k: v for k, v in r.items() if k not in ("review_status", "report_status")}
                            for r in rows]
                bulk_insert(model, rows)
            batch.clear()

        for st in gen.students(students, plan_structure(gen, colleges, majors), start=start):
            batch.append((st, gen.rng.choices(labels, weights)[0]))
            if len(batch) >= chunk:
                flush()
        flush()
        _fix_sequences([RosterStudent, Record, ProcessInstance])
    database.execute_sql("ANALYZE")  # planner statistics for the new volume (both engines)
    return summary


def plan_structure(gen: Generator, colleges: int, majors: int) -> list[tuple[str, list[tuple[str, str]]]]:
    """The generator's structure again (deterministic: it does not draw from the random stream)."""
    return gen.structure(colleges, majors)


def _seed_events(record_id: int, instance_id: int, school_code: str, t: StatusTemplate,
                 definition: ProcessDefinition, now: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The record's history as the service would have written it: its creation at the start, then
    every step the engine took to reach the template's status (so `gradflow audit conform` finds a
    seeded province conforming), chained as audit.append would; and the chain's head row."""
    base = {"record": record_id, "instance": instance_id, "school": school_code,
            "actor": "seed", "actor_role": "system", "task": "", "level": "", "decision": "", "comment": "",
            "status_before": "", "process_version": definition.sha256, "created_at": now}
    start = t.path[0].status_before if t.path else t.status
    events = [{**base, "action": "create", "status_after": start, "data_changed": {"seeded": True}}]
    for p in t.path:
        events.append({**base, "action": p.action, "actor_role": p.role, "task": p.task, "level": p.level,
                       "decision": p.decision, "comment": p.comment, "status_before": p.status_before,
                       "status_after": p.status_after, "data_changed": None})
    head = audit.seed_chain(audit.record_chain(record_id), events)
    return events, head


def create_accounts(school_code: str, password: str, *, prefix: str = "") -> list[tuple[str, str, int | None]]:
    """Reviewer accounts for a seeded school: the first level's role per college, other levels per school.

    Returns (username, role, college id or None). Roles come from the active process's levels.
    """
    _, definition = processes.active_definition()
    levels = definition.meta["levels"]
    hashed = hash_password(password)
    created: list[tuple[str, str, int | None]] = []
    with write_transaction():
        colleges = list(College.select().where(College.school == school_code).order_by(College.id))
        for i, level in enumerate(levels):
            role = level["role"]
            targets: list[College | None] = [*colleges] if i == 0 else [None]
            if i == 0:
                targets.append(None)  # and one for the whole school
            for n, col in enumerate(targets, start=1):
                username = f"{prefix}{role}{n if col is not None else ''}"
                if User.select().where((User.school == school_code) & (User.username == username)).exists():
                    continue
                user = User.create(school=school_code, username=username, password_hash=hashed, role=role,
                                   display_name=f"{definition.role_label(role)}{'·' + col.name if col else ''}")
                if col is not None:
                    UserScope.create(user=user, college=col)
                created.append((username, role, col.id if col else None))
    return created
