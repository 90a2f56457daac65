"""Errors of the `environment` module: every rejected input says which rule it broke, in Vietnamese and English."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ioc.core.errors import BadRequest, Conflict, NotFound, ValidationFailed


@dataclass(frozen=True)
class Problem:
    """One reason an input cannot be used: where it is, the rule it breaks, and why in both languages."""

    field: str
    rule: str
    message_vi: str
    message_en: str

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as it appears in a 422 answer."""
        return {"field": self.field, "rule": self.rule, "message_vi": self.message_vi, "message_en": self.message_en}


def _summary(problems: Sequence[Problem]) -> tuple[str, str]:
    first = problems[0]
    if len(problems) == 1:
        return first.message_vi, first.message_en
    others = len(problems) - 1
    return (
        f"{first.message_vi.rstrip('.')} (và {others} lỗi khác, xem chi tiết).",
        f"{first.message_en.rstrip('.')} (and {others} more; see the detail).",
    )


class CalculationRejected(ValidationFailed):
    """The inputs of a calculation are unknown, in the wrong unit or period, or out of range."""

    code = "environment_invalid_input"

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("a rejection needs at least one problem")
        self.problems = tuple(problems)
        message_vi, message_en = _summary(problems)
        super().__init__(message_vi, message_en, problems=[p.as_dict() for p in problems])


class InsufficientData(CalculationRejected):
    """The inputs are valid but too few for the standard's minimum-data rules."""

    code = "environment_insufficient_data"


class StationNotFound(NotFound):
    """No monitoring station has this code."""

    code = "environment_station_not_found"

    def __init__(self, code: str) -> None:
        super().__init__(
            f"Không tìm thấy trạm quan trắc mã {code}.", f"No monitoring station with code {code}.", code=code
        )


class StationCodeTaken(Conflict):
    """Another station already uses this code."""

    code = "environment_station_code_taken"

    def __init__(self, code: str) -> None:
        super().__init__(f"Mã trạm {code} đã được dùng.", f"Station code {code} is already used.", code=code)


class NoMatchingDatastream(ValidationFailed):
    """The telemetry device has no datastream the station kind can use."""

    code = "environment_no_matching_datastream"

    def __init__(self, device_code: str, kind: str) -> None:
        super().__init__(
            f"Thiết bị {device_code} không có luồng dữ liệu nào dùng được cho trạm loại {kind}.",
            f"Device {device_code} has no datastream a {kind} station can use.",
            device_code=device_code,
        )


class InvalidReportPeriod(BadRequest):
    """A report was asked for a day or month that is in the future or too far back."""

    code = "environment_invalid_report_period"

    def __init__(self) -> None:
        super().__init__(
            "Kỳ báo cáo không hợp lệ (ngày/tháng trong tương lai hoặc sai định dạng).",
            "Invalid report period (a future day or month, or a malformed one).",
        )


class StationInvalid(CalculationRejected):
    """A station form or request breaks a rule; each problem names its field, for inline messages."""

    code = "environment_station_invalid"
