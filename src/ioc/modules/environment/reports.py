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

from . import stations
from .constants import REPORT_MAX_DAYS, AqiPeriod, Pollutant, StationKind
from .exceptions import CalculationRejected, InvalidReportPeriod
from .indices import vn_aqi
from .indices.common import HOURS_PER_8H, derive_inputs
from .models import Exceedance, IndexHour
from .schemas import ExceedanceRead, StationRead

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


async def _index_hours(session: AsyncSession, station_id: int, start: datetime, end: datetime) -> dict[datetime, int]:
    rows = await session.execute(
        select(IndexHour.hour, IndexHour.value).where(
            IndexHour.station_id == station_id, IndexHour.hour >= start, IndexHour.hour < end
        )
    )
    return {hour: int(value) for hour, value in rows}


def daily_aqi(series: dict[str, dict[datetime, float]], day_start: datetime) -> tuple[int, str] | None:
    """Compute a day's VN_AQI (Decision 1459 §2.2.2: hours 01:00 → 00:00, i.e. the hours starting 00:00 → 23:00)."""
    hours = [day_start + HOUR * i for i in range(-(HOURS_PER_8H - 1), 24)]
    hourly: dict[Pollutant, list[Decimal | None]] = {}
    for parameter, values in series.items():
        pollutant = next((p for p in Pollutant if p.value == parameter), None)
        if pollutant is not None:
            hourly[pollutant] = [Decimal(str(round(values[h], 6))) if h in values else None for h in hours]
    if not hourly:
        return None
    try:
        derived = derive_inputs(hourly, AqiPeriod.DAY, vn_aqi.DERIVATION[AqiPeriod.DAY], vn_aqi.NOWCAST_SOURCE)
        result = vn_aqi.calculate(derived.values, AqiPeriod.DAY, tuple(derived.notes))
    except CalculationRejected:
        return None
    return result.aqi, result.category.name_vi


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
    index = await _index_hours(session, station.id, start, end)
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
        aqi = daily_aqi(series, start)
        summary.append(
            ("VN_AQI ngày / daily VN_AQI", f"{aqi[0]} ({aqi[1]})" if aqi else "Không đủ số liệu / not enough data")
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
    index = await _index_hours(session, station.id, start, end)
    parameters = _parameters(station)
    rows: list[list[object]] = []
    for offset in range(min(days, REPORT_MAX_DAYS)):
        day = first_day + timedelta(days=offset)
        day_start = _utc_start(day)
        day_end = day_start + timedelta(days=1)
        if station.kind is StationKind.AIR:
            aqi = daily_aqi(series, day_start)
            day_index: int | None = aqi[0] if aqi else None
        else:
            values = [v for h, v in index.items() if day_start <= h < day_end]
            day_index = max(values) if values else None
        means = []
        for p in parameters:
            values_p = [v for h, v in series.get(p, {}).items() if day_start <= h < day_end]
            means.append(_round(sum(values_p) / len(values_p)) if values_p else None)
        rows.append([f"{day:%d/%m/%Y}", day_index, *means])
    index_label = "VN_AQI ngày / daily VN_AQI" if station.kind is StationKind.AIR else "Chỉ số giờ cao nhất / highest"
    return StationReport(
        station=station,
        title=f"Báo cáo tháng trạm {station.code} / Monthly station report",
        period_label=f"{month:02d}/{year}",
        filename_stem=f"{station.code}-{year}{month:02d}",
        headers=_headers(station, "Ngày / Day", index_label),
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
