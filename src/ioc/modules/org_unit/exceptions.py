"""Errors of the org_unit module, with Vietnamese and English messages."""

from __future__ import annotations

from datetime import date

from ioc.core.errors import ImportFailed, NotFound, ValidationFailed

from .schemas import ImportProblem


class UnitNotFound(NotFound):
    """No unit has this code (on the date asked for)."""

    code = "org_unit_not_found"

    def __init__(self, unit_code: str, on: date | None = None) -> None:
        when_vi = f" vào ngày {on:%d/%m/%Y}" if on else ""
        when_en = f" on {on.isoformat()}" if on else ""
        super().__init__(
            f"Không tìm thấy đơn vị hành chính mã {unit_code}{when_vi}.",
            f"No administrative unit with code {unit_code}{when_en}.",
            unit_code=unit_code,
            valid_on=on.isoformat() if on else None,
        )


class GeometryNotFound(NotFound):
    """The unit exists but has no boundary yet."""

    code = "org_unit_geometry_not_found"

    def __init__(self, unit_code: str) -> None:
        super().__init__(
            f"Đơn vị hành chính mã {unit_code} chưa có ranh giới.",
            f"Administrative unit {unit_code} has no boundary yet.",
            unit_code=unit_code,
        )


class PointOutsideProvince(NotFound):
    """No unit contains the point."""

    code = "point_outside_province"

    def __init__(self, lat: float, lon: float) -> None:
        super().__init__(
            f"Điểm (vĩ độ {lat}, kinh độ {lon}) không thuộc đơn vị hành chính nào của tỉnh.",
            f"The point (lat {lat}, lon {lon}) is not inside any administrative unit of the province.",
            lat=lat,
            lon=lon,
        )


class AgencyNotFound(NotFound):
    """No agency has this code."""

    code = "agency_not_found"

    def __init__(self, agency_code: str) -> None:
        super().__init__(
            f"Không tìm thấy cơ quan mã {agency_code}.",
            f"No agency with code {agency_code}.",
            agency_code=agency_code,
        )


class UnknownAgencyArea(ValidationFailed):
    """An agency was given an area code that names no unit."""

    code = "unknown_agency_area"

    def __init__(self, agency_code: str, unit_codes: list[str]) -> None:
        joined = ", ".join(unit_codes)
        super().__init__(
            f"Cơ quan {agency_code}: không có đơn vị hành chính mã {joined}.",
            f"Agency {agency_code}: no administrative unit with code {joined}.",
            agency_code=agency_code,
            unit_codes=unit_codes,
        )


class OrgUnitImportFailed(ImportFailed):
    """An import file was rejected; nothing was written; `detail.errors` lists every fault."""

    code = "import_failed"

    def __init__(self, problems: list[ImportProblem]) -> None:
        count = len(problems)
        super().__init__(
            f"Tệp nhập có {count} lỗi; không có dữ liệu nào được ghi.",
            f"The import file has {count} error(s); nothing was written.",
            count=count,
            errors=[problem.model_dump() for problem in problems],
        )
        self.problems = problems
