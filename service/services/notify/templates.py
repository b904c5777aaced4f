"""The wording of every kind of message: Chinese defaults, overridable per school by the centre.

Placeholders are {名称} in braces, from a fixed list per kind; a template naming anything else is
refused when saved, so a typo shows at once instead of reaching thousands of students.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.errors import InvalidInput
from service.models import NotifyTemplate

PLACEHOLDER = re.compile(r"\{([^{}\s]{1,16})\}")
MAX_SUBJECT = 200
MAX_BODY = 2000


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    subject: str
    body: str
    placeholders: tuple[str, ...]
    reminder: bool = False  # reminders wait for the end of quiet hours before being pushed


_STUDENT = ("姓名", "学号", "学校")
KINDS: dict[str, Kind] = {k.key: k for k in (
    Kind("rejected", "审核不通过", "生源信息审核未通过",
         "{姓名}同学：你提交的生源信息在“{环节}”未通过审核。审核意见：{意见}。请登录系统修改后重新提交。",
         (*_STUDENT, "环节", "意见", "状态")),
    Kind("approved", "审核完成", "生源信息审核已完成",
         "{姓名}同学：你的生源信息已审核通过，当前状态：{状态}。", (*_STUDENT, "状态")),
    Kind("edited", "审核人员修改", "你的生源信息已被修改",
         "{姓名}同学：{修改人}修改了你的生源信息（{修改项}）。请登录系统核对，如有疑问请联系学院。",
         (*_STUDENT, "修改人", "修改项", "状态")),
    Kind("reminder", "催办提醒", "请尽快处理生源信息",
         "{姓名}同学：你的生源信息当前为“{状态}”，请尽快登录系统处理。{截止时间}",
         (*_STUDENT, "状态", "截止时间"), reminder=True),
    Kind("deadline", "截止前提醒", "生源信息填报即将截止",
         "{姓名}同学：生源信息填报将于 {截止时间} 截止，你当前为“{状态}”，请尽快处理。",
         (*_STUDENT, "状态", "截止时间"), reminder=True),
    Kind("digest", "每日待审汇总", "今日待审核的生源信息",
         "{姓名}：您的管辖范围内有 {待审数} 条生源信息等待您审核。", ("姓名", "学校", "待审数")),
)}


@dataclass(frozen=True)
class Wording:
    subject: str
    body: str
    custom: bool


def wording(school_code: str, kind: str) -> Wording:
    row = NotifyTemplate.get_or_none((NotifyTemplate.school == school_code) & (NotifyTemplate.kind == kind))
    if row is not None:
        return Wording(row.subject, row.body, True)
    default = KINDS[kind]
    return Wording(default.subject, default.body, False)


def render(text: str, values: dict[str, str]) -> str:
    """Fill the placeholders; one without a value becomes empty (never the raw braces)."""
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), text)


def check(kind: str, subject: str, body: str) -> tuple[str, str]:
    """A template as the centre typed it, refused (422) when empty, too long or naming unknown fields."""
    if kind not in KINDS:
        raise InvalidInput("没有这种消息", code="unknown_kind")
    subject, body = (subject or "").strip(), (body or "").strip()
    problems: dict[str, list[str]] = {}
    if not subject:
        problems["subject"] = ["请填写标题"]
    elif len(subject) > MAX_SUBJECT:
        problems["subject"] = [f"标题最多 {MAX_SUBJECT} 个字"]
    if not body:
        problems["body"] = ["请填写正文"]
    elif len(body) > MAX_BODY:
        problems["body"] = [f"正文最多 {MAX_BODY} 个字"]
    allowed = KINDS[kind].placeholders
    for field, text in (("subject", subject), ("body", body)):
        unknown = sorted({m.group(1) for m in PLACEHOLDER.finditer(text)} - set(allowed))
        if unknown:
            problems.setdefault(field, []).append(
                "不认识的占位符：" + "、".join("{" + u + "}" for u in unknown) + "（可用：" +
                "、".join("{" + a + "}" for a in allowed) + "）")
    if problems:
        raise InvalidInput("消息模板有误", code="bad_template", details=problems)
    return subject, body
