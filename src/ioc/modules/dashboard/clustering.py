"""Grid clustering of point layers on the server, so that a map never receives 100,000 markers.

Points are binned into cells of a Web Mercator grid whose size follows the zoom level (the same grid
the map's tiles use); a cell holding several points becomes one point at their weighted centre with
the total `count` and the number of each `status` (or `severity`) inside it.
"""

from __future__ import annotations

import math
from collections import Counter
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


def grid_cell(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """Return the grid cell of a point at a zoom level (Web Mercator, CLUSTER_CELLS_PER_TILE per tile)."""
    cells = (2**zoom) * CLUSTER_CELLS_PER_TILE
    lat = max(-MAX_MERCATOR_LAT, min(MAX_MERCATOR_LAT, lat))
    x = (lon + 180.0) / 360.0
    radians = math.radians(lat)
    y = (1.0 - math.log(math.tan(radians) + 1.0 / math.cos(radians)) / math.pi) / 2.0
    return min(int(x * cells), cells - 1), min(int(y * cells), cells - 1)


def _group_key(features: list[dict[str, Any]]) -> str | None:
    for name in GROUP_PROPERTIES:
        if any(name in (f.get("properties") or {}) for f in features):
            return name
    return None


def cluster(collection: dict[str, Any], zoom: int | None, threshold: int = CLUSTER_THRESHOLD) -> dict[str, Any]:
    """Return the collection with its points merged per grid cell when there are more than `threshold`."""
    features = [f for f in collection.get("features") or [] if isinstance(f, dict)]
    points = [f for f in features if _point(f) is not None]
    if zoom is None or zoom >= CLUSTER_MAX_ZOOM or len(points) <= threshold:
        return collection
    others = [f for f in features if _point(f) is None]
    cells: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for feature in points:
        lon, lat = _point(feature) or (0.0, 0.0)
        cells.setdefault(grid_cell(lon, lat, zoom), []).append(feature)
    clustered: list[dict[str, Any]] = []
    for members in cells.values():
        if len(members) == 1:
            clustered.append(members[0])
            continue
        clustered.append(_merge(members))
    return {**collection, "features": [*others, *clustered], "clustered": True}


def _merge(members: list[dict[str, Any]]) -> dict[str, Any]:
    total = 0
    lon_sum = lat_sum = 0.0
    groups: Counter[str] = Counter()
    group_key = _group_key(members)
    for feature in members:
        weight = feature_weight(feature)
        lon, lat = _point(feature) or (0.0, 0.0)
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
