"""Hostile roster files, built byte by byte in the test: lying dimensions, far-right cells, bombs."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable

from tests.support import roster_files as rf

SHEET = "xl/worksheets/sheet1.xml"


def rewrite(data: bytes, name: str, change: Callable[[bytes], bytes], *, level: int = 6) -> bytes:
    """The same zip with one entry's bytes changed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            dst.writestr(info.filename, change(body) if info.filename == name else body)
    return out.getvalue()


def with_dimension(data: bytes, ref: str) -> bytes:
    """Declare another sheet size than the cells present (e.g. A1:XFD1048576)."""
    def change(xml: bytes) -> bytes:
        start = xml.index(b"<dimension ref=\"")
        end = xml.index(b"\"/>", start)
        return xml[:start] + f'<dimension ref="{ref}'.encode() + xml[end:]
    return rewrite(data, SHEET, change)


def with_extra_rows(data: bytes, rows: Iterable[str]) -> bytes:
    """Append raw <row> XML after the sheet's last row."""
    extra = "".join(rows).encode()
    return rewrite(data, SHEET, lambda xml: xml.replace(b"</sheetData>", extra + b"</sheetData>"), level=9)


def far_right_rows(first: int, count: int, column: str = "XFD") -> Iterable[str]:
    for n in range(first, first + count):
        yield f'<row r="{n}"><c r="{column}{n}" t="inlineStr"><is><t>x</t></is></c></row>'


def plain_rows(first: int, count: int) -> Iterable[str]:
    for n in range(first, first + count):
        yield f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>x{n}</t></is></c></row>'


def truncated_sheet(data: bytes) -> bytes:
    return rewrite(data, SHEET, lambda xml: xml[: len(xml) // 2])


def bomb(unpacked: int) -> bytes:
    """A valid roster plus one highly compressible entry of `unpacked` bytes."""
    data = rf.xlsx_bytes([rf.student(1)])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        with dst.open("xl/media/padding.bin", "w") as entry:
            chunk = b"\0" * (1 << 20)
            for _ in range(unpacked // len(chunk)):
                entry.write(chunk)
    return out.getvalue()
