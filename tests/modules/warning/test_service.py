"""Warning rules at the service level: updates and cancels, drawn areas, failing channels, alarms, figures."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import xmlschema
from tests.modules.notification.conftest import REFUSED_DOMAIN, HttpReceiver, SmtpSink

from ioc.core.errors import IocError
from ioc.core.module import PictureContext
from ioc.core.runtime import Runtime
from ioc.core.security import Principal
from ioc.core.time import utc_now
from ioc.modules.alarm.service import Firing, fire
from ioc.modules.warning import service
from ioc.modules.warning.constants import MsgType, WarningState
from ioc.modules.warning.manifest import manifest
from ioc.modules.warning.models import Subscriber
from ioc.modules.warning.schemas import WarningInput, WarningRead

from .conftest import INSIDE_TAN_NINH, TAN_NINH, Communes, Drain, warning_body

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
# A triangle around the centre of Phường Tân Ninh in the schematic demo boundaries ([lon, lat]).
TRIANGLE = [[105.86, 11.61], [105.87, 11.61], [105.865, 11.62], [105.86, 11.61]]


async def publish(
    runtime: Runtime, author: Principal, approver: Principal, body: dict[str, Any], **kwargs: Any
) -> WarningRead:
    """Write, submit and approve a warning; return it published."""
    async with runtime.db.transaction() as session:
        draft = await service.create_draft(session, runtime, WarningInput.model_validate(body), author, **kwargs)
        await service.submit(session, runtime, draft.id, author)
        return await service.approve(session, runtime, draft.id, approver)


async def add_subscriber(runtime: Runtime, channel: str, address: str, units: list[str]) -> None:
    """Store a confirmed subscriber (the confirmation flow is tested over HTTP)."""
    async with runtime.db.transaction() as session:
        session.add(
            Subscriber(
                channel=channel,
                address=address,
                unit_codes=units,
                lang="vi",
                confirmed=True,
                unsubscribe_token=secrets.token_urlsafe(12),
            )
        )


def parse(document: bytes) -> ET.Element:
    """Parse XML this server produced."""
    return ET.fromstring(document)  # noqa: S314 - our own output, not untrusted input


def test_the_official_examples_validate_so_the_validator_is_sound(cap_schema: xmlschema.XMLSchema) -> None:
    for name in ("example2.xml", "example3.xml"):
        cap_schema.validate(str(cap_schema.url).rsplit("/", 1)[0] + "/" + name)
    broken = (
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier><sender>s</sender>'
        b"<sent>2026-01-01T10:00:00Z</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope></alert>"
    )
    assert not cap_schema.is_valid(broken)  # "Z" is refused by the CAP pattern: we must emit +07:00


async def test_update_and_cancel_reference_the_earlier_message(
    runtime: Runtime, communes: Communes, author: Principal, approver: Principal, cap_schema: xmlschema.XMLSchema
) -> None:
    original = await publish(runtime, author, approver, warning_body(communes.codes))
    async with runtime.db.transaction() as session:
        update = await service.derive(session, runtime, original.id, MsgType.UPDATE, author)
        changed = (await service.to_input_by_id(session, update.id)).model_copy(update={"severity": "Extreme"})
        await service.update_draft(session, runtime, update.id, changed, author)
        await service.submit(session, runtime, update.id, author)
        published = await service.approve(session, runtime, update.id, approver)
    assert published.msg_type == "Update"
    assert published.references_identifier == original.identifier
    async with runtime.db.session() as session:
        xml = await service.cap_xml(session, runtime, published.identifier or "")
        assert (await service.get_warning(session, runtime, original.id)).state == WarningState.SUPERSEDED
        current = await service.current_warnings(session, runtime)
    cap_schema.validate(xml)
    references = parse(xml).findtext(f"{CAP}references") or ""
    sender, identifier, sent = references.split(",")
    assert (sender, identifier) == ("ioc-80@ioc.tayninh.example", original.identifier)
    assert sent.endswith("+07:00")
    assert [w.id for w in current] == [published.id]

    async with runtime.db.transaction() as session:
        cancel = await service.derive(session, runtime, published.id, MsgType.CANCEL, author)
        await service.submit(session, runtime, cancel.id, author)
        cancelled = await service.approve(session, runtime, cancel.id, approver)
    async with runtime.db.session() as session:
        cancel_xml = await service.cap_xml(session, runtime, cancelled.identifier or "")
        assert await service.current_warnings(session, runtime) == []
        assert (await service.get_warning(session, runtime, published.id)).state == WarningState.CANCELLED
    cap_schema.validate(cancel_xml)
    assert parse(cancel_xml).findtext(f"{CAP}msgType") == "Cancel"


async def test_a_drawn_polygon_becomes_a_cap_polygon_and_reaches_the_commune_under_it(
    runtime: Runtime, communes: Communes, author: Principal, approver: Principal, cap_schema: xmlschema.XMLSchema
) -> None:
    body = warning_body(
        [],
        polygons=[
            {
                "name": "Khu dân cư ven sông",
                "name_en": "Riverside",
                "geometry": {"type": "Polygon", "coordinates": [TRIANGLE]},
            }
        ],
    )
    warning = await publish(runtime, author, approver, body)
    assert TAN_NINH in warning.unit_codes
    async with runtime.db.session() as session:
        xml = await service.cap_xml(session, runtime, warning.identifier or "")
        layer = await service.area_features(session)
    cap_schema.validate(xml)
    area = parse(xml).find(f"{CAP}info/{CAP}area")
    assert area is not None
    assert area.findtext(f"{CAP}areaDesc") == "Khu dân cư ven sông"
    assert area.findtext(f"{CAP}polygon") == "11.61,105.86 11.61,105.87 11.62,105.865 11.61,105.86"
    assert area.find(f"{CAP}geocode") is None
    assert [f["properties"]["warning_id"] for f in layer["features"]] == [warning.id]


BAD_POLYGONS: list[tuple[dict[str, Any], str]] = [
    ({"type": "Point", "coordinates": [105.86, 11.61]}, "Polygon"),
    ({"type": "Polygon", "coordinates": [[[105.86, 11.61], [105.87, 11.61], [105.86, 11.61]]]}, "4 points"),
    (
        {"type": "Polygon", "coordinates": [[[11.61, 205.86], [11.62, 205.87], [11.6, 205.8], [11.61, 205.86]]]},
        "WGS 84",
    ),
]


async def test_bad_drawn_polygons_are_rejected_with_the_reason(
    runtime: Runtime, communes: Communes, author: Principal
) -> None:
    for geometry, expected in BAD_POLYGONS:
        body = warning_body([], polygons=[{"name": "Vùng", "geometry": geometry}])
        async with runtime.db.transaction() as session:
            with pytest.raises(IocError) as caught:
                await service.create_draft(session, runtime, WarningInput.model_validate(body), author)
        assert expected in caught.value.message_en
        assert caught.value.status_code == 422


async def test_a_failing_channel_is_retried_and_reported_without_blocking_the_others(
    runtime: Runtime,
    communes: Communes,
    author: Principal,
    approver: Principal,
    smtp_sink: SmtpSink,
    http_receiver: HttpReceiver,
    drain: Drain,
) -> None:
    target = communes.codes[0]
    await add_subscriber(runtime, "webhook", http_receiver.url("/hook"), [target])
    await add_subscriber(runtime, "email", f"ai.do@{REFUSED_DOMAIN}", [target])
    await add_subscriber(runtime, "email", "chi.hai@tayninh.example", [target])
    await add_subscriber(runtime, "sms", "0912345678", [target])
    http_receiver.answer(503)  # the webhook fails once, then works
    warning = await publish(runtime, author, approver, warning_body([target]))
    await drain()
    async with runtime.db.session() as session:
        report = await service.delivery_report(session, runtime, warning.id)
    rows = {row.channel: row.model_dump(exclude={"channel"}) for row in report.channels}
    assert rows == {
        "email": {"total": 2, "delivered": 1, "pending": 0, "failed": 1, "retried": 0},
        "sms": {"total": 1, "delivered": 1, "pending": 0, "failed": 0, "retried": 0},
        "webhook": {"total": 1, "delivered": 1, "pending": 0, "failed": 0, "retried": 1},
    }
    assert [m["To"] for m in smtp_sink.messages] == ["chi.hai@tayninh.example"]
    hooks = [r for r in http_receiver.requests if r.path == "/hook"]
    assert len(hooks) == 2
    assert json.loads(hooks[-1].body)["correlation"] == f"warning:{warning.identifier}"
    sms = [json.loads(r.body) for r in http_receiver.requests if r.path == "/sms/send"]
    assert len(sms) == 1


async def test_a_warning_is_proposed_from_an_alarm_as_a_draft(
    runtime: Runtime, communes: Communes, author: Principal
) -> None:
    async with runtime.db.transaction() as session:
        alarm = await fire(
            session,
            None,
            Firing(
                rule_id=None,
                severity="critical",
                title="PM2.5 vượt ngưỡng tại trạm KCN Trảng Bàng",
                source_kind="station",
                source_ref="station:kcn-trang-bang",
                at=utc_now(),
                lat=INSIDE_TAN_NINH[0],
                lon=INSIDE_TAN_NINH[1],
            ),
        )
        assert alarm is not None
        draft = await service.propose_from_alarm(session, runtime, alarm.id, author)
    assert (draft.state, draft.alarm_id, draft.unit_codes) == (WarningState.DRAFT, alarm.id, [TAN_NINH])
    assert (draft.category, draft.severity, draft.urgency, draft.certainty) == (
        "Env",
        "Extreme",
        "Immediate",
        "Observed",
    )
    async with runtime.db.transaction() as session:
        with pytest.raises(IocError) as caught:
            await service.propose_from_alarm(session, runtime, 987654, author)
    assert caught.value.status_code == 404


async def test_figures_and_map_layer_show_only_warnings_in_force(
    runtime: Runtime, communes: Communes, author: Principal, approver: Principal
) -> None:
    await publish(runtime, author, approver, warning_body(communes.codes[:2], severity="Moderate"))
    await publish(runtime, author, approver, warning_body(communes.codes[2:], severity="Extreme"))
    async with runtime.db.transaction() as session:
        draft = await service.create_draft(
            session, runtime, WarningInput.model_validate(warning_body(communes.codes)), author
        )
        await service.submit(session, runtime, draft.id, author)
    [current, pending] = manifest.kpis
    [layer] = manifest.map_layers
    async with runtime.db.session() as session:
        now = utc_now()
        value = await current.compute(PictureContext(session=session, principal=None, now=now))
        later = await current.compute(PictureContext(session=session, principal=None, now=now + timedelta(days=1)))
        waiting = await pending.compute(PictureContext(session=session, principal=None, now=now))
        one_unit = await current.compute(
            PictureContext(session=session, principal=None, now=now, unit_code=communes.codes[2])
        )
        features = await layer.features(PictureContext(session=session, principal=None, now=now))
    assert (value.value, value.status) == (2, "critical")
    assert (later.value, later.status) == (0, "good")  # both expired after 12 hours
    assert waiting.value == 1
    assert one_unit.value == 1
    assert len(features["features"]) == 3
    assert all("author" not in json.dumps(f["properties"]) for f in features["features"])
    assert layer.scope is None  # a public layer
