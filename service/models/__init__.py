"""All tables, importable from one place; ALL_MODELS is in dependency order for create_tables."""

from service.models.base import BaseModel, JSONTextField, utcnow
from service.models.org import College, Major, School, Throttle, User, UserScope, UserSession
from service.models.records import Record, RosterStudent
from service.models.workflow import AuditEvent, PendingTask, ProcessInstance, ProcessVersion

ALL_MODELS = [
    School,
    College,
    Major,
    User,
    UserScope,
    Throttle,
    RosterStudent,
    Record,
    ProcessVersion,
    ProcessInstance,
    PendingTask,
    AuditEvent,
]
# Tables of later migrations (UserSession: m0005) stay out of ALL_MODELS, which m0001 creates.

__all__ = [
    "ALL_MODELS",
    "AuditEvent",
    "BaseModel",
    "College",
    "JSONTextField",
    "Major",
    "PendingTask",
    "ProcessInstance",
    "ProcessVersion",
    "Record",
    "RosterStudent",
    "School",
    "Throttle",
    "User",
    "UserScope",
    "UserSession",
    "utcnow",
]
