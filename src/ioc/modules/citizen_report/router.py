"""HTTP layer of citizen reports: public intake, tracking and transparency; staff inbox, actions and exports."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from ioc.core.errors import BadRequest, Forbidden, IocError
from ioc.core.http import Page, PageParams, db_session, page_params
from ioc.core.i18n import request_language
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, optional_principal
from ioc.core.templating import render
from ioc.core.time import local_today

from . import exports, service
from .constants import (
    API_PREFIX,
    BULK_ASSIGN_PATH,
    CATEGORY_API_PREFIX,
    HOTLINE_PATH,
    INBOX_PAGE_SIZE,
    INBOX_PATH,
    MAP_PATH,
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    PUBLIC_FORM_PATH,
    PUBLIC_PAGE_SIZE,
    SCOPE_ADMIN,
    SCOPE_OPERATE,
    SCOPE_SUBMIT,
    STATS_PATH,
    TRACKING_PATTERN,
    RejectReason,
    ReportStatus,
)
from .deps import report_filters, require_admin, require_approve, require_handle, require_operate, require_read
from .exceptions import SubmissionRateLimited
from .models import Report
from .photos import MediaStore, PhotoUpload
from .public_cache import cache_for, public_query_key
from .schemas import (
    AssignInput,
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    CitizenReportKpis,
    DuplicateCandidate,
    ExtensionDecision,
    ExtensionInput,
    LinkInput,
    LocationSuggestion,
    MergeInput,
    NoteInput,
    RatingInput,
    RejectInput,
    ReportCreate,
    ReportFilters,
    ReportPublic,
    ReportPublicSummary,
    ReportRead,
    ReportSummary,
    ResolveInput,
    ReturnInput,
    StatsRead,
    SubmitResult,
)

api_router = APIRouter(tags=["citizen_report"])

M = TypeVar("M", bound=BaseModel)
PHOTO_FIELDS = frozenset({"photos", "photo", "photos[]", "media", "media[]"})
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
TRUE_WORDS = frozenset({"1", "true", "on", "yes", "có"})
REPORT_ID = Path(..., ge=1, description="Mã số nội bộ của phản ánh / report id")
TRACKING_CODE = Path(..., pattern=TRACKING_PATTERN, max_length=24, description="Mã theo dõi / tracking code")
CATEGORY_CODE = Path(..., max_length=40, description="Mã lĩnh vực / category code")

_STAFF: dict[int | str, dict[str, Any]] = {
    401: {"description": "Cần đăng nhập / login required"},
    403: {"description": "Không có quyền / not allowed"},
    404: {"description": "Không tìm thấy / not found"},
}
_ACTION: dict[int | str, dict[str, Any]] = {
    **_STAFF,
    409: {"description": "Không thực hiện được ở trạng thái hiện tại / not possible in the current status"},
    422: {"description": "Dữ liệu không hợp lệ / invalid input"},
}


def _body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """Return a model's JSON schema for a hand-written request body (routes that also take multipart)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    # Nested enums (Source) are components of the document already, through the list filters.
    schema.pop("$defs", None)
    return schema


_MULTIPART_DOC: dict[str, Any] = {
    "requestBody": {
        "content": {
            "application/json": {"schema": _body_schema(ReportCreate)},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "description": "Các trường như bản JSON; `attributes` là chuỗi JSON; ảnh ở trường `photos` "
                    "(lặp lại) / the JSON fields; `attributes` as a JSON string; photos in repeated `photos` parts",
                    "properties": {"photos": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                }
            },
        },
        "required": True,
    }
}


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _lang(request: Request) -> str:
    return request_language(request, _runtime(request).settings.default_language)


def _store(request: Request) -> MediaStore:
    return MediaStore.under(_runtime(request).settings.data_dir)


def _validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Same 422 body as FastAPI's own validation of JSON bodies.
        raise RequestValidationError(exc.errors(include_url=False)) from exc


def _add_attribute(attributes: dict[str, Any], inner: str, value: str) -> None:
    """Store an Open311 form attribute: `attribute[CODE]=v`, or `attribute[CODE][]=v` repeated for lists."""
    if inner.endswith("]["):
        existing = attributes.setdefault(inner[:-2], [])
        if isinstance(existing, list):
            existing.append(value)
    else:
        attributes[inner] = value


async def read_body(request: Request) -> tuple[dict[str, Any], list[PhotoUpload]]:
    """Read a JSON body, or form fields plus photo files from a multipart body."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(FORM_TYPES):
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise BadRequest("Nội dung gửi lên không phải JSON hợp lệ.", "The request body is not valid JSON.") from exc
        if not isinstance(body, dict):
            raise BadRequest("Nội dung JSON phải là một đối tượng.", "The JSON body must be an object.")
        return body, []
    form = await request.form(max_files=MAX_PHOTOS + 1, max_fields=80)
    data: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    uploads: list[PhotoUpload] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key not in PHOTO_FIELDS:
                continue
            # One byte past the cap is enough to know a file is too large without reading all of it.
            content = await value.read(MAX_PHOTO_BYTES + 1)
            if content or value.filename:
                uploads.append(PhotoUpload(file_name=(value.filename or "photo")[:120], data=content))
        elif key.startswith("attribute[") and key.endswith("]"):
            _add_attribute(attributes, key[len("attribute[") : -1], value)
        elif key == "attributes" and value.strip():
            try:
                parsed = json.loads(value)
            except (json.JSONDecodeError, RecursionError) as exc:
                raise BadRequest("Trường attributes phải là JSON.", "The attributes field must be JSON.") from exc
            if isinstance(parsed, dict):
                attributes.update(parsed)
        elif value != "" or key not in data:
            data[key] = value
    if attributes:
        data["attributes"] = attributes
    if "anonymous" in data:
        data["anonymous"] = str(data["anonymous"]).strip().lower() in TRUE_WORDS
    return data, uploads


async def _commit_or_discard(session: AsyncSession, store: MediaStore, work: Callable[[], Awaitable[Any]]) -> Any:
    """Run work that may write photo files; if anything fails before the commit, delete those files."""
    try:
        result = await work()
        await session.commit()
    except BaseException:
        store.discard()
        raise
    return result


# Public: intake, tracking, rating, transparency


@api_router.post(
    API_PREFIX,
    response_model=SubmitResult,
    status_code=201,
    summary="Gửi phản ánh / submit a report",
    openapi_extra=_MULTIPART_DOC,
    responses={
        403: {"description": "Kênh tổng đài cần quyền điều hành / hotline intake needs citizen_report:operate"},
        422: {"description": "Dữ liệu, vị trí hoặc ảnh không hợp lệ / invalid data, location or photo"},
        429: {"description": "Gửi quá nhiều trong thời gian ngắn / too many reports in a short time"},
    },
)
async def submit_report(
    request: Request,
    session: AsyncSession = Depends(db_session),
    principal: Principal | None = Depends(optional_principal),
) -> Response:
    """Submit a report as JSON or as multipart with photos; anyone may, logged in or not."""
    if principal is not None and not principal.has(SCOPE_SUBMIT):
        raise Forbidden(
            f"Bạn không có quyền gửi phản ánh ({SCOPE_SUBMIT}).",
            f"You are not allowed to submit reports ({SCOPE_SUBMIT}).",
        )
    lang = _lang(request)
    data, uploads = await read_body(request)
    report = _validate(ReportCreate, data)
    store = _store(request)
    client_ip = request.client.host if request.client else None

    async def work() -> SubmitResult:
        return await service.submit(
            session,
            _runtime(request),
            report,
            principal=principal,
            uploads=uploads,
            client_ip=client_ip,
            lang=lang,
            store=store,
        )

    try:
        result: SubmitResult = await _commit_or_discard(session, store, work)
    except SubmissionRateLimited as exc:
        return JSONResponse(exc.to_dict(lang), status_code=429, headers={"Retry-After": str(exc.retry_after)})
    return JSONResponse(result.model_dump(mode="json"), status_code=201)


@api_router.post(
    f"{API_PREFIX}/photo-location",
    response_model=LocationSuggestion | None,
    summary="Đọc vị trí GPS trong ảnh / read the GPS position of a photo",
    responses={422: {"description": "Không phải ảnh hợp lệ / not an acceptable photo"}},
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": {"photo": {"type": "string", "format": "binary"}}}
                }
            }
        }
    },
)
async def photo_location(request: Request) -> LocationSuggestion | None:
    """Return the position stored in a photo's EXIF GPS (null when it has none); nothing is stored."""
    _data, uploads = await read_body(request)
    if len(uploads) != 1:
        raise BadRequest("Gửi đúng một ảnh ở trường 'photo'.", "Send exactly one photo in the 'photo' field.")
    return await service.photo_location(uploads[0])


@api_router.get(
    f"{API_PREFIX}/track/{{tracking_code}}",
    response_model=ReportPublic,
    summary="Tra cứu phản ánh theo mã / look a report up by tracking code",
    responses={404: {"description": "Không có mã này / no such code"}},
)
async def track_report(
    request: Request, tracking_code: str = TRACKING_CODE, session: AsyncSession = Depends(db_session)
) -> ReportPublic:
    """Return the public view of a report: status, timeline and result, never personal data."""
    return await service.track(session, tracking_code, _lang(request))


@api_router.post(
    f"{API_PREFIX}/track/{{tracking_code}}/rating",
    response_model=ReportPublic,
    summary="Đánh giá kết quả xử lý / rate the result",
    responses={
        403: {"description": "Mã đánh giá sai / wrong rating token"},
        404: {"description": "Không có mã này / no such code"},
        409: {"description": "Chưa xử lý xong hoặc đã đánh giá / not resolved or rated already"},
    },
)
async def rate_report(
    request: Request,
    data: RatingInput,
    tracking_code: str = TRACKING_CODE,
    session: AsyncSession = Depends(db_session),
) -> ReportPublic:
    """Rate the result with the token given at submission: satisfied closes, not satisfied reopens."""
    await service.rate(session, _runtime(request), tracking_code, data)
    await session.commit()
    return await service.track(session, tracking_code, _lang(request))


@api_router.get(
    f"{API_PREFIX}/public",
    response_model=Page[ReportPublicSummary],
    summary="Danh sách phản ánh công khai / public list",
)
async def public_reports(
    request: Request,
    filters: ReportFilters = Depends(report_filters),
    paging: PageParams = Depends(page_params),
    session: AsyncSession = Depends(db_session),
) -> Page[ReportPublicSummary]:
    """List accepted reports, newest first, without personal data."""
    return await service.public_list(session, filters, paging, _lang(request))


@api_router.get(
    f"{API_PREFIX}.geojson",
    summary="Lớp bản đồ phản ánh (GeoJSON) / map layer of reports",
    response_class=JSONResponse,
    responses={200: {"content": {"application/geo+json": {}}}},
)
async def reports_geojson(
    request: Request,
    filters: ReportFilters = Depends(report_filters),
    bbox: str | None = Query(
        None,
        description="khung nhìn / view: minLon,minLat,maxLon,maxLat (WGS 84)",
        examples=["106.0,11.2,106.3,11.45"],
    ),
    zoom: str | None = Query(
        None,
        description="mức thu phóng 0-19, để gom cụm / zoom 0-19, for clustering (integer)",
        examples=["9"],
    ),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Return accepted reports as GeoJSON: points rounded to about 10 m, or grid clusters of a zoomed-out view.

    The same for everyone unless `mine`. With `zoom` (and `bbox`), a view of many reports below street level
    is answered as grid cells with their count and count per status, so that every report is represented.
    """
    lang = _lang(request)
    view = service.map_view(bbox, zoom)
    if filters.agency_id is not None:
        body = await service.geojson(session, filters, lang, view)
        return JSONResponse(body, media_type="application/geo+json")
    cache = cache_for(_runtime(request))
    # The box is the one snapped to the zoom's tiles: nearby views of a pan share one answer.
    key = public_query_key("geojson", lang, request.query_params.multi_items(), ("bbox", "zoom"), view)
    hit = cache.get(key)
    if hit is not None:
        return Response(hit.body, media_type=hit.media_type)
    version = cache.version
    response = JSONResponse(await service.geojson(session, filters, lang, view), media_type="application/geo+json")
    cache.put(key, version, bytes(response.body), 200, "application/geo+json", {})
    return response


@api_router.get(
    f"{API_PREFIX}/stats",
    response_model=StatsRead,
    summary="Thống kê công khai / public statistics",
    responses={422: {"description": "Khoảng ngày không hợp lệ / invalid dates"}},
)
async def report_stats(
    request: Request,
    date_from: date | None = Query(None, description="từ ngày gửi / submitted from (YYYY-MM-DD)"),
    date_to: date | None = Query(None, description="đến ngày gửi / submitted until (YYYY-MM-DD)"),
    session: AsyncSession = Depends(db_session),
) -> StatsRead:
    """Return received, resolved, on-time rate, median time to resolve and satisfaction per group."""
    return await service.stats(session, date_from=date_from, date_to=date_to, lang=_lang(request))


@api_router.get(
    f"{API_PREFIX}/nearby",
    response_model=list[DuplicateCandidate],
    summary="Phản ánh tương tự gần đây / similar open reports nearby",
    responses={422: {"description": "Lĩnh vực không tồn tại / unknown category"}},
)
async def nearby_reports(
    category: str = Query(..., max_length=40, description="mã lĩnh vực / category code"),
    lat: float = Query(..., ge=-90, le=90),
    lon: float = Query(..., ge=-180, le=180),
    session: AsyncSession = Depends(db_session),
    principal: Principal | None = Depends(optional_principal),
) -> list[DuplicateCandidate]:
    """Suggest open reports of the same category within 250 m, closest first (at most 5)."""
    return await service.nearby(session, category, lat, lon, principal)


async def _photo(
    request: Request, session: AsyncSession, photo_id: int, principal: Principal | None, thumb: bool
) -> Response:
    path = await service.photo_file(session, _store(request), photo_id, principal, thumb=thumb)
    # Published photos may be cached by anyone; staff-only ones only by the browser.
    cache = "public, max-age=86400" if principal is None else "private, max-age=3600"
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": cache})


@api_router.get(f"{API_PREFIX}/photos/{{photo_id}}", summary="Ảnh phản ánh / report photo", response_class=FileResponse)
async def report_photo(
    request: Request,
    photo_id: int = Path(..., ge=1),
    session: AsyncSession = Depends(db_session),
    principal: Principal | None = Depends(optional_principal),
) -> Response:
    """Return a photo (JPEG, no metadata): to staff always, to the public once the report is accepted."""
    return await _photo(request, session, photo_id, principal, thumb=False)


@api_router.get(
    f"{API_PREFIX}/photos/{{photo_id}}/thumb", summary="Ảnh thu nhỏ / thumbnail", response_class=FileResponse
)
async def report_photo_thumb(
    request: Request,
    photo_id: int = Path(..., ge=1),
    session: AsyncSession = Depends(db_session),
    principal: Principal | None = Depends(optional_principal),
) -> Response:
    """Return a photo's 320 px thumbnail under the same rule."""
    return await _photo(request, session, photo_id, principal, thumb=True)


# Staff: inbox, detail, exports, KPIs


@api_router.get(
    API_PREFIX, response_model=Page[ReportSummary], summary="Hộp xử lý phản ánh / staff inbox", responses=_STAFF
)
async def list_reports(
    request: Request,
    filters: ReportFilters = Depends(report_filters),
    paging: PageParams = Depends(page_params),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Page[ReportSummary]:
    """List reports with filters (status, category, unit, agency, overdue...), newest first."""
    return await service.list_reports(session, filters, paging, principal, _lang(request))


def _export_name(extension: str) -> str:
    return f"phan-anh-{local_today().isoformat()}.{extension}"


@api_router.get(
    f"{API_PREFIX}/export.csv",
    summary="Xuất CSV / export CSV",
    responses={**_STAFF, 200: {"content": {"text/csv": {}}}},
)
async def export_csv(
    request: Request,
    filters: ReportFilters = Depends(report_filters),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Export the reports matching the filters as CSV (UTF-8 with BOM; no personal data)."""
    lang = _lang(request)
    rows = await service.export_rows(session, filters, principal, lang)
    return Response(
        exports.to_csv(rows, lang),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_export_name("csv")}"'},
    )


@api_router.get(
    f"{API_PREFIX}/export.xlsx",
    summary="Xuất Excel / export Excel",
    responses={**_STAFF, 200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}},
)
async def export_xlsx(
    request: Request,
    filters: ReportFilters = Depends(report_filters),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Export the reports matching the filters as an Excel workbook (no personal data)."""
    lang = _lang(request)
    rows = await service.export_rows(session, filters, principal, lang)
    return Response(
        exports.to_xlsx(rows, lang),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{_export_name("xlsx")}"'},
    )


@api_router.get(
    f"{API_PREFIX}/kpis", response_model=CitizenReportKpis, summary="Chỉ số điều hành / KPIs", responses=_STAFF
)
async def report_kpis(
    request: Request,
    day: date | None = Query(None, description="ngày (mặc định hôm nay) / day (default today)"),
    session: AsyncSession = Depends(db_session),
    _principal: Principal = Depends(require_read),
) -> CitizenReportKpis:
    """Return received today, overdue now and the 30-day on-time rate."""
    return await service.kpis(session, _runtime(request), day)


@api_router.get(
    f"{API_PREFIX}/{{report_id}}",
    response_model=ReportRead,
    summary="Chi tiết phản ánh / report detail",
    responses=_STAFF,
)
async def get_report(
    request: Request,
    report_id: int = REPORT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> ReportRead:
    """Return a report with its timeline and photos; contact details only for those allowed."""
    return await service.get_report(session, report_id, principal, _lang(request))


@api_router.get(
    f"{API_PREFIX}/{{report_id}}/duplicates",
    response_model=list[DuplicateCandidate],
    summary="Phản ánh có thể trùng / possible duplicates",
    responses=_STAFF,
)
async def report_duplicates(
    report_id: int = REPORT_ID,
    session: AsyncSession = Depends(db_session),
    _principal: Principal = Depends(require_read),
) -> list[DuplicateCandidate]:
    """Suggest open reports of the same category within 250 m of this one."""
    return await service.duplicates_of(session, report_id)


# Staff: workflow actions (each answers with the report as the caller may see it)


async def _answer(request: Request, session: AsyncSession, report: Report, principal: Principal) -> ReportRead:
    read = await service.report_read(session, report, principal, _lang(request))
    await session.commit()
    return read


@api_router.post(
    f"{API_PREFIX}/{{report_id}}/accept", response_model=ReportRead, summary="Duyệt / accept", responses=_ACTION
)
async def accept_report(
    request: Request,
    data: NoteInput | None = None,
    report_id: int = REPORT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_operate),
) -> ReportRead:
    """Accept a received report (hotline operator, administrator); it becomes public."""
    note = data.note if data else ""
    report = await service.accept(session, _runtime(request), report_id, principal, note)
    return await _answer(request, session, report, principal)


@api_router.post(
    f"{API_PREFIX}/{{report_id}}/reject", response_model=ReportRead, summary="Từ chối / reject", responses=_ACTION
)
async def reject_report(
    request: Request,
    data: RejectInput,
    report_id: int = REPORT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_operate),
) -> ReportRead:
    """Reject a received report with a public reason."""
    report = await service.reject(session, _runtime(request), report_id, principal, data)
    return await _answer(request, session, report, principal)


@api_router.post(
    f"{API_PREFIX}/{{report_id}}/assign",
    response_model=ReportRead,
    summary="Chuyển cơ quan xử lý / assign",
    responses=_ACTION,
)
async def assign_report(
    request: Request,
    data: AssignInput | None = None,
    report_id: int = REPORT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_operate),
) -> ReportRead:
    """Assign to an agency (default: the routed one); the resolution deadline starts."""
    report = await service.assign(session, _runtime(request), report_id, principal, data or AssignInput())
    return await _answer(request, session, report, principal)


@api_router.post(
    f"{API_PREFIX}/{{report_id}}/start",
    response_model=ReportRead,
    summary="Bắt đầu xử lý / start work",
    responses=_ACTION,
)
async def start_report(
    request: Request,
    data: NoteInput | None = None,
    report_id: int = REPORT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_handle),
) -> ReportRead:
    """Mark that the assigned agency started working."""
    report = await service.start(session, _runtime(request), report_id, principal, data.note if data else "")
    return await _answer(request, session, report, principal)


@api_router.post(
    f"{API_PREFIX}/{{report_id}}/resolve",
    response_model=ReportRead,
    summary="Báo cáo kết quả xử lý / resolve",
    responses=_ACTION,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": _body_schema(ResolveInput)},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "result": {"type": "string"},
                            "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        },
                    }
                },
            },
            "required": True,
        }
    },
)
async def resolve_report(
    request: Request,
    report_id: int = REPORT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_handle),
) -> ReportRead:
    """Publish the result with proof photos (multipart `result` + `photos`, or JSON without photos)."""
    data, uploads = await read_body(request)
    result = _validate(ResolveInput, data)
    store = _store(request)

    async def work() -> ReportRead:
        report = await service.resolve(
            session, _runtime(request), report_id, principal, result, uploads=uploads, store=store
        )
        return await service.report_read(session, report, principal, _lang(request))

    read: ReportRead = await _commit_or_discard(session, store, work)
    return read


@api_router.post(
    f"{API_PREFIX}/{{report_id}}/return",
    response_model=ReportRead,
    summary="Trả lại (không thuộc thẩm quyền) / return as not responsible",
    responses=_ACTION,
)
async def return_report(
    request: Request,
    data: ReturnInput,
    report_id: int = REPORT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_handle),
) -> ReportRead:
    """Hand the report back to the operators with the reason it is not the agency's responsibility."""
    report = await service.return_report(session, _runtime(request), report_id, principal, data)
    return await _answer(request, session, report, principal)


@api_router.post(
    f"{API_PREFIX}/{{report_id}}/extension",
    response_model=ReportRead,
    summary="Đề nghị gia hạn / request an extension",
    responses=_ACTION,
)
async def request_extension(
    request: Request,
    data: ExtensionInput,
    report_id: int = REPORT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_handle),
) -> ReportRead:
    """Ask the agency head for more working days."""
    report = await service.request_extension(session, _runtime(request), report_id, principal, data)
    return await _answer(request, session, report, principal)


@api_router.post(
    f"{API_PREFIX}/{{report_id}}/extension/approve",
    response_model=ReportRead,
    summary="Duyệt gia hạn / approve the extension",
    responses=_ACTION,
)
async def approve_extension(
    request: Request,
    data: ExtensionDecision | None = None,
    report_id: int = REPORT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_approve),
) -> ReportRead:
    """Grant the extension (head of the assigned agency or administrator)."""
    report = await service.approve_extension(
        session, _runtime(request), report_id, principal, data or ExtensionDecision()
    )
    return await _answer(request, session, report, principal)


@api_router.post(
    f"{API_PREFIX}/{{report_id}}/extension/decline",
    response_model=ReportRead,
    summary="Không duyệt gia hạn / decline the extension",
    responses=_ACTION,
)
async def decline_extension(
    request: Request,
    data: ExtensionDecision | None = None,
    report_id: int = REPORT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_approve),
) -> ReportRead:
    """Refuse the extension; the deadline stays."""
    report = await service.decline_extension(
        session, _runtime(request), report_id, principal, data or ExtensionDecision()
    )
    return await _answer(request, session, report, principal)


@api_router.post(
    f"{API_PREFIX}/{{report_id}}/merge",
    response_model=ReportRead,
    summary="Gộp phản ánh trùng / merge",
    responses=_ACTION,
)
async def merge_report(
    request: Request,
    data: MergeInput,
    report_id: int = REPORT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_operate),
) -> ReportRead:
    """Merge this duplicate into another report; its reporter follows that one."""
    report = await service.merge(session, _runtime(request), report_id, principal, data)
    return await _answer(request, session, report, principal)


@api_router.post(
    f"{API_PREFIX}/{{report_id}}/link", response_model=ReportRead, summary="Liên kết phản ánh / link", responses=_ACTION
)
async def link_report(
    request: Request,
    data: LinkInput,
    report_id: int = REPORT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_operate),
) -> ReportRead:
    """Link two related reports."""
    report = await service.link(session, _runtime(request), report_id, principal, data)
    return await _answer(request, session, report, principal)


# Categories


@api_router.get(CATEGORY_API_PREFIX, response_model=list[CategoryRead], summary="Lĩnh vực phản ánh / report categories")
async def list_categories(
    include_inactive: bool = Query(False, description="gồm lĩnh vực đã ngừng (quản trị) / include inactive (admin)"),
    session: AsyncSession = Depends(db_session),
    principal: Principal | None = Depends(optional_principal),
) -> list[CategoryRead]:
    """List the categories offered on the form; administrators may include inactive ones."""
    show_all = include_inactive and principal is not None and principal.has(SCOPE_ADMIN)
    return await service.list_categories(session, include_inactive=show_all)


@api_router.get(
    f"{CATEGORY_API_PREFIX}/{{code}}",
    response_model=CategoryRead,
    summary="Một lĩnh vực / one category",
    responses={404: {"description": "Không có / not found"}},
)
async def get_category(code: str = CATEGORY_CODE, session: AsyncSession = Depends(db_session)) -> CategoryRead:
    """Return a category with its questions, deadlines and routing rule."""
    return await service.get_category(session, code)


@api_router.post(
    CATEGORY_API_PREFIX,
    response_model=CategoryRead,
    status_code=201,
    summary="Thêm lĩnh vực / create a category",
    responses={**_ACTION, 409: {"description": "Mã đã có / code taken"}},
)
async def create_category(
    data: CategoryCreate,
    session: AsyncSession = Depends(db_session),
    _principal: Principal = Depends(require_admin),
) -> CategoryRead:
    """Create a category (administrators)."""
    category = await service.create_category(session, data)
    await session.commit()
    return category


@api_router.put(
    f"{CATEGORY_API_PREFIX}/{{code}}", response_model=CategoryRead, summary="Sửa lĩnh vực / update", responses=_ACTION
)
async def update_category(
    data: CategoryUpdate,
    code: str = CATEGORY_CODE,
    session: AsyncSession = Depends(db_session),
    _principal: Principal = Depends(require_admin),
) -> CategoryRead:
    """Replace a category's fields; its code stays (administrators)."""
    category = await service.update_category(session, code, data)
    await session.commit()
    return category


@api_router.delete(
    f"{CATEGORY_API_PREFIX}/{{code}}",
    status_code=204,
    summary="Xoá lĩnh vực chưa dùng / delete an unused category",
    responses={**_STAFF, 409: {"description": "Đã có phản ánh / in use"}},
)
async def delete_category(
    code: str = CATEGORY_CODE,
    session: AsyncSession = Depends(db_session),
    _principal: Principal = Depends(require_admin),
) -> Response:
    """Delete a category no report uses; otherwise deactivate it."""
    await service.delete_category(session, code)
    await session.commit()
    return Response(status_code=204)


# Pages: the public form and tracking page (phone first), and the staff inbox

page_router = APIRouter(include_in_schema=False)

FORM_FIELDS = frozenset(
    {"category_code", "description", "lat", "lon", "address", "reporter_name", "reporter_phone", "reporter_email"}
)
FIELD_MESSAGES: dict[str, dict[str, str]] = {
    "category_code": {"vi": "Hãy chọn lĩnh vực phản ánh.", "en": "Choose what the problem is about."},
    "description": {
        "vi": "Mô tả cần từ 10 đến 4.000 ký tự, không chứa thẻ HTML.",
        "en": "The description needs 10 to 4,000 characters, without HTML.",
    },
    "lat": {"vi": "Hãy chọn vị trí trên bản đồ hoặc bấm “Dùng vị trí của tôi”.", "en": "Pick the place on the map."},
    "lon": {"vi": "Hãy chọn vị trí trên bản đồ hoặc bấm “Dùng vị trí của tôi”.", "en": "Pick the place on the map."},
    "reporter_phone": {"vi": "Số điện thoại không hợp lệ.", "en": "Not a valid phone number."},
    "reporter_email": {"vi": "Địa chỉ thư điện tử không hợp lệ.", "en": "Not a valid e-mail address."},
}
GENERIC_MESSAGE = {"vi": "Giá trị không hợp lệ.", "en": "Invalid value."}


def _form_errors(exc: ValidationError) -> dict[str, dict[str, str]]:
    errors: dict[str, dict[str, str]] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error.get("loc") else ""
        if name in ("lat", "lon"):
            name = "lat"
        errors.setdefault(name, FIELD_MESSAGES.get(name, GENERIC_MESSAGE))
    return errors


def _clean_form(data: dict[str, Any]) -> dict[str, Any]:
    """Keep the report's fields from a browser form; empty coordinates mean "not chosen"."""
    cleaned: dict[str, Any] = {k: v for k, v in data.items() if k in FORM_FIELDS | {"anonymous", "attributes"}}
    for key in ("lat", "lon"):
        if str(cleaned.get(key, "")).strip() == "":
            cleaned.pop(key, None)
    if isinstance(cleaned.get("attributes"), dict):
        cleaned["attributes"] = {k: v for k, v in cleaned["attributes"].items() if v not in ("", [])}
    cleaned["source"] = "web"
    return cleaned


async def _render_form(
    request: Request,
    session: AsyncSession,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    categories = await service.list_categories(session)
    return render(
        request,
        "citizen_report/form.html",
        {"categories": categories, "values": values or {}, "errors": errors or {}},
        status_code=status_code,
    )


@page_router.get(PUBLIC_FORM_PATH)
async def report_form_page(request: Request, session: AsyncSession = Depends(db_session)) -> Response:
    """Show the phone-first form to report a problem, with the tracking-code lookup."""
    return await _render_form(request, session)


@page_router.post(PUBLIC_FORM_PATH)
async def report_form_submit(
    request: Request,
    session: AsyncSession = Depends(db_session),
    principal: Principal | None = Depends(optional_principal),
) -> Response:
    """Submit the form (multipart with photos); show the tracking and rating codes, or the form with errors."""
    data, uploads = await read_body(request)
    values = _clean_form(data)
    try:
        report = ReportCreate.model_validate(values)
    except ValidationError as exc:
        return await _render_form(request, session, values=values, errors=_form_errors(exc), status_code=422)
    store = _store(request)
    client_ip = request.client.host if request.client else None

    async def work() -> SubmitResult:
        return await service.submit(
            session,
            _runtime(request),
            report,
            principal=principal,
            uploads=uploads,
            client_ip=client_ip,
            lang=_lang(request),
            store=store,
        )

    try:
        result: SubmitResult = await _commit_or_discard(session, store, work)
    except IocError as exc:
        await session.rollback()
        field = str(exc.detail.get("field", "")) if exc.detail else ""
        name = field.split(".")[0] if field in FORM_FIELDS or field.startswith("attributes") else ""
        errors = {("lat" if field == "location" else name): exc}
        return await _render_form(request, session, values=values, errors=errors, status_code=exc.status_code)
    return render(request, "citizen_report/submitted.html", {"result": result}, status_code=201)


@page_router.get(f"{PUBLIC_FORM_PATH}/tra-cuu")
async def lookup_page(request: Request, ma: str = Query("", max_length=40)) -> Response:
    """Send a tracking-code lookup to the report's page (or back to the form when the code is malformed)."""
    code = ma.strip().upper()
    if re.fullmatch(TRACKING_PATTERN, code):
        return RedirectResponse(f"{PUBLIC_FORM_PATH}/{code}", status_code=303)
    return RedirectResponse(f"{PUBLIC_FORM_PATH}?ma_sai=1#tra-cuu", status_code=303)


@page_router.get(MAP_PATH)
async def public_map_page(
    request: Request,
    filters: ReportFilters = Depends(report_filters),
    offset: int = Query(0, ge=0),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Show accepted reports on the map and in a list (no personal data; photos only on accepted reports)."""
    lang = _lang(request)
    public_filters = filters.model_copy(update={"agency_id": None, "q": None})
    page = await service.public_list(session, public_filters, PageParams(limit=PUBLIC_PAGE_SIZE, offset=offset), lang)
    query = {k: v for k, v in request.query_params.items() if k in ("status", "category", "unit") and v}
    return render(
        request,
        "citizen_report/map.html",
        {
            "page": page,
            "categories": await service.list_categories(session),
            "statuses": [s for s in ReportStatus if s is not ReportStatus.RECEIVED and s is not ReportStatus.REJECTED],
            "form": query,
            "geojson_url": f"/api/v1{API_PREFIX}.geojson?{urlencode(query)}",
        },
    )


@page_router.get(STATS_PATH)
async def public_stats_page(
    request: Request,
    date_from: date | None = Query(None),
    date_to: date | None = Query(None),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Show received, resolved, on-time rate, median time and satisfaction per agency, category and commune."""
    try:
        figures = await service.stats(session, date_from=date_from, date_to=date_to, lang=_lang(request))
        error = None
    except IocError as exc:
        figures, error = await service.stats(session, lang=_lang(request)), exc
    return render(
        request,
        "citizen_report/stats.html",
        {"stats": figures, "error": error},
        status_code=error.status_code if error else 200,
    )


async def _render_tracking(
    request: Request, session: AsyncSession, code: str, *, error: Any = None, status_code: int = 200
) -> Response:
    report = await service.track(session, code, _lang(request))
    return render(
        request,
        "citizen_report/tracking.html",
        {"report": report, "error": error, "rated": request.query_params.get("da_danh_gia") == "1"},
        status_code=status_code,
    )


@page_router.get(f"{PUBLIC_FORM_PATH}/{{tracking_code}}")
async def tracking_page(
    request: Request, tracking_code: str = TRACKING_CODE, session: AsyncSession = Depends(db_session)
) -> Response:
    """Show a report's public page: status, timeline, photos once accepted, the result and the rating form."""
    return await _render_tracking(request, session, tracking_code)


@page_router.post(f"{PUBLIC_FORM_PATH}/{{tracking_code}}/danh-gia")
async def rating_form_submit(
    request: Request, tracking_code: str = TRACKING_CODE, session: AsyncSession = Depends(db_session)
) -> Response:
    """Rate the result from the tracking page with the rating code."""
    data, _uploads = await read_body(request)
    try:
        rating = RatingInput.model_validate(
            {
                "token": str(data.get("token", "")).strip(),
                "rating": data.get("rating"),
                "comment": data.get("comment", ""),
            }
        )
        await service.rate(session, _runtime(request), tracking_code, rating)
        await session.commit()
    except ValidationError:
        error = {"vi": "Hãy nhập mã đánh giá và chọn mức độ hài lòng.", "en": "Enter the rating code and choose."}
        return await _render_tracking(request, session, tracking_code, error=error, status_code=422)
    except IocError as exc:
        await session.rollback()
        return await _render_tracking(request, session, tracking_code, error=exc, status_code=exc.status_code)
    return RedirectResponse(f"{PUBLIC_FORM_PATH}/{tracking_code}?da_danh_gia=1", status_code=303)


@page_router.get(INBOX_PATH)
async def inbox_page(
    request: Request,
    filters: ReportFilters = Depends(report_filters),
    offset: int = Query(0, ge=0),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Show the staff inbox with its filters, paging and export links."""
    lang = _lang(request)
    page = await service.list_reports(
        session, filters, PageParams(limit=INBOX_PAGE_SIZE, offset=offset), principal, lang
    )
    categories = await service.list_categories(session, include_inactive=True)
    query = {k: v for k, v in request.query_params.items() if k not in ("offset", "lang", "giao", "loi")}
    return render(
        request,
        "citizen_report/inbox.html",
        {
            "page": page,
            "categories": categories,
            "statuses": list(ReportStatus),
            "form": query,
            "export_query": urlencode(query),
            "can_filter_mine": principal.agency_id is not None,
            "can_assign": principal.has(SCOPE_OPERATE),
            "agencies": await service.agency_choices(
                session, [r.suggested_agency_code for r in page.items] + [r.agency_code for r in page.items], lang
            )
            if principal.has(SCOPE_OPERATE)
            else [],
            "giao": request.query_params.get("giao"),
            "loi": request.query_params.get("loi"),
        },
    )


# Staff pages: the hotline console, bulk assignment, the report detail page with its action buttons

HOTLINE_FIELDS = FORM_FIELDS | {"anonymous", "attributes"}


async def _render_hotline(
    request: Request,
    session: AsyncSession,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, Any] | None = None,
    result: SubmitResult | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "citizen_report/form.html",
        {
            "categories": await service.list_categories(session),
            "values": values or {},
            "errors": errors or {},
            "hotline": True,
            "result": result,
        },
        status_code=status_code,
    )


@page_router.get(HOTLINE_PATH)
async def hotline_page(
    request: Request, session: AsyncSession = Depends(db_session), _principal: Principal = Depends(require_operate)
) -> Response:
    """Show the 1022 operator console: record a call, with duplicate suggestions before saving."""
    return await _render_hotline(request, session)


@page_router.post(HOTLINE_PATH)
async def hotline_submit(
    request: Request, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_operate)
) -> Response:
    """Record a call as a report (source hotline; the caller's phone stays private), then offer a new call."""
    data, _uploads = await read_body(request)
    values = {k: v for k, v in data.items() if k in HOTLINE_FIELDS}
    for key in ("lat", "lon"):
        if str(values.get(key, "")).strip() == "":
            values.pop(key, None)
    values["source"] = "hotline"
    try:
        report = ReportCreate.model_validate(values)
    except ValidationError as exc:
        return await _render_hotline(request, session, values=values, errors=_form_errors(exc), status_code=422)
    store = _store(request)

    async def work() -> SubmitResult:
        return await service.submit(
            session, _runtime(request), report, principal=principal, lang=_lang(request), store=store
        )

    try:
        result: SubmitResult = await _commit_or_discard(session, store, work)
    except IocError as exc:
        await session.rollback()
        field = str(exc.detail.get("field", "")) if exc.detail else ""
        name = "lat" if field == "location" else field.split(".")[0]
        return await _render_hotline(request, session, values=values, errors={name: exc}, status_code=exc.status_code)
    return await _render_hotline(request, session, result=result, status_code=201)


@page_router.post(BULK_ASSIGN_PATH)
async def bulk_assign_page(
    request: Request, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_operate)
) -> Response:
    """Assign the selected inbox rows to one agency (or each to its routed agency) and go back to the inbox."""
    form = await request.form(max_fields=INBOX_PAGE_SIZE + 10)
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()][:INBOX_PAGE_SIZE]
    agency = str(form.get("agency_code") or "").strip() or None
    back = str(form.get("back") or "")
    result = await service.bulk_assign(session, _runtime(request), ids, principal, agency)
    await session.commit()
    query = {"giao": str(len(result.assigned)), "loi": str(len(result.refused))}
    target = back if back.startswith(INBOX_PATH) and "//" not in back else INBOX_PATH
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}{urlencode(query)}", status_code=303)


async def _render_detail(
    request: Request,
    session: AsyncSession,
    report_id: int,
    principal: Principal,
    *,
    error: Any = None,
    status_code: int = 200,
) -> Response:
    lang = _lang(request)
    report = await service.get_report(session, report_id, principal, lang)
    actions = service.allowed_actions(principal, report)
    context = await service.detail_context(session, report, principal, lang)
    return render(
        request,
        "citizen_report/detail.html",
        {
            "report": report,
            "actions": actions,
            "error": error,
            "done": request.query_params.get("ok", ""),
            "reject_reasons": list(RejectReason),
            **context,
        },
        status_code=status_code,
    )


@page_router.get(f"{INBOX_PATH}/{{report_id}}")
async def detail_page(
    request: Request,
    report_id: int = REPORT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Show a report to staff: facts, photos, contacts when allowed, timeline and the allowed actions."""
    return await _render_detail(request, session, report_id, principal)


def _field(data: dict[str, Any], name: str) -> str:
    return str(data.get(name) or "").strip()


async def _act(
    request: Request,
    session: AsyncSession,
    report_id: int,
    principal: Principal,
    action: str,
    data: dict[str, Any],
    uploads: list[PhotoUpload],
) -> None:
    """Run one workflow action from the detail page's forms (the service checks every permission)."""
    runtime = _runtime(request)
    note = _field(data, "note")
    if action == "accept":
        await service.accept(session, runtime, report_id, principal, note)
    elif action == "reject":
        await service.reject(session, runtime, report_id, principal, RejectInput(reason=data.get("reason"), note=note))
    elif action == "assign":
        agency = AssignInput(agency_code=_field(data, "agency_code") or None, note=note)
        await service.assign(session, runtime, report_id, principal, agency)
    elif action == "start":
        await service.start(session, runtime, report_id, principal, note)
    elif action == "resolve":
        result = ResolveInput(result=_field(data, "result"))
        await service.resolve(session, runtime, report_id, principal, result, uploads=uploads, store=_store(request))
    elif action == "return":
        back = ReturnInput(reason=_field(data, "reason"), suggested_agency_code=_field(data, "agency_code") or None)
        await service.return_report(session, runtime, report_id, principal, back)
    elif action == "extension":
        extension = ExtensionInput(days=data.get("days"), reason=_field(data, "reason"))
        await service.request_extension(session, runtime, report_id, principal, extension)
    elif action in ("extension_approve", "extension_decline"):
        decision = ExtensionDecision(days=_field(data, "days") or None, note=note)
        decide = service.approve_extension if action == "extension_approve" else service.decline_extension
        await decide(session, runtime, report_id, principal, decision)
    elif action in ("merge", "link"):
        other = await service.report_id_for(session, _field(data, "other"))
        if action == "merge":
            await service.merge(session, runtime, report_id, principal, MergeInput(into_report_id=other, note=note))
        else:
            await service.link(session, runtime, report_id, principal, LinkInput(other_report_id=other))
    else:
        raise BadRequest(f"Thao tác không hợp lệ: {action}.", f"Unknown action: {action}.")


@page_router.post(f"{INBOX_PATH}/{{report_id}}")
async def detail_action(
    request: Request,
    report_id: int = REPORT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Run the action of the submitted form, then show the page again (errors in the page's language)."""
    data, uploads = await read_body(request)
    action = _field(data, "action")
    store = _store(request)
    try:
        await _commit_or_discard(
            session, store, lambda: _act(request, session, report_id, principal, action, data, uploads)
        )
    except ValidationError as exc:
        await session.rollback()
        return await _render_detail(request, session, report_id, principal, error=_first_error(exc), status_code=422)
    except IocError as exc:
        await session.rollback()
        return await _render_detail(request, session, report_id, principal, error=exc, status_code=exc.status_code)
    return RedirectResponse(f"{INBOX_PATH}/{report_id}?ok={action}", status_code=303)


def _first_error(exc: ValidationError) -> dict[str, str]:
    """Return a readable message for the first invalid field of an action form."""
    errors = exc.errors()
    name = str(errors[0]["loc"][0]) if errors and errors[0].get("loc") else ""
    return ACTION_FIELD_MESSAGES.get(name, GENERIC_MESSAGE)


ACTION_FIELD_MESSAGES: dict[str, dict[str, str]] = {
    "reason": {"vi": "Hãy nêu lý do (ít nhất 5 ký tự).", "en": "Give a reason (at least 5 characters)."},
    "result": {
        "vi": "Hãy nhập kết quả xử lý (ít nhất 5 ký tự).",
        "en": "Enter the result (at least 5 characters).",
    },
    "days": {"vi": "Số ngày làm việc từ 1 đến 30.", "en": "Working days from 1 to 30."},
}
