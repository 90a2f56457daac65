"""The `ioc org-unit` import commands as an operator runs them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from ioc.core import commands
from ioc.core.runtime import Runtime
from ioc.core.settings import Settings
from ioc.modules.org_unit.commands import org_unit_group
from ioc.modules.org_unit.models import OrgUnit

GOOD_CSV = """code,name,level,parent_code,unit_type,valid_from,valid_to
80,Tỉnh Tây Ninh,province,,tỉnh,2025-07-01,
27727,Xã Hưng Điền,commune,80,xã,2025-07-01,
"""
BAD_CSV = """code,name,level,parent_code,unit_type,valid_from,valid_to
80,Tỉnh Tây Ninh,province,,tỉnh,2025-07-01,
27727,Xã Hưng Điền,hamlet,80,xã,2025-07-01,
27736,Xã Vĩnh Thạnh,commune,99,xã,1 July 2025,
"""
BAD_GEOJSON = '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"ma":"80"},"geometry":null}]}'


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A runner whose commands reach the test database (schema made from the models, not migrated)."""
    monkeypatch.chdir(tmp_path)  # no stray .env file is read
    for key, value in {
        "IOC_ENV": settings.env.value,
        "IOC_SECRET_KEY": settings.secret_key,
        "IOC_DATABASE_URL": settings.database_url,
        "IOC_DATA_DIR": str(settings.data_dir),
        "IOC_MODULES": ",".join(settings.modules),
        "IOC_LOG_JSON": "false",
    }.items():
        monkeypatch.setenv(key, value)

    async def database_answers(runtime: Runtime) -> None:
        # The test schema comes from the models, so there is no migration revision to compare.
        await runtime.check_database()

    monkeypatch.setattr(commands, "ensure_database_ready", database_answers)
    return CliRunner()


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


async def _unit_count(settings: Settings) -> int:
    runtime = Runtime(settings)
    try:
        async with runtime.db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(OrgUnit)) or 0)
    finally:
        await runtime.db.dispose()


def test_import_units_reports_what_it_created(cli: CliRunner, tmp_path: Path, settings: Settings) -> None:
    result = cli.invoke(org_unit_group, ["import-units", str(_write(tmp_path, "units.csv", GOOD_CSV))])
    assert result.exit_code == 0, result.output
    assert "2 mới / created" in result.output
    assert asyncio.run(_unit_count(settings)) == 2


def test_a_bad_csv_exits_non_zero_listing_every_row_and_writes_nothing(
    cli: CliRunner, tmp_path: Path, settings: Settings
) -> None:
    result = cli.invoke(org_unit_group, ["import-units", str(_write(tmp_path, "bad.csv", BAD_CSV))])
    assert result.exit_code != 0
    assert "dòng/row 3, cột/column level" in result.output
    assert "dòng/row 4, cột/column valid_from" in result.output
    assert "dòng/row 4, cột/column parent_code" not in result.output  # a row with a bad date is not looked up
    assert "không có dữ liệu nào được ghi" in result.output
    assert asyncio.run(_unit_count(settings)) == 0  # the good first row was not written either


def test_a_bad_geojson_exits_non_zero_naming_the_feature(cli: CliRunner, tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.geojson", BAD_GEOJSON)
    result = cli.invoke(org_unit_group, ["import-boundaries", str(path), "--code-property", "ma"])
    assert result.exit_code != 0
    assert "đối tượng/feature 0, cột/column geometry" in result.output


def test_commands_are_registered_in_the_manifest() -> None:
    from ioc.modules.org_unit.manifest import manifest

    group = next(command for command in manifest.commands if command.name == "org-unit")
    assert set(getattr(group, "commands", {})) == {"import-units", "import-boundaries"}
