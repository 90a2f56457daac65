"""What the alarm module offers the operations picture: KPI tiles and the map layer of open alarms."""

from __future__ import annotations

from typing import Any

from ioc.core.module import KpiValue, PictureContext

from . import service
from .constants import Severity


async def open_critical(ctx: PictureContext) -> KpiValue:
    """Open critical alarms."""
    figures = await service.kpis(ctx.session, ctx.principal, ctx.unit_code)
    value = figures.by_severity.get(Severity.CRITICAL, 0)
    return KpiValue(value=value, status="critical" if value else "good", higher_is_better=False)


async def open_total(ctx: PictureContext) -> KpiValue:
    """Open alarms of every severity."""
    figures = await service.kpis(ctx.session, ctx.principal, ctx.unit_code)
    status = "critical" if figures.by_severity.get(Severity.CRITICAL) else "warning" if figures.open_total else "good"
    return KpiValue(value=figures.open_total, status=status, higher_is_better=False)


async def unacknowledged(ctx: PictureContext) -> KpiValue:
    """Open alarms nobody acknowledged yet."""
    figures = await service.kpis(ctx.session, ctx.principal, ctx.unit_code)
    return KpiValue(
        value=figures.unacknowledged, status="warning" if figures.unacknowledged else "good", higher_is_better=False
    )


async def alarm_features(ctx: PictureContext) -> dict[str, Any]:
    """Open alarms with a position, as GeoJSON points."""
    alarms = await service.list_alarms(ctx.session, ctx.principal, limit=2000)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [a.lon, a.lat]},
            "properties": {
                "id": a.alarm_id,
                "title": a.title,
                "severity": a.severity,
                "status": a.status,
                "count": a.count,
                "link": f"/alarms/{a.alarm_id}",
            },
        }
        for a in alarms
        if a.lat is not None and a.lon is not None and (ctx.unit_code is None or a.unit_code == ctx.unit_code)
    ]
    return {"type": "FeatureCollection", "features": features}
