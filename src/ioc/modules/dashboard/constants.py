"""Names and constants of the `dashboard` module; closed sets of values become StrEnums here."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Final

MODULE_NAME: Final = "dashboard"
TITLE_VI: Final = "Bức tranh điều hành"
TITLE_EN: Final = "Operations picture"
PAGE_PATH: Final = "/dashboard"
WALL_PATH: Final = "/dashboard/wall"
WALL_EDIT_PATH: Final = "/dashboard/wall/edit"
UNIT_PATH: Final = "/dashboard/units"
API_PREFIX: Final = "/dashboard"
BOUNDARY_URL: Final = "/api/v1/org-units.geojson?level=commune"

SCOPE_READ: Final = "dashboard:read"
SCOPE_CONFIGURE: Final = "dashboard:configure"

DEFAULT_WALL: Final = "main"
WALL_NAME_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,39}$"
ANY_ROLE: Final = ""  # a layout saved for every role of a wall

MAX_SCREENS: Final = 8
MAX_CELLS: Final = 12
MAX_COLUMNS: Final = 4
MIN_ROTATE_SECONDS: Final = 10
MAX_ROTATE_SECONDS: Final = 3600
DEFAULT_ROTATE_SECONDS: Final = 30

# Computed tiles and layers are reused for this long by callers who see the same picture, unless something
# happened meanwhile (a new outbox event); a wall, the desks and the catalogue then share one computation.
PICTURE_CACHE_SECONDS: Final = 15.0
PICTURE_CACHE_SIZE: Final = 512

# A tile whose module gives no previous figure is compared with its own hourly snapshot of a day earlier
# (the nearest one within the tolerance), so that every tile can show a trend.
SNAPSHOT_TREND_SPAN: Final = timedelta(hours=24)
SNAPSHOT_TREND_TOLERANCE: Final = timedelta(hours=2)

FEED_DEFAULT: Final = 30
# Agency staff's feed reads this many times the page size, then keeps the events their agency may see.
FEED_SCOPE_FACTOR: Final = 5
FEED_MAX: Final = 100

# Grid clustering: above this many points a layer is answered as clusters, never as raw points.
CLUSTER_THRESHOLD: Final = 400
# Cells per 256-pixel tile side: 8 cells make clusters about 32 px apart on screen.
CLUSTER_CELLS_PER_TILE: Final = 8
MAX_ZOOM: Final = 19
# At and above this zoom, points are never clustered (street level).
CLUSTER_MAX_ZOOM: Final = 15


class CellKind(StrEnum):
    """What a cell of a wall screen shows."""

    MAP = "map"
    KPI = "kpi"
    KPIS = "kpis"  # every tile the viewer may see, as a strip
    CHART = "chart"
    FEED = "feed"


class ChartRange(StrEnum):
    """The time ranges of the charts' picker."""

    DAY = "24h"
    WEEK = "7d"
    MONTH = "30d"
    QUARTER = "90d"


RANGE_SPAN: Final = {
    ChartRange.DAY: timedelta(hours=24),
    ChartRange.WEEK: timedelta(days=7),
    ChartRange.MONTH: timedelta(days=30),
    ChartRange.QUARTER: timedelta(days=90),
}
# Hourly buckets for a day, daily buckets otherwise.
RANGE_BUCKET: Final = {
    ChartRange.DAY: timedelta(hours=1),
    ChartRange.WEEK: timedelta(days=1),
    ChartRange.MONTH: timedelta(days=1),
    ChartRange.QUARTER: timedelta(days=1),
}


class Trend(StrEnum):
    """How a KPI moved against the previous period."""

    UP = "up"
    DOWN = "down"
    FLAT = "flat"
