"""Reading import files: every fault of a file is reported at once, with its row or feature."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from ioc.modules.org_unit.constants import UnitLevel
from ioc.modules.org_unit.importers import parse_boundaries_geojson, parse_units_csv

SQUARE = [[106.0, 11.0], [106.1, 11.0], [106.1, 11.1], [106.0, 11.1], [106.0, 11.0]]


def _collection(*geometries: Any, code_property: str = "code", extra: dict[str, Any] | None = None) -> bytes:
    features = [
        {"type": "Feature", "properties": {code_property: f"U{i}"}, "geometry": geometry}
        for i, geometry in enumerate(geometries)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features, **(extra or {})}).encode()


class TestUnitsCsv:
    def test_vietnamese_headers_semicolons_bom_and_dd_mm_yyyy(self) -> None:
        text = (
            "\ufeffMã;Tên;Cấp;Mã cấp trên;Loại;Hiệu lực từ;Hiệu lực đến\n"
            "80;Tỉnh Tây Ninh;tỉnh;;tỉnh;01/07/2025;\n"
            "27727;Xã Hưng Điền;Xã;80;xã;01/07/2025;\n"
        )
        records, problems = parse_units_csv(text.encode())
        assert problems == []
        assert [(r.row, r.unit.code, r.unit.level) for r in records] == [
            (2, "80", UnitLevel.PROVINCE),
            (3, "27727", UnitLevel.COMMUNE),
        ]
        assert records[1].unit.parent_code == "80"
        assert records[1].unit.valid_from == date(2025, 7, 1)

    def test_every_fault_of_every_row_is_listed(self) -> None:
        text = (
            "code,name,level,parent_code,unit_type,valid_from,valid_to\n"
            "80,Tỉnh Tây Ninh,province,,tỉnh,2025-07-01,\n"
            ",Không mã,village,80,,2025-13-01,\n"
            "81,Tỉnh X,province,81,tỉnh,2025-07-01,2025-01-01\n"
            "80,Tỉnh Tây Ninh,province,,tỉnh,2025-07-01,\n"
            "82,,province,,,,\n"
        )
        records, problems = parse_units_csv(text.encode())
        assert [r.unit.code for r in records] == ["80"]
        found = sorted((p.row, p.column) for p in problems)
        assert found == [
            (3, "code"),
            (3, "level"),
            (3, "valid_from"),
            (4, "parent_code"),
            (4, "valid_to"),
            (5, "code"),
            (6, "name"),
            (6, "valid_from"),
        ]
        assert all(p.message_vi and p.message_en for p in problems)

    def test_unknown_and_missing_columns_are_reported_on_the_header_row(self) -> None:
        _records, problems = parse_units_csv(b"code,ten,valid_too\n1,A,2025-01-01\n")
        assert sorted((p.row, p.column) for p in problems) == [(1, "level"), (1, "valid_from"), (1, "valid_too")]

    def test_text_that_is_not_utf8_is_refused(self) -> None:
        records, problems = parse_units_csv("code,name\n1,Tây".encode("cp1258"))
        assert records == []
        assert "UTF-8" in problems[0].message_en

    def test_an_empty_file_is_refused(self) -> None:
        assert parse_units_csv(b"")[1][0].message_en.startswith("The file is empty")
        assert parse_units_csv(b"code,name,level,valid_from\n")[1][0].message_en == "The file has no data rows."


class TestBoundariesGeojson:
    def test_polygons_and_multipolygons_are_accepted_with_their_bounding_box(self) -> None:
        multi = {
            "type": "MultiPolygon",
            "coordinates": [[SQUARE], [[[106.2, 11.2], [106.3, 11.2], [106.3, 11.3], [106.2, 11.2]]]],
        }
        records, problems = parse_boundaries_geojson(
            _collection({"type": "Polygon", "coordinates": [SQUARE]}, multi), "code"
        )
        assert problems == []
        assert [r.code for r in records] == ["U0", "U1"]
        second = records[1].geometry
        assert (second.min_lon, second.min_lat, second.max_lon, second.max_lat) == (106.0, 11.0, 106.3, 11.3)

    def test_a_configurable_code_property(self) -> None:
        records, problems = parse_boundaries_geojson(
            _collection({"type": "Polygon", "coordinates": [SQUARE]}, code_property="ma_xa"), "ma_xa"
        )
        assert (problems, [r.code for r in records]) == ([], ["U0"])
        _records, problems = parse_boundaries_geojson(
            _collection({"type": "Polygon", "coordinates": [SQUARE]}, code_property="ma_xa"), "code"
        )
        assert [(p.feature, p.column) for p in problems] == [(0, "code")]

    def test_each_bad_feature_is_reported_by_index_and_nothing_is_repaired(self) -> None:
        bowtie = {"type": "Polygon", "coordinates": [[[106, 11], [106.1, 11.1], [106.1, 11], [106, 11.1], [106, 11]]]}
        point = {"type": "Point", "coordinates": [106, 11]}
        metres = {
            "type": "Polygon",
            "coordinates": [[[600000, 1200000], [601000, 1200000], [601000, 1201000], [600000, 1200000]]],
        }
        broken = {"type": "Polygon", "coordinates": [[[106, 11], [106.1, 11]]]}
        good = {"type": "Polygon", "coordinates": [SQUARE]}
        records, problems = parse_boundaries_geojson(_collection(good, bowtie, point, metres, broken), "code")
        assert [r.code for r in records] == ["U0"]
        by_feature = {p.feature: p for p in problems}
        assert list(by_feature) == [1, 2, 3, 4]
        assert "Self-intersection" in by_feature[1].message_en
        assert "Point" in by_feature[2].message_en
        assert "VN-2000" in by_feature[3].message_en
        assert "4 coordinates" in by_feature[4].message_en

    def test_a_projected_crs_member_is_refused(self) -> None:
        crs = {"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::9210"}}}
        _records, problems = parse_boundaries_geojson(
            _collection({"type": "Polygon", "coordinates": [SQUARE]}, extra=crs), "code"
        )
        assert [p.column for p in problems] == ["crs"]
        wgs84 = {"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}}
        assert (
            parse_boundaries_geojson(_collection({"type": "Polygon", "coordinates": [SQUARE]}, extra=wgs84), "code")[1]
            == []
        )

    def test_files_that_are_not_feature_collections(self) -> None:
        assert "not valid JSON (line 1" in parse_boundaries_geojson(b"{nope", "code")[1][0].message_en
        assert "FeatureCollection" in parse_boundaries_geojson(b'{"type": "Feature"}', "code")[1][0].message_en
        empty = parse_boundaries_geojson(b'{"type": "FeatureCollection", "features": []}', "code")[1]
        assert "no features" in empty[0].message_en

    def test_the_same_code_twice_is_refused(self) -> None:
        geometry = {"type": "Polygon", "coordinates": [SQUARE]}
        data = json.loads(_collection(geometry, geometry))
        data["features"][1]["properties"]["code"] = "U0"
        _records, problems = parse_boundaries_geojson(json.dumps(data).encode(), "code")
        assert [(p.feature, p.column) for p in problems] == [(1, "code")]
