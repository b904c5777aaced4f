"""How audit rows read in Chinese: actions, decisions, and the record's fields as changed-field choices."""

from __future__ import annotations

from service.validation.sections import FIELD_LABELS, SECTION_FIELDS, SECTION_LABELS

# Every action the writers use (grep `action=` under service/); an unknown one is shown as it is.
ACTION_LABELS: dict[str, str] = {
    "create": "创建记录", "bind": "绑定学籍", "submit": "提交", "save_draft": "保存草稿", "edit": "编辑",
    "add": "添加", "review": "审核", "view_id_number": "查看完整证件号码", "migrate": "迁移流程版本",
    "submit_on_behalf": "代为提交", "export": "导出", "roster_import": "学籍导入",
    "password_recovered": "学生找回密码", "password_reset": "重置密码", "account_unlocked": "解除锁定",
    "account_disabled": "停用账号", "account_enabled": "启用账号", "school_add": "添加学校",
    "deploy": "部署流程版本", "activate": "启用流程版本", "rollback": "回退流程版本",
    "deadline_set": "设置截止时间", "deadline_extension_add": "添加延期", "deadline_extension_remove": "取消延期",
    "notify_retry": "重发通知", "notify_template": "修改通知模板", "notify_schedule": "修改提醒计划",
    "notify_remind": "发送提醒", "seed": "演示数据",
}
DECISION_LABELS: dict[str, str] = {"approve": "通过", "reject": "不通过"}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def field_key_label(key: str) -> str:
    """`personal.origin_region` -> 生源所在地; a key that is not a report field keeps its name."""
    name = key.rsplit(".", 1)[-1]
    return FIELD_LABELS.get(name, key)


def field_choices() -> list[tuple[str, str]]:
    """(section.field, 个人 · 生源所在地) for every report field, in form order."""
    return [(f"{section}.{name}", f"{SECTION_LABELS[section]} · {FIELD_LABELS.get(name, name)}")
            for section, names in SECTION_FIELDS.items() for name in names]


FIELD_KEYS = frozenset(key for key, _ in field_choices())
