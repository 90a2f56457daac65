"""The demo data committed with the module: the commune list, the outline and the schematic cells."""

from __future__ import annotations

import csv
import json
from typing import Any

import pytest
import shapely
from shapely.geometry import Polygon, shape
from shapely.strtree import STRtree

from ioc.modules.org_unit.constants import DEMO_COMMUNES_CSV, DEMO_DIR, DEMO_SCHEMATIC_GEOJSON

from .conftest import COMMUNE_COUNT

pytestmark = pytest.mark.engine_free  # no database: run once, in the SQLite pass

MAX_FILE_BYTES = 400 * 1024
OVERLAP_TOLERANCE = 1e-9  # square degrees, about 12 m²: rounding noise, not an overlap
COVER_TOLERANCE = 0.005  # the cells cover the outline to within 0.5 %
EDGE_TOLERANCE = 2e-5  # degrees: cells may stick out of the outline by rounding to 5 decimals only
ATTRIBUTION = (
    "Province boundaries: Open Development Vietnam (data.vietnam.opendevelopmentmekong.net), merged to 2025 "
    "provinces by TaliaCao/Vietnam-Shape-Map (MIT)"
)


def _communes() -> list[dict[str, str]]:
    with DEMO_COMMUNES_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _cells(schematic: dict[str, Any]) -> list[Polygon]:
    return [shape(feature["geometry"]) for feature in schematic["features"]]


def _province(outline: dict[str, Any]) -> Any:
    return shape(outline["features"][0]["geometry"])


def test_the_official_list_has_96_communes_82_xa_and_14_phuong() -> None:
    communes = _communes()
    assert len(communes) == COMMUNE_COUNT
    assert sum(row["unit_type"] == "xã" for row in communes) == 82
    assert sum(row["unit_type"] == "phường" for row in communes) == 14
    assert {row["province_code"] for row in communes} == {"80"}


def test_one_schematic_cell_per_commune_with_its_official_name(schematic: dict[str, Any]) -> None:
    assert schematic["type"] == "FeatureCollection"
    assert "SCHEMATIC" in schematic["note"]
    assert "SƠ ĐỒ" in schematic["note"]
    official = {row["code"]: row["name"] for row in _communes()}
    names = {f["properties"]["code"]: f["properties"]["name"] for f in schematic["features"]}
    assert names == official
    assert all(f["properties"]["schematic"] is True for f in schematic["features"])


def test_every_cell_is_a_valid_polygon_inside_the_outline(schematic: dict[str, Any], outline: dict[str, Any]) -> None:
    province = _province(outline).buffer(EDGE_TOLERANCE)
    for feature, cell in zip(schematic["features"], _cells(schematic), strict=True):
        assert isinstance(cell, Polygon), feature["properties"]["code"]
        assert cell.is_valid, feature["properties"]["code"]
        assert province.contains(cell), feature["properties"]["code"]


def test_cells_do_not_overlap(schematic: dict[str, Any]) -> None:
    cells = _cells(schematic)
    tree = STRtree(cells)
    for index, cell in enumerate(cells):
        for other in tree.query(cell, predicate="intersects"):
            if other != index:
                assert cell.intersection(cells[other]).area < OVERLAP_TOLERANCE, (index, int(other))


def test_cells_cover_the_outline(schematic: dict[str, Any], outline: dict[str, Any]) -> None:
    province = _province(outline)
    union = shapely.union_all(_cells(schematic))
    assert province.difference(union).area / province.area < COVER_TOLERANCE
    assert union.difference(province).area / province.area < COVER_TOLERANCE


def test_cells_have_roughly_equal_areas(schematic: dict[str, Any]) -> None:
    areas = sorted(cell.area for cell in _cells(schematic))
    assert areas[-1] / areas[0] < 3


def test_former_tay_ninh_communes_lie_north_of_former_long_an_ones(schematic: dict[str, Any]) -> None:
    latitudes: dict[str, list[float]] = {"72": [], "80": []}
    for feature, cell in zip(schematic["features"], _cells(schematic), strict=True):
        latitudes[feature["properties"]["former_province_code"]].append(cell.centroid.y)
    assert (len(latitudes["72"]), len(latitudes["80"])) == (36, 60)
    assert min(latitudes["72"]) > max(latitudes["80"])


def test_the_file_is_small_and_rounded_to_5_decimals() -> None:
    text = DEMO_SCHEMATIC_GEOJSON.read_text(encoding="utf-8")
    assert len(text.encode()) < MAX_FILE_BYTES
    coordinates = shapely.get_coordinates([shape(f["geometry"]) for f in json.loads(text)["features"]])
    assert (abs(coordinates * 1e5 - (coordinates * 1e5).round()) < 1e-6).all()


def test_the_attribution_travels_with_the_data() -> None:
    text = (DEMO_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert ATTRIBUTION in text
    assert "1027/CTK-CSCL" in text
