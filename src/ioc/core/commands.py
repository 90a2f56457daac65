"""Helpers for command-line commands of the kernel and of modules."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

import click
from sqlalchemy.exc import DBAPIError, OperationalError

from . import migrate
from .runtime import Runtime
from .security import Principal, PrincipalKind, Role, current_actor
from .settings import Settings, SettingsError, load_settings

T = TypeVar("T")


def fail(message: str, code: int = 1) -> None:
    """Print an error for a person and exit non-zero."""
    click.secho(message, fg="red", err=True)
    sys.exit(code)


def settings_or_exit() -> Settings:
    """Load settings or exit with the reason."""
    try:
        settings = load_settings()
        settings.check_safe()
    except SettingsError as exc:
        fail(str(exc), 2)
        raise  # unreachable; keeps the type checker informed
    return settings


def cli_actor() -> Principal:
    """Return the principal recorded in the audit log for command-line writes."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Principal(kind=PrincipalKind.SYSTEM, id=None, name=f"cli:{name}", role=Role.ADMIN)


async def _with_runtime(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    runtime = Runtime(settings.model_copy(update={"run_background": False}))
    try:
        await ensure_database_ready(runtime)
        await runtime.load_calendar()
        for manifest in runtime.modules:
            if manifest.on_startup is not None:
                await manifest.on_startup(runtime)
        token = current_actor.set(cli_actor())
        try:
            return await work(runtime)
        finally:
            current_actor.reset(token)
    finally:
        await runtime.db.dispose()


def run_with_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run async work against a runtime with no background workers (for commands)."""
    settings = settings_or_exit()
    try:
        return asyncio.run(_with_runtime(settings, work))
    except (OperationalError, DBAPIError, OSError) as exc:
        fail(
            f"Không kết nối được cơ sở dữ liệu / cannot reach the database "
            f"({settings.resolved_database_url.split('@')[-1]}): {type(exc).__name__}: {str(exc)[:300]}"
        )
        raise


async def ensure_database_ready(runtime: Runtime) -> None:
    """Check that the database answers and is migrated to the newest revision."""
    await runtime.check_database()
    current = await migrate.current_revision(runtime.settings.resolved_database_url)
    head = migrate.head_revision()
    if current != head:
        raise click.ClickException(
            f"Cơ sở dữ liệu chưa được nâng cấp (đang ở {current}, cần {head}); chạy `ioc db upgrade`. / "
            f"The database is at revision {current}, not {head}: run `ioc db upgrade`."
        )


async def check_brokers(settings: Settings) -> None:
    """Raise a clear error when a configured message broker cannot be reached."""
    if settings.mqtt_url:
        url = urlsplit(settings.mqtt_url)
        default_port = 8883 if url.scheme == "mqtts" else 1883
        try:
            _reader, writer = await asyncio.wait_for(
                asyncio.open_connection(url.hostname or "127.0.0.1", url.port or default_port), timeout=5
            )
        except (OSError, TimeoutError) as exc:
            raise click.ClickException(
                f"Không kết nối được MQTT / cannot reach the MQTT broker at {url.hostname}:{url.port or default_port}"
                f": {type(exc).__name__}: {exc}"
            ) from exc
        writer.close()
    if settings.event_transport == "nats":
        import nats

        if not settings.nats_url:
            raise click.ClickException("IOC_EVENT_TRANSPORT=nats cần IOC_NATS_URL / needs IOC_NATS_URL")
        try:
            # nats-py may keep retrying the first connection; bound the whole attempt.
            connection = await asyncio.wait_for(
                nats.connect(settings.nats_url, connect_timeout=3, max_reconnect_attempts=0, allow_reconnect=False),
                timeout=5,
            )
        except Exception as exc:
            raise click.ClickException(
                f"Không kết nối được NATS / cannot reach NATS at {settings.nats_url}: {type(exc).__name__}: {exc}"
            ) from exc
        await connection.close()


async def seed_demo(runtime: Runtime) -> list[str]:
    """Load every enabled module's demo data in dependency order and deliver the resulting events."""
    from .module import SeedContext

    messages: list[str] = []
    for manifest in runtime.modules:
        if manifest.seed is None:
            continue
        async with runtime.db.transaction() as session:
            ctx = SeedContext(session=session, runtime=runtime)
            await manifest.seed(ctx)
        messages.extend(ctx.messages)
    await runtime.drain()
    return messages
