"""National code tables (GB/T 2260 regions, GB 3304 民族 …) loaded from versioned CSV files.

Codes change by year and province, so they are data in config/codes/<version>/, one CSV per table
(`#` header lines name the source, then `code,label[,parent]`). A folder is read once per process:
the tables are small, read-only and consulted on every validation.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from service.config import get_settings

REGION = "region"
# Province-level regions that stand for a whole territory and have no county rows below them.
HMT_REGIONS = frozenset({"810000", "820000", "830000"})

RegionLevel = Literal["province", "prefecture", "county"]


@dataclass(frozen=True)
class CodeRow:
    code: str
    label: str
    parent: str = ""


class CodeTable:
    """One code table, in file order; lookups by code are dictionary-fast."""

    def __init__(self, name: str, rows: list[CodeRow], source: str = "") -> None:
        self.name = name
        self.rows = rows
        self.source = source
        self._by_code: dict[str, CodeRow] = {}
        self._children: dict[str, list[CodeRow]] = {}
        for row in rows:
            if row.code in self._by_code:
                raise ValueError(f"code table {name}: duplicate code {row.code!r}")
            self._by_code[row.code] = row
            self._children.setdefault(row.parent, []).append(row)

    def label(self, code: str) -> str | None:
        row = self._by_code.get(code)
        return row.label if row else None

    def get(self, code: str) -> CodeRow | None:
        return self._by_code.get(code)

    def children(self, parent_code: str) -> list[CodeRow]:
        """Rows whose parent is `parent_code`; '' gives the top level (provinces for regions)."""
        return list(self._children.get(parent_code, ()))

    def choices(self, parent_code: str) -> list[CodeRow]:
        """children() for a picker: siblings with the same label appear once, as the later row
        (a supplement such as 830000 台湾省 stands for GB/T 2260's 710000); both codes stay valid."""
        rows = self._children.get(parent_code, ())
        last = {row.label: row for row in rows}
        return [row for row in rows if last[row.label] is row]

    def has_children(self, code: str) -> bool:
        return code in self._children

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._by_code

    def __iter__(self) -> Iterator[CodeRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"CodeTable({self.name!r}, {len(self.rows)} rows)"


class CodeRegistry:
    """All tables of one codes version."""

    def __init__(self, tables: dict[str, CodeTable], folder: Path | None = None) -> None:
        self._tables = dict(tables)
        self.folder = folder

    def table(self, name: str) -> CodeTable:
        try:
            return self._tables[name]
        except KeyError:
            raise KeyError(f"unknown code table {name!r}") from None

    def names(self) -> list[str]:
        return sorted(self._tables)

    def label(self, table: str, code: str) -> str | None:
        return self.table(table).label(code)


def read_table(path: Path) -> CodeTable:
    """Parse one CSV; malformed data fails loudly at startup rather than at a student's submit."""
    source_lines: list[str] = []
    data_lines: list[str] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for line in fh:
            if line.startswith("#"):
                source_lines.append(line[1:].strip())
            elif line.strip():
                data_lines.append(line)
    reader = csv.DictReader(data_lines)
    columns = reader.fieldnames or []
    if columns[:2] != ["code", "label"] or not set(columns) <= {"code", "label", "parent"}:
        raise ValueError(f"{path}: columns must be code,label[,parent], got {columns}")
    rows = [
        CodeRow(r["code"].strip(), r["label"].strip(), (r.get("parent") or "").strip())
        for r in reader
    ]
    for row in rows:
        if not row.code or not row.label:
            raise ValueError(f"{path}: empty code or label in {row}")
    table = CodeTable(path.stem, rows, "\n".join(source_lines))
    dangling = [r.code for r in rows if r.parent and r.parent not in table]
    if dangling:
        raise ValueError(f"{path}: parent codes missing for {dangling[:5]}")
    return table


@lru_cache(maxsize=8)
def load_registry(folder: Path) -> CodeRegistry:
    """Every *.csv in `folder`, read once per folder and process."""
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise FileNotFoundError(f"no code tables in {folder}")
    return CodeRegistry({f.stem: read_table(f) for f in files}, folder)


def get_codes() -> CodeRegistry:
    """The registry of the configured codes version (settings `codes_dir` / `codes_version`)."""
    return load_registry(get_settings().codes_path)


def region_level(code: str) -> RegionLevel | None:
    """GB/T 2260 level from the code's shape; None when it is not a 6-digit code."""
    if len(code) != 6 or not code.isdigit():
        return None
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "prefecture"
    return "county"


def is_county_level_region(code: str, codes: CodeRegistry | None = None) -> bool:
    """True for a known region that a person can come from: one with no subdivisions in the table.

    That is every county-level row, the province-level 810000/820000/830000 (and GB/T 2260's
    710000), and the four prefecture-level cities without counties (东莞 441900, 中山 442000,
    儋州 460400, 嘉峪关 620200), whose own code is what their residents' records carry.
    """
    table = (codes or get_codes()).table(REGION)
    return code in table and not table.has_children(code)


def region_path(code: str, codes: CodeRegistry | None = None) -> list[CodeRow]:
    """The region and its ancestors, province first (for labels like 广东省 广州市 天河区)."""
    table = (codes or get_codes()).table(REGION)
    chain: list[CodeRow] = []
    row = table.get(code)
    while row is not None:
        chain.append(row)
        row = table.get(row.parent) if row.parent else None
    return chain[::-1]
