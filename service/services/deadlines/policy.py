"""Pure deadline rules: which deadline applies to whom, and what is still open at an instant.

No database, no Flask: the callers (store.window_for, the student services) gather the school's
deadline, the extensions and the settings' default and ask here. All instants are aware UTC.

The rules (issue 10 item 3):

- **Which deadline.** The school's deadline is the one the centre set in the product, else
  GRADFLOW_DEADLINE (the deployment's default), else none (always open). A student's deadline is
  the latest of the school's deadline, their college's extension and their own (学号) extension.
  An extension never shortens anything, and without a school deadline there is nothing to extend.
- **Drafting and submitting** are open while ``now <= deadline``.
- **Resubmission window.** After the deadline, a student whose record waits at a resubmit task
  (it was sent back, 不同意: the pending task is the submitter's but not the first fill) may still
  save drafts and resubmit while ``now < resubmit_until``. A student who never submitted gets no
  such grace: the window is for records the reviewers sent back, often late in the process.
- **Binding** is open while ``now <= deadline`` (the student's own deadline, extensions included);
  the resubmission window does not reopen it (a new binding has nothing to resubmit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
MIN_YEAR, MAX_YEAR = 2000, 2100

SOURCE_SCHOOL, SOURCE_DEFAULT, SOURCE_COLLEGE, SOURCE_STUDENT = "school", "default", "college", "student"
SOURCE_LABELS = {SOURCE_SCHOOL: "学校截止时间", SOURCE_DEFAULT: "系统默认截止时间",
                 SOURCE_COLLEGE: "院系延期", SOURCE_STUDENT: "个人延期"}

OPEN, OPEN_RESUBMIT, CLOSED = "open", "resubmit_window", "deadline_passed"


@dataclass(frozen=True)
class Window:
    """Everything that decides one student's deadline (aware UTC instants, None = not set)."""

    school_deadline: datetime | None
    school_source: str = SOURCE_SCHOOL  # SOURCE_SCHOOL or SOURCE_DEFAULT
    college_until: datetime | None = None
    student_until: datetime | None = None
    resubmit_until: datetime | None = None

    @property
    def deadline(self) -> datetime | None:
        """The latest of the school deadline and the extensions that apply (None: no deadline)."""
        return applicable_deadline(self.school_deadline, self.college_until, self.student_until)

    @property
    def source(self) -> str | None:
        """Which of the three gave the applicable deadline (ties: the school's)."""
        limit = self.deadline
        if limit is None:
            return None
        if self.school_deadline == limit:
            return self.school_source
        return SOURCE_COLLEGE if self.college_until == limit else SOURCE_STUDENT


@dataclass(frozen=True)
class Decision:
    open: bool
    code: str  # OPEN, OPEN_RESUBMIT or CLOSED
    message: str  # Chinese, for the banner and the 4xx (empty when plainly open)


def applicable_deadline(school: datetime | None, college: datetime | None,
                        student: datetime | None) -> datetime | None:
    if school is None:
        return None
    return max(t for t in (school, college, student) if t is not None)


def beijing(instant: datetime) -> str:
    """An aware instant as Beijing time to the minute, for messages."""
    return instant.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def editing(window: Window, now: datetime, *, awaiting_resubmit: bool) -> Decision:
    """May the student save a draft or submit at `now`? See the module docstring for the rule."""
    limit = window.deadline
    if limit is None or now <= limit:
        return Decision(True, OPEN, "")
    until = window.resubmit_until
    if awaiting_resubmit and until is not None and now < until:
        return Decision(True, OPEN_RESUBMIT,
                        f"填报截止时间（{beijing(limit)}）已过；被退回的信息可在 {beijing(until)} 前修改并重新提交")
    if awaiting_resubmit and until is not None:
        return Decision(False, CLOSED, f"填报截止时间（{beijing(limit)}）及重新提交期限（{beijing(until)}）均已过，"
                                       "信息不能再修改或提交；如有疑问请联系学院")
    return Decision(False, CLOSED, f"填报截止时间（{beijing(limit)}）已过，信息不能再修改或提交；如有疑问请联系学院")


def binding(window: Window, now: datetime) -> Decision:
    """May a roster student bind at `now`? Only until their applicable deadline."""
    limit = window.deadline
    if limit is None or now <= limit:
        return Decision(True, OPEN, "")
    return Decision(False, CLOSED, f"学籍绑定已截止（截止时间 {beijing(limit)}），如有疑问请联系学院")


# --- parsing and checking instants ------------------------------------------------------------

class BadInstant(ValueError):
    """A refused instant; the message is Chinese."""


def parse_instant(text: str, *, naive_zone: timezone = BEIJING) -> datetime:
    """ISO 8601 text to an aware UTC datetime. Without an offset the text is read as Beijing time.

    Refused (BadInstant): empty, NUL or control characters, over 64 characters, not ISO 8601,
    years outside 2000–2100.
    """
    raw = (text or "").strip()
    if not raw:
        raise BadInstant("请填写时间")
    if len(raw) > 64 or any(ord(c) < 32 for c in raw):
        raise BadInstant("时间格式有误，应为 ISO 8601，例如 2020-11-05T12:00+08:00")
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise BadInstant("时间格式有误，应为 ISO 8601，例如 2020-11-05T12:00+08:00") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=naive_zone)
    return check_instant(value)


def check_instant(value: datetime) -> datetime:
    """An aware instant, as UTC, if its year (in UTC and in Beijing time) is within 2000–2100."""
    try:
        utc = value.astimezone(UTC)
        local = value.astimezone(BEIJING)
    except (OverflowError, ValueError):
        raise BadInstant(f"年份应在 {MIN_YEAR}–{MAX_YEAR} 之间") from None
    if not all(MIN_YEAR <= v.year <= MAX_YEAR for v in (utc, local)):
        raise BadInstant(f"年份应在 {MIN_YEAR}–{MAX_YEAR} 之间")
    return utc


def from_local_fields(day: str, clock: str) -> datetime:
    """A page's date (YYYY-MM-DD) and time (HH:MM) fields, in Beijing time, as aware UTC."""
    day, clock = (day or "").strip(), (clock or "").strip() or "23:59"
    if not day:
        raise BadInstant("请填写日期")
    if len(day) != 10 or len(clock) > 8 or any(ord(c) < 32 for c in day + clock):
        raise BadInstant("日期或时间格式有误（日期如 2020-11-05，时间如 12:00）")
    try:
        value = datetime.fromisoformat(f"{day}T{clock}")
    except ValueError:
        raise BadInstant("日期或时间格式有误（日期如 2020-11-05，时间如 12:00）") from None
    return check_instant(value.replace(tzinfo=BEIJING))


def to_utc_naive(value: datetime) -> datetime:
    """For storage: the models keep naive UTC."""
    return value.astimezone(UTC).replace(tzinfo=None)


def from_utc_naive(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


def default_deadline(setting: str) -> datetime | None:
    """GRADFLOW_DEADLINE as an aware UTC instant (a value without offset is Beijing time)."""
    if not (setting or "").strip():
        return None
    value = datetime.fromisoformat(setting.strip())
    return (value if value.tzinfo else value.replace(tzinfo=BEIJING)).astimezone(UTC)
