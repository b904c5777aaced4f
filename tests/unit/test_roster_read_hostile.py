"""The roster reader on damaged files: every cut or flipped byte is an InvalidInput, never another error."""

from __future__ import annotations

import random

import pytest

from service.errors import InvalidInput
from service.services.roster_read import read_roster
from service.services.roster_xlsx import ReadLimits
from tests.support import hostile_files as hf
from tests.support import roster_files as rf


def _read_or_refuse(data: bytes, name: str) -> None:
    try:
        read_roster(data, name)
    except InvalidInput as exc:
        assert exc.status == 422 and exc.message


def test_truncated_and_corrupted_xlsx_is_always_invalid_input() -> None:
    data = rf.xlsx_bytes([rf.student(n) for n in range(1, 20)])
    for cut in range(0, len(data), max(1, len(data) // 60)):
        _read_or_refuse(data[:cut], "r.xlsx")
    rng = random.Random(9)
    for _ in range(60):
        damaged = bytearray(data)
        for _ in range(3):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        _read_or_refuse(bytes(damaged), "r.xlsx")
    with pytest.raises(InvalidInput):
        read_roster(hf.truncated_sheet(data), "r.xlsx")


def test_limits_come_from_the_caller() -> None:
    data = rf.xlsx_bytes([rf.student(n) for n in range(1, 6)])
    assert len(read_roster(data, "r.xlsx").rows) == 5
    with pytest.raises(InvalidInput) as refused:
        read_roster(data, "r.xlsx", limits=ReadLimits(max_rows=3))
    assert refused.value.code == "roster_too_large"
    narrow = read_roster(data, "r.xlsx", limits=ReadLimits(max_columns=len(rf.HEADERS)))
    assert len(narrow.rows) == 5


def test_rows_keep_their_spreadsheet_numbers_across_gaps() -> None:
    data = hf.with_extra_rows(rf.xlsx_bytes([rf.student(1)]), ['<row r="40"><c r="A40" t="inlineStr"><is><t>x</t></is></c></row>'])
    assert [n for n, _ in read_roster(data, "r.xlsx").rows] == [2, 40]


def test_cells_right_of_the_header_are_not_read() -> None:
    far = [f'<row r="{n}"><c r="AZ{n}" t="inlineStr"><is><t>far</t></is></c></row>' for n in (3, 4)]
    data = hf.with_extra_rows(rf.xlsx_bytes([rf.student(1)]), far)
    from service.services.roster_read import _header_width
    from service.services.roster_xlsx import xlsx_rows

    rows = xlsx_rows(data, ReadLimits(), None, _header_width)
    assert [len(line) for _, line in rows] == [len(rf.HEADERS), len(rf.HEADERS), 0, 0]
    assert "far" not in str(rows)
