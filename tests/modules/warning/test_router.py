"""The warning workflow over HTTP: two-person approval, CAP XML valid against the XSD, Atom, e-mail to subscribers."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import xmlschema
from sqlalchemy import func, select
from tests.conftest import LoginFactory
from tests.modules.notification.conftest import SmtpSink

from ioc.core.models import OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules.warning.models import PublicWarning, Subscriber

from .conftest import Communes, Drain, warning_body

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"


def parse(document: bytes) -> ET.Element:
    """Parse XML this server produced."""
    return ET.fromstring(document)  # noqa: S314 - our own output, not untrusted input


CAP_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$")


async def subscribe_and_confirm(
    client: httpx.AsyncClient, sink: SmtpSink, drain: Drain, address: str, units: list[str]
) -> None:
    """Subscribe through the public form and follow the confirmation link from the mailbox."""
    response = await client.post(
        "/canh-bao/dang-ky", data={"channel": "email", "address": address, "unit_codes": units}
    )
    assert response.status_code == 202, response.text
    assert address not in response.text  # the address is never echoed back
    await drain()
    mail = sink.messages[-1]
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"https://ioc\.tayninh\.example(/canh-bao/dang-ky/xac-nhan/\S+)", body)
    assert link, body
    assert (await client.get(link.group(1))).status_code == 200
    confirmed = await client.post(link.group(1))
    assert confirmed.status_code == 200
    assert "data-done" in confirmed.text


async def test_warning_for_three_communes_is_approved_published_as_cap_and_mailed(
    client: httpx.AsyncClient,
    login_as: LoginFactory,
    communes: Communes,
    runtime: Runtime,
    smtp_sink: SmtpSink,
    drain: Drain,
    cap_schema: xmlschema.XMLSchema,
) -> None:
    await subscribe_and_confirm(client, smtp_sink, drain, "nguoi.dan@tayninh.example", [communes.codes[1]])
    await subscribe_and_confirm(client, smtp_sink, drain, "xa.khac@tayninh.example", [communes.other])
    author = await login_as(Role.AGENCY_STAFF)
    head = await login_as(Role.AGENCY_HEAD)

    created = await author.post("/api/v1/warnings", json=warning_body(communes.codes))
    assert created.status_code == 201, created.text
    warning_id = created.json()["id"]
    assert (await author.post(f"/api/v1/warnings/{warning_id}/submit")).status_code == 200
    own = await author.post(f"/api/v1/warnings/{warning_id}/approve")
    assert own.status_code == 403  # agency staff may not approve at all
    approved = await head.post(f"/api/v1/warnings/{warning_id}/approve")
    assert approved.status_code == 200, approved.text
    identifier = approved.json()["identifier"]

    cap = await client.get(f"/cap/alerts/{identifier}.xml")
    assert cap.status_code == 200
    assert cap.headers["content-type"].startswith("application/cap+xml")
    cap_schema.validate(cap.content)
    root = parse(cap.content)
    assert CAP_TIME.match(root.findtext(f"{CAP}sent") or "")
    assert root.findtext(f"{CAP}msgType") == "Alert"
    infos = root.findall(f"{CAP}info")
    assert [i.findtext(f"{CAP}language") for i in infos] == ["vi-VN", "en-US"]
    areas = infos[0].findall(f"{CAP}area")
    assert [a.findtext(f"{CAP}geocode/{CAP}value") for a in areas] == communes.codes
    for area in areas:
        pairs = (area.findtext(f"{CAP}polygon") or "").split()
        assert len(pairs) >= 4
        assert pairs[0] == pairs[-1]
        lat, lon = map(float, pairs[0].split(","))
        assert 10 < lat < 12
        assert 105 < lon < 107
    assert "&amp;" in cap.text  # text escaped, still valid

    feed = await client.get("/cap/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    entries = parse(feed.content).findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}link[@type='application/cap+xml']").get("href") for e in entries] == [  # type: ignore[union-attr]
        f"https://ioc.tayninh.example/cap/alerts/{identifier}.xml"
    ]

    before = len(smtp_sink.messages)
    await drain()
    warned = smtp_sink.messages[before:]
    assert [m["To"] for m in warned] == ["nguoi.dan@tayninh.example"]  # the other commune's subscriber is not warned
    assert "Cảnh báo bụi mịn PM2.5" in str(warned[0]["Subject"])
    report = (await head.get(f"/api/v1/warnings/{warning_id}/deliveries")).json()
    assert report["channels"] == [
        {"channel": "email", "total": 1, "delivered": 1, "pending": 0, "failed": 0, "retried": 0}
    ]
    async with runtime.db.session() as session:
        events = (await session.execute(select(OutboxEvent.name, OutboxEvent.payload))).all()
    published = [payload for name, payload in events if name == "warning.published"]
    assert [p["identifier"] for p in published] == [identifier]  # pushed to the public live stream
    assert "nguoi.dan" not in str([payload for _name, payload in events if str(_name).startswith("warning.")])
    page = await head.get(f"/canh-bao/quan-ly/{warning_id}")
    assert "data-delivery-report" in page.text
    assert "nguoi.dan" not in page.text


async def test_author_cannot_approve_their_own_warning(login_as: LoginFactory, communes: Communes) -> None:
    leader = await login_as(Role.LEADER)  # leaders may both write and approve
    created = (await leader.post("/api/v1/warnings", json=warning_body(communes.codes[:1]))).json()
    await leader.post(f"/api/v1/warnings/{created['id']}/submit")
    response = await leader.post(f"/api/v1/warnings/{created['id']}/approve")
    assert response.status_code == 403
    assert response.json()["error"] == "warning_self_approval"
    page = await leader.post(f"/canh-bao/quan-ly/{created['id']}/approve", headers={"Accept": "text/html"})
    assert page.status_code == 403
    assert "data-action-error" in page.text


async def test_bad_cap_values_and_missing_area_are_rejected_and_nothing_is_published(
    client: httpx.AsyncClient, login_as: LoginFactory, communes: Communes, runtime: Runtime
) -> None:
    author = await login_as(Role.AGENCY_STAFF)
    cases: list[tuple[dict[str, Any], str, str]] = [
        (warning_body(communes.codes, category="Weather"), "category", "'Met'"),
        (warning_body(communes.codes, urgency="Soon"), "urgency", "'Immediate'"),
        (warning_body(communes.codes, severity="High"), "severity", "'Extreme'"),
        (warning_body(communes.codes, certainty="Sure"), "certainty", "'Observed'"),
        (warning_body([]), "", "ít nhất một vùng"),
        (warning_body(communes.codes, expires_at="2030-01-01T10:00:00"), "expires_at", "+07:00"),
    ]
    for body, field, expected in cases:
        response = await author.post("/api/v1/warnings", json=body)
        assert response.status_code == 422, (field, response.text)
        assert expected in response.text, (field, response.text)
        if field:
            assert field in response.text
    unknown = await author.post("/api/v1/warnings", json=warning_body(["99999"]))
    assert unknown.status_code == 422
    assert "99999" in unknown.json()["message"]
    async with runtime.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(PublicWarning)) == 0
    assert parse((await client.get("/cap/feed.atom")).content).findall(f"{ATOM}entry") == []


async def test_drafts_are_private_and_staff_routes_need_scopes(
    client: httpx.AsyncClient, login_as: LoginFactory, communes: Communes
) -> None:
    author = await login_as(Role.AGENCY_STAFF)
    created = (await author.post("/api/v1/warnings", json=warning_body(communes.codes[:1]))).json()
    assert (await client.get(f"/api/v1/warnings/{created['id']}")).status_code == 401
    assert (await client.get(f"/canh-bao/{created['id']}")).status_code == 404
    assert (await client.get("/api/v1/warnings/current")).json() == []
    citizen = await login_as(Role.CITIZEN)
    assert (await citizen.post("/api/v1/warnings", json=warning_body(communes.codes))).status_code == 403
    assert (await citizen.get("/canh-bao/quan-ly")).status_code == 403
    assert (await client.get("/cap/alerts/VN-80-IOC-20260101-000001.xml")).status_code == 404


async def test_subscription_needs_confirmation_and_unsubscribe_deletes_the_address(
    client: httpx.AsyncClient, communes: Communes, runtime: Runtime, smtp_sink: SmtpSink, drain: Drain
) -> None:
    bad = await client.post(
        "/api/v1/warnings/subscriptions",
        json={"channel": "email", "address": "khong-phai-thu", "unit_codes": [communes.codes[0]]},
    )
    assert bad.status_code == 422
    no_units = await client.post("/canh-bao/dang-ky", data={"channel": "email", "address": "a@tayninh.example"})
    assert no_units.status_code == 422
    assert "ít nhất một xã" in no_units.text
    response = await client.post(
        "/api/v1/warnings/subscriptions",
        json={"channel": "email", "address": "ba.tu@tayninh.example", "unit_codes": [communes.codes[0]], "lang": "en"},
    )
    assert response.status_code == 202
    assert "ba.tu" not in response.text
    async with runtime.db.session() as session:
        row = await session.scalar(select(Subscriber))
        assert row is not None
        assert not row.confirmed
        unsubscribe_token = row.unsubscribe_token
    await drain()
    assert "Confirm your warning subscription" in str(smtp_sink.messages[-1]["Subject"])
    assert (await client.post("/canh-bao/dang-ky/xac-nhan/not-a-token")).status_code == 404
    gone = await client.post(f"/canh-bao/dang-ky/huy/{unsubscribe_token}")
    assert gone.status_code == 200
    async with runtime.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Subscriber)) == 0


async def test_public_and_staff_pages_render(
    client: httpx.AsyncClient, login_as: LoginFactory, communes: Communes
) -> None:
    for path in ("/canh-bao", "/canh-bao/dang-ky", "/canh-bao/dang-ky?lang=en"):
        response = await client.get(path)
        assert response.status_code == 200, path
    author = await login_as(Role.AGENCY_STAFF)
    form = await author.get("/canh-bao/quan-ly/moi")
    assert form.status_code == 200
    assert 'name="unit_codes"' in form.text
    data = {k: v for k, v in warning_body([]).items() if k not in ("unit_codes", "expires_at")}
    data.update(
        {"status": "Actual", "expires_at": "2099-01-01T08:00", "unit_codes": communes.codes[:2], "then": "submit"}
    )
    saved = await author.post("/canh-bao/quan-ly/moi", data=data)
    assert saved.status_code == 303
    detail = await author.get(saved.headers["location"])
    assert "pending_approval" in detail.text
    assert "data-own-warning" in detail.text  # the author is told a second person must approve
    missing = await author.post("/canh-bao/quan-ly/moi", data={**data, "unit_codes": [], "category": "Weather"})
    assert missing.status_code == 422
    assert "ít nhất một vùng" in missing.text
    assert "Input should be" in missing.text
    unknown_alarm = await author.post("/canh-bao/quan-ly/tu-su-co", data={"alarm_id": "999999"})
    assert unknown_alarm.status_code == 404
    assert "data-action-error" in unknown_alarm.text
    listing = await author.get("/canh-bao/quan-ly")
    assert listing.status_code == 200
    assert "data-approval-queue" in listing.text
