"""Grid clustering and trends: the pure rules behind the map and the tiles."""

from __future__ import annotations

from typing import Any

from ioc.core.module import KpiValue
from ioc.modules.dashboard.clustering import cluster, cluster_prepared, grid_cell, layer_count, prepare
from ioc.modules.dashboard.constants import Trend
from ioc.modules.dashboard.service import trend_of


def _points(n: int, lon: float, lat: float, status: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon + i * 1e-5, lat + i * 1e-5]},
            "properties": {"status": status},
        }
        for i in range(n)
    ]


def test_many_points_become_one_cluster_per_grid_cell_at_low_zoom() -> None:
    features = (
        _points(300, 106.10, 11.30, "new") + _points(200, 106.10, 11.30, "done") + _points(100, 105.9, 11.6, "new")
    )
    result = cluster({"type": "FeatureCollection", "features": features}, zoom=9, threshold=50)
    assert result["clustered"] is True
    assert len(result["features"]) == 2
    big = max(result["features"], key=lambda f: f["properties"]["count"])
    assert big["properties"] == {"cluster": True, "count": 500, "group": "status", "groups": {"new": 300, "done": 200}}
    lon, lat = big["geometry"]["coordinates"]
    assert abs(lon - 106.1) < 0.01
    assert abs(lat - 11.3) < 0.01
    assert layer_count(result) == 600


def test_few_points_and_street_zoom_are_left_alone() -> None:
    collection = {"type": "FeatureCollection", "features": _points(30, 106.1, 11.3, "new")}
    assert cluster(collection, zoom=8, threshold=50) is collection
    many = {"type": "FeatureCollection", "features": _points(80, 106.1, 11.3, "new")}
    assert cluster(many, zoom=16, threshold=50) is many
    assert cluster(many, zoom=None, threshold=50) is many


def test_grid_cells_split_further_apart_points_at_higher_zoom() -> None:
    a, b = (106.10, 11.30), (106.13, 11.30)  # about 3 km apart
    assert grid_cell(*a, zoom=7) == grid_cell(*b, zoom=7)
    assert grid_cell(*a, zoom=13) != grid_cell(*b, zoom=13)


def test_trend_compares_with_the_previous_period() -> None:
    assert trend_of(KpiValue(value=12, previous=10)) == (Trend.UP, 2)
    assert trend_of(KpiValue(value=8, previous=10)) == (Trend.DOWN, -2)
    assert trend_of(KpiValue(value=10, previous=10)) == (Trend.FLAT, 0)
    assert trend_of(KpiValue(value=10, previous=None)) == (None, None)


def test_a_prepared_layer_counts_once_and_clusters_at_any_zoom() -> None:
    aggregated = {"type": "Feature", "geometry": None, "properties": {"count": 7}}
    features = [*_points(60, 106.10, 11.30, "new"), aggregated]
    layer = prepare({"type": "FeatureCollection", "features": features})
    assert (layer.count, len(layer.points), len(layer.others)) == (67, 60, 1)
    assert layer.by_zoom(threshold=50) is True
    assert layer.by_zoom(threshold=60) is False
    low = cluster_prepared(layer, zoom=8, threshold=50)
    assert layer_count(low) == 67
    assert len(low["features"]) == 2  # the aggregated feature and one cluster
