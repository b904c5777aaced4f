"""Code tables for forms and pickers: GET /api/v1/codes and /api/v1/codes/{table}[?parent=].

Public: the binding form needs 证件类型 before anyone is logged in, and the tables are national
standards, not personal data.
"""

from __future__ import annotations

import re

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from service.codes import CodeRegistry, CodeTable, load_registry
from service.errors import NotFound

blp = Blueprint("codes", __name__, url_prefix="/api/v1/codes", description="Code tables")

_TITLE = re.compile(r"table:\s*\S+\s*\((.+)\)")


class CodesQuery(Schema):
    parent = fields.String(load_default=None)


def _registry() -> CodeRegistry:
    return load_registry(current_app.config["GRADFLOW"].codes_path)


def _title(table: CodeTable) -> str:
    """The Chinese name from the CSV header ('# table: gender (性别)')."""
    for line in table.source.splitlines():
        found = _TITLE.match(line)
        if found:
            return found.group(1)
    return table.name


def _cached(body: dict, status: int = 200) -> tuple[dict, int, dict[str, str]]:
    return body, status, {"Cache-Control": "public, max-age=3600"}


@blp.route("")
@blp.doc(security=[])
def list_tables():
    registry = _registry()
    tables = [registry.table(name) for name in registry.names()]
    return _cached({"version": registry.folder.name if registry.folder else "", "tables": [
        {"name": t.name, "title": _title(t), "rows": len(t), "hierarchical": any(r.parent for r in t.rows)}
        for t in tables
    ]})


@blp.route("/<string:table>")
@blp.arguments(CodesQuery, location="query")
@blp.doc(security=[])
def get_table(query: dict, table: str):
    registry = _registry()
    if table not in registry.names():
        raise NotFound(f"代码表 {table} 不存在", code="code_table_not_found")
    found = registry.table(table)
    parent = query.get("parent")
    rows = found.rows if parent is None else found.choices(parent.strip())
    return _cached({
        "name": found.name, "title": _title(found), "source": found.source,
        "rows": [{"code": r.code, "label": r.label, "parent": r.parent or None} for r in rows],
    })
