"""Errors of the telemetry module, with Vietnamese and English messages."""

from __future__ import annotations

from ioc.core.errors import Conflict, ImportFailed, NotFound, Unauthorized, ValidationFailed

from .constants import DEVICE_TOKEN_HEADER
from .schemas import ImportProblem


class DeviceNotFound(NotFound):
    """No device has this code."""

    code = "telemetry_device_not_found"

    def __init__(self, device_code: str) -> None:
        super().__init__(
            f"Không tìm thấy thiết bị mã {device_code}.", f"No device with code {device_code}.", device_code=device_code
        )


class DatastreamNotFound(NotFound):
    """No datastream has this id."""

    code = "telemetry_datastream_not_found"

    def __init__(self, datastream_id: int) -> None:
        super().__init__(
            f"Không tìm thấy luồng dữ liệu số {datastream_id}.",
            f"No datastream with id {datastream_id}.",
            datastream_id=datastream_id,
        )


class DeadLetterNotFound(NotFound):
    """No dead letter has this id."""

    code = "telemetry_dead_letter_not_found"

    def __init__(self, dead_letter_id: int) -> None:
        super().__init__(
            f"Không tìm thấy bản ghi lỗi số {dead_letter_id}.",
            f"No dead letter with id {dead_letter_id}.",
            dead_letter_id=dead_letter_id,
        )


class DeviceCodeTaken(Conflict):
    """Another device already has this code."""

    code = "telemetry_device_code_taken"

    def __init__(self, device_code: str) -> None:
        super().__init__(
            f"Mã thiết bị {device_code} đã được dùng.",
            f"Device code {device_code} is already used.",
            device_code=device_code,
        )


class DatastreamKeyTaken(Conflict):
    """The device already has a datastream with this key."""

    code = "telemetry_datastream_key_taken"

    def __init__(self, device_code: str, key: str) -> None:
        super().__init__(
            f"Thiết bị {device_code} đã có luồng dữ liệu {key}.",
            f"Device {device_code} already has datastream {key}.",
            device_code=device_code,
            key=key,
        )


class IncompleteLocation(ValidationFailed):
    """Only one of latitude and longitude was given."""

    code = "telemetry_incomplete_location"

    def __init__(self) -> None:
        super().__init__("Vĩ độ và kinh độ phải đi cùng nhau.", "Latitude and longitude go together.")


class InvalidDeviceToken(Unauthorized):
    """The device token is missing, unknown, or belongs to a disabled device."""

    code = "invalid_device_token"

    def __init__(self) -> None:
        super().__init__(
            f"Thiếu mã xác thực thiết bị hoặc mã không hợp lệ (tiêu đề {DEVICE_TOKEN_HEADER}).",
            f"The device token is missing or invalid (header {DEVICE_TOKEN_HEADER}).",
        )


class InvalidPeriod(ValidationFailed):
    """The requested period is empty or reversed."""

    code = "telemetry_invalid_period"

    def __init__(self) -> None:
        super().__init__(
            "Khoảng thời gian không hợp lệ: thời điểm bắt đầu phải trước thời điểm kết thúc.",
            "Invalid period: the start must be before the end.",
        )


class TooManyPoints(ValidationFailed):
    """The raw series asked for is larger than one answer may hold."""

    code = "telemetry_too_many_points"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Khoảng thời gian chứa hơn {limit} điểm dữ liệu; hãy thu hẹp khoảng hoặc chọn độ phân giải giờ/ngày.",
            f"The period holds more than {limit} points; narrow it or choose hourly or daily resolution.",
            limit=limit,
        )


class DeviceImportFailed(ImportFailed):
    """A provisioning file was rejected; nothing was written; `detail.errors` lists every fault."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        count = len(problems)
        super().__init__(
            f"Tệp khai báo thiết bị có {count} lỗi; không có dữ liệu nào được ghi.",
            f"The device file has {count} error(s); nothing was written.",
            count=count,
            errors=[problem.model_dump() for problem in problems],
        )
        self.problems = problems
