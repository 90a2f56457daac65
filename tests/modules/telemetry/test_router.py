"""The HTTP side: devices posting with their token, provisioning, series and exports, dead letters, pages."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import httpx
import pytest
from openpyxl import load_workbook

from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.time import to_local, utc_now

from ...conftest import LoginFactory
from .conftest import DeviceFactory
from .test_ingest import ms
from .test_service import rollup

INGEST = "/api/v1/telemetry"
TOKEN_HEADER = "X-Device-Token"


class TestDevicePosts:
    async def test_a_device_posts_a_batch_with_its_token(
        self, client: httpx.AsyncClient, make_device: DeviceFactory
    ) -> None:
        created = await make_device("KK-01")
        moment = utc_now() - timedelta(minutes=5)
        response = await client.post(
            INGEST,
            headers={TOKEN_HEADER: created.token},
            json=[{"ts": moment.isoformat(), "values": {"pm25": 41.5, "temp": 31}}, {"values": {"rh": 70}}],
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["accepted"], body["rejected"], body["rejections"]) == (3, 0, [])

    async def test_rejected_readings_are_listed_with_their_reasons(
        self, client: httpx.AsyncClient, make_device: DeviceFactory
    ) -> None:
        created = await make_device("KK-01")
        response = await client.post(
            INGEST, headers={TOKEN_HEADER: created.token}, json={"values": {"pm25": 12, "rh": 150, "noise": 3}}
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["accepted"], body["rejected"]) == (1, 2)
        assert {(r["key"], r["reason"]) for r in body["rejections"]} == {
            ("rh", "out_of_range"),
            ("noise", "unknown_key"),
        }
        assert all(r["message_vi"] and r["message_en"] for r in body["rejections"])
        assert len(body["dead_letter_ids"]) == 2

    async def test_nothing_accepted_answers_422_and_keeps_the_payload(
        self, client: httpx.AsyncClient, make_device: DeviceFactory, login_as: LoginFactory
    ) -> None:
        created = await make_device("KK-01")
        response = await client.post(
            INGEST, headers={TOKEN_HEADER: created.token, "Content-Type": "application/json"}, content=b"{oops"
        )
        assert response.status_code == 422
        body = response.json()
        assert body["rejections"][0]["reason"] == "malformed_payload"
        staff = await login_as(Role.AGENCY_STAFF)
        letter = (await staff.get(f"/api/v1/telemetry/dead-letters/{body['dead_letter_ids'][0]}")).json()
        assert (letter["payload"], letter["source"], letter["device_code"]) == ("{oops", "http", "KK-01")

    async def test_senml_over_http(self, client: httpx.AsyncClient, make_device: DeviceFactory) -> None:
        created = await make_device("KK-01")
        pack = [{"bn": "KK-01/", "bt": utc_now().timestamp() - 60, "n": "pm25", "v": 20}, {"n": "temp", "v": 30}]
        response = await client.post(
            INGEST,
            headers={TOKEN_HEADER: created.token, "Content-Type": "application/senml+json"},
            content=json.dumps(pack),
        )
        assert response.json()["accepted"] == 2

    @pytest.mark.parametrize("token", [None, "", "dev_wrong", "ioc_looks_like_an_api_key"])
    async def test_missing_or_wrong_tokens_are_refused(
        self, client: httpx.AsyncClient, make_device: DeviceFactory, token: str | None
    ) -> None:
        await make_device("KK-01")
        headers = {TOKEN_HEADER: token} if token is not None else {}
        response = await client.post(INGEST, headers=headers, json={"values": {"pm25": 1}})
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_device_token"

    async def test_the_token_is_not_an_authorization_bearer(
        self, client: httpx.AsyncClient, make_device: DeviceFactory
    ) -> None:
        created = await make_device("KK-01")
        response = await client.post(
            INGEST, headers={"Authorization": f"Bearer {created.token}"}, json={"values": {"pm25": 1}}
        )
        assert response.status_code == 401  # Bearer carries user API keys; devices use X-Device-Token

    async def test_a_rotated_token_replaces_the_old_one_and_a_disabled_device_is_refused(
        self, client: httpx.AsyncClient, make_device: DeviceFactory, login_as: LoginFactory
    ) -> None:
        created = await make_device("KK-01")
        admin = await login_as(Role.ADMIN)
        rotated = await admin.post("/api/v1/telemetry/devices/KK-01/token")
        assert rotated.status_code == 200
        new_token = rotated.json()["token"]
        assert new_token.startswith("dev_")
        assert (
            await client.post(INGEST, headers={TOKEN_HEADER: created.token}, json={"values": {}})
        ).status_code == 401
        assert (await client.post(INGEST, headers={TOKEN_HEADER: new_token}, json={"values": {}})).status_code == 200
        await admin.patch("/api/v1/telemetry/devices/KK-01", json={"is_active": False})
        assert (await client.post(INGEST, headers={TOKEN_HEADER: new_token}, json={"values": {}})).status_code == 401


class TestProvisioning:
    async def test_an_administrator_registers_a_device_and_sees_its_token_once(
        self, login_as: LoginFactory, runtime: Runtime
    ) -> None:
        admin = await login_as(Role.ADMIN)
        response = await admin.post(
            "/api/v1/telemetry/devices",
            json={
                "code": "NM-01",
                "name": "Trạm nước thử",
                "datastreams": [{"key": "ph", "observed_property": "pH", "valid_min": 0, "valid_max": 14}],
            },
        )
        assert response.status_code == 201, response.text
        assert response.json()["token"].startswith("dev_")
        read = (await admin.get("/api/v1/telemetry/devices/NM-01")).json()
        assert "token" not in json.dumps(read)
        assert read["status"] == "never_seen"
        again = await admin.post("/api/v1/telemetry/devices", json={"code": "NM-01", "name": "x"})
        assert again.status_code == 409

    async def test_staff_read_but_cannot_provision(self, login_as: LoginFactory, make_device: DeviceFactory) -> None:
        await make_device("KK-01")
        staff = await login_as(Role.AGENCY_STAFF)
        assert (await staff.get("/api/v1/telemetry/devices")).json()["total"] == 1
        refused = await staff.post("/api/v1/telemetry/devices", json={"code": "X-1", "name": "x"})
        assert refused.status_code == 403
        citizen = await login_as(Role.CITIZEN)
        assert (await citizen.get("/api/v1/telemetry/devices")).status_code == 403

    CSV = (
        "device_code,name,lat,lon,datastream_key,observed_property,unit,unit_symbol,valid_min,valid_max,retention_days\n"
        "KK-10,Trạm A,11.31,106.10,pm25,PM2.5,microgram per cubic metre,µg/m³,0,1000,365\n"
        "KK-10,Trạm A,11.31,106.10,temp,Air temperature,degree Celsius,°C,-10,60,\n"
        "NM-10,Trạm B,,,ph,pH,pH unit,pH,0,14,730\n"
    )

    async def test_csv_provisioning_creates_devices_and_issues_tokens(self, login_as: LoginFactory) -> None:
        admin = await login_as(Role.ADMIN)
        response = await admin.post(
            "/api/v1/telemetry/devices/import", files={"file": ("devices.csv", self.CSV.encode(), "text/csv")}
        )
        assert response.status_code == 200, response.text
        report = response.json()
        assert sorted(t["device_code"] for t in report["created"]) == ["KK-10", "NM-10"]
        assert report["datastreams_created"] == 3
        device = (await admin.get("/api/v1/telemetry/devices/KK-10")).json()
        streams = {s["key"]: s for s in device["datastreams"]}
        assert (streams["pm25"]["retention_days"], streams["temp"]["valid_min"]) == (365, -10.0)
        # Imported again: the same devices are updated, no new tokens.
        again = (
            await admin.post(
                "/api/v1/telemetry/devices/import", files={"file": ("devices.csv", self.CSV.encode(), "text/csv")}
            )
        ).json()
        assert (again["created"], sorted(again["updated"]), again["datastreams_updated"]) == ([], ["KK-10", "NM-10"], 3)

    async def test_a_faulty_csv_writes_nothing_and_lists_every_row_at_fault(self, login_as: LoginFactory) -> None:
        admin = await login_as(Role.ADMIN)
        bad = (
            "device_code,name,lat,lon,datastream_key,observed_property,unit,unit_symbol,valid_min,valid_max,retention_days\n"
            "KK-20,Trạm C,11.3,106.1,pm25,PM2.5,,µg/m³,0,1000,\n"
            "KK/21,Trạm D,91,106.1,pm25,PM2.5,,,50,10,0\n"
            "KK-20,Trạm C,11.3,106.1,pm25,PM2.5,,,,,\n"
        )
        response = await admin.post(
            "/api/v1/telemetry/devices/import", files={"file": ("devices.csv", bad.encode(), "text/csv")}
        )
        assert response.status_code == 422
        errors = response.json()["detail"]["errors"]
        assert {(e["row"], e["column"]) for e in errors} == {
            (3, "device_code"),
            (3, "lat"),
            (3, "valid_min"),
            (3, "retention_days"),
            (4, "datastream_key"),
        }
        assert (await admin.get("/api/v1/telemetry/devices")).json()["total"] == 0


class TestSeriesAndExports:
    async def test_observations_and_exports_in_local_time(
        self, runtime: Runtime, client: httpx.AsyncClient, login_as: LoginFactory, make_device: DeviceFactory
    ) -> None:
        created = await make_device("KK-01")
        stream = next(s.id for s in created.device.datastreams if s.key == "pm25")
        start = (utc_now() - timedelta(hours=6)).replace(minute=0, second=0, microsecond=0)
        body = [{"ts": ms(start + timedelta(minutes=30 * i)), "values": {"pm25": 10 + i}} for i in range(6)]
        await client.post(INGEST, headers={TOKEN_HEADER: created.token}, json=body)
        await rollup(runtime)
        staff = await login_as(Role.AGENCY_STAFF)
        raw = (await staff.get(f"/api/v1/telemetry/datastreams/{stream}/observations")).json()
        assert raw["resolution"] == "raw"
        assert [p["value"] for p in raw["points"]] == [10, 11, 12, 13, 14, 15]
        assert {"from", "to"} <= set(raw)
        hourly = (await staff.get(f"/api/v1/telemetry/datastreams/{stream}/observations", params={"days": 30})).json()
        assert hourly["resolution"] == "hour"
        assert [p["count"] for p in hourly["points"]] == [2, 2, 2]

        exported = await staff.get(f"/api/v1/telemetry/datastreams/{stream}/export", params={"format": "csv"})
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        assert "attachment" in exported.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert rows[0][0].startswith("Thời gian (giờ Việt Nam)")
        assert rows[1] == [to_local(start).strftime("%Y-%m-%d %H:%M:%S"), "10.0"]

        workbook = await staff.get(
            f"/api/v1/telemetry/datastreams/{stream}/export", params={"format": "xlsx", "resolution": "hour", "days": 2}
        )
        sheet = load_workbook(io.BytesIO(workbook.content)).active
        assert sheet is not None
        assert sheet.cell(1, 2).value == "Số giá trị / Count"
        assert sheet.cell(2, 1).value == to_local(start).replace(tzinfo=None)
        assert sheet.cell(2, 2).value == 2

    async def test_a_reversed_period_is_a_clear_error(self, login_as: LoginFactory, make_device: DeviceFactory) -> None:
        created = await make_device("KK-01")
        staff = await login_as(Role.AGENCY_STAFF)
        stream = created.device.datastreams[0].id
        response = await staff.get(
            f"/api/v1/telemetry/datastreams/{stream}/observations",
            params={"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
        )
        assert response.status_code == 422
        assert response.json()["error"] == "telemetry_invalid_period"
        assert (await staff.get("/api/v1/telemetry/datastreams/999999/observations")).status_code == 404


class TestPages:
    async def test_device_list_shows_status_badges_and_latest_values(
        self, client: httpx.AsyncClient, login_as: LoginFactory, make_device: DeviceFactory
    ) -> None:
        online = await make_device("KK-01")
        await make_device("KK-02")
        await client.post(INGEST, headers={TOKEN_HEADER: online.token}, json={"values": {"pm25": 42.5}})
        staff = await login_as(Role.AGENCY_STAFF)
        page = await staff.get("/telemetry/devices")
        assert page.status_code == 200
        html = page.text
        assert "<h1>Thiết bị quan trắc</h1>" in html
        assert 'data-status="online"' in html
        assert 'data-status="never_seen"' in html
        assert "42,50 µg/m³" in html  # Vietnamese decimal comma
        english = await staff.get("/telemetry/devices", params={"lang": "en", "status": "online"})
        assert "<h1>Sensor devices</h1>" in english.text
        assert "KK-01" in english.text
        assert "KK-02" not in english.text

    async def test_device_page_lists_datastreams_with_export_links(
        self, login_as: LoginFactory, make_device: DeviceFactory
    ) -> None:
        await make_device("KK-01")
        staff = await login_as(Role.AGENCY_STAFF)
        page = await staff.get("/telemetry/devices/KK-01")
        assert page.status_code == 200
        assert "ioc/telemetry/KK-01" in page.text
        assert "format=xlsx" in page.text
        assert (await staff.get("/telemetry/devices/KHONG-CO")).status_code == 404
        assert '<link rel="stylesheet" href="/static/telemetry/telemetry.css">' in page.text
        assert (await staff.get("/static/telemetry/telemetry.css")).status_code == 200

    async def test_dead_letter_page_shows_reason_and_raw_payload(
        self, client: httpx.AsyncClient, login_as: LoginFactory, make_device: DeviceFactory
    ) -> None:
        created = await make_device("KK-01")
        await client.post(INGEST, headers={TOKEN_HEADER: created.token}, content=b"<b>not json</b>")
        staff = await login_as(Role.AGENCY_STAFF)
        page = await staff.get("/telemetry/dead-letters", params={"reason": "malformed_payload"})
        assert page.status_code == 200
        assert 'data-reason="malformed_payload"' in page.text
        assert "&lt;b&gt;not json&lt;/b&gt;" in page.text  # shown, escaped
        assert "Sai định dạng" in page.text

    async def test_pages_need_login_and_the_scope(self, client: httpx.AsyncClient, login_as: LoginFactory) -> None:
        anonymous = await client.get("/telemetry/devices", headers={"Accept": "text/html"})
        assert anonymous.status_code in (302, 303, 307)
        citizen = await login_as(Role.CITIZEN)
        assert (await citizen.get("/telemetry/dead-letters")).status_code == 403

    async def test_navigation_offers_the_pages_to_staff(self, login_as: LoginFactory) -> None:
        staff = await login_as(Role.AGENCY_STAFF)
        home = (await staff.get("/")).text
        assert 'href="/telemetry/devices"' in home
        assert 'href="/telemetry/dead-letters"' in home


async def test_metrics_expose_the_telemetry_counters(client: httpx.AsyncClient, make_device: DeviceFactory) -> None:
    created = await make_device("KK-01")
    await client.post(INGEST, headers={TOKEN_HEADER: created.token}, json={"values": {"pm25": 1, "rh": 500}})
    text = (await client.get("/metrics")).text
    assert 'ioc_telemetry_readings_total{source="http"}' in text
    assert 'ioc_telemetry_dead_letters_total{reason="out_of_range"}' in text
