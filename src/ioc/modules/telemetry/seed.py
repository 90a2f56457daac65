"""Demo data: 8 air and 6 surface-water stations in Tây Ninh with 7 days of hourly (simulated) history."""

from __future__ import annotations

from ioc.core.module import SeedContext
from ioc.core.time import utc_now

from . import ingest, repository, service
from .simulator import HISTORY_DAYS, STATIONS, device_create, history_messages


async def seed_demo(ctx: SeedContext) -> None:
    """Register the demo stations (once) and write their deterministic history; safe to run again."""
    session = ctx.session
    existing = await repository.get_devices_by_codes(session, [station.code for station in STATIONS])
    created = 0
    for station in STATIONS:
        if station.code not in existing:
            await service.create_device(session, device_create(station))
            created += 1
    # Writes are idempotent: seeding again rewrites the same values for the hours already present.
    result = await ingest.write_batch(session, list(history_messages(utc_now())))
    hours = await service.compute_rollups(session)
    ctx.say(
        f"Quan trắc / telemetry: {created} trạm mới / new stations ({len(STATIONS)} in all), "
        f"{result.accepted} giá trị {HISTORY_DAYS} ngày gần nhất / readings of the last {HISTORY_DAYS} days "
        f"(mô phỏng / simulated), {hours} giờ đã tổng hợp / hours rolled up. "
        "Cấp mã thiết bị / issue a device token: ioc telemetry token KK-TANNINH"
    )
