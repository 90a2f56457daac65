"""HTTP layer of the telemetry module: device ingestion, registry, series, exports, dead letters and pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, File, Header, Query, Request, UploadFile, status
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.errors import ValidationFailed
from ioc.core.http import Page, PageParams, db_session, page_params
from ioc.core.i18n import request_language
from ioc.core.security import Principal
from ioc.core.templating import render
from ioc.core.time import utc_now

from . import export, ingest, service
from .constants import (
    API_PREFIX,
    DEVICE_TOKEN_HEADER,
    HTTP_REJECTION_LIMIT,
    MAX_EXPORT_ROWS,
    MAX_IMPORT_BYTES,
    MAX_PAYLOAD_BYTES,
    PAGE_DEAD_LETTERS,
    PAGE_DEVICES,
    PAGE_SIZE,
    DeadLetterReason,
    DeviceStatus,
    ExportFormat,
    IngestSource,
    Resolution,
)
from .deps import dead_letter_filters, device_filters, require_admin, require_read
from .ingest import BatchResult, InboundMessage
from .schemas import (
    DatastreamCreate,
    DatastreamRead,
    DeadLetterFilters,
    DeadLetterRead,
    DeviceCreate,
    DeviceCreated,
    DeviceFilters,
    DeviceImportReport,
    DeviceRead,
    DeviceToken,
    DeviceUpdate,
    IngestRejection,
    IngestResult,
    Series,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Cần đăng nhập / login required"},
    403: {"description": "Không có quyền / scope missing"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Không tìm thấy / not found"}}

api_router = APIRouter(prefix=API_PREFIX, tags=["telemetry"])
page_router = APIRouter(include_in_schema=False)


# --- ingestion ---------------------------------------------------------------------------------------------------


async def _read_body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        chunks.append(chunk)
        if size > MAX_PAYLOAD_BYTES:
            break  # the parser refuses it as too large and keeps its beginning as a dead letter
    return b"".join(chunks)


def _ingest_answer(result: BatchResult) -> IngestResult:
    rejections = [
        IngestRejection(
            index=r.index, key=r.key, time=r.time, reason=r.reason, message_vi=r.message_vi, message_en=r.message_en
        )
        for outcome in result.outcomes
        for r in outcome.rejections
    ]
    return IngestResult(
        accepted=result.accepted,
        rejected=len(rejections),
        dead_letter_ids=[i for outcome in result.outcomes for i in outcome.dead_letter_ids],
        rejections=rejections[:HTTP_REJECTION_LIMIT],
        rejections_truncated=len(rejections) > HTTP_REJECTION_LIMIT,
    )


@api_router.post(
    "",
    response_model=IngestResult,
    summary="Thiết bị gửi dữ liệu / a device posts readings",
    responses={
        401: {"description": f"Thiếu hoặc sai mã thiết bị ({DEVICE_TOKEN_HEADER}) / missing or invalid device token"},
        422: {"model": IngestResult, "description": "Không giá trị nào được nhận / nothing was accepted"},
    },
)
async def post_readings(
    request: Request,
    device_token: str | None = Header(
        None, alias=DEVICE_TOKEN_HEADER, description="Mã xác thực thiết bị / the device token (dev_...)"
    ),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Store a batch from one device (`{"ts", "values"}`, a list of them, or SenML); refusals become dead letters.

    The device authenticates with its own token in the `X-Device-Token` header (not `Authorization`, which
    carries user API keys). The answer counts accepted and refused readings with a reason for each refusal;
    it is 422 when readings were sent and none was accepted.
    """
    device_id = await service.authenticate_device(session, device_token)
    message = InboundMessage(
        payload=await _read_body(request),
        source=IngestSource.HTTP,
        device_id=device_id,
        content_type=request.headers.get("content-type"),
    )
    answer = _ingest_answer(await ingest.write_and_commit(session, [message]))
    code = status.HTTP_422_UNPROCESSABLE_CONTENT if answer.rejected and not answer.accepted else status.HTTP_200_OK
    return JSONResponse(answer.model_dump(mode="json"), status_code=code)


# --- registry ----------------------------------------------------------------------------------------------------


@api_router.get("/devices", response_model=Page[DeviceRead], summary="Thiết bị / devices", responses=ERRORS)
async def list_devices(
    filters: DeviceFilters = Depends(device_filters),
    page: PageParams = Depends(page_params),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> Page[DeviceRead]:
    """List devices with their online status and the latest value of each datastream."""
    return await service.list_devices(session, filters, page)


@api_router.post(
    "/devices",
    response_model=DeviceCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Khai báo thiết bị / register a device",
    responses={**ERRORS, 409: {"description": "Mã đã dùng / code taken"}},
)
async def create_device(
    data: DeviceCreate,
    _principal: Principal = Depends(require_admin),
    session: AsyncSession = Depends(db_session),
) -> DeviceCreated:
    """Register a device with its datastreams; the device token is shown in this answer only."""
    created = await service.create_device(session, data)
    await session.commit()
    return created


@api_router.post(
    "/devices/import",
    response_model=DeviceImportReport,
    summary="Khai báo thiết bị hàng loạt từ CSV / provision devices from CSV",
    responses={**ERRORS, 422: {"description": "Tệp có lỗi, không ghi gì / faulty file, nothing written"}},
)
async def import_devices(
    file: UploadFile = File(..., description="CSV: " + ", ".join(("device_code", "name", "lat", "lon", "..."))),
    _principal: Principal = Depends(require_admin),
    session: AsyncSession = Depends(db_session),
) -> DeviceImportReport:
    """Create or update devices and datastreams from a CSV, all or nothing; new devices' tokens are shown once."""
    data = await file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed(
            f"Tệp lớn hơn {MAX_IMPORT_BYTES // (1024 * 1024)} MB.",
            f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.",
        )
    report = await service.import_devices_csv(session, data)
    await session.commit()
    return report


@api_router.get(
    "/devices/{code}", response_model=DeviceRead, summary="Một thiết bị / one device", responses=ERRORS | NOT_FOUND
)
async def get_device(
    code: str, _principal: Principal = Depends(require_read), session: AsyncSession = Depends(db_session)
) -> DeviceRead:
    """Return a device, its status and its datastreams with their latest values."""
    return await service.get_device(session, code)


@api_router.patch(
    "/devices/{code}", response_model=DeviceRead, summary="Sửa thiết bị / change a device", responses=ERRORS | NOT_FOUND
)
async def update_device(
    code: str,
    data: DeviceUpdate,
    _principal: Principal = Depends(require_admin),
    session: AsyncSession = Depends(db_session),
) -> DeviceRead:
    """Change a device's name, location, offline threshold or activity (a disabled device's data is refused)."""
    read = await service.update_device(session, code, data)
    await session.commit()
    return read


@api_router.post(
    "/devices/{code}/token",
    response_model=DeviceToken,
    summary="Cấp lại mã thiết bị / issue a new device token",
    responses=ERRORS | NOT_FOUND,
)
async def rotate_token(
    code: str, _principal: Principal = Depends(require_admin), session: AsyncSession = Depends(db_session)
) -> DeviceToken:
    """Issue a new token for a device (shown once); the old token stops working at once."""
    token = await service.rotate_token(session, code)
    await session.commit()
    return token


@api_router.post(
    "/devices/{code}/datastreams",
    response_model=DatastreamRead,
    status_code=status.HTTP_201_CREATED,
    summary="Thêm luồng dữ liệu / add a datastream",
    responses=ERRORS | NOT_FOUND | {409: {"description": "Khoá đã có / key exists"}},
)
async def add_datastream(
    code: str,
    data: DatastreamCreate,
    _principal: Principal = Depends(require_admin),
    session: AsyncSession = Depends(db_session),
) -> DatastreamRead:
    """Declare a new datastream (payload key, observed property, unit, valid range, retention) on a device."""
    read = await service.add_datastream(session, code, data)
    await session.commit()
    return read


@api_router.get(
    "/datastreams", response_model=list[DatastreamRead], summary="Luồng dữ liệu / datastreams", responses=ERRORS
)
async def list_datastreams(
    device: str | None = Query(None, max_length=64, description="Mã thiết bị / device code"),
    key: str | None = Query(None, max_length=64),
    observed_property: str | None = Query(None, max_length=120),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> list[DatastreamRead]:
    """List datastreams with their latest value (the newest reading by phenomenon time)."""
    return await service.list_datastreams(session, device, key, observed_property)


@api_router.get(
    "/datastreams/{datastream_id}",
    response_model=DatastreamRead,
    summary="Một luồng dữ liệu / one datastream",
    responses=ERRORS | NOT_FOUND,
)
async def get_datastream(
    datastream_id: int, _principal: Principal = Depends(require_read), session: AsyncSession = Depends(db_session)
) -> DatastreamRead:
    """Return one datastream with its latest value."""
    return await service.get_datastream(session, datastream_id)


PERIOD_START = Query(None, alias="from", description="Từ (ISO 8601, mặc định: 24 giờ trước) / from")
PERIOD_END = Query(None, alias="to", description="Đến (ISO 8601, mặc định: bây giờ) / to")
DAYS = Query(None, ge=1, le=36_500, description="Số ngày trước `to` khi không có `from` / days before `to`")
RESOLUTION = Query(
    Resolution.AUTO, description="auto: thô ≤ 2 ngày, giờ ≤ 90 ngày, ngày sau đó / raw ≤ 2 days, hourly ≤ 90, daily"
)


def _period_start(start: datetime | None, end: datetime | None, days: int | None) -> datetime | None:
    if start is not None or days is None:
        return start
    return (end or utc_now()) - timedelta(days=days)


@api_router.get(
    "/datastreams/{datastream_id}/observations",
    response_model=Series,
    summary="Chuỗi số liệu / observations over a period",
    responses=ERRORS | NOT_FOUND | {422: {"description": "Khoảng thời gian sai / invalid period"}},
)
async def observations(
    datastream_id: int,
    start: datetime | None = PERIOD_START,
    end: datetime | None = PERIOD_END,
    days: int | None = DAYS,
    resolution: Resolution = RESOLUTION,
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> Series:
    """Return readings in [from, to), raw or as hourly/daily count, min, max and mean (days in UTC+7)."""
    start = _period_start(start, end, days)
    return await service.series(session, datastream_id, start, end, resolution)


@api_router.get(
    "/datastreams/{datastream_id}/export",
    summary="Tải số liệu (CSV, Excel) / export observations",
    responses=ERRORS | NOT_FOUND | {200: {"content": {export.CSV_MEDIA_TYPE: {}, export.XLSX_MEDIA_TYPE: {}}}},
)
async def export_observations(
    datastream_id: int,
    start: datetime | None = PERIOD_START,
    end: datetime | None = PERIOD_END,
    days: int | None = DAYS,
    resolution: Resolution = RESOLUTION,
    fmt: ExportFormat = Query(ExportFormat.CSV, alias="format", description="csv | xlsx"),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Download a period of a datastream as CSV or Excel, times in the province's time zone."""
    stream = await service.get_datastream(session, datastream_id)
    start = _period_start(start, end, days)
    series = await service.series(session, datastream_id, start, end, resolution, limit=MAX_EXPORT_ROWS)
    name = export.filename(stream, series, fmt)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt is ExportFormat.XLSX:
        return Response(export.to_xlsx(stream, series), media_type=export.XLSX_MEDIA_TYPE, headers=headers)
    return Response(export.to_csv(stream, series), media_type=export.CSV_MEDIA_TYPE, headers=headers)


# --- dead letters -------------------------------------------------------------------------------------------------


@api_router.get(
    "/dead-letters", response_model=Page[DeadLetterRead], summary="Bản tin lỗi / dead letters", responses=ERRORS
)
async def list_dead_letters(
    filters: DeadLetterFilters = Depends(dead_letter_filters),
    page: PageParams = Depends(page_params),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> Page[DeadLetterRead]:
    """List refused messages and readings, newest first, with reason and raw payload."""
    return await service.list_dead_letters(session, filters, page)


@api_router.get(
    "/dead-letters/{dead_letter_id}",
    response_model=DeadLetterRead,
    summary="Một bản tin lỗi / one dead letter",
    responses=ERRORS | NOT_FOUND,
)
async def get_dead_letter(
    dead_letter_id: int, _principal: Principal = Depends(require_read), session: AsyncSession = Depends(db_session)
) -> DeadLetterRead:
    """Return one dead letter."""
    return await service.get_dead_letter(session, dead_letter_id)


# --- pages ---------------------------------------------------------------------------------------------------------


def _choice(values: type[DeviceStatus] | type[DeadLetterReason], text: str) -> Any:
    return next((member for member in values if member.value == text), None)


@page_router.get(PAGE_DEVICES)
async def devices_page(
    request: Request,
    q: str = "",
    status_filter: str = Query("", alias="status"),
    offset: int = Query(0, ge=0),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Show the devices with an online/offline badge and their latest values."""
    filters = DeviceFilters(q=q.strip()[:100] or None, status=_choice(DeviceStatus, status_filter))
    page = await service.list_devices(session, filters, PageParams(limit=PAGE_SIZE, offset=offset))
    lang = request_language(request, request.app.state.runtime.settings.default_language)
    return render(
        request,
        "telemetry/devices.html",
        {
            "page": page,
            "unit_names": await service.unit_names(session, [d.unit_code for d in page.items], lang),
            "form": {"q": q, "status": status_filter},
            "counts": await service.status_counts(session),
            "statuses": list(DeviceStatus),
        },
    )


@page_router.get(PAGE_DEVICES + "/{code}")
async def device_page(
    request: Request,
    code: str,
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Show one device: where it is, its status, and each datastream's latest value with export links."""
    device = await service.get_device(session, code)
    lang = request_language(request, request.app.state.runtime.settings.default_language)
    names = await service.unit_names(session, [device.unit_code], lang)
    return render(request, "telemetry/device.html", {"device": device, "unit_names": names})


@page_router.get(PAGE_DEAD_LETTERS)
async def dead_letters_page(
    request: Request,
    reason: str = "",
    device: str = "",
    offset: int = Query(0, ge=0),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Let operators browse refused messages with their reason and raw payload."""
    filters = DeadLetterFilters(reason=_choice(DeadLetterReason, reason), device_code=device.strip()[:64] or None)
    page = await service.list_dead_letters(session, filters, PageParams(limit=PAGE_SIZE, offset=offset))
    lang = request_language(request, request.app.state.runtime.settings.default_language)
    return render(
        request,
        "telemetry/dead_letters.html",
        {
            "page": page,
            "form": {"reason": reason, "device": device},
            "reasons": list(DeadLetterReason),
            "counts": await service.dead_letter_counts(session),
            "message_field": "message_en" if lang == "en" else "message_vi",
        },
    )
