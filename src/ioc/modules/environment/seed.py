"""Demo data: one station per demo telemetry device (air, surface water, wastewater), evaluated over the history."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ioc.core.module import SeedContext
from ioc.core.time import utc_now
from ioc.modules import telemetry

from . import evaluation, stations
from .constants import DischargeColumn, StationKind, WaterClass
from .models import Station
from .schemas import StationCreate

# Dầu Tiếng reservoir supplies drinking water (level A); the rivers and canals are held to level B.
DEMO_WATER_CLASS = {"NM-DAUTIENG": WaterClass.A}
# Two air stations also show the US AQI, so that the option is visible in the demo.
DEMO_US_AQI = {"KK-TANNINH", "KK-PHUOCDONG"}
KINDS = {"air": StationKind.AIR, "water": StationKind.SURFACE_WATER, "wastewater": StationKind.WASTEWATER}
# The seed evaluates the last three days right away (the charts show two, the history's episode is 50 hours
# ago); the rest of the week follows when the worker handles the telemetry seed's event.
SEED_HOURS = 72


async def seed_demo(ctx: SeedContext) -> None:
    """Register a station on every demo telemetry device (once) and evaluate the week of history; safe to rerun."""
    session = ctx.session
    codes = sorted({stream.device_code for stream in await telemetry.list_datastreams(session)})
    existing = set(await session.scalars(select(Station.code)))
    created = 0
    for code in codes:
        device = await telemetry.get_device(session, code)
        kind = KINDS.get(str(device.properties.get("medium")))
        if not device.properties.get("demo") or kind is None or code in existing:
            continue
        # An industrial park's treated effluent usually goes to a river used downstream: column B unless the
        # device says otherwise (QCVN 40:2011 mục 2.1.2).
        column = DischargeColumn(str(device.properties.get("discharge_column", "B")))
        await stations.create_station(
            session,
            StationCreate(
                code=code,
                name=device.name,
                kind=kind,
                device_code=code,
                water_class=DEMO_WATER_CLASS.get(code, WaterClass.B) if kind is StationKind.SURFACE_WATER else None,
                discharge_column=column if kind is StationKind.WASTEWATER else None,
                us_aqi=code in DEMO_US_AQI,
            ),
        )
        created += 1
    now = utc_now()
    since = evaluation.hour_of(now) - timedelta(hours=SEED_HOURS - 1)
    ids = list(await session.scalars(select(Station.id).where(Station.device_code.in_(codes))))
    for station_id in ids:
        station = await session.get(Station, station_id)
        if station is not None:
            station.dirty_from = since
        await session.flush()
        await evaluation.evaluate_station(session, station_id, now)
    ctx.say(
        f"Môi trường / environment: {created} trạm mới / new stations ({len(ids)} in all), "
        f"chỉ số và vượt ngưỡng {SEED_HOURS} giờ gần nhất đã tính / indices and exceedances of the "
        f"last {SEED_HOURS} hours evaluated."
    )
