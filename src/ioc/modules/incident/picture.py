"""What the incident module offers the operations picture: KPI tiles and the map layer of running incidents."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ioc.core.module import KpiTile, KpiValue, MapLayer, PictureContext

from . import service
from .constants import LIST_PATH, SCOPE_READ, TASK_INBOX_PATH

TREND_WINDOW = timedelta(days=1)


async def open_incidents(ctx: PictureContext) -> KpiValue:
    """Count the running incidents (and those running a day earlier, for the trend)."""
    figures = await service.kpis(ctx.session, ctx.unit_code, ctx.principal)
    previous = await service.count_active_at(ctx.session, ctx.unit_code, ctx.now - TREND_WINDOW, ctx.principal)
    status = "critical" if figures.critical_open else ("warning" if figures.open_incidents else "good")
    return KpiValue(value=figures.open_incidents, previous=previous, status=status, higher_is_better=False)


async def overdue_tasks(ctx: PictureContext) -> KpiValue:
    """Count the unfinished tasks past their deadline."""
    figures = await service.kpis(ctx.session, ctx.unit_code, ctx.principal)
    status = "critical" if figures.overdue_tasks else "good"
    return KpiValue(value=figures.overdue_tasks, status=status, higher_is_better=False)


async def incident_points(ctx: PictureContext) -> dict[str, Any]:
    """Return the running incidents with a location as GeoJSON points."""
    return await service.geojson(ctx.session, ctx.unit_code, ctx.lang, ctx.principal)


KPIS = (
    KpiTile(
        key="incident.open_incidents",
        label_vi="Sự cố đang xử lý",
        label_en="Open incidents",
        compute=open_incidents,
        link=f"{LIST_PATH}?active=true",
        scope=SCOPE_READ,
        order=40,
    ),
    KpiTile(
        key="incident.overdue_tasks",
        label_vi="Nhiệm vụ quá hạn",
        label_en="Overdue tasks",
        compute=overdue_tasks,
        link=TASK_INBOX_PATH,
        scope=SCOPE_READ,
        order=41,
    ),
)
MAP_LAYERS = (
    MapLayer(
        key="incident.open_incidents",
        label_vi="Sự cố đang xử lý",
        label_en="Open incidents",
        features=incident_points,
        scope=SCOPE_READ,
        order=40,
    ),
)
