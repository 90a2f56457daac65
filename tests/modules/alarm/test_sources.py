"""Rules over other modules' events: environment indices and exceedances, citizen report clusters and deadlines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from ioc.core.events import record_event
from ioc.core.runtime import Runtime
from ioc.core.time import utc_now
from ioc.modules import citizen_report, environment
from ioc.modules.alarm import engine, rulebook
from ioc.modules.alarm.exceptions import InvalidRule
from ioc.modules.alarm.models import Alarm
from ioc.modules.alarm.schemas import RuleWrite
from ioc.modules.citizen_report import service as report_service
from ioc.modules.citizen_report.photos import MediaStore
from ioc.modules.citizen_report.schemas import CategoryCreate, ReportCreate

from ...support.seeding import seed_module
from .conftest import INSIDE, STAFF, TAN_NINH, MakeRule

FLOOD = "ngap-ung"


async def _alarms(runtime: Runtime) -> list[Alarm]:
    async with runtime.db.session() as session:
        return list(await session.scalars(select(Alarm).order_by(Alarm.id)))


async def _publish(
    runtime: Runtime, event: environment.IndexComputed | environment.ExceedanceDetected | environment.ExceedanceCleared
) -> None:
    async with runtime.db.transaction() as session:
        record_event(session, event)
    await runtime.drain()


async def test_index_rule_needs_the_condition_for_two_hours(runtime: Runtime, make_rule: MakeRule) -> None:
    """VN_AQI ≥ 151 for 2 hours: fires on the value two hours after the first bad one, clears below."""
    await make_rule(
        kind="index",
        scope_kind="province",
        standard="VN_AQI",
        operator=">=",
        threshold=151,
        pending_minutes=120,
        severity="major",
    )
    start = utc_now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)

    def index(hours: int, value: int) -> environment.IndexComputed:
        return environment.IndexComputed(
            station_id=1,
            station_code="KK-TN",
            unit_code=TAN_NINH,
            standard="VN_AQI",
            period="hour",
            value=value,
            category="bad",
            computed_for=start + timedelta(hours=hours),
        )

    await _publish(runtime, index(0, 160))
    await _publish(runtime, index(1, 175))
    assert await _alarms(runtime) == []
    await _publish(runtime, index(2, 180))
    [raised] = await _alarms(runtime)
    assert (raised.source_ref, raised.unit_code, raised.value) == ("KK-TN", TAN_NINH, 180)
    await _publish(runtime, index(3, 90))
    assert [a.status for a in await _alarms(runtime)] == ["cleared"]


async def test_index_rule_fires_from_the_periodic_check_when_the_value_stays(
    runtime: Runtime, make_rule: MakeRule
) -> None:
    """An index that stays bad publishes no new event; the periodic check fires once the period has passed."""
    await make_rule(
        kind="index",
        scope_kind="station",
        scope_ref="KK-TN",
        standard="VN_AQI",
        operator=">=",
        threshold=151,
        pending_minutes=120,
    )
    now = utc_now()
    await _publish(
        runtime,
        environment.IndexComputed(
            station_id=1,
            station_code="KK-TN",
            unit_code=TAN_NINH,
            standard="VN_AQI",
            period="hour",
            value=200,
            category="bad",
            computed_for=now - timedelta(hours=3),
        ),
    )
    async with runtime.db.transaction() as session:
        assert await engine.periodic_check(session, runtime, now) == 1
    assert [a.status for a in await _alarms(runtime)] == ["active"]


@pytest.mark.usefixtures("units")
async def test_exceedance_rule_opens_and_closes_with_the_environment_events(
    runtime: Runtime, make_rule: MakeRule
) -> None:
    """A QCVN exceedance raises an alarm for the station and parameter; its clearing event clears it."""
    await make_rule(kind="exceedance", scope_kind="unit", scope_ref=TAN_NINH, parameter="PM2.5", severity="minor")
    now = utc_now()
    fields = {
        "station_id": 1,
        "station_code": "KK-TN",
        "unit_code": TAN_NINH,
        "parameter": "PM2.5",
        "regulation": "QCVN 05:2023/BTNMT",
        "period": "24h",
        "observed_at": now,
    }
    await _publish(runtime, environment.ExceedanceDetected(**fields, value=62.0, limit=50.0))
    [raised] = await _alarms(runtime)
    assert raised.source_ref == "KK-TN:PM2.5:24h"
    assert "62 > 50" in raised.title
    await _publish(runtime, environment.ExceedanceDetected(**fields, value=70.0, limit=50.0))
    await _publish(runtime, environment.ExceedanceCleared(**fields))
    [cleared] = await _alarms(runtime)
    assert (cleared.count, cleared.status) == (2, "cleared")


@pytest.fixture
async def units(runtime: Runtime) -> None:
    """Seed the Tây Ninh demo units (org_unit's own seed)."""
    await seed_module(runtime, "org_unit")


@pytest.fixture
async def flood_category(runtime: Runtime, units: None) -> str:
    """Create a flooding category."""
    async with runtime.db.transaction() as session:
        await report_service.create_category(
            session, CategoryCreate(code=FLOOD, name="Ngập úng", accept_hours=4, resolve_days=3, reopen_window_days=7)
        )
    return FLOOD


async def test_five_flooding_reports_within_500_m_in_an_hour(
    runtime: Runtime, make_rule: MakeRule, flood_category: str
) -> None:
    """Real submitted reports feed the rule: the fifth nearby report raises one area alarm, the sixth repeats it."""
    await make_rule(
        kind="report_count",
        scope_kind="category",
        scope_ref=flood_category,
        count=5,
        radius_m=500,
        window_minutes=60,
        severity="critical",
    )
    store = MediaStore.under(runtime.settings.data_dir)
    for i in range(6):
        async with runtime.db.transaction() as session:
            await report_service.submit(
                session,
                runtime,
                ReportCreate(
                    category_code=flood_category,
                    description=f"Nước ngập sâu đoạn đường số {i}",
                    lat=INSIDE[0] + i * 0.0003,
                    lon=INSIDE[1],
                ),
                principal=None,
                store=store,
                client_ip=f"10.0.0.{i}",
            )
        await runtime.drain()
        assert len(await _alarms(runtime)) == (0 if i < 4 else 1)
    [raised] = await _alarms(runtime)
    assert (raised.severity, raised.source_kind, raised.count) == ("critical", "area", 2)
    assert len(raised.details["report_ids"]) == 6
    async with runtime.db.transaction() as session:
        assert await engine.periodic_check(session, runtime, utc_now() + timedelta(hours=2)) >= 1
    assert [a.status for a in await _alarms(runtime)] == ["cleared"]


async def test_overdue_report_alarm_and_its_clearing(runtime: Runtime, make_rule: MakeRule) -> None:
    """An overdue report raises an alarm; resolving it clears the alarm."""
    await make_rule(kind="report_overdue", scope_kind="province", severity="warning")
    now = utc_now()
    common = {
        "report_id": 41,
        "tracking_code": "PA-2026-000041",
        "category_code": FLOOD,
        "unit_code": TAN_NINH,
    }
    async with runtime.db.transaction() as session:
        record_event(session, citizen_report.ReportOverdue(**common, status="assigned", phase="resolve", due_at=now))
    await runtime.drain()
    [raised] = await _alarms(runtime)
    assert (raised.source_kind, raised.source_ref, raised.severity) == ("report", "41", "warning")
    async with runtime.db.transaction() as session:
        record_event(session, citizen_report.ReportResolved(**common, status="resolved"))
    await runtime.drain()
    assert [a.status for a in await _alarms(runtime)] == ["cleared"]


async def test_report_rules_refuse_unknown_categories(runtime: Runtime) -> None:
    """A rule naming a category that does not exist is refused with the field and a message."""
    data = RuleWrite(
        name="ngập",
        kind="report_count",
        scope_kind="category",
        scope_ref="khong-co",
        count=5,
        radius_m=500,
        window_minutes=60,
    )
    async with runtime.db.transaction() as session:
        with pytest.raises(InvalidRule) as caught:
            await rulebook.create_rule(session, data, STAFF)
    assert caught.value.detail["field"] == "scope_ref"
    assert "khong-co" in caught.value.message_vi
