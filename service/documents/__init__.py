"""Document generation for 生源信息: the streamed Excel export and the printed sign-off sheets.

Pure library code (no Flask, no database): callers pass records as dicts keyed by the field ids
of DESIGN.md section 3 and a ``label_of(table, code)`` lookup into the code tables.
"""

from service.documents.columns import Column, load_columns
from service.documents.fonts import CjkFont, CjkFontNotFound, find_cjk_font
from service.documents.signoff_pdf import PDF_MIME, render_signoff_pdf
from service.documents.xlsx_export import (
    XLSX_MIME,
    export_xlsx_tempfile,
    stream_file_chunks,
    write_records_xlsx,
)

__all__ = [
    "PDF_MIME",
    "XLSX_MIME",
    "CjkFont",
    "CjkFontNotFound",
    "Column",
    "export_xlsx_tempfile",
    "find_cjk_font",
    "load_columns",
    "render_signoff_pdf",
    "stream_file_chunks",
    "write_records_xlsx",
]
