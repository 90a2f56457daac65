"""The public org-unit API and pages as a citizen, another module or an administrator meets them."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from shapely.geometry import shape

from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.time import local_today
from ioc.modules.org_unit import service

from .conftest import COMMUNE_COUNT, DEMO_UNIT_COUNT

LoginAs = Any

HANOI = {"lat": 21.03, "lon": 105.85}

# The province before 1 July 2025 (real codes: Tây Ninh 72 and Long An 80) and one district of it.
HISTORY_CSV = """code,name,level,parent_code,unit_type,valid_from,valid_to
72,Tỉnh Tây Ninh,province,,tỉnh,1976-02-01,2025-06-30
80,Tỉnh Long An,province,,tỉnh,1976-02-01,2025-06-30
703,Thành phố Tây Ninh,district,72,thành phố,1976-02-01,2025-06-30
"""
DISTRICT_SQUARE = [[106.05, 11.25], [106.15, 11.25], [106.15, 11.35], [106.05, 11.35], [106.05, 11.25]]
DISTRICT_GEOJSON = (
    '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"703"},'
    f'"geometry":{{"type":"Polygon","coordinates":[{DISTRICT_SQUARE}]}}}}]}}'
)


async def _json(http: httpx.AsyncClient, url: str, status: int = 200, **params: Any) -> Any:
    response = await http.get(url, params=params)
    assert response.status_code == status, response.text
    return response.json()


async def _import_history(runtime: Runtime) -> None:
    async with runtime.db.transaction() as session:
        await service.import_units_csv(session, HISTORY_CSV.encode())
        await service.import_boundaries_geojson(session, DISTRICT_GEOJSON.encode())


@pytest.mark.usefixtures("seeded")
class TestListing:
    async def test_lists_the_province_and_its_96_communes_page_by_page(self, client: httpx.AsyncClient) -> None:
        first = await _json(client, "/api/v1/org-units", limit=50)
        second = await _json(client, "/api/v1/org-units", limit=50, offset=50)
        assert first["total"] == second["total"] == DEMO_UNIT_COUNT
        assert (len(first["items"]), len(second["items"])) == (50, DEMO_UNIT_COUNT - 50)
        assert first["items"][0]["code"] == "80"
        codes = [item["code"] for item in first["items"] + second["items"]]
        assert len(set(codes)) == DEMO_UNIT_COUNT
        assert all("geometry" not in item for item in first["items"])
        assert first["items"][1]["parent_code"] == "80"

    async def test_filters_by_code_level_and_parent(self, client: httpx.AsyncClient) -> None:
        by_code = await _json(client, "/api/v1/org-units", code="27727")
        assert [item["name"] for item in by_code["items"]] == ["Xã Hưng Điền"]
        assert by_code["items"][0]["unit_type"] == "xã"
        provinces = await _json(client, "/api/v1/org-units", level="province")
        assert [item["name"] for item in provinces["items"]] == ["Tỉnh Tây Ninh"]
        communes = await _json(client, "/api/v1/org-units", level="commune", limit=500)
        assert communes["total"] == COMMUNE_COUNT
        wards = [item for item in communes["items"] if item["unit_type"] == "phường"]
        assert len(wards) == 14  # 82 xã + 14 phường (Resolution 1682/NQ-UBTVQH15)
        under_province = await _json(client, "/api/v1/org-units", parent="80", limit=500)
        assert under_province["total"] == COMMUNE_COUNT
        assert (await _json(client, "/api/v1/org-units", parent="27727"))["total"] == 0

    async def test_name_search_ignores_diacritics_and_case(self, client: httpx.AsyncClient) -> None:
        for query in ("hung dien", "Hưng Điền", "HƯNG ĐIỀN"):
            body = await _json(client, "/api/v1/org-units", q=query)
            assert [item["code"] for item in body["items"]] == ["27727"], query

    async def test_unknown_level_is_refused(self, client: httpx.AsyncClient) -> None:
        await _json(client, "/api/v1/org-units", 422, level="hamlet")


@pytest.mark.usefixtures("seeded")
class TestLocate:
    async def test_every_commune_is_found_from_a_point_inside_its_cell(
        self, client: httpx.AsyncClient, schematic: dict[str, Any]
    ) -> None:
        assert len(schematic["features"]) == COMMUNE_COUNT
        for feature in schematic["features"]:
            point = shape(feature["geometry"]).point_on_surface()
            body = await _json(client, "/api/v1/org-units/locate", lat=point.y, lon=point.x)
            assert body["code"] == feature["properties"]["code"], feature["properties"]["name"]
            assert body["level"] == "commune"
            assert [ancestor["code"] for ancestor in body["ancestors"]] == ["80"]

    async def test_point_outside_the_province_is_not_found_with_a_clear_message(
        self, client: httpx.AsyncClient
    ) -> None:
        body = await _json(client, "/api/v1/org-units/locate", 404, **HANOI)
        assert body["error"] == "point_outside_province"
        assert "không thuộc đơn vị hành chính nào" in body["message"]
        response = await client.get("/api/v1/org-units/locate", params=HANOI, headers={"Accept-Language": "en"})
        assert "not inside any administrative unit" in response.json()["message"]

    @pytest.mark.parametrize("params", [{"lat": 200, "lon": 106.0}, {"lat": 11.0, "lon": 190}, {"lat": 11.0}])
    async def test_impossible_coordinates_are_refused(self, client: httpx.AsyncClient, params: dict[str, Any]) -> None:
        body = await _json(client, "/api/v1/org-units/locate", 422, **params)
        assert body["error"] == "validation_failed"


@pytest.mark.usefixtures("seeded")
class TestOneUnit:
    async def test_reads_a_commune_with_its_parent(self, client: httpx.AsyncClient) -> None:
        body = await _json(client, "/api/v1/org-units/25459")
        assert body["name"] == "Phường Tân Ninh"
        assert body["name_en"] == "Tân Ninh Ward"
        assert body["parent_code"] == "80"
        assert body["valid_from"] == "2025-07-01"
        assert body["valid_to"] is None
        assert body["geometry_source"] == "schematic"

    async def test_unknown_code_is_not_found(self, client: httpx.AsyncClient) -> None:
        body = await _json(client, "/api/v1/org-units/99999", 404)
        assert "99999" in body["message"]
        await _json(client, "/api/v1/org-units/99999/geometry", 404)

    async def test_geometry_is_a_geojson_feature_marked_schematic(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/org-units/27727/geometry")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/geo+json")
        feature = response.json()
        assert feature["type"] == "Feature"
        assert feature["properties"]["schematic"] is True
        assert shape(feature["geometry"]).is_valid
        province = await _json(client, "/api/v1/org-units/80/geometry")
        assert province["properties"]["schematic"] is False
        assert province["properties"]["geometry_source"] == "reference"
        assert shape(province["geometry"]).area > 0.5  # about 0.7 square degrees

    async def test_geojson_layer_of_the_communes(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/org-units.geojson", params={"level": "commune"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/geo+json")
        layer = response.json()
        assert layer["type"] == "FeatureCollection"
        assert len(layer["features"]) == COMMUNE_COUNT
        assert all(feature["properties"]["schematic"] is True for feature in layer["features"])
        assert "SƠ ĐỒ" in layer["note"]
        assert layer["features"][0]["properties"]["url"].startswith("/org-units/")
        by_parent = await _json(client, "/api/v1/org-units.geojson", parent="80")
        assert len(by_parent["features"]) == COMMUNE_COUNT
        province = await _json(client, "/api/v1/org-units.geojson", level="province")
        assert [f["id"] for f in province["features"]] == ["80"]
        assert "note" not in province


@pytest.mark.usefixtures("seeded")
class TestHistory:
    async def test_a_district_abolished_in_2025_is_found_only_in_the_past(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        await _import_history(runtime)
        before = await _json(client, "/api/v1/org-units", level="district", valid_on="2025-01-01")
        assert [item["code"] for item in before["items"]] == ["703"]
        assert before["items"][0]["valid_to"] == "2025-06-30"
        assert before["items"][0]["parent_code"] == "72"
        now = await _json(client, "/api/v1/org-units", level="district")
        assert now["total"] == 0
        assert (await _json(client, "/api/v1/org-units", level="district", valid_on="2025-07-01"))["total"] == 0
        # Looking a point up in the past finds the district; today the same point is in a commune.
        old = await _json(client, "/api/v1/org-units/locate", lat=11.3, lon=106.1, valid_on="2025-01-01")
        assert old["code"] == "703"
        assert [ancestor["code"] for ancestor in old["ancestors"]] == ["72"]
        today = await _json(client, "/api/v1/org-units/locate", lat=11.3, lon=106.1)
        assert today["level"] == "commune"

    async def test_a_reused_code_keeps_both_versions(self, runtime: Runtime, client: httpx.AsyncClient) -> None:
        await _import_history(runtime)
        old = await _json(client, "/api/v1/org-units/80", valid_on="2025-06-30")
        new = await _json(client, "/api/v1/org-units/80", valid_on="2025-07-01")
        assert (old["name"], new["name"]) == ("Tỉnh Long An", "Tỉnh Tây Ninh")
        assert (await _json(client, "/api/v1/org-units/80"))["name"] == "Tỉnh Tây Ninh"
        ended = await _json(client, "/api/v1/org-units/703")
        assert ended["valid_to"] == "2025-06-30"
        await _json(client, "/api/v1/org-units/703", 404, valid_on=local_today().isoformat())
        assert local_today() > date(2025, 6, 30)


@pytest.mark.usefixtures("seeded")
class TestAgencies:
    async def test_lists_departments_and_commune_committees(self, client: httpx.AsyncClient) -> None:
        departments = await _json(client, "/api/v1/agencies", kind="department")
        names = {item["name"] for item in departments["items"]}
        assert {"Sở Xây dựng", "Sở Y tế", "Sở Nông nghiệp và Môi trường", "Văn phòng Ủy ban nhân dân tỉnh"} <= names
        assert all(item["unit_codes"] == ["80"] for item in departments["items"])
        committees = await _json(client, "/api/v1/agencies", kind="commune_committee", limit=500)
        assert committees["total"] == COMMUNE_COUNT
        police = await _json(client, "/api/v1/agencies", kind="police")
        assert [item["name"] for item in police["items"]] == ["Công an tỉnh"]

    async def test_agencies_responsible_for_a_commune_include_the_provincial_ones(
        self, client: httpx.AsyncClient
    ) -> None:
        body = await _json(client, "/api/v1/agencies", unit="27727", limit=500)
        codes = {item["code"] for item in body["items"]}
        assert "UBND-27727" in codes
        assert "80-SXD" in codes
        assert "UBND-27736" not in codes

    async def test_reads_one_agency(self, client: httpx.AsyncClient) -> None:
        body = await _json(client, "/api/v1/agencies/UBND-27727")
        assert body["name"] == "UBND xã Hưng Điền"
        assert body["kind"] == "commune_committee"
        assert body["unit_codes"] == ["27727"]
        await _json(client, "/api/v1/agencies/NOPE", 404)


@pytest.mark.usefixtures("seeded")
class TestPages:
    async def test_list_page_shows_the_map_placeholder_and_the_units(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/org-units")
        assert response.status_code == 200
        html = response.text
        assert 'data-geojson-url="/api/v1/org-units.geojson?level=commune"' in html
        assert "data-map" in html
        assert "Xã Hưng Điền" in html
        assert "sơ đồ minh hoạ" in html
        assert "Open Development Vietnam" in html  # the outline's attribution travels with the map

    async def test_list_page_filters_by_level_and_name(self, client: httpx.AsyncClient) -> None:
        html = (await client.get("/org-units", params={"level": "province"})).text
        assert "Tỉnh Tây Ninh" in html
        assert "Xã Hưng Điền" not in html
        html = (await client.get("/org-units", params={"q": "hung dien"})).text
        assert "Xã Hưng Điền" in html
        assert "Xã Vĩnh Thạnh" not in html

    async def test_detail_page_shows_parent_and_responsible_agencies(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/org-units/27727")
        assert response.status_code == 200
        html = response.text
        assert "Xã Hưng Điền" in html
        assert 'href="/org-units/80"' in html
        assert "UBND xã Hưng Điền" in html
        assert "Sở Xây dựng" in html
        assert html.index("UBND xã Hưng Điền") < html.index("Sở Xây dựng")  # the commune's own office first

    async def test_province_page_lists_its_communes_in_english_too(self, client: httpx.AsyncClient) -> None:
        html = (await client.get("/org-units/80", params={"lang": "en"})).text
        assert "Units under it (96)" in html
        assert "Phường Tân Ninh" in html

    async def test_unknown_unit_page_is_not_found(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/org-units/99999")
        assert response.status_code == 404
        assert "99999" in response.text

    async def test_navigation_entry_is_visible_without_login(self, runtime: Runtime) -> None:
        entries = runtime.navigation(None, "vi")
        entry = next(e for e in entries if e.path == "/org-units")
        assert (entry.label("vi"), entry.label("en")) == ("Đơn vị hành chính", "Administrative units")


class TestImportApi:
    """Imports by administrators (needs the identity module for the login)."""

    async def test_anonymous_and_staff_cannot_import(self, client: httpx.AsyncClient, login_as: LoginAs) -> None:
        files = {"file": ("units.csv", HISTORY_CSV.encode(), "text/csv")}
        anonymous = await client.post("/api/v1/org-units/import", data={"kind": "units"}, files=files)
        assert anonymous.status_code == 401
        staff = await login_as(Role.AGENCY_STAFF)
        response = await staff.post("/api/v1/org-units/import", data={"kind": "units"}, files=files)
        assert response.status_code == 403
        assert (await _json(client, "/api/v1/org-units", valid_on="2025-01-01"))["total"] == 0

    async def test_admin_imports_units_then_boundaries(self, client: httpx.AsyncClient, login_as: LoginAs) -> None:
        admin = await login_as(Role.ADMIN)
        response = await admin.post(
            "/api/v1/org-units/import",
            data={"kind": "units"},
            files={"file": ("units.csv", HISTORY_CSV.encode(), "text/csv")},
        )
        assert response.status_code == 200, response.text
        assert response.json() == {
            "kind": "units",
            "created": 3,
            "updated": 0,
            "unchanged": 0,
            "codes": ["72", "80", "703"],
        }
        response = await admin.post(
            "/api/v1/org-units/import",
            data={"kind": "boundaries", "source_epsg": "9210"},
            files={"file": ("b.geojson", DISTRICT_GEOJSON.encode(), "application/geo+json")},
        )
        assert response.status_code == 200, response.text
        assert (response.json()["updated"], response.json()["codes"]) == (1, ["703"])
        district = await _json(client, "/api/v1/org-units/703")
        assert district["bbox"] == [106.05, 11.25, 106.15, 11.35]
        assert (district["geometry_source"], district["source_epsg"]) == ("official", 9210)
        again = await admin.post(
            "/api/v1/org-units/import",
            data={"kind": "units"},
            files={"file": ("units.csv", HISTORY_CSV.encode(), "text/csv")},
        )
        assert (again.json()["created"], again.json()["unchanged"]) == (0, 3)

    @pytest.mark.parametrize(
        ("kind", "content", "expected"),
        [
            (
                "units",
                "code,name,level,parent_code\n72,Tỉnh Tây Ninh,province,\n",
                [{"row": 1, "column": "valid_from"}],
            ),
            (
                "units",
                HISTORY_CSV + "70301,Phường 1,commune,704,phường,1976-02-01,2025-06-30\n",
                [{"row": 5, "column": "parent_code"}],
            ),
            (
                "boundaries",
                '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"80"},'
                '"geometry":{"type":"Polygon","coordinates":[[[106,11],[106.1,11.1],[106.1,11],[106,11.1],[106,11]]]}}]}',
                [{"feature": 0, "column": "geometry"}],
            ),
            (
                "boundaries",
                '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"99999"},'
                f'"geometry":{{"type":"Polygon","coordinates":[{DISTRICT_SQUARE}]}}}}]}}',
                [{"feature": 0, "column": "code"}],
            ),
            ("boundaries", "this is not json", [{"feature": None, "row": None}]),
        ],
        ids=["missing-column", "bad-parent", "invalid-geometry", "unknown-code", "not-json"],
    )
    async def test_malformed_files_are_rejected_whole(
        self,
        client: httpx.AsyncClient,
        login_as: LoginAs,
        kind: str,
        content: str,
        expected: list[dict[str, Any]],
    ) -> None:
        admin = await login_as(Role.ADMIN)
        await admin.post(
            "/api/v1/org-units/import",
            data={"kind": "units"},
            files={"file": ("u.csv", "code,name,level,valid_from\n80,Tỉnh Tây Ninh,province,2025-07-01\n", "text/csv")},
        )
        response = await admin.post(
            "/api/v1/org-units/import", data={"kind": kind}, files={"file": ("f", content.encode(), "text/plain")}
        )
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["error"] == "import_failed"
        errors = body["detail"]["errors"]
        assert len(errors) == len(expected), errors
        for error, wanted in zip(errors, expected, strict=True):
            for key, value in wanted.items():
                assert error[key] == value, error
            assert error["message_vi"]
            assert error["message_en"]
        # Nothing written: no unit of the file exists, and the province still has no boundary.
        assert (await _json(client, "/api/v1/org-units", valid_on="2025-01-01"))["total"] == 0
        assert (await _json(client, "/api/v1/org-units/80"))["has_geometry"] is False
