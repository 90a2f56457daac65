"""Settings read from the environment (prefix IOC_) or a .env file."""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as PydanticSettingsError

ENV_PREFIX = "IOC_"
# Never valid outside development: the app refuses to start with it.
DEFAULT_SECRET_KEY = "dev-secret-change-me"  # noqa: S105 - a placeholder that is refused in production

DEFAULT_MODULES = (
    "audit",
    "identity",
    "org_unit",
    "notification",
    "telemetry",
    "citizen_report",
    "environment",
    "indicator",
    "alarm",
    "incident",
    "warning",
    "dashboard",
)


class Environment(StrEnum):
    """Where the process runs; only development accepts the default secret."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class SettingsError(Exception):
    """A setting is unknown, malformed or unsafe."""


class Settings(BaseSettings):
    """Every knob of the product; one field per IOC_ variable."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        case_sensitive=False,
    )

    env: Environment = Environment.DEVELOPMENT
    secret_key: str = DEFAULT_SECRET_KEY
    data_dir: Path = Path("var")
    database_url: str = ""
    mqtt_url: str = ""
    mqtt_topic_prefix: str = Field(default="ioc/telemetry", pattern=r"^[^+#]+$")
    # Batches committed at once by MQTT ingestion; 0 picks for the engine (2 on PostgreSQL, 1 on SQLite).
    mqtt_ingest_workers: int = Field(default=0, ge=0, le=16)
    # MQTT 5 shared subscription group: processes of one group split the device messages between them.
    mqtt_shared_group: str = Field(default="", pattern=r"^[^/+#]*$")
    nats_url: str = ""
    event_transport: str = Field(default="inprocess", pattern="^(inprocess|nats)$")
    nats_stream: str = Field(default="IOC_EVENTS", pattern="^[A-Za-z0-9_-]+$")
    modules: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(DEFAULT_MODULES))
    default_language: str = Field(default="vi", pattern="^(vi|en)$")
    timezone: str = "Asia/Ho_Chi_Minh"
    province_code: str = "80"
    tile_url: str = ""
    log_level: str = "INFO"
    log_json: bool = True
    session_max_age_hours: int = Field(default=12, ge=1, le=24 * 30)
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    behind_tls: bool = False
    run_background: bool = True
    # Modules' demo activity (simulated readings, citizen reports) in the server; `ioc run --demo-activity`.
    demo_activity: bool = False
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "ioc@localhost"
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    public_base_url: str = "http://127.0.0.1:8000"

    @field_validator("modules", mode="before")
    @classmethod
    def _split_modules(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def resolved_database_url(self) -> str:
        """Return the database URL, defaulting to SQLite inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'ioc.sqlite3').as_posix()}"

    def check_safe(self) -> None:
        """Refuse to run outside development with the default secret, and in production with demo activity."""
        if self.env is not Environment.DEVELOPMENT and self.secret_key == DEFAULT_SECRET_KEY:
            raise SettingsError(
                "IOC_SECRET_KEY còn là giá trị mặc định; đặt một khoá bí mật riêng trước khi chạy "
                f"ở môi trường '{self.env}'. / IOC_SECRET_KEY is the default; set your own secret "
                f"before running in '{self.env}'."
            )
        if self.env is Environment.PRODUCTION and self.demo_activity:
            # Demo activity submits made-up citizen reports and readings: never into a province's real data.
            raise SettingsError(
                "IOC_DEMO_ACTIVITY tạo phản ánh và số liệu giả; không được bật ở môi trường production. / "
                "IOC_DEMO_ACTIVITY makes up citizen reports and readings; it cannot be on in production."
            )


def _unknown_environment_keys(environ: dict[str, str]) -> list[str]:
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    return sorted(key for key in environ if key.upper().startswith(ENV_PREFIX) and key.upper() not in known)


def _setting_name(loc: tuple[int | str, ...]) -> str:
    name = ".".join(str(part) for part in loc).upper()
    # Extra keys read from .env keep their prefix; fields do not have it.
    return name if name.startswith(ENV_PREFIX) else ENV_PREFIX + name


def load_settings(**overrides: Any) -> Settings:
    """Read settings, failing with a clear message on unknown or malformed values."""
    unknown = _unknown_environment_keys(dict(os.environ))
    if unknown:
        raise SettingsError("Thiết lập không được hỗ trợ / unknown setting(s): " + ", ".join(unknown))
    try:
        return Settings(**overrides)
    except PydanticSettingsError as exc:
        raise SettingsError(f"Thiết lập không đọc được / unreadable setting: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{_setting_name(err['loc'])}: {err['msg']}" for err in exc.errors())
        raise SettingsError(f"Thiết lập không hợp lệ / invalid setting(s): {problems}") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings."""
    return load_settings()
