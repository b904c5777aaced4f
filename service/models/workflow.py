"""Process versions, one instance per record, the pending human tasks, and the audit chain."""

from __future__ import annotations

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from service.models.base import BaseModel, JSONTextField, utcnow
from service.models.org import College, Major, School
from service.models.records import Record


class ProcessVersion(BaseModel):
    """A deployed BPMN file, keyed by its canonical form; the parsed spec is stored once here.

    sha256 is of the bytes as deployed (instances carry it); canonical_sha256 is the key deploy
    looks up (see services/processes/canonical.py; NULL only for a pre-m0012 duplicate of an earlier
    version); semantic_sha256 leaves the diagram out, so equal values mean "differs only in layout".
    """

    id = AutoField()
    sha256 = CharField(max_length=64, unique=True)
    canonical_sha256 = CharField(max_length=64, unique=True, null=True)
    semantic_sha256 = CharField(max_length=64, default="", index=True)
    process_id = CharField(max_length=128)
    name = CharField(max_length=200, default="")
    source_name = CharField(max_length=255, default="")
    bpmn_xml = TextField()
    spec_json = TextField()
    meta = JSONTextField()  # lanes, tasks with their properties, statuses (see workflow.definitions)
    active = BooleanField(default=False)
    deployed_by = CharField(max_length=64, default="")
    deployed_at = DateTimeField(default=utcnow)


class ProcessInstance(BaseModel):
    """Serialized engine state WITHOUT the spec, plus what lists and locks need without loading it."""

    record_id: int
    version_id: int

    id = AutoField()
    record = ForeignKeyField(Record, unique=True, backref="instance", on_delete="CASCADE")
    version = ForeignKeyField(ProcessVersion, backref="instances")
    state = TextField()
    status = CharField(max_length=32, index=True)  # the BPMN status label, e.g. 二级待审
    report_status = CharField(max_length=32, default="", index=True)
    role = CharField(max_length=32, default="")  # lane role of the pending task ('' when done)
    completed = BooleanField(default=False)
    lock_version = IntegerField(default=1)
    updated_at = DateTimeField(default=utcnow)
    # The head (newest seq, hash) of the record's audit chain, written by the UPDATE of each step
    # so appending needs no read of its own; NULL: the head is in audit_head (see m0014).
    audit_seq = IntegerField(null=True)
    audit_hash = CharField(max_length=64, null=True)


class PendingTask(BaseModel):
    """A READY human task, rewritten after every step so inboxes never deserialize instances."""

    instance_id: int
    record_id: int
    school_id: str
    college_id: int | None
    major_id: int | None

    id = AutoField()
    instance = ForeignKeyField(ProcessInstance, backref="pending", on_delete="CASCADE")
    record = ForeignKeyField(Record, on_delete="CASCADE", index=True)
    task_id = CharField(max_length=36)
    task_name = CharField(max_length=128)  # the BPMN element id
    title = CharField(max_length=128, default="")
    role = CharField(max_length=32)
    status = CharField(max_length=32)
    level = CharField(max_length=32, default="")
    # No single-column FK indexes: the composites below serve every inbox query, and each index
    # is another page written on every step.
    school = ForeignKeyField(School, on_delete="CASCADE", index=False)
    college = ForeignKeyField(College, null=True, on_delete="SET NULL", index=False)
    major = ForeignKeyField(Major, null=True, on_delete="SET NULL", index=False)

    class Meta:
        indexes = (
            (("school", "role", "major"), False),
            (("school", "role", "college"), False),
        )


class AuditEvent(BaseModel):
    """One audited change. Events are hash-chained per chain_key (one chain per record)."""

    id = AutoField()
    chain_key = CharField(max_length=64)
    seq = IntegerField()
    record = IntegerField(null=True, index=True, column_name="record_id")
    instance = IntegerField(null=True, column_name="instance_id")
    school = CharField(max_length=10, null=True)
    actor = CharField(max_length=64)
    actor_role = CharField(max_length=32, default="")
    action = CharField(max_length=32)
    task = CharField(max_length=128, default="")
    level = CharField(max_length=32, default="")
    decision = CharField(max_length=16, default="")
    comment = TextField(default="")
    status_before = CharField(max_length=32, default="")
    status_after = CharField(max_length=32, default="")
    process_version = CharField(max_length=64, default="")
    data_changed = JSONTextField(null=True)
    created_at = DateTimeField(default=utcnow)
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)

    class Meta:
        # Few indexes on purpose: every event is appended inside a reviewer's transaction.
        # Audit queries are per record, or per school over a time range, newest first (m0019).
        indexes = ((("chain_key", "seq"), True), (("school", "created_at", "id"), False))


class AuditHead(BaseModel):
    """The last event of each chain (seq and hash), written in the transaction that appends it.

    Why: a chain alone cannot show that its newest events were deleted; the head can (its seq is
    past the last event left). Appends to one chain serialize on this row (PostgreSQL row lock),
    so concurrent exports or imports of one school queue for a moment instead of colliding.
    """

    chain_key = CharField(primary_key=True, max_length=64)
    seq = IntegerField(default=0)
    hash = CharField(max_length=64)
    updated_at = DateTimeField(default=utcnow)


class ProcessActivation(BaseModel):
    """Which version new records of a school start on, with its history (so a roll back knows the
    previous one). school_code "" is the deployment default: every school without its own row."""

    version_id: int

    id = AutoField()
    school_code = CharField(max_length=10, default="")
    version = ForeignKeyField(ProcessVersion, backref="activations", on_delete="CASCADE")
    current = BooleanField(default=True)
    activated_by = CharField(max_length=64, default="")
    activated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("school_code", "current"), False),)
