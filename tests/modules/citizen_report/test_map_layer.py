"""The map layers aggregated on the server: every matching report is in the answer, as a point or in a cell."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from ioc.core.module import PictureContext
from ioc.core.runtime import Runtime
from ioc.core.time import utc_now
from ioc.modules.citizen_report import constants, repository, service
from ioc.modules.citizen_report.models import Report
from ioc.modules.citizen_report.public_cache import cache_for
from ioc.modules.citizen_report.schemas import ReportFilters
from ioc.modules.dashboard import clustering
from ioc.modules.dashboard import constants as dashboard_constants

from .conftest import TAN_NINH, Categories

API = "/api/v1/citizen-reports.geojson"
PUBLIC_STATUSES = ("accepted", "assigned", "in_progress", "resolved", "closed")
SECRETS = ("Trần Bí Mật", "0912345678", "bimat@example.vn", "Hẻm 7 nhà số 12", "đổ trộm sau nhà")
# Tây Ninh (with the former Long An): the reports of the test are spread over this box, and a third of them
# stand on three busy corners, so that cells hold one report, a few, or many.
SOUTH, WEST, NORTH, EAST = 10.95, 105.85, 11.75, 106.55
CORNERS = ((11.3125, 106.0982), (11.0512, 106.4101), (11.6151, 105.8624))


def _row(number: int, category_id: int, lat: float, lon: float, status: str) -> dict[str, Any]:
    now = utc_now()
    public = status not in ("received", "rejected")
    return {
        "tracking_code": f"PA-2099-{number:06d}",
        "category_id": category_id,
        "category_code": "rac-thai",
        "description": f"Rác {SECRETS[4]} số {number}",
        "attributes": {},
        "lat": lat,
        "lon": lon,
        "unit_code": TAN_NINH,
        "address": SECRETS[3],
        "source": "app",
        "lang": "vi",
        "status": status,
        "accepted_at": now - timedelta(hours=1) if public else None,
        "reporter_name": SECRETS[0],
        "reporter_phone": SECRETS[1],
        "reporter_email": SECRETS[2],
        "rating_token_hash": f"{number:064d}",
        "created_at": now - timedelta(minutes=number),
        "updated_at": now - timedelta(minutes=number),
    }


@pytest.fixture
async def many(runtime: Runtime, categories: Categories) -> list[dict[str, Any]]:
    """Store 300 public reports and 30 the public may not see, in bulk; return the public ones' rows."""
    async with runtime.db.session() as session:
        category_id = {c.code: c.id for c in await service.list_categories(session)}[categories.waste]
    rng = random.Random(80)
    rows = []
    for number in range(330):
        if number % 3 == 0:
            lat, lon = CORNERS[number // 3 % len(CORNERS)]
            lat, lon = lat + rng.uniform(-0.002, 0.002), lon + rng.uniform(-0.002, 0.002)
        else:
            lat, lon = rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)
        status = ("received", "rejected")[number % 2] if number >= 300 else PUBLIC_STATUSES[number % 5]
        rows.append(_row(number, category_id, lat, lon, status))
    async with runtime.db.transaction() as session:
        await session.execute(insert(Report), rows)
    return [row for row in rows if row["accepted_at"] is not None]


@pytest.fixture
def low_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lower the layers' limits so that a few hundred reports are "many" (in production: 400, 5,000 and 5,000)."""
    monkeypatch.setattr(service, "MAP_CLUSTER_THRESHOLD", 40)
    monkeypatch.setattr(service, "GEOJSON_MAX_FEATURES", 50)
    monkeypatch.setattr(service, "PICTURE_LAYER_MAX", 60)


def _weight(feature: dict[str, Any]) -> int:
    properties = feature["properties"]
    return int(properties["count"]) if properties.get("cluster") else 1


def _by_status(features: list[dict[str, Any]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for feature in features:
        properties = feature["properties"]
        if properties.get("cluster"):
            counts.update(properties["groups"])
        else:
            counts[properties["status"]] += 1
    return counts


def _inside(rows: list[dict[str, Any]], box: list[float]) -> list[dict[str, Any]]:
    west, south, east, north = box
    return [r for r in rows if west <= r["lon"] <= east and south <= r["lat"] <= north]


class TestPublicLayer:
    async def test_clusters_count_every_public_report_with_its_status(
        self, client: httpx.AsyncClient, many: list[dict[str, Any]], low_caps: None
    ) -> None:
        layer = await client.get(API, params={"zoom": "9"})
        assert layer.status_code == 200
        body = layer.json()
        assert body["clustered"] is True
        assert body["truncated"] is False
        features = body["features"]
        assert sum(_weight(f) for f in features) == body["count"] == len(many) == 300
        assert _by_status(features) == Counter(r["status"] for r in many)
        clusters = [f for f in features if f["properties"].get("cluster")]
        points = [f for f in features if not f["properties"].get("cluster")]
        assert clusters, "a zoomed-out view of many reports is answered with clusters"
        assert all(f["properties"]["count"] >= 2 for f in clusters)
        # A report alone in its cell comes as itself, with its link.
        assert all(f["properties"]["url"] == f"/phan-anh/{f['id']}" for f in points)
        assert set(body["status_labels"]) == set(PUBLIC_STATUSES)
        assert body["status_labels"]["in_progress"] == "Đang xử lý"
        busiest = max(clusters, key=lambda f: f["properties"]["count"])
        assert busiest["properties"]["name"] == f"{busiest['properties']['count']} phản ánh"

    async def test_the_box_keeps_the_reports_of_the_view(
        self, client: httpx.AsyncClient, many: list[dict[str, Any]], low_caps: None
    ) -> None:
        view = "106.0,11.2,106.3,11.45"
        body = (await client.get(API, params={"zoom": "11", "bbox": view})).json()
        # The box is widened to whole tiles of the zoom, and said so.
        west, south, east, north = body["bbox"]
        assert west <= 106.0
        assert south <= 11.2
        assert east >= 106.3
        assert north >= 11.45
        assert east - west < 0.3 + 2 * 360 / 2**11 + 1e-9
        expected = _inside(many, body["bbox"])
        assert 40 < len(expected) < len(many)
        assert body["clustered"] is True
        assert body["count"] == sum(_weight(f) for f in body["features"]) == len(expected)
        for feature in body["features"]:
            lon, lat = feature["geometry"]["coordinates"]
            assert west - 1e-4 <= lon <= east + 1e-4
            assert south - 1e-4 <= lat <= north + 1e-4

    async def test_few_reports_in_view_or_street_level_give_points_capped_per_view(
        self, client: httpx.AsyncClient, many: list[dict[str, Any]], low_caps: None
    ) -> None:
        small = (await client.get(API, params={"zoom": "14", "bbox": "106.09,11.30,106.11,11.32"})).json()
        inside = _inside(many, small["bbox"])
        assert 0 < len(inside) <= 40
        assert small["clustered"] is False
        assert small["truncated"] is False
        assert {f["id"] for f in small["features"]} == {r["tracking_code"] for r in inside}
        # At street level points are never clustered; beyond the cap the newest come and `truncated` says so.
        street = (await client.get(API, params={"zoom": "15", "bbox": "105.9,11.0,106.5,11.6"})).json()
        assert street["clustered"] is False
        assert street["truncated"] is True
        assert len(street["features"]) == 50
        assert street["count"] == len(_inside(many, street["bbox"]))
        newest = sorted(_inside(many, street["bbox"]), key=lambda r: r["created_at"], reverse=True)[:50]
        assert [f["id"] for f in street["features"]] == [r["tracking_code"] for r in newest]

    async def test_filters_apply_to_clusters(
        self, client: httpx.AsyncClient, many: list[dict[str, Any]], low_caps: None
    ) -> None:
        body = (await client.get(API, params={"zoom": "8", "status": "closed,resolved"})).json()
        expected = [r for r in many if r["status"] in ("closed", "resolved")]
        assert body["count"] == len(expected) == 120
        assert set(_by_status(body["features"])) == {"closed", "resolved"}

    async def test_no_personal_data_and_coordinates_rounded(
        self, client: httpx.AsyncClient, many: list[dict[str, Any]], low_caps: None
    ) -> None:
        for params in ({"zoom": "9"}, {"zoom": "15"}, {}):
            layer = await client.get(API, params=params)
            for secret in SECRETS:
                assert secret not in layer.text
            for feature in layer.json()["features"]:
                for value in feature["geometry"]["coordinates"]:
                    assert value == round(value, constants.PUBLIC_COORD_DECIMALS)
                if not feature["properties"].get("cluster"):
                    assert set(feature["properties"]) == {
                        "tracking_code", "name", "code", "category_code", "category_name", "status",
                        "status_label", "unit_code", "created_at", "url",
                    }  # fmt: skip

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"zoom": "nine"}, "zoom"),
            ({"zoom": "20"}, "zoom"),
            ({"zoom": "-1"}, "zoom"),
            ({"zoom": "9.5"}, "zoom"),
            ({"zoom": "9", "bbox": "106,11,106.5"}, "bbox"),
            ({"zoom": "9", "bbox": "106,11,abc,11.5"}, "bbox"),
            ({"zoom": "9", "bbox": "106,11,nan,11.5"}, "bbox"),
            ({"zoom": "9", "bbox": "106.5,11,106,11.5"}, "bbox"),
            ({"zoom": "9", "bbox": "106,11,181,11.5"}, "bbox"),
            ({"zoom": "9", "bbox": "106,-91,106.5,11.5"}, "bbox"),
            ({"zoom": "14", "bbox": "-180,-85,180,85"}, "bbox"),
        ],
    )
    async def test_a_malformed_view_is_a_400_in_both_languages(
        self, client: httpx.AsyncClient, params: dict[str, str], field: str
    ) -> None:
        vietnamese = await client.get(API, params=params)
        assert vietnamese.status_code == 400
        assert vietnamese.json()["detail"]["field"] == field
        assert ("Mức thu phóng" if field == "zoom" else "Khung nhìn") in vietnamese.json()["message"]
        english = await client.get(API, params={**params, "lang": "en"})
        assert english.status_code == 400
        assert ("zoom" if field == "zoom" else "bbox") in english.json()["message"]

    async def test_pans_inside_the_same_tiles_share_one_cached_answer(
        self, runtime: Runtime, client: httpx.AsyncClient, many: list[dict[str, Any]], low_caps: None
    ) -> None:
        cache = cache_for(runtime)
        first = await client.get(API, params={"zoom": "10", "bbox": "106.01,11.21,106.31,11.41"})
        hits = cache.hits
        nudged = await client.get(API, params={"zoom": "10", "bbox": "106.02,11.22,106.32,11.42"})
        assert cache.hits == hits + 1
        assert nudged.content == first.content
        other_zoom = await client.get(API, params={"zoom": "11", "bbox": "106.02,11.22,106.32,11.42"})
        assert cache.hits == hits + 1
        assert other_zoom.json()["zoom"] == 11


class TestGrid:
    def test_the_grid_is_the_dashboards(self) -> None:
        assert constants.MAP_CELLS_PER_TILE == dashboard_constants.CLUSTER_CELLS_PER_TILE
        assert constants.MAP_CLUSTER_MAX_ZOOM == dashboard_constants.CLUSTER_MAX_ZOOM
        assert constants.MAP_CLUSTER_THRESHOLD == dashboard_constants.CLUSTER_THRESHOLD
        assert constants.MAP_MAX_ZOOM == dashboard_constants.MAX_ZOOM
        rng = random.Random(22)
        for zoom in range(constants.MAP_CLUSTER_MAX_ZOOM):
            grid = repository.MapGrid.at(zoom, constants.MAP_CELLS_PER_TILE, constants.MAP_GRID_LATITUDE)
            for _ in range(2_000):
                lon, lat = rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)
                assert grid.cell(lon, lat) == clustering.grid_cell(lon, lat, zoom)

    async def test_the_engine_bins_like_the_dashboard(self, runtime: Runtime, many: list[dict[str, Any]]) -> None:
        for zoom in (6, 10, 14):
            grid = repository.MapGrid.at(zoom, constants.MAP_CELLS_PER_TILE, constants.MAP_GRID_LATITUDE)
            async with runtime.db.session() as session:
                cells = await repository.public_cells(session, ReportFilters(), utc_now(), grid)
            found = Counter({(c.column, c.row, c.status): c.reports for c in cells})
            expected = Counter((*clustering.grid_cell(r["lon"], r["lat"], zoom), r["status"]) for r in many)
            assert found == expected
            alone = [c for c in cells if c.reports == 1]
            assert alone or zoom < 10  # cells of zoom 6 are 5 km wide: none holds a single report here
            assert all(c.tracking_code and c.tracking_code.startswith("PA-2099-") for c in alone)
            assert all(c.tracking_code is None for c in cells if c.reports > 1)


class TestPictureLayer:
    async def test_beyond_its_cap_the_layer_sends_cells_the_dashboard_clusters_without_loss(
        self, runtime: Runtime, many: list[dict[str, Any]], low_caps: None
    ) -> None:
        manifest = runtime.module("citizen_report")
        assert manifest is not None
        (layer,) = manifest.map_layers
        async with runtime.db.session() as session:
            collection = await layer.features(PictureContext(session=session, principal=None, now=utc_now()))
        assert collection["aggregated"] is True
        assert collection["truncated"] is False
        assert len(collection["features"]) <= 60
        # Every report of the picture (open, or changed in 30 days: all of them here) is counted once.
        assert clustering.layer_count(collection) == len(many)
        expected = Counter(r["status"] for r in many)
        for zoom in (8, 12):
            clustered = clustering.cluster(collection, zoom, threshold=10)
            assert clustering.layer_count(clustered) == len(many)
            per_status: Counter[str] = Counter()
            for feature in clustered["features"]:
                properties = feature["properties"]
                if "groups" in properties:
                    per_status.update(properties["groups"])
                else:
                    per_status[properties["status"]] += 1
            assert per_status == expected
        for feature in collection["features"]:
            assert not set(feature["properties"]) & {"name", "description", "address", "reporter_name"}

    async def test_below_its_cap_the_layer_sends_points_as_before(
        self, runtime: Runtime, many: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(service, "PICTURE_LAYER_MAX", 300)
        manifest = runtime.module("citizen_report")
        assert manifest is not None
        (layer,) = manifest.map_layers
        async with runtime.db.session() as session:
            collection = await layer.features(PictureContext(session=session, principal=None, now=utc_now()))
        assert "aggregated" not in collection
        assert len(collection["features"]) == 300
        assert all(set(f["properties"]) == {"id", "code", "status", "category"} for f in collection["features"])
        assert not math.isnan(collection["features"][0]["geometry"]["coordinates"][0])
