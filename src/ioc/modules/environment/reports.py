"""Daily and monthly station reports (Excel and PDF): hourly or daily means, the index and the exceedances.

Times are the province's wall-clock time; headings are Vietnamese first, then English.
"""

from __future__ import annotations

import io
import re
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.documents import ReportPdf
from ioc.core.time import PROVINCE_TZ, local_today, to_local, utc_now
from ioc.modules import telemetry

from . import evaluation, stations
from .constants import REPORT_MAX_DAYS, AqiStandard, StationKind
from .exceptions import InvalidReportPeriod
from .indices.common import HOURS_PER_8H
from .models import Exceedance, IndexDay, IndexHour
from .schemas import ExceedanceRead, StationRead
from .views import primary_standard

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HOUR = timedelta(hours=1)
KIND_NAMES = {
    StationKind.AIR: "Không khí / Air",
    StationKind.SURFACE_WATER: "Nước mặt / Surface water",
    StationKind.WASTEWATER: "Nước thải / Wastewater",
}


@dataclass
class StationReport:
    """What a report shows, ready for Excel or PDF."""

    station: StationRead
    title: str
    period_label: str
    filename_stem: str
    headers: list[str]
    rows: list[list[object]]
    summary: list[tuple[str, str]] = field(default_factory=list)
    exceedances: list[ExceedanceRead] = field(default_factory=list)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _parameters(station: StationRead) -> list[str]:
    return [p for p in station.datastreams if p != "temperature"] + (
        ["temperature"] if "temperature" in station.datastreams else []
    )


async def _hourly(
    session: AsyncSession, station: StationRead, start: datetime, end: datetime
) -> dict[str, dict[datetime, float]]:
    ids = {ds: p for p, ds in station.datastreams.items()}
    means = await telemetry.hourly_means(session, list(ids), start, end)
    return {ids[ds]: values for ds, values in means.items() if ds in ids}


async def _exceedances(session: AsyncSession, station_id: int, start: datetime, end: datetime) -> list[ExceedanceRead]:
    rows = await session.scalars(
        select(Exceedance)
        .where(
            Exceedance.station_id == station_id,
            Exceedance.started_at < end,
            or_(Exceedance.ended_at.is_(None), Exceedance.ended_at > start),
        )
        .order_by(Exceedance.started_at)
    )
    return [ExceedanceRead.model_validate(row) for row in rows]


async def _index_hours(
    session: AsyncSession, station: StationRead, start: datetime, end: datetime
) -> dict[datetime, int]:
    standard = primary_standard(station)
    rows = await session.execute(
        select(IndexHour.hour, IndexHour.value).where(
            IndexHour.station_id == station.id,
            IndexHour.standard == standard,
            IndexHour.hour >= start,
            IndexHour.hour < end,
        )
    )
    return {hour: int(value) for hour, value in rows}


async def _stored_days(session: AsyncSession, station_id: int, first: date, last: date) -> dict[tuple[date, str], int]:
    rows = await session.execute(
        select(IndexDay.day, IndexDay.standard, IndexDay.value).where(
            IndexDay.station_id == station_id, IndexDay.day >= first, IndexDay.day <= last
        )
    )
    return {(day, standard): int(value) for day, standard, value in rows}


def day_value(
    stored: dict[tuple[date, str], int],
    decimals: dict[str, dict[datetime, Decimal]],
    day: date,
    standard: AqiStandard,
) -> int | None:
    """Return a day's air index as stored by the evaluation job, or computed now (a day still running, old data)."""
    if (day, standard.value) in stored:
        return stored[(day, standard.value)]
    found = evaluation.day_index(decimals, day, standard)
    return found.value if found else None


def _day_text(value: int | None, standard: AqiStandard) -> str:
    if value is None:
        return "Không đủ số liệu (cần 18/24 giờ) / not enough data (18 of 24 hours needed)"
    return f"{value} ({evaluation.category_of(standard.value, value).name_vi})"


def _unit(station: StationRead, parameter: str) -> str:
    if parameter == "pH":
        return ""
    if parameter == "temperature":
        return " (°C)"
    return " (µg/m³)" if station.kind is StationKind.AIR else " (mg/L)"


def _headers(station: StationRead, first: str, index_label: str) -> list[str]:
    return [first, index_label, *[p + _unit(station, p) for p in _parameters(station)]]


async def daily_report(session: AsyncSession, code: str, day: date) -> StationReport:
    """Build a station's report of one local day: hourly means, hourly index, daily index, exceedances."""
    if day > local_today():
        raise InvalidReportPeriod()
    station = await stations.station_by_code(session, code)
    start = _utc_start(day)
    end = start + timedelta(days=1)
    series = await _hourly(session, station, start - HOUR * (HOURS_PER_8H - 1), end)
    index = await _index_hours(session, station, start, end)
    parameters = _parameters(station)
    rows: list[list[object]] = []
    for i in range(24):
        hour = start + HOUR * i
        rows.append(
            [
                f"{to_local(hour):%H:%M}",
                index.get(hour),
                *[_round(series.get(p, {}).get(hour)) for p in parameters],
            ]
        )
    summary = [
        ("Trạm / Station", f"{station.code} — {station.name}"),
        ("Loại trạm / Kind", KIND_NAMES[station.kind]),
        ("Ngày / Day", f"{day:%d/%m/%Y}"),
    ]
    if station.kind is StationKind.AIR:
        stored = await _stored_days(session, station.id, day, day)
        decimals = evaluation.as_decimals(series)
        summary.append(
            (
                "VN_AQI ngày / daily VN_AQI",
                _day_text(day_value(stored, decimals, day, AqiStandard.VN_AQI), AqiStandard.VN_AQI),
            )
        )
        if station.us_aqi:
            summary.append(
                (
                    "US AQI ngày / daily US AQI",
                    _day_text(day_value(stored, decimals, day, AqiStandard.US_AQI), AqiStandard.US_AQI),
                )
            )
    for p in parameters:
        values = [v for h, v in series.get(p, {}).items() if start <= h < end]
        if values:
            summary.append(
                (
                    f"{p}: TB / mean · min · max",
                    f"{sum(values) / len(values):.2f} · {min(values):.2f} · {max(values):.2f} ({len(values)} giờ / h)",
                )
            )
    return StationReport(
        station=station,
        title=f"Báo cáo ngày trạm {station.code} / Daily station report",
        period_label=f"{day:%d/%m/%Y}",
        filename_stem=f"{station.code}-{day:%Y%m%d}",
        headers=_headers(station, "Giờ / Hour (UTC+7)", f"{station.index_standard or 'Chỉ số'} giờ / hourly index"),
        rows=rows,
        summary=summary,
        exceedances=await _exceedances(session, station.id, start, end),
    )


def _utc_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PROVINCE_TZ).astimezone(UTC)


async def monthly_report(session: AsyncSession, code: str, year: int, month: int) -> StationReport:
    """Build a station's report of one month: daily means, daily index (air) or highest hourly index, exceedances."""
    if not 1 <= month <= 12 or not 2000 <= year <= 2100 or date(year, month, 1) > local_today():
        raise InvalidReportPeriod()
    station = await stations.station_by_code(session, code)
    days = monthrange(year, month)[1]
    first_day = date(year, month, 1)
    start = _utc_start(first_day)
    end = _utc_start(first_day + timedelta(days=days))
    series = await _hourly(session, station, start - HOUR * (HOURS_PER_8H - 1), end)
    index = await _index_hours(session, station, start, end)
    parameters = _parameters(station)
    stored = await _stored_days(session, station.id, first_day, first_day + timedelta(days=days - 1))
    decimals = evaluation.as_decimals(series)
    us = station.kind is StationKind.AIR and station.us_aqi
    rows: list[list[object]] = []
    for offset in range(min(days, REPORT_MAX_DAYS)):
        day = first_day + timedelta(days=offset)
        day_start = _utc_start(day)
        day_end = day_start + timedelta(days=1)
        extra: list[object] = []
        if station.kind is StationKind.AIR:
            day_index: int | None = (
                day_value(stored, decimals, day, AqiStandard.VN_AQI) if day <= local_today() else None
            )
            if us:
                extra.append(day_value(stored, decimals, day, AqiStandard.US_AQI) if day <= local_today() else None)
        else:
            values = [v for h, v in index.items() if day_start <= h < day_end]
            day_index = max(values) if values else None
        means = []
        for p in parameters:
            values_p = [v for h, v in series.get(p, {}).items() if day_start <= h < day_end]
            means.append(_round(sum(values_p) / len(values_p)) if values_p else None)
        rows.append([f"{day:%d/%m/%Y}", day_index, *extra, *means])
    index_label = "VN_AQI ngày / daily VN_AQI" if station.kind is StationKind.AIR else "Chỉ số giờ cao nhất / highest"
    headers = _headers(station, "Ngày / Day", index_label)
    if us:
        headers.insert(2, "US AQI ngày / daily US AQI")
    return StationReport(
        station=station,
        title=f"Báo cáo tháng trạm {station.code} / Monthly station report",
        period_label=f"{month:02d}/{year}",
        filename_stem=f"{station.code}-{year}{month:02d}",
        headers=headers,
        rows=rows,
        summary=[
            ("Trạm / Station", f"{station.code} — {station.name}"),
            ("Loại trạm / Kind", KIND_NAMES[station.kind]),
            ("Tháng / Month", f"{month:02d}/{year}"),
            ("Giá trị / Values", "Trung bình các giờ / mean of the hourly means"),
        ],
        exceedances=await _exceedances(session, station.id, start, end),
    )


EXCEEDANCE_HEADERS = [
    "Thông số / Parameter",
    "Quy chuẩn / Regulation",
    "Thời gian TB / Averaging",
    "Giới hạn / Limit",
    "Giá trị lớn nhất / Peak",
    "Bắt đầu / Started (UTC+7)",
    "Kết thúc / Ended (UTC+7)",
]


def _exceedance_row(item: ExceedanceRead) -> list[object]:
    return [
        item.parameter,
        item.regulation.replace("_", " "),
        item.period,
        item.limit_value,
        round(item.peak_value, 2),
        f"{to_local(item.started_at):%d/%m/%Y %H:%M}",
        f"{to_local(item.ended_at):%d/%m/%Y %H:%M}" if item.ended_at else "Đang vượt / ongoing",
    ]


def filename(report: StationReport, extension: str) -> str:
    """Return an ASCII file name for a report."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", report.filename_stem) + f".{extension}"


def to_xlsx(report: StationReport) -> bytes:
    """Write a report as an Excel workbook: the data sheet, then the exceedances sheet."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = "So lieu"
    sheet.append([report.title])
    sheet.append([report.period_label])
    for label, value in report.summary:
        sheet.append([label, value])
    sheet.append([])
    sheet.append(report.headers)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in report.rows:
        sheet.append(row)
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.column_dimensions["A"].width = 24
    exceed = workbook.create_sheet("Vuot nguong")
    exceed.append(EXCEEDANCE_HEADERS)
    for cell in exceed[1]:
        cell.font = Font(bold=True)
    for item in report.exceedances:
        exceed.append(_exceedance_row(item))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_pdf(report: StationReport) -> bytes:
    """Write a report as a PDF document (landscape: one column per parameter)."""
    pdf = ReportPdf(report.title, subtitle=report.period_label, generated_at=to_local(utc_now()), landscape=True)
    pdf.key_values(report.summary)
    pdf.heading("Số liệu / Data")
    pdf.data_table(report.headers, [["" if v is None else v for v in row] for row in report.rows])
    pdf.heading("Vượt ngưỡng QCVN / QCVN exceedances")
    if report.exceedances:
        pdf.data_table(EXCEEDANCE_HEADERS, [_exceedance_row(item) for item in report.exceedances])
    else:
        pdf.paragraph("Không có / none.")
    return pdf.to_bytes()
