"""Fixtures of the `environment` tests: the module and what it builds on enabled, stations on telemetry devices."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest

from ioc.core.runtime import Runtime
from ioc.core.settings import Settings
from ioc.modules import telemetry
from ioc.modules.environment import StationRead
from ioc.modules.environment.constants import StationKind, WaterClass
from ioc.modules.environment.schemas import StationCreate
from ioc.modules.environment.stations import create_station
from ioc.modules.telemetry.schemas import DatastreamCreate, DeviceCreate
from ioc.modules.telemetry.service import create_device

REQUIRED = ("org_unit", "telemetry", "environment")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Enable the module and its dependencies on top of the modules the suite runs with."""
    missing = [name for name in REQUIRED if name not in settings.modules]
    return settings.model_copy(update={"modules": [*settings.modules, *missing]}) if missing else settings


AIR_KEYS = ("pm25", "pm10", "so2", "no2", "co", "o3")
WATER_KEYS = ("ph", "do", "bod5", "cod", "nh4")
StationFactory = Callable[..., Awaitable[StationRead]]


@pytest.fixture
def make_station(runtime: Runtime) -> StationFactory:
    """Register a telemetry device with the given keys and a station on it."""

    async def factory(
        code: str = "KK-01",
        kind: StationKind = StationKind.AIR,
        keys: tuple[str, ...] = AIR_KEYS,
        water_class: WaterClass | None = None,
        **settings: Any,
    ) -> StationRead:
        device = DeviceCreate(
            code=code,
            name=f"Trạm {code}",
            lat=11.3105,
            lon=106.0982,
            datastreams=[DatastreamCreate(key=key, observed_property=key) for key in keys],
        )
        async with runtime.db.transaction() as session:
            await create_device(session, device)
            return await create_station(
                session,
                StationCreate(
                    code=code,
                    name=f"Trạm {code}",
                    kind=kind,
                    device_code=code,
                    water_class=water_class,
                    **settings,
                ),
            )

    return factory


async def send(runtime: Runtime, code: str, readings: list[tuple[datetime, dict[str, float]]]) -> None:
    """Ingest readings of a device as MQTT messages (one per moment)."""
    messages = [
        telemetry.InboundMessage(
            payload=json.dumps({"ts": int(moment.timestamp() * 1000), "values": values}),
            source=telemetry.IngestSource.MQTT,
            device_code=code,
            topic=f"ioc/telemetry/{code}",
        )
        for moment, values in readings
    ]
    await telemetry.ingest_messages(runtime, messages)
