"""Process versions: deploy a BPMN file, choose the active one, load definitions, migrate instances.

Versions are keyed by the sha256 of the file's canonical form (canonical.py), so deploying the same
file twice, or as an editor saved it unchanged, is a no-op; versions whose semantic forms are equal
differ only in layout, which the version list says.
New records start on their school's active version (process_activation: the school's own row, else
the default row); running instances stay on the version they began with.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peewee import IntegrityError

from service.db import database, forget_request_memo, request_memo, write_transaction
from service.errors import InvalidInput, NotFound
from service.models import ProcessActivation, ProcessVersion, School
from service.services import audit
from service.services.actors import SYSTEM, Actor
from service.services.processes.canonical import Fingerprint, fingerprint
from service.workflow.definitions import ProcessDefinition, parse_process, sha256_of
from service.workflow.serializer import dump_spec, load_spec

# Parsed definitions live on the database object they were read from (version ids repeat across
# databases, e.g. one per test), so a cache never outlives or crosses its database.
_CACHE_ATTR = "_gradflow_definitions"
_NAMES_ATTR = "_gradflow_version_names"
_cache_lock = threading.RLock()


def _cache() -> dict[int, ProcessDefinition]:
    db = database.obj
    found = getattr(db, _CACHE_ATTR, None)
    if found is None:
        with _cache_lock:
            found = getattr(db, _CACHE_ATTR, None)
            if found is None:
                found = {}
                setattr(db, _CACHE_ATTR, found)
    return found


@dataclass
class DeployResult:
    version: ProcessVersion
    created: bool
    activated: bool


def deploy(xml: bytes, source_name: str, *, actor: Actor = SYSTEM, activate: bool = False) -> DeployResult:
    """Validate and store a BPMN file as a version (same canonical form: the existing version)."""
    sha = sha256_of(xml)
    prints = None
    definition: ProcessDefinition | None = None
    spec_json = ""
    if ProcessVersion.get_or_none(ProcessVersion.sha256 == sha) is None:
        definition = parse_process(xml, source_name)  # raises ProcessValidationError
        prints = fingerprint(xml)
        if ProcessVersion.get_or_none(ProcessVersion.canonical_sha256 == prints.canonical_sha256) is None:
            spec_json = dump_spec(definition.spec, definition.subprocess_specs)
    try:
        return _store(xml, sha, prints, source_name, actor, activate, definition, spec_json)
    except IntegrityError:
        # Another machine of the same release stored these bytes at the same moment: it is there now.
        return _store(xml, sha, prints, source_name, actor, activate, definition, spec_json)


def _store(xml: bytes, sha: str, prints: Fingerprint | None, source_name: str, actor: Actor, activate: bool,
           definition: ProcessDefinition | None, spec_json: str) -> DeployResult:
    created = False
    with write_transaction():
        version = _existing(sha, prints)
        if version is None:
            assert prints is not None and definition is not None  # a file whose bytes are known has a version
            version = ProcessVersion.create(
                sha256=sha, canonical_sha256=prints.canonical_sha256, semantic_sha256=prints.semantic_sha256,
                process_id=definition.process_id, name=definition.meta["name"],
                source_name=source_name, bpmn_xml=xml.decode("utf-8-sig"), spec_json=spec_json,
                meta=definition.meta, deployed_by=actor.username,
            )
            created = True
            audit.append("system", actor=actor.username, actor_role=actor.role, action="deploy",
                         process_version=sha, data_changed={"source": source_name, "version_id": version.id})
        activated = False
        if activate and not version.active:
            _set_active(version, actor)
            activated = True
    return DeployResult(version, created, activated)


def _existing(sha: str, prints: Fingerprint | None) -> ProcessVersion | None:
    """The version of these bytes, else of the same canonical form."""
    version = ProcessVersion.get_or_none(ProcessVersion.sha256 == sha)
    if version is None and prints is not None:
        version = ProcessVersion.get_or_none(ProcessVersion.canonical_sha256 == prints.canonical_sha256)
    return version


def deploy_file(path: Path, *, actor: Actor = SYSTEM, activate: bool = False) -> DeployResult:
    return deploy(path.read_bytes(), path.name, actor=actor, activate=activate)


def _set_active(version: ProcessVersion, actor: Actor) -> None:
    """Make `version` the default of every school (ending the schools' own activations)."""
    ProcessActivation.update(current=False).where(ProcessActivation.current == True).execute()  # noqa: E712
    forget_request_memo()
    _record_activation("", version, actor)
    audit.append("system", actor=actor.username, actor_role=actor.role, action="activate",
                 process_version=version.sha256, data_changed={"version_id": version.id, "schools": "all"})


def _record_activation(school_code: str, version: ProcessVersion, actor: Actor) -> None:
    ProcessActivation.create(school_code=school_code, version=version.id, current=True,
                             activated_by=actor.username)
    if not school_code:
        ProcessVersion.update(active=False).where(ProcessVersion.active == True).execute()  # noqa: E712
        ProcessVersion.update(active=True).where(ProcessVersion.id == version.id).execute()
        version.active = True
    forget_request_memo()


def activate(ref: str, *, actor: Actor = SYSTEM, schools: Sequence[str] | None = None) -> ProcessVersion:
    """New records start on `ref`: in every school (schools=None), or only in the listed schools.

    Running instances stay on their version. Activating for every school also ends the schools'
    own activations, so "all schools" means all of them.
    """
    version = find_version(ref)
    if schools is None:
        with write_transaction():
            _set_active(version, actor)
        return version
    codes = list(dict.fromkeys(code.strip() for code in schools if code and code.strip()))
    if not codes:
        raise InvalidInput("请选择至少一所学校", code="schools_required", details={"schools": ["必选"]})
    known = {s.code for s in School.select(School.code).where(School.code.in_(codes))}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput(f"学校代码不存在：{'、'.join(unknown[:10])}", code="unknown_school",
                           details={"schools": [f"不存在：{c}" for c in unknown[:10]]})
    with write_transaction():
        (ProcessActivation.update(current=False)
         .where((ProcessActivation.current == True) & ProcessActivation.school_code.in_(codes))  # noqa: E712
         .execute())
        forget_request_memo()
        for code in codes:
            _record_activation(code, version, actor)
        audit.append("system", actor=actor.username, actor_role=actor.role, action="activate",
                     process_version=version.sha256, data_changed={"version_id": version.id, "schools": codes})
    return version


def rollback(*, actor: Actor = SYSTEM, school: str | None = None) -> ProcessVersion:
    """Re-activate the version that was active before the current one (for the default, or for one
    school: with no earlier version of its own the school goes back to the default). Running
    instances stay where they are. Returns the version new records now start on."""
    scope = (school or "").strip()
    with write_transaction():
        history = list(ProcessActivation.select().where(ProcessActivation.school_code == scope)
                       .order_by(ProcessActivation.id.desc()))
        current = next((row for row in history if row.current), None)
        if current is None:
            raise NotFound("该学校没有单独启用的流程版本，无需回滚" if scope else "尚未启用流程版本",
                           code="nothing_to_roll_back")
        previous = next((row for row in history if row.id < current.id and row.version_id != current.version_id),
                        None)
        if previous is None and not scope:
            raise InvalidInput("没有更早启用过的版本，无法回滚", code="nothing_to_roll_back")
        ProcessActivation.update(current=False).where(ProcessActivation.id == current.id).execute()
        forget_request_memo()
        if previous is not None:
            target = ProcessVersion.get_by_id(previous.version_id)
            _record_activation(scope, target, actor)
        else:
            target = _current_version("")
        audit.append("system", actor=actor.username, actor_role=actor.role, action="rollback",
                     process_version=target.sha256,
                     data_changed={"from_version": current.version_id, "version_id": target.id,
                                   "schools": [scope] if scope else "all"})
    return target


def _current_version(school_code: str) -> ProcessVersion:
    version_id = _current_version_id(school_code)
    if version_id is None:
        raise NotFound("尚未部署流程", code="no_active_process")
    return ProcessVersion.get_by_id(version_id)


def _activations(school_code: str | None) -> list[tuple[str, int, bool]]:
    """(scope, version id, current) of every activation of the school and of the default, newest
    first: one light statement (no query building), remembered for the rest of the request, where
    the caller's roles, the review levels and the record's version all need it."""
    scopes = ("", school_code) if school_code else ("",)

    def load() -> list[tuple[str, int, bool]]:
        p = database.param
        table = ProcessActivation._meta.table_name
        sql = (f'SELECT school_code, version_id, "current" FROM "{table}" '
               f"WHERE school_code IN ({', '.join([p] * len(scopes))}) ORDER BY id DESC")
        return [(code, int(version), bool(current)) for code, version, current in
                database.execute_sql(sql, scopes).fetchall()]

    return request_memo(("activations", school_code or ""), load)


def _current_version_id(school_code: str | None) -> int | None:
    """The version a school's new records start on: its own activation, else the default."""
    current = {code: version for code, version, is_current in _activations(school_code) if is_current}
    chosen = current.get(school_code or "") or current.get("")
    return int(chosen) if chosen is not None else None


def activation_overview() -> list[dict[str, Any]]:
    """Per version that is active anywhere: whether it is the default, and the schools of its own."""
    out: dict[int, dict[str, Any]] = {}
    for row in (ProcessActivation.select().where(ProcessActivation.current == True)  # noqa: E712
                .order_by(ProcessActivation.school_code)):
        entry = out.setdefault(row.version_id, {"version_id": row.version_id, "default": False, "schools": []})
        if row.school_code:
            entry["schools"].append(row.school_code)
        else:
            entry["default"] = True
    return list(out.values())


def school_versions() -> dict[str, int]:
    """school code → version id, for the schools with an activation of their own."""
    return {row.school_code: row.version_id for row in ProcessActivation.select()
            .where((ProcessActivation.current == True) & (ProcessActivation.school_code != ""))}  # noqa: E712


def versions_in_use(school_code: str | None = None) -> list[int]:
    """Every version ever activated for the school or the default, newest first: their reviewers keep
    their powers after a roll back, for the records still running on them."""
    return list(dict.fromkeys(version for _, version, _ in _activations(school_code)))


def ensure_configured_process(path: Path) -> ProcessVersion:
    """Deploy the configured BPMN file; a file whose bytes are new becomes the active version."""
    result = deploy_file(path, activate=False)
    if result.created or active_version_or_none() is None:
        with write_transaction():
            _set_active(result.version, SYSTEM)
    return result.version


def find_version(ref: str | int) -> ProcessVersion:
    """A version by id, or by sha256 prefix (at least 8 characters)."""
    text = str(ref).strip()
    version = None
    if text.isdigit():
        version = ProcessVersion.get_or_none(ProcessVersion.id == int(text))
    if version is None and len(text) >= 8:
        matches = list(ProcessVersion.select().where(ProcessVersion.sha256.startswith(text)).limit(2))
        if len(matches) == 1:
            version = matches[0]
    if version is None:
        raise NotFound(f"流程版本 {text} 不存在", code="process_version_not_found")
    return version


def active_version_or_none(school_code: str | None = None) -> ProcessVersion | None:
    version_id = _current_version_id(school_code)
    return ProcessVersion.get_or_none(ProcessVersion.id == version_id) if version_id is not None else None


def active_version(school_code: str | None = None) -> ProcessVersion:
    """The version new records of the school start on (its own activation, else the default)."""
    version = active_version_or_none(school_code)
    if version is None:
        raise NotFound("尚未部署流程", code="no_active_process")
    return version


def _names() -> dict[int, str]:
    """Version id → name, kept next to the parsed definitions (a version's name never changes)."""
    db = database.obj
    found = getattr(db, _NAMES_ATTR, None)
    if found is None:
        with _cache_lock:
            found = getattr(db, _NAMES_ATTR, None)
            if found is None:
                found = {}
                setattr(db, _NAMES_ATTR, found)
    return found


def definition(version_id: int) -> ProcessDefinition:
    """The parsed definition of a version, restored from its stored spec once per process."""
    cache = _cache()
    found = cache.get(version_id)
    if found is not None:
        return found
    with _cache_lock:
        found = cache.get(version_id)
        if found is None:
            row = ProcessVersion.get_by_id(version_id)
            spec, subprocess_specs = load_spec(row.spec_json)
            found = ProcessDefinition(sha256=row.sha256, process_id=row.process_id, spec=spec,
                                      subprocess_specs=subprocess_specs, meta=row.meta)
            cache[version_id] = found
            _names()[version_id] = row.name
    return found


def active_definition(school_code: str | None = None) -> tuple[ProcessVersion, ProcessDefinition]:
    """The school's version and definition (no school: the default). Only light columns are read:
    this runs on every request, and the stored XML and spec are large."""
    version_id = _current_version_id(school_code)
    if version_id is None:
        raise NotFound("尚未部署流程", code="no_active_process")
    found = definition(version_id)
    # The light columns never change once deployed (the parsed definition carries them), except
    # `active`, which is whether the version is the default's current one.
    version = ProcessVersion(id=version_id, sha256=found.sha256, process_id=found.process_id,
                             name=_names().get(version_id) or found.meta.get("name", ""),
                             active=any(code == "" and current and version == version_id
                                        for code, version, current in _activations(school_code)))
    return version, found


def definitions_in_use(school_code: str | None = None) -> list[ProcessDefinition]:
    """The definitions of versions_in_use(school), newest activation first (the current one first)."""
    current = _current_version_id(school_code)
    ids = versions_in_use(school_code)
    if current is not None:
        ids = [current, *[i for i in ids if i != current]]
    return [definition(i) for i in ids]


def deployed_definitions() -> list[ProcessDefinition]:
    """Every deployed version's definition, newest first (accounts may be made for their roles
    before the version is activated)."""
    return [definition(row[0]) for row in
            ProcessVersion.select(ProcessVersion.id).order_by(ProcessVersion.id.desc()).tuples()]


def clear_cache() -> None:
    """Forget the parsed definitions of the bound database."""
    cache = _cache()
    with _cache_lock:
        cache.clear()


@dataclass
class VersionSummary:
    id: int
    sha256: str
    process_id: str
    name: str
    source_name: str
    active: bool
    deployed_at: str
    instances: int
    waiting: int
    statuses: list[str] = field(default_factory=list)
    semantic_sha256: str = ""
    layout_only_of: int | None = None  # the earliest earlier version this one differs from only in layout

    @property
    def layout_note(self) -> str:
        return f"与版本 {self.layout_only_of} 仅布局不同" if self.layout_only_of is not None else ""


def initial_statuses() -> list[str]:
    """The status label of the first (student's) task in every deployed version, e.g. 未提交:
    a record still there was never submitted. Read from the versions' BPMN metadata."""
    found = {v.meta.get("initial_status") for v in ProcessVersion.select(ProcessVersion.meta)}
    return sorted(s for s in found if s)


def list_versions() -> list[VersionSummary]:
    from peewee import Case, fn

    from service.models import ProcessInstance

    counts = {
        row[0]: (row[1], row[2])
        for row in ProcessInstance.select(
            ProcessInstance.version, fn.COUNT(ProcessInstance.id),
            fn.SUM(Case(None, [(ProcessInstance.completed == False, 1)], 0)),  # noqa: E712
        ).group_by(ProcessInstance.version).tuples()
    }
    out = []
    first_of_semantic: dict[str, int] = {}
    for v in ProcessVersion.select().order_by(ProcessVersion.id):
        total, waiting = counts.get(v.id, (0, 0))
        earlier = first_of_semantic.setdefault(v.semantic_sha256, v.id) if v.semantic_sha256 else v.id
        out.append(VersionSummary(v.id, v.sha256, v.process_id, v.name, v.source_name, v.active,
                                  v.deployed_at.isoformat(timespec="seconds"), total, int(waiting or 0),
                                  v.meta.get("statuses", []), v.semantic_sha256,
                                  earlier if earlier != v.id else None))
    return out


__all__ = [
    "DeployResult", "activate", "activation_overview", "definitions_in_use", "deployed_definitions", "rollback",
    "school_versions", "versions_in_use", "active_definition", "active_version", "active_version_or_none",
    "clear_cache", "definition", "deploy", "deploy_file", "ensure_configured_process", "find_version",
    "list_versions",
]
