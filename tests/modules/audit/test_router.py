"""The audit log as administrators, staff and anonymous callers meet it: API and page."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ioc.core.models import CalendarDay
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role

LoginAs = Any


def _keys(body: dict[str, Any], trail: dict[str, int]) -> list[str]:
    by_id = {entry_id: key for key, entry_id in trail.items()}
    return [by_id[item["id"]] for item in body["items"] if item["id"] in by_id]


async def _list(http: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await http.get("/api/v1/audit", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestApi:
    async def test_admin_lists_entries_newest_first(self, login_as: LoginAs, trail: dict[str, int]) -> None:
        admin = await login_as(Role.ADMIN)
        body = await _list(admin, entity_type="calendar_day")
        assert _keys(body, trail) == ["makeup_day_deleted", "holiday_renamed", "holiday_created"]
        assert body["total"] == 3
        first = body["items"][0]
        assert first["before"] == {"day": "2025-09-06", "kind": "working_day", "name": "Làm bù"}
        assert first["after"] is None
        assert first["occurred_at"].startswith("2025-07-01T17:30:00")

    async def test_filter_by_actor_name_or_user_id(self, login_as: LoginAs, trail: dict[str, int]) -> None:
        admin = await login_as(Role.ADMIN)
        by_name = await _list(admin, actor="NguyenVanA")
        assert _keys(by_name, trail) == ["holiday_renamed", "holiday_created"]
        by_id = await _list(admin, actor="12")
        assert _keys(by_id, trail) == ["agency_synced"]
        assert by_id["total"] == 1
        nobody = await _list(admin, actor="99999999999999999999")
        assert nobody["total"] == 0

    async def test_filter_by_entity_and_action(self, login_as: LoginAs, trail: dict[str, int]) -> None:
        admin = await login_as(Role.ADMIN)
        one_day = await _list(admin, entity_type="calendar_day", entity_id="2025-09-02")
        assert _keys(one_day, trail) == ["holiday_renamed", "holiday_created"]
        updates = await _list(admin, action="update")
        assert _keys(updates, trail) == ["agency_synced", "holiday_renamed"]
        deletes = await _list(admin, action="delete", entity_type="org_unit_agency")
        assert deletes["total"] == 0

    async def test_period_reads_times_without_offset_as_vietnam_time(
        self, login_as: LoginAs, trail: dict[str, int]
    ) -> None:
        admin = await login_as(Role.ADMIN)
        # 08:00-10:00 Vietnam time on 01/07 holds the entry of 08:30, not the one of 10:00 (the end is exclusive).
        morning = await _list(admin, **{"from": "2025-07-01T08:00:00", "to": "2025-07-01T10:00:00"})
        assert _keys(morning, trail) == ["holiday_created"]
        # The same hours written in UTC.
        in_utc = await _list(admin, **{"from": "2025-07-01T01:00:00Z", "to": "2025-07-01T03:00:01Z"})
        assert _keys(in_utc, trail) == ["holiday_renamed", "holiday_created"]
        second_of_july = await _list(admin, **{"from": "2025-07-02T00:00:00+07:00"})
        assert _keys(second_of_july, trail) == ["agency_synced", "makeup_day_deleted"]

    async def test_period_ending_before_it_starts_is_refused(self, login_as: LoginAs, trail: dict[str, int]) -> None:
        admin = await login_as(Role.ADMIN)
        response = await admin.get("/api/v1/audit", params={"from": "2025-07-02T00:00:00", "to": "2025-07-01T00:00:00"})
        assert response.status_code == 422
        assert response.json()["error"] == "invalid_period"
        malformed = await admin.get("/api/v1/audit", params={"from": "hôm qua"})
        assert malformed.status_code == 422

    async def test_paging(self, login_as: LoginAs, trail: dict[str, int]) -> None:
        admin = await login_as(Role.ADMIN)
        second = await _list(admin, entity_type="calendar_day", limit=1, offset=1)
        assert _keys(second, trail) == ["holiday_renamed"]
        assert (second["total"], second["limit"], second["offset"]) == (3, 1, 1)
        too_big = await admin.get("/api/v1/audit", params={"limit": 100_000})
        assert too_big.status_code == 422

    async def test_read_one_entry(self, login_as: LoginAs, trail: dict[str, int]) -> None:
        admin = await login_as(Role.ADMIN)
        response = await admin.get(f"/api/v1/audit/{trail['agency_synced']}")
        assert response.status_code == 200
        entry = response.json()
        assert entry["actor_kind"] == "api_key"
        assert entry["after"] == {"phone": "0276 3822 123", "tags": ["môi trường"]}
        missing = await admin.get("/api/v1/audit/987654", headers={"Accept-Language": "vi"})
        assert missing.status_code == 404
        assert missing.json()["message"] == "Không tìm thấy bản ghi nhật ký số 987654."

    async def test_a_write_for_a_user_shows_up_with_its_changes(self, login_as: LoginAs, runtime: Runtime) -> None:
        officer = Principal(kind=PrincipalKind.USER, id=31, name="lethic", role=Role.AGENCY_STAFF)
        async with runtime.db.transaction() as session:
            session.sync_session.info["actor"] = officer
            session.add(CalendarDay(day=date(2026, 4, 27), kind="holiday", name="Nghỉ bù Giỗ Tổ"))
        admin = await login_as(Role.ADMIN)
        body = await _list(admin, actor="lethic")
        assert [(i["action"], i["entity_type"], i["entity_id"]) for i in body["items"]] == [
            ("create", "calendar_day", "2026-04-27")
        ]
        assert body["items"][0]["after"]["name"] == "Nghỉ bù Giỗ Tổ"

    @pytest.mark.parametrize("role", [Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.LEADER, Role.HOTLINE_OPERATOR])
    async def test_only_administrators_may_read(self, login_as: LoginAs, trail: dict[str, int], role: Role) -> None:
        staff = await login_as(role)
        listing = await staff.get("/api/v1/audit")
        assert listing.status_code == 403
        one = await staff.get(f"/api/v1/audit/{trail['holiday_created']}")
        assert one.status_code == 403

    async def test_anonymous_callers_must_log_in(self, client: httpx.AsyncClient, trail: dict[str, int]) -> None:
        assert (await client.get("/api/v1/audit")).status_code == 401
        assert (await client.get(f"/api/v1/audit/{trail['holiday_created']}")).status_code == 401
        assert (await client.get("/api/v1/audit/not-a-number")).status_code == 401

    async def test_the_log_cannot_be_written_through_the_api(
        self, app: Any, login_as: LoginAs, trail: dict[str, int]
    ) -> None:
        paths = {path: item for path, item in app.openapi()["paths"].items() if path.startswith("/api/v1/audit")}
        assert {path: set(item) for path, item in paths.items()} == {
            "/api/v1/audit": {"get"},
            "/api/v1/audit/{entry_id}": {"get"},
        }
        admin = await login_as(Role.ADMIN)
        entry_url = f"/api/v1/audit/{trail['holiday_created']}"
        assert (await admin.delete(entry_url)).status_code == 405
        assert (await admin.put(entry_url, json={"actor_name": "x"})).status_code == 405
        assert (await admin.post("/api/v1/audit", json={"action": "create"})).status_code == 405
        assert (await admin.get(entry_url)).json()["actor_name"] == "nguyenvana"


BROWSER = {"Accept": "text/html,application/xhtml+xml"}


def _rows(html: str) -> list[str]:
    """Split the page into the log's rows (each with its nested before/after table)."""
    return html.split('data-entry="')[1:]


class TestPage:
    async def test_table_shows_local_time_actor_action_entity_and_diff(
        self, login_as: LoginAs, trail: dict[str, int]
    ) -> None:
        admin = await login_as(Role.ADMIN)
        response = await admin.get("/admin/audit", params={"entity_type": "calendar_day"})
        assert response.status_code == 200
        html = response.text
        assert "Nhật ký thao tác" in html
        for header in ("Thời gian", "Người thực hiện", "Hành động", "Đối tượng"):
            assert header in html
        rows = _rows(html)
        assert len(rows) == 3
        deleted, renamed, created = rows
        # 17:30 UTC on 01/07 is 00:30 on 02/07 in Tây Ninh.
        assert "02/07/2025 00:30" in deleted
        assert "quantri" in deleted
        assert "Xoá" in deleted
        assert "calendar_day #2025-09-06" in deleted
        assert "01/07/2025 10:00" in renamed
        assert "Cập nhật" in renamed
        assert "<details" in renamed
        assert "<del>Quốc khánh</del>" in renamed
        assert "<ins>Quốc khánh 2/9</ins>" in renamed
        assert "01/07/2025 08:30" in created
        assert "Tạo mới" in created
        assert "10.80.1.5" in created

    async def test_page_in_english(self, login_as: LoginAs, trail: dict[str, int]) -> None:
        admin = await login_as(Role.ADMIN)
        response = await admin.get("/admin/audit", params={"action": "update", "lang": "en"})
        assert response.status_code == 200
        assert "Audit log" in response.text
        assert "Updated" in response.text
        assert "Show before/after" in response.text
        assert len(_rows(response.text)) == 2

    async def test_filters_narrow_the_table_by_local_day(self, login_as: LoginAs, trail: dict[str, int]) -> None:
        admin = await login_as(Role.ADMIN)
        # The deletion at 00:30 on 02/07 (Vietnam) is outside "01/07", though it is 01/07 in UTC.
        response = await admin.get("/admin/audit", params={"from": "2025-07-01", "to": "2025-07-01"})
        rows = _rows(response.text)
        assert [("10:00" in r, "08:30" in r) for r in rows] == [(True, False), (False, True)]
        by_actor = await admin.get("/admin/audit", params={"actor": "sokhcn-sync"})
        [row] = _rows(by_actor.text)
        assert "org_unit_agency #15" in row
        assert "khoá API" in row
        assert 'value="sokhcn-sync"' in by_actor.text

    async def test_bad_dates_are_explained_next_to_the_field(self, login_as: LoginAs, trail: dict[str, int]) -> None:
        admin = await login_as(Role.ADMIN)
        response = await admin.get("/admin/audit", params={"from": "01/07/2025"})
        assert response.status_code == 200
        assert "Ngày không hợp lệ: «01/07/2025»" in response.text
        assert _rows(response.text) == []
        backwards = await admin.get("/admin/audit", params={"from": "2025-07-02", "to": "2025-07-01"})
        assert "Thời điểm kết thúc phải sau thời điểm bắt đầu." in backwards.text
        assert _rows(backwards.text) == []

    async def test_pages_of_fifty_keep_the_filters(self, login_as: LoginAs, runtime: Runtime) -> None:
        officer = Principal(kind=PrincipalKind.USER, id=31, name="lethic", role=Role.AGENCY_STAFF)
        async with runtime.db.transaction() as session:
            session.sync_session.info["actor"] = officer
            session.add_all(CalendarDay(day=date(2030, 1, 1 + n), kind="holiday", name=f"Ngày {n}") for n in range(30))
            session.add_all(CalendarDay(day=date(2030, 2, 1 + n), kind="holiday", name=f"Ngày {n}") for n in range(25))
        admin = await login_as(Role.ADMIN)
        first = await admin.get("/admin/audit", params={"actor": "lethic"})
        assert len(_rows(first.text)) == 50
        next_link = re.search(r'rel="next" href="([^"]+)"', first.text)
        assert next_link is not None
        target = urlsplit(next_link.group(1).replace("&amp;", "&"))
        assert parse_qs(target.query) == {"actor": ["lethic"], "offset": ["50"]}
        second = await admin.get(f"{target.path}?{target.query}")
        assert len(_rows(second.text)) == 5
        assert 'rel="prev"' in second.text

    async def test_staff_are_refused(self, login_as: LoginAs, trail: dict[str, int]) -> None:
        staff = await login_as(Role.LEADER)
        response = await staff.get("/admin/audit", headers=BROWSER)
        assert response.status_code == 403
        assert "audit:read" in response.text
        assert "quantri" not in response.text

    async def test_anonymous_browsers_are_sent_to_login(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/admin/audit", params={"actor": "quantri"}, headers=BROWSER)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fadmin%2Faudit%3Factor%3Dquantri"
        assert (await client.get("/admin/audit")).status_code == 401

    async def test_navigation_shows_the_log_to_administrators_only(self, login_as: LoginAs) -> None:
        admin = await login_as(Role.ADMIN)
        assert 'href="/admin/audit"' in (await admin.get("/")).text
        staff = await login_as(Role.AGENCY_STAFF)
        assert 'href="/admin/audit"' not in (await staff.get("/")).text
