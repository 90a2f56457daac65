"""Reading import files (units CSV, boundaries GeoJSON) into checked records; no database access here.

Every fault is collected, never just the first one, so that a person can fix a whole file in one pass.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .constants import UnitLevel
from .geometry import CheckedGeometry, GeometryProblem, check_geometry
from .schemas import ImportProblem, OrgUnitCreate
from .text import fold, fold_header

# Accepted column names, English first; Vietnamese headers are matched without diacritics.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code", "ma", "ma_don_vi", "ma_dvhc"),
    "name": ("name", "ten", "ten_don_vi"),
    "name_en": ("name_en", "ten_tieng_anh", "ten_en"),
    "level": ("level", "cap"),
    "parent_code": ("parent_code", "ma_cap_tren", "ma_don_vi_cap_tren"),
    "unit_type": ("unit_type", "loai", "loai_don_vi"),
    "valid_from": ("valid_from", "hieu_luc_tu", "tu_ngay"),
    "valid_to": ("valid_to", "hieu_luc_den", "den_ngay"),
}
REQUIRED_COLUMNS = ("code", "name", "level", "valid_from")
LEVEL_ALIASES: dict[str, UnitLevel] = {
    "province": UnitLevel.PROVINCE,
    "tinh": UnitLevel.PROVINCE,
    "cap tinh": UnitLevel.PROVINCE,
    "district": UnitLevel.DISTRICT,
    "huyen": UnitLevel.DISTRICT,
    "cap huyen": UnitLevel.DISTRICT,
    "commune": UnitLevel.COMMUNE,
    "xa": UnitLevel.COMMUNE,
    "cap xa": UnitLevel.COMMUNE,
}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
DELIMITERS = (",", ";", "\t")
HEADER_ROW = 1
CODE_PATTERN = re.compile(r"[0-9A-Za-z._-]{1,20}")
NAME_MAX = 200
TYPE_MAX = 40
_CODE_MESSAGE = (
    "Mã phải có 1–20 ký tự gồm chữ, số, '.', '_', '-'.",
    "A code has 1-20 characters: letters, digits, '.', '_', '-'.",
)


@dataclass(frozen=True)
class UnitRecord:
    """A unit version read from row `row` of a CSV file."""

    row: int
    unit: OrgUnitCreate


@dataclass(frozen=True)
class BoundaryRecord:
    """A checked boundary read from feature `index` of a GeoJSON file."""

    index: int
    code: str
    valid_from: date | None
    geometry: CheckedGeometry
    schematic: bool


def problem(
    message_vi: str, message_en: str, *, row: int | None = None, feature: int | None = None, column: str | None = None
) -> ImportProblem:
    """Build one import problem."""
    return ImportProblem(row=row, feature=feature, column=column, message_vi=message_vi, message_en=message_en)


def parse_date(text: str) -> date:
    """Read a date written as YYYY-MM-DD or dd/mm/yyyy."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone involved
        except ValueError:
            continue
    raise ValueError(text)


def decode(data: bytes) -> str:
    """Decode UTF-8 text, with or without the byte-order mark spreadsheets add."""
    return data.decode("utf-8-sig")


def _delimiter(header_line: str) -> str:
    return max(DELIMITERS, key=header_line.count)


def _header_map(headers: list[str], problems: list[ImportProblem]) -> dict[str, int]:
    """Map canonical column names to positions, reporting unknown, repeated and missing columns."""
    lookup = {alias: canonical for canonical, aliases in COLUMN_ALIASES.items() for alias in aliases}
    positions: dict[str, int] = {}
    for index, header in enumerate(headers):
        canonical = lookup.get(fold_header(header))
        if canonical is None:
            accepted = ", ".join(COLUMN_ALIASES)
            problems.append(
                problem(
                    f"Cột không được hỗ trợ {header!r}; các cột nhận: {accepted}.",
                    f"Unsupported column {header!r}; accepted columns: {accepted}.",
                    row=HEADER_ROW,
                    column=header,
                )
            )
        elif canonical in positions:
            problems.append(
                problem(
                    f"Cột {canonical} xuất hiện hai lần.",
                    f"Column {canonical} appears twice.",
                    row=HEADER_ROW,
                    column=header,
                )
            )
        else:
            positions[canonical] = index
    for required in REQUIRED_COLUMNS:
        if required not in positions:
            problems.append(
                problem(
                    f"Thiếu cột bắt buộc {required}.",
                    f"Required column {required} is missing.",
                    row=HEADER_ROW,
                    column=required,
                )
            )
    return positions


def _read_row(row_number: int, values: dict[str, str], problems: list[ImportProblem]) -> OrgUnitCreate | None:
    """Check every field of a row, reporting each fault; return the unit only if the row is clean."""
    found = len(problems)

    def report(column: str, message_vi: str, message_en: str) -> None:
        problems.append(problem(message_vi, message_en, row=row_number, column=column))

    code = values.get("code", "")
    if not CODE_PATTERN.fullmatch(code):
        report("code", *_CODE_MESSAGE)
    parent_code = values.get("parent_code", "")
    if parent_code and not CODE_PATTERN.fullmatch(parent_code):
        report("parent_code", *_CODE_MESSAGE)
    elif parent_code and parent_code == code:
        report("parent_code", "Đơn vị không thể là cấp trên của chính nó.", "A unit cannot be its own parent.")
    for column, limit, required in (
        ("name", NAME_MAX, True),
        ("name_en", NAME_MAX, False),
        ("unit_type", TYPE_MAX, False),
    ):
        text = values.get(column, "")
        if required and not text:
            report(column, "Thiếu tên đơn vị.", "The unit name is missing.")
        elif len(text) > limit:
            report(column, f"Tối đa {limit} ký tự.", f"At most {limit} characters.")
    level_text = values.get("level", "")
    level = LEVEL_ALIASES.get(fold(level_text))
    if level is None:
        report(
            "level",
            f"Cấp {level_text!r} không hợp lệ; dùng province/district/commune (tỉnh/huyện/xã).",
            f"Level {level_text!r} is invalid; use province/district/commune (tỉnh/huyện/xã).",
        )
    dates: dict[str, date | None] = {"valid_from": None, "valid_to": None}
    for column in dates:
        text = values.get(column, "")
        if not text:
            if column == "valid_from":
                report(column, "Thiếu ngày bắt đầu hiệu lực.", "The start of validity is missing.")
            continue
        try:
            dates[column] = parse_date(text)
        except ValueError:
            report(
                column,
                f"Ngày {text!r} không hợp lệ; dùng YYYY-MM-DD hoặc dd/mm/yyyy.",
                f"Date {text!r} is invalid; use YYYY-MM-DD or dd/mm/yyyy.",
            )
    valid_from, valid_to = dates["valid_from"], dates["valid_to"]
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        report("valid_to", "Ngày kết thúc hiệu lực trước ngày bắt đầu.", "valid_to is before valid_from.")
    if len(problems) > found or level is None or valid_from is None:
        return None
    return OrgUnitCreate(
        code=code,
        name=values["name"],
        name_en=values.get("name_en") or None,
        level=level,
        unit_type=values.get("unit_type", ""),
        parent_code=parent_code or None,
        valid_from=valid_from,
        valid_to=valid_to,
    )


def parse_units_csv(data: bytes) -> tuple[list[UnitRecord], list[ImportProblem]]:
    """Read a units CSV into records; return every problem found (the caller writes only if there is none)."""
    problems: list[ImportProblem] = []
    try:
        text = decode(data)
    except UnicodeDecodeError as exc:
        return [], [
            problem(
                f"Tệp không phải văn bản UTF-8 (byte {exc.start}); hãy lưu lại dạng CSV UTF-8.",
                f"The file is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8.",
            )
        ]
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        return [], [problem("Tệp rỗng hoặc thiếu dòng tiêu đề.", "The file is empty or has no header row.")]
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(lines[0]), strict=True))
    except csv.Error as exc:
        return [], [problem(f"Không đọc được CSV: {exc}.", f"The CSV cannot be read: {exc}.")]
    headers = [cell.strip() for cell in table[0]]
    positions = _header_map(headers, problems)
    records: list[UnitRecord] = []
    seen: dict[tuple[str, date], int] = {}
    for offset, cells in enumerate(table[1:]):
        row_number = HEADER_ROW + 1 + offset
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(headers):
            problems.append(
                problem(
                    f"Dòng có {len(cells)} giá trị nhưng tiêu đề chỉ có {len(headers)} cột.",
                    f"The row has {len(cells)} values but the header has {len(headers)} columns.",
                    row=row_number,
                )
            )
            continue
        if any(column not in positions for column in REQUIRED_COLUMNS):
            continue  # already reported on the header row
        values = {column: (cells[i].strip() if i < len(cells) else "") for column, i in positions.items()}
        unit = _read_row(row_number, values, problems)
        if unit is None:
            continue
        key = (unit.code, unit.valid_from)
        if key in seen:
            problems.append(
                problem(
                    f"Trùng với dòng {seen[key]} (cùng mã {unit.code} và ngày hiệu lực {unit.valid_from}).",
                    f"Duplicate of row {seen[key]} (same code {unit.code} and valid_from {unit.valid_from}).",
                    row=row_number,
                    column="code",
                )
            )
            continue
        seen[key] = row_number
        records.append(UnitRecord(row_number, unit))
    if not records and not problems:
        problems.append(problem("Tệp không có dòng dữ liệu nào.", "The file has no data rows."))
    return records, problems


def _crs_problem(collection: dict[str, Any]) -> ImportProblem | None:
    crs = collection.get("crs")
    if crs is None:
        return None
    name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else str(crs)
    if name.upper().replace("::", ":").endswith(("CRS84", "EPSG:4326")):
        return None
    return problem(
        f"Hệ toạ độ {name!r} không được nhận; GeoJSON phải ở WGS 84 (kinh độ, vĩ độ). Hãy chuyển đổi trước "
        "(ví dụ từ VN-2000 bằng pyproj).",
        f"Coordinate reference system {name!r} is not accepted; GeoJSON must be WGS 84 (lon, lat). Convert it "
        "first (for example from VN-2000 with pyproj).",
        column="crs",
    )


def _feature_record(
    index: int, feature: Any, code_property: str, problems: list[ImportProblem]
) -> BoundaryRecord | None:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        problems.append(
            problem("Phần tử không phải Feature.", "The element is not a Feature.", feature=index, column="type")
        )
        return None
    properties = feature.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    raw_code = properties.get(code_property)
    code = str(raw_code).strip() if isinstance(raw_code, str | int) and not isinstance(raw_code, bool) else ""
    if not code:
        problems.append(
            problem(
                f"Thiếu mã đơn vị trong thuộc tính {code_property!r}.",
                f"The unit code is missing from property {code_property!r}.",
                feature=index,
                column=code_property,
            )
        )
    valid_from: date | None = None
    if properties.get("valid_from") not in (None, ""):
        try:
            valid_from = parse_date(str(properties["valid_from"]))
        except ValueError:
            problems.append(
                problem(
                    f"Ngày hiệu lực {properties['valid_from']!r} không hợp lệ; dùng YYYY-MM-DD.",
                    f"valid_from {properties['valid_from']!r} is invalid; use YYYY-MM-DD.",
                    feature=index,
                    column="valid_from",
                )
            )
    try:
        checked = check_geometry(feature.get("geometry"))
    except GeometryProblem as exc:
        problems.append(problem(exc.message_vi, exc.message_en, feature=index, column="geometry"))
        return None
    if not code:
        return None
    return BoundaryRecord(index, code, valid_from, checked, properties.get("schematic") is True)


def parse_boundaries_geojson(data: bytes, code_property: str) -> tuple[list[BoundaryRecord], list[ImportProblem]]:
    """Read a GeoJSON FeatureCollection of unit boundaries; return every problem found."""
    try:
        collection = json.loads(decode(data))
    except UnicodeDecodeError as exc:
        return [], [problem(f"Tệp không phải UTF-8 (byte {exc.start}).", f"The file is not UTF-8 (byte {exc.start}).")]
    except RecursionError:
        return [], [problem("Tệp JSON lồng nhau quá sâu.", "The JSON file is nested too deeply.")]
    except json.JSONDecodeError as exc:
        return [], [
            problem(
                f"Tệp không phải JSON hợp lệ (dòng {exc.lineno}, cột {exc.colno}): {exc.msg}.",
                f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}.",
            )
        ]
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        return [], [
            problem("Tệp phải là một GeoJSON FeatureCollection.", "The file must be a GeoJSON FeatureCollection.")
        ]
    problems: list[ImportProblem] = []
    crs = _crs_problem(collection)
    if crs is not None:
        problems.append(crs)
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        problems.append(problem("FeatureCollection không có đối tượng nào.", "The FeatureCollection has no features."))
        return [], problems
    records: list[BoundaryRecord] = []
    seen: dict[tuple[str, date | None], int] = {}
    for index, feature in enumerate(features):
        record = _feature_record(index, feature, code_property, problems)
        if record is None:
            continue
        key = (record.code, record.valid_from)
        if key in seen:
            problems.append(
                problem(
                    f"Mã {record.code} đã có ở đối tượng số {seen[key]}.",
                    f"Code {record.code} already appears in feature {seen[key]}.",
                    feature=index,
                    column=code_property,
                )
            )
            continue
        seen[key] = index
        records.append(record)
    return records, problems
