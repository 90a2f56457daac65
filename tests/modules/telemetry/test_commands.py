"""The commands an operator runs: `ioc simulate`, `ioc telemetry import`, `ioc telemetry token`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from click.testing import CliRunner
from sqlalchemy import func, select

from ioc.cli import main
from ioc.core.runtime import Runtime
from ioc.core.settings import Settings
from ioc.modules.telemetry import InvalidDeviceToken, service
from ioc.modules.telemetry.models import Device, Observation
from ioc.modules.telemetry.simulator import STATIONS, device_create

CSV = (
    "device_code,name,lat,lon,datastream_key,observed_property,unit,unit_symbol,valid_min,valid_max,retention_days\n"
    "KK-30,Trạm E,11.3,106.1,pm25,PM2.5,,µg/m³,0,1000,\n"
)


T = TypeVar("T")


def on_runtime(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run async work against the test database from a synchronous test (commands run their own loop)."""

    async def go() -> T:
        runtime = Runtime(settings)
        try:
            return await work(runtime)
        finally:
            await runtime.db.dispose()

    return asyncio.run(go())


def test_simulate_once_without_a_broker_ingests_in_process(cli: CliRunner, settings: Settings) -> None:
    async def register(runtime: Runtime) -> None:
        async with runtime.db.transaction() as session:
            for station in STATIONS:
                await service.create_device(session, device_create(station))

    async def counts(runtime: Runtime) -> tuple[int | None, int | None]:
        async with runtime.db.session() as session:
            talking = await session.scalar(select(func.count()).where(Device.last_seen_at.is_not(None)))
            readings = await session.scalar(select(func.count()).select_from(Observation))
        return talking, readings

    on_runtime(settings, register)
    result = cli.invoke(main, ["simulate", "--once"])
    assert result.exit_code == 0, result.output
    assert "in-process" in result.output
    talking, readings = on_runtime(settings, counts)
    assert talking == len(STATIONS) - 1  # the silent station says nothing
    assert readings == sum(len(s.quantities) for s in STATIONS if not s.silent)


def _accepted(settings: Settings, token: str) -> bool:
    async def check(runtime: Runtime) -> bool:
        async with runtime.db.session() as session:
            try:
                await service.authenticate_device(session, token)
            except InvalidDeviceToken:
                return False
        return True

    return on_runtime(settings, check)


def test_import_prints_each_new_token_once_and_token_issues_a_new_one(
    cli: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "devices.csv"
    path.write_text(CSV, encoding="utf-8")
    imported = cli.invoke(main, ["telemetry", "import", str(path)])
    assert imported.exit_code == 0, imported.output
    token = next(line.split(": ")[1] for line in imported.output.splitlines() if line.startswith("  KK-30: "))
    assert _accepted(settings, token)
    rotated = cli.invoke(main, ["telemetry", "token", "KK-30"])
    assert rotated.exit_code == 0, rotated.output
    new_token = rotated.output.strip()
    assert new_token.startswith("dev_")
    assert _accepted(settings, new_token)
    assert not _accepted(settings, token)
    missing = cli.invoke(main, ["telemetry", "token", "KHONG-CO"])
    assert missing.exit_code == 1
    assert "KHONG-CO" in missing.output


def test_a_faulty_file_is_reported_row_by_row(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(CSV.replace("11.3,106.1", "11.3,"), encoding="utf-8")
    result = cli.invoke(main, ["telemetry", "import", str(path)])
    assert result.exit_code == 1
    assert "dòng/row 2" in result.output
