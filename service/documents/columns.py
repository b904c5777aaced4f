"""The export's columns, read from config/export_columns.csv.

The national 生源信息 template changes between years and provinces; keeping its order as data
lets an office follow a new template without a code change.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from service.documents.fields import FIELD_LABELS

DEFAULT_COLUMNS_FILE = Path(__file__).resolve().parents[2] / "config" / "export_columns.csv"
KINDS = frozenset({"value", "code", "label", "bool"})


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    kind: str
    table: str = ""


def load_columns(path: str | Path = DEFAULT_COLUMNS_FILE) -> list[Column]:
    """Read and check the column file; a typo fails here, not halfway through an export."""
    columns: list[Column] = []
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        for lineno, row in enumerate(csv.DictReader(fh), start=2):
            col = Column(
                header=(row.get("header") or "").strip(),
                field=(row.get("field") or "").strip(),
                kind=(row.get("kind") or "").strip(),
                table=(row.get("table") or "").strip(),
            )
            where = f"{path}:{lineno}"
            if not col.header:
                raise ValueError(f"{where}: empty header")
            if col.field not in FIELD_LABELS:
                raise ValueError(f"{where}: unknown field {col.field!r}")
            if col.kind not in KINDS:
                raise ValueError(f"{where}: kind must be one of {sorted(KINDS)}, not {col.kind!r}")
            if (col.kind in {"code", "label"}) != bool(col.table):
                raise ValueError(f"{where}: a table is required for code/label columns and only for them")
            columns.append(col)
    if not columns:
        raise ValueError(f"{path}: no columns")
    return columns
