"""Generate the SCHEMATIC commune boundaries of Tây Ninh used by the demo (run once, commit the output).

Official commune boundaries of the 2025 units are not available to the project, so the demo partitions
the province outline into 96 cells of roughly equal area (centroidal Voronoi tessellation: Lloyd
relaxation of seeded points, cells clipped to the outline). The cells are NOT the real communes: they
only let the demo place a point in "a commune" and draw a plausible map. A province replaces them with
its real boundaries through `ioc org-unit import-boundaries` (see docs/modules/org_unit.md).

Former Tây Ninh communes (old GSO codes 25xxx, old province 72) get the northern cells and former
Long An communes (old province 80) the southern ones, as in reality; inside each group, communes follow
the official list order over a west-to-east sweep, so that neighbours in the list are neighbours on the
map. The output is deterministic (fixed seed).

Usage, from the repository root:

    python scripts/generate_schematic_communes.py --old-to-new <reference>/tay-ninh-2025-old-to-new.csv

`--old-to-new` is the new→old commune mapping (columns new_code,new_name,old_code,old_name,merge_type);
it is only needed here, not at run time.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, Polygon, mapping, shape
from shapely.prepared import prep

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO_ROOT / "src" / "ioc" / "modules" / "org_unit" / "demo"
DEFAULT_OUTLINE = DEMO_DIR / "tay-ninh-province-2025.geojson"
DEFAULT_COMMUNES = DEMO_DIR / "tay-ninh-2025-communes.csv"
DEFAULT_OUTPUT = DEMO_DIR / "tay-ninh-communes-schematic.geojson"

SEED = 20250701
LLOYD_ITERATIONS = 300
GRID_DEGREES = 1e-5  # 5 decimals, about 1 m: far finer than a schematic needs, and keeps the file small
BAND_SIZE = 6  # cells per west-to-east column of the sweep that orders communes inside a group
FORMER_TAY_NINH = "72"
FORMER_LONG_AN = "80"
# Old GSO commune codes of the former Tây Ninh province start with 25 (Long An: 27 and 28).
FORMER_TAY_NINH_PREFIX = "25"
KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LON_EQUATOR = 111.320

NOTE = (
    "SƠ ĐỒ MINH HOẠ, KHÔNG PHẢI ĐỊA GIỚI HÀNH CHÍNH: 96 ô chia đều diện tích đường bao tỉnh Tây Ninh, "
    "chỉ dùng cho dữ liệu mẫu. Địa giới chính thức thuộc hồ sơ địa giới hành chính (Bộ Nông nghiệp và Môi "
    "trường). / SCHEMATIC, NOT ADMINISTRATIVE BOUNDARIES: 96 equal-area cells partitioning the Tây Ninh "
    "province outline, for demo data only. Official boundaries are the administrative boundary records kept "
    "by the Ministry of Agriculture and Environment."
)


class LocalProjection:
    """An equirectangular projection in km around the outline's centre (areas roughly true at this size)."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0 = lon0
        self.lat0 = lat0
        self.kx = KM_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(lat0))

    def forward(self, lonlat: Any) -> Any:
        """Return km coordinates of an (n, 2) array of lon/lat."""
        return np.column_stack(((lonlat[:, 0] - self.lon0) * self.kx, (lonlat[:, 1] - self.lat0) * KM_PER_DEGREE_LAT))

    def inverse(self, xy: Any) -> Any:
        """Return lon/lat of an (n, 2) array of km coordinates."""
        return np.column_stack((xy[:, 0] / self.kx + self.lon0, xy[:, 1] / KM_PER_DEGREE_LAT + self.lat0))


def load_outline(path: Path) -> Polygon:
    """Read the province outline (a FeatureCollection with one Polygon)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    geometry = shape(data["features"][0]["geometry"])
    if not isinstance(geometry, Polygon) or not geometry.is_valid:
        raise SystemExit("the outline must be one valid Polygon")
    return geometry


def load_communes(path: Path) -> list[dict[str, str]]:
    """Read the official commune list in its official order."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return sorted(rows, key=lambda row: int(row["stt_cv1027"]))


def former_provinces(path: Path) -> dict[str, str]:
    """Map each new commune code to the old province it came from (72 Tây Ninh, 80 Long An)."""
    result: dict[str, set[str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            old = FORMER_TAY_NINH if row["old_code"].startswith(FORMER_TAY_NINH_PREFIX) else FORMER_LONG_AN
            result.setdefault(row["new_code"], set()).add(old)
    mixed = sorted(code for code, olds in result.items() if len(olds) > 1)
    if mixed:
        raise SystemExit(f"communes formed from both old provinces, cannot place them: {mixed}")
    return {code: olds.pop() for code, olds in result.items()}


def random_points(area: Polygon, count: int, rng: random.Random) -> list[Point]:
    """Draw points uniformly inside the polygon (rejection sampling)."""
    min_x, min_y, max_x, max_y = area.bounds
    prepared = prep(area)
    points: list[Point] = []
    while len(points) < count:
        candidate = Point(rng.uniform(min_x, max_x), rng.uniform(min_y, max_y))
        if prepared.contains(candidate):
            points.append(candidate)
    return points


def clipped_cells(points: list[Point], area: Polygon) -> list[Any]:
    """Return the Voronoi cell of every point (in input order) clipped to the area."""
    frame = area.envelope.buffer(max(area.bounds[2] - area.bounds[0], area.bounds[3] - area.bounds[1]))
    cells = shapely.voronoi_polygons(MultiPoint(points), extend_to=frame, ordered=True)
    return [cell.intersection(area) for cell in cells.geoms]


def lloyd(area: Polygon, count: int, rng: random.Random) -> list[Any]:
    """Relax random points towards the centroids of their cells, giving cells of similar area."""
    points = random_points(area, count, rng)
    for _ in range(LLOYD_ITERATIONS):
        cells = clipped_cells(points, area)
        moved: list[Point] = []
        for cell in cells:
            centroid = cell.centroid
            # A centroid outside a concave cell would leave the province; keep the point inside instead.
            moved.append(centroid if area.contains(centroid) else cell.point_on_surface())
        points = moved
    return clipped_cells(points, area)


def make_single_polygons(cells: list[Any]) -> list[Polygon]:
    """Give every stray fragment of a clipped cell to the neighbour it shares the longest border with."""
    polygons: list[Any] = []
    strays: list[Polygon] = []
    for cell in cells:
        parts = sorted(getattr(cell, "geoms", [cell]), key=lambda part: part.area, reverse=True)
        polygons.append(parts[0])
        strays.extend(parts[1:])
    for stray in strays:
        best = max(range(len(polygons)), key=lambda i: polygons[i].boundary.intersection(stray.boundary).length)
        merged = polygons[best].union(stray)
        if not isinstance(merged, Polygon):
            raise SystemExit("a stray fragment touches no neighbour along an edge; change the seed")
        polygons[best] = merged
    return polygons


def snap(polygon: Polygon) -> Polygon:
    """Round coordinates to the output grid and orient the exterior ring counter-clockwise (RFC 7946)."""
    snapped = shapely.set_precision(polygon, GRID_DEGREES)
    if not isinstance(snapped, Polygon) or not snapped.is_valid or snapped.is_empty:
        raise SystemExit("a cell degenerated when rounded; change the seed")
    return shapely.geometry.polygon.orient(snapped, sign=1.0)


def sweep_order(indices: list[int], centroids: list[Point]) -> list[int]:
    """Order cells west to east in columns, alternating north-south, so that consecutive cells touch."""
    by_x = sorted(indices, key=lambda i: centroids[i].x)
    ordered: list[int] = []
    for band_number, start in enumerate(range(0, len(by_x), BAND_SIZE)):
        band = sorted(by_x[start : start + BAND_SIZE], key=lambda i: centroids[i].y, reverse=band_number % 2 == 0)
        ordered.extend(band)
    return ordered


def rounded(value: Any) -> Any:
    """Round every coordinate of a GeoJSON coordinate tree to 5 decimals."""
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, list | tuple):
        return [rounded(item) for item in value]
    return value


def build(outline: Polygon, communes: list[dict[str, str]], former: dict[str, str]) -> dict[str, Any]:
    """Build the FeatureCollection of schematic commune cells."""
    lon0, lat0 = outline.centroid.x, outline.centroid.y
    projection = LocalProjection(lon0, lat0)
    area_km = shapely.transform(outline, projection.forward)
    rng = random.Random(SEED)  # noqa: S311 - a reproducible layout, not a secret
    cells_km = make_single_polygons(lloyd(area_km, len(communes), rng))
    cells = [snap(shapely.transform(cell, projection.inverse)) for cell in cells_km]
    centroids = [cell.centroid for cell in cells]

    missing = [row["code"] for row in communes if row["code"] not in former]
    if missing:
        raise SystemExit(f"communes missing from the old-to-new mapping: {missing}")
    northern = [row for row in communes if former[row["code"]] == FORMER_TAY_NINH]
    southern = [row for row in communes if former[row["code"]] == FORMER_LONG_AN]
    by_latitude = sorted(range(len(cells)), key=lambda i: centroids[i].y, reverse=True)
    north_cells = sweep_order(by_latitude[: len(northern)], centroids)
    south_cells = sweep_order(by_latitude[len(northern) :], centroids)

    features: list[dict[str, Any]] = []
    for rows, indices in ((northern, north_cells), (southern, south_cells)):
        for row, index in zip(rows, indices, strict=True):
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "code": row["code"],
                        "name": row["name"],
                        "unit_type": row["unit_type"],
                        "former_province_code": former[row["code"]],
                        "schematic": True,
                    },
                    "geometry": {"type": "Polygon", "coordinates": rounded(mapping(cells[index])["coordinates"])},
                }
            )
    features.sort(key=lambda feature: feature["properties"]["code"])
    return {
        "type": "FeatureCollection",
        "name": "tay_ninh_communes_schematic",
        "schematic": True,
        "note": NOTE,
        "generator": "scripts/generate_schematic_communes.py",
        "seed": SEED,
        "features": features,
    }


def check(collection: dict[str, Any], outline: Polygon) -> None:
    """Refuse to write a file that breaks the properties the tests check."""
    cells = [shape(feature["geometry"]) for feature in collection["features"]]
    if not all(isinstance(cell, Polygon) and cell.is_valid for cell in cells):
        raise SystemExit("a cell is not a valid Polygon")
    union = shapely.union_all(cells)
    overlap = sum(cell.area for cell in cells) - union.area
    uncovered = outline.difference(union).area / outline.area
    outside = union.difference(outline).area / outline.area
    print(f"cells={len(cells)} overlap={overlap:.3e} deg² uncovered={uncovered:.5%} outside={outside:.5%}")
    areas = sorted(cell.area for cell in cells)
    print(f"area ratio largest/smallest = {areas[-1] / areas[0]:.2f}")


def main() -> None:
    """Parse arguments, generate, check and write the file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--old-to-new", type=Path, required=True, help="tay-ninh-2025-old-to-new.csv")
    parser.add_argument("--outline", type=Path, default=DEFAULT_OUTLINE)
    parser.add_argument("--communes", type=Path, default=DEFAULT_COMMUNES)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()

    outline = load_outline(args.outline)
    collection = build(outline, load_communes(args.communes), former_provinces(args.old_to_new))
    check(collection, outline)
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    args.output.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.output} ({len(text) / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
