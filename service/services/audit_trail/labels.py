"""How audit rows read in Chinese: actions, decisions, and the record's fields as changed-field choices."""

from __future__ import annotations

from typing import Any

from service.validation.sections import (
    CATEGORY_HMT,
    CATEGORY_MAINLAND,
    FIELD_LABELS,
    SECTION_FIELDS,
    SECTION_LABELS,
)

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


# What the writers record besides report fields (grep `data_changed=` under service/): shown in
# Chinese so an audit row never reads as a Python dict. An unknown key is shown as it is.
DETAIL_LABELS: dict[str, str] = {
    "category": "学生类别", "name": "名称", "account": "账号", "added_by": "添加人", "seeded": "演示数据",
    "kind": "导出内容", "table": "分析表", "filters": "筛选条件", "rows": "行数", "scope": "范围",
    "full_id_number": "含完整证件号码", "counts": "导入结果", "import_id": "导入批次", "file": "文件",
    "sessions_ended": "结束的登录", "locks_cleared": "解除的锁定", "ok": "成功", "error": "错误",
    "created": "新增", "updated": "更新", "unchanged": "未变", "ineligible": "不在范围", "total": "合计",
    "college": "院系", "major": "专业", "field": "修改字段", "record": "记录 / 学生", "actor": "操作人",
    "action": "操作", "level": "审核级别", "since": "开始", "until": "结束", "school": "学校",
    "review_status": "审核状态", "report_status": "上报状态", "state": "催办状态", "q": "搜索",
    "reviewer": "审核人", "origin_region": "生源所在地", "imported": "导入", "excluded": "不在范围",
    "year": "届别", "active": "启用", "role": "角色", "schools": "学校", "source": "来源文件",
    "version_id": "流程版本", "confirmed": "已确认", "days": "天数", "template": "模板", "channel": "渠道",
}
TABLE_LABELS: dict[str, str] = {  # services.analytics.tables.TABLE_KEYS, as the dashboard titles them
    "durations": "各状态停留时间", "durations_by_school": "各状态停留时间（按学校）",
    "durations_by_college": "各状态停留时间（按院系）", "durations_by_major": "各状态停留时间（按专业）",
    "durations_by_reviewer": "各状态停留时间（按审核人）", "rejection_rates": "各级不通过率",
    "rejection_reasons": "主要不通过原因", "throughput": "审核人每日审核量", "backlog": "各状态积压",
    "burndown": "完成进度（燃尽图）",
}
VALUE_LABELS: dict[str, str] = {CATEGORY_MAINLAND: "内地学生", CATEGORY_HMT: "港澳台学生"}
KIND_LABELS: dict[str, str] = {
    "xlsx": "生源信息", "signoff_pdf": "签字表", "chase_xlsx": "催办名单", "audit_xlsx": "审计日志",
    "analytics_xlsx": "过程分析表", "province_xlsx": "全省已完成记录",
}


def field_key_label(key: str) -> str:
    """`personal.origin_region` -> 生源所在地; another recorded key its DETAIL_LABELS name, or itself."""
    if "." in key:
        return FIELD_LABELS.get(key.rsplit(".", 1)[-1], key)
    return DETAIL_LABELS.get(key, key)


def detail_text(key: str, value: Any) -> str:
    """A recorded detail as Chinese text: 是/否, nested {k: v} as 「标签：值」, lists joined with 、."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None or value == "":
        return "（空）"
    if isinstance(value, dict):
        if not value:
            return "无"
        return "，".join(f"{field_key_label(k)}：{detail_text(k, v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "、".join(detail_text(key, v) for v in value)
    shown = str(value)
    if key == "kind":
        return KIND_LABELS.get(shown, shown)
    if key == "table":
        return TABLE_LABELS.get(shown, shown)
    return VALUE_LABELS.get(shown, shown)


def field_choices() -> list[tuple[str, str]]:
    """(section.field, 个人 · 生源所在地) for every report field, in form order."""
    return [(f"{section}.{name}", f"{SECTION_LABELS[section]} · {FIELD_LABELS.get(name, name)}")
            for section, names in SECTION_FIELDS.items() for name in names]


FIELD_KEYS = frozenset(key for key, _ in field_choices())
