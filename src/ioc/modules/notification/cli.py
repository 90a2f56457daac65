"""Commands of the notification module: `ioc notification webhook-key | test`."""

from __future__ import annotations

import click

from ioc.core.commands import cli_actor, fail, run_with_runtime, settings_or_exit
from ioc.core.errors import IocError
from ioc.core.runtime import Runtime

from . import service
from .channels import derive_webhook_key
from .constants import ChannelKind
from .schemas import ChannelTestCreate


async def send_test_now(runtime: Runtime, channel: str, recipient: str, lang: str) -> tuple[str, str | None]:
    """Queue the test template, deliver it at once, and return the status and last error."""
    data = ChannelTestCreate.model_validate({"channel": channel, "recipient": recipient, "lang": lang})
    async with runtime.db.transaction() as session:
        delivery_id = await service.send_test(session, runtime, data, cli_actor())
    await runtime.drain()
    async with runtime.db.session() as session:
        read = await service.get_delivery(session, delivery_id, reveal_recipient=True)
    return read.status.value, read.last_error


@click.group("notification")
def notification_group() -> None:
    """Thông báo / notifications: signing key and test messages."""


@notification_group.command("webhook-key")
def webhook_key() -> None:
    """Print the default webhook signing key to give to receivers (derived from IOC_SECRET_KEY)."""
    click.echo(derive_webhook_key(settings_or_exit().secret_key))


@notification_group.command("test")
@click.option("--channel", type=click.Choice([kind.value for kind in ChannelKind]), required=True)
@click.option("--to", "recipient", required=True, help="E-mail, phone number or webhook URL")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
def send_test_message(channel: str, recipient: str, lang: str) -> None:
    """Send the test template now and print how it went (checks the channel settings)."""

    async def work(runtime: Runtime) -> tuple[str, str | None]:
        return await send_test_now(runtime, channel, recipient, lang)

    try:
        status, error = run_with_runtime(work)
    except IocError as exc:
        fail(f"{exc.message_vi} / {exc.message_en}", 2)
        return
    click.echo(f"{status}" + (f": {error}" if error else ""))
    if status != "delivered":
        raise SystemExit(1)
