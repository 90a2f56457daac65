"""Grid clustering of point layers on the server, so that a map never receives 100,000 markers.

Points are binned into cells of a Web Mercator grid whose size follows the zoom level (the same grid
the map's tiles use); a cell holding several points becomes one point at their weighted centre with
the total `count` and the number of each `status` (or `severity`) inside it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .constants import CLUSTER_CELLS_PER_TILE, CLUSTER_MAX_ZOOM, CLUSTER_THRESHOLD

# Web Mercator is defined up to this latitude; points beyond it are clamped.
MAX_MERCATOR_LAT = 85.05112878
GROUP_PROPERTIES = ("status", "severity", "level")


def feature_weight(feature: dict[str, Any]) -> int:
    """Return how many items a feature stands for: its `count` when aggregated already, else 1."""
    properties = feature.get("properties") or {}
    count = properties.get("count")
    if isinstance(count, int | float) and not isinstance(count, bool) and count >= 1:
        return int(count)
    return 1


def layer_count(collection: dict[str, Any]) -> int:
    """Return how many items a FeatureCollection stands for (clusters counted by their size)."""
    return sum(feature_weight(f) for f in collection.get("features") or [] if isinstance(f, dict))


def _point(feature: dict[str, Any]) -> tuple[float, float] | None:
    geometry = feature.get("geometry") or {}
    if geometry.get("type") != "Point":
        return None
    coordinates = geometry.get("coordinates") or []
    if len(coordinates) < 2:
        return None
    lon, lat = coordinates[0], coordinates[1]
    if not isinstance(lon, int | float) or not isinstance(lat, int | float):
        return None
    return float(lon), float(lat)


def _mercator(lon: float, lat: float) -> tuple[float, float]:
    """Return a point's position on the Web Mercator square, both in [0, 1)."""
    lat = max(-MAX_MERCATOR_LAT, min(MAX_MERCATOR_LAT, lat))
    radians = math.radians(lat)
    return (lon + 180.0) / 360.0, (1.0 - math.log(math.tan(radians) + 1.0 / math.cos(radians)) / math.pi) / 2.0


def grid_cell(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """Return the grid cell of a point at a zoom level (Web Mercator, CLUSTER_CELLS_PER_TILE per tile)."""
    cells = (2**zoom) * CLUSTER_CELLS_PER_TILE
    x, y = _mercator(lon, lat)
    return min(int(x * cells), cells - 1), min(int(y * cells), cells - 1)


# A point feature read once: (feature, lon, lat, Mercator x, Mercator y, weight); a plain tuple because
# a layer holds thousands of them and building objects would cost more than the clustering itself.
PreparedPoint = tuple[dict[str, Any], float, float, float, float, int]


@dataclass(frozen=True)
class PreparedLayer:
    """A layer's FeatureCollection read once, so that counting and clustering at any zoom is cheap."""

    collection: dict[str, Any]
    points: tuple[PreparedPoint, ...]
    others: tuple[dict[str, Any], ...]
    count: int

    def by_zoom(self, threshold: int = CLUSTER_THRESHOLD) -> bool:
        """Tell whether another zoom gives another answer (more points than `threshold`)."""
        return len(self.points) > threshold


def prepare(collection: dict[str, Any]) -> PreparedLayer:
    """Read a FeatureCollection once: its points with their Mercator position, its other features, its total."""
    points: list[PreparedPoint] = []
    others: list[dict[str, Any]] = []
    count = 0
    for feature in collection.get("features") or []:
        if not isinstance(feature, dict):
            continue
        weight = feature_weight(feature)
        count += weight
        point = _point(feature)
        if point is None:
            others.append(feature)
            continue
        x, y = _mercator(*point)
        points.append((feature, point[0], point[1], x, y, weight))
    return PreparedLayer(collection, tuple(points), tuple(others), count)


def _group_key(features: list[dict[str, Any]]) -> str | None:
    for name in GROUP_PROPERTIES:
        if any(name in (f.get("properties") or {}) for f in features):
            return name
    return None


def cluster(collection: dict[str, Any], zoom: int | None, threshold: int = CLUSTER_THRESHOLD) -> dict[str, Any]:
    """Return the collection with its points merged per grid cell when there are more than `threshold`."""
    return cluster_prepared(prepare(collection), zoom, threshold)


def cluster_prepared(layer: PreparedLayer, zoom: int | None, threshold: int = CLUSTER_THRESHOLD) -> dict[str, Any]:
    """Cluster a prepared layer at a zoom; the collection itself when it has few points or the zoom is high."""
    if zoom is None or zoom >= CLUSTER_MAX_ZOOM or len(layer.points) <= threshold:
        return layer.collection
    cells_per_side = (2**zoom) * CLUSTER_CELLS_PER_TILE
    last = cells_per_side - 1
    cells: dict[tuple[int, int], list[PreparedPoint]] = {}
    for point in layer.points:
        cell = (min(int(point[3] * cells_per_side), last), min(int(point[4] * cells_per_side), last))
        cells.setdefault(cell, []).append(point)
    clustered = [members[0][0] if len(members) == 1 else _merge(members) for members in cells.values()]
    return {**layer.collection, "features": [*layer.others, *clustered], "clustered": True}


def _merge(members: list[PreparedPoint]) -> dict[str, Any]:
    total = 0
    lon_sum = lat_sum = 0.0
    groups: Counter[str] = Counter()
    group_key = _group_key([member[0] for member in members])
    for feature, lon, lat, _x, _y, weight in members:
        total += weight
        lon_sum += lon * weight
        lat_sum += lat * weight
        if group_key is not None:
            groups[str((feature.get("properties") or {}).get(group_key, ""))] += weight
    properties: dict[str, Any] = {"cluster": True, "count": total}
    if group_key is not None:
        properties["group"] = group_key
        properties["groups"] = dict(groups.most_common())
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon_sum / total, 5), round(lat_sum / total, 5)]},
        "properties": properties,
    }
