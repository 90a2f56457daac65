"""Errors of the identity module, with Vietnamese and English messages."""

from __future__ import annotations

from datetime import datetime

from ioc.core.errors import Conflict, Forbidden, IocError, TooManyRequests, Unauthorized, ValidationFailed
from ioc.core.time import to_local, utc_now


def _local(value: datetime) -> tuple[str, str]:
    local = to_local(value)
    return local.strftime("%H:%M ngày %d/%m/%Y"), local.strftime("%H:%M on %d/%m/%Y")


class LoginRefused(IocError):
    """A login attempt was refused; the router commits the bookkeeping before answering."""


class InvalidCredentials(LoginRefused, Unauthorized):
    """The username or the password is wrong (deliberately not saying which)."""

    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong username or password.")


class AccountLocked(LoginRefused, TooManyRequests):
    """Too many consecutive failures: the account waits until `until`."""

    code = "account_locked"

    def __init__(self, until: datetime) -> None:
        vi, en = _local(until)
        super().__init__(
            f"Tài khoản tạm khoá do đăng nhập sai nhiều lần; vui lòng thử lại sau {vi} (giờ Việt Nam).",
            f"Account temporarily locked after too many failed logins; try again after {en} (Vietnam time).",
            retry_at=until.isoformat(),
            retry_after_seconds=max(int((until - utc_now()).total_seconds()), 1),
        )


class LoginThrottled(LoginRefused, TooManyRequests):
    """Too many failed logins from one network address."""

    code = "login_throttled"

    def __init__(self, until: datetime) -> None:
        vi, en = _local(until)
        super().__init__(
            f"Có quá nhiều lần đăng nhập sai từ địa chỉ này; vui lòng thử lại sau {vi} (giờ Việt Nam).",
            f"Too many failed logins from this address; try again after {en} (Vietnam time).",
            retry_at=until.isoformat(),
            retry_after_seconds=max(int((until - utc_now()).total_seconds()), 1),
        )


class AccountDisabled(LoginRefused, Forbidden):
    """The password is right but the account has been deactivated."""

    code = "account_disabled"

    def __init__(self) -> None:
        super().__init__(
            "Tài khoản đã bị vô hiệu hoá; vui lòng liên hệ quản trị viên.",
            "This account has been deactivated; please contact an administrator.",
        )


class InvalidApiKey(Unauthorized):
    """A bearer key that is unknown, revoked or expired, or whose user is deactivated."""

    code = "invalid_api_key"

    def __init__(self) -> None:
        super().__init__(
            "Khoá API không hợp lệ, đã bị thu hồi hoặc đã hết hạn.",
            "The API key is invalid, revoked or expired.",
        )


class CsrfFailed(Forbidden):
    """An unsafe request authenticated by the session cookie lacks the right CSRF token."""

    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(
            "Thiếu hoặc sai mã chống giả mạo (CSRF); hãy tải lại trang rồi thử lại.",
            "Missing or wrong CSRF token; reload the page and try again.",
        )


class WeakPassword(ValidationFailed):
    """The password breaks the password policy."""

    code = "weak_password"


class UsernameTaken(Conflict):
    """Another account already uses this username."""

    code = "username_taken"

    def __init__(self, username: str) -> None:
        super().__init__(
            f"Tên đăng nhập '{username}' đã có người dùng.",
            f"The username '{username}' is already taken.",
            username=username,
        )


class LastAdministrator(Conflict):
    """The change would leave the system without an active administrator."""

    code = "last_administrator"

    def __init__(self) -> None:
        super().__init__(
            "Không thể bỏ quyền hoặc vô hiệu hoá quản trị viên cuối cùng còn hoạt động.",
            "The last active administrator cannot be demoted or deactivated.",
        )
