"""The `ioc` command: serve, migrate, seed the demo, manage users, scaffold modules."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import DBAPIError, OperationalError

from .core import migrate
from .core.commands import check_brokers, fail, run_with_runtime, seed_demo, settings_or_exit
from .core.module import ModuleLoadError, load_modules
from .core.runtime import Runtime
from .core.settings import SettingsError, load_settings


class IocGroup(click.Group):
    """The root group; modules add their own commands from their manifests."""

    def _module_commands(self) -> dict[str, click.Command]:
        try:
            settings = load_settings()
            manifests = load_modules(settings.modules)
        except (SettingsError, ModuleLoadError):
            return {}
        return {cmd.name or "": cmd for m in manifests for cmd in m.commands}

    def list_commands(self, ctx: click.Context) -> list[str]:
        """List built-in and module commands."""
        return sorted(set(super().list_commands(ctx)) | set(self._module_commands()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Find a built-in or module command."""
        return super().get_command(ctx, cmd_name) or self._module_commands().get(cmd_name)


@click.group(cls=IocGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ioc")
def main() -> None:
    """ioc — Trung tâm giám sát, điều hành đô thị thông minh (Intelligent Operations Center)."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Địa chỉ lắng nghe / bind address")
@click.option("--port", default=8000, show_default=True, type=int, help="Cổng / port")
@click.option("--reload", is_flag=True, help="Reload on code changes (development only)")
@click.option(
    "--demo-activity",
    is_flag=True,
    help="Chạy hoạt động demo: số liệu mô phỏng, phản ánh mới / live demo activity (IOC_DEMO_ACTIVITY=true)",
)
def run(host: str, port: int, reload: bool, demo_activity: bool) -> None:
    """Serve the UI, API, ingestion and jobs in one process."""
    import uvicorn

    from .app import create_app
    from .core.logging import configure_logging

    settings = settings_or_exit()
    if demo_activity:
        settings = settings.model_copy(update={"demo_activity": True})
    configure_logging(settings.log_level, settings.log_json)

    async def check(runtime: Runtime) -> None:
        await check_brokers(runtime.settings)

    run_with_runtime(check)
    try:
        app = create_app(settings)
    except ModuleLoadError as exc:
        fail(str(exc), 2)
        return
    click.echo(f"ioc đang chạy tại / serving at http://{host}:{port}")
    if settings.demo_activity and settings.run_background:
        click.echo("Hoạt động demo đang chạy / demo activity is on (simulated readings, new citizen reports)")
    uvicorn.run(app, host=host, port=port, log_config=None, proxy_headers=True, reload=False)


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the database to the newest schema."""
    settings = settings_or_exit()
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        migrate.upgrade(url, revision)
    except (OperationalError, DBAPIError, OSError) as exc:
        fail(f"Không nâng cấp được cơ sở dữ liệu / cannot migrate the database: {type(exc).__name__}: {str(exc)[:300]}")
    click.echo(f"Cơ sở dữ liệu đã ở phiên bản mới nhất / database at {migrate.head_revision()}")


@db.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one."""
    settings = settings_or_exit()
    current = asyncio.run(migrate.current_revision(settings.resolved_database_url))
    click.echo(f"current: {current}\nhead:    {migrate.head_revision()}")


@db.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--empty", is_flag=True, help="Write an empty revision instead of comparing models")
def db_revision(message: str, empty: bool) -> None:
    """Write a new migration from the difference between the models and the database."""
    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.make_revision(settings.resolved_database_url, message, autogenerate=not empty)


@main.group()
def demo() -> None:
    """Demo data."""


@demo.command("seed")
def demo_seed() -> None:
    """Load the demo data of every enabled module (safe to run again)."""

    for line in run_with_runtime(seed_demo):
        click.echo(line)


@main.group()
def module() -> None:
    """Module tools."""


@module.command("new")
@click.argument("name")
@click.option(
    "--root",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Project root holding src/, tests/ and docs/",
)
@click.option("--title-vi", default="", help="Vietnamese title")
@click.option("--title-en", default="", help="English title")
def module_new(name: str, root: Path, title_vi: str, title_en: str) -> None:
    """Create a new module with the standard anatomy, its tests and its doc page."""
    from .core.scaffold import ScaffoldError, create_module

    try:
        created = create_module(root, name, title_vi=title_vi or None, title_en=title_en or None)
    except ScaffoldError as exc:
        fail(str(exc), 2)
        return
    for path in created:
        click.echo(f"  + {path}")
    click.echo(f"Bật module bằng IOC_MODULES=...,{name} / enable it by adding {name!r} to IOC_MODULES.")


def echo_table(rows: list[dict[str, Any]]) -> None:
    """Print rows as aligned columns."""
    if not rows:
        return
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(str(r.get(k, ""))) for r in rows)) for k in keys}
    click.echo("  ".join(k.ljust(widths[k]) for k in keys))
    for row in rows:
        click.echo("  ".join(str(row.get(k, "")).ljust(widths[k]) for k in keys))


@main.group()
def calendar() -> None:
    """The working calendar: holidays and make-up working days."""


@calendar.command("show")
@click.argument("year", type=int)
def calendar_show(year: int) -> None:
    """List the holidays of a year and its number of working days."""
    from datetime import date, timedelta

    async def show(runtime: Runtime) -> list[dict[str, Any]]:
        cal = runtime.calendar
        rows: list[dict[str, Any]] = [
            {"ngày/day": d.strftime("%d/%m/%Y"), "loại/kind": "nghỉ/holiday", "tên/name": name}
            for d, name in sorted(cal.holidays(year).items())
        ]
        rows += [
            {"ngày/day": d.strftime("%d/%m/%Y"), "loại/kind": "làm bù/working day", "tên/name": name}
            for d, (kind, name) in sorted(cal.overrides.items())
            if kind == "working_day" and d.year == year
        ]
        start = date(year, 1, 1)
        total = sum(cal.is_working_day(start + timedelta(days=i)) for i in range((date(year + 1, 1, 1) - start).days))
        rows.append({"ngày/day": "", "loại/kind": "ngày làm việc/working days", "tên/name": str(total)})
        return rows

    echo_table(run_with_runtime(show))


@calendar.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"]))
@click.option("--kind", type=click.Choice(["holiday", "working_day"]), required=True)
@click.option("--name", required=True, help="e.g. 'Nghỉ Tết theo Thông báo của Thủ tướng'")
def calendar_set(day: Any, kind: str, name: str) -> None:
    """Record a decided holiday or make-up working day (overrides the law's default)."""
    from .core.models import CalendarDay

    async def write(runtime: Runtime) -> None:
        async with runtime.db.transaction() as session:
            row = await session.get(CalendarDay, day.date())
            if row is None:
                session.add(CalendarDay(day=day.date(), kind=kind, name=name))
            else:
                row.kind, row.name = kind, name

    run_with_runtime(write)
    click.echo(f"{day.date():%d/%m/%Y}: {kind} — {name}")
