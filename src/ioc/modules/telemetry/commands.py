"""Commands of the telemetry module: `ioc simulate`, `ioc telemetry import`, `ioc telemetry token`."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from pathlib import Path

import click

from ioc.core.commands import fail, run_with_runtime
from ioc.core.runtime import Runtime
from ioc.core.time import utc_now

from . import ingest, service
from .constants import IngestSource
from .exceptions import DeviceImportFailed, DeviceNotFound
from .ingest import InboundMessage
from .mqtt import config_from_settings, publish
from .schemas import DeviceImportReport, DeviceToken
from .simulator import LiveRun

log = logging.getLogger(__name__)
FILE_ARGUMENT = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
# The server's demo activity sends a round as often as `ioc simulate` does by default (6 per minute) and
# starts a new pollution episode every two hours, so that a video wall left on keeps showing one.
DEMO_ROUND_SECONDS = 10.0
DEMO_EPISODE_EVERY = timedelta(hours=2)


async def ingest_round(runtime: Runtime, run: LiveRun, now: datetime) -> int:
    """Ingest one round of the live simulation in this process; return the number of stations that spoke."""
    messages = [
        InboundMessage(payload=body, source=IngestSource.EMBEDDED, device_code=station.code, received_at=now)
        for station, body in run.messages(now)
    ]
    await ingest.ingest_messages(runtime, messages)
    return len(messages)


async def demo_activity(runtime: Runtime) -> None:
    """Make the demo stations publish live readings in the server process until cancelled (IOC_DEMO_ACTIVITY)."""
    run = LiveRun(started=utc_now())
    while True:
        now = utc_now()
        if now - run.started >= DEMO_EPISODE_EVERY:
            run = LiveRun(started=now)
        try:
            await ingest_round(runtime, run, now)
        except Exception:  # a busy database must not end the demo: the next round tries again
            log.exception("demo readings round failed")
        await asyncio.sleep(DEMO_ROUND_SECONDS)


@click.command("simulate")
@click.option("--duration", type=float, default=0.0, show_default=True, help="Giây chạy, 0 = đến khi dừng / seconds")
@click.option("--rate", type=float, default=6.0, show_default=True, help="Lượt gửi mỗi phút / rounds per minute")
@click.option("--once", is_flag=True, help="Gửi một lượt rồi dừng / send one round and stop")
@click.option(
    "--episode/--no-episode", default=True, show_default=True, help="Đợt ô nhiễm sau 1 phút / pollution episode"
)
@click.option("--in-process", is_flag=True, help="Ghi trực tiếp, không qua MQTT / ingest in-process even with a broker")
def simulate_command(duration: float, rate: float, once: bool, episode: bool, in_process: bool) -> None:
    """Make the demo stations publish live readings (MQTT if IOC_MQTT_URL is set, else in-process)."""
    if rate <= 0:
        fail("--rate phải lớn hơn 0 / --rate must be positive", 2)

    async def work(runtime: Runtime) -> int:
        use_mqtt = bool(runtime.settings.mqtt_url) and not in_process
        config = config_from_settings(runtime) if use_mqtt else None
        run = LiveRun(started=utc_now(), episode=episode)
        started = time.monotonic()
        rounds = 0
        while True:
            now = utc_now()
            if config is not None:
                items = run.messages(now)
                await publish(config, [(f"{config.topic_prefix}/{s.code}", body) for s, body in items])
                where, count = f"MQTT {config.host}:{config.port}", len(items)
            else:
                count = await ingest_round(runtime, run, now)
                where = "trong tiến trình / in-process"
            rounds += 1
            click.echo(f"{now:%H:%M:%S} UTC: {count} trạm / stations → {where}")
            if once or (duration and time.monotonic() - started >= duration):
                return rounds
            await asyncio.sleep(60.0 / rate)

    rounds = run_with_runtime(work)
    click.echo(f"Đã gửi {rounds} lượt / sent {rounds} round(s).")


@click.group("telemetry")
def telemetry_group() -> None:
    """Quan trắc / telemetry: provision devices and issue device tokens."""


@telemetry_group.command("import")
@click.argument("file", type=FILE_ARGUMENT)
def import_command(file: Path) -> None:
    """Create or update devices from a CSV (device_code,name,lat,lon,datastream_key,...); prints new tokens once."""
    data = file.read_bytes()

    async def work(runtime: Runtime) -> DeviceImportReport:
        async with runtime.db.transaction() as session:
            return await service.import_devices_csv(session, data)

    try:
        report = run_with_runtime(work)
    except DeviceImportFailed as exc:
        lines = [f"{exc.message_vi} / {exc.message_en}"]
        for problem in exc.problems:
            where = f"dòng/row {problem.row}" if problem.row else "tệp/file"
            column = f", cột/column {problem.column}" if problem.column else ""
            lines.append(f"  {where}{column}: {problem.message_vi} / {problem.message_en}")
        fail("\n".join(lines))
        return
    click.echo(
        f"{len(report.created)} thiết bị mới / new devices, {len(report.updated)} cập nhật / updated, "
        f"{report.datastreams_created} luồng mới / new datastreams, "
        f"{report.datastreams_updated} luồng cập nhật / updated datastreams."
    )
    for item in report.created:
        click.echo(f"  {item.device_code}: {item.token}")
    if report.created:
        click.echo("Lưu các mã này ngay: chúng không hiện lại. / Keep these tokens now: they are not shown again.")


@telemetry_group.command("token")
@click.argument("code")
def token_command(code: str) -> None:
    """Issue a new token for a device (the old one stops working) and print it once."""

    async def work(runtime: Runtime) -> DeviceToken:
        async with runtime.db.transaction() as session:
            return await service.rotate_token(session, code)

    try:
        token = run_with_runtime(work)
    except DeviceNotFound as exc:
        fail(f"{exc.message_vi} / {exc.message_en}")
        return
    click.echo(token.token)
