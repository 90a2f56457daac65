"""The `ioc org-unit` commands: import units (CSV) and boundaries (GeoJSON) from files."""

from __future__ import annotations

from pathlib import Path

import click

from ioc.core.commands import fail, run_with_runtime
from ioc.core.runtime import Runtime

from . import service
from .constants import DEFAULT_CODE_PROPERTY, GeometrySource
from .exceptions import OrgUnitImportFailed
from .schemas import ImportProblem, ImportReport

FILE_ARGUMENT = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


def describe(problem: ImportProblem) -> str:
    """Return one import problem as a line for a person."""
    where = []
    if problem.row is not None:
        where.append(f"dòng/row {problem.row}")
    if problem.feature is not None:
        where.append(f"đối tượng/feature {problem.feature}")
    if problem.column:
        where.append(f"cột/column {problem.column}")
    prefix = ", ".join(where) or "tệp/file"
    return f"  {prefix}: {problem.message_vi} / {problem.message_en}"


def _report_failure(exc: OrgUnitImportFailed) -> None:
    lines = [f"{exc.message_vi} / {exc.message_en}", *(describe(problem) for problem in exc.problems)]
    fail("\n".join(lines))


def _echo_report(report: ImportReport) -> None:
    click.echo(
        f"Đã nhập / imported: {report.created} mới / created, {report.updated} cập nhật / updated, "
        f"{report.unchanged} không đổi / unchanged."
    )


@click.group("org-unit")
def org_unit_group() -> None:
    """Đơn vị hành chính / administrative units: import units and boundaries."""


@org_unit_group.command("import-units")
@click.argument("file", type=FILE_ARGUMENT)
def import_units(file: Path) -> None:
    """Import units from a CSV file (code,name,level,parent_code,unit_type,valid_from,valid_to)."""
    data = file.read_bytes()

    async def work(runtime: Runtime) -> ImportReport:
        async with runtime.db.transaction() as session:
            report = await service.import_units_csv(session, data)
        await runtime.drain()
        return report

    try:
        _echo_report(run_with_runtime(work))
    except OrgUnitImportFailed as exc:
        _report_failure(exc)


@org_unit_group.command("import-boundaries")
@click.argument("file", type=FILE_ARGUMENT)
@click.option(
    "--code-property",
    default=DEFAULT_CODE_PROPERTY,
    show_default=True,
    help="Thuộc tính chứa mã đơn vị / feature property holding the unit code",
)
@click.option(
    "--source",
    type=click.Choice([member.value for member in GeometrySource]),
    default=GeometrySource.OFFICIAL.value,
    show_default=True,
    help="Nguồn ranh giới / where the boundaries come from",
)
@click.option("--source-epsg", type=int, default=None, help="EPSG gốc trước khi chuyển sang WGS 84 / original EPSG")
def import_boundaries(file: Path, code_property: str, source: str, source_epsg: int | None) -> None:
    """Import unit boundaries from a GeoJSON FeatureCollection in WGS 84."""
    data = file.read_bytes()

    async def work(runtime: Runtime) -> ImportReport:
        async with runtime.db.transaction() as session:
            report = await service.import_boundaries_geojson(
                session,
                data,
                code_property=code_property,
                source=GeometrySource(source),
                source_epsg=source_epsg,
            )
        await runtime.drain()
        return report

    try:
        _echo_report(run_with_runtime(work))
    except OrgUnitImportFailed as exc:
        _report_failure(exc)
