"""Excel templates per data set, unit and period, and reading them back with row and cell references."""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from ioc.core.time import local_today

from .exceptions import NotATemplate
from .periods import Period
from .repository import Catalog, DataSetInfo, UnitInfo
from .schemas import ValueRow

MARKER = "ioc-indicator-template"
TEMPLATE_VERSION = "1"
META_SHEET = "_ioc"
ENTRY_SHEET = "Nhap lieu"
HEADER_ROW = 3
FIRST_ROW = HEADER_ROW + 1
COLUMNS = {"dataElement": "A", "categoryOptionCombo": "C", "value": "F", "comment": "G"}
HEADERS = (
    ("Mã chỉ tiêu / Code", 16),
    ("Chỉ tiêu / Data element", 48),
    ("Mã phân tổ / Disaggregation code", 20),
    ("Phân tổ / Disaggregation", 28),
    ("Đơn vị tính / Unit", 12),
    ("Giá trị / Value", 16),
    ("Ghi chú / Comment", 30),
)
INPUT_FILL = PatternFill("solid", fgColor="FFF8E1")
# A filled template is a few hundred kB once unzipped; more than this is a decompression bomb, not a template.
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024


def build_template(
    catalog: Catalog,
    data_set: DataSetInfo,
    unit: UnitInfo,
    period: Period,
    agency_code: str,
    existing: dict[tuple[int, int], str],
) -> bytes:
    """Build the workbook an agency fills in: one row per element × disaggregation, current values filled in."""
    book = Workbook()
    sheet: Worksheet = book.active  # type: ignore[assignment]  # a new workbook always has an active sheet
    sheet.title = ENTRY_SHEET
    sheet["A1"] = f"{data_set.name} — {unit.name} — kỳ {period.iso}"
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"] = (
        "Chỉ nhập cột Giá trị và Ghi chú; số viết kiểu Việt Nam (1.234,5) hoặc để ô là số. "
        "Fill in the Value and Comment columns only."
    )
    for index, (title, width) in enumerate(HEADERS, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=index, value=title)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True)
        sheet.column_dimensions[chr(64 + index)].width = width
    row = FIRST_ROW
    for element_id in data_set.element_ids:
        element = catalog.elements_by_id[element_id]
        for coc_id in catalog.cocs_of_combo.get(element.combo_id, []):
            sheet.cell(row=row, column=1, value=element.code)
            sheet.cell(row=row, column=2, value=element.name)
            sheet.cell(row=row, column=3, value=catalog.coc_codes[coc_id])
            sheet.cell(row=row, column=4, value=catalog.coc_names[coc_id][0])
            sheet.cell(row=row, column=5, value=element.unit_label)
            value = existing.get((element_id, coc_id))
            number: Any = value
            if value is not None:
                try:
                    number = float(value) if "." in value else int(value)
                except ValueError:
                    number = value
            for column in (6, 7):
                input_cell = sheet.cell(row=row, column=column, value=number if column == 6 else None)
                input_cell.protection = Protection(locked=False)
                input_cell.fill = INPUT_FILL
            row += 1
    sheet.freeze_panes = f"A{FIRST_ROW}"
    # The sheet is protected without a password: it guards against typing in the wrong column, not people.
    sheet.protection.sheet = True
    meta = book.create_sheet(META_SHEET)
    for key, value in (
        ("marker", MARKER),
        ("version", TEMPLATE_VERSION),
        ("data_set", data_set.code),
        ("period", period.iso),
        ("org_unit", unit.code),
        ("agency", agency_code),
        ("generated", local_today().isoformat()),
    ):
        meta.append([key, value])
    meta.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_template(data: bytes) -> tuple[dict[str, str], list[ValueRow]]:
    """Read a filled template: its identity (data set, period, unit, agency) and one value per row."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # Declared sizes bound what zipfile will inflate, so checking them is enough.
            unzipped = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise NotATemplate("tệp không đọc được như một bảng tính .xlsx", "the file is not a readable .xlsx") from exc
    if unzipped > MAX_UNZIPPED_BYTES:
        raise NotATemplate(
            f"tệp giải nén ra hơn {MAX_UNZIPPED_BYTES // (1024 * 1024)} MB",
            f"the file unzips to more than {MAX_UNZIPPED_BYTES // (1024 * 1024)} MB",
        )
    try:
        book = load_workbook(io.BytesIO(data), data_only=True, read_only=False)
    # A damaged file fails deep inside zlib or the XML parser (SyntaxError covers both XML libraries' errors).
    except (
        InvalidFileException,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        OSError,
        EOFError,
        zlib.error,
        SyntaxError,
    ) as exc:
        raise NotATemplate("tệp không đọc được như một bảng tính .xlsx", "the file is not a readable .xlsx") from exc
    if META_SHEET not in book.sheetnames or ENTRY_SHEET not in book.sheetnames:
        raise NotATemplate("thiếu trang thông tin của mẫu", "the template's information sheet is missing")
    meta = {
        str(row[0]): str(row[1])
        for row in book[META_SHEET].iter_rows(values_only=True)
        if row and row[0] is not None and len(row) > 1 and row[1] is not None
    }
    if meta.get("marker") != MARKER or meta.get("version") != TEMPLATE_VERSION:
        raise NotATemplate("dấu nhận biết mẫu không đúng", "the template marker does not match")
    for key in ("data_set", "period", "org_unit"):
        if not meta.get(key):
            raise NotATemplate(f"thiếu thông tin '{key}'", f"'{key}' is missing")
    sheet = book[ENTRY_SHEET]
    header = [sheet.cell(row=HEADER_ROW, column=i).value for i in range(1, len(HEADERS) + 1)]
    if header != [title for title, _w in HEADERS]:
        raise NotATemplate("các cột đã bị sửa", "the columns were changed")
    rows: list[ValueRow] = []
    for number, values in enumerate(
        sheet.iter_rows(min_row=FIRST_ROW, max_col=len(HEADERS), values_only=True), start=FIRST_ROW
    ):
        code, _name, coc, _coc_name, _unit, value, comment = (list(values) + [None] * len(HEADERS))[: len(HEADERS)]
        if code is None and value is None:
            continue
        rows.append(
            ValueRow(
                data_element=str(code or "").strip(),
                period=meta["period"],
                org_unit=meta["org_unit"],
                coc=str(coc).strip() if coc else None,
                agency=meta.get("agency") or None,
                value=value,
                comment=str(comment) if comment else None,
                row=number,
                cell=f"{COLUMNS['value']}{number}",
                columns=COLUMNS,
            )
        )
    return meta, rows
