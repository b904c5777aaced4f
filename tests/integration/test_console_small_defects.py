"""Smaller defects of issue 10's walk: the console's row button says 查看 where there is nothing to
review (完成, 未提交), and process deploy times are shown in Beijing time like the rest of the UI."""

from __future__ import annotations

import re

from service.clock import beijing_text
from service.models import ProcessVersion
from service.services import processes
from service.services.actors import ADMIN_ROLE
from tests.support import reviewing as rv


def _button(html: str, record_id: int) -> str:
    found = re.search(rf'href="/console/records/{record_id}\?[^"]*">(\S+?)</a>', html)
    assert found, f"no row button for record {record_id}"
    return found.group(1)


def test_rows_say_view_on_done_and_unsubmitted_records_and_review_where_one_waits(app, db) -> None:
    world = rv.make_world()
    d = processes.active_definition()[1]
    rv.user("centre", d.school_wide_role, world.school)
    draft = rv.unsubmitted(world, world.m1)
    waiting = rv.submitted(world, world.m1)
    done = rv.submitted(world, world.m1)
    for role in d.reviewer_roles:
        rv.approve(done, role)
    html = rv.login(app, "centre").get("/console/?per_page=100").get_data(as_text=True)
    assert _button(html, draft.id) == "查看"
    assert _button(html, done.id) == "查看"
    assert _button(html, waiting.id) == "审核"


def test_process_versions_show_deploy_times_in_beijing_time(app, db) -> None:
    rv.user("admin", ADMIN_ROLE, None)
    version = ProcessVersion.select().order_by(ProcessVersion.id.desc()).get()
    html = rv.login(app, "admin", None).get("/centre/processes").get_data(as_text=True)
    assert beijing_text(version.deployed_at) in html
    assert version.deployed_at.isoformat(sep=" ")[:16] not in html  # the UTC text is gone
