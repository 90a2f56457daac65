"""Fixtures of the alarm tests: the module and its sources enabled, a water-level station, a rule helper."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.settings import Settings
from ioc.core.time import utc_now
from ioc.modules.alarm import rulebook
from ioc.modules.alarm.schemas import RuleRead, RuleWrite
from ioc.modules.telemetry import InboundMessage, IngestSource, ingest_messages
from ioc.modules.telemetry import service as telemetry_service
from ioc.modules.telemetry.schemas import DatastreamCreate, DeviceCreate

MODULES = ("org_unit", "notification", "telemetry", "citizen_report", "environment", "alarm")
STATION = "MN-01"
# Phường Tân Ninh in the schematic demo cells (as in the citizen_report tests).
TAN_NINH = "25459"
INSIDE = (11.61507, 105.86238)

STAFF = Principal(
    kind=PrincipalKind.USER,
    id=7,
    name="operator",
    role=Role.AGENCY_HEAD,
    display_name="Trực ban",
    scopes=frozenset({"alarm:read", "alarm:operate", "alarm:rules"}),
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Enable the alarm module and the modules it reads."""
    wanted = [m for m in MODULES if m not in settings.modules]
    return settings.model_copy(update={"modules": [*settings.modules, *wanted]})


@pytest.fixture
async def stream_id(runtime: Runtime) -> int:
    """Register a water-level station and return its datastream id."""
    data = DeviceCreate(
        code=STATION,
        name="Trạm mực nước Cầu Quan",
        lat=INSIDE[0],
        lon=INSIDE[1],
        datastreams=[DatastreamCreate(key="water_level", observed_property="Water level", unit_symbol="m")],
    )
    async with runtime.db.transaction() as session:
        device = await telemetry_service.create_device(session, data)
    return device.device.datastreams[0].id


Send = Callable[..., Awaitable[None]]


@pytest.fixture
def send(runtime: Runtime) -> Send:
    """Ingest water-level readings [(minutes ago, value)] and deliver the resulting events."""

    async def sender(readings: list[tuple[float, float]], now: datetime | None = None) -> None:
        now = now or utc_now()
        payload = [
            {"ts": (now - timedelta(minutes=ago)).isoformat(), "values": {"water_level": value}}
            for ago, value in readings
        ]
        await ingest_messages(
            runtime,
            [InboundMessage(payload=json.dumps(payload), source=IngestSource.HTTP, device_code=STATION)],
        )
        await runtime.drain()

    return sender


MakeRule = Callable[..., Awaitable[RuleRead]]


@pytest.fixture
def make_rule(runtime: Runtime) -> MakeRule:
    """Create an enabled rule from keyword fields."""

    async def factory(**fields: Any) -> RuleRead:
        data = RuleWrite.model_validate({"name": "Mực nước cao", "enabled": True, **fields})
        async with runtime.db.transaction() as session:
            return await rulebook.create_rule(session, data, STAFF)

    return factory
