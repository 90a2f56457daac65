"""Manifest of the benchmark module; the handler and the job record what they saw in HANDLED."""

from __future__ import annotations

from typing import ClassVar

from ioc.core.events import DomainEvent, HandlerContext, Subscription
from ioc.core.jobs import JobContext, JobSpec
from ioc.core.module import Manifest

HANDLED: list[int] = []


class BenchPinged(DomainEvent):
    """An event used only by the benchmark."""

    event_name: ClassVar[str] = "benchmod.pinged"
    number: int


async def on_ping(_ctx: HandlerContext, event: BenchPinged) -> None:
    """Remember the event's number."""
    HANDLED.append(event.number)


async def timer(ctx: JobContext) -> None:
    """Remember the timer's number."""
    HANDLED.append(int(ctx.payload["n"]))


manifest = Manifest(
    name="benchmod",
    tier=1,
    title_vi="Đo hiệu năng",
    title_en="Benchmark",
    subscriptions=(Subscription(event=BenchPinged, handler=on_ping, name="benchmod.on_ping"),),
    jobs=(JobSpec(name="benchmod.timer", handler=timer),),
)
