"""The HTTP API as citizens, operators, agencies, leaders and administrators use it."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select

from ioc.core.models import AuditEntry
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules.citizen_report.models import Photo, Report

from .conftest import (
    COMMUNE_AGENCY,
    FAR_IN_OTHER_COMMUNE,
    INSIDE,
    NEAR,
    OUTSIDE,
    ROAD_AGENCY,
    TAN_NINH,
    Categories,
    agency_id,
    jpeg_bytes,
)

API = "/api/v1/citizen-reports"
LoginAs = Callable[..., Awaitable[httpx.AsyncClient]]
REPORTER = {"reporter_name": "Phạm Thị Sáu", "reporter_phone": "0912 000 111", "reporter_email": "sau@example.vn"}


def waste(point: tuple[float, float] = INSIDE, **extra: Any) -> dict[str, Any]:
    """A valid JSON submission in the waste category."""
    return {
        "category_code": "rac-thai",
        "description": "Bãi rác tự phát trên vỉa hè trước chợ, bốc mùi.",
        "lat": point[0],
        "lon": point[1],
        "address": "Đường 30/4, trước chợ",
        "attributes": {"volume": "large"},
        **extra,
    }


def media_files(root: Path) -> list[Path]:
    """Every stored photo file."""
    folder = root / "media" / "citizen_report"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


async def count_reports(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Report)) or 0)


@pytest.fixture
async def operator(login_as: LoginAs, categories: Categories) -> httpx.AsyncClient:
    """A logged-in hotline operator (not rate-limited)."""
    return await login_as(Role.HOTLINE_OPERATOR)


@pytest.fixture
async def commune_staff(login_as: LoginAs, runtime: Runtime, categories: Categories) -> httpx.AsyncClient:
    """A logged-in officer of the People's Committee of Tân Ninh."""
    return await login_as(Role.AGENCY_STAFF, agency_id=await agency_id(runtime, COMMUNE_AGENCY))


async def submit_and_assign(client: httpx.AsyncClient, operator: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    """Submit anonymously-from-the-web (through the operator's exemption), accept and assign; return the result."""
    created = await operator.post(API, json=waste(**extra))
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    assert (await operator.post(f"{API}/{body['id']}/accept", json={})).status_code == 200
    assert (await operator.post(f"{API}/{body['id']}/assign", json={})).status_code == 200
    return body


class TestPublicIntake:
    async def test_anyone_can_submit_and_track_without_seeing_personal_data(
        self, client: httpx.AsyncClient, categories: Categories
    ) -> None:
        response = await client.post(API, json=waste(**REPORTER))
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["tracking_code"].startswith("PA-")
        assert len(body["rating_token"]) >= 16
        assert body["tracking_url"] == f"/phan-anh/{body['tracking_code']}"
        tracked = await client.get(f"{API}/track/{body['tracking_code']}")
        assert tracked.status_code == 200
        public = tracked.json()
        assert public["status"] == "received"
        assert public["published"] is False
        assert public["description"] is None
        assert public["lat"] is None
        for secret in ("Phạm", "0912", "sau@example.vn", body["rating_token"]):
            assert secret not in tracked.text

    async def test_a_multipart_submission_with_a_photo_offers_its_gps_position(
        self, client: httpx.AsyncClient, categories: Categories, settings: Any
    ) -> None:
        fields = {k: str(v) for k, v in waste().items() if k != "attributes"}
        response = await client.post(
            API,
            data={**fields, "category_code": "o-ga", "anonymous": "on"},
            files=[("photos", ("o-ga.jpg", jpeg_bytes(gps=(11.6151, 105.8624)), "image/jpeg"))],
        )
        assert response.status_code == 201, response.text
        suggestion = response.json()["photo_location"]
        assert suggestion["lat"] == pytest.approx(11.6151, abs=1e-4)
        assert len(media_files(settings.data_dir)) == 2  # the photo and its thumbnail

    async def test_open311_style_form_attributes_are_understood(
        self, client: httpx.AsyncClient, categories: Categories
    ) -> None:
        fields = {k: str(v) for k, v in waste().items() if k != "attributes"}
        response = await client.post(API, data={**fields, "attribute[volume]": "small"})
        assert response.status_code == 201, response.text

    async def test_a_point_outside_the_province_gets_a_clear_422_in_the_callers_language(
        self, client: httpx.AsyncClient, categories: Categories
    ) -> None:
        vietnamese = await client.post(API, json=waste(OUTSIDE))
        english = await client.post(API, json=waste(OUTSIDE), headers={"Accept-Language": "en"})
        assert vietnamese.status_code == english.status_code == 422
        assert vietnamese.json()["error"] == "location_outside_province"
        assert "nằm ngoài địa bàn tỉnh" in vietnamese.json()["message"]
        assert "outside the province" in english.json()["message"]

    async def test_missing_location_and_unknown_category_are_refused(
        self, client: httpx.AsyncClient, runtime: Runtime, categories: Categories
    ) -> None:
        no_place = waste()
        del no_place["lat"], no_place["lon"]
        assert (await client.post(API, json=no_place)).status_code == 422
        unknown = await client.post(API, json=waste(category_code="khong-co"))
        assert unknown.status_code == 422
        assert unknown.json()["error"] == "unknown_category"
        assert (
            await client.post(API, content=b"{not json", headers={"Content-Type": "application/json"})
        ).status_code == 400
        assert await count_reports(runtime) == 0

    async def test_a_fake_photo_is_refused_and_nothing_is_stored(
        self, client: httpx.AsyncClient, runtime: Runtime, categories: Categories, settings: Any
    ) -> None:
        fields = {k: str(v) for k, v in waste().items() if k != "attributes"}
        response = await client.post(
            API,
            data={**fields, "category_code": "o-ga"},
            files=[
                ("photos", ("good.jpg", jpeg_bytes(), "image/jpeg")),
                ("photos", ("fake.jpg", b"I am a text file, not a photo." * 10, "image/jpeg")),
            ],
        )
        assert response.status_code == 422
        assert response.json()["error"] == "photo_rejected"
        assert "fake.jpg" in response.json()["message"]
        assert await count_reports(runtime) == 0
        assert media_files(settings.data_dir) == []

    async def test_too_many_reports_from_one_address_are_refused_with_429(
        self, client: httpx.AsyncClient, operator: httpx.AsyncClient
    ) -> None:
        for _ in range(5):
            assert (await client.post(API, json=waste())).status_code == 201
        refused = await client.post(API, json=waste())
        assert refused.status_code == 429
        assert refused.json()["error"] == "too_many_reports"
        assert "1022" in refused.json()["message"]
        assert int(refused.headers["Retry-After"]) > 0
        english = await client.post(API, json=waste(), headers={"Accept-Language": "en"})
        assert "Please try again" in english.json()["message"]
        assert (await operator.post(API, json=waste())).status_code == 201  # the hotline is not limited


class TestPhotosVisibility:
    async def test_photos_are_public_only_after_acceptance(
        self, client: httpx.AsyncClient, operator: httpx.AsyncClient, categories: Categories
    ) -> None:
        fields = {k: str(v) for k, v in waste().items() if k != "attributes"}
        created = (
            await client.post(
                API,
                data={**fields, "category_code": "o-ga"},
                files=[("photos", ("o-ga.jpg", jpeg_bytes(gps=(11.6, 105.8)), "image/jpeg"))],
            )
        ).json()
        detail = (await operator.get(f"{API}/{created['id']}")).json()
        (photo,) = detail["photos"]
        assert (await client.get(photo["url"])).status_code == 404
        assert (await client.get(photo["thumb_url"])).status_code == 404
        assert (await operator.get(photo["url"])).status_code == 200
        await operator.post(f"{API}/{created['id']}/accept", json={})
        full = await client.get(photo["url"])
        assert full.status_code == 200
        assert full.headers["content-type"] == "image/jpeg"
        assert dict(Image.open(io.BytesIO(full.content)).getexif()) == {}
        thumb = Image.open(io.BytesIO((await client.get(photo["thumb_url"])).content))
        assert max(thumb.size) == 320
        assert (await client.get(f"{API}/photos/999999")).status_code == 404

    async def test_the_photo_location_endpoint_reads_gps_without_storing(
        self, client: httpx.AsyncClient, categories: Categories, settings: Any
    ) -> None:
        found = await client.post(
            f"{API}/photo-location", files={"photo": ("p.jpg", jpeg_bytes(gps=(11.3, 106.1)), "image/jpeg")}
        )
        assert found.status_code == 200
        assert found.json()["lon"] == pytest.approx(106.1, abs=1e-4)
        none = await client.post(f"{API}/photo-location", files={"photo": ("p.jpg", jpeg_bytes(), "image/jpeg")})
        assert none.status_code == 200
        assert none.json() is None
        assert media_files(settings.data_dir) == []


class TestPermissions:
    async def test_staff_endpoints_need_login_and_the_right_role(
        self, client: httpx.AsyncClient, login_as: LoginAs, operator: httpx.AsyncClient
    ) -> None:
        created = (await operator.post(API, json=waste())).json()
        assert (await client.get(API)).status_code == 401
        citizen = await login_as(Role.CITIZEN)
        assert (await citizen.get(API)).status_code == 403
        assert (await citizen.post(API, json=waste())).status_code == 201  # citizens submit
        assert (await citizen.post(f"{API}/{created['id']}/accept", json={})).status_code == 403
        leader = await login_as(Role.LEADER)
        assert (await leader.get(API)).status_code == 200
        assert (await leader.post(f"{API}/{created['id']}/accept", json={})).status_code == 403
        staff = await login_as(Role.AGENCY_STAFF)
        assert (await staff.post(f"{API}/{created['id']}/reject", json={"reason": "spam"})).status_code == 403

    async def test_only_the_assigned_agency_acts_and_sees_the_reporter(
        self,
        client: httpx.AsyncClient,
        login_as: LoginAs,
        runtime: Runtime,
        operator: httpx.AsyncClient,
        commune_staff: httpx.AsyncClient,
    ) -> None:
        created = await submit_and_assign(client, operator, **REPORTER)
        report_id = created["id"]
        road_staff = await login_as(Role.AGENCY_STAFF, agency_id=await agency_id(runtime, ROAD_AGENCY))
        refused = await road_staff.post(f"{API}/{report_id}/start", json={})
        assert refused.status_code == 403
        assert refused.json()["error"] == "not_assigned_agency"
        assert (await road_staff.get(f"{API}/{report_id}")).json()["reporter"] is None
        started = await commune_staff.post(f"{API}/{report_id}/start", json={"note": "Đã cử tổ vệ sinh"})
        assert started.status_code == 200
        assert started.json()["status"] == "in_progress"
        assert started.json()["reporter"]["phone"] == "0912 000 111"
        assert (await operator.get(f"{API}/{report_id}")).json()["reporter"]["email"] == "sau@example.vn"
        leader = await login_as(Role.LEADER)
        assert (await leader.get(f"{API}/{report_id}")).json()["reporter"] is None

    async def test_a_wrong_action_order_is_a_409(self, operator: httpx.AsyncClient) -> None:
        created = (await operator.post(API, json=waste())).json()
        response = await operator.post(f"{API}/{created['id']}/assign", json={})
        assert response.status_code == 409
        assert response.json()["error"] == "invalid_transition"
        assert (await operator.post(f"{API}/999999/accept", json={})).status_code == 404


class TestWorkflowOverHttp:
    async def test_resolve_with_a_proof_photo_then_rate_from_the_tracking_code(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        operator: httpx.AsyncClient,
        commune_staff: httpx.AsyncClient,
    ) -> None:
        created = await submit_and_assign(client, operator)
        resolved = await commune_staff.post(
            f"{API}/{created['id']}/resolve",
            data={"result": "Đã thu gom, vệ sinh khu vực."},
            files=[("photos", ("after.jpg", jpeg_bytes(color="#55aa55"), "image/jpeg"))],
        )
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["status"] == "resolved"
        code = created["tracking_code"]
        public = (await client.get(f"{API}/track/{code}")).json()
        assert public["published"] is True
        assert public["can_rate"] is True
        assert public["result_text"] == "Đã thu gom, vệ sinh khu vực."
        assert [p["kind"] for p in public["photos"]] == ["proof"]
        assert public["lat"] == round(INSIDE[0], 4)
        assert [e["action"] for e in public["timeline"]] == ["submitted", "accepted", "assigned", "resolved"]
        assert all(e["actor_name"] is None for e in public["timeline"])
        assert public["timeline"][2]["actor_label"] == "Tổng đài 1022"
        wrong = await client.post(f"{API}/track/{code}/rating", json={"token": "not-the-token", "rating": "satisfied"})
        assert wrong.status_code == 403
        rated = await client.post(
            f"{API}/track/{code}/rating", json={"token": created["rating_token"], "rating": "satisfied"}
        )
        assert rated.status_code == 200
        assert rated.json()["status"] == "closed"

    async def test_every_transition_is_audited_with_personal_data_redacted(
        self, client: httpx.AsyncClient, runtime: Runtime, operator: httpx.AsyncClient
    ) -> None:
        created = await submit_and_assign(client, operator, **REPORTER)
        async with runtime.db.session() as session:
            entries = (
                await session.scalars(
                    select(AuditEntry)
                    .where(
                        AuditEntry.entity_type == "citizen_report_report", AuditEntry.entity_id == str(created["id"])
                    )
                    .order_by(AuditEntry.id)
                )
            ).all()
        assert entries[0].action == "create"
        assert {e.actor_name for e in entries} == {entries[0].actor_name}  # the operator's account
        statuses = [e.after["status"] for e in entries[1:] if e.after and "status" in e.after]
        assert statuses == ["accepted", "assigned"]
        assert entries[0].after is not None
        assert entries[0].after["reporter_phone"] == "***"

    async def test_reject_return_extension_merge_and_link_over_http(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        login_as: LoginAs,
        operator: httpx.AsyncClient,
        commune_staff: httpx.AsyncClient,
    ) -> None:
        spam = (await operator.post(API, json=waste())).json()
        rejected = await operator.post(f"{API}/{spam['id']}/reject", json={"reason": "spam", "note": "Quảng cáo"})
        assert rejected.json()["status"] == "rejected"
        assert (await operator.post(f"{API}/{spam['id']}/reject", json={"reason": "nonsense"})).status_code == 422
        first = await submit_and_assign(client, operator)
        asked = await commune_staff.post(
            f"{API}/{first['id']}/extension", json={"days": 2, "reason": "Chờ xe chuyên dụng"}
        )
        assert asked.json()["extension_pending"] is True
        head = await login_as(Role.AGENCY_HEAD, agency_id=await agency_id(runtime, COMMUNE_AGENCY))
        approved = await head.post(f"{API}/{first['id']}/extension/approve", json={"days": 1})
        assert approved.status_code == 200
        assert approved.json()["extension_count"] == 1
        returned = await commune_staff.post(f"{API}/{first['id']}/return", json={"reason": "Thuộc Sở Xây dựng."})
        assert returned.json()["status"] == "returned"
        second = (await operator.post(API, json=waste(NEAR))).json()
        merged = await operator.post(f"{API}/{second['id']}/merge", json={"into_report_id": first["id"]})
        assert merged.json()["status"] == "merged"
        third = (await operator.post(API, json=waste(FAR_IN_OTHER_COMMUNE))).json()
        linked = await operator.post(f"{API}/{third['id']}/link", json={"other_report_id": first["id"]})
        assert linked.json()["linked_report_ids"] == [first["id"]]
        duplicates = await operator.get(f"{API}/{first['id']}/duplicates")
        assert duplicates.status_code == 200


class TestInboxAndExports:
    async def _three(self, client: httpx.AsyncClient, operator: httpx.AsyncClient) -> list[dict[str, Any]]:
        one = await submit_and_assign(client, operator, **REPORTER)
        two = (await operator.post(API, json=waste(FAR_IN_OTHER_COMMUNE))).json()
        three = (await operator.post(API, json=waste(category_code="o-ga", source="hotline", attributes={}))).json()
        return [one, two, three]

    async def test_the_inbox_filters_and_pages(self, client: httpx.AsyncClient, operator: httpx.AsyncClient) -> None:
        one, two, three = await self._three(client, operator)
        everything = (await operator.get(API)).json()
        assert everything["total"] == 3
        assert [i["id"] for i in everything["items"]] == [three["id"], two["id"], one["id"]]
        assert (await operator.get(API, params={"status": "received"})).json()["total"] == 2
        assert (await operator.get(API, params={"status": "assigned,received"})).json()["total"] == 3
        assert (await operator.get(API, params={"category": "o-ga"})).json()["total"] == 1
        assert (await operator.get(API, params={"unit": TAN_NINH})).json()["total"] == 2
        assert (await operator.get(API, params={"agency": COMMUNE_AGENCY})).json()["total"] == 1
        assert (await operator.get(API, params={"source": "hotline"})).json()["total"] == 1
        assert (await operator.get(API, params={"overdue": "true"})).json()["total"] == 0
        assert (await operator.get(API, params={"q": two["tracking_code"][-6:]})).json()["total"] == 1
        page = (await operator.get(API, params={"limit": 2, "offset": 2})).json()
        assert [i["id"] for i in page["items"]] == [one["id"]]
        bad = await operator.get(API, params={"status": "lost"})
        assert bad.status_code == 422

    async def test_csv_and_excel_exports_honour_the_filters_and_hold_no_personal_data(
        self, client: httpx.AsyncClient, operator: httpx.AsyncClient
    ) -> None:
        one, _two, _three = await self._three(client, operator)
        exported = await operator.get(f"{API}/export.csv", params={"unit": TAN_NINH})
        assert exported.status_code == 200
        assert exported.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert rows[0][0] == "Mã theo dõi"
        assert len(rows) == 3
        assert "Phạm" not in exported.text
        assert "0912" not in exported.text
        english = await operator.get(f"{API}/export.csv", params={"lang": "en", "status": "assigned"})
        english_rows = list(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
        assert english_rows[0][0] == "Tracking code"
        assert [r[0] for r in english_rows[1:]] == [one["tracking_code"]]
        workbook = await operator.get(f"{API}/export.xlsx", params={"category": "rac-thai"})
        assert workbook.status_code == 200
        sheet = load_workbook(io.BytesIO(workbook.content)).active
        assert sheet is not None
        values = list(sheet.values)
        assert values[0][0] == "Mã theo dõi"
        assert len(values) == 3
        assert values[1][6] is not None
        assert values[1][6].year >= 2026

    async def test_kpis_need_a_staff_login(
        self, client: httpx.AsyncClient, operator: httpx.AsyncClient, categories: Categories
    ) -> None:
        await operator.post(API, json=waste())
        assert (await client.get(f"{API}/kpis")).status_code == 401
        kpis = (await operator.get(f"{API}/kpis")).json()
        assert kpis["received"] == 1
        assert kpis["overdue"] == 0
        assert kpis["on_time_rate"] is None


class TestTransparency:
    async def test_the_map_layer_and_public_list_show_accepted_reports_only_rounded(
        self, client: httpx.AsyncClient, operator: httpx.AsyncClient
    ) -> None:
        accepted = await submit_and_assign(client, operator, **REPORTER)
        await operator.post(API, json=waste(FAR_IN_OTHER_COMMUNE))
        layer = await client.get(f"{API}.geojson")
        assert layer.status_code == 200
        assert layer.headers["content-type"].startswith("application/geo+json")
        (feature,) = layer.json()["features"]
        assert feature["id"] == accepted["tracking_code"]
        lon, lat = feature["geometry"]["coordinates"]
        assert (lat, lon) == (round(INSIDE[0], 4), round(INSIDE[1], 4))
        for secret in ("Phạm", "0912", "sau@example.vn", "Bãi rác"):
            assert secret not in layer.text
        public = (await client.get(f"{API}/public")).json()
        assert [i["tracking_code"] for i in public["items"]] == [accepted["tracking_code"]]
        assert "Phạm" not in str(public)

    async def test_statistics_per_agency_category_and_commune(
        self, client: httpx.AsyncClient, operator: httpx.AsyncClient, commune_staff: httpx.AsyncClient
    ) -> None:
        done = await submit_and_assign(client, operator)
        await commune_staff.post(f"{API}/{done['id']}/resolve", json={"result": "Đã thu gom xong."})
        await client.post(
            f"{API}/track/{done['tracking_code']}/rating", json={"token": done["rating_token"], "rating": "satisfied"}
        )
        await submit_and_assign(client, operator)
        await operator.post(API, json=waste())  # not accepted: not counted
        stats = (await client.get(f"{API}/stats")).json()
        assert stats["total"]["received"] == 2
        assert stats["total"]["resolved"] == 1
        assert stats["total"]["on_time_rate"] == 1.0
        assert stats["total"]["satisfaction_rate"] == 1.0
        assert stats["total"]["median_hours_to_resolve"] is not None
        (agency,) = stats["by_agency"]
        assert agency["key"] == COMMUNE_AGENCY
        assert agency["name"] == "UBND phường Tân Ninh"
        (unit,) = stats["by_unit"]
        assert unit["name"] == "Phường Tân Ninh"
        assert unit["open"] == 1
        assert stats["by_category"][0]["name"] == "Rác thải, vệ sinh môi trường"
        kpis = (await operator.get(f"{API}/kpis")).json()
        assert kpis["received"] == 3
        assert kpis["resolved_30d"] == 1
        assert kpis["on_time_rate"] == 1.0
        assert (
            await client.get(f"{API}/stats", params={"date_from": "2026-12-01", "date_to": "2026-01-01"})
        ).status_code == 422

    async def test_nearby_suggestions_for_the_form(
        self, client: httpx.AsyncClient, operator: httpx.AsyncClient
    ) -> None:
        first = await submit_and_assign(client, operator)
        near = await client.get(f"{API}/nearby", params={"category": "rac-thai", "lat": NEAR[0], "lon": NEAR[1]})
        assert [c["tracking_code"] for c in near.json()] == [first["tracking_code"]]
        assert near.json()[0]["id"] is None
        assert (await client.get(f"{API}/nearby", params={"category": "x", "lat": 11, "lon": 106})).status_code == 422


class TestCategoryAdministration:
    async def test_administrators_manage_categories_others_only_read(
        self, client: httpx.AsyncClient, login_as: LoginAs, operator: httpx.AsyncClient
    ) -> None:
        listed = (await client.get("/api/v1/citizen-report-categories")).json()
        assert sorted(c["code"] for c in listed) == ["o-ga", "rac-thai"]
        body = {
            "code": "den-duong",
            "name": "Đèn chiếu sáng hỏng",
            "name_en": "Broken street light",
            "default_agency_code": ROAD_AGENCY,
            "attributes": [{"code": "pole", "datatype": "string", "required": False, "order": 1}],
        }
        assert (await operator.post("/api/v1/citizen-report-categories", json=body)).status_code == 403
        admin = await login_as(Role.ADMIN)
        created = await admin.post("/api/v1/citizen-report-categories", json=body)
        assert created.status_code == 201, created.text
        assert (await admin.post("/api/v1/citizen-report-categories", json=body)).status_code == 409
        update = {k: v for k, v in body.items() if k != "code"} | {"active": False, "resolve_days": 2}
        changed = await admin.put("/api/v1/citizen-report-categories/den-duong", json=update)
        assert changed.json()["resolve_days"] == 2
        assert changed.json()["active"] is False
        assert "den-duong" not in [c["code"] for c in (await client.get("/api/v1/citizen-report-categories")).json()]
        with_inactive = await admin.get("/api/v1/citizen-report-categories", params={"include_inactive": "true"})
        assert "den-duong" in [c["code"] for c in with_inactive.json()]
        assert (await client.get("/api/v1/citizen-report-categories/den-duong")).json()["name"] == "Đèn chiếu sáng hỏng"
        assert (await admin.delete("/api/v1/citizen-report-categories/den-duong")).status_code == 204
        assert (await client.get("/api/v1/citizen-report-categories/den-duong")).status_code == 404
        await operator.post(API, json=waste())
        assert (await admin.delete("/api/v1/citizen-report-categories/rac-thai")).status_code == 409

    async def test_a_bad_category_gets_422(self, login_as: LoginAs, categories: Categories) -> None:
        admin = await login_as(Role.ADMIN)
        bad = await admin.post(
            "/api/v1/citizen-report-categories",
            json={"code": "x", "name": "X", "default_agency_code": "80-KHONG-CO"},
        )
        assert bad.status_code == 422
        assert bad.json()["error"] == "unknown_agency"
        worse = await admin.post("/api/v1/citizen-report-categories", json={"code": "Bad Code", "name": "X"})
        assert worse.status_code == 422


async def test_submitting_photos_on_disk_match_the_database(
    client: httpx.AsyncClient, runtime: Runtime, categories: Categories, settings: Any
) -> None:
    fields = {k: str(v) for k, v in waste().items() if k != "attributes"}
    await client.post(
        API,
        data={**fields, "category_code": "o-ga"},
        files=[("photos", (f"{i}.jpg", jpeg_bytes(color=c), "image/jpeg")) for i, c in enumerate(("red", "blue"))],
    )
    async with runtime.db.session() as session:
        photos = (await session.scalars(select(Photo))).all()
    stored = {
        p.relative_to(settings.data_dir / "media" / "citizen_report").as_posix() for p in media_files(settings.data_dir)
    }
    assert stored == {name for p in photos for name in (p.file_name, p.thumb_name)}


async def test_the_openapi_document_describes_json_and_multipart_bodies_without_dangling_references(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    components = set(document["components"]["schemas"])
    referenced = set(re.findall(r"#/components/schemas/([^\"]+)", json.dumps(document)))
    assert referenced <= components
    submit = document["paths"][API]["post"]["requestBody"]["content"]
    assert set(submit) == {"application/json", "multipart/form-data"}
    assert "category_code" in submit["application/json"]["schema"]["properties"]
