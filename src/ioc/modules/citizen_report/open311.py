"""Open311 GeoReport v2 at /open311/v2/: discovery, services, definitions, requests, tokens, updates.

The spec and its extensions are summarised in the shared reference `citizen-reports.md` (§2, §3); section
numbers below point there. Categories are the services, reports are the service requests, and the tracking
code (PA-2026-000123) is the `service_request_id`. Nothing here shows a reporter's name, phone or e-mail,
and a report's text, place and photos only once an operator has accepted it, as on the tracking page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from shapely.geometry import shape
from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, func, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request as StarletteRequest

from ioc.core.db import UTCDateTime
from ioc.core.errors import Forbidden, IocError, NotFound, TooManyRequests, Unauthorized
from ioc.core.http import register_error_renderer
from ioc.core.i18n import request_language
from ioc.core.security import Principal, Role, current_actor
from ioc.core.time import PROVINCE_TZ, ensure_utc, utc_now
from ioc.modules import org_unit

from . import open311_xml, repository, service
from .constants import (
    ACTION_LABELS,
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    OPEN_STATUSES,
    PUBLIC_COORD_DECIMALS,
    REJECT_REASON_LABELS,
    SCOPE_SUBMIT,
    Action,
    PhotoKind,
    ReportStatus,
    Source,
    status_label,
)
from .exceptions import SubmissionRateLimited
from .models import Category, Photo, Report, TimelineEntry
from .photos import MediaStore, PhotoUpload
from .public_cache import cache_for
from .schemas import ReportCreate

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime

PREFIX: Final = "/open311/v2"
SPECIFICATION: Final = "http://wiki.open311.org/GeoReport_v2"
# Paging extension (§3.2): Chicago's defaults, the most widely implemented ones.
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 500
# §2.8: a date range may not span more than 90 days; without dates, the most recent 90 days.
MAX_SPAN: Final = timedelta(days=90)
MAX_IDS: Final = 200  # service_request_id=a,b,c...: enough for any client, bounded for the database
MAX_PAGE: Final = 10_000
# Names of agencies and communes change rarely; a short cache keeps the list endpoints to one query.
NAME_CACHE_SECONDS: Final = 60.0
TOKEN_CONTEXT: Final = b"open311-token:"
TOKEN_SIG_BYTES: Final = 12
FILE_FIELDS: Final = frozenset({"media", "media[]", "photo", "photos", "photos[]", "photo1", "photo2", "photo3"})
DATA_URI = re.compile(r"^data:(image/[a-z0-9.+-]+);base64,(.*)$", re.IGNORECASE | re.DOTALL)
PHOTO_PATH: Final = "/api/v1/citizen-reports/photos"

CLOSED_STATUSES: Final = frozenset(ReportStatus) - OPEN_STATUSES

# mySociety extended statuses (§3.5) for the status changes of our timeline.
EXTENDED_STATUS: Final[dict[str, str]] = {
    ReportStatus.RECEIVED.value: "for_triage",
    ReportStatus.ACCEPTED.value: "open",
    ReportStatus.ASSIGNED.value: "action_scheduled",
    ReportStatus.RETURNED.value: "internal_referral",
    ReportStatus.IN_PROGRESS.value: "in_progress",
    ReportStatus.RESOLVED.value: "fixed",
    ReportStatus.REOPENED.value: "reopen",
    ReportStatus.CLOSED.value: "closed",
    ReportStatus.MERGED.value: "duplicate",
    ReportStatus.REJECTED.value: "no_further_action",
}

router = APIRouter(prefix=PREFIX, tags=["open311"])


class Format(StrEnum):
    """The two GeoReport v2 formats, chosen by the file extension (§2.1)."""

    JSON = "json"
    XML = "xml"


MEDIA_TYPES: Final = {Format.JSON: "application/json; charset=utf-8", Format.XML: "text/xml; charset=utf-8"}


class Open311Failure(Exception):
    """An error answered with an Open311 error body; `code` may be more specific than the HTTP status."""

    def __init__(
        self,
        status: int,
        message_vi: str,
        message_en: str,
        *,
        code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message_en)
        self.status = status
        self.code = code or status
        self.message_vi = message_vi
        self.message_en = message_en
        self.headers = headers or {}


def bad_request(message_vi: str, message_en: str) -> Open311Failure:
    """Return a 400 failure (every error that is neither 403 nor 404, §2.11)."""
    return Open311Failure(400, message_vi, message_en)


def from_ioc_error(exc: IocError) -> Open311Failure:
    """Map a module error to the three statuses Open311 allows (404, 403, 400), keeping ours as the code."""
    if isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, Forbidden | Unauthorized):
        status = 403
    else:
        status = 400
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, SubmissionRateLimited) else {}
    if isinstance(exc, TooManyRequests) and not headers:
        headers = {"Retry-After": "60"}
    return Open311Failure(status, exc.message_vi, exc.message_en, code=exc.status_code, headers=headers)


# Rendering


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _lang(request: Request) -> str:
    return request_language(request, _runtime(request).settings.default_language)


def answer(fmt: Format, root: str, body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Return a JSON or XML answer; JSON lists stay top-level arrays (§2.1)."""
    if fmt is Format.XML:
        content = open311_xml.render(root, body)
    else:
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(content, status_code=status, media_type=MEDIA_TYPES[fmt], headers=headers)


def _query_key(request: Request) -> tuple[tuple[str, str], ...]:
    """Return the query string as sorted pairs without empty values (an empty parameter counts as absent)."""
    return tuple(sorted((k, v) for k, v in request.query_params.multi_items() if v.strip()))


async def cached(request: Request, kind: str, fmt: Format, build: Callable[[], Awaitable[Response]]) -> Response:
    """Answer a public read from the cache of the module, or build it and keep it when it succeeded.

    Every Open311 read is the same for every caller (nothing personal is shown), so it is keyed by the path,
    the normalised query, the format and the language only.
    """
    cache = cache_for(_runtime(request))
    key = (kind, request.url.path, fmt.value, _lang(request), _query_key(request))
    hit = cache.get(key)
    if hit is not None:
        return Response(hit.body, status_code=hit.status, media_type=hit.media_type, headers=dict(hit.headers))
    version = cache.version
    response = await build()
    if response.status_code == 200:
        extra = {k: v for k, v in response.headers.items() if k.lower() == "link"}
        cache.put(key, version, bytes(response.body), 200, MEDIA_TYPES[fmt], extra)
    return response


def error_answer(fmt: Format, failure: Open311Failure, lang: str) -> Response:
    """Return `[{"code", "description"}]` or `<errors><error>…</error></errors>` with the failure's status."""
    description = failure.message_en if lang == "en" else failure.message_vi
    return answer(
        fmt,
        "errors",
        [{"code": failure.code, "description": description}],
        status=failure.status,
        headers=failure.headers,
    )


def render_error(request: Request, exc: IocError) -> Response:
    """Answer an error raised before an endpoint ran (a bad Bearer key) in the Open311 format of the path."""
    fmt = Format.XML if request.url.path.lower().endswith(".xml") else Format.JSON
    return error_answer(fmt, from_ioc_error(exc), _lang(request))


register_error_renderer(PREFIX + "/", render_error)


def parse_format(value: str) -> Format:
    """Read the format from the file extension, refusing anything but json and xml."""
    try:
        return Format(value.lower())
    except ValueError:
        raise bad_request(
            f"Định dạng '{value[:20]}' không được hỗ trợ; dùng .json hoặc .xml.",
            f"Format '{value[:20]}' is not supported; use .json or .xml.",
        ) from None


async def guarded(request: Request, fmt_value: str, work: Callable[[Format], Awaitable[Response]]) -> Response:
    """Run an endpoint and turn every expected failure into an Open311 error in the asked format."""
    lang = _lang(request)
    fmt = Format.JSON
    try:
        fmt = parse_format(fmt_value)
        _check_jurisdiction(request)
        return await work(fmt)
    except Open311Failure as failure:
        return error_answer(fmt, failure, lang)
    except IocError as exc:
        return error_answer(fmt, from_ioc_error(exc), lang)
    except (OperationalError, DBAPIError, ConnectionError):
        unavailable = Open311Failure(
            400,
            "Cơ sở dữ liệu tạm thời không truy cập được, vui lòng thử lại sau.",
            "The database is temporarily unavailable; please try again shortly.",
            code=503,
            headers={"Retry-After": "5"},
        )
        return error_answer(fmt, unavailable, lang)


def _jurisdictions(request: Request) -> set[str]:
    settings = _runtime(request).settings
    host = (urlsplit(settings.public_base_url).hostname or "").lower()
    return {host.removeprefix("www."), settings.province_code}


def _check_jurisdiction(request: Request, given: str | None = None) -> None:
    """One jurisdiction per installation: `jurisdiction_id` is optional, but a wrong one is not found (§2.1)."""
    value = (given if given is not None else request.query_params.get("jurisdiction_id", "")).strip().lower()
    if value and value not in _jurisdictions(request):
        raise Open311Failure(
            404,
            f"Không có đơn vị (jurisdiction_id) '{value[:60]}' trên máy chủ này.",
            f"No jurisdiction '{value[:60]}' on this endpoint.",
        )


def w3c(value: datetime | None) -> str | None:
    """Return a moment as a W3C date-time in Vietnam time, with its offset (§2.1: the zone is mandatory)."""
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(PROVINCE_TZ).isoformat(timespec="seconds")


def absolute(request: Request, path: str) -> str:
    """Return an absolute URL under the installation's public address."""
    return _runtime(request).settings.public_base_url.rstrip("/") + path


# Parameters


def _param(values: dict[str, str], name: str) -> str | None:
    """Return a parameter; an empty one counts as absent (§2.1)."""
    value = values.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def parse_moment(value: str | None, name: str) -> datetime | None:
    """Read a W3C date-time; a moment without a zone, or a bare date, is read in Vietnam time."""
    if value is None:
        return None
    text = value.strip()
    # A "+07:00" offset sent unencoded in a query string arrives as " 07:00".
    text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(
            f"Tham số {name} không phải ngày giờ W3C hợp lệ (ví dụ 2026-11-05T08:15:30+07:00).",
            f"Parameter {name} is not a valid W3C date-time (e.g. 2026-11-05T08:15:30+07:00).",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PROVINCE_TZ)
    return ensure_utc(moment)


def parse_int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    """Read a bounded whole number."""
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise bad_request(
            f"Tham số {name} phải là số nguyên từ {low} đến {high}.",
            f"Parameter {name} must be a whole number from {low} to {high}.",
        )
    return number


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


@dataclass(frozen=True)
class RequestQuery:
    """The filters of GET requests (§2.8, §3.2, §3.4), checked."""

    ids: list[str]
    service_codes: list[str]
    statuses: frozenset[str]
    start: datetime | None
    end: datetime | None
    updated_after: datetime | None
    updated_before: datetime | None
    page: int
    page_size: int


def _window(
    start: datetime | None, end: datetime | None, now: datetime, *, default_recent: bool
) -> tuple[datetime | None, datetime | None]:
    """Apply the 90-day rule of §2.8 to a start and end."""
    if start and end:
        if start > end:
            raise bad_request("start_date phải trước end_date.", "start_date must not be after end_date.")
        if end - start > MAX_SPAN:
            raise bad_request(
                "Khoảng thời gian không được dài quá 90 ngày.", "The date range may not span more than 90 days."
            )
        return start, end
    if start:
        return start, start + MAX_SPAN
    if end:
        return end - MAX_SPAN, end
    return (now - MAX_SPAN, None) if default_recent else (None, None)


def parse_request_query(values: dict[str, str], now: datetime) -> RequestQuery:
    """Read and check the GET requests parameters."""
    statuses: set[str] = set()
    for part in _csv(_param(values, "status")):
        if part.lower() not in ("open", "closed"):
            raise bad_request(
                f"Trạng thái '{part[:20]}' không hợp lệ; dùng open, closed hoặc open,closed.",
                f"Unknown status '{part[:20]}'; use open, closed or open,closed.",
            )
        statuses.add(part.lower())
    ids = _csv(_param(values, "service_request_id"))
    if len(ids) > MAX_IDS:
        raise bad_request(
            f"Tối đa {MAX_IDS} mã service_request_id mỗi lần.", f"At most {MAX_IDS} service_request_id values at once."
        )
    updated_after = parse_moment(_param(values, "updated_after"), "updated_after")
    updated_before = parse_moment(_param(values, "updated_before"), "updated_before")
    if updated_after and updated_before and updated_after > updated_before:
        raise bad_request("updated_after phải trước updated_before.", "updated_after must not be after updated_before.")
    if updated_after and not updated_before:
        updated_before = now  # v2.1 draft: updated_before defaults to now when only updated_after is given
    start, end = _window(
        parse_moment(_param(values, "start_date"), "start_date"),
        parse_moment(_param(values, "end_date"), "end_date"),
        now,
        # A change feed (updated_after/before) reaches older requests too (§3.4).
        default_recent=updated_after is None and updated_before is None,
    )
    return RequestQuery(
        ids=ids,
        service_codes=_csv(_param(values, "service_code")),
        statuses=frozenset(statuses),
        start=start,
        end=end,
        updated_after=updated_after,
        updated_before=updated_before,
        page=parse_int(_param(values, "page"), "page", 1, 1, MAX_PAGE),
        page_size=parse_int(_param(values, "page_size"), "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
    )


# Names of agencies and communes (cached per application)


@dataclass
class _NameCache:
    loaded_at: float
    names: dict[str, tuple[str, str]]


def _cache(request: Request, kind: str) -> dict[str, tuple[str, str]] | None:
    store: dict[str, _NameCache] = getattr(request.app.state, "open311_names", {})
    entry = store.get(kind)
    if entry is None or time.monotonic() - entry.loaded_at > NAME_CACHE_SECONDS:
        return None
    return entry.names


def _remember(request: Request, kind: str, names: dict[str, tuple[str, str]]) -> None:
    store: dict[str, _NameCache] = getattr(request.app.state, "open311_names", {})
    store[kind] = _NameCache(time.monotonic(), names)
    request.app.state.open311_names = store


async def unit_names(request: Request, session: AsyncSession) -> dict[str, tuple[str, str]]:
    """Return (Vietnamese, English) names of the units in force, by code."""
    cached = _cache(request, "units")
    if cached is not None:
        return cached
    names = {u.code: (u.name, u.name_en or u.name) for u in await org_unit.units_valid_on(session)}
    _remember(request, "units", names)
    return names


async def agency_names(request: Request, session: AsyncSession, codes: set[str]) -> dict[str, tuple[str, str]]:
    """Return (Vietnamese, English) names of agencies, by code (unknown codes are skipped)."""
    cached = dict(_cache(request, "agencies") or {})
    missing = sorted(codes - set(cached))
    for code in missing:
        try:
            agency = await org_unit.get_agency(session, code)
        except org_unit.AgencyNotFound:
            cached[code] = (code, code)
            continue
        cached[code] = (agency.name, agency.name_en or agency.name)
    if missing or _cache(request, "agencies") is None:
        _remember(request, "agencies", cached)
    return cached


def _pick(pair: tuple[str, str] | None, lang: str) -> str | None:
    if pair is None:
        return None
    return pair[1] if lang == "en" else pair[0]


# Services (§2.4, §2.5)


def _service_name(category: Category, lang: str) -> str:
    return (category.name_en or category.name) if lang == "en" else category.name


def service_notice(category: Category, lang: str) -> str:
    """Tell what happens to a report of a category: the intake and resolution deadlines in working time."""
    hours = f"{category.accept_hours:g}"
    if lang == "en":
        return (
            f"The 1022 hotline checks the report within {hours} working hours; the responsible agency then "
            f"resolves it within {category.resolve_days} working days."
        )
    return (
        f"Tổng đài 1022 xem xét, tiếp nhận trong {hours} giờ làm việc; cơ quan có thẩm quyền xử lý trong "
        f"{category.resolve_days} ngày làm việc kể từ khi được chuyển."
    )


def service_item(category: Category, lang: str) -> dict[str, Any]:
    """Return one entry of the service list."""
    description = category.description or None
    if category.photo_required:
        needs = "A photo is required." if lang == "en" else "Cần gửi kèm ảnh hiện trường."
        description = f"{description} {needs}" if description else needs
    return {
        "service_code": category.code,
        "service_name": _service_name(category, lang),
        "description": description,
        "metadata": bool(category.attributes),
        # The request id is assigned at once, but handed out through a token (§2.7) as in batch systems.
        "type": "batch",
        "keywords": ", ".join(category.keywords or []) or None,
        "group": category.group_name or None,
    }


def definition(category: Category) -> dict[str, Any]:
    """Return the service definition built from the category's questions (§2.5)."""
    attributes = []
    for raw in sorted(category.attributes or [], key=lambda a: (a.get("order") or 10_000, a.get("code", ""))):
        attribute: dict[str, Any] = {
            "variable": bool(raw.get("variable", True)),
            "code": str(raw["code"]),
            "datatype": str(raw["datatype"]),
            "required": bool(raw.get("required", False)),
            "datatype_description": raw.get("datatype_description") or None,
            "order": raw.get("order"),
            "description": raw.get("description") or None,
        }
        if raw.get("values"):
            attribute["values"] = [{"key": str(v["key"]), "name": str(v["name"])} for v in raw["values"]]
        attributes.append(attribute)
    return {"service_code": category.code, "attributes": attributes}


async def _category(session: AsyncSession, code: str | None) -> Category:
    if not code:
        raise bad_request("Thiếu tham số service_code.", "The service_code parameter is missing.")
    category = await repository.category_by_code(session, code)
    if category is None or not category.active:
        raise Open311Failure(
            404,
            f"Không có dịch vụ (lĩnh vực phản ánh) mã '{code[:40]}'.",
            f"No service with code '{code[:40]}'.",
        )
    return category


# Tokens (§2.7): opaque, unforgeable, stateless


def _signature(secret: str, report_id: int) -> bytes:
    raw = hmac.new(secret.encode(), TOKEN_CONTEXT + str(report_id).encode(), hashlib.sha256).digest()
    return raw[:TOKEN_SIG_BYTES]


def make_token(secret: str, report_id: int) -> str:
    """Return the token of a report: its id and a keyed signature, URL-safe."""
    raw = report_id.to_bytes(8, "big") + _signature(secret, report_id)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_token(secret: str, token: str) -> int | None:
    """Return the report id a token stands for, or None if it was not issued here."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{20,40}", token):
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 8 + TOKEN_SIG_BYTES:
        return None
    report_id = int.from_bytes(raw[:8], "big")
    return report_id if hmac.compare_digest(raw[8:], _signature(secret, report_id)) else None


# Requests: the query and the view (§2.8, §2.9)

REQUEST_COLUMNS = (
    Report.id,
    Report.tracking_code,
    Report.status,
    Report.category_code,
    Report.description,
    Report.agency_code,
    Report.created_at,
    Report.updated_at,
    Report.resolve_due_at,
    Report.address,
    Report.unit_code,
    Report.lat,
    Report.lon,
    Report.result_text,
    Report.reject_reason,
    Report.accepted_at,
)


_STATEMENTS: dict[tuple[bool, ...], Select[*tuple[Any, ...]]] = {}


def _shape(query: RequestQuery) -> tuple[bool, ...]:
    if query.ids:
        return (True,)
    return (
        False,
        bool(query.service_codes),
        query.statuses == {"open"},
        query.statuses == {"closed"},
        query.start is not None,
        query.end is not None,
        query.updated_after is not None,
        query.updated_before is not None,
    )


def requests_statement(query: RequestQuery) -> Select[*tuple[Any, ...]]:
    """Return the page query for a filter shape: newest first, with the first intake photo id.

    Built once per shape with bound parameters (see `request_parameters`): constructing a statement costs
    more than running this one on an index.
    """
    shape = _shape(query)
    cached = _STATEMENTS.get(shape)
    if cached is not None:
        return cached
    conditions: list[ColumnElement[bool]] = []
    if query.ids:
        # §2.8: a list of ids overrides every other argument; unpublished ones are shown in short form.
        conditions.append(Report.tracking_code.in_(bindparam("ids", expanding=True)))
    else:
        conditions.append(repository.published())
        if query.service_codes:
            conditions.append(Report.category_code.in_(bindparam("codes", expanding=True)))
        if query.statuses == {"open"}:
            conditions.append(Report.status.in_(sorted(s.value for s in OPEN_STATUSES)))
        elif query.statuses == {"closed"}:
            conditions.append(Report.status.in_(sorted(s.value for s in CLOSED_STATUSES)))
        if query.start:
            conditions.append(Report.created_at >= bindparam("start", type_=UTCDateTime))
        if query.end:
            conditions.append(Report.created_at <= bindparam("end", type_=UTCDateTime))
        if query.updated_after:
            conditions.append(Report.updated_at >= bindparam("updated_after", type_=UTCDateTime))
        if query.updated_before:
            conditions.append(Report.updated_at <= bindparam("updated_before", type_=UTCDateTime))
    page = (
        select(*REQUEST_COLUMNS)
        .where(*conditions)
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("page")
    )
    # The photo is looked up for the page's rows only: in the same select as the OFFSET, the database would
    # run the sub-select for every skipped row too (1.7 s for page 200 of 50,000 reports on PostgreSQL).
    photo = (
        select(func.min(Photo.id))
        .where(Photo.report_id == page.c.id, Photo.kind == PhotoKind.INTAKE.value)
        .correlate(page)
        .scalar_subquery()
    )
    statement = select(page, photo.label("photo_id")).order_by(page.c.created_at.desc(), page.c.id.desc())
    _STATEMENTS[shape] = statement
    return statement


def request_parameters(query: RequestQuery) -> dict[str, Any]:
    """Return the values bound into `requests_statement` for a query."""
    if query.ids:
        return {"ids": [i.upper() for i in query.ids], "limit": len(query.ids), "offset": 0}
    values: dict[str, Any] = {
        "limit": query.page_size + 1,  # one more tells whether a next page exists
        "offset": (query.page - 1) * query.page_size,
    }
    if query.service_codes:
        values["codes"] = query.service_codes
    for name in ("start", "end", "updated_after", "updated_before"):
        if getattr(query, name) is not None:
            values[name] = getattr(query, name)
    return values


async def fetch_requests(runtime: Runtime, query: RequestQuery) -> Sequence[Any]:
    """Run the page query; on PostgreSQL outside a transaction (one read needs no BEGIN/COMMIT round trips)."""
    async with runtime.db.engine.connect() as conn:
        # SQLite keeps the kernel's own transaction control (BEGIN IMMEDIATE, see core/db.py): switching a
        # pooled connection to autocommit and back would hand it to the driver's implicit transactions.
        reader = conn
        if conn.dialect.name == "postgresql":
            reader = await conn.execution_options(isolation_level="AUTOCOMMIT")
        return (await reader.execute(requests_statement(query), request_parameters(query))).all()


STATUS_NOTES: Final = {(s.value, lang): status_label(s, lang) for s in ReportStatus for lang in ("vi", "en")}
REJECT_NOTES: Final = {
    (reason.value, lang): labels[1] if lang == "en" else labels[0]
    for reason, labels in REJECT_REASON_LABELS.items()
    for lang in ("vi", "en")
}
RESULT_STATUSES: Final = frozenset({ReportStatus.RESOLVED.value, ReportStatus.CLOSED.value})


def _status_notes(row: Any, published: bool, lang: str) -> str:
    """Say why a request has its status: the rejection reason, the agency's result, else the status itself."""
    key_lang = "en" if lang == "en" else "vi"
    if row.reject_reason and row.status == ReportStatus.REJECTED.value:
        return REJECT_NOTES.get((row.reject_reason, key_lang), str(row.reject_reason))
    if published and row.result_text and row.status in RESULT_STATUSES:
        return str(row.result_text)
    return STATUS_NOTES[(row.status, key_lang)]


@dataclass(frozen=True)
class Names:
    """Everything a request view names: categories, agencies, units."""

    categories: dict[str, tuple[str, str]]
    agencies: dict[str, tuple[str, str]]
    units: dict[str, tuple[str, str]]


OPEN_VALUES: Final = frozenset(s.value for s in OPEN_STATUSES)


def request_view(row: Any, names: Names, lang: str, photo_base: str) -> dict[str, Any]:
    """Return one request as §2.9 describes it; place, text and photo only once published."""
    published = row.accepted_at is not None and row.status != ReportStatus.REJECTED.value
    view: dict[str, Any] = {
        "service_request_id": row.tracking_code,
        "status": "open" if row.status in OPEN_VALUES else "closed",
        "status_notes": _status_notes(row, published, lang),
        "service_name": _pick(names.categories.get(row.category_code), lang) or row.category_code,
        "service_code": row.category_code,
        "description": None,
        "agency_responsible": _pick(names.agencies.get(row.agency_code), lang) if row.agency_code else None,
        "service_notice": None,
        "requested_datetime": w3c(row.created_at),
        "updated_datetime": w3c(row.updated_at),
        "expected_datetime": w3c(row.resolve_due_at),
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }
    if published:
        view["description"] = row.description
        view["address"] = row.address or _pick(names.units.get(row.unit_code), lang)
        view["address_id"] = row.unit_code
        view["lat"] = round(row.lat, PUBLIC_COORD_DECIMALS)
        view["long"] = round(row.lon, PUBLIC_COORD_DECIMALS)
        view["media_url"] = f"{photo_base}/{row.photo_id}" if row.photo_id else None
    return view


async def load_names(request: Request, rows: Sequence[Any]) -> Names:
    """Look up the names a page of requests needs; from the cache unless something is missing or stale."""
    needed_agencies = {r.agency_code for r in rows if r.agency_code}
    needed_categories = {r.category_code for r in rows}
    categories, units, agencies = _cache(request, "categories"), _cache(request, "units"), _cache(request, "agencies")
    if (
        categories is not None
        and units is not None
        and agencies is not None
        and needed_categories <= categories.keys()
        and needed_agencies <= agencies.keys()
    ):
        return Names(categories=categories, agencies=agencies, units=units)
    async with _runtime(request).db.session() as session:
        if categories is None or not needed_categories <= categories.keys():
            categories = await repository.category_names(session)
            _remember(request, "categories", categories)
        return Names(
            categories=categories,
            agencies=await agency_names(request, session, needed_agencies),
            units=await unit_names(request, session),
        )


def _next_link(request: Request, query: RequestQuery) -> str:
    params = dict(request.query_params)
    params["page"] = str(query.page + 1)
    params["page_size"] = str(query.page_size)
    return f'<{absolute(request, request.url.path)}?{urlencode(params)}>; rel="next"'


# Submission (§2.6)


async def principal_for_key(request: Request, api_key: str | None) -> Principal:
    """Return who an `api_key` acts as, through the installation's authenticator; 403 if missing or invalid."""
    refused = Open311Failure(
        403,
        "Thiếu api_key hoặc api_key không hợp lệ; không thể tạo phản ánh.",
        "Invalid api_key received -- can't proceed with create_request.",
    )
    if not api_key:
        caller: Principal | None = getattr(request.state, "principal", None)
        if caller is not None:
            return caller  # an `Authorization: Bearer` key, already checked by the middleware
        raise refused
    authenticator = _runtime(request).authenticator
    if authenticator is None:
        raise refused
    # The key travels as a form field (§2.6); the authenticator reads keys from the Bearer header.
    scope = {
        "type": "http",
        "method": "GET",
        "path": request.url.path,
        "headers": [(b"authorization", f"Bearer {api_key}".encode())],
        "query_string": b"",
        "app": request.app,
    }
    try:
        principal = await authenticator(StarletteRequest(scope))
    except IocError:
        raise refused from None
    if principal is None:
        raise refused
    return principal


def _person_name(form: dict[str, str]) -> str | None:
    parts = [_param(form, "first_name"), _param(form, "last_name")]
    name = " ".join(p for p in parts if p)
    return name[:120] or None


def fold(text: str) -> str:
    """Return lower-case text without Vietnamese diacritics, for matching place names."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.lower().split())


async def _unit_point(session: AsyncSession, code: str) -> tuple[float, float] | None:
    """Return a point surely inside a unit (its representative point), or None without a boundary."""
    try:
        feature = await org_unit.unit_geometry(session, code)
    except (org_unit.UnitNotFound, org_unit.GeometryNotFound):
        return None
    if feature.geometry is None:
        return None
    point = shape(feature.geometry).representative_point()
    return float(point.y), float(point.x)


async def _unit_in_address(session: AsyncSession, address: str) -> str | None:
    """Return the code of the commune named in an address ("…, Phường Tân Ninh, Tây Ninh"), the longest match."""
    folded = f" {fold(address)} "
    best: tuple[int, str] | None = None
    for unit in await org_unit.units_valid_on(session, level=org_unit.UnitLevel.COMMUNE):
        name = fold(unit.name)
        bare = fold(unit.name.removeprefix(unit.unit_type.capitalize()).removeprefix(unit.unit_type))
        for candidate in (name, bare):
            found = len(candidate) >= 3 and re.search(rf"[\s,]{re.escape(candidate)}[\s,.]", folded)
            if found and (best is None or len(candidate) > best[0]):
                best = (len(candidate), unit.code)
    return best[1] if best else None


async def locate(session: AsyncSession, form: dict[str, str]) -> tuple[float, float]:
    """Return the report's point: lat/long, else the commune of address_id, else the commune named in the address."""
    lat_text, lon_text = _param(form, "lat"), _param(form, "long")
    if lat_text or lon_text:
        try:
            lat, lon = float(lat_text or ""), float(lon_text or "")
        except ValueError:
            raise bad_request(
                "Cần gửi cả lat và long, là số thập phân (WGS 84).",
                "Send both lat and long as decimal numbers (WGS 84).",
            ) from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise bad_request("lat/long nằm ngoài phạm vi WGS 84.", "lat/long are out of the WGS 84 range.")
        return lat, lon
    address_id = _param(form, "address_id")
    if address_id:
        point = await _unit_point(session, address_id)
        if point is None:
            raise bad_request(
                f"address_id '{address_id[:20]}' không phải mã xã/phường có ranh giới trên bản đồ.",
                f"address_id '{address_id[:20]}' is not the code of a commune with a boundary on the map.",
            )
        return point
    address = _param(form, "address_string")
    if address:
        code = await _unit_in_address(session, address)
        point = await _unit_point(session, code) if code else None
        if point is None:
            raise bad_request(
                "Không xác định được xã/phường từ address_string; hãy gửi lat và long.",
                "Could not find the commune in address_string; send lat and long.",
            )
        return point
    raise bad_request(
        "Thiếu vị trí: gửi lat và long, hoặc address_string, hoặc address_id.",
        "A location is required: lat and long, or address_string, or address_id.",
    )


def _data_uri_photo(value: str) -> PhotoUpload | None:
    """Return the photo of a `data:image/...;base64,` media_url (the FixMyStreet convention, §3.6)."""
    match = DATA_URI.match(value)
    if match is None:
        return None
    try:
        data = base64.b64decode(match.group(2), validate=False)
    except (binascii.Error, ValueError):
        raise bad_request(
            "media_url dạng data: không giải mã được.", "The data: media_url cannot be decoded."
        ) from None
    return PhotoUpload(file_name="media_url", data=data[: MAX_PHOTO_BYTES + 1])


async def read_submission(request: Request) -> tuple[dict[str, str], dict[str, Any], list[PhotoUpload]]:
    """Read form fields, `attribute[CODE]` answers (`attribute[CODE][]` repeated for lists) and files."""
    content_type = request.headers.get("content-type", "").lower()
    fields: dict[str, str] = dict(request.query_params)
    attributes: dict[str, Any] = {}
    uploads: list[PhotoUpload] = []
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        raise bad_request(
            "Nội dung gửi lên phải là application/x-www-form-urlencoded hoặc multipart/form-data.",
            "The body must be application/x-www-form-urlencoded or multipart/form-data.",
        )
    try:
        form: FormData = await request.form(max_files=MAX_PHOTOS + 1, max_fields=120)
    except Exception as exc:  # a malformed body must be a 400, whatever the multipart parser raised
        raise bad_request("Không đọc được nội dung biểu mẫu.", "The form body could not be read.") from exc
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key in FILE_FIELDS:
                    content = await value.read(MAX_PHOTO_BYTES + 1)
                    if content:
                        uploads.append(PhotoUpload(file_name=(value.filename or "photo")[:120], data=content))
                continue
            if key.startswith("attribute[") and key.endswith("]"):
                inner = key[len("attribute[") : -1]
                if inner.endswith("]["):
                    listed = attributes.setdefault(inner[:-2], [])
                    if isinstance(listed, list):
                        listed.append(value)
                else:
                    attributes[inner] = value
            elif value != "" or key not in fields:
                fields[key] = value
    finally:
        await form.close()
    return fields, attributes, uploads


def _description(fields: dict[str, str], category: Category, media_urls: list[str], lang: str) -> str:
    text = _param(fields, "description") or ""
    if len(text) < DESCRIPTION_MIN:
        # Open311 makes the description optional; ours needs one, so a short or missing one names the service.
        text = f"{_service_name(category, lang)}. {text}".strip()
    if media_urls:
        # Remote media are not fetched (the server would reach any address a client names); staff open them.
        text = f"{text}\n\nmedia_url: " + " ".join(media_urls)
    return text[:DESCRIPTION_MAX]


def _validation_failure(exc: ValidationError) -> Open311Failure:
    fields = sorted({".".join(str(p) for p in err.get("loc", ())) or "?" for err in exc.errors()})
    names = {"reporter_email": "email", "reporter_phone": "phone", "reporter_name": "first_name/last_name"}
    listed = ", ".join(names.get(f, f) for f in fields)
    return bad_request(f"Dữ liệu không hợp lệ: {listed}.", f"Invalid input: {listed}.")


def _public_intake(principal: Principal) -> Principal | None:
    """Keys of citizen accounts (a citizen app) submit like the public form, so the per-address limit applies."""
    return None if principal.role is Role.CITIZEN else principal


# Routes


@router.get("/discovery.{fmt}", summary="Open311 discovery")
async def discovery(request: Request, fmt: str) -> Response:
    """Describe the endpoint (§2.3); the changeset moves whenever a category changes."""

    async def work(fmt_: Format) -> Response:
        async with _runtime(request).db.session() as session:
            changed = await session.scalar(select(func.max(Category.updated_at)))
        changeset = w3c(changed) or "1970-01-01T07:00:00+07:00"
        lang = _lang(request)
        body = {
            "changeset": changeset,
            "contact": "Tổng đài 1022 — phản ánh hiện trường"
            if lang != "en"
            else "1022 hotline — citizen field reports",
            "key_service": "Đơn vị phát triển ứng dụng đề nghị quản trị hệ thống cấp khoá API (api_key)."
            if lang != "en"
            else "App developers ask the system administrators for an API key (api_key).",
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": absolute(request, PREFIX),
                    "changeset": changeset,
                    "type": "production" if _runtime(request).settings.env.value == "production" else "test",
                    "formats": ["application/json", "text/xml"],
                }
            ],
        }
        return answer(fmt_, "discovery", body)

    return await guarded(request, fmt, lambda fmt_: cached(request, "discovery", fmt_, lambda: work(fmt_)))


@router.get("/services.{fmt}", summary="Open311 service list")
async def services(request: Request, fmt: str) -> Response:
    """List the active categories as services (§2.4)."""

    async def work(fmt_: Format) -> Response:
        lang = _lang(request)
        async with _runtime(request).db.session() as session:
            categories = await repository.list_categories(session, include_inactive=False)
        return answer(fmt_, "services", [service_item(c, lang) for c in categories])

    return await guarded(request, fmt, lambda fmt_: cached(request, "services", fmt_, lambda: work(fmt_)))


@router.get("/services/{service_code}.{fmt}", summary="Open311 service definition")
async def service_definition(request: Request, service_code: str, fmt: str) -> Response:
    """Return a category's questions as a service definition (§2.5)."""

    async def work(fmt_: Format) -> Response:
        async with _runtime(request).db.session() as session:
            category = await _category(session, service_code)
        return answer(fmt_, "service_definition", definition(category))

    return await guarded(request, fmt, lambda fmt_: cached(request, "definition", fmt_, lambda: work(fmt_)))


@router.post("/requests.{fmt}", summary="Open311 create a service request")
async def create_request(request: Request, fmt: str) -> Response:
    """Submit a report from an Open311 client with an api_key (§2.6); the answer carries a token."""

    async def work(fmt_: Format) -> Response:
        runtime = _runtime(request)
        lang = _lang(request)
        fields, attributes, uploads = await read_submission(request)
        _check_jurisdiction(request, fields.get("jurisdiction_id", ""))
        principal = await principal_for_key(request, _param(fields, "api_key"))
        if not principal.has(SCOPE_SUBMIT):
            raise Open311Failure(
                403,
                f"Khoá API này không có quyền gửi phản ánh ({SCOPE_SUBMIT}).",
                f"This API key may not submit reports ({SCOPE_SUBMIT}).",
            )
        store = MediaStore.under(runtime.settings.data_dir)
        async with runtime.db.session() as session:
            # The write is audited as the key's owner, like any other request made with that key.
            session.sync_session.info["actor"] = principal
            session.sync_session.info["request_meta"] = {
                "request_id": getattr(request.state, "request_id", None),
                "ip": request.client.host if request.client else None,
            }
            current_actor.set(principal)
            category = await _category(session, _param(fields, "service_code"))
            lat, lon = await locate(session, fields)
            media_urls: list[str] = []
            for url in (u for u in [_param(fields, "media_url")] if u):
                photo = _data_uri_photo(url)
                if photo is not None:
                    uploads.append(photo)
                elif re.match(r"^https?://\S+$", url) and len(url) <= 500:
                    media_urls.append(url)
                else:
                    raise bad_request(
                        "media_url không phải địa chỉ http(s) hợp lệ.", "media_url is not an http(s) URL."
                    )
            try:
                data = ReportCreate.model_validate(
                    {
                        "category_code": category.code,
                        "description": _description(fields, category, media_urls, lang),
                        "lat": lat,
                        "lon": lon,
                        "address": (_param(fields, "address_string") or "")[:300],
                        "attributes": attributes,
                        "reporter_name": _person_name(fields),
                        "reporter_phone": _param(fields, "phone"),
                        "reporter_email": _param(fields, "email"),
                        "source": Source.APP,
                    }
                )
            except ValidationError as exc:
                raise _validation_failure(exc) from None
            try:
                result = await service.submit(
                    session,
                    runtime,
                    data,
                    principal=_public_intake(principal),
                    uploads=uploads,
                    client_ip=request.client.host if request.client else None,
                    lang=lang,
                    store=store,
                )
                await session.commit()
            except BaseException:
                store.discard()
                raise
        body = [
            {
                "token": make_token(runtime.settings.secret_key, result.id),
                "service_notice": service_notice(category, lang),
                "account_id": _param(fields, "account_id"),
            }
        ]
        return answer(fmt_, "service_requests", body, status=201)

    return await guarded(request, fmt, work)


@router.get("/tokens/{token}.{fmt}", summary="Open311 request id from a token")
async def token_request(request: Request, token: str, fmt: str) -> Response:
    """Exchange a token from POST requests for the service_request_id (§2.7)."""

    async def work(fmt_: Format) -> Response:
        runtime = _runtime(request)
        report_id = read_token(runtime.settings.secret_key, token)
        async with runtime.db.session() as session:
            codes = await repository.tracking_codes(session, [report_id]) if report_id is not None else {}
        if report_id is None or report_id not in codes:
            raise Open311Failure(404, "Không có mã token này.", f"No such token: {token[:40]}.")
        return answer(fmt_, "service_requests", [{"service_request_id": codes[report_id], "token": token}])

    return await guarded(request, fmt, work)


@router.get("/requests.{fmt}", summary="Open311 service requests")
async def list_requests(request: Request, fmt: str) -> Response:
    """List requests with the filters of §2.8, paging (§3.2) and the change feed (§3.4), newest first."""

    async def work(fmt_: Format) -> Response:
        lang = _lang(request)

        async def build() -> Response:
            query = parse_request_query(dict(request.query_params), utc_now())
            rows = await fetch_requests(_runtime(request), query)
            more = not query.ids and len(rows) > query.page_size
            rows = rows if query.ids else rows[: query.page_size]
            names = await load_names(request, rows)
            photo_base = absolute(request, PHOTO_PATH)
            body = [request_view(row, names, lang, photo_base) for row in rows]
            headers = {"Link": _next_link(request, query)} if more else None
            return answer(fmt_, "service_requests", body, headers=headers)

        return await cached(request, "requests", fmt_, build)

    return await guarded(request, fmt, work)


@router.get("/requests/{service_request_id}.{fmt}", summary="Open311 one service request")
async def one_request(request: Request, service_request_id: str, fmt: str) -> Response:
    """Return one request as a list of one (§2.10)."""

    async def work(fmt_: Format) -> Response:
        return await cached(request, "request", fmt_, lambda: build(fmt_))

    async def build(fmt_: Format) -> Response:
        lang = _lang(request)
        query = RequestQuery(
            ids=[service_request_id],
            service_codes=[],
            statuses=frozenset(),
            start=None,
            end=None,
            updated_after=None,
            updated_before=None,
            page=1,
            page_size=1,
        )
        rows = await fetch_requests(_runtime(request), query)
        if not rows:
            raise Open311Failure(
                404,
                f"Không có phản ánh {service_request_id[:40]}.",
                f"No service request {service_request_id[:40]}.",
            )
        names = await load_names(request, rows)
        view = request_view(rows[0], names, lang, absolute(request, PHOTO_PATH))
        return answer(fmt_, "service_requests", [view])

    return await guarded(request, fmt, work)


def _update_conditions(values: dict[str, str], now: datetime) -> tuple[list[ColumnElement[bool]], int, int]:
    start, end = _window(
        parse_moment(_param(values, "start_date"), "start_date"),
        parse_moment(_param(values, "end_date"), "end_date"),
        now,
        default_recent=True,
    )
    conditions: list[ColumnElement[bool]] = [
        repository.published(),
        TimelineEntry.public.is_(True),
        TimelineEntry.to_status.is_not(None),
    ]
    if start:
        conditions.append(TimelineEntry.at >= start)
    if end:
        conditions.append(TimelineEntry.at <= end)
    ids = _csv(_param(values, "service_request_id"))
    if len(ids) > MAX_IDS:
        raise bad_request(
            f"Tối đa {MAX_IDS} mã service_request_id mỗi lần.", f"At most {MAX_IDS} service_request_id values at once."
        )
    if ids:
        conditions.append(Report.tracking_code.in_([i.upper() for i in ids]))
    page = parse_int(_param(values, "page"), "page", 1, 1, MAX_PAGE)
    page_size = parse_int(_param(values, "page_size"), "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    return conditions, page, page_size


@router.get("/servicerequestupdates.{fmt}", summary="Open311 request updates (mySociety extension)")
async def request_updates(request: Request, fmt: str) -> Response:
    """List the public status changes of published reports, newest first (§3.5, GET side)."""

    async def work(fmt_: Format) -> Response:
        lang = _lang(request)
        conditions, page, page_size = _update_conditions(dict(request.query_params), utc_now())
        proof = (
            select(func.min(Photo.id))
            .where(Photo.report_id == Report.id, Photo.kind == PhotoKind.PROOF.value)
            .correlate(Report)
            .scalar_subquery()
        )
        stmt = (
            select(
                TimelineEntry.id,
                TimelineEntry.at,
                TimelineEntry.action,
                TimelineEntry.to_status,
                TimelineEntry.note,
                Report.tracking_code,
                proof.label("proof_id"),
            )
            .join(Report, Report.id == TimelineEntry.report_id)
            .where(and_(*conditions))
            .order_by(TimelineEntry.at.desc(), TimelineEntry.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        async with _runtime(request).db.session() as session:
            rows = (await session.execute(stmt)).all()
        body = []
        for row in rows:
            vi, en = ACTION_LABELS[Action(row.action)]
            label = en if lang == "en" else vi
            resolved = row.to_status == ReportStatus.RESOLVED.value
            body.append(
                {
                    "update_id": str(row.id),
                    "service_request_id": row.tracking_code,
                    "status": EXTENDED_STATUS.get(row.to_status or "", "open"),
                    "updated_datetime": w3c(row.at),
                    "description": f"{label}: {row.note}" if row.note else label,
                    "media_url": absolute(request, f"{PHOTO_PATH}/{row.proof_id}")
                    if resolved and row.proof_id
                    else None,
                }
            )
        return answer(fmt_, "service_request_updates", body)

    return await guarded(request, fmt, lambda fmt_: cached(request, "updates", fmt_, lambda: work(fmt_)))


@router.get("", include_in_schema=False)
@router.get("/", include_in_schema=False)
async def root() -> Response:
    """Send people who open the endpoint to the discovery document."""
    return RedirectResponse(f"{PREFIX}/discovery.json", status_code=307)


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def unknown(request: Request, rest: str) -> Response:
    """Answer any other path under the endpoint with an Open311 error (400 for an invalid URL, §2.11)."""
    suffix = rest.rsplit(".", 1)[-1].lower() if "." in rest else ""
    fmt = Format.XML if suffix == "xml" else Format.JSON
    failure = bad_request(
        f"Đường dẫn '{rest[:80]}' không thuộc Open311 GeoReport v2 (xem discovery.json).",
        f"'{rest[:80]}' is not an Open311 GeoReport v2 resource (see discovery.json).",
    )
    return error_answer(fmt, failure, _lang(request))
