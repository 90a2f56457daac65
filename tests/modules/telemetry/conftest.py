"""Fixtures of the telemetry tests: the module enabled, devices registered through the service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ioc.core import commands
from ioc.core.runtime import Runtime
from ioc.core.settings import Settings
from ioc.modules.telemetry import service
from ioc.modules.telemetry.schemas import DatastreamCreate, DeviceCreate, DeviceCreated


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Enable org_unit and telemetry on top of the modules the suite runs with."""
    missing = [name for name in ("org_unit", "telemetry") if name not in settings.modules]
    return settings.model_copy(update={"modules": [*settings.modules, *missing]}) if missing else settings


DeviceFactory = Callable[..., Awaitable[DeviceCreated]]

AIR_STREAMS = (
    DatastreamCreate(key="pm25", observed_property="PM2.5", unit_symbol="µg/m³", valid_min=0, valid_max=1000),
    DatastreamCreate(key="temp", observed_property="Air temperature", unit_symbol="°C", valid_min=-10, valid_max=60),
    DatastreamCreate(key="rh", observed_property="Relative humidity", unit_symbol="%", valid_min=0, valid_max=100),
)


@pytest.fixture
def make_device(runtime: Runtime) -> DeviceFactory:
    """Register a device (by default with pm25, temp and rh) and return it with its token."""

    async def factory(
        code: str = "KK-01", streams: tuple[DatastreamCreate, ...] = AIR_STREAMS, **fields: Any
    ) -> DeviceCreated:
        data = DeviceCreate(code=code, name=fields.pop("name", f"Trạm {code}"), datastreams=list(streams), **fields)
        async with runtime.db.transaction() as session:
            return await service.create_device(session, data)

    return factory


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A runner whose commands reach the test database (schema made from the models, not migrated)."""
    monkeypatch.chdir(tmp_path)
    for key, value in {
        "IOC_ENV": settings.env.value,
        "IOC_SECRET_KEY": settings.secret_key,
        "IOC_DATABASE_URL": settings.database_url,
        "IOC_DATA_DIR": str(settings.data_dir),
        "IOC_MODULES": ",".join(settings.modules),
        "IOC_LOG_JSON": "false",
        "IOC_MQTT_URL": "",
    }.items():
        monkeypatch.setenv(key, value)

    async def database_answers(runtime: Runtime) -> None:
        await runtime.check_database()

    monkeypatch.setattr(commands, "ensure_database_ready", database_answers)
    return CliRunner()
