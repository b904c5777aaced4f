"""All tables, importable from one place; ALL_MODELS is in dependency order for create_tables.

ALL_MODELS is what the first migration creates: tables added later (deadlines) are created by
their own migration step and are not listed there.
"""

from service.models.base import BaseModel, JSONTextField, utcnow
from service.models.deadlines import DeadlineExtension, SchoolDeadline
from service.models.notify import Delivery, Notification, NotifyMark, NotifySchedule, NotifyTemplate
from service.models.org import College, Major, School, Throttle, User, UserScope, UserSession
from service.models.records import Record, RosterStudent
from service.models.workflow import (
    AuditEvent,
    AuditHead,
    PendingTask,
    ProcessActivation,
    ProcessInstance,
    ProcessVersion,
)

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
    "AuditHead",
    "BaseModel",
    "College",
    "DeadlineExtension",
    "Delivery",
    "JSONTextField",
    "Major",
    "Notification",
    "NotifyMark",
    "NotifySchedule",
    "NotifyTemplate",
    "PendingTask",
    "ProcessActivation",
    "ProcessInstance",
    "ProcessVersion",
    "Record",
    "RosterStudent",
    "School",
    "SchoolDeadline",
    "Throttle",
    "User",
    "UserScope",
    "UserSession",
    "utcnow",
]
