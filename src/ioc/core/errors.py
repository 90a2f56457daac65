"""Typed exceptions that carry their HTTP status and a bilingual message."""

from __future__ import annotations

from typing import Any, ClassVar


class IocError(Exception):
    """Base of every expected error; rendered as JSON with its status code."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message_vi: str, message_en: str | None = None, **detail: Any) -> None:
        super().__init__(message_en or message_vi)
        self.message_vi = message_vi
        self.message_en = message_en or message_vi
        self.detail = detail

    def message(self, lang: str) -> str:
        """Return the message in the requested language."""
        return self.message_en if lang == "en" else self.message_vi

    def field_errors(self, default_field: str = "") -> dict[str, dict[str, str]]:
        """Return the error as a form's inline errors: its field (or `default_field`) to both languages."""
        return {str(self.detail.get("field", default_field)): {"vi": self.message_vi, "en": self.message_en}}

    def to_dict(self, lang: str) -> dict[str, Any]:
        """Return the JSON body of the error."""
        body: dict[str, Any] = {"error": self.code, "message": self.message(lang)}
        if self.detail:
            body["detail"] = self.detail
        return body


class BadRequest(IocError):
    """The request is malformed."""


class ValidationFailed(IocError):
    """Input broke a business rule."""

    status_code = 422
    code = "validation_failed"


class Unauthorized(IocError):
    """No valid credentials were presented."""

    status_code = 401
    code = "unauthorized"


class Forbidden(IocError):
    """The caller may not do this."""

    status_code = 403
    code = "forbidden"


class NotFound(IocError):
    """The thing asked for does not exist or is not visible to the caller."""

    status_code = 404
    code = "not_found"


class Conflict(IocError):
    """The request conflicts with the current state."""

    status_code = 409
    code = "conflict"


class TooManyRequests(IocError):
    """The caller must wait before trying again."""

    status_code = 429
    code = "too_many_requests"


class ServiceUnavailable(IocError):
    """A dependency (database, broker) is unavailable."""

    status_code = 503
    code = "service_unavailable"


class ImportFailed(ValidationFailed):
    """An import file was rejected; detail lists every row or feature at fault."""

    code = "import_failed"
