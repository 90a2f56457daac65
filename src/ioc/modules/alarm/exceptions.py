"""Errors of the alarm module, with Vietnamese and English messages."""

from __future__ import annotations

from typing import Any

from ioc.core.errors import Conflict, NotFound, ValidationFailed


class AlarmNotFound(NotFound):
    """No alarm has this id (or the caller may not see it)."""

    code = "alarm_not_found"

    def __init__(self, alarm_id: int) -> None:
        super().__init__(f"Không tìm thấy cảnh báo số {alarm_id}.", f"No alarm {alarm_id}.", alarm_id=alarm_id)


class RuleNotFound(NotFound):
    """No alarm rule has this id."""

    code = "alarm_rule_not_found"

    def __init__(self, rule_id: int) -> None:
        super().__init__(f"Không tìm thấy quy tắc cảnh báo số {rule_id}.", f"No alarm rule {rule_id}.", rule_id=rule_id)


class SilenceNotFound(NotFound):
    """No silence or maintenance window has this id."""

    code = "alarm_silence_not_found"

    def __init__(self, silence_id: int) -> None:
        super().__init__(
            f"Không tìm thấy khoảng tạm tắt số {silence_id}.",
            f"No silence {silence_id}.",
            silence_id=silence_id,
        )


class PolicyNotFound(NotFound):
    """No routing policy has this id."""

    code = "alarm_policy_not_found"

    def __init__(self, policy_id: int) -> None:
        super().__init__(
            f"Không tìm thấy chính sách gửi thông báo số {policy_id}.",
            f"No routing policy {policy_id}.",
            policy_id=policy_id,
        )


class InvalidRule(ValidationFailed):
    """A rule is incomplete, contradictory or refers to something that does not exist."""

    code = "invalid_alarm_rule"

    def __init__(self, field: str, message_vi: str, message_en: str, **detail: Any) -> None:
        super().__init__(message_vi, message_en, field=field, **detail)


class InvalidPolicy(ValidationFailed):
    """A routing policy names an unknown unit or agency, or a recipient its channel cannot reach."""

    code = "invalid_alarm_policy"

    def __init__(self, field: str, message_vi: str, message_en: str) -> None:
        super().__init__(message_vi, message_en, field=field)


class InvalidAssignee(ValidationFailed):
    """The person an alarm is given to is not an active staff member."""

    code = "invalid_alarm_assignee"

    def __init__(self, user_id: int) -> None:
        super().__init__(
            f"Người dùng số {user_id} không phải cán bộ đang hoạt động.",
            f"User {user_id} is not an active staff member.",
            field="assignee_id",
            user_id=user_id,
        )


class AlarmAlreadyCleared(Conflict):
    """The alarm is cleared already; it cannot be acknowledged or cleared again."""

    code = "alarm_already_cleared"

    def __init__(self, alarm_id: int) -> None:
        super().__init__(
            f"Cảnh báo số {alarm_id} đã được xóa (kết thúc).",
            f"Alarm {alarm_id} is cleared already.",
            alarm_id=alarm_id,
        )


class AlarmAlreadyAcknowledged(Conflict):
    """The alarm was acknowledged already."""

    code = "alarm_already_acknowledged"

    def __init__(self, alarm_id: int) -> None:
        super().__init__(
            f"Cảnh báo số {alarm_id} đã được xác nhận.",
            f"Alarm {alarm_id} is acknowledged already.",
            alarm_id=alarm_id,
        )


class InvalidWindow(ValidationFailed):
    """A silence or maintenance window ends before it starts or matches nothing."""

    code = "invalid_alarm_window"

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_vi, message_en)
