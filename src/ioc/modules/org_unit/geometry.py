"""Geometry helpers: checking imported boundaries, bounding boxes and cached shapes for point lookups."""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from .constants import MAX_LATITUDE, MAX_LONGITUDE

ACCEPTED_TYPES = ("Polygon", "MultiPolygon")
SHAPE_CACHE_SIZE = 1024


class GeometryProblem(Exception):
    """A geometry cannot be accepted; carries a bilingual reason."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


@dataclass(frozen=True)
class CheckedGeometry:
    """A geometry that passed every check, normalised to GeoJSON with its bounding box."""

    geojson: dict[str, Any]
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


def _coordinates_in_range(geometry: BaseGeometry) -> bool:
    coords = shapely.get_coordinates(geometry)
    if not len(coords):
        return True
    finite = bool(all(math.isfinite(v) for v in coords.ravel()))
    return finite and float(abs(coords[:, 0]).max()) <= MAX_LONGITUDE and float(abs(coords[:, 1]).max()) <= MAX_LATITUDE


def check_geometry(raw: Any) -> CheckedGeometry:
    """Validate a GeoJSON Polygon/MultiPolygon in WGS 84 and return it normalised; never repairs it."""
    if not isinstance(raw, dict):
        raise GeometryProblem("Thiếu hình học (geometry).", "The geometry is missing.")
    kind = raw.get("type")
    if kind not in ACCEPTED_TYPES:
        raise GeometryProblem(
            f"Kiểu hình học {kind!r} không được chấp nhận; chỉ nhận Polygon hoặc MultiPolygon.",
            f"Geometry type {kind!r} is not accepted; only Polygon or MultiPolygon.",
        )
    try:
        geometry = shape(raw)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, shapely.errors.ShapelyError) as exc:
        raise GeometryProblem(f"Toạ độ không đọc được: {exc}.", f"The coordinates cannot be read: {exc}.") from exc
    if geometry.is_empty:
        raise GeometryProblem("Hình học rỗng.", "The geometry is empty.")
    if not _coordinates_in_range(geometry):
        raise GeometryProblem(
            "Toạ độ nằm ngoài phạm vi kinh độ/vĩ độ WGS 84; dữ liệu VN-2000 (mét) phải được chuyển sang "
            "WGS 84 trước khi nhập.",
            "Coordinates are outside WGS 84 longitude/latitude ranges; VN-2000 (metre) data must be "
            "converted to WGS 84 before import.",
        )
    if not geometry.is_valid:
        # Repairing (make_valid) would silently change a legal boundary: reject and say why instead.
        reason = explain_validity(geometry)
        raise GeometryProblem(f"Hình học không hợp lệ: {reason}.", f"Invalid geometry: {reason}.")
    if not isinstance(geometry, Polygon | MultiPolygon):
        raise GeometryProblem("Hình học không phải vùng.", "The geometry is not an area.")
    oriented = shapely.orient_polygons(geometry)  # RFC 7946 ring orientation, same shape
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in oriented.bounds)
    geojson = json.loads(shapely.to_geojson(oriented))
    return CheckedGeometry(geojson, min_lon, min_lat, max_lon, max_lat)


class ShapeCache:
    """Parsed, prepared shapes keyed by (unit id, last update), so lookups skip re-parsing GeoJSON."""

    def __init__(self, size: int = SHAPE_CACHE_SIZE) -> None:
        self.size = size
        self._shapes: OrderedDict[tuple[int, datetime], BaseGeometry] = OrderedDict()

    def get(self, key: tuple[int, datetime]) -> BaseGeometry | None:
        """Return a cached shape, or None."""
        found = self._shapes.get(key)
        if found is not None:
            self._shapes.move_to_end(key)
        return found

    def put(self, key: tuple[int, datetime], geojson: dict[str, Any]) -> BaseGeometry:
        """Parse, prepare and remember a shape."""
        geometry = shape(geojson)
        shapely.prepare(geometry)
        self._shapes[key] = geometry
        while len(self._shapes) > self.size:
            self._shapes.popitem(last=False)
        return geometry

    def clear(self) -> None:
        """Forget every shape."""
        self._shapes.clear()


def covers(geometry: BaseGeometry, lon: float, lat: float) -> bool:
    """Tell whether the point lies inside the geometry or on its boundary."""
    return bool(geometry.covers(Point(lon, lat)))
