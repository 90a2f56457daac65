"""The demo seed's rules: they pass the editor's checks, and demo-like episodes trip them on the real paths."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from ioc.core.events import record_event
from ioc.core.module import SeedContext
from ioc.core.runtime import Runtime
from ioc.core.settings import Environment
from ioc.core.time import utc_now
from ioc.modules import environment
from ioc.modules.alarm import rulebook, rules
from ioc.modules.alarm.models import Alarm
from ioc.modules.alarm.schemas import RuleWrite
from ioc.modules.alarm.seed import DEMO_RULES, EPISODE_STATION, POLICY_NAME, seed_demo, seed_rules
from ioc.modules.citizen_report import service as report_service
from ioc.modules.citizen_report.seed import DEMO_CATEGORIES
from ioc.modules.telemetry import InboundMessage, IngestSource, ingest_messages
from ioc.modules.telemetry import service as telemetry_service
from ioc.modules.telemetry.simulator import STATIONS, LiveRun, device_create

from .conftest import TAN_NINH

AQI_RULE = DEMO_RULES[0]["name"]
PM25_CRITICAL = DEMO_RULES[1]["name"]


@pytest.fixture
async def seeded(runtime: Runtime) -> list[str]:
    """Register the demo's air stations and flooding category, create the demo rules enabled; return the messages."""
    org_unit = runtime.module("org_unit")
    assert org_unit is not None
    assert org_unit.seed is not None
    flooding = next(d for d in DEMO_CATEGORIES if d.data.code == "ngap-nuoc")
    async with runtime.db.transaction() as session:
        await org_unit.seed(SeedContext(session=session, runtime=runtime))
        for station in STATIONS:
            if station.is_air:
                await telemetry_service.create_device(session, device_create(station))
        await report_service.create_category(session, flooding.data)
    async with runtime.db.transaction() as session:
        ctx = SeedContext(session=session, runtime=runtime)
        await seed_rules(ctx, enabled=True)
    return ctx.messages


async def _alarms(runtime: Runtime, rule_name: str) -> list[Alarm]:
    async with runtime.db.session() as session:
        rule_ids = {r.id for r in await rulebook.list_rules(session) if r.name == rule_name}
        return list(await session.scalars(select(Alarm).where(Alarm.rule_id.in_(rule_ids)).order_by(Alarm.id)))


async def test_the_demo_rules_pass_the_editor_checks_and_seeding_again_adds_nothing(
    runtime: Runtime, seeded: list[str]
) -> None:
    assert seeded == [f"alarm: {len(DEMO_RULES) + 1} quy tắc và chính sách mới / new rules and policies"]
    async with runtime.db.transaction() as session:
        stored = await rulebook.list_rules(session)
        assert sorted(r.name for r in stored) == sorted(f["name"] for f in DEMO_RULES)
        assert all(r.enabled for r in stored)
        for fields in DEMO_RULES:  # what the editor would check on save
            await rules.validate(session, RuleWrite.model_validate(fields))
        [policy] = await rulebook.list_policies(session)
        assert policy.name == POLICY_NAME
        ctx = SeedContext(session=session, runtime=runtime)
        await seed_demo(ctx)
    assert ctx.messages == ["alarm: 0 quy tắc và chính sách mới / new rules and policies"]


async def test_the_demo_seed_enables_its_rules_in_the_test_environment_too(runtime: Runtime) -> None:
    """Test and production seed the same demo: the rules start enabled whatever IOC_ENV says."""
    assert runtime.settings.env is Environment.TEST
    async with runtime.db.transaction() as session:
        await seed_demo(SeedContext(session=session, runtime=runtime))
        stored = await rulebook.list_rules(session)
    # Without stations and categories only the province-wide rules over events can be created.
    assert sorted(r.name for r in stored) == sorted([AQI_RULE, DEMO_RULES[5]["name"]])
    assert all(r.enabled for r in stored)


@pytest.mark.usefixtures("seeded")
async def test_an_hour_of_bad_air_quality_trips_the_aqi_rule(runtime: Runtime) -> None:
    start = utc_now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    for hours, value in ((0, 120), (1, 165), (2, 182), (3, 95)):
        async with runtime.db.transaction() as session:
            record_event(
                session,
                environment.IndexComputed(
                    station_id=1,
                    station_code=EPISODE_STATION,
                    unit_code=TAN_NINH,
                    standard="VN_AQI",
                    period="hour",
                    value=value,
                    category="bad" if value > 150 else "moderate",
                    computed_for=start + timedelta(hours=hours),
                ),
            )
        await runtime.drain()
        if hours == 1:
            assert await _alarms(runtime, AQI_RULE) == []  # bad, but not for an hour yet
    [alarm] = await _alarms(runtime, AQI_RULE)
    assert (alarm.severity, alarm.source_ref, alarm.value, alarm.status) == ("major", EPISODE_STATION, 182, "cleared")


@pytest.mark.usefixtures("seeded")
async def test_the_simulated_pollution_episode_trips_the_critical_pm25_rule_within_minutes(runtime: Runtime) -> None:
    station = next(s for s in STATIONS if s.code == EPISODE_STATION)
    started = utc_now() - timedelta(minutes=12)
    run = LiveRun(started=started)
    moments = [started + timedelta(seconds=10 * i) for i in range(12 * 6)]
    messages = [
        InboundMessage(payload=body, source=IngestSource.EMBEDDED, device_code=station.code, received_at=moment)
        for moment in moments
        for sender, body in run.messages(moment)
        if sender is station
    ]
    await ingest_messages(runtime, messages)
    await runtime.drain()
    [alarm] = await _alarms(runtime, PM25_CRITICAL)
    assert alarm.severity == "critical"
    assert alarm.status == "active"
    assert alarm.first_seen_at.replace(tzinfo=started.tzinfo) - started < timedelta(minutes=12)
