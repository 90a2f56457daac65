"""Manifest of the kernel-test module; its handlers and jobs leave rows in calendar_day as evidence."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import ClassVar

from ioc.core.events import DomainEvent, HandlerContext, Subscription
from ioc.core.jobs import JobContext, JobSpec
from ioc.core.models import CalendarDay
from ioc.core.module import Manifest, NavEntry

# Tests set this to make the handler fail a number of times before succeeding.
FAILURES_LEFT = {"handler": 0, "job": 0}
BASE_DAY = date(2001, 1, 1)


class ThingHappened(DomainEvent):
    """A staff-only test event."""

    event_name: ClassVar[str] = "samplemod.thing_happened"
    number: int


class PublicThingHappened(DomainEvent):
    """A public test event."""

    event_name: ClassVar[str] = "samplemod.public_thing_happened"
    audience: ClassVar[str] = "public"  # type: ignore[misc]  # narrowing the literal is the point here
    number: int


async def on_thing(ctx: HandlerContext, event: ThingHappened) -> None:
    """Write one calendar row per handled event."""
    if FAILURES_LEFT["handler"] > 0:
        FAILURES_LEFT["handler"] -= 1
        raise RuntimeError("planned failure")
    ctx.session.add(CalendarDay(day=BASE_DAY + timedelta(days=event.number), kind="holiday", name="handled"))


async def timer_job(ctx: JobContext) -> None:
    """Write the calendar row named in the payload."""
    if FAILURES_LEFT["job"] > 0:
        FAILURES_LEFT["job"] -= 1
        raise RuntimeError("planned job failure")
    offset = int(ctx.payload["offset"])
    ctx.session.add(CalendarDay(day=BASE_DAY + timedelta(days=offset), kind="holiday", name="timer"))


async def tick_job(ctx: JobContext) -> None:
    """Count ticks in a calendar row far in the past."""
    day = date(1999, 1, 1)
    row = await ctx.session.get(CalendarDay, day)
    if row is None:
        ctx.session.add(CalendarDay(day=day, kind="holiday", name="1"))
    else:
        row.name = str(int(row.name) + 1)


manifest = Manifest(
    name="samplemod",
    tier=1,
    title_vi="Mô-đun kiểm thử",
    title_en="Test module",
    subscriptions=(Subscription(event=ThingHappened, handler=on_thing, name="samplemod.on_thing"),),
    jobs=(
        JobSpec(name="samplemod.timer", handler=timer_job, max_attempts=3),
        JobSpec(name="samplemod.tick", handler=tick_job, every=timedelta(hours=1)),
    ),
    nav=(NavEntry(path="/samplemod", label_vi="Mẫu", label_en="Sample"),),
    package_dir=Path(__file__).parent,
)
