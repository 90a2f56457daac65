"""Charts the modules contribute through their manifests, and the dossiers-on-time tile, on real module data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from tests.conftest import LoginFactory
from tests.modules.citizen_report.conftest import FAR_IN_OTHER_COMMUNE, TAN_NINH, Submit
from tests.modules.citizen_report.test_picture import _resolve
from tests.modules.environment.conftest import StationFactory, send
from tests.modules.environment.test_station_indices import evaluate_from
from tests.modules.indicator.conftest import COMMUNE, OTHER_COMMUNE, World
from tests.modules.indicator.test_service import run_import, tthc

from ioc.core.module import PictureContext
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.time import local_today, utc_now
from ioc.modules.alarm import service as alarm_service
from ioc.modules.dashboard import service as dashboard
from ioc.modules.dashboard.constants import ChartRange
from ioc.modules.environment.evaluation import hour_of, local_day_start
from ioc.modules.indicator.headline import dossiers_on_time, key_rates_trend

API = "/api/v1/dashboard"
HOUR = timedelta(hours=1)


async def test_module_charts_join_the_catalogue_draw_in_the_range_and_fail_alone(
    client: httpx.AsyncClient, login_as: LoginFactory, runtime: Runtime
) -> None:
    from ioc.core.models import CalendarDay

    today = local_today()
    async with runtime.db.transaction() as session:
        for back in (0, 1, 3, 40):  # today, yesterday, three days ago, and outside every range but 90 days
            session.add(CalendarDay(day=today - timedelta(days=back), kind="holiday", name=f"d{back}"))
    catalogue = {c["key"]: c for c in (await client.get(f"{API}/charts")).json()}
    assert catalogue["picturemod.days"] == {
        "key": "picturemod.days",
        "label": "Ngày đặc biệt",
        "module": "picturemod",
        "unit": "ngày",
        "link": "/calendar",
    }
    assert "picturemod.secret" not in catalogue  # a scoped chart, anonymous caller

    week = (await client.get(f"{API}/charts/picturemod.days", params={"range": "7d"})).json()
    assert (week["bucket_seconds"], len(week["times"]), week["unit"], week["error"]) == (86400, 7, "ngày", None)
    assert week["series"] == [{"label": "Ngày", "values": [0, 0, 0, 1, 0, 1, 1]}]
    quarter = (await client.get(f"{API}/charts/picturemod.days", params={"range": "90d", "lang": "en"})).json()
    assert (len(quarter["times"]), sum(quarter["series"][0]["values"]), quarter["label"]) == (90, 4, "Special days")

    every = {c["key"]: c for c in (await client.get(f"{API}/charts/data", params={"range": "7d"})).json()}
    assert set(every) == {key for key in catalogue if not key.startswith("kpi.")}
    # A chart that fails, or answers another number of points than the window has, shows an error; the rest draws.
    assert every["picturemod.broken"]["error"]
    assert every["picturemod.broken"]["series"] == []
    assert every["picturemod.short"]["error"]
    assert every["picturemod.days"]["series"][0]["values"][-1] == 1

    leader = await login_as(Role.LEADER)
    secret = (await leader.get(f"{API}/charts/picturemod.secret", params={"range": "24h"})).json()
    # A provider may draw over points of its own: the answer carries its times and bucket, not the window's.
    assert (len(secret["times"]), secret["bucket_seconds"]) == (2, 7200)
    assert (await client.get(f"{API}/charts/picturemod.secret")).status_code == 404

    # The wall layout editor may place a module's chart on a screen; an unknown chart is refused.
    cells = [{"kind": "chart", "key": "picturemod.days"}]
    saved = await leader.put(f"{API}/walls/lobby/layout", json={"screens": [{"cells": cells}]})
    assert saved.status_code == 200, saved.text
    unknown = [{"kind": "chart", "key": "x.y"}]
    wrong = await leader.put(f"{API}/walls/lobby/layout", json={"screens": [{"cells": unknown}]})
    assert wrong.status_code == 422


async def test_reports_chart_counts_received_and_resolved_per_bucket_and_follows_the_drill_down(
    client: httpx.AsyncClient, runtime: Runtime, submit: Submit
) -> None:
    here = await submit()
    await submit(point=FAR_IN_OTHER_COMMUNE)
    await submit(now=utc_now() - timedelta(days=3))
    await _resolve(runtime, here.id)
    url = f"{API}/charts/citizen_report.received_resolved"
    week = (await client.get(url, params={"range": "7d"})).json()
    received, resolved = week["series"]
    assert (received["label"], resolved["label"]) == ("Tiếp nhận", "Đã giải quyết")
    assert received["values"] == [0, 0, 0, 1, 0, 0, 2]
    assert resolved["values"] == [0, 0, 0, 0, 0, 0, 1]
    day = (await client.get(url, params={"range": "24h", "lang": "en"})).json()
    assert (day["bucket_seconds"], len(day["times"]), day["series"][0]["label"]) == (3600, 24, "Received")
    assert sum(day["series"][0]["values"]) == 2
    commune = (await client.get(url, params={"range": "7d", "unit": TAN_NINH})).json()
    assert commune["series"][0]["values"][-1] == 1  # the report in the other commune is left out


async def test_alarm_chart_counts_alarms_per_day_by_severity_for_the_callers_communes(
    client: httpx.AsyncClient, login_as: LoginFactory, runtime: Runtime
) -> None:
    now = utc_now()
    firings = [
        ("critical", "s1", "25459", now),
        ("critical", "s2", "27727", now - timedelta(days=2)),
        ("minor", "s3", None, now),
        ("major", "s4", "25459", now - timedelta(days=20)),  # outside a week
    ]
    async with runtime.db.transaction() as session:
        for severity, ref, unit, at in firings:
            firing = alarm_service.Firing(
                rule_id=None, severity=severity, title=f"Ngưỡng {ref}", source_kind="station", source_ref=ref, at=at,
                unit_code=unit,
            )  # fmt: skip
            assert await alarm_service.fire(session, None, firing) is not None
    url = f"{API}/charts/alarm.per_day"
    assert (await client.get(url)).status_code == 404  # alarms are for staff
    leader = await login_as(Role.LEADER)
    week = (await leader.get(url, params={"range": "7d"})).json()
    assert [(s["label"], s["values"]) for s in week["series"]] == [
        ("Khẩn cấp", [0, 0, 0, 0, 1, 0, 1]),
        ("Nhẹ", [0, 0, 0, 0, 0, 0, 1]),
    ]
    month = (await leader.get(url, params={"range": "30d", "lang": "en"})).json()
    assert [s["label"] for s in month["series"]] == ["Critical", "Major", "Minor"]

    # Staff bound to one commune see its alarms and those of no commune, as on the alarm console.
    manifest = runtime.module("alarm")
    assert manifest is not None
    (chart,) = manifest.charts
    scopes = runtime.scopes_for_role(Role.AGENCY_STAFF)
    bound = Principal(PrincipalKind.USER, 9, "xa", Role.AGENCY_STAFF, scopes, unit_codes=frozenset({"25459"}))
    window = dashboard.chart_window(now, ChartRange.WEEK)
    async with runtime.db.session() as session:
        plot = await chart.plot(PictureContext(session=session, principal=bound, now=now), window)
    assert [(line.label, line.values[-1]) for line in plot.lines] == [("Khẩn cấp", 1), ("Nhẹ", 1)]
    assert sum(v or 0 for v in plot.lines[0].values) == 1  # not the other commune's


async def test_aqi_chart_reads_the_stations_hourly_and_daily_vn_aqi(
    client: httpx.AsyncClient, runtime: Runtime, make_station: StationFactory
) -> None:
    yesterday = local_today() - timedelta(days=1)
    start = local_day_start(yesterday)
    last = hour_of(utc_now()) - HOUR
    hours = int((last - start) / HOUR) + 1
    # Constant PM2.5 all along: 35.9 µg/m³ is VN_AQI 72 and 55.7 µg/m³ is 110, hourly and daily alike
    # (Decision 1459/QĐ-TCMT §2.2-2.3; the environment module's own tests hold the worked examples).
    for code, pm25 in (("KK-A", 35.9), ("KK-B", 55.7)):
        station = await make_station(code)
        await send(runtime, code, [(start + HOUR * h, {"pm25": pm25}) for h in range(hours)])
        await evaluate_from(runtime, station.id, start)
    url = f"{API}/charts/environment.aqi"
    week = (await client.get(url, params={"range": "7d"})).json()
    mean, highest = week["series"]
    assert (mean["label"], highest["label"], week["unit"]) == ("Trung bình các trạm", "Trạm cao nhất", "VN_AQI")
    # Yesterday's daily index, and none for today yet (a day needs 18 hours).
    assert (mean["values"][-2], highest["values"][-2]) == (91.0, 110.0)
    assert mean["values"][:5] == [None] * 5
    day = (await client.get(url, params={"range": "24h", "lang": "en"})).json()
    mean, highest = day["series"]
    assert mean["label"] == "Stations' mean"
    drawn = [(m, h) for m, h in zip(mean["values"], highest["values"], strict=True) if m is not None]
    assert len(drawn) >= 20
    assert set(drawn) == {(91.0, 110.0)}
    elsewhere = (await client.get(url, params={"range": "24h", "unit": TAN_NINH})).json()
    assert all(v is None for v in elsewhere["series"][0]["values"])  # no station in that commune


# Mid-November: October is the latest finished month, September the one before.
NOW = datetime(2026, 11, 15, 3, 0, tzinfo=UTC)


async def test_dossiers_on_time_tile_and_key_rates_chart_read_the_tthc_statistics(
    runtime: Runtime, world: World
) -> None:
    ctx_time = {"now": NOW}
    for unit, period, late, actor in (
        (COMMUNE, "202609", 10, world.staff),  # resolved 58, on time or early 48
        (COMMUNE, "202610", 2, world.staff),  # resolved 50, on time or early 48
        (OTHER_COMMUNE, "202610", 10, world.other_staff),
    ):
        summary = await run_import(runtime, tthc(unit, period, late=late), actor, check_calendar=False)
        assert summary.refused == 0
    manifest = runtime.module("indicator")
    assert manifest is not None
    tile = next(t for t in manifest.kpis if t.key == "indicator.dossiers_on_time")
    assert (tile.link, tile.scope) == ("/indicators/overview/tthc", "indicator:read")
    async with runtime.db.session() as session:
        province = await dossiers_on_time(PictureContext(session=session, principal=None, **ctx_time))
        commune = await dossiers_on_time(PictureContext(session=session, principal=None, unit_code=COMMUNE, **ctx_time))
        window = dashboard.chart_window(NOW, ChartRange.QUARTER)
        plot = await key_rates_trend(PictureContext(session=session, principal=None, lang="en", **ctx_time), window)
        day = dashboard.chart_window(NOW, ChartRange.DAY)
        short = await key_rates_trend(PictureContext(session=session, principal=None, **ctx_time), day)
    # October: (48 + 48) of (50 + 58) resolved on time; September: 48 of 58 (TTHC_ONTIME_RATE, one decimal).
    assert (province.value, province.previous, province.unit, province.status) == (88.9, 82.8, "%", "good")
    assert (commune.value, commune.previous) == (96.0, 82.8)
    assert dashboard.trend_of(province)[0] == "up"
    # Six finished months, May to October, whatever the range: a monthly figure needs months to show a trend.
    assert plot.times is not None
    assert [t.month for t in plot.times] == [5, 6, 7, 8, 9, 10]
    assert short.times == plot.times
    lines = {line.label: line.values for line in plot.lines}
    assert lines["On-time resolution rate"] == [None, None, None, None, 82.8, 88.9]
    assert lines["Online intake rate"] == [None, None, None, None, 60.0, 60.0]
