"""Errors of the audit module, with Vietnamese and English messages."""

from __future__ import annotations

from ioc.core.errors import NotFound, ValidationFailed


class AuditEntryNotFound(NotFound):
    """No audit entry has this id."""

    code = "audit_entry_not_found"

    def __init__(self, entry_id: int) -> None:
        super().__init__(
            f"Không tìm thấy bản ghi nhật ký số {entry_id}.",
            f"Audit entry {entry_id} does not exist.",
            id=entry_id,
        )


class InvalidPeriod(ValidationFailed):
    """The end of the requested period is not after its start."""

    code = "invalid_period"

    def __init__(self) -> None:
        super().__init__(
            "Thời điểm kết thúc phải sau thời điểm bắt đầu.",
            "The end of the period must be after its start.",
        )


class InvalidDate(ValidationFailed):
    """A date typed in a filter is not a calendar date."""

    code = "invalid_date"

    def __init__(self, value: str) -> None:
        super().__init__(
            f"Ngày không hợp lệ: «{value}» (cần dạng năm-tháng-ngày, ví dụ 2025-07-01).",
            f"Invalid date: “{value}” (expected year-month-day, e.g. 2025-07-01).",
            value=value,
        )
