"""Live demo activity: a new citizen report every one to two minutes, sent as a citizen or the hotline would.

Runs in the server only when IOC_DEMO_ACTIVITY is true (`ioc run --demo-activity`, `make demo`). Each report
goes through `service.submit`, so routing, deadlines, timers, events and notifications are those of real
use. Reports are written from the demo categories' sentences; reporters are demo names without contact
details, photos are generated pictures marked "DEMO", web reports come from documentation addresses
(198.51.100.0/24) and the audit log names the actor `demo-activity`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field

from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role, current_actor
from ioc.modules import org_unit

from . import service
from .constants import Source
from .photos import MediaStore
from .schemas import ReportCreate, SubmitResult
from .seed import DEMO_CATEGORIES, NAMES, STREETS, DemoCategory, demo_photo

log = logging.getLogger(__name__)

# A new report every one to two minutes; the first one soon after start, so that the wall shows one quickly.
DEMO_EVERY_SECONDS = (60.0, 120.0)
FIRST_AFTER_SECONDS = (15.0, 30.0)
# Heavy rain brings several calls from one street: a share of flooding reports lands near the previous one.
FLOOD_CATEGORY = "ngap-nuoc"
FLOOD_NEAR_SHARE = 0.5
FLOOD_NEAR_DEGREES = 0.0015  # about 170 m
POINT_TRIES = 30
ACTOR = Principal(kind=PrincipalKind.SYSTEM, id=None, name="demo-activity", role=Role.ADMIN)


@dataclass
class DemoReporter:
    """Writes demo reports one at a time; keeps where the last flooding was reported."""

    rng: random.Random = field(default_factory=random.Random)
    last_flood: tuple[float, float] | None = None

    def _hotline_operator(self, runtime: Runtime) -> Principal:
        role = Role.HOTLINE_OPERATOR
        return Principal(
            kind=PrincipalKind.USER,
            id=None,
            name="tongdai1022.demo",
            display_name="Tổng đài 1022 (demo)",
            role=role,
            scopes=runtime.scopes_for_role(role),
        )

    async def _point(self, runtime: Runtime, flooding: bool) -> tuple[float, float, org_unit.OrgUnitRead] | None:
        """Return a point inside a commune of the province and that commune."""
        async with runtime.db.session() as session:
            if flooding and self.last_flood is not None and self.rng.random() < FLOOD_NEAR_SHARE:
                lat = round(self.last_flood[0] + self.rng.uniform(-FLOOD_NEAR_DEGREES, FLOOD_NEAR_DEGREES), 6)
                lon = round(self.last_flood[1] + self.rng.uniform(-FLOOD_NEAR_DEGREES, FLOOD_NEAR_DEGREES), 6)
                unit = await org_unit.locate_point(session, lat, lon)
                if unit is not None:
                    return lat, lon, unit
            communes = [
                c
                for c in await org_unit.units_valid_on(session, level=org_unit.UnitLevel.COMMUNE)
                if c.bbox is not None
            ]
            if not communes:
                return None
            commune = self.rng.choice(communes)
            min_lon, min_lat, max_lon, max_lat = (float(v) for v in commune.bbox or ())
            for _ in range(POINT_TRIES):
                lat = round(self.rng.uniform(min_lat, max_lat), 6)
                lon = round(self.rng.uniform(min_lon, max_lon), 6)
                unit = await org_unit.locate_point(session, lat, lon)
                if unit is not None and unit.code == commune.code:
                    return lat, lon, unit
        return None

    async def step(self, runtime: Runtime) -> SubmitResult | None:
        """Submit one demo report through the service; None when no demo category is active or no point found."""
        async with runtime.db.session() as session:
            active = {c.code for c in await service.list_categories(session)}
        choices: list[DemoCategory] = [d for d in DEMO_CATEGORIES if d.data.code in active]
        if not choices:
            return None
        demo = self.rng.choice(choices)
        category = demo.data
        flooding = category.code == FLOOD_CATEGORY
        located = await self._point(runtime, flooding)
        if located is None:
            return None
        lat, lon, unit = located
        source = self.rng.choices((Source.WEB, Source.HOTLINE), weights=(65, 35))[0]
        street = self.rng.choice(STREETS)
        attributes = {code: self.rng.choice(values) for code, values in demo.attributes.items()}
        data = ReportCreate(
            category_code=category.code,
            description=self.rng.choice(demo.sentences).format(street=street),
            lat=lat,
            lon=lon,
            address=f"{street}, {unit.name}",
            attributes={k: v for k, v in attributes.items() if v != ""},
            reporter_name=self.rng.choice(NAMES) if self.rng.random() < 0.7 else None,
            anonymous=self.rng.random() < 0.15,
            source=source,
        )
        hotline = source is Source.HOTLINE
        photos = [demo_photo(self.rng, f"{category.code}-live")] if category.photo_required and not hotline else []
        token = current_actor.set(ACTOR)
        try:
            async with runtime.db.transaction() as session:
                result = await service.submit(
                    session,
                    runtime,
                    data,
                    principal=self._hotline_operator(runtime) if hotline else None,
                    uploads=photos,
                    client_ip=f"198.51.100.{self.rng.randrange(1, 255)}",
                    store=MediaStore.under(runtime.settings.data_dir),
                )
        finally:
            current_actor.reset(token)
        if flooding:
            self.last_flood = (lat, lon)
        return result


async def demo_activity(runtime: Runtime) -> None:
    """Submit a realistic new report every one to two minutes until cancelled (IOC_DEMO_ACTIVITY)."""
    reporter = DemoReporter()
    await asyncio.sleep(reporter.rng.uniform(*FIRST_AFTER_SECONDS))
    while True:
        try:
            result = await reporter.step(runtime)
            if result is not None:
                log.info("demo report submitted", extra={"tracking_code": result.tracking_code})
        except Exception:  # a refused or failed report must not end the demo: the next one tries again
            log.exception("demo report failed")
        await asyncio.sleep(reporter.rng.uniform(*DEMO_EVERY_SECONDS))
