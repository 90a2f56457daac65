"""Errors of the warning module, with Vietnamese and English messages."""

from __future__ import annotations

from ioc.core.errors import Conflict, Forbidden, NotFound, ValidationFailed


class WarningNotFound(NotFound):
    """No warning has this id or CAP identifier (or it is not public)."""

    code = "warning_not_found"

    def __init__(self, reference: str | int) -> None:
        super().__init__(f"Không tìm thấy cảnh báo {reference}.", f"No warning {reference}.", reference=str(reference))


class WarningNotEditable(Conflict):
    """The warning's state does not allow this action."""

    code = "warning_wrong_state"

    def __init__(self, state: str, action_vi: str, action_en: str) -> None:
        super().__init__(
            f"Không thể {action_vi} cảnh báo ở trạng thái '{state}'.",
            f"Cannot {action_en} a warning that is '{state}'.",
            state=state,
        )


class SelfApprovalForbidden(Forbidden):
    """The author of a warning tried to approve it: a second person must."""

    code = "warning_self_approval"

    def __init__(self) -> None:
        super().__init__(
            "Người soạn cảnh báo không được tự duyệt; cần một người thứ hai duyệt.",
            "The author of a warning cannot approve it; a second person must.",
        )


class InvalidArea(ValidationFailed):
    """A target area is unknown, has no usable geometry or lies outside the map."""

    code = "warning_invalid_area"

    def __init__(self, message_vi: str, message_en: str, **detail: str | int) -> None:
        super().__init__(message_vi, message_en, field="areas", **detail)


class InvalidValidity(ValidationFailed):
    """The effective and expiry times do not make sense."""

    code = "warning_invalid_validity"

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_vi, message_en, field="expires_at")


class NoteRequired(ValidationFailed):
    """Returning a warning to its author needs a reason."""

    code = "warning_note_required"

    def __init__(self) -> None:
        super().__init__("Hãy ghi lý do trả lại cảnh báo.", "Give the reason for returning the warning.", field="note")


class SubscriptionNotFound(NotFound):
    """A confirmation or unsubscribe link is unknown or already used."""

    code = "warning_subscription_not_found"

    def __init__(self) -> None:
        super().__init__(
            "Liên kết không hợp lệ hoặc đã được sử dụng.", "This link is not valid or has been used already."
        )


class AlarmUnavailable(NotFound):
    """The alarm a warning is proposed from does not exist."""

    code = "warning_alarm_not_found"

    def __init__(self, alarm_id: int) -> None:
        super().__init__(f"Không tìm thấy cảnh báo sự cố (alarm) #{alarm_id}.", f"No alarm #{alarm_id}.", id=alarm_id)
