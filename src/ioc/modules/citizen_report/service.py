"""Business rules of citizen reports: intake, routing, the workflow, deadlines, publication (never commits)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core import audit
from ioc.core.errors import BadRequest, Forbidden, IocError, NotFound, ValidationFailed
from ioc.core.events import record_event
from ioc.core.http import Page, PageParams
from ioc.core.jobs import JobStatus, cancel_job, schedule_job
from ioc.core.module import KpiValue, PictureContext
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.time import ensure_utc, local_today, to_local, utc_now
from ioc.modules import notification, org_unit

from . import notices, repository
from .constants import (
    ACTION_LABELS,
    ACTOR_LABELS,
    AGENCY_STATUSES,
    API_PREFIX,
    APPROACH_FRACTION,
    CLOSE_JOB,
    DEADLINE_JOB,
    DUPLICATE_LIMIT,
    DUPLICATE_RADIUS_M,
    EARTH_RADIUS_M,
    EXPORT_MAX_ROWS,
    FINAL_STATUSES,
    GEOJSON_MAX_FEATURES,
    INBOX_PATH,
    KPI_ON_TIME_DAYS,
    MAP_CELLS_PER_TILE,
    MAP_CLUSTER_MAX_ZOOM,
    MAP_CLUSTER_THRESHOLD,
    MAP_GRID_LATITUDE,
    MAP_MAX_TILES_PER_SIDE,
    MAP_MAX_ZOOM,
    MAX_PHOTOS,
    MERCATOR_MAX_LAT,
    METRES_PER_DEGREE_LAT,
    OPEN_STATUSES,
    PICTURE_GRID_ZOOM,
    PICTURE_LAYER_MAX,
    PICTURE_ON_TIME_TARGET,
    PICTURE_OVERDUE_CRITICAL,
    PICTURE_RATE_MARGIN,
    PICTURE_SATISFACTION_TARGET,
    PUBLIC_COORD_DECIMALS,
    PUBLIC_FORM_PATH,
    RATE_LIMIT_COUNT,
    RATE_LIMIT_WINDOW,
    REJECT_REASON_LABELS,
    SCOPE_APPROVE,
    SCOPE_HANDLE,
    SCOPE_OPERATE,
    SCOPE_READ,
    STATS_DEFAULT_DAYS,
    TRACKING_PREFIX,
    Action,
    ActorKind,
    AttributeType,
    Phase,
    PhotoKind,
    Rating,
    RejectReason,
    ReportStatus,
    Source,
    StatsGroup,
    TimerKind,
    status_label,
)
from .events import (
    DeadlineApproaching,
    ExtensionApproved,
    ExtensionDeclined,
    ExtensionRequested,
    ReportAccepted,
    ReportAssigned,
    ReportClosed,
    ReportEvent,
    ReportMerged,
    ReportOverdue,
    ReportRated,
    ReportRejected,
    ReportReopened,
    ReportResolved,
    ReportReturned,
    ReportsLinked,
    ReportStarted,
    ReportSubmitted,
)
from .exceptions import (
    AlreadyRated,
    CannotMerge,
    CategoryCodeTaken,
    CategoryInUse,
    CategoryNotFound,
    ExtensionNotPending,
    InvalidAttribute,
    InvalidRatingToken,
    InvalidTransition,
    NoResponsibleAgency,
    NotAssignedAgency,
    OutsideProvince,
    PhotoRequired,
    ReportNotFound,
    SubmissionRateLimited,
    TooManyPhotos,
    UnknownAgency,
    UnknownCategory,
)
from .lookups import lookups_for
from .models import Category, Follower, Link, Photo, Report, TimelineEntry
from .photos import MediaStore, PhotoUpload, ProcessedPhoto, process_image
from .schemas import (
    AssignInput,
    AttributeDefinition,
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
    PhotoRead,
    RatingInput,
    RejectInput,
    ReportCreate,
    ReporterContact,
    ReportFilters,
    ReportPublic,
    ReportPublicSummary,
    ReportRead,
    ReportSummary,
    ResolveInput,
    ReturnInput,
    StatsRead,
    StatsRow,
    SubmitResult,
    TimelineRead,
)

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime

log = logging.getLogger(__name__)

PHOTO_URL = f"/api/v1{API_PREFIX}/photos"
EXCERPT_LENGTH = 140
SECONDS_PER_HOUR = 3600


# Who acts


@dataclass(frozen=True)
class Actor:
    """The author of a timeline entry: a public role label, and the person's account name for staff."""

    kind: ActorKind
    name: str
    agency_code: str | None = None


ROLE_ACTORS = {
    Role.CITIZEN: ActorKind.CITIZEN,
    Role.HOTLINE_OPERATOR: ActorKind.HOTLINE,
    Role.AGENCY_STAFF: ActorKind.AGENCY,
    Role.AGENCY_HEAD: ActorKind.SUPERVISOR,
    Role.LEADER: ActorKind.LEADER,
    Role.ADMIN: ActorKind.ADMIN,
}
SYSTEM_ACTOR = Actor(ActorKind.SYSTEM, "system")
CITIZEN_ACTOR = Actor(ActorKind.CITIZEN, "citizen")


def actor_for(principal: Principal | None, report: Report | None = None) -> Actor:
    """Return the timeline author for a principal (anonymous callers are citizens)."""
    if principal is None:
        return CITIZEN_ACTOR
    if principal.kind is PrincipalKind.SYSTEM:
        return Actor(ActorKind.SYSTEM, principal.name[:120])
    kind = ROLE_ACTORS.get(principal.role, ActorKind.CITIZEN)
    if kind is ActorKind.CITIZEN:
        return CITIZEN_ACTOR  # a citizen's account name is personal data; staff see who only where allowed
    agency = report.agency_code if report is not None and kind in (ActorKind.AGENCY, ActorKind.SUPERVISOR) else None
    return Actor(kind, (principal.display_name or principal.name)[:120], agency)


def _require_scope(principal: Principal | None, scope: str) -> Principal:
    if principal is None or not principal.has(scope):
        raise Forbidden(
            f"Bạn không có quyền thực hiện thao tác này ({scope}).",
            f"You are not allowed to do this ({scope}).",
            scope=scope,
        )
    return principal


def _is_assigned_staff(principal: Principal | None, report: Report) -> bool:
    return principal is not None and principal.agency_id is not None and principal.agency_id == report.agency_id


def _require_agency(principal: Principal, report: Report) -> None:
    """Only staff of the assigned agency (or an administrator) act for the agency."""
    if principal.is_admin:
        return
    if not _is_assigned_staff(principal, report):
        raise NotAssignedAgency()


def may_see_personal_data(principal: Principal | None, report: Report) -> bool:
    """Tell whether a caller may see the reporter's contact details."""
    if principal is None:
        return False
    if principal.is_admin or principal.has(SCOPE_OPERATE):
        return True
    # An anonymous reporter stays unknown to the agency; only the hotline and administrators know who it was.
    return not report.anonymous and _is_assigned_staff(principal, report) and principal.has(SCOPE_HANDLE)


# Categories


def category_read(category: Category) -> CategoryRead:
    """Build the read schema of a category."""
    return CategoryRead(
        id=category.id,
        code=category.code,
        name=category.name,
        name_en=category.name_en,
        description=category.description,
        group=category.group_name,
        keywords=list(category.keywords or []),
        default_agency_code=category.default_agency_code,
        agency_overrides=dict(category.agency_overrides or {}),
        attributes=[AttributeDefinition.model_validate(a) for a in category.attributes or []],
        accept_hours=category.accept_hours,
        resolve_days=category.resolve_days,
        reopen_window_days=category.reopen_window_days,
        photo_required=category.photo_required,
        active=category.active,
        sort_order=category.sort_order,
        created_at=category.created_at,
        updated_at=category.updated_at,
    )


async def list_categories(session: AsyncSession, *, include_inactive: bool = False) -> list[CategoryRead]:
    """Return the categories in display order (active ones only unless asked)."""
    return [category_read(c) for c in await repository.list_categories(session, include_inactive=include_inactive)]


async def get_category(session: AsyncSession, code: str) -> CategoryRead:
    """Return a category by code or raise CategoryNotFound."""
    category = await repository.category_by_code(session, code)
    if category is None:
        raise CategoryNotFound(code)
    return category_read(category)


async def _check_routing(session: AsyncSession, data: CategoryCreate | CategoryUpdate) -> None:
    codes = {data.default_agency_code} if data.default_agency_code else set()
    codes |= set(data.agency_overrides.values())
    for code in sorted(codes):
        try:
            await org_unit.get_agency(session, code)
        except org_unit.AgencyNotFound as exc:
            raise UnknownAgency(code) from exc
    for unit_code in sorted(data.agency_overrides):
        if await org_unit.get_unit(session, unit_code) is None:
            raise ValidationFailed(
                f"Không có đơn vị hành chính mã {unit_code} trong danh sách ngoại lệ.",
                f"No administrative unit with code {unit_code} in the override list.",
                field="agency_overrides",
                unit_code=unit_code,
            )


def _apply_category(category: Category, data: CategoryCreate | CategoryUpdate, now: datetime) -> None:
    category.name = data.name
    category.name_en = data.name_en
    category.description = data.description
    category.group_name = data.group
    category.keywords = list(data.keywords)
    category.default_agency_code = data.default_agency_code or None
    category.agency_overrides = dict(data.agency_overrides)
    category.attributes = [a.model_dump(mode="json") for a in data.attributes]
    category.accept_hours = data.accept_hours
    category.resolve_days = data.resolve_days
    category.reopen_window_days = data.reopen_window_days
    category.photo_required = data.photo_required
    category.active = data.active
    category.sort_order = data.sort_order
    category.updated_at = now


async def create_category(session: AsyncSession, data: CategoryCreate) -> CategoryRead:
    """Create a category after checking its code and its routing rule."""
    if await repository.category_by_code(session, data.code) is not None:
        raise CategoryCodeTaken(data.code)
    await _check_routing(session, data)
    now = utc_now()
    category = Category(code=data.code, created_at=now)
    _apply_category(category, data, now)
    repository.add(session, category)
    await session.flush()
    return category_read(category)


async def update_category(session: AsyncSession, code: str, data: CategoryUpdate) -> CategoryRead:
    """Replace a category's fields (its code stays); reports filed already keep their deadlines."""
    category = await repository.category_by_code(session, code)
    if category is None:
        raise CategoryNotFound(code)
    await _check_routing(session, data)
    _apply_category(category, data, utc_now())
    await session.flush()
    return category_read(category)


async def delete_category(session: AsyncSession, code: str) -> None:
    """Delete a category that no report uses."""
    category = await repository.category_by_code(session, code)
    if category is None:
        raise CategoryNotFound(code)
    used = await repository.count_reports_of_category(session, category.id)
    if used:
        raise CategoryInUse(code, used)
    await repository.delete_row(session, category)
    await session.flush()


# Routing


async def route(session: AsyncSession, category: Category, unit_code: str) -> org_unit.AgencyRead | None:
    """Return the agency responsible for a category at a unit: override, else default, else the commune."""
    chosen = (category.agency_overrides or {}).get(unit_code) or category.default_agency_code
    if chosen:
        try:
            agency = await org_unit.get_agency(session, chosen)
        except org_unit.AgencyNotFound:
            log.warning("routing names an unknown agency", extra={"category": category.code, "agency": chosen})
            return None
        return agency if agency.is_active else None
    try:
        agencies = await org_unit.agencies_for_unit(session, unit_code)
    except org_unit.UnitNotFound:
        return None
    committees = [a for a in agencies if a.kind == org_unit.AgencyKind.COMMUNE_COMMITTEE]
    candidates = committees or agencies
    return candidates[0] if candidates else None


# Attributes (Open311 service definitions)


def _attribute_error(code: str, vi: str, en: str) -> InvalidAttribute:
    return InvalidAttribute(code, f"Câu hỏi '{code}': {vi}", f"Question '{code}': {en}")


def _clean_attribute(definition: AttributeDefinition, value: Any) -> Any:
    code = definition.code
    keys = {v.key for v in definition.values}
    kind = definition.datatype
    if kind in (AttributeType.STRING, AttributeType.TEXT):
        limit = 500 if kind is AttributeType.STRING else 4000
        if not isinstance(value, str | int | float) or len(str(value)) > limit:
            raise _attribute_error(code, f"cần một đoạn chữ (tối đa {limit} ký tự).", f"needs text (at most {limit}).")
        return str(value).strip()
    if kind is AttributeType.NUMBER:
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise _attribute_error(code, "cần một con số.", "needs a number.") from exc
        if not math.isfinite(number):
            raise _attribute_error(code, "cần một con số.", "needs a number.")
        return number
    if kind is AttributeType.DATETIME:
        try:
            return datetime.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise _attribute_error(code, "cần ngày giờ dạng ISO 8601.", "needs an ISO 8601 date and time.") from exc
    if kind is AttributeType.SINGLEVALUELIST:
        if str(value) not in keys:
            raise _attribute_error(code, "giá trị không có trong danh sách.", "the value is not one of the options.")
        return str(value)
    chosen = value if isinstance(value, list) else [value]
    if not chosen or any(str(item) not in keys for item in chosen):
        raise _attribute_error(code, "giá trị không có trong danh sách.", "a value is not one of the options.")
    return sorted({str(item) for item in chosen})


def validate_attributes(definitions: Iterable[dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    """Check answers against a category's questions and return them cleaned."""
    parsed = [AttributeDefinition.model_validate(d) for d in definitions]
    known = {d.code for d in parsed}
    for code in values:
        if code not in known:
            raise _attribute_error(code, "lĩnh vực này không có câu hỏi này.", "this category has no such question.")
    cleaned: dict[str, Any] = {}
    for definition in parsed:
        value = values.get(definition.code)
        if value is None or value == "" or value == []:
            if definition.required and definition.variable:
                raise _attribute_error(definition.code, "cần trả lời.", "an answer is required.")
            continue
        cleaned[definition.code] = _clean_attribute(definition, value)
    return cleaned


# Distances and duplicates


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance between two WGS 84 points in metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """Return (min_lat, min_lon, max_lat, max_lon) of a box holding the circle around a point."""
    d_lat = radius_m / METRES_PER_DEGREE_LAT
    d_lon = radius_m / (METRES_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 0.01))
    return lat - d_lat, lon - d_lon, lat + d_lat, lon + d_lon


def is_published(report: Report) -> bool:
    """Tell whether the public may see a report's details and photos (accepted, not rejected)."""
    return report.accepted_at is not None and report.status != ReportStatus.REJECTED


async def _nearby(
    session: AsyncSession, category_id: int, lat: float, lon: float, *, exclude_id: int | None, staff: bool
) -> list[DuplicateCandidate]:
    rows = await repository.reports_near(
        session, category_id, bounding_box(lat, lon, DUPLICATE_RADIUS_M), exclude_id=exclude_id
    )
    return _candidates(rows, lat, lon, staff=staff)


def _candidates(rows: Iterable[Any], lat: float, lon: float, *, staff: bool) -> list[DuplicateCandidate]:
    """Return the nearest reports within the duplicate radius (the public sees accepted ones only)."""
    found: list[tuple[float, Any]] = []
    for report in rows:
        if not staff and (report.accepted_at is None or report.status == ReportStatus.REJECTED):
            continue
        distance = distance_m(lat, lon, report.lat, report.lon)
        if distance <= DUPLICATE_RADIUS_M:
            found.append((distance, report))
    found.sort(key=lambda item: (item[0], -item[1].created_at.timestamp()))
    return [
        DuplicateCandidate(
            id=report.id if staff else None,
            tracking_code=report.tracking_code,
            status=report.status,
            distance_m=round(distance, 1),
            created_at=report.created_at,
        )
        for distance, report in found[:DUPLICATE_LIMIT]
    ]


async def nearby(
    session: AsyncSession, category_code: str, lat: float, lon: float, principal: Principal | None
) -> list[DuplicateCandidate]:
    """Suggest open reports of the same category within 250 m (the public sees accepted ones only)."""
    category = await repository.category_by_code(session, category_code)
    if category is None:
        raise UnknownCategory(category_code)
    staff = principal is not None and principal.has(SCOPE_READ)
    return await _nearby(session, category.id, lat, lon, exclude_id=None, staff=staff)


async def duplicates_of(session: AsyncSession, report_id: int) -> list[DuplicateCandidate]:
    """Suggest possible duplicates of a report for operators."""
    report = await _get(session, report_id)
    return await _nearby(session, report.category_id, report.lat, report.lon, exclude_id=report.id, staff=True)


# Rate limit


def client_key(secret: str, client_ip: str) -> str:
    """Return a keyed hash of a client address, so that addresses themselves are not stored."""
    return hmac.new(secret.encode(), client_ip.encode(), hashlib.sha256).hexdigest()


def _rate_limited(principal: Principal | None) -> bool:
    # Operators record many calls, and staff integrations are issued keys: the limit protects the public
    # intake, which includes citizens' apps (API keys of citizen accounts), as on the Open311 POST.
    if principal is None:
        return True
    if principal.has(SCOPE_OPERATE):
        return False
    return not (principal.kind is PrincipalKind.API_KEY and principal.role is not Role.CITIZEN)


def _refuse_over_limit(count: int, oldest: datetime | None, now: datetime) -> None:
    if count >= RATE_LIMIT_COUNT and oldest is not None:
        retry = max(1, int((ensure_utc(oldest) + RATE_LIMIT_WINDOW - now).total_seconds()))
        raise SubmissionRateLimited(count, int(RATE_LIMIT_WINDOW.total_seconds() // 60), retry)


async def purge_rate_hits(session: AsyncSession, now: datetime | None = None) -> int:
    """Forget submissions older than the rate-limit window."""
    return await repository.purge_rate_hits(session, (now or utc_now()) - RATE_LIMIT_WINDOW)


# Timeline, events, deadlines


def _timeline(
    session: AsyncSession,
    report: Report,
    at: datetime,
    actor: Actor,
    action: Action,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str = "",
    public: bool = True,
) -> None:
    repository.add(
        session,
        TimelineEntry(
            report_id=report.id,
            at=at,
            actor_kind=actor.kind.value,
            actor_name=actor.name,
            agency_code=actor.agency_code,
            action=action.value,
            from_status=from_status,
            to_status=to_status,
            note=note.strip(),
            public=public,
        ),
    )


def _event_fields(report: Report, from_status: str | None = None) -> dict[str, Any]:
    return {
        "report_id": report.id,
        "tracking_code": report.tracking_code,
        "status": report.status,
        "from_status": from_status,
        "category_code": report.category_code,
        "unit_code": report.unit_code,
        "agency_code": report.agency_code,
    }


# `schedule_job`'s default: deadline timers are written by `_intake_rows` as well as scheduled through it.
DEFAULT_JOB_ATTEMPTS = 5
REPORT_COLUMNS = tuple(repository.REPORT_TABLE.columns)


def _timer_key(report_id: int, kind: TimerKind) -> str:
    return f"{DEADLINE_JOB}:{report_id}:{kind.value}"


def _close_key(report_id: int) -> str:
    return f"{CLOSE_JOB}:{report_id}"


def _timers(runtime: Runtime, report: Report) -> list[tuple[TimerKind, datetime, dict[str, Any]]]:
    """Return (kind, when, payload) of the running phase's deadline timers (none without a deadline)."""
    if report.due_at is None or report.phase_started_at is None:
        return []
    calendar = runtime.calendar
    due = ensure_utc(report.due_at)
    start = ensure_utc(report.phase_started_at)
    span_hours = max(calendar.working_seconds_between(start, due), 0.0) / SECONDS_PER_HOUR
    approach_at = calendar.add_working_hours(start, span_hours * APPROACH_FRACTION) if span_hours else due
    return [
        (
            kind,
            when,
            {"report_id": report.id, "kind": kind.value, "due_at": due.isoformat(), "threshold": when.isoformat()},
        )
        for kind, when in ((TimerKind.APPROACHING, approach_at), (TimerKind.OVERDUE, due))
    ]


async def _schedule_timers(session: AsyncSession, runtime: Runtime, report: Report) -> None:
    timers = _timers(runtime, report)
    if not timers:
        for kind in TimerKind:
            await cancel_job(session, _timer_key(report.id, kind))
        return
    for kind, when, payload in timers:
        await schedule_job(session, DEADLINE_JOB, payload, run_at=when, dedupe_key=_timer_key(report.id, kind))


async def _start_phase(
    session: AsyncSession, runtime: Runtime, report: Report, phase: Phase, start: datetime, due: datetime
) -> None:
    report.phase = phase.value
    report.phase_started_at = start
    report.due_at = due
    report.approaching = False
    report.overdue = False
    await _schedule_timers(session, runtime, report)


async def _end_phase(session: AsyncSession, runtime: Runtime, report: Report) -> None:
    report.phase = None
    report.phase_started_at = None
    report.due_at = None
    report.approaching = False
    report.overdue = False
    await _schedule_timers(session, runtime, report)


def _expect(report: Report, allowed: Iterable[ReportStatus], action: Action) -> None:
    if ReportStatus(report.status) not in set(allowed):
        vi, en = ACTION_LABELS[action]
        raise InvalidTransition(vi.lower(), en.lower(), report.status)


async def _change(
    session: AsyncSession,
    runtime: Runtime,
    report: Report,
    to_status: ReportStatus,
    action: Action,
    actor: Actor,
    event: type[ReportEvent],
    now: datetime,
    *,
    note: str = "",
    public: bool = True,
    **event_extra: Any,
) -> None:
    """Move a report to a status: timeline entry, event, and a message to the reporter and followers."""
    from_status = report.status
    report.status = to_status.value
    report.updated_at = now
    _timeline(
        session,
        report,
        now,
        actor,
        action,
        from_status=from_status,
        to_status=to_status.value,
        note=note,
        public=public,
    )
    record_event(session, event(**_event_fields(report, from_status), occurred_at=now, **event_extra))
    await _notify_reporter(session, runtime, report, action, note if public else "")


# Notifications


REPORTER_ACTIONS = frozenset(
    {
        Action.SUBMITTED,
        Action.ACCEPTED,
        Action.REJECTED,
        Action.ASSIGNED,
        Action.STARTED,
        Action.RESOLVED,
        Action.REOPENED,
        Action.CLOSED,
        Action.MERGED,
        Action.EXTENSION_APPROVED,
    }
)


async def _notice_params(
    session: AsyncSession, runtime: Runtime, report: Report, lang: str, note: str, link: str
) -> dict[str, Any]:
    """Return the parameters every citizen_report template receives, in the recipient's language."""
    names = await repository.category_names(session)
    agencies = await _agency_names(session, [report.agency_code], lang)
    due = report.due_at or report.resolve_due_at
    return {
        "code": report.tracking_code,
        "category": _category_name(names, report.category_code, lang),
        "status": status_label(report.status, lang),
        "agency": agencies.get(report.agency_code or "", report.agency_code or ""),
        "due": f"{to_local(due):%H:%M %d/%m/%Y}" if due else "",
        "note": note,
        "link": runtime.settings.public_base_url.rstrip("/") + link,
    }


async def _notify_reporter(session: AsyncSession, runtime: Runtime, report: Report, action: Action, note: str) -> None:
    """Tell the reporter and the followers that their report moved: e-mail, or SMS when only a phone is known."""
    if action not in REPORTER_ACTIONS:
        return
    sms = bool(runtime.settings.sms_gateway_url)
    recipients: list[tuple[notification.ChannelKind, str, str]] = []

    def add(email: str | None, phone: str | None, lang: str) -> None:
        if email:
            recipients.append((notification.ChannelKind.EMAIL, email, lang))
        elif phone and sms:  # without a gateway there is no way to reach a phone-only reporter
            recipients.append((notification.ChannelKind.SMS, phone, lang))

    add(report.reporter_email, report.reporter_phone, report.lang)
    if action is not Action.SUBMITTED and report.follower_count:
        for follower in await repository.followers_of(session, report.id):
            add(follower.email, follower.phone, follower.lang)
    params: dict[str, dict[str, Any]] = {}
    for channel, recipient, lang in dict.fromkeys(recipients):
        if lang not in params:
            params[lang] = await _notice_params(
                session, runtime, report, lang, note, f"{PUBLIC_FORM_PATH}/{report.tracking_code}"
            )
        await notification.send(
            session,
            runtime,
            channel=channel,
            recipient=recipient,
            template=notices.reporter_key(action),
            params=params[lang],
            lang=lang,
            correlation=f"citizen_report:{report.id}",
        )


async def _notify_agency(
    session: AsyncSession,
    runtime: Runtime,
    report: Report,
    notice: str,
    agency: org_unit.AgencyRead | None = None,
    note: str = "",
) -> None:
    """E-mail the assigned agency's office mailbox; agencies without one are skipped with a log line."""
    if not report.agency_code:
        log.info("no agency assigned yet; notification skipped", extra={"report": report.tracking_code})
        return
    if agency is None or agency.code != report.agency_code:
        try:
            agency = await org_unit.get_agency(session, report.agency_code)
        except org_unit.AgencyNotFound:
            log.warning("assigned agency no longer exists", extra={"agency": report.agency_code})
            return
    if not agency.email:
        log.info(
            "agency has no e-mail address; notification skipped",
            extra={"agency": agency.code, "report": report.tracking_code},
        )
        return
    await notification.send(
        session,
        runtime,
        channel=notification.ChannelKind.EMAIL,
        recipient=agency.email,
        template=notices.agency_key(notice),
        params=await _notice_params(session, runtime, report, "vi", note, f"{INBOX_PATH}/{report.id}"),
        lang="vi",
        correlation=f"citizen_report:{report.id}",
    )


# Intake


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _store_photos(
    session: AsyncSession,
    store: MediaStore,
    report: Report,
    processed: Sequence[ProcessedPhoto],
    kind: PhotoKind,
    now: datetime,
) -> None:
    for photo in processed:
        names = await asyncio.to_thread(store.save, photo, to_local(now))
        repository.add(
            session,
            Photo(
                report_id=report.id,
                kind=kind.value,
                file_name=names.file_name,
                thumb_name=names.thumb_name,
                original_type=photo.original_type,
                content_type="image/jpeg",
                width=photo.width,
                height=photo.height,
                size_bytes=len(photo.jpeg),
                sha256=photo.sha256,
                gps_lat=None,
                gps_lon=None,
                created_at=now,
            ),
        )


async def process_uploads(uploads: Sequence[PhotoUpload]) -> list[ProcessedPhoto]:
    """Check and re-encode uploaded photos off the event loop (the first bad file stops everything)."""
    if len(uploads) > MAX_PHOTOS:
        raise TooManyPhotos()
    return [await asyncio.to_thread(process_image, upload) for upload in uploads]


async def photo_location(upload: PhotoUpload) -> LocationSuggestion | None:
    """Return the GPS position embedded in a photo, without storing anything."""
    return (await asyncio.to_thread(process_image, upload)).gps


async def _draw_tracking_number(session: AsyncSession, runtime: Runtime, year: int) -> tuple[int, int | None]:
    """Draw the year's next report number, and on PostgreSQL the new report's id (None: the insert numbers it).

    On PostgreSQL in a transaction of its own, committed at once without waiting for the disk (see
    `repository.draw_tracking_number`): inside the submission's transaction the counter row would stay locked
    until its commit, and concurrent submissions would queue behind each other's whole commit. The price is a
    skipped number when a submission fails after this point (storing its photo files or the commit), as with a
    database sequence. SQLite has one writer at a time anyway.
    """
    if session.get_bind().dialect.name != "postgresql":
        return await repository.next_tracking_number(session, year), None
    async with runtime.db.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        return await repository.draw_tracking_number(autocommit, year)


def _intake_rows(
    session: AsyncSession,
    runtime: Runtime,
    report: Report,
    event: ReportSubmitted,
    actor: Actor,
    rate_key: str | None,
    now: datetime,
) -> repository.IntakeRows:
    """Return the rows of a new report, as the unit of work would have written them (audit entry included)."""
    jobs = [
        # As `schedule_job` does for a key that no job can hold yet (the report is new).
        {
            "name": DEADLINE_JOB,
            "payload": payload,
            "run_at": when,
            "status": JobStatus.PENDING.value,
            "attempts": 0,
            "max_attempts": DEFAULT_JOB_ATTEMPTS,
            "dedupe_key": _timer_key(report.id, kind),
            "created_at": utc_now(),
        }
        for kind, when, payload in _timers(runtime, report)
    ]
    timeline = {
        "report_id": report.id,
        "at": now,
        "actor_kind": actor.kind.value,
        "actor_name": actor.name,
        "agency_code": actor.agency_code,
        "action": Action.SUBMITTED.value,
        "from_status": None,
        "to_status": report.status,
        "note": "",
        "public": True,
    }
    return repository.IntakeRows(
        report={column.key: getattr(report, column.key) for column in REPORT_COLUMNS},
        timeline=timeline,
        jobs=jobs,
        # As `record_event` does.
        event={
            "event_id": event.event_id,
            "name": event.event_name,
            "payload": event.payload(),
            "occurred_at": event.occurred_at,
        },
        rate_hit={"client_key": rate_key, "at": now} if rate_key is not None else None,
        audit=audit.creation_entry(session, report),
    )


async def _insert_new_report(
    session: AsyncSession, runtime: Runtime, report: Report, actor: Actor, rate_key: str | None, now: datetime
) -> None:
    """Insert a new report with its deadline timers, timeline entry, event, rate record and audit entry.

    Every submission writes these same rows: statements built once replace the unit of work, which spent
    more time than the database on them. PostgreSQL gets them in one statement, the id having been drawn with
    the number; SQLite numbers the report on insert, then the other rows follow.
    """
    if report.id is None:
        values = {column.key: getattr(report, column.key) for column in REPORT_COLUMNS if column.key != "id"}
        report.id = await repository.insert_report(session, values)
    event = ReportSubmitted(**_event_fields(report), source=report.source, occurred_at=now)
    rows = _intake_rows(session, runtime, report, event, actor, rate_key, now)
    if session.get_bind().dialect.name == "postgresql":
        await repository.insert_intake(session, rows)
    else:
        await repository.insert_intake_rows(session, rows)


async def submit(
    session: AsyncSession,
    runtime: Runtime,
    data: ReportCreate,
    *,
    principal: Principal | None,
    uploads: Sequence[PhotoUpload] = (),
    client_ip: str | None = None,
    lang: str = "vi",
    store: MediaStore,
    now: datetime | None = None,
) -> SubmitResult:
    """Record a report: validate, locate, route, number, store photos, start the intake deadline."""
    now = now or utc_now()
    lookups = lookups_for(runtime)
    category = await lookups.category(session, data.category_code)
    if category is None or not category.active:
        raise UnknownCategory(data.category_code)
    if data.source is Source.HOTLINE:
        _require_scope(principal, SCOPE_OPERATE)
    attributes = validate_attributes(category.attributes or [], data.attributes)
    if len(uploads) > MAX_PHOTOS:
        raise TooManyPhotos()
    # A caller on the phone cannot send a photo; every other channel must when the category asks for one.
    if category.photo_required and data.source is not Source.HOTLINE and not uploads:
        raise PhotoRequired()
    unit_code = await lookups.unit_code(session, data.lat, data.lon)
    if unit_code is None:
        raise OutsideProvince(data.lat, data.lon)
    limited_key = client_key(runtime.settings.secret_key, client_ip or "unknown") if _rate_limited(principal) else None
    staff = principal is not None and principal.has(SCOPE_READ)
    if limited_key is not None:
        # The limit and the duplicate candidates in one round trip (the candidates are sorted out below).
        count, oldest, near = await repository.rate_hits_and_reports_near(
            session,
            limited_key,
            now - RATE_LIMIT_WINDOW,
            category.id,
            bounding_box(data.lat, data.lon, DUPLICATE_RADIUS_M),
            accepted_only=not staff,
        )
        _refuse_over_limit(count, oldest, now)
    processed = await process_uploads(uploads)
    agency = await lookups.route(session, category, unit_code)
    if limited_key is not None:
        duplicates = _candidates(near, data.lat, data.lon, staff=staff)
    else:
        duplicates = await _nearby(session, category.id, data.lat, data.lon, exclude_id=None, staff=staff)

    year = to_local(now).year
    number, report_id = await _draw_tracking_number(session, runtime, year)
    token = secrets.token_urlsafe(18)
    accept_due = runtime.calendar.add_working_hours(now, category.accept_hours)
    # Never added to the session: `_insert_new_report` writes its rows with statements built once.
    report = Report(
        id=report_id,
        tracking_code=f"{TRACKING_PREFIX}-{year}-{number:06d}",
        category_id=category.id,
        category_code=category.code,
        description=data.description,
        attributes=attributes,
        lat=data.lat,
        lon=data.lon,
        unit_code=unit_code,
        address=data.address,
        source=data.source.value,
        lang=lang if lang in ("vi", "en") else "vi",
        status=ReportStatus.RECEIVED.value,
        suggested_agency_code=agency.code if agency else None,
        reporter_name=data.reporter_name,
        reporter_phone=data.reporter_phone,
        reporter_email=data.reporter_email,
        anonymous=data.anonymous,
        submitted_by_user_id=principal.id if principal is not None and principal.kind is PrincipalKind.USER else None,
        rating_token_hash=_hash_token(token),
        phase=Phase.INTAKE.value,
        phase_started_at=now,
        accept_due_at=accept_due,
        due_at=accept_due,
        approaching=False,
        overdue=False,
        extension_pending=False,
        extension_count=0,
        reopen_count=0,
        follower_count=0,
        created_at=now,
        updated_at=now,
    )
    await _insert_new_report(session, runtime, report, actor_for(principal), limited_key, now)
    # Photos and notices go through the unit of work (and its audit capture) at the final flush.
    await _store_photos(session, store, report, processed, PhotoKind.INTAKE, now)
    await _notify_reporter(session, runtime, report, Action.SUBMITTED, "")
    await session.flush()
    return SubmitResult(
        id=report.id,
        tracking_code=report.tracking_code,
        rating_token=token,
        status=report.status,
        unit_code=report.unit_code,
        suggested_agency_code=report.suggested_agency_code,
        accept_due_at=report.accept_due_at,
        tracking_url=f"{PUBLIC_FORM_PATH}/{report.tracking_code}",
        possible_duplicates=duplicates,
        photo_location=next((p.gps for p in processed if p.gps is not None), None),
    )


# Workflow


async def _get(session: AsyncSession, report_id: int) -> Report:
    report = await repository.get_report(session, report_id, for_update=True)
    if report is None:
        raise ReportNotFound(report_id)
    return report


async def _category(session: AsyncSession, report: Report) -> Category:
    category = await session.get(Category, report.category_id)
    assert category is not None, "reports keep a foreign key to their category"
    return category


async def accept(
    session: AsyncSession,
    runtime: Runtime,
    report_id: int,
    principal: Principal,
    note: str = "",
    *,
    now: datetime | None = None,
) -> Report:
    """Accept a received report as genuine (hotline operator or administrator); it becomes public."""
    _require_scope(principal, SCOPE_OPERATE)
    now = now or utc_now()
    report = await _get(session, report_id)
    _expect(report, {ReportStatus.RECEIVED}, Action.ACCEPTED)
    report.accepted_at = now
    await _change(
        session,
        runtime,
        report,
        ReportStatus.ACCEPTED,
        Action.ACCEPTED,
        actor_for(principal),
        ReportAccepted,
        now,
        note=note,
    )
    return report


async def reject(
    session: AsyncSession,
    runtime: Runtime,
    report_id: int,
    principal: Principal,
    data: RejectInput,
    *,
    now: datetime | None = None,
) -> Report:
    """Reject a received report with a reason shown to the public (spam, duplicate, out of scope...)."""
    _require_scope(principal, SCOPE_OPERATE)
    now = now or utc_now()
    report = await _get(session, report_id)
    _expect(report, {ReportStatus.RECEIVED}, Action.REJECTED)
    report.reject_reason = data.reason.value
    report.rejected_at = now
    await _end_phase(session, runtime, report)
    reason_vi, _reason_en = REJECT_REASON_LABELS[data.reason]
    note = f"{reason_vi}. {data.note}".strip() if data.note else reason_vi
    await _change(
        session,
        runtime,
        report,
        ReportStatus.REJECTED,
        Action.REJECTED,
        actor_for(principal),
        ReportRejected,
        now,
        note=note,
        reason=data.reason.value,
    )
    return report


async def assign(
    session: AsyncSession,
    runtime: Runtime,
    report_id: int,
    principal: Principal,
    data: AssignInput,
    *,
    now: datetime | None = None,
) -> Report:
    """Assign a report to an agency (default: the routed one); the resolution deadline starts."""
    _require_scope(principal, SCOPE_OPERATE)
    now = now or utc_now()
    report = await _get(session, report_id)
    _expect(report, {ReportStatus.ACCEPTED, ReportStatus.RETURNED, ReportStatus.ASSIGNED}, Action.ASSIGNED)
    code = data.agency_code or report.suggested_agency_code
    if not code:
        raise NoResponsibleAgency(report.unit_code)
    try:
        agency = await org_unit.get_agency(session, code)
    except org_unit.AgencyNotFound as exc:
        raise UnknownAgency(code) from exc
    if not agency.is_active:
        raise UnknownAgency(code)
    category = await _category(session, report)
    report.agency_code = agency.code
    report.agency_id = agency.id
    report.assigned_at = now
    report.extension_pending = False
    report.extension_days = None
    report.resolve_due_at = runtime.calendar.add_working_days(now, category.resolve_days)
    await _start_phase(session, runtime, report, Phase.RESOLUTION, now, report.resolve_due_at)
    note = f"{agency.name}. {data.note}".strip() if data.note else agency.name
    await _change(
        session,
        runtime,
        report,
        ReportStatus.ASSIGNED,
        Action.ASSIGNED,
        actor_for(principal),
        ReportAssigned,
        now,
        note=note,
        resolve_due_at=report.resolve_due_at,
    )
    await _notify_agency(session, runtime, report, notices.AgencyNotice.ASSIGNED, agency)
    return report


async def start(
    session: AsyncSession,
    runtime: Runtime,
    report_id: int,
    principal: Principal,
    note: str = "",
    *,
    now: datetime | None = None,
) -> Report:
    """Mark that the assigned agency started working on the report."""
    _require_scope(principal, SCOPE_HANDLE)
    now = now or utc_now()
    report = await _get(session, report_id)
    _require_agency(principal, report)
    _expect(report, {ReportStatus.ASSIGNED, ReportStatus.REOPENED}, Action.STARTED)
    report.started_at = now
    await _change(
        session,
        runtime,
        report,
        ReportStatus.IN_PROGRESS,
        Action.STARTED,
        actor_for(principal, report),
        ReportStarted,
        now,
        note=note,
    )
    return report


async def resolve(
    session: AsyncSession,
    runtime: Runtime,
    report_id: int,
    principal: Principal,
    data: ResolveInput,
    *,
    uploads: Sequence[PhotoUpload] = (),
    store: MediaStore,
    now: datetime | None = None,
) -> Report:
    """Publish the agency's result with proof photos; the citizen's rating window opens."""
    _require_scope(principal, SCOPE_HANDLE)
    now = now or utc_now()
    report = await _get(session, report_id)
    _require_agency(principal, report)
    _expect(report, AGENCY_STATUSES, Action.RESOLVED)
    category = await _category(session, report)
    if category.photo_required and not uploads:
        raise PhotoRequired(proof=True)
    processed = await process_uploads(uploads)
    await _store_photos(session, store, report, processed, PhotoKind.PROOF, now)
    report.result_text = data.result
    report.resolved_at = now
    report.resolved_on_time = report.resolve_due_at is None or now <= ensure_utc(report.resolve_due_at)
    report.hours_to_resolve = round((now - ensure_utc(report.created_at)).total_seconds() / SECONDS_PER_HOUR, 3)
    report.extension_pending = False
    await _end_phase(session, runtime, report)
    await schedule_job(
        session,
        CLOSE_JOB,
        {"report_id": report.id},
        run_at=now + timedelta(days=category.reopen_window_days),
        dedupe_key=_close_key(report.id),
    )
    await _change(
        session,
        runtime,
        report,
        ReportStatus.RESOLVED,
        Action.RESOLVED,
        actor_for(principal, report),
        ReportResolved,
        now,
        note=data.result,
        on_time=report.resolved_on_time,
    )
    return report


async def return_report(
    session: AsyncSession,
    runtime: Runtime,
    report_id: int,
    principal: Principal,
    data: ReturnInput,
    *,
    now: datetime | None = None,
) -> Report:
    """Hand a report back as not the agency's responsibility; operators must assign it again."""
    _require_scope(principal, SCOPE_HANDLE)
    now = now or utc_now()
    report = await _get(session, report_id)
    _require_agency(principal, report)
    _expect(report, {ReportStatus.ASSIGNED, ReportStatus.IN_PROGRESS, ReportStatus.REOPENED}, Action.RETURNED)
    suggestion = data.suggested_agency_code
    if suggestion:
        try:
            await org_unit.get_agency(session, suggestion)
        except org_unit.AgencyNotFound as exc:
            raise UnknownAgency(suggestion) from exc
    returned_by = report.agency_code or ""
    actor = actor_for(principal, report)
    category = await _category(session, report)
    report.agency_code = None
    report.agency_id = None
    report.suggested_agency_code = suggestion
    report.extension_pending = False
    report.accept_due_at = runtime.calendar.add_working_hours(now, category.accept_hours)
    await _start_phase(session, runtime, report, Phase.INTAKE, now, report.accept_due_at)
    await _change(
        session,
        runtime,
        report,
        ReportStatus.RETURNED,
        Action.RETURNED,
        actor,
        ReportReturned,
        now,
        note=data.reason,
        returned_by_agency_code=returned_by,
    )
    return report


async def request_extension(
    session: AsyncSession,
    runtime: Runtime,
    report_id: int,
    principal: Principal,
    data: ExtensionInput,
    *,
    now: datetime | None = None,
) -> Report:
    """Ask the agency head for more working days (one request at a time)."""
    _require_scope(principal, SCOPE_HANDLE)
    now = now or utc_now()
    report = await _get(session, report_id)
    _require_agency(principal, report)
    _expect(report, AGENCY_STATUSES, Action.EXTENSION_REQUESTED)
    if report.extension_pending:
        raise ExtensionNotPending(pending=True)
    report.extension_pending = True
    report.extension_days = data.days
    report.extension_reason = data.reason
    report.updated_at = now
    _timeline(
        session,
        report,
        now,
        actor_for(principal, report),
        Action.EXTENSION_REQUESTED,
        note=f"{data.days} ngày làm việc / working days: {data.reason}",
        public=False,
    )
    record_event(session, ExtensionRequested(**_event_fields(report), days=data.days, occurred_at=now))
    return report


def _require_supervisor(principal: Principal, report: Report) -> None:
    _require_scope(principal, SCOPE_APPROVE)
    if not principal.is_admin and not _is_assigned_staff(principal, report):
        raise NotAssignedAgency()


async def approve_extension(
    session: AsyncSession,
    runtime: Runtime,
    report_id: int,
    principal: Principal,
    data: ExtensionDecision,
    *,
    now: datetime | None = None,
) -> Report:
    """Grant the extension (the head of the assigned agency or an administrator); the deadline moves."""
    now = now or utc_now()
    report = await _get(session, report_id)
    _require_supervisor(principal, report)
    if not report.extension_pending or report.resolve_due_at is None or report.phase_started_at is None:
        raise ExtensionNotPending(pending=False)
    days = data.days or report.extension_days or 1
    report.resolve_due_at = runtime.calendar.add_working_days(ensure_utc(report.resolve_due_at), days)
    report.extension_pending = False
    report.extension_count += 1
    report.updated_at = now
    await _start_phase(
        session, runtime, report, Phase.RESOLUTION, ensure_utc(report.phase_started_at), report.resolve_due_at
    )
    note = f"Gia hạn {days} ngày làm việc, hạn mới {to_local(report.resolve_due_at):%H:%M %d/%m/%Y}."
    _timeline(
        session,
        report,
        now,
        actor_for(principal, report),
        Action.EXTENSION_APPROVED,
        note=f"{note} {data.note}".strip(),
    )
    record_event(
        session,
        ExtensionApproved(**_event_fields(report), days=days, resolve_due_at=report.resolve_due_at, occurred_at=now),
    )
    await _notify_reporter(session, runtime, report, Action.EXTENSION_APPROVED, note)
    return report


async def decline_extension(
    session: AsyncSession,
    runtime: Runtime,
    report_id: int,
    principal: Principal,
    data: ExtensionDecision,
    *,
    now: datetime | None = None,
) -> Report:
    """Refuse the extension; the deadline stays."""
    now = now or utc_now()
    report = await _get(session, report_id)
    _require_supervisor(principal, report)
    if not report.extension_pending:
        raise ExtensionNotPending(pending=False)
    report.extension_pending = False
    report.updated_at = now
    _timeline(
        session, report, now, actor_for(principal, report), Action.EXTENSION_DECLINED, note=data.note, public=False
    )
    record_event(session, ExtensionDeclined(**_event_fields(report), occurred_at=now))
    return report


def awaits_rating(report: Report) -> bool:
    """Tell whether the citizen can rate now: resolved, and the verdict (if any) is about an earlier result."""
    if report.status != ReportStatus.RESOLVED:
        return False
    if report.rating is None or report.rated_at is None:
        return True
    return report.resolved_at is not None and ensure_utc(report.rated_at) < ensure_utc(report.resolved_at)


def _within_window(report: Report, category: Category, now: datetime) -> bool:
    return report.resolved_at is not None and now <= ensure_utc(report.resolved_at) + timedelta(
        days=category.reopen_window_days
    )


async def rate(
    session: AsyncSession, runtime: Runtime, tracking_code: str, data: RatingInput, *, now: datetime | None = None
) -> Report:
    """Record the citizen's verdict: satisfied closes; not satisfied within the window reopens."""
    now = now or utc_now()
    report = await repository.report_by_code(session, tracking_code.upper())
    if report is None:
        raise ReportNotFound(tracking_code)
    if not hmac.compare_digest(report.rating_token_hash, _hash_token(data.token)):
        raise InvalidRatingToken()
    rated_closed = report.status == ReportStatus.CLOSED and report.resolved_at is not None
    if report.status != ReportStatus.RESOLVED and not rated_closed:
        raise InvalidTransition("đánh giá", "rate the result", report.status)
    if not awaits_rating(report) and not (rated_closed and report.rating is None):
        raise AlreadyRated()
    category = await _category(session, report)
    report.rating = data.rating.value
    report.rating_comment = data.comment or None
    report.rated_at = now
    report.updated_at = now
    verdict = "Hài lòng" if data.rating is Rating.SATISFIED else "Chưa hài lòng"
    _timeline(session, report, now, CITIZEN_ACTOR, Action.RATED, note=verdict)
    record_event(session, ReportRated(**_event_fields(report), rating=data.rating.value, occurred_at=now))
    if rated_closed:
        return report  # closed when the window ran out: the verdict is recorded for the statistics only
    await cancel_job(session, _close_key(report.id))
    if data.rating is Rating.SATISFIED or not _within_window(report, category, now):
        report.closed_at = now
        await _change(session, runtime, report, ReportStatus.CLOSED, Action.CLOSED, CITIZEN_ACTOR, ReportClosed, now)
        return report
    # The "not satisfied" verdict stays for the statistics until the next result is rated.
    report.reopen_count += 1
    report.resolved_at = None
    report.resolved_on_time = None
    report.hours_to_resolve = None
    report.resolve_due_at = runtime.calendar.add_working_days(now, category.resolve_days)
    await _start_phase(session, runtime, report, Phase.RESOLUTION, now, report.resolve_due_at)
    await _change(
        session,
        runtime,
        report,
        ReportStatus.REOPENED,
        Action.REOPENED,
        CITIZEN_ACTOR,
        ReportReopened,
        now,
        note=data.comment,
    )
    await _notify_agency(session, runtime, report, notices.AgencyNotice.REOPENED, note=data.comment)
    return report


async def close_unrated(
    session: AsyncSession, runtime: Runtime, report_id: int, *, now: datetime | None = None
) -> bool:
    """Close a resolved report whose rating window has passed (job); tell whether it closed."""
    now = now or utc_now()
    report = await repository.get_report(session, report_id, for_update=True)
    if report is None or report.status != ReportStatus.RESOLVED:
        return False
    category = await _category(session, report)
    if _within_window(report, category, now):
        return False
    report.closed_at = now
    await _change(
        session,
        runtime,
        report,
        ReportStatus.CLOSED,
        Action.CLOSED,
        SYSTEM_ACTOR,
        ReportClosed,
        now,
        note="Hết thời hạn đánh giá, phản ánh được hoàn thành. / The rating period ended; the report is closed.",
    )
    return True


async def merge(
    session: AsyncSession,
    runtime: Runtime,
    report_id: int,
    principal: Principal,
    data: MergeInput,
    *,
    now: datetime | None = None,
) -> Report:
    """Merge a duplicate into another open report; its reporter and followers follow that one."""
    _require_scope(principal, SCOPE_OPERATE)
    now = now or utc_now()
    if data.into_report_id == report_id:
        raise CannotMerge("Không thể gộp phản ánh vào chính nó.", "A report cannot be merged into itself.")
    report = await _get(session, report_id)
    target = await _get(session, data.into_report_id)
    _expect(report, OPEN_STATUSES, Action.MERGED)
    if ReportStatus(target.status) in FINAL_STATUSES:
        raise CannotMerge(
            f"Phản ánh {target.tracking_code} đã kết thúc nên không nhận gộp.",
            f"Report {target.tracking_code} is finished and cannot take merges.",
        )
    followers = [(f.email, f.phone, f.lang) for f in await repository.followers_of(session, report.id)]
    if report.reporter_email or report.reporter_phone:
        followers.insert(0, (report.reporter_email, report.reporter_phone, report.lang))
    for email, phone, lang in followers:
        repository.add(
            session,
            Follower(
                report_id=target.id, source_report_id=report.id, email=email, phone=phone, lang=lang, created_at=now
            ),
        )
    target.follower_count += len(followers)
    report.merged_into_id = target.id
    await _end_phase(session, runtime, report)
    actor = actor_for(principal)
    note = f"{target.tracking_code}. {data.note}".strip() if data.note else target.tracking_code
    await _change(
        session,
        runtime,
        report,
        ReportStatus.MERGED,
        Action.MERGED,
        actor,
        ReportMerged,
        now,
        note=note,
        into_report_id=target.id,
        into_tracking_code=target.tracking_code,
    )
    target.updated_at = now
    _timeline(session, target, now, actor, Action.MERGED_IN, note=report.tracking_code)
    return report


async def link(
    session: AsyncSession,
    runtime: Runtime,
    report_id: int,
    principal: Principal,
    data: LinkInput,
    *,
    now: datetime | None = None,
) -> Report:
    """Link two related reports (both keep their own workflow)."""
    _require_scope(principal, SCOPE_OPERATE)
    now = now or utc_now()
    if data.other_report_id == report_id:
        raise CannotMerge("Không thể liên kết phản ánh với chính nó.", "A report cannot be linked to itself.")
    report = await _get(session, report_id)
    other = await _get(session, data.other_report_id)
    if await repository.link_exists(session, report.id, other.id):
        return report
    actor = actor_for(principal)
    for one, two in ((report, other), (other, report)):
        repository.add(session, Link(report_id=one.id, linked_report_id=two.id, created_at=now))
        _timeline(session, one, now, actor, Action.LINKED, note=two.tracking_code, public=False)
    record_event(
        session,
        ReportsLinked(
            **_event_fields(report),
            linked_report_id=other.id,
            linked_tracking_code=other.tracking_code,
            occurred_at=now,
        ),
    )
    return report


# Deadline timers


async def check_deadline(session: AsyncSession, runtime: Runtime, payload: dict[str, Any]) -> str | None:
    """Flag a report approaching or past its running deadline (job); return what was flagged."""
    report = await repository.get_report(session, int(payload["report_id"]), for_update=True)
    if report is None or report.due_at is None:
        return None
    due = ensure_utc(report.due_at)
    if due.isoformat() != payload.get("due_at"):
        return None  # the deadline moved since this timer was set; its own timers are scheduled
    kind = TimerKind(payload["kind"])
    now = utc_now()
    threshold = ensure_utc(datetime.fromisoformat(str(payload.get("threshold") or due.isoformat())))
    phase = report.phase or Phase.INTAKE.value
    local_due = f"{to_local(due):%H:%M %d/%m/%Y}"
    if kind is TimerKind.APPROACHING:
        if report.approaching or report.overdue or now >= due:
            return None
        report.approaching = True
        _timeline(session, report, threshold, SYSTEM_ACTOR, Action.DEADLINE_APPROACHING, note=local_due, public=False)
        record_event(
            session, DeadlineApproaching(**_event_fields(report), phase=phase, due_at=due, occurred_at=threshold)
        )
        await _notify_agency(session, runtime, report, notices.AgencyNotice.APPROACHING)
        return kind.value
    if report.overdue or now < due:
        return None
    report.overdue = True
    report.approaching = False
    _timeline(session, report, due, SYSTEM_ACTOR, Action.OVERDUE, note=local_due, public=False)
    record_event(session, ReportOverdue(**_event_fields(report), phase=phase, due_at=due, occurred_at=due))
    await _notify_agency(session, runtime, report, notices.AgencyNotice.OVERDUE)
    return kind.value


# Views


def _photo_read(photo: Photo) -> PhotoRead:
    return PhotoRead(
        id=photo.id,
        kind=photo.kind,
        width=photo.width,
        height=photo.height,
        url=f"{PHOTO_URL}/{photo.id}",
        thumb_url=f"{PHOTO_URL}/{photo.id}/thumb",
        created_at=photo.created_at,
    )


def _label(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


async def _agency_names(session: AsyncSession, codes: Iterable[str | None], lang: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for code in {c for c in codes if c}:
        try:
            agency = await org_unit.get_agency(session, code)
        except org_unit.AgencyNotFound:
            continue
        names[code] = (agency.name_en or agency.name) if lang == "en" else agency.name
    return names


async def _timeline_reads(session: AsyncSession, report: Report, *, staff: bool, lang: str) -> list[TimelineRead]:
    entries = await repository.timeline(session, report.id, public_only=not staff)
    agencies = await _agency_names(session, (e.agency_code for e in entries), lang)
    result = []
    for entry in entries:
        kind = ActorKind(entry.actor_kind)
        label = _label(ACTOR_LABELS[kind], lang)
        if entry.agency_code and entry.agency_code in agencies:
            label = agencies[entry.agency_code]
        result.append(
            TimelineRead(
                at=entry.at,
                action=entry.action,
                action_label=_label(ACTION_LABELS[Action(entry.action)], lang),
                actor_kind=entry.actor_kind,
                actor_label=label,
                actor_name=entry.actor_name if staff else None,
                agency_code=entry.agency_code,
                from_status=entry.from_status,
                to_status=entry.to_status,
                note=entry.note,
                public=entry.public,
            )
        )
    return result


def _category_name(names: dict[str, tuple[str, str]], code: str, lang: str) -> str:
    pair = names.get(code)
    return _label(pair, lang) if pair else code


async def report_read(
    session: AsyncSession, report: Report, principal: Principal | None, lang: str = "vi"
) -> ReportRead:
    """Build the staff view of a report; contact details only for those allowed to see them."""
    names = await repository.category_names(session)
    contact = None
    if may_see_personal_data(principal, report):
        contact = ReporterContact(
            name=report.reporter_name,
            phone=report.reporter_phone,
            email=report.reporter_email,
            anonymous=report.anonymous,
        )
    return ReportRead(
        id=report.id,
        tracking_code=report.tracking_code,
        category_code=report.category_code,
        category_name=_category_name(names, report.category_code, lang),
        description=report.description,
        attributes=dict(report.attributes or {}),
        lat=report.lat,
        lon=report.lon,
        unit_code=report.unit_code,
        address=report.address,
        source=report.source,
        status=report.status,
        status_label=status_label(report.status, lang),
        suggested_agency_code=report.suggested_agency_code,
        agency_code=report.agency_code,
        agency_id=report.agency_id,
        phase=report.phase,
        due_at=report.due_at,
        accept_due_at=report.accept_due_at,
        resolve_due_at=report.resolve_due_at,
        approaching=report.approaching,
        overdue=report.overdue,
        accepted_at=report.accepted_at,
        assigned_at=report.assigned_at,
        started_at=report.started_at,
        resolved_at=report.resolved_at,
        closed_at=report.closed_at,
        resolved_on_time=report.resolved_on_time,
        result_text=report.result_text,
        reject_reason=report.reject_reason,
        extension_pending=report.extension_pending,
        extension_days=report.extension_days,
        extension_reason=report.extension_reason,
        extension_count=report.extension_count,
        reopen_count=report.reopen_count,
        rating=report.rating,
        rating_comment=report.rating_comment if contact is not None else None,
        rated_at=report.rated_at,
        merged_into_id=report.merged_into_id,
        linked_report_ids=await repository.linked_ids(session, report.id),
        follower_count=report.follower_count,
        created_at=report.created_at,
        updated_at=report.updated_at,
        reporter=contact,
        photos=[_photo_read(p) for p in await repository.photos_of(session, report.id)],
        timeline=await _timeline_reads(session, report, staff=True, lang=lang),
    )


async def get_report(session: AsyncSession, report_id: int, principal: Principal, lang: str = "vi") -> ReportRead:
    """Return the staff view of a report (scope citizen_report:read)."""
    _require_scope(principal, SCOPE_READ)
    report = await repository.get_report(session, report_id)
    if report is None:
        raise ReportNotFound(report_id)
    return await report_read(session, report, principal, lang)


def _summary(report: Report, names: dict[str, tuple[str, str]], lang: str) -> ReportSummary:
    excerpt = (
        report.description if len(report.description) <= EXCERPT_LENGTH else report.description[:EXCERPT_LENGTH] + "…"
    )
    return ReportSummary(
        id=report.id,
        tracking_code=report.tracking_code,
        category_code=report.category_code,
        category_name=_category_name(names, report.category_code, lang),
        status=report.status,
        status_label=status_label(report.status, lang),
        source=report.source,
        unit_code=report.unit_code,
        agency_code=report.agency_code,
        suggested_agency_code=report.suggested_agency_code,
        created_at=report.created_at,
        updated_at=report.updated_at,
        due_at=report.due_at,
        phase=report.phase,
        approaching=report.approaching,
        overdue=report.due_at is not None and ensure_utc(report.due_at) < utc_now(),
        extension_pending=report.extension_pending,
        description_excerpt=excerpt,
        address=report.address,
    )


async def list_reports(
    session: AsyncSession, filters: ReportFilters, paging: PageParams, principal: Principal, lang: str = "vi"
) -> Page[ReportSummary]:
    """Return the staff inbox: filtered, newest first, paged (scope citizen_report:read)."""
    _require_scope(principal, SCOPE_READ)
    rows, total = await repository.list_reports(session, filters, utc_now(), limit=paging.limit, offset=paging.offset)
    names = await repository.category_names(session)
    return Page(items=[_summary(r, names, lang) for r in rows], total=total, limit=paging.limit, offset=paging.offset)


@dataclass(frozen=True)
class ExportRow:
    """One report in an export (no personal data, whoever asks)."""

    summary: ReportSummary
    resolved_at: datetime | None
    resolved_on_time: bool | None
    rating: str | None
    address: str


async def export_rows(
    session: AsyncSession, filters: ReportFilters, principal: Principal, lang: str = "vi"
) -> list[ExportRow]:
    """Return every report matching the filters (up to the export cap) for CSV or Excel."""
    _require_scope(principal, SCOPE_READ)
    rows, _total = await repository.list_reports(session, filters, utc_now(), limit=EXPORT_MAX_ROWS, offset=0)
    names = await repository.category_names(session)
    return [
        ExportRow(
            summary=_summary(r, names, lang),
            resolved_at=r.resolved_at,
            resolved_on_time=r.resolved_on_time,
            rating=r.rating,
            address=r.address,
        )
        for r in rows
    ]


async def track(session: AsyncSession, tracking_code: str, lang: str = "vi") -> ReportPublic:
    """Return what anyone with the tracking code may see; details only once the report is accepted."""
    report = await repository.report_by_code(session, tracking_code.strip().upper())
    if report is None:
        raise ReportNotFound(tracking_code)
    names = await repository.category_names(session)
    unit = await org_unit.get_unit(session, report.unit_code)
    agencies = await _agency_names(session, [report.agency_code], lang)
    public = is_published(report)
    merged_into = None
    if report.merged_into_id is not None:
        merged_into = (await repository.tracking_codes(session, [report.merged_into_id])).get(report.merged_into_id)
    reason = RejectReason(report.reject_reason) if report.reject_reason else None
    decimals = PUBLIC_COORD_DECIMALS
    return ReportPublic(
        tracking_code=report.tracking_code,
        category_code=report.category_code,
        category_name=_category_name(names, report.category_code, lang),
        status=report.status,
        status_label=status_label(report.status, lang),
        published=public,
        created_at=report.created_at,
        updated_at=report.updated_at,
        unit_code=report.unit_code,
        unit_name=((unit.name_en or unit.name) if lang == "en" else unit.name) if unit else None,
        agency_code=report.agency_code,
        agency_name=agencies.get(report.agency_code or ""),
        description=report.description if public else None,
        address=report.address if public else None,
        lat=round(report.lat, decimals) if public else None,
        lon=round(report.lon, decimals) if public else None,
        result_text=report.result_text if public else None,
        resolved_at=report.resolved_at,
        resolve_due_at=report.resolve_due_at,
        reject_reason=reason.value if reason else None,
        reject_reason_label=_label(REJECT_REASON_LABELS[reason], lang) if reason else None,
        rating=report.rating,
        can_rate=awaits_rating(report),
        merged_into=merged_into,
        photos=[_photo_read(p) for p in await repository.photos_of(session, report.id)] if public else [],
        timeline=await _timeline_reads(session, report, staff=False, lang=lang),
    )


async def public_list(
    session: AsyncSession, filters: ReportFilters, paging: PageParams, lang: str = "vi"
) -> Page[ReportPublicSummary]:
    """Return accepted reports for the public list, newest first, with coordinates rounded."""
    public_filters = filters.model_copy(update={"q": None})
    rows, total = await repository.list_reports(
        session, public_filters, utc_now(), limit=paging.limit, offset=paging.offset, public_only=True
    )
    names = await repository.category_names(session)
    items = [
        ReportPublicSummary(
            tracking_code=r.tracking_code,
            category_code=r.category_code,
            category_name=_category_name(names, r.category_code, lang),
            status=r.status,
            status_label=status_label(r.status, lang),
            unit_code=r.unit_code,
            created_at=r.created_at,
            resolved_at=r.resolved_at,
            lat=round(r.lat, PUBLIC_COORD_DECIMALS),
            lon=round(r.lon, PUBLIC_COORD_DECIMALS),
        )
        for r in rows
    ]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


# Map layers: every matching report, as points or, in a zoomed-out view of many, as grid cells


@dataclass(frozen=True)
class MapView:
    """What a map shows: its zoom and its bounding box, snapped outward to the zoom's tiles (both optional)."""

    zoom: int | None = None
    box: repository.MapBox | None = None


# Four numbers of a view's box: longer text is not one.
MAX_BBOX_CHARS = 200


def _bad_view(message_vi: str, message_en: str, field: str) -> BadRequest:
    return BadRequest(message_vi, message_en, field=field)


def _mercator_x(lon: float) -> float:
    return (lon + 180.0) / 360.0


def _mercator_y(lat: float) -> float:
    lat = max(-MERCATOR_MAX_LAT, min(MERCATOR_MAX_LAT, lat))
    return 0.5 - math.asinh(math.tan(math.radians(lat))) / (2.0 * math.pi)


def _tile_lat(row: int, tiles: int) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * row / tiles))))


def _snapped(box: repository.MapBox, zoom: int | None) -> repository.MapBox:
    """Widen a box to whole tiles of the zoom (to a thousandth of a degree without one).

    Nearby views then ask the same question, which the public read cache answers; and whole tiles hold whole
    cells, so that a cluster at the edge of the view counts every report of its cell.
    """
    if zoom is None:
        step = 1000
        return repository.MapBox(
            math.floor(box.min_lon * step) / step,
            math.floor(box.min_lat * step) / step,
            math.ceil(box.max_lon * step) / step,
            math.ceil(box.max_lat * step) / step,
        )
    tiles = 2**zoom
    west = math.floor(_mercator_x(box.min_lon) * tiles)
    east = max(west + 1, math.ceil(_mercator_x(box.max_lon) * tiles))
    north = math.floor(_mercator_y(box.max_lat) * tiles)
    south = max(north + 1, math.ceil(_mercator_y(box.min_lat) * tiles))
    return repository.MapBox(
        west / tiles * 360.0 - 180.0,
        -90.0 if south >= tiles else _tile_lat(south, tiles),
        min(east, tiles) / tiles * 360.0 - 180.0,
        90.0 if north <= 0 else _tile_lat(north, tiles),
    )


def map_view(bbox: str | None, zoom: str | None) -> MapView:
    """Read `bbox=minLon,minLat,maxLon,maxLat` and `zoom` of a map request; 400 when either is malformed."""
    level: int | None = None
    if zoom is not None and zoom.strip():
        try:
            level = int(zoom.strip())
        except ValueError:
            level = -1
        if not 0 <= level <= MAP_MAX_ZOOM:
            raise _bad_view(
                f"Mức thu phóng (zoom) phải là số nguyên từ 0 đến {MAP_MAX_ZOOM}.",
                f"The zoom must be a whole number from 0 to {MAP_MAX_ZOOM}.",
                "zoom",
            )
    if bbox is None or not bbox.strip():
        return MapView(level, None)
    parts = bbox.split(",")
    try:
        values = [float(part) for part in parts] if len(parts) == 4 and len(bbox) <= MAX_BBOX_CHARS else []
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise _bad_view(
            "Khung nhìn (bbox) phải gồm 4 số: kinh độ nhỏ nhất, vĩ độ nhỏ nhất, kinh độ lớn nhất, vĩ độ lớn nhất.",
            "The bbox must be four numbers: minimum longitude, minimum latitude, maximum longitude, maximum latitude.",
            "bbox",
        )
    box = repository.MapBox(*values)
    if not (-180.0 <= box.min_lon < box.max_lon <= 180.0 and -90.0 <= box.min_lat < box.max_lat <= 90.0):
        raise _bad_view(
            "Khung nhìn (bbox) không hợp lệ: kinh độ trong [-180, 180], vĩ độ trong [-90, 90], giá trị nhỏ trước lớn.",
            "The bbox is out of range: longitudes in [-180, 180], latitudes in [-90, 90], minimum before maximum.",
            "bbox",
        )
    snapped = _snapped(box, level)
    if level is not None:
        tiles = 2**level
        wide = (_mercator_x(snapped.max_lon) - _mercator_x(snapped.min_lon)) * tiles
        tall = (_mercator_y(snapped.min_lat) - _mercator_y(snapped.max_lat)) * tiles
        # A screen shows a few tiles per side; a box far larger than that is not a view of this zoom.
        if max(wide, tall) > MAP_MAX_TILES_PER_SIDE + 1e-6:
            raise _bad_view(
                f"Khung nhìn (bbox) quá lớn so với mức thu phóng {level}: hãy thu nhỏ bản đồ.",
                f"The bbox is too large for zoom {level}: zoom out.",
                "bbox",
            )
    return MapView(level, snapped)


def _public_feature(
    row: Sequence[Any], category_names: dict[str, str], status_labels: dict[str, str]
) -> dict[str, Any]:
    code, category_code, status, unit_code, created_at, lat, lon = row
    category_name = category_names.get(category_code, category_code)
    decimals = PUBLIC_COORD_DECIMALS
    return {
        "type": "Feature",
        "id": code,
        "geometry": {"type": "Point", "coordinates": [round(lon, decimals), round(lat, decimals)]},
        "properties": {
            "tracking_code": code,
            "name": f"{code} · {category_name}",
            "code": code,
            "category_code": category_code,
            "category_name": category_name,
            "status": status,
            "status_label": status_labels.get(status, status),
            "unit_code": unit_code,
            "created_at": ensure_utc(created_at).isoformat(),
            "url": f"{PUBLIC_FORM_PATH}/{code}",
        },
    }


def _cell_groups(cells: Iterable[repository.CellRow]) -> list[list[repository.CellRow]]:
    """Group the per-status rows of the grid by cell, north-west first (a stable order for caches and tests)."""
    groups: dict[tuple[int, int], list[repository.CellRow]] = {}
    for cell in cells:
        groups.setdefault((cell.row, cell.column), []).append(cell)
    return [groups[key] for key in sorted(groups)]


def _centre(members: Sequence[repository.CellRow]) -> tuple[float, float, int]:
    """Return the (lon, lat) mean of the reports of some rows, and how many they are."""
    total = sum(m.reports for m in members)
    lon = sum(m.lon * m.reports for m in members) / total
    lat = sum(m.lat * m.reports for m in members) / total
    return round(lon, PUBLIC_COORD_DECIMALS), round(lat, PUBLIC_COORD_DECIMALS), total


def _public_cluster(members: Sequence[repository.CellRow], lang: str) -> dict[str, Any]:
    lon, lat, total = _centre(members)
    groups = {m.status: m.reports for m in sorted(members, key=lambda m: (-m.reports, m.status))}
    name = f"{total:,} reports" if lang == "en" else f"{total:,} phản ánh".replace(",", ".")
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"cluster": True, "count": total, "name": name, "group": "status", "groups": groups},
    }


async def geojson(
    session: AsyncSession, filters: ReportFilters, lang: str = "vi", view: MapView | None = None
) -> dict[str, Any]:
    """Return accepted reports as GeoJSON (no personal data): points rounded to ~10 m, or grid cells with counts.

    Without a zoom, or at street level, the answer is the newest points (inside the box), at most
    GEOJSON_MAX_FEATURES; `truncated` then asks the map to zoom in. A zoomed-out view of more than
    MAP_CLUSTER_THRESHOLD reports is answered as the dashboard's grid cells, each with its count and its count
    per status, so that every matching report is represented; `count` is how many reports the answer stands for.
    """
    view = view or MapView()
    public_filters = filters.model_copy(update={"q": None})
    now = utc_now()
    names = await repository.category_names(session)
    # Labels are looked up once per call, not once per feature: the layer may hold thousands of points.
    category_names = {code: _category_name(names, code, lang) for code in names}
    status_labels = {status.value: status_label(status.value, lang) for status in ReportStatus}
    collection: dict[str, Any] = {"type": "FeatureCollection"}
    if view.box is not None:
        collection["bbox"] = [round(value, 6) for value in view.box]
    if view.zoom is not None:
        collection["zoom"] = view.zoom
    if view.zoom is not None and view.zoom < MAP_CLUSTER_MAX_ZOOM:
        grid = repository.MapGrid.at(view.zoom, MAP_CELLS_PER_TILE, MAP_GRID_LATITUDE)
        cells = await repository.public_cells(session, public_filters, now, grid, view.box)
        total = sum(cell.reports for cell in cells)
        if total > MAP_CLUSTER_THRESHOLD:
            clustered: list[dict[str, Any]] = []
            for members in _cell_groups(cells):
                alone = members[0]
                if len(members) == 1 and alone.reports == 1 and alone.tracking_code is not None:
                    row = (alone.tracking_code, alone.category_code, alone.status, alone.unit_code)
                    point = (*row, alone.created_at, alone.lat, alone.lon)
                    clustered.append(_public_feature(point, category_names, status_labels))
                else:
                    clustered.append(_public_cluster(members, lang))
            present = {cell.status for cell in cells}
            return collection | {
                "features": clustered,
                "count": total,
                "clustered": True,
                "truncated": False,
                "status_labels": {s: label for s, label in status_labels.items() if s in present},
            }
    rows = await repository.public_points(session, public_filters, now, GEOJSON_MAX_FEATURES + 1, view.box)
    truncated = len(rows) > GEOJSON_MAX_FEATURES
    features = [_public_feature(row, category_names, status_labels) for row in rows[:GEOJSON_MAX_FEATURES]]
    count = await repository.count_public(session, public_filters, now, view.box) if truncated else len(features)
    return collection | {"features": features, "count": count, "clustered": False, "truncated": truncated}


async def photo_file(
    session: AsyncSession, store: MediaStore, photo_id: int, principal: Principal | None, *, thumb: bool
) -> Path:
    """Return the path of a photo the caller may see: staff always, the public once the report is accepted."""
    photo = await repository.get_photo(session, photo_id)
    if photo is None:
        raise NotFound("Không tìm thấy ảnh.", "No such photo.")
    report = await repository.get_report(session, photo.report_id)
    staff = principal is not None and principal.has(SCOPE_READ)
    if report is None or not (staff or is_published(report)):
        raise NotFound("Không tìm thấy ảnh.", "No such photo.")
    path = store.path(photo.thumb_name if thumb else photo.file_name)
    if path is None:
        raise NotFound("Tệp ảnh không còn trên máy chủ.", "The photo file is missing on the server.")
    return path


# Statistics and KPIs


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _stats_row(key: str, name: str, counts: Any, median: float | None) -> StatsRow:
    return StatsRow(
        key=key,
        name=name,
        received=int(counts.received),
        resolved=int(counts.resolved),
        open=int(counts.open),
        overdue=int(counts.overdue),
        on_time_rate=_rate(int(counts.on_time), int(counts.judged)),
        median_hours_to_resolve=round(median, 1) if median is not None else None,
        rated=int(counts.rated),
        satisfaction_rate=_rate(int(counts.satisfied), int(counts.rated)),
    )


async def stats(
    session: AsyncSession, *, date_from: date | None = None, date_to: date | None = None, lang: str = "vi"
) -> StatsRead:
    """Return public figures per agency, category and commune for reports submitted in a period."""
    end = date_to or local_today()
    begin = date_from or end - timedelta(days=STATS_DEFAULT_DAYS - 1)
    if begin > end:
        raise ValidationFailed(
            "Ngày bắt đầu phải trước ngày kết thúc.",
            "The start date must not be after the end date.",
            field="date_from",
        )
    now = utc_now()
    categories = await repository.category_names(session)
    units = {
        u.code: ((u.name_en or u.name) if lang == "en" else u.name) for u in await org_unit.units_valid_on(session)
    }
    unassigned = "Chưa giao cơ quan" if lang != "en" else "Not yet assigned"

    async def build(group: StatsGroup | None) -> list[tuple[str, Any, float | None]]:
        counts = await repository.stats_counts(session, group, begin, end, now)
        medians = await repository.stats_medians(session, group, begin, end)
        return [(str(row.key or ""), row, medians.get(str(row.key or ""))) for row in counts]

    by_agency = await build(StatsGroup.AGENCY)
    agencies = await _agency_names(session, (key for key, _c, _m in by_agency), lang)
    names: dict[StatsGroup, Callable[[str], str]] = {
        StatsGroup.AGENCY: lambda k: agencies.get(k, k) if k else unassigned,
        StatsGroup.CATEGORY: lambda k: _category_name(categories, k, lang),
        StatsGroup.UNIT: lambda k: units.get(k, k),
    }

    def rows(group: StatsGroup, built: list[tuple[str, Any, float | None]]) -> list[StatsRow]:
        made = [_stats_row(key, names[group](key), counts, median) for key, counts, median in built]
        return sorted(made, key=lambda r: (-r.received, r.name))

    (total_key, total_counts, total_median), *_rest = await build(None)
    note = (
        "Tính trên các phản ánh đã được duyệt, theo ngày gửi (giờ Việt Nam). Đúng hạn: xử lý xong trước hạn "
        "xử lý của cơ quan; thời gian xử lý tính theo giờ thực tế từ lúc gửi."
        if lang != "en"
        else "Counts accepted reports by submission date (Vietnam time). On time: resolved before the agency's "
        "deadline; time to resolve is elapsed hours from submission."
    )
    return StatsRead(
        date_from=begin,
        date_to=end,
        total=_stats_row(total_key, "Toàn tỉnh" if lang != "en" else "Whole province", total_counts, total_median),
        by_agency=rows(StatsGroup.AGENCY, by_agency),
        by_category=rows(StatsGroup.CATEGORY, await build(StatsGroup.CATEGORY)),
        by_unit=rows(StatsGroup.UNIT, await build(StatsGroup.UNIT)),
        note=note,
    )


async def kpis(session: AsyncSession, runtime: Runtime, day: date | None = None) -> CitizenReportKpis:
    """Return the dashboard figures: received on a day, overdue now, on-time rate over the last 30 days."""
    day = day or local_today()
    now = utc_now()
    until = repository.local_day_start(day + timedelta(days=1))
    resolved, on_time = await repository.on_time_counts(session, until - timedelta(days=KPI_ON_TIME_DAYS), until)
    return CitizenReportKpis(
        day=day,
        received=await repository.count_received(session, day),
        overdue=await repository.count_overdue(session, now),
        on_time_rate=_rate(on_time, resolved),
        resolved_30d=resolved,
    )


# Operations picture (KPI tiles and the map layer offered through the manifest)


async def _picture_units(ctx: PictureContext) -> list[str] | None:
    """Return the communes a drill-down covers (the unit and everything below it), or None for the province."""
    if not ctx.unit_code:
        return None
    try:
        return [ctx.unit_code, *await org_unit.units_within(ctx.session, ctx.unit_code)]
    except org_unit.UnitNotFound:
        return []


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


async def picture_received_today(ctx: PictureContext) -> KpiValue:
    """Return the reports received today, with yesterday's count as the trend."""
    units = await _picture_units(ctx)
    today = to_local(ctx.now).date()
    value = await repository.count_received(ctx.session, today, units)
    previous = await repository.count_received(ctx.session, today - timedelta(days=1), units)
    return KpiValue(value=value, previous=previous)


async def picture_overdue(ctx: PictureContext) -> KpiValue:
    """Return the reports past their running deadline now."""
    value = await repository.count_overdue(ctx.session, ctx.now, await _picture_units(ctx))
    status = "normal" if value == 0 else "warning" if value < PICTURE_OVERDUE_CRITICAL else "critical"
    return KpiValue(value=value, status=status, higher_is_better=False)


def _rate_status(value: float | None, target: float) -> str:
    if value is None:
        return "normal"
    return "good" if value >= target else "warning" if value >= target - PICTURE_RATE_MARGIN else "critical"


async def picture_on_time(ctx: PictureContext) -> KpiValue:
    """Return the share of reports resolved on time over 30 days (and the 30 days before)."""
    units = await _picture_units(ctx)
    span = timedelta(days=KPI_ON_TIME_DAYS)
    value = _percent(*reversed(await repository.on_time_counts(ctx.session, ctx.now - span, ctx.now, units)))
    before = await repository.on_time_counts(ctx.session, ctx.now - 2 * span, ctx.now - span, units)
    return KpiValue(
        value=value,
        previous=_percent(before[1], before[0]),
        unit="%",
        status=_rate_status(value, PICTURE_ON_TIME_TARGET),
    )


async def picture_satisfaction(ctx: PictureContext) -> KpiValue:
    """Return the share of satisfied ratings over 30 days (and the 30 days before)."""
    units = await _picture_units(ctx)
    span = timedelta(days=KPI_ON_TIME_DAYS)
    rated, satisfied = await repository.rating_counts(ctx.session, ctx.now - span, ctx.now, units)
    before = await repository.rating_counts(ctx.session, ctx.now - 2 * span, ctx.now - span, units)
    value = _percent(satisfied, rated)
    return KpiValue(
        value=value,
        previous=_percent(before[1], before[0]),
        unit="%",
        status=_rate_status(value, PICTURE_SATISFACTION_TARGET),
    )


async def picture_layer(ctx: PictureContext) -> dict[str, Any]:
    """Return public reports (open, or changed in the last 30 days) as compact GeoJSON, no personal data.

    Up to PICTURE_LAYER_MAX reports come as points; beyond, as grid cells per status with their `count`, which
    the dashboard's clustering weighs and colours like points, so that no report is left out.
    """
    units = await _picture_units(ctx)
    since = ctx.now - timedelta(days=KPI_ON_TIME_DAYS)
    rows = await repository.picture_points(ctx.session, since, units, PICTURE_LAYER_MAX + 1)
    if len(rows) > PICTURE_LAYER_MAX:
        grid = repository.MapGrid.at(PICTURE_GRID_ZOOM, MAP_CELLS_PER_TILE, MAP_GRID_LATITUDE)
        cells = await repository.picture_cells(ctx.session, since, units, grid)
        features = [_picture_cell(members) for members in _coarsened(cells, PICTURE_LAYER_MAX)]
        return {"type": "FeatureCollection", "features": features, "truncated": False, "aggregated": True}
    features = [_picture_point(*row) for row in rows]
    return {"type": "FeatureCollection", "features": features, "truncated": False}


def _picture_point(report_id: int, code: str, status: str, category: str, lat: float, lon: float) -> dict[str, Any]:
    decimals = PUBLIC_COORD_DECIMALS
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, decimals), round(lat, decimals)]},
        "properties": {"id": report_id, "code": code, "status": status, "category": category},
    }


def _coarsened(cells: list[repository.CellRow], limit: int) -> list[list[repository.CellRow]]:
    """Merge cells into their parents (a zoom out: half as many per side) until at most `limit` remain.

    Returns the rows of each remaining (cell, status); cells of a grid nest in those of the zoom below, so the
    dashboard, which clusters on the same grid, gets the same clusters as from the reports themselves.
    """
    groups: dict[tuple[int, int, str], list[repository.CellRow]] = {}
    for cell in cells:
        groups.setdefault((cell.column, cell.row, cell.status), []).append(cell)
    while len(groups) > limit:
        parents: dict[tuple[int, int, str], list[repository.CellRow]] = {}
        for (column, row, status), members in groups.items():
            parents.setdefault((column >> 1, row >> 1, status), []).extend(members)
        if len(parents) == len(groups):
            break
        groups = parents
    return [groups[key] for key in sorted(groups, key=lambda k: (k[1], k[0], k[2]))]


def _picture_cell(members: Sequence[repository.CellRow]) -> dict[str, Any]:
    alone = members[0]
    if len(members) == 1 and alone.reports == 1 and alone.id is not None:
        return _picture_point(
            alone.id, alone.tracking_code or "", alone.status, alone.category_code or "", alone.lat, alone.lon
        )
    lon, lat, total = _centre(members)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "cluster": True,
            "count": total,
            "status": alone.status,
            "group": "status",
            "groups": {alone.status: total},
        },
    }


# What a viewer may do next (the staff detail page shows one button per action)


def allowed_actions(principal: Principal, report: ReportRead) -> list[str]:
    """Return the workflow actions a principal may take on a report now, in the order the page shows them."""
    status = ReportStatus(report.status)
    operator = principal.has(SCOPE_OPERATE)
    own_agency = principal.is_admin or (principal.agency_id is not None and principal.agency_id == report.agency_id)
    handler = principal.has(SCOPE_HANDLE) and own_agency
    supervisor = principal.has(SCOPE_APPROVE) and own_agency
    actions: list[str] = []
    if operator and status is ReportStatus.RECEIVED:
        actions += ["accept", "reject"]
    if operator and status in (ReportStatus.ACCEPTED, ReportStatus.RETURNED, ReportStatus.ASSIGNED):
        actions.append("assign")
    if handler and status in (ReportStatus.ASSIGNED, ReportStatus.REOPENED):
        actions.append("start")
    if handler and status in AGENCY_STATUSES:
        actions += ["resolve", "return"]
        if not report.extension_pending:
            actions.append("extension")
    if supervisor and report.extension_pending:
        actions += ["extension_approve", "extension_decline"]
    if operator and status in OPEN_STATUSES:
        actions.append("merge")
    if operator:
        actions.append("link")
    return actions


@dataclass(frozen=True)
class BulkResult:
    """What a bulk assignment did: the codes assigned and, per refused report, why."""

    assigned: list[str]
    refused: list[tuple[int, IocError]]


async def bulk_assign(
    session: AsyncSession,
    runtime: Runtime,
    report_ids: Sequence[int],
    principal: Principal,
    agency_code: str | None,
    *,
    now: datetime | None = None,
) -> BulkResult:
    """Assign several reports to one agency (or each to its routed agency); reports that cannot move are listed."""
    _require_scope(principal, SCOPE_OPERATE)
    assigned: list[str] = []
    refused: list[tuple[int, IocError]] = []
    for report_id in dict.fromkeys(report_ids):
        try:
            async with session.begin_nested():
                report = await assign(
                    session, runtime, report_id, principal, AssignInput(agency_code=agency_code), now=now
                )
            assigned.append(report.tracking_code)
        except (InvalidTransition, UnknownAgency, NoResponsibleAgency, ReportNotFound) as exc:
            refused.append((report_id, exc))
    return BulkResult(assigned=assigned, refused=refused)


async def report_id_for(session: AsyncSession, reference: str) -> int:
    """Return a report's id from a tracking code or an id typed by staff."""
    reference = reference.strip().upper()
    if reference.isdigit():
        return int(reference)
    report = await repository.report_by_code(session, reference)
    if report is None:
        raise ReportNotFound(reference)
    return report.id


async def detail_context(
    session: AsyncSession, report: ReportRead, principal: Principal, lang: str = "vi"
) -> dict[str, Any]:
    """Return what the staff detail page shows besides the report: duplicates, links, agencies to choose from."""
    duplicates = await duplicates_of(session, report.id) if principal.has(SCOPE_OPERATE) else []
    merged = [report.merged_into_id] if report.merged_into_id else []
    codes = await repository.tracking_codes(session, [*report.linked_report_ids, *merged])
    try:
        local = await org_unit.agencies_for_unit(session, report.unit_code)
    except org_unit.UnitNotFound:
        local = []
    # The agencies responsible for the report's commune first, then every other one.
    local_codes = {a.code for a in local}
    agencies = [*local, *(a for a in await org_unit.list_agencies(session) if a.code not in local_codes)]
    names = await _agency_names(session, [report.agency_code, report.suggested_agency_code], lang)
    return {
        "duplicates": duplicates,
        "linked": [(i, codes.get(i, str(i))) for i in report.linked_report_ids],
        "merged_into": [(i, codes.get(i, str(i))) for i in merged],
        "agencies": [(a.code, (a.name_en or a.name) if lang == "en" else a.name) for a in agencies if a.is_active],
        "agency_names": names,
    }


async def agency_choices(session: AsyncSession, codes: Iterable[str | None], lang: str = "vi") -> list[tuple[str, str]]:
    """Return (code, name) of every active agency, and of the given ones (even inactive), for the assign forms."""
    found: dict[str, str] = {
        agency.code: (agency.name_en or agency.name) if lang == "en" else agency.name
        for agency in await org_unit.list_agencies(session)
    }
    found.update(await _agency_names(session, [c for c in codes if c and c not in found], lang))
    return sorted(found.items(), key=lambda item: item[1])
