"""CSV and Excel files of a datastream's series; times in the province's time zone, Vietnamese first."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import Workbook
from openpyxl.styles import Font

from ioc.core.time import to_local

from .constants import ExportFormat, Resolution
from .schemas import DatastreamRead, Series

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
EXCEL_TIME_FORMAT = "dd/mm/yyyy hh:mm:ss"
EXCEL_DAY_FORMAT = "dd/mm/yyyy"


def _headers(stream: DatastreamRead, series: Series) -> list[str]:
    unit = f" ({stream.unit_symbol})" if stream.unit_symbol else ""
    if series.resolution is Resolution.RAW:
        return ["Thời gian (giờ Việt Nam) / Time (UTC+7)", f"Giá trị / Value{unit}"]
    start = "Ngày / Day" if series.resolution is Resolution.DAY else "Giờ bắt đầu (giờ Việt Nam) / Hour start (UTC+7)"
    return [
        start,
        "Số giá trị / Count",
        f"Nhỏ nhất / Min{unit}",
        f"Lớn nhất / Max{unit}",
        f"Trung bình / Mean{unit}",
    ]


def filename(stream: DatastreamRead, series: Series, fmt: ExportFormat) -> str:
    """Return an ASCII file name naming the device, key, resolution and period."""
    period = f"{to_local(series.start):%Y%m%d}-{to_local(series.end):%Y%m%d}"
    stem = f"{stream.device_code}-{stream.key}-{series.resolution.value}-{period}"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem) + f".{fmt.value}"


def to_csv(stream: DatastreamRead, series: Series) -> bytes:
    """Write the series as CSV (UTF-8 with a byte-order mark, so that Excel reads the diacritics)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_headers(stream, series))
    for point in series.points:
        if series.resolution is Resolution.RAW:
            writer.writerow([to_local(point.time).strftime(TIME_FORMAT), repr(point.value)])
        else:
            when = point.day.isoformat() if point.day else to_local(point.time).strftime(TIME_FORMAT)
            writer.writerow([when, point.count, point.min, point.max, point.value])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(stream: DatastreamRead, series: Series) -> bytes:
    """Write the series as an Excel workbook with one sheet."""
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = re.sub(r"[\[\]:*?/\\]", "_", f"{stream.device_code} {stream.key}")[:31]
    sheet.append(_headers(stream, series))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    time_format = EXCEL_DAY_FORMAT if series.resolution is Resolution.DAY else EXCEL_TIME_FORMAT
    for point in series.points:
        # Excel has no time zones: local wall-clock times are written.
        when = point.day if point.day else to_local(point.time).replace(tzinfo=None)
        if series.resolution is Resolution.RAW:
            sheet.append([when, point.value])
        else:
            sheet.append([when, point.count, point.min, point.max, point.value])
        sheet.cell(row=sheet.max_row, column=1).number_format = time_format
    sheet.column_dimensions["A"].width = 22
    for column in "BCDE":
        sheet.column_dimensions[column].width = 16
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
