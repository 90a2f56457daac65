"""Expiry: the durable timer set at publication marks a warning expired; the page and the Atom feed drop it."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree as ET

import httpx
import xmlschema
from sqlalchemy import select, update

from ioc.core.models import Job, OutboxEvent
from ioc.core.module import SeedContext
from ioc.core.runtime import Runtime
from ioc.core.security import Principal
from ioc.core.time import ensure_utc, utc_now
from ioc.modules.warning import service
from ioc.modules.warning.constants import EXPIRE_JOB, WarningState
from ioc.modules.warning.models import PublicWarning

from .conftest import Communes, warning_body
from .test_service import publish

ATOM = "{http://www.w3.org/2005/Atom}"


def _entries(feed: bytes) -> list[str]:
    root = ET.fromstring(feed)  # noqa: S314 - our own output, not untrusted input
    return [str(e.findtext(f"{ATOM}id")) for e in root.findall(f"{ATOM}entry")]


async def _expiry_jobs(runtime: Runtime) -> list[Job]:
    async with runtime.db.session() as session:
        return list(await session.scalars(select(Job).where(Job.name == EXPIRE_JOB, Job.status == "pending")))


async def test_demo_seed_then_a_warning_expires_on_its_timer_and_leaves_the_page_and_the_feed(
    runtime: Runtime,
    client: httpx.AsyncClient,
    communes: Communes,
    author: Principal,
    approver: Principal,
    cap_schema: xmlschema.XMLSchema,
) -> None:
    # The demo: one warning in force over three wards and one already expired; seeding twice adds nothing.
    manifest = runtime.module("warning")
    assert manifest is not None
    assert manifest.seed is not None
    for _ in range(2):
        async with runtime.db.transaction() as session:
            await manifest.seed(SeedContext(session=session, runtime=runtime))
    async with runtime.db.session() as session:
        demo = list(await session.scalars(select(PublicWarning).order_by(PublicWarning.id)))
    assert [row.state for row in demo] == [WarningState.EXPIRED, WarningState.PUBLISHED]
    assert demo[0].author != demo[0].approver
    assert ensure_utc(demo[0].expires_at) < utc_now()
    assert (demo[0].identifier or "").endswith(f"-{demo[0].id:06d}")
    assert sorted(demo[1].unit_codes) == ["25459", "25480", "25567"]
    flood_entry = f"https://ioc.tayninh.example/cap/alerts/{demo[1].identifier}.xml"
    assert _entries((await client.get("/cap/feed.atom")).content) == [flood_entry]

    published = await publish(runtime, author, approver, warning_body(communes.codes))
    [timer] = [job for job in await _expiry_jobs(runtime) if job.dedupe_key == f"{EXPIRE_JOB}:{published.id}"]
    assert ensure_utc(timer.run_at) == ensure_utc(published.expires_at)
    mine = f"https://ioc.tayninh.example/cap/alerts/{published.identifier}.xml"
    assert sorted(_entries((await client.get("/cap/feed.atom")).content)) == sorted([flood_entry, mine])
    # A runner that fires early (its clock ahead) changes nothing and sets the timer again.
    async with runtime.db.transaction() as session:
        await session.execute(update(Job).where(Job.id == timer.id).values(run_at=utc_now() - timedelta(seconds=1)))
    await runtime.jobs.run_due()
    [again] = [job for job in await _expiry_jobs(runtime) if job.payload["warning_id"] == published.id]
    assert again.id != timer.id
    assert ensure_utc(again.run_at) == ensure_utc(published.expires_at)
    async with runtime.db.session() as session:
        assert (await service.get_warning(session, runtime, published.id)).state == WarningState.PUBLISHED

    # The expiry time passes: the timer fires and the warning is expired, announced and gone from the public view.
    past = utc_now() - timedelta(minutes=1)
    async with runtime.db.transaction() as session:
        await session.execute(update(PublicWarning).where(PublicWarning.id == published.id).values(expires_at=past))
        await session.execute(update(Job).where(Job.id == again.id).values(run_at=past))
    await runtime.jobs.run_due()
    async with runtime.db.session() as session:
        expired = await service.get_warning(session, runtime, published.id)
        events = list(await session.scalars(select(OutboxEvent).where(OutboxEvent.name == "warning.expired")))
    assert expired.state == WarningState.EXPIRED
    assert [(e.payload["warning_id"], e.payload["identifier"]) for e in events] == [
        (demo[0].id, demo[0].identifier),
        (published.id, published.identifier),
    ]
    assert [job.payload["warning_id"] for job in await _expiry_jobs(runtime)] == [demo[1].id]
    assert _entries((await client.get("/cap/feed.atom")).content) == [flood_entry]
    public = await client.get("/canh-bao")
    assert published.headline_vi not in public.text
    assert demo[1].headline_vi in public.text
    detail = await client.get(f"/canh-bao/{published.id}?lang=en")
    assert detail.status_code == 200
    assert "This warning has expired." in detail.text
    cap = await client.get(f"/cap/alerts/{published.identifier}.xml")  # the record stays available
    cap_schema.validate(cap.content)
    async with runtime.db.transaction() as session:
        assert await service.expire(session, published.id) is False  # once only
