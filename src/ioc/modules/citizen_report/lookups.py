"""In-memory copies of what intake reads on every submission but rarely changes: categories, boundaries, routes.

Each submission used to look up its category, locate its commune (four queries through `org_unit`) and route
it (four more); these answers change only when an administrator edits a category or imports units,
boundaries or agencies. They are kept per process:
- categories until a category is written (in this process: at once, see `public_cache`) or `TTL_SECONDS`;
- boundaries and routes until an `org_unit.*` event reaches the live feed, the day changes (units are
  versioned by date) or `TTL_SECONDS` pass.
A point that no cached boundary holds is asked of `org_unit` itself, so a stale copy never refuses a report.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.prepared import PreparedGeometry, prep
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.time import local_today
from ioc.modules import org_unit

from . import repository
from .models import Category

if TYPE_CHECKING:
    from ioc.core.live import LiveMessage
    from ioc.core.runtime import Runtime

    from .public_cache import PublicCache

TTL_SECONDS: Final = 60.0
ORG_UNIT_EVENTS: Final = "org_unit."


def _copy(category: Category) -> Category:
    columns = inspect(Category).column_attrs
    return Category(**{column.key: getattr(category, column.key) for column in columns})


@dataclass(frozen=True)
class _Area:
    code: str
    depth: int
    area: float
    bbox: tuple[float, float, float, float]
    geometry: PreparedGeometry


@dataclass
class IntakeLookups:
    """The per-process copies; `cache` supplies the version that moves when categories are written."""

    cache: PublicCache
    categories: dict[str, Category] = field(default_factory=dict)
    categories_version: int = -1
    categories_loaded: float = 0.0
    areas: list[_Area] | None = None
    areas_day: date | None = None
    areas_loaded: float = 0.0
    routes: dict[tuple[int, str], org_unit.AgencyRead | None] = field(default_factory=dict)

    def forget_units(self) -> None:
        """Drop boundaries and routes (units, boundaries or agencies changed)."""
        self.areas = None
        self.routes.clear()

    def on_live_message(self, message: LiveMessage) -> None:
        """Drop boundaries and routes when `org_unit` announces an import, from any process."""
        if message.name.startswith(ORG_UNIT_EVENTS):
            self.forget_units()

    def _categories_current(self) -> bool:
        return (
            self.categories_version == self.cache.category_version
            and time.monotonic() - self.categories_loaded <= TTL_SECONDS
        )

    async def category(self, session: AsyncSession, code: str) -> Category | None:
        """Return the category with this code (active or not), from the copy when it is current."""
        if not self._categories_current():
            version = self.cache.category_version
            # Copies outside any session: read-only snapshots that the caller's session never tracks.
            loaded = {c.code: _copy(c) for c in await repository.list_categories(session, include_inactive=True)}
            self.categories, self.categories_version, self.categories_loaded = loaded, version, time.monotonic()
            self.routes.clear()
        return self.categories.get(code)

    async def _load_areas(self, session: AsyncSession, day: date) -> list[_Area]:
        parents = {unit.code: unit.parent_code for unit in await org_unit.units_valid_on(session, day)}
        areas: list[_Area] = []
        for feature in (await org_unit.units_geojson(session, on=day)).features:
            if feature.geometry is None or feature.id is None:
                continue
            geometry: BaseGeometry = shape(feature.geometry)
            depth, parent, seen = 0, parents.get(feature.id), {feature.id}
            while parent and parent not in seen:
                seen.add(parent)
                depth += 1
                parent = parents.get(parent)
            min_lon, min_lat, max_lon, max_lat = geometry.bounds
            areas.append(
                _Area(feature.id, depth, float(geometry.area), (min_lon, min_lat, max_lon, max_lat), prep(geometry))
            )
        return areas

    async def unit_code(self, session: AsyncSession, lat: float, lon: float) -> str | None:
        """Return the code of the deepest unit holding the point (as `org_unit.locate_point`), None outside."""
        day = local_today()
        if self.areas is None or self.areas_day != day or time.monotonic() - self.areas_loaded > TTL_SECONDS:
            self.areas, self.areas_day, self.areas_loaded = await self._load_areas(session, day), day, time.monotonic()
            self.routes.clear()
        point = Point(lon, lat)
        best: tuple[tuple[int, float, str], str] | None = None
        for area in self.areas:
            min_lon, min_lat, max_lon, max_lat = area.bbox
            if not (min_lon <= lon <= max_lon and min_lat <= lat <= max_lat) or not area.geometry.covers(point):
                continue
            # The same order as org_unit.locate: deepest first, then the smaller unit, then the lower code.
            rank = (-area.depth, area.area, area.code)
            if best is None or rank < best[0]:
                best = (rank, area.code)
        if best is not None:
            return best[1]
        located = await org_unit.locate_point(session, lat, lon)
        return located.code if located else None

    async def route(self, session: AsyncSession, category: Category, unit_code: str) -> org_unit.AgencyRead | None:
        """Return the responsible agency for a category at a unit (see `service.route`), remembered."""
        from .service import route  # the rule itself stays in the service

        key = (category.id, unit_code)
        if key not in self.routes:
            self.routes[key] = await route(session, category, unit_code)
        return self.routes[key]


_LOOKUPS: weakref.WeakKeyDictionary[Any, IntakeLookups] = weakref.WeakKeyDictionary()


def lookups_for(runtime: Runtime) -> IntakeLookups:
    """Return the runtime's intake copies, subscribing them to the live feed the first time."""
    from .public_cache import cache_for

    found = _LOOKUPS.get(runtime)
    if found is None:
        found = IntakeLookups(cache=cache_for(runtime))
        runtime.live.add_listener(found.on_live_message)
        _LOOKUPS[runtime] = found
    return found
