"""JSON log lines for machines, plain lines for people at a terminal; a database outage logged once, not per try."""

from __future__ import annotations

import json
import logging
import socket
import sys
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import PendingRollbackError

_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record, its extras and any exception as JSON."""
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", json_lines: bool = True) -> None:
    """Send the root logger to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


# PostgreSQL SQLSTATE class 08 is "connection exception"; 57P01-57P03 are a server shutting down or starting
# (PostgreSQL documentation, appendix A "PostgreSQL Error Codes").
_CONNECTION_SQLSTATE_CLASS = "08"
_SERVER_GOING_AWAY = frozenset({"57P01", "57P02", "57P03"})
# Driver errors that say a connection was lost, whatever the SQL being run.
_DRIVER_DISCONNECTS = frozenset({"ConnectionDoesNotExistError", "ConnectionFailureError"})
_DATABASE_PACKAGES = ("sqlalchemy", "asyncpg", "aiosqlite", "psycopg")
_MAX_CHAIN = 8
# SQLAlchemy's words when a session is used again after its connection was invalidated by a disconnect.
_INVALIDATED = "Can't reconnect until invalid transaction is rolled back"


def _causes(exc: BaseException) -> list[BaseException]:
    """Return the exception and the errors it wraps (`orig` of SQLAlchemy's errors, explicit causes)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < _MAX_CHAIN and all(current is not seen for seen in chain):
        chain.append(current)
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return chain


def _raised_by_database_driver(exc: BaseException) -> bool:
    """Tell whether the exception came out of the database layer (not, say, an HTTP call to another service)."""
    frame = exc.__traceback__
    while frame is not None:
        if str(frame.tb_frame.f_globals.get("__name__", "")).startswith(_DATABASE_PACKAGES):
            return True
        frame = frame.tb_next
    return False


def database_connection_error(exc: BaseException) -> BaseException | None:
    """Return the cause showing that the database cannot be reached, or None when the error is anything else."""
    for cause in _causes(exc):
        if getattr(cause, "connection_invalidated", False):
            return _causes(cause)[-1]
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and (
            sqlstate.startswith(_CONNECTION_SQLSTATE_CLASS) or sqlstate in _SERVER_GOING_AWAY
        ):
            return cause
        if type(cause).__name__ in _DRIVER_DISCONNECTS:
            return cause
        if isinstance(cause, PendingRollbackError) and _INVALIDATED in str(cause):
            # The session's connection was lost earlier in the same unit of work.
            return cause
        if isinstance(cause, ConnectionError | TimeoutError | socket.gaierror) and _raised_by_database_driver(cause):
            return cause
    return None


def error_class(exc: BaseException) -> str:
    """Return an exception's class as `module.Name` (builtins without their module)."""
    kind = type(exc)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


class OutageLog:
    """Log a database outage once per kind of work, and its end once, instead of a traceback per failed attempt.

    Errors that are not a lost database connection keep their full traceback: they are bugs, not weather.
    """

    def __init__(self, logger: logging.Logger, kind: str) -> None:
        self.logger = logger
        self.kind = kind
        self.since: float | None = None
        self.failures = 0

    @property
    def down(self) -> bool:
        """Tell whether this kind of work last failed for want of the database."""
        return self.since is not None

    def failed(self, exc: BaseException, message: str, **extra: Any) -> bool:
        """Log a failure: the first of an outage as a warning, later ones not at all, other errors in full.

        Return True when the failure was the database being unreachable.
        """
        cause = database_connection_error(exc)
        if cause is None:
            self.logger.error(message, exc_info=exc, extra=extra)
            return False
        self.failures += 1
        if self.since is None:
            self.since = time.monotonic()
            self.logger.warning(
                "database unavailable; retrying (%s: %s)",
                self.kind,
                error_class(cause),
                extra={"kind": self.kind, "error_class": error_class(cause), "error": str(cause)[:300], **extra},
            )
        return True

    def succeeded(self) -> None:
        """Log the end of an outage, once, when this kind of work reached the database again."""
        if self.since is None:
            return
        seconds = time.monotonic() - self.since
        self.logger.warning(
            "database available again (%s) after %.1f s and %d failed attempts",
            self.kind,
            seconds,
            self.failures,
            extra={"kind": self.kind, "seconds_down": round(seconds, 1), "failed_attempts": self.failures},
        )
        self.since = None
        self.failures = 0
