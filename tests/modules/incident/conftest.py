"""Fixtures of the incident tests: the modules it needs, the demo units and agencies, people and an alarm."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from ioc.core.http import PageParams
from ioc.core.models import OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.settings import Settings
from ioc.core.time import utc_now
from ioc.modules import notification, org_unit
from ioc.modules.alarm.service import Firing, fire
from ioc.modules.org_unit import service as org_unit_service
from ioc.modules.org_unit.constants import DEMO_SCHEMATIC_GEOJSON, GeometrySource
from ioc.modules.org_unit.seed import demo_agencies, demo_units

MODULES = (
    "identity",
    "org_unit",
    "notification",
    "telemetry",
    "citizen_report",
    "environment",
    "alarm",
    "incident",
)
TAN_NINH = "25459"  # Phường Tân Ninh in the schematic demo cells
INSIDE = (11.61507, 105.86238)
COMMUNE_AGENCY = f"UBND-{TAN_NINH}"
CONSTRUCTION = "80-SXD"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Enable the incident module and everything it depends on."""
    wanted = [m for m in MODULES if m not in settings.modules]
    return settings.model_copy(update={"modules": [*settings.modules, *wanted]})


# The part of org_unit's demo that incidents use: four wards with their schematic cells, and the agencies.
DEMO_UNITS = frozenset({"80", TAN_NINH, "25480", "25567", "25708"})


@pytest.fixture
async def units(runtime: Runtime) -> None:
    """Load four wards of the Tây Ninh demo, their schematic cells and the demo agencies serving them."""
    cells = json.loads(DEMO_SCHEMATIC_GEOJSON.read_bytes())
    cells["features"] = [f for f in cells["features"] if f["properties"].get("code") in DEMO_UNITS]
    async with runtime.db.transaction() as session:
        await org_unit_service.upsert_units(session, [u for u in demo_units() if u.unit.code in DEMO_UNITS])
        await org_unit_service.import_boundaries_geojson(
            session, json.dumps(cells).encode(), source=GeometrySource.SCHEMATIC
        )
        for agency in demo_agencies():
            if set(agency.unit_codes) <= DEMO_UNITS:
                await org_unit_service.upsert_agency(session, agency)


def principal(
    runtime: Runtime, role: Role, *, user_id: int | None = None, agency_id: int | None = None, name: str = "tester"
) -> Principal:
    """Return a principal of a role with that role's scopes (for calling the service directly)."""
    return Principal(
        kind=PrincipalKind.USER,
        id=user_id,
        name=name,
        role=role,
        scopes=runtime.scopes_for_role(role),
        display_name=name,
        agency_id=agency_id,
    )


async def agency_id(runtime: Runtime, code: str) -> int:
    """Return an agency's id from org_unit."""
    async with runtime.db.session() as session:
        return (await org_unit.get_agency(session, code)).id


@dataclass
class People:
    """The people of a test story: a commander with an e-mail, and staff of two agencies."""

    commander: Principal
    commune_staff: Principal
    construction_staff: Principal
    commune_agency_id: int
    construction_agency_id: int


@pytest.fixture
async def people(runtime: Runtime, units: None, make_user: Callable[..., Awaitable[dict[str, Any]]]) -> People:
    """Create a duty officer (the commander) and the head of the commune committee, both with e-mail."""
    commune_id = await agency_id(runtime, COMMUNE_AGENCY)
    construction_id = await agency_id(runtime, CONSTRUCTION)
    officer = await make_user(Role.HOTLINE_OPERATOR, username="truc_ban", email="trucban@tayninh.gov.vn")
    await make_user(Role.AGENCY_HEAD, username="chu_tich", email="chutich.tanninh@tayninh.gov.vn", agency_id=commune_id)
    return People(
        commander=principal(runtime, Role.HOTLINE_OPERATOR, user_id=officer["id"], name="Trực ban"),
        commune_staff=principal(runtime, Role.AGENCY_STAFF, agency_id=commune_id, name="Cán bộ phường"),
        construction_staff=principal(runtime, Role.AGENCY_STAFF, agency_id=construction_id, name="Cán bộ Sở XD"),
        commune_agency_id=commune_id,
        construction_agency_id=construction_id,
    )


RaiseAlarm = Callable[..., Awaitable[int]]


@pytest.fixture
def raise_alarm(runtime: Runtime) -> RaiseAlarm:
    """Return a function that raises an alarm through the alarm module and gives its id."""

    async def run(severity: str = "major", title: str = "Mực nước vượt ngưỡng báo động 2", **fields: Any) -> int:
        firing = Firing(
            rule_id=None,
            severity=severity,
            title=title,
            source_kind="datastream",
            source_ref=fields.pop("source_ref", "muc-nuoc-rach-tay-ninh"),
            at=fields.pop("at", utc_now()),
            unit_code=fields.pop("unit_code", TAN_NINH),
            lat=INSIDE[0],
            lon=INSIDE[1],
            **fields,
        )
        async with runtime.db.transaction() as session:
            alarm = await fire(session, None, firing)
            assert alarm is not None
            return alarm.id

    return run


async def events_named(runtime: Runtime, name: str) -> list[dict[str, Any]]:
    """Return the payloads of the outbox events of a name, oldest first."""
    async with runtime.db.session() as session:
        rows = await session.scalars(select(OutboxEvent).where(OutboxEvent.name == name).order_by(OutboxEvent.id))
        return [row.payload for row in rows]


# A Wednesday morning in office hours (local 09:00), far enough back that any deadline from it has passed.
PAST_MORNING = datetime.fromisoformat("2026-03-04T02:00:00+00:00")


async def mail_subjects(runtime: Runtime, incident_id: int) -> dict[str, list[str]]:
    """Return the subjects of the e-mails sent about an incident, by recipient."""
    async with runtime.db.session() as session:
        deliveries = await notification.list_deliveries(
            session,
            notification.DeliveryFilters(correlation=f"incident:{incident_id}"),
            PageParams(limit=200, offset=0),
            reveal_recipients=True,
        )
    subjects: dict[str, list[str]] = {}
    for delivery in deliveries.items:
        subjects.setdefault(delivery.recipient, []).append(delivery.subject)
    return subjects
