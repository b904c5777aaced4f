"""Audit rows read in Chinese: details the writers record besides report fields never show as a
Python dict or an English key (found by trying the audit page as the centre)."""

from __future__ import annotations

from service.services.audit_trail.labels import detail_text, field_key_label


def test_report_fields_keep_their_labels_and_other_keys_get_theirs():
    assert field_key_label("personal.origin_region") == "生源所在地"
    assert field_key_label("personal.name") == "姓名"
    assert field_key_label("name") == "名称"  # a school's name (school_add), not a student's 姓名
    assert field_key_label("category") == "学生类别"
    assert field_key_label("something_new") == "something_new"


def test_details_read_as_text():
    assert detail_text("category", "mainland") == "内地学生"
    assert detail_text("full_id_number", True) == "是"
    assert detail_text("kind", "analytics_xlsx") == "过程分析表"
    assert detail_text("counts", {"created": 3, "error": 0}) == "新增：3，错误：0"
    assert detail_text("filters", {"college": [5, 6], "q": "张"}) == "院系：5、6，搜索：张"
    assert detail_text("seeded", True) == "是"
    assert detail_text("comment", None) == "（空）"
    assert "{" not in detail_text("filters", {"a": {"b": [1]}}) and "'" not in detail_text("x", ["a", "b"])


def test_every_analytics_table_and_empty_filters_read_in_chinese():
    from service.services.analytics.tables import TABLE_KEYS
    from service.services.audit_trail.labels import TABLE_LABELS

    assert set(TABLE_KEYS) <= set(TABLE_LABELS)
    assert detail_text("table", "burndown") == "完成进度（燃尽图）"
    assert detail_text("filters", {}) == "无"
    assert detail_text("counts", {"imported": 97, "excluded": 0}) == "导入：97，不在范围：0"
    assert field_key_label("version_id") == "流程版本" and field_key_label("schools") == "学校"
