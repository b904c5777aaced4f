"""Process versions: deploy a BPMN file, choose the active one, load definitions, migrate instances.

Versions are keyed by the sha256 of the file's canonical form (canonical.py), so deploying the same
file twice, or as an editor saved it unchanged, is a no-op; versions whose semantic forms are equal
differ only in layout, which the version list says.
New records start on the active version; running instances stay on the version they began with.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from service.db import database, write_transaction
from service.errors import NotFound
from service.models import ProcessVersion
from service.services import audit
from service.services.actors import SYSTEM, Actor
from service.services.processes.canonical import Fingerprint, fingerprint
from service.workflow.definitions import ProcessDefinition, parse_process, sha256_of
from service.workflow.serializer import dump_spec, load_spec

# Parsed definitions live on the database object they were read from (version ids repeat across
# databases, e.g. one per test), so a cache never outlives or crosses its database.
_CACHE_ATTR = "_gradflow_definitions"
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
    if ProcessVersion.get_or_none(ProcessVersion.sha256 == sha) is None:
        definition = parse_process(xml, source_name)  # raises ProcessValidationError
        prints = fingerprint(xml)
        if ProcessVersion.get_or_none(ProcessVersion.canonical_sha256 == prints.canonical_sha256) is None:
            spec_json = dump_spec(definition.spec, definition.subprocess_specs)
    created = False
    with write_transaction():
        version = _existing(sha, prints)
        if version is None:
            assert prints is not None  # a file whose bytes are known has a version
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
    ProcessVersion.update(active=False).where(ProcessVersion.active == True).execute()  # noqa: E712
    ProcessVersion.update(active=True).where(ProcessVersion.id == version.id).execute()
    version.active = True
    audit.append("system", actor=actor.username, actor_role=actor.role, action="activate",
                 process_version=version.sha256, data_changed={"version_id": version.id})


def activate(ref: str, *, actor: Actor = SYSTEM) -> ProcessVersion:
    version = find_version(ref)
    with write_transaction():
        _set_active(version, actor)
    return version


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


def active_version_or_none() -> ProcessVersion | None:
    return ProcessVersion.select().where(ProcessVersion.active == True).first()  # noqa: E712


def active_version() -> ProcessVersion:
    version = active_version_or_none()
    if version is None:
        raise NotFound("尚未部署流程", code="no_active_process")
    return version


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
    return found


def active_definition() -> tuple[ProcessVersion, ProcessDefinition]:
    version = active_version()
    return version, definition(version.id)


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
    "DeployResult", "activate", "active_definition", "active_version", "active_version_or_none",
    "clear_cache", "definition", "deploy", "deploy_file", "ensure_configured_process", "find_version",
    "list_versions",
]
