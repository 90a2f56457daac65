"""Real records of agency A, made through the modules' own services and APIs, for the access matrix to aim at.

Every record carries FINGERPRINT in its title or text: an answer refusing a caller must not contain it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ioc.core.time import local_today, utc_now
from ioc.modules import telemetry
from ioc.modules.alarm import service as alarm_service
from ioc.modules.alarm.constants import Severity as AlarmSeverity
from ioc.modules.alarm.constants import SourceKind
from ioc.modules.citizen_report import open311
from ioc.modules.incident.models import ChecklistItem
from ioc.modules.indicator import repository as indicator_repository
from ioc.modules.indicator import service as indicator_service
from ioc.modules.indicator.models import DataElement, DataSet, DataSetElement
from ioc.modules.telemetry.models import DeadLetter
from ioc.modules.warning.models import Subscriber

from .conftest import AGENCY_A, Who, World

# A word found in no demo record: the walk looks for it in the answers that refuse a caller.
FINGERPRINT = "Ghidau7A"
# A monthly statistics form agency A is made a reporter of (for the province as a whole).
INDICATOR_DATA_SET = "SE_MONTHLY"
PROVINCE = "80"


def _created(response: Any, what: str) -> dict[str, Any]:
    assert response.status_code in (200, 201, 202), f"{what}: {response.status_code} {response.text[:300]}"
    body: dict[str, Any] = response.json()
    return body


async def _incident_and_task(world: World) -> None:
    """An incident opened by the leader with a task for agency A (and its checklist, if its type has one)."""
    leader = world.clients[Who.LEADER]
    incident = _created(
        await leader.post(
            "/api/v1/incidents",
            json={
                "title": f"Sập cống Đường 30/4 {FINGERPRINT}",
                "description": f"Mặt đường sụt lún, cần rào chắn {FINGERPRINT}.",
                "lat": 11.31,
                "lon": 106.1,
            },
        ),
        "incident",
    )
    task = _created(
        await leader.post(
            f"/api/v1/incidents/{incident['id']}/tasks",
            json={"agency_code": AGENCY_A, "title": f"Rào chắn và sửa cống {FINGERPRINT}", "due_hours": 24},
        ),
        "task",
    )
    world.ids["incident_id"] = incident["id"]
    world.ids["task_id"] = task["id"]
    async with world.runtime.db.session() as session:
        world.ids["item_id"] = await session.scalar(
            select(ChecklistItem.id).where(ChecklistItem.incident_id == incident["id"]).limit(1)
        )


async def _alarm(world: World) -> None:
    """An alarm raised for agency A by the alarm module's own firing path, and a silence written by staff A."""
    async with world.runtime.db.transaction() as session:
        alarm = await alarm_service.fire(
            session,
            world.runtime,
            alarm_service.Firing(
                rule_id=None,
                severity=AlarmSeverity.MAJOR.value,
                title=f"Ngập sâu tại cống Đường 30/4 {FINGERPRINT}",
                source_kind=SourceKind.AREA.value,
                source_ref=f"sec-{FINGERPRINT}",
                at=utc_now(),
                agency_code=AGENCY_A,
            ),
        )
        assert alarm is not None
        await session.flush()
        world.ids["alarm_id"] = alarm.id
    now = utc_now()
    silence = _created(
        await world.clients[Who.STAFF_A].post(
            "/api/v1/alarm-silences",
            json={
                "source_ref": f"sec-{FINGERPRINT}",
                "starts_at": now.isoformat(),
                "ends_at": (now + timedelta(hours=2)).isoformat(),
                "reason": f"Bảo trì cống {FINGERPRINT}",
            },
        ),
        "silence",
    )
    world.ids["silence_id"] = silence["id"]


async def _warning_and_subscription(world: World) -> None:
    """A warning draft written by staff A, and a citizen's subscription (its private tokens)."""
    from ioc.modules.warning import Category, Certainty, Severity, Urgency

    draft = _created(
        await world.clients[Who.STAFF_A].post(
            "/api/v1/warnings",
            json={
                "category": Category.GEO.value,
                "urgency": Urgency.EXPECTED.value,
                "severity": Severity.SEVERE.value,
                "certainty": Certainty.LIKELY.value,
                "event_vi": "Sụt lún mặt đường",
                "event_en": "Road subsidence",
                "headline_vi": f"Sụt lún Đường 30/4 {FINGERPRINT}",
                "headline_en": f"Subsidence on 30/4 Street {FINGERPRINT}",
                "description_vi": "Tránh đi qua đoạn đường trước chợ.",
                "description_en": "Avoid the road in front of the market.",
                "expires_at": (utc_now() + timedelta(days=1)).isoformat(),
                "unit_codes": ["25459"],
            },
        ),
        "warning draft",
    )
    world.ids["warning_id"] = draft["id"]
    subscribed = await world.clients[Who.ANONYMOUS].post(
        "/api/v1/warnings/subscriptions",
        json={"channel": "email", "address": "dang.ky.canh.bao@example.vn", "unit_codes": ["25459"]},
    )
    assert subscribed.status_code < 300, subscribed.text
    async with world.runtime.db.session() as session:
        row = (await session.execute(select(Subscriber.confirm_token, Subscriber.unsubscribe_token).limit(1))).one()
    world.ids["confirm_token"], world.ids["unsubscribe_token"] = row


async def _device_records(world: World) -> None:
    """A rejected device message kept as a dead letter, through telemetry's own ingestion."""
    device = world.ids["device"]
    await telemetry.ingest_messages(
        world.runtime,
        [telemetry.InboundMessage(payload=b"{khong-phai-json", source=telemetry.IngestSource.HTTP, device_code=device)],
    )
    async with world.runtime.db.session() as session:
        world.ids["dead_letter_id"] = await session.scalar(select(DeadLetter.id).order_by(DeadLetter.id.desc()))


async def _indicator_report(world: World) -> None:
    """Make agency A a reporter of a monthly data set (indicator's own service), then import a figure as staff A."""
    async with world.runtime.db.transaction() as session:
        catalog = await indicator_repository.load_catalog(session)
        await indicator_service.assign_reporters(session, catalog, INDICATOR_DATA_SET, f"province:{AGENCY_A}")
        element = await session.scalar(
            select(DataElement.code)
            .join(DataSetElement, DataSetElement.data_element_id == DataElement.id)
            .join(DataSet, DataSet.id == DataSetElement.data_set_id)
            .where(DataSet.code == INDICATOR_DATA_SET)
            .order_by(DataSetElement.sort_order)
            .limit(1)
        )
    first_of_month = local_today().replace(day=1)
    period = (first_of_month - timedelta(days=1)).strftime("%Y%m")  # DHIS2's monthly period, as the API takes it
    world.ids["indicator_report"] = (INDICATOR_DATA_SET, period, PROVINCE)
    started = await world.clients[Who.STAFF_A].post(
        "/api/v1/data-value-sets",
        params={"async": "true"},
        json={
            "dataSet": INDICATOR_DATA_SET,
            "period": period,
            "orgUnit": PROVINCE,
            "attributeOptionCombo": AGENCY_A,
            "dataValues": [{"dataElement": element, "value": "12"}],
        },
    )
    world.ids["import_id"] = _created(started, "background import")["id"]


async def seed_agency_a(world: World) -> None:
    """Make agency A's records (report, incident and task, alarm, silence, warning, key...) and note their ids."""
    await _incident_and_task(world)
    await _alarm(world)
    await _warning_and_subscription(world)
    await _device_records(world)
    await _indicator_report(world)
    key = _created(
        await world.clients[Who.STAFF_A].post("/api/v1/api-keys", json={"name": f"Trạm đo {FINGERPRINT}"}), "API key"
    )
    world.ids["key_id"] = key["id"]
    world.ids["open311_token"] = open311.make_token(world.runtime.settings.secret_key, world.ids["report_a"])
