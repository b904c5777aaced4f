"""Server-rendered pages (Jinja, Chinese) on top of the same services the JSON API uses.

Blueprints: auth (login/logout), student (bind, the three-step report, status), console (reviewers'
生源管理), centre (dashboard, roster, accounts, process versions), deadline (the centre's
deadline and extensions), accounts (staff resetting, unlocking, disabling accounts), chase
(催办名单 under /console/chase), notify (messages, the centre's notification page), process review (the review page before activation, activate, roll back), process studio (the admin's BPMN
editor under /admin/processes), province (省级: every school's progress and exports, /province),
audit (审计日志 for the centre, admins and the province, /audit), conformance (流程一致性检查,
/audit/conformance), analytics (the dashboards' process analytics exports, /analytics).
Views parse the form, call a
service and render; the services hold every rule.
"""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from service.web import (
        account_pages,
        analytics_pages,
        audit_pages,
        auth_pages,
        centre_pages,
        chase_pages,
        conformance_pages,
        console_pages,
        deadline_pages,
        notify_pages,
        process_review_pages,
        process_studio_pages,
        province_pages,
        student_pages,
    )
    from service.web.common import install_page_helpers

    install_page_helpers(app)
    for module in (auth_pages, student_pages, console_pages, chase_pages, centre_pages, deadline_pages,
                   notify_pages, account_pages, process_review_pages, process_studio_pages, province_pages,
                   audit_pages, conformance_pages, analytics_pages):
        app.register_blueprint(module.bp)
