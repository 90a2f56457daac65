"""The picture's API and pages: tiles with error isolation, layers, feed, charts and wall layouts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from tests.conftest import LoginFactory

from ioc.core.events import DomainEvent, record_event
from ioc.core.models import CalendarDay
from ioc.core.module import SeedContext
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.time import utc_now
from ioc.modules import environment
from ioc.modules import org_unit as org_unit_api
from ioc.modules.dashboard.models import DashboardKpiSnapshot

API = "/api/v1/dashboard"
TAN_NINH = "25459"


def _tiles(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {tile["key"]: tile for tile in body["tiles"]}


async def test_a_failing_tile_shows_an_error_and_the_others_still_compute(
    client: httpx.AsyncClient, login_as: LoginFactory, runtime: Runtime
) -> None:
    async with runtime.db.transaction() as session:
        session.add(CalendarDay(day=date(2001, 5, 1), kind="holiday", name="test"))
    public = await client.get(f"{API}/kpis")
    assert public.status_code == 200
    tiles = _tiles(public.json())
    assert "picturemod.secret" not in tiles  # scoped tile, anonymous caller
    assert tiles["picturemod.days"]["value"] == 1
    assert tiles["picturemod.days"]["trend"] == "down"
    assert tiles["picturemod.days"]["change"] == -1
    assert tiles["picturemod.days"]["link"] == "/calendar"
    assert tiles["picturemod.broken"]["value"] is None
    assert tiles["picturemod.broken"]["error"]

    leader = await login_as(Role.LEADER)
    tiles = _tiles((await leader.get(f"{API}/kpis", params={"lang": "en"})).json())
    # Computed after the broken tile in the same session: the savepoint kept the session usable.
    assert tiles["picturemod.secret"]["value"] == 42
    assert tiles["picturemod.secret"]["trend"] == "flat"
    assert tiles["picturemod.secret"]["label"] == "Secret tile"
    only = (await leader.get(f"{API}/kpis", params={"keys": "picturemod.secret"})).json()
    assert [t["key"] for t in only["tiles"]] == ["picturemod.secret"]


async def test_layers_come_with_counts_and_cluster_at_low_zoom(
    client: httpx.AsyncClient, points: list[tuple[float, float, str, str]]
) -> None:
    points.extend((106.1 + i * 1e-5, 11.3, "new" if i % 3 else "done", TAN_NINH) for i in range(450))
    points.extend((105.9, 11.6 + i * 1e-5, "new", "99999") for i in range(20))
    catalogue = (await client.get(f"{API}/layers")).json()["layers"]
    by_key = {layer["key"]: layer for layer in catalogue}
    assert by_key["picturemod.points"]["count"] == 470
    assert by_key["picturemod.points"]["url"] == f"{API}/layers/picturemod.points"
    assert by_key["picturemod.broken"]["count"] is None
    assert by_key["picturemod.broken"]["error"]
    assert by_key["picturemod.broken"]["default_on"] is False

    clustered = await client.get(f"{API}/layers/picturemod.points", params={"zoom": 9})
    assert clustered.status_code == 200
    assert clustered.headers["content-type"].startswith("application/geo+json")
    assert (clustered.json()["count"], clustered.json()["by_zoom"]) == (470, True)
    features = clustered.json()["features"]
    assert len(features) < 30
    assert sum(f["properties"].get("count", 1) for f in features) == 470

    raw = (await client.get(f"{API}/layers/picturemod.points")).json()["features"]
    assert len(raw) == 470
    in_unit = (await client.get(f"{API}/layers", params={"unit": TAN_NINH})).json()["layers"]
    assert {layer["key"]: layer["count"] for layer in in_unit}["picturemod.points"] == 450
    few = (await client.get(f"{API}/layers/picturemod.points", params={"unit": "99999", "zoom": 9})).json()
    assert (few["count"], few["by_zoom"], len(few["features"])) == (20, False, 20)  # the same at every zoom

    assert (await client.get(f"{API}/layers/picturemod.nothing")).status_code == 404
    assert (await client.get(f"{API}/layers/picturemod.broken")).status_code == 503
    assert (await client.get(f"{API}/layers", params={"unit": "bad code!"})).status_code == 422


async def test_feed_and_chart_show_a_submitted_report(
    client: httpx.AsyncClient, login_as: LoginFactory, runtime: Runtime
) -> None:
    submitted = DomainEvent.registry.get("citizen_report.submitted")
    if submitted is None:
        pytest.skip("citizen_report is not enabled in this run")
    event = submitted.model_validate(
        {
            "report_id": 7,
            "tracking_code": "PA-2026-000007",
            "status": "new",
            "category_code": "road",
            "unit_code": TAN_NINH,
            "source": "web",
        }
    )
    async with runtime.db.transaction() as session:
        record_event(session, event)
    feed = (await client.get(f"{API}/feed")).json()
    assert feed[0]["name"] == "citizen_report.submitted"
    assert feed[0]["label"] == "Phản ánh mới"
    assert feed[0]["text"] == f"PA-2026-000007 · {TAN_NINH}"
    assert feed[0]["link"] == "/citizen-reports?q=PA-2026-000007"
    assert feed[0]["critical"] is False

    charts = {c["key"] for c in (await client.get(f"{API}/charts")).json()}
    assert "reports" in charts
    day = (await client.get(f"{API}/charts/reports", params={"range": "24h"})).json()
    assert day["bucket_seconds"] == 3600
    assert len(day["times"]) == 24
    assert sum(v or 0 for v in day["series"][0]["values"]) == 1
    elsewhere = (await client.get(f"{API}/charts/reports", params={"range": "7d", "unit": "99999"})).json()
    assert sum(v or 0 for v in elsewhere["series"][0]["values"]) == 0
    every = (await client.get(f"{API}/charts/data", params={"range": "30d"})).json()
    assert {c["key"] for c in every} == {key for key in charts if not key.startswith("kpi.")}
    reports = next(c for c in every if c["key"] == "reports")
    assert (reports["bucket_seconds"], len(reports["times"])) == (86400, 30)
    assert reports["series"][0]["values"][-1] == 1
    assert (await client.get(f"{API}/charts/nothing")).status_code == 404
    assert (await client.get(f"{API}/charts/reports", params={"range": "1y"})).status_code == 422


async def test_hourly_snapshots_give_each_tile_a_history_chart(
    client: httpx.AsyncClient, login_as: LoginFactory, runtime: Runtime
) -> None:
    from ioc.modules.dashboard import service

    async with runtime.db.transaction() as session:
        session.add(CalendarDay(day=date(2001, 5, 1), kind="holiday", name="test"))
        session.add(CalendarDay(day=date(2001, 5, 2), kind="holiday", name="test"))
    async with runtime.db.transaction() as session:
        stored = await service.snapshot_kpis(session, runtime)
    assert stored >= 2  # the days and the secret tile; the broken one is skipped
    days = (await client.get(f"{API}/charts/kpi.picturemod.days", params={"range": "24h"})).json()
    assert [v for v in days["series"][0]["values"] if v is not None] == [2.0]
    assert days["label"] == "Số ngày đặc biệt"
    assert (await client.get(f"{API}/charts/kpi.picturemod.secret")).status_code == 404
    leader = await login_as(Role.LEADER)
    assert "kpi.picturemod.secret" in {c["key"] for c in (await leader.get(f"{API}/charts")).json()}
    secret = (await leader.get(f"{API}/charts/kpi.picturemod.secret", params={"range": "7d"})).json()
    assert secret["series"][0]["values"][-1] == 42.0
    assert (await client.get(f"{API}/charts/kpi.picturemod.days", params={"unit": TAN_NINH})).status_code == 404

    # A tile without a previous period of its own is compared with its snapshot of a day earlier.
    plain = _tiles((await client.get(f"{API}/kpis")).json())["picturemod.plain"]
    assert (plain["previous"], plain["trend"]) == (None, None)  # nothing a day old yet
    async with runtime.db.transaction() as session:
        for hours, value in ((25, 9.0), (23.5, 5.0), (20, 1.0)):  # the nearest to 24 h ago wins
            taken = utc_now() - timedelta(hours=hours)
            session.add(DashboardKpiSnapshot(tile_key="picturemod.plain", taken_at=taken, value=value))
    plain = _tiles((await client.get(f"{API}/kpis")).json())["picturemod.plain"]
    assert (plain["value"], plain["previous"], plain["trend"], plain["change"]) == (7, 5, "up", 2)
    assert plain["previous_at"] is not None
    in_unit = _tiles((await client.get(f"{API}/kpis", params={"unit": TAN_NINH})).json())["picturemod.plain"]
    assert in_unit["previous"] is None  # the snapshots are province-wide


LAYOUT = {
    "rotate_seconds": 20,
    "screens": [
        {"title": "Tổng quan", "columns": 3, "cells": [{"kind": "kpis", "span": 3}, {"kind": "map", "span": 2}]},
        {"title": "", "columns": 2, "cells": [{"kind": "kpi", "key": "picturemod.days"}, {"kind": "feed"}]},
    ],
}


async def test_wall_layouts_are_saved_per_wall_and_role_and_validated(
    client: httpx.AsyncClient, login_as: LoginFactory
) -> None:
    leader = await login_as(Role.LEADER)
    operator = await login_as(Role.HOTLINE_OPERATOR)
    url = f"{API}/walls/main/layout"

    default = (await operator.get(url)).json()
    assert default["saved"] is False
    assert default["layout"]["screens"][0]["cells"][0]["kind"] == "kpis"

    saved = await leader.put(url, json=LAYOUT)
    assert saved.status_code == 200, saved.text
    assert saved.json()["saved"] is True
    for_operators = {**LAYOUT, "rotate_seconds": 0}
    assert (await leader.put(url, params={"role": "hotline_operator"}, json=for_operators)).status_code == 200

    assert (await operator.get(url)).json()["layout"]["rotate_seconds"] == 20  # no role: the wall's layout
    mine = (await operator.get(url, params={"role": "hotline_operator"})).json()
    assert (mine["role"], mine["layout"]["rotate_seconds"]) == ("hotline_operator", 0)
    agency = (await operator.get(url, params={"role": "agency_staff"})).json()
    assert (agency["role"], agency["layout"]) == ("", LAYOUT | {"screens": agency["layout"]["screens"]})
    walls = (await operator.get(f"{API}/walls")).json()
    assert [(w["wall"], w["role"], w["screens"]) for w in walls] == [("main", "", 2), ("main", "hotline_operator", 2)]

    bad_key = {"screens": [{"cells": [{"kind": "kpi", "key": "nobody.offers_this"}]}]}
    refused = await leader.put(url, json=bad_key)
    assert refused.status_code == 422
    assert refused.json()["error"] == "dashboard_layout_invalid"
    for bad in (
        {"screens": []},
        {"screens": [{"cells": [{"kind": "video"}]}]},
        {"screens": [{"cells": [{"kind": "chart"}]}]},
        {"rotate_seconds": 3, "screens": LAYOUT["screens"]},
        {"screens": [{"columns": 9, "cells": [{"kind": "map"}]}]},
    ):
        assert (await leader.put(url, json=bad)).status_code == 422, bad
    assert (await leader.put(url, params={"role": "king"}, json=LAYOUT)).status_code == 422
    assert (await leader.put("/api/v1/dashboard/walls/Bad Name/layout", json=LAYOUT)).status_code == 422
    assert (await operator.put(url, json=LAYOUT)).status_code == 403
    assert (await client.put(url, json=LAYOUT)).status_code in (401, 403)
    assert (await client.get(url)).status_code == 401

    assert (await leader.delete(url, params={"role": "hotline_operator"})).status_code == 204
    assert (await operator.get(url, params={"role": "hotline_operator"})).json()["role"] == ""


async def test_pages_need_a_staff_login_and_drill_down_to_a_unit(
    client: httpx.AsyncClient, login_as: LoginFactory, runtime: Runtime
) -> None:
    manifest = runtime.module("org_unit")
    assert manifest is not None
    assert manifest.seed is not None
    async with runtime.db.transaction() as session:
        await manifest.seed(SeedContext(session=session, runtime=runtime))
    assert (await client.get("/dashboard")).status_code == 401
    operator = await login_as(Role.HOTLINE_OPERATOR)
    desk = await operator.get("/dashboard")
    assert desk.status_code == 200
    assert "<h1>Bức tranh điều hành</h1>" in desk.text
    assert 'id="dashboard-config"' in desk.text
    english = await operator.get("/dashboard", params={"lang": "en"})
    assert "<h1>Operations picture</h1>" in english.text
    wall = await operator.get("/dashboard/wall")
    assert wall.status_code == 200
    assert 'class="theme-wall"' in wall.text
    assert (await operator.get("/dashboard/wall/edit")).status_code == 403
    leader = await login_as(Role.LEADER)
    editor = await leader.get("/dashboard/wall/edit", params={"wall": "lobby", "role": "leader"})
    assert editor.status_code == 200
    assert "picturemod.days" in editor.text
    unit = await operator.get(f"/dashboard/units/{TAN_NINH}")
    assert unit.status_code == 200
    assert "Tân Ninh" in unit.text
    assert f"org-units.geojson?code={TAN_NINH}" in unit.text
    assert (await operator.get("/dashboard/units/00000")).status_code == 404


async def test_modules_contribute_feed_events_through_their_manifests(
    client: httpx.AsyncClient, login_as: LoginFactory, runtime: Runtime
) -> None:
    from tests.modules.dashboard.picturemod.manifest import Note, Sighting

    async with runtime.db.transaction() as session:
        record_event(session, Sighting(code="S 1", level="red", unit_code=TAN_NINH))
        record_event(session, Sighting(code="S2", level="green", unit_code="99999"))
        record_event(session, Note(code="N1", unit_codes=["99999", TAN_NINH]))
    public = {item["text"]: item for item in (await client.get(f"{API}/feed")).json()}
    assert set(public) == {f"S 1 · {TAN_NINH}", "S2 · 99999"}  # the note is narrowed to staff by its entry
    red = public[f"S 1 · {TAN_NINH}"]
    assert (red["critical"], red["link"], red["name"]) == (True, "/samples/S%201", "picturemod.sighting")
    assert public["S2 · 99999"]["critical"] is False
    assert red["payload"] == {}

    leader = await login_as(Role.LEADER)
    staff = (await leader.get(f"{API}/feed")).json()
    assert [item["name"] for item in staff] == ["picturemod.note", "picturemod.sighting", "picturemod.sighting"]
    assert (staff[0]["critical"], staff[0]["link"], staff[0]["text"]) == (True, "", "N1")
    in_unit = (await leader.get(f"{API}/feed", params={"unit": TAN_NINH})).json()
    assert [item["payload"]["code"] for item in in_unit] == ["N1", "S 1"]

    from ioc.modules.dashboard import service

    entries = service.feed_client_config(runtime)
    assert entries["picturemod.sighting"] == {
        "link": "/samples/{code}",
        "critical": False,
        "field": "level",
        "values": ["red"],
    }
    assert "picturemod.never_registered" not in entries  # no event class: nothing to show


async def test_a_unit_drill_down_counts_what_happened_there_over_the_range(
    client: httpx.AsyncClient, login_as: LoginFactory, runtime: Runtime
) -> None:
    from tests.modules.dashboard.picturemod.manifest import Note, Sighting

    org_unit = runtime.module("org_unit")
    assert org_unit is not None
    assert org_unit.seed is not None
    now = utc_now()
    async with runtime.db.transaction() as session:
        await org_unit.seed(SeedContext(session=session, runtime=runtime))
        province = next(u.code for u in await org_unit_api.ancestors(session, TAN_NINH))
        for hours in (1, 5, 72, 200):  # two in the last day, three in the week, one in the week before
            record_event(
                session,
                Sighting(code=f"S{hours}", level="red", unit_code=TAN_NINH, occurred_at=now - timedelta(hours=hours)),
            )
        record_event(session, Sighting(code="far", level="red", unit_code="99999", occurred_at=now))
        # A note for the whole province touches each commune; staff only, by its feed entry.
        record_event(session, Note(code="N", unit_codes=[province], occurred_at=now - timedelta(hours=2)))
        if runtime.module("environment") is not None:
            for hours, value in ((30, 80), (3, 140)):
                moment = now - timedelta(hours=hours)
                record_event(
                    session,
                    environment.IndexComputed(
                        station_id=1,
                        station_code="KK-T",
                        unit_code=TAN_NINH,
                        standard="VN_AQI",
                        period="hour",
                        value=value,
                        category="moderate",
                        computed_for=moment,
                        occurred_at=moment,
                    ),
                )
    url = f"{API}/units/{TAN_NINH}/history"
    leader = await login_as(Role.LEADER)
    week = (await leader.get(url, params={"range": "7d"})).json()
    rows = {row["name"]: row for row in week["rows"]}
    assert (rows["picturemod.sighting"]["count"], rows["picturemod.sighting"]["previous"]) == (3, 1)
    assert (rows["picturemod.sighting"]["trend"], rows["picturemod.sighting"]["change"]) == ("up", 2)
    assert rows["picturemod.note"]["count"] == 1
    day = {row["name"]: row for row in (await leader.get(url, params={"range": "24h"})).json()["rows"]}
    assert (day["picturemod.sighting"]["count"], day["picturemod.sighting"]["previous"]) == (2, 0)
    if runtime.module("environment") is not None:
        index = week["index"]
        assert index["series"][0]["label"] == "VN_AQI"
        values = [v for v in index["series"][0]["values"] if v is not None]
        assert values[0] == 80
        assert values[-1] == 140

    public = {row["name"] for row in (await client.get(url)).json()["rows"]}
    assert "picturemod.sighting" in public
    assert "picturemod.note" not in public
    assert (await client.get(f"{API}/units/00000/history")).status_code == 404
    assert (await client.get(url, params={"range": "1y"})).status_code == 422
