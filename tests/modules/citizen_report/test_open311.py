"""Open311 GeoReport v2 at /open311/v2/: a client's whole flow, both formats, the schemas, and the errors."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from ioc.core.live import LiveMessage
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.time import utc_now
from ioc.modules.citizen_report import repository, service
from ioc.modules.citizen_report.open311 import make_token, read_token
from ioc.modules.citizen_report.photos import MediaStore, PhotoUpload
from ioc.modules.citizen_report.public_cache import cache_for
from ioc.modules.citizen_report.schemas import AssignInput, RejectInput, ResolveInput

from .conftest import FAR_IN_OTHER_COMMUNE, INSIDE, OUTSIDE, TAN_NINH, Categories, Submit, jpeg_bytes, principal

BASE = "/open311/v2"
SCHEMAS = Path(__file__).parent / "open311_schemas"


def _validator(name: str) -> Draft7Validator:
    """Return a validator for one of the published schemas, resolving their relative $refs."""
    contents = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMAS.glob("*.json")}
    registry: Registry[Any] = Registry().with_resources(
        (file, Resource.from_contents(body, default_specification=DRAFT7)) for file, body in contents.items()
    )
    return Draft7Validator(contents[name], registry=registry, format_checker=FormatChecker())


VALIDATORS = {name: _validator(name) for name in ("services.json", "service-definition.json", "requests.json")}


def conforms(body: Any, schema: str) -> Any:
    """Fail unless a JSON answer validates against the published schema; return it."""
    errors = sorted(VALIDATORS[schema].iter_errors(body), key=str)
    assert not errors, [e.message for e in errors]
    return body


def xml(response: httpx.Response) -> ElementTree.Element:
    """Parse an XML answer, checking its declaration and content type."""
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ElementTree.fromstring(response.content)  # noqa: S314 - our own output, not untrusted input


def open311_error(response: httpx.Response, status: int) -> str:
    """Check an Open311 JSON error answer and return its description."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list), body
    assert len(body) == 1, body
    assert set(body[0]) == {"code", "description"}
    return str(body[0]["description"])


@pytest.fixture
async def api_key(login_as: Any, categories: Categories) -> str:
    """Return the secret of an API key of a citizen account (a citizen app)."""
    citizen = await login_as(Role.CITIZEN)
    created = await citizen.post("/api/v1/api-keys", json={"name": "Ứng dụng công dân"})
    assert created.status_code == 201, created.text
    return str(created.json()["secret"])


async def publish(runtime: Runtime, report_id: int, *, resolve: bool = False) -> None:
    """Accept and assign a report as the 1022 hotline; resolve it as the agency when asked."""
    operator = principal(runtime, Role.HOTLINE_OPERATOR, name="op")
    async with runtime.db.transaction() as session:
        await service.accept(session, runtime, report_id, operator)
        report = await service.assign(session, runtime, report_id, operator, AssignInput())
        agency_id = report.agency_id
    if resolve:
        agency = principal(runtime, Role.AGENCY_STAFF, agency_id, name="cv")
        async with runtime.db.transaction() as session:
            await service.resolve(
                session,
                runtime,
                report_id,
                agency,
                ResolveInput(result="Đã thu gom toàn bộ rác."),
                uploads=[PhotoUpload("proof.jpg", jpeg_bytes())],
                store=MediaStore.under(runtime.settings.data_dir),
            )


WASTE_FORM = {
    "service_code": "rac-thai",
    "lat": str(INSIDE[0]),
    "long": str(INSIDE[1]),
    "description": "Rác thải đổ trộm bên lề đường, bốc mùi nhiều ngày.",
    "attribute[volume]": "large",
    "email": "nguoidan@example.vn",
    "phone": "0912345678",
    "first_name": "Văn",
    "last_name": "An",
}


async def test_client_flow_services_definition_post_token_and_read(
    client: httpx.AsyncClient, runtime: Runtime, api_key: str
) -> None:
    discovery = (await client.get(f"{BASE}/discovery.json")).json()
    assert discovery["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(discovery["endpoints"][0]["formats"]) == {"application/json", "text/xml"}
    assert xml(await client.get(f"{BASE}/discovery.xml")).find("endpoints/endpoint/url") is not None

    services = conforms((await client.get(f"{BASE}/services.json")).json(), "services.json")
    by_code = {s["service_code"]: s for s in services}
    assert by_code["rac-thai"]["metadata"] is True
    assert by_code["o-ga"]["metadata"] is False
    assert "ảnh" in by_code["o-ga"]["description"]  # the photo requirement is announced
    english = (await client.get(f"{BASE}/services.json", headers={"Accept-Language": "en"})).json()
    assert {s["service_name"] for s in english} >= {"Waste", "Potholes"}
    listed = xml(await client.get(f"{BASE}/services.xml"))
    assert {e.text for e in listed.findall("service/service_code")} == {"o-ga", "rac-thai"}

    definition = conforms((await client.get(f"{BASE}/services/rac-thai.json")).json(), "service-definition.json")
    volume = definition["attributes"][0]
    assert volume["code"] == "volume"
    assert volume["required"] is True
    assert volume["datatype"] == "singlevaluelist"
    assert [v["key"] for v in volume["values"]] == ["small", "large"]
    defined = xml(await client.get(f"{BASE}/services/rac-thai.xml"))
    assert [e.text for e in defined.findall("attributes/attribute/values/value/key")] == ["small", "large"]

    posted = await client.post(f"{BASE}/requests.json", data={**WASTE_FORM, "api_key": api_key, "account_id": "a1"})
    assert posted.status_code == 201, posted.text
    [created] = posted.json()
    assert set(created) == {"token", "service_notice", "account_id"}
    assert created["account_id"] == "a1"
    assert "4 giờ làm việc" in created["service_notice"]  # the category's intake deadline
    exchanged = (await client.get(f"{BASE}/tokens/{created['token']}.json")).json()
    request_id = exchanged[0]["service_request_id"]
    assert request_id.startswith("PA-")
    assert exchanged[0]["token"] == created["token"]
    assert xml(await client.get(f"{BASE}/tokens/{created['token']}.xml")).findtext("request/service_request_id") == (
        request_id
    )

    # Before acceptance: status only, no text, place or personal data.
    [pending] = conforms((await client.get(f"{BASE}/requests/{request_id}.json")).json(), "requests.json")
    assert pending["status"] == "open"
    assert pending["description"] is None
    assert pending["lat"] is None
    assert "nguoidan" not in json.dumps(pending)
    assert "0912345678" not in json.dumps(pending)
    assert (await client.get(f"{BASE}/requests.json")).json() == []  # the public list waits for acceptance

    async with runtime.db.session() as session:
        report = await service.track(session, request_id)
    assert report.category_code == "rac-thai"
    report_id = read_token(runtime.settings.secret_key, created["token"])
    assert report_id is not None
    await publish(runtime, report_id)
    [published] = conforms((await client.get(f"{BASE}/requests/{request_id}.json")).json(), "requests.json")
    assert published["description"].startswith("Rác thải đổ trộm")
    assert published["address_id"] == TAN_NINH
    assert published["agency_responsible"]
    assert published["expected_datetime"]
    assert published["requested_datetime"].endswith("+07:00")
    text = json.dumps(published, ensure_ascii=False)
    assert "Văn An" not in text
    assert "nguoidan" not in text
    assert "0912345678" not in text
    one = xml(await client.get(f"{BASE}/requests/{request_id}.xml"))
    assert one.findtext("request/service_request_id") == request_id
    assert one.findtext("request/status") == "open"


async def test_request_list_filters_paging_and_updates(
    client: httpx.AsyncClient, runtime: Runtime, submit: Submit
) -> None:
    now = utc_now()
    waste = [await submit(now=now - timedelta(days=d)) for d in (1, 2, 3)]
    road = await submit(
        "o-ga",
        FAR_IN_OTHER_COMMUNE,
        now=now - timedelta(days=120),
        source="hotline",
        as_principal=principal(runtime, Role.HOTLINE_OPERATOR),
    )
    for result in waste:
        await publish(runtime, result.id, resolve=result is waste[0])
    await publish(runtime, road.id)

    everything = conforms((await client.get(f"{BASE}/requests.json")).json(), "requests.json")
    # Newest first, and the default window is the most recent 90 days (the road report is older).
    assert [r["service_request_id"] for r in everything] == [w.tracking_code for w in waste]
    closed = (await client.get(f"{BASE}/requests.json", params={"status": "closed"})).json()
    assert [r["service_request_id"] for r in closed] == [waste[0].tracking_code]
    assert closed[0]["status_notes"] == "Đã thu gom toàn bộ rác."
    assert closed[0]["media_url"] is None
    opened = (await client.get(f"{BASE}/requests.json", params={"status": "open", "service_code": "rac-thai"})).json()
    assert len(opened) == 2

    first = await client.get(f"{BASE}/requests.json", params={"page_size": 2})
    assert len(first.json()) == 2
    assert 'rel="next"' in first.headers["link"]
    second = await client.get(f"{BASE}/requests.json", params={"page_size": 2, "page": 2})
    assert [r["service_request_id"] for r in second.json()] == [waste[2].tracking_code]
    assert "link" not in second.headers

    old = (now - timedelta(days=130)).isoformat()
    dated = await client.get(
        f"{BASE}/requests.json", params={"start_date": old, "end_date": (now - timedelta(days=60)).isoformat()}
    )
    assert [r["service_request_id"] for r in dated.json()] == [road.tracking_code]
    changed = await client.get(
        f"{BASE}/requests.json", params={"updated_after": (now - timedelta(minutes=5)).isoformat()}
    )
    assert len(changed.json()) == 4  # the change feed reaches the older report too
    wanted = f"{waste[1].tracking_code},{road.tracking_code}"
    by_id = (
        await client.get(f"{BASE}/requests.json", params={"service_request_id": wanted, "status": "closed"})
    ).json()
    assert {r["service_request_id"] for r in by_id} == {waste[1].tracking_code, road.tracking_code}

    listed = xml(await client.get(f"{BASE}/requests.xml", params={"status": "open"}))
    assert len(listed.findall("request")) == 2
    assert listed.find("request/lat") is not None

    updates = (await client.get(f"{BASE}/servicerequestupdates.json")).json()
    resolved = [u for u in updates if u["service_request_id"] == waste[0].tracking_code]
    assert [u["status"] for u in resolved] == ["fixed", "action_scheduled", "open", "for_triage"]
    assert resolved[0]["media_url"].startswith(runtime.settings.public_base_url)
    assert resolved[0]["description"].endswith("Đã thu gom toàn bộ rác.")
    english = (await client.get(f"{BASE}/servicerequestupdates.json", params={"lang": "en"})).json()
    mine = [u for u in english if u["service_request_id"] == waste[0].tracking_code]
    assert mine[0]["description"].startswith("Resolved")
    assert xml(await client.get(f"{BASE}/servicerequestupdates.xml")).find("request_update/update_id") is not None


async def test_rejected_report_is_closed_without_details(
    client: httpx.AsyncClient, runtime: Runtime, submit: Submit
) -> None:
    result = await submit()
    async with runtime.db.transaction() as session:
        await service.reject(
            session, runtime, result.id, principal(runtime, Role.HOTLINE_OPERATOR), RejectInput(reason="spam")
        )
    [view] = (await client.get(f"{BASE}/requests/{result.tracking_code}.json", params={"lang": "en"})).json()
    assert view["status"] == "closed"
    assert view["status_notes"] == "Spam, no actual report"
    assert view["description"] is None
    assert view["lat"] is None


async def test_post_variants_address_photo_and_bearer(
    client: httpx.AsyncClient, runtime: Runtime, api_key: str
) -> None:
    by_address_id = await client.post(
        f"{BASE}/requests.json",
        data={**WASTE_FORM, "lat": "", "long": "", "address_id": TAN_NINH, "api_key": api_key},
    )
    assert by_address_id.status_code == 201, by_address_id.text
    by_address = await client.post(
        f"{BASE}/requests.xml",
        data={
            **{k: v for k, v in WASTE_FORM.items() if k not in ("lat", "long")},
            "address_string": "Hẻm 5 đường 30/4, Phường Tân Ninh, Tây Ninh",
            "api_key": api_key,
        },
    )
    assert by_address.status_code == 201, by_address.text
    assert xml(by_address).findtext("request/token")
    # A photo as multipart (v2.1 `media`), for a category that needs one; and as a data: URI.
    photo = await client.post(
        f"{BASE}/requests.json",
        data={"service_code": "o-ga", "lat": str(INSIDE[0]), "long": str(INSIDE[1]), "api_key": api_key},
        files={"media": ("pothole.jpg", jpeg_bytes(), "image/jpeg")},
    )
    assert photo.status_code == 201, photo.text
    data_uri = "data:image/jpeg;base64," + base64.b64encode(jpeg_bytes()).decode()
    bearer = await client.post(
        f"{BASE}/requests.json",
        data={"service_code": "o-ga", "lat": str(INSIDE[0]), "long": str(INSIDE[1]), "media_url": data_uri},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert bearer.status_code == 201, bearer.text
    report_id = read_token(runtime.settings.secret_key, photo.json()[0]["token"])
    assert report_id is not None
    await publish(runtime, report_id)
    code = (await client.get(f"{BASE}/tokens/{photo.json()[0]['token']}.json")).json()[0]["service_request_id"]
    [view] = (await client.get(f"{BASE}/requests/{code}.json")).json()
    assert view["media_url"]
    assert (await client.get(view["media_url"].removeprefix(runtime.settings.public_base_url))).status_code == 200
    assert view["description"] == "Ổ gà, hư hỏng mặt đường."  # no description sent: the service names it

    # A citizen app's key is limited per client address like the public form: 5 in 10 minutes.
    fifth = await client.post(f"{BASE}/requests.json", data={**WASTE_FORM, "api_key": api_key})
    assert fifth.status_code == 201
    limited = await client.post(f"{BASE}/requests.json", data={**WASTE_FORM, "api_key": api_key})
    assert limited.status_code == 400
    assert limited.json()[0]["code"] == 429
    assert int(limited.headers["retry-after"]) > 0


async def test_bad_inputs_give_open311_errors(client: httpx.AsyncClient, runtime: Runtime, api_key: str) -> None:
    post = f"{BASE}/requests.json"
    assert "rac-thai" not in open311_error(await client.get(f"{BASE}/services/khong-co.json"), 404)
    open311_error(await client.post(post, data={**WASTE_FORM, "service_code": "khong-co", "api_key": api_key}), 404)
    located = await client.post(post, data={**WASTE_FORM, "lat": "", "long": "", "api_key": api_key})
    assert "vị trí" in open311_error(located, 400)
    outside = {**WASTE_FORM, "lat": str(OUTSIDE[0]), "long": str(OUTSIDE[1]), "api_key": api_key}
    assert "ngoài địa bàn" in open311_error(await client.post(post, data=outside), 400)
    english = await client.post(post, data=outside, headers={"Accept-Language": "en"})
    assert "outside the province" in open311_error(english, 400)
    missing = {k: v for k, v in WASTE_FORM.items() if k != "attribute[volume]"}
    assert "volume" in open311_error(await client.post(post, data={**missing, "api_key": api_key}), 400)
    wrong_option = {**WASTE_FORM, "attribute[volume]": "huge", "api_key": api_key}
    assert "volume" in open311_error(await client.post(post, data=wrong_option), 400)
    assert "api_key" in open311_error(await client.post(post, data=WASTE_FORM), 403)
    bad_key = await client.post(
        f"{BASE}/requests.xml", data={**WASTE_FORM, "api_key": "ioc_khong_hop_le"}, params={"lang": "en"}
    )
    assert bad_key.status_code == 403
    assert "Invalid api_key" in (xml(bad_key).findtext("error/description") or "")
    assert xml(bad_key).findtext("error/code") == "403"
    open311_error(await client.post(post, data={**WASTE_FORM, "email": "khong-phai-email", "api_key": api_key}), 400)

    listing = f"{BASE}/requests.json"
    assert "W3C" in open311_error(await client.get(listing, params={"start_date": "hôm qua"}), 400)
    now = utc_now()
    span = {"start_date": (now - timedelta(days=100)).isoformat(), "end_date": now.isoformat()}
    assert "90" in open311_error(await client.get(listing, params=span), 400)
    open311_error(await client.get(listing, params={"page_size": "501"}), 400)
    open311_error(await client.get(listing, params={"page": "0"}), 400)
    open311_error(await client.get(listing, params={"status": "pending"}), 400)
    open311_error(await client.get(f"{BASE}/requests.csv"), 400)
    open311_error(await client.get(f"{BASE}/requests/PA-2026-999999.json"), 404)
    open311_error(await client.get(f"{BASE}/tokens/{make_token('another-secret', 1)}.json"), 404)
    open311_error(await client.get(f"{BASE}/tokens/khong-co.json"), 404)
    open311_error(await client.get(f"{BASE}/services.json", params={"jurisdiction_id": "hanoi.gov.vn"}), 404)
    assert (await client.get(f"{BASE}/services.json", params={"jurisdiction_id": "80"})).status_code == 200
    elsewhere = {**WASTE_FORM, "api_key": api_key, "jurisdiction_id": "hanoi.gov.vn"}
    open311_error(await client.post(post, data=elsewhere), 404)
    open311_error(await client.get(f"{BASE}/khong-co.json"), 400)
    assert xml(await client.get(f"{BASE}/khong-co.xml")).findtext("error/code") == "400"
    open311_error(await client.post(post, content=b"{}", headers={"content-type": "application/json"}), 400)


async def test_bad_bearer_key_and_citizen_app_limit_on_the_api(
    client: httpx.AsyncClient, runtime: Runtime, api_key: str
) -> None:
    # A wrong Bearer key is refused before any endpoint runs: still in the Open311 format of the path.
    wrong = {"Authorization": "Bearer ioc_khong_hop_le"}
    assert "Khoá API không hợp lệ" in open311_error(await client.get(f"{BASE}/requests.json", headers=wrong), 403)
    as_xml = await client.get(f"{BASE}/services.xml", headers=wrong, params={"lang": "en"})
    assert as_xml.status_code == 403
    assert xml(as_xml).findtext("error/code") == "401"
    assert "invalid" in (xml(as_xml).findtext("error/description") or "")
    # Elsewhere the kernel's JSON error stays.
    assert (await client.get("/api/v1/citizen-report-categories", headers=wrong)).json()["error"] == "invalid_api_key"

    # A citizen app's key on /api/v1 is limited per client address like the Open311 POST: 5 in 10 minutes.
    bearer = {"Authorization": f"Bearer {api_key}"}
    body = {
        "category_code": "rac-thai",
        "description": "Rác thải đổ trộm bên lề đường, bốc mùi nhiều ngày.",
        "lat": INSIDE[0],
        "lon": INSIDE[1],
        "attributes": {"volume": "large"},
    }
    for _ in range(5):
        assert (await client.post("/api/v1/citizen-reports", json=body, headers=bearer)).status_code == 201
    limited = await client.post("/api/v1/citizen-reports", json=body, headers=bearer)
    assert limited.status_code == 429, limited.text
    assert "Vui lòng thử lại sau" in limited.json()["message"]
    assert int(limited.headers["retry-after"]) > 0


async def test_public_reads_are_cached_until_a_report_changes(
    client: httpx.AsyncClient, runtime: Runtime, submit: Submit
) -> None:
    cache = cache_for(runtime)
    first = await submit()
    await publish(runtime, first.id)
    listing = f"{BASE}/requests.json"
    before = await client.get(listing)
    hits = cache.hits
    again = await client.get(listing, params={"page_size": "", "status": ""})  # empty parameters are absent
    assert cache.hits == hits + 1
    assert again.content == before.content
    assert [r["service_request_id"] for r in before.json()] == [first.tracking_code]

    # A rolled-back write and a rate-limit record keep the cache; a committed report change drops it.
    version = cache.version
    async with runtime.db.session() as session:
        report = await repository.get_report(session, first.id)
        assert report is not None
        report.description = "Không lưu."
        await session.flush()
        await session.rollback()
    assert cache.version == version
    second = await submit()
    assert cache.version == version + 1
    await publish(runtime, second.id)
    codes = [r["service_request_id"] for r in (await client.get(listing)).json()]
    assert codes == [second.tracking_code, first.tracking_code]

    # Another process's change arrives through the live feed as a citizen_report event.
    version = cache.version
    cache.on_live_message(LiveMessage(id=1, name="telemetry.observations_received", payload={}, occurred_at=utc_now()))
    assert cache.version == version
    cache.on_live_message(LiveMessage(id=2, name="citizen_report.accepted", payload={}, occurred_at=utc_now()))
    assert cache.version == version + 1
