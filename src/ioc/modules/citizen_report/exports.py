"""CSV and Excel exports of report lists (Vietnamese headers first; no personal data in any export)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font

from ioc.core.time import to_local

from .service import ExportRow

COLUMNS: tuple[tuple[str, str], ...] = (
    ("Mã theo dõi", "Tracking code"),
    ("Lĩnh vực", "Category"),
    ("Trạng thái", "Status"),
    ("Kênh tiếp nhận", "Source"),
    ("Mã xã/phường", "Commune code"),
    ("Cơ quan xử lý", "Agency"),
    ("Thời điểm gửi", "Submitted"),
    ("Hạn đang chạy", "Running deadline"),
    ("Quá hạn", "Overdue"),
    ("Thời điểm xử lý xong", "Resolved"),
    ("Đúng hạn", "On time"),
    ("Đánh giá", "Rating"),
    ("Địa chỉ", "Address"),
    ("Nội dung (trích)", "Description (excerpt)"),
)
# Cells starting with these characters are formulas to spreadsheet programs (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "%d/%m/%Y %H:%M"


def headers(lang: str) -> list[str]:
    """Return the column titles in a language."""
    return [en if lang == "en" else vi for vi, en in COLUMNS]


def _yes_no(value: bool | None, lang: str) -> str:
    if value is None:
        return ""
    if lang == "en":
        return "yes" if value else "no"
    return "có" if value else "không"


def _safe(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def _local(value: datetime | None) -> datetime | None:
    return to_local(value).replace(tzinfo=None) if value else None


def _values(row: ExportRow, lang: str) -> list[object]:
    s = row.summary
    return [
        s.tracking_code,
        _safe(s.category_name),
        s.status_label,
        s.source,
        s.unit_code,
        s.agency_code or "",
        _local(s.created_at),
        _local(s.due_at),
        _yes_no(s.overdue, lang),
        _local(row.resolved_at),
        _yes_no(row.resolved_on_time, lang),
        row.rating or "",
        _safe(row.address),
        _safe(s.description_excerpt),
    ]


def to_csv(rows: Sequence[ExportRow], lang: str) -> bytes:
    """Return UTF-8 CSV with a byte-order mark, so that Excel shows Vietnamese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers(lang))
    for row in rows:
        writer.writerow(
            [value.strftime(DATE_FORMAT) if isinstance(value, datetime) else value for value in _values(row, lang)]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[ExportRow], lang: str) -> bytes:
    """Return an Excel workbook with one sheet of reports (dates as real dates, Vietnam time)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Reports" if lang == "en" else "Phan anh"
    sheet.append(headers(lang))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(_values(row, lang))
    for column in ("G", "H", "J"):
        for cell in sheet[column][1:]:
            cell.number_format = "dd/mm/yyyy hh:mm"
    sheet.freeze_panes = "A2"
    widths = (16, 28, 16, 10, 12, 14, 17, 17, 9, 17, 9, 14, 30, 60)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
