"""Business rules of public warnings: authoring, two-person approval, CAP publication, subscriptions, figures."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from shapely.geometry import Point, mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.audit import record as record_audit
from ioc.core.events import record_event
from ioc.core.http import Page, PageParams
from ioc.core.jobs import schedule_job
from ioc.core.security import Principal
from ioc.core.time import ensure_utc, to_local, utc_now
from ioc.modules import alarm, notification, org_unit

from . import repository
from .cap import CapContext, alert_url, build_alert, build_feed
from .constants import (
    DISTRIBUTE_JOB,
    EDITABLE_STATES,
    EXPIRE_JOB,
    MAX_HEADLINE,
    MAX_POLYGON_POINTS,
    MIN_POLYGON_PAIRS,
    NOTIFY_TEMPLATE,
    PUBLIC_PATH,
    SEVERITY_LABELS,
    SUBSCRIBE_PATH,
    AreaKind,
    Category,
    Certainty,
    MsgType,
    Severity,
    SubscriberChannel,
    Urgency,
    WarningState,
    label,
)
from .events import (
    WarningDrafted,
    WarningEvent,
    WarningExpired,
    WarningPublished,
    WarningRejected,
    WarningSubmitted,
)
from .exceptions import (
    AlarmUnavailable,
    InvalidArea,
    InvalidValidity,
    NoteRequired,
    SelfApprovalForbidden,
    SubscriptionNotFound,
    WarningNotEditable,
    WarningNotFound,
)
from .models import PublicWarning, Subscriber
from .schemas import (
    AreaRead,
    ChannelReport,
    DeliveryReport,
    DrawnArea,
    SubscribeInput,
    SubscribeResult,
    WarningInput,
    WarningKpis,
    WarningPublic,
    WarningRead,
)

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime
    from ioc.core.settings import Settings

log = logging.getLogger(__name__)

PUBLIC_STATES = (WarningState.PUBLISHED, WarningState.SUPERSEDED, WarningState.CANCELLED, WarningState.EXPIRED)
# A simplification tolerance in degrees (about 50 m) for boundaries too detailed for a CAP polygon.
SIMPLIFY_TOLERANCE = 0.0005
MAX_VERTEX_LOOKUPS = 60
DELIVERY_PAGE = 500
SMS_HEADLINE_CHARS = 90  # three Unicode SMS segments hold 201 characters; the link needs the rest
DEFAULT_PROPOSAL_HOURS = 6
ALARM_SEVERITY = {
    "critical": (Severity.EXTREME, Urgency.IMMEDIATE),
    "major": (Severity.SEVERE, Urgency.IMMEDIATE),
    "minor": (Severity.MODERATE, Urgency.EXPECTED),
    "warning": (Severity.MINOR, Urgency.EXPECTED),
}


# Reading


def cap_context(settings: Settings) -> CapContext:
    """Return the public address and CAP sender of this installation."""
    host = urlsplit(settings.public_base_url).hostname or "localhost"
    # CAP 1.2: the sender has no spaces, commas or reserved characters.
    return CapContext(base_url=settings.public_base_url, sender=f"ioc-{settings.province_code}@{host}")


def _areas(warning: PublicWarning) -> list[AreaRead]:
    return [
        AreaRead(kind=AreaKind(a["kind"]), code=a.get("code"), name=a.get("name", ""), name_en=a.get("name_en", ""))
        for a in warning.areas
    ]


async def _referenced(session: AsyncSession, warning: PublicWarning) -> PublicWarning | None:
    if warning.references_id is None:
        return None
    return await repository.get(session, warning.references_id)


async def to_public(session: AsyncSession, warning: PublicWarning, settings: Settings) -> WarningPublic:
    """Return the public view of a warning."""
    referenced = await _referenced(session, warning)
    return WarningPublic(
        **_common(warning),
        references_identifier=referenced.identifier if referenced else None,
        cap_url=alert_url(settings.public_base_url, warning.identifier) if warning.identifier else None,
    )


def _common(warning: PublicWarning) -> dict[str, Any]:
    return {
        "id": warning.id,
        "identifier": warning.identifier,
        "state": warning.state,
        "status": warning.status,
        "msg_type": warning.msg_type,
        "category": warning.category,
        "response_type": warning.response_type,
        "urgency": warning.urgency,
        "severity": warning.severity,
        "certainty": warning.certainty,
        "event_vi": warning.event_vi,
        "event_en": warning.event_en,
        "headline_vi": warning.headline_vi,
        "headline_en": warning.headline_en,
        "description_vi": warning.description_vi,
        "description_en": warning.description_en,
        "instruction_vi": warning.instruction_vi,
        "instruction_en": warning.instruction_en,
        "effective_at": warning.effective_at,
        "expires_at": warning.expires_at,
        "sent_at": warning.sent_at,
        "areas": _areas(warning),
    }


async def to_read(session: AsyncSession, warning: PublicWarning, settings: Settings) -> WarningRead:
    """Return the staff view of a warning."""
    public = await to_public(session, warning, settings)
    return WarningRead(
        **public.model_dump(),
        references_id=warning.references_id,
        alarm_id=warning.alarm_id,
        author=warning.author,
        author_name=warning.author_name,
        approver=warning.approver,
        review_note=warning.review_note,
        submitted_at=warning.submitted_at,
        created_at=warning.created_at,
        updated_at=warning.updated_at,
        unit_codes=list(warning.unit_codes or []),
    )


async def _require(session: AsyncSession, warning_id: int, *, for_update: bool = False) -> PublicWarning:
    warning = await repository.get(session, warning_id, for_update=for_update)
    if warning is None:
        raise WarningNotFound(warning_id)
    return warning


async def get_warning(session: AsyncSession, runtime: Runtime, warning_id: int) -> WarningRead:
    """Return one warning for staff, or raise WarningNotFound."""
    return await to_read(session, await _require(session, warning_id), runtime.settings)


async def get_public(session: AsyncSession, runtime: Runtime, warning_id: int) -> WarningPublic:
    """Return a published (or since replaced) warning; drafts are not public."""
    warning = await repository.get(session, warning_id)
    if warning is None or warning.state not in PUBLIC_STATES:
        raise WarningNotFound(warning_id)
    return await to_public(session, warning, runtime.settings)


async def list_warnings(
    session: AsyncSession, runtime: Runtime, states: Sequence[WarningState], page: PageParams
) -> Page[WarningRead]:
    """Return one page of warnings in the given states (all when empty), newest first."""
    rows, total = await repository.list_warnings(session, [s.value for s in states], page.limit, page.offset)
    items = [await to_read(session, row, runtime.settings) for row in rows]
    return Page[WarningRead](items=items, total=total, limit=page.limit, offset=page.offset)


async def current_warnings(
    session: AsyncSession, runtime: Runtime, now: datetime | None = None, unit_code: str | None = None
) -> list[WarningPublic]:
    """Return the warnings in force now (optionally those covering one unit)."""
    rows = await repository.current(session, now or utc_now(), unit_code)
    return [await to_public(session, row, runtime.settings) for row in rows]


async def cap_xml(session: AsyncSession, runtime: Runtime, identifier: str) -> bytes:
    """Return the CAP 1.2 message of a published warning, or raise WarningNotFound."""
    warning = await repository.get_by_identifier(session, identifier)
    if warning is None or warning.state not in PUBLIC_STATES:
        raise WarningNotFound(identifier)
    return build_alert(warning, cap_context(runtime.settings), await _referenced(session, warning))


async def atom_feed(session: AsyncSession, runtime: Runtime, lang: str = "vi") -> bytes:
    """Return the Atom feed of the warnings in force now."""
    now = utc_now()
    rows = await repository.current(session, now)
    return build_feed(rows, cap_context(runtime.settings), now, lang)


# Areas


def _rings(geometry: BaseGeometry) -> list[list[list[float]]]:
    """Return the exterior rings of a (multi)polygon as [lon, lat] lists; CAP polygons have no holes."""
    if geometry.geom_type == "Polygon":
        polygons = [geometry]
    elif geometry.geom_type == "MultiPolygon":
        polygons = list(getattr(geometry, "geoms", []))
    else:
        return []
    rings: list[list[list[float]]] = []
    for polygon in polygons:
        exterior = polygon.exterior
        if len(exterior.coords) > MAX_POLYGON_POINTS:
            exterior = polygon.simplify(SIMPLIFY_TOLERANCE, preserve_topology=True).exterior
        rings.append([[round(x, 6), round(y, 6)] for x, y, *_ in exterior.coords])
    return rings


def _drawn_geometry(area: DrawnArea, index: int) -> BaseGeometry:
    raw = area.geometry
    if raw.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidArea(
            f"Vùng vẽ thứ {index + 1} phải là đa giác GeoJSON (Polygon), không phải {raw.get('type')!r}.",
            f"Drawn area {index + 1} must be a GeoJSON Polygon, not {raw.get('type')!r}.",
            index=index,
        )
    try:
        geometry = shape(raw)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise InvalidArea(
            f"Vùng vẽ thứ {index + 1} không đọc được: toạ độ GeoJSON sai.",
            f"Drawn area {index + 1} cannot be read: bad GeoJSON coordinates.",
            index=index,
        ) from exc
    min_x, min_y, max_x, max_y = geometry.bounds if not geometry.is_empty else (0.0, 0.0, 999.0, 999.0)
    if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
        raise InvalidArea(
            f"Vùng vẽ thứ {index + 1} có toạ độ ngoài phạm vi WGS 84 (kinh độ, vĩ độ).",
            f"Drawn area {index + 1} has coordinates outside WGS 84 ([lon, lat]).",
            index=index,
        )
    rings = _rings(geometry)
    if not geometry.is_valid or not rings or any(len(r) < MIN_POLYGON_PAIRS for r in rings):
        raise InvalidArea(
            f"Vùng vẽ thứ {index + 1} không phải đa giác hợp lệ (ít nhất 4 điểm, không tự cắt).",
            f"Drawn area {index + 1} is not a valid polygon (at least 4 points, no self-intersection).",
            index=index,
        )
    return geometry


async def _units_touched(session: AsyncSession, geometry: BaseGeometry) -> list[str]:
    """Return the units holding the polygon's vertices or its inner point (who to notify about it)."""
    points = [geometry.representative_point()]
    for ring in _rings(geometry):
        points.extend(Point(x, y) for x, y in ring[:-1])
    codes: list[str] = []
    for point in points[:MAX_VERTEX_LOOKUPS]:
        unit = await org_unit.locate_point(session, point.y, point.x)
        if unit is not None and unit.code not in codes:
            codes.append(unit.code)
    return codes


async def _build_areas(session: AsyncSession, data: WarningInput) -> tuple[list[dict[str, Any]], list[str]]:
    areas: list[dict[str, Any]] = []
    codes: list[str] = []
    for code in data.unit_codes:
        unit = await org_unit.get_unit(session, code)
        if unit is None:
            raise InvalidArea(
                f"Không có đơn vị hành chính mã {code} đang hiệu lực.",
                f"No administrative unit {code} in force.",
                code=code,
            )
        rings: list[list[list[float]]] = []
        if unit.has_geometry:
            feature = await org_unit.unit_geometry(session, code)
            if feature.geometry:
                rings = _rings(shape(feature.geometry))
        areas.append(
            {
                "kind": AreaKind.UNIT.value,
                "code": code,
                "name": unit.name,
                "name_en": unit.name_en or "",
                "rings": rings,
            }
        )
        codes.append(code)
    for index, drawn in enumerate(data.polygons):
        geometry = _drawn_geometry(drawn, index)
        areas.append(
            {
                "kind": AreaKind.POLYGON.value,
                "code": None,
                "name": drawn.name,
                "name_en": drawn.name_en,
                "rings": _rings(geometry),
                "geometry": mapping(geometry),
            }
        )
        codes.extend(code for code in await _units_touched(session, geometry) if code not in codes)
    return areas, codes


def _bbox(areas: list[dict[str, Any]]) -> tuple[float, float, float, float] | None:
    xs = [p[0] for a in areas for r in a.get("rings") or [] for p in r]
    ys = [p[1] for a in areas for r in a.get("rings") or [] for p in r]
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def to_input(warning: PublicWarning) -> WarningInput:
    """Return the editable fields of a warning, as the form and the API take them."""
    return WarningInput.model_validate(
        {
            "status": warning.status,
            "category": warning.category,
            "response_type": warning.response_type,
            "urgency": warning.urgency,
            "severity": warning.severity,
            "certainty": warning.certainty,
            "event_vi": warning.event_vi,
            "event_en": warning.event_en,
            "headline_vi": warning.headline_vi,
            "headline_en": warning.headline_en,
            "description_vi": warning.description_vi,
            "description_en": warning.description_en,
            "instruction_vi": warning.instruction_vi,
            "instruction_en": warning.instruction_en,
            "effective_at": warning.effective_at,
            "expires_at": warning.expires_at,
            "unit_codes": [a["code"] for a in warning.areas if a["kind"] == AreaKind.UNIT],
            "polygons": [
                {"name": a["name"], "name_en": a.get("name_en", ""), "geometry": a["geometry"]}
                for a in warning.areas
                if a["kind"] == AreaKind.POLYGON and a.get("geometry")
            ],
        }
    )


async def to_input_by_id(session: AsyncSession, warning_id: int) -> WarningInput:
    """Return the editable fields of a warning by id."""
    return to_input(await _require(session, warning_id))


# Authoring and approval


def _event(cls: type[WarningEvent], warning: PublicWarning, **extra: Any) -> WarningEvent:
    return cls(
        warning_id=warning.id,
        state=warning.state,
        msg_type=warning.msg_type,
        severity=warning.severity,
        urgency=warning.urgency,
        unit_codes=list(warning.unit_codes or []),
        **extra,
    )


async def _apply(session: AsyncSession, warning: PublicWarning, data: WarningInput) -> None:
    areas, codes = await _build_areas(session, data)
    for name in WarningInput.model_fields:
        if name not in ("unit_codes", "polygons", "effective_at"):
            value = getattr(data, name)
            setattr(warning, name, value.value if hasattr(value, "value") else value)
    warning.effective_at = data.effective_at
    warning.areas = areas
    warning.unit_codes = codes
    bbox = _bbox(areas)
    warning.min_lon, warning.min_lat, warning.max_lon, warning.max_lat = bbox or (None, None, None, None)
    warning.updated_at = utc_now()


async def create_draft(
    session: AsyncSession,
    runtime: Runtime,
    data: WarningInput,
    principal: Principal,
    *,
    msg_type: MsgType = MsgType.ALERT,
    references_id: int | None = None,
    alarm_id: int | None = None,
) -> WarningRead:
    """Create a draft warning from an author's input."""
    now = utc_now()
    warning = PublicWarning(
        state=WarningState.DRAFT,
        msg_type=msg_type.value,
        references_id=references_id,
        alarm_id=alarm_id,
        author=principal.name,
        author_name=principal.display_name or principal.name,
        created_at=now,
    )
    await _apply(session, warning, data)
    repository.add(session, warning)
    await session.flush()
    record_event(session, _event(WarningDrafted, warning, alarm_id=alarm_id))
    return await to_read(session, warning, runtime.settings)


async def update_draft(
    session: AsyncSession, runtime: Runtime, warning_id: int, data: WarningInput, principal: Principal
) -> WarningRead:
    """Replace the content of a draft or returned warning."""
    warning = await _require(session, warning_id, for_update=True)
    if warning.state not in EDITABLE_STATES:
        raise WarningNotEditable(warning.state, "sửa", "edit")
    await _apply(session, warning, data)
    warning.state = WarningState.DRAFT
    await session.flush()
    record_event(session, _event(WarningDrafted, warning, alarm_id=warning.alarm_id))
    return await to_read(session, warning, runtime.settings)


def _check_validity(warning: PublicWarning, now: datetime) -> None:
    if warning.expires_at <= now:
        raise InvalidValidity(
            "Cảnh báo đã quá thời điểm hết hiệu lực; hãy sửa thời điểm hết hiệu lực.",
            "The warning has already expired; change its expiry time.",
        )
    if warning.effective_at is not None and warning.expires_at <= warning.effective_at:
        raise InvalidValidity(
            "Thời điểm hết hiệu lực phải sau thời điểm hiệu lực.", "The expiry time must be after the effective time."
        )


async def submit(session: AsyncSession, runtime: Runtime, warning_id: int, principal: Principal) -> WarningRead:
    """Send a draft for approval by a second person."""
    warning = await _require(session, warning_id, for_update=True)
    if warning.state not in EDITABLE_STATES:
        raise WarningNotEditable(warning.state, "gửi duyệt", "submit")
    _check_validity(warning, utc_now())
    warning.state = WarningState.PENDING
    warning.submitted_at = utc_now()
    warning.updated_at = warning.submitted_at
    await session.flush()
    record_event(session, _event(WarningSubmitted, warning))
    return await to_read(session, warning, runtime.settings)


def _identifier(runtime: Runtime, warning: PublicWarning, sent: datetime) -> str:
    # Unique, stable and URL-safe: province, local date and the warning's number.
    return cap_identifier(runtime, warning.id, sent)


def cap_identifier(runtime: Runtime, warning_id: int, sent: datetime) -> str:
    """Return the CAP identifier of a warning sent at a moment."""
    return f"VN-{runtime.settings.province_code}-IOC-{to_local(sent):%Y%m%d}-{warning_id:06d}"


async def approve(session: AsyncSession, runtime: Runtime, warning_id: int, principal: Principal) -> WarningRead:
    """Approve and publish a pending warning; the author may not approve their own."""
    warning = await _require(session, warning_id, for_update=True)
    if warning.state != WarningState.PENDING:
        raise WarningNotEditable(warning.state, "duyệt", "approve")
    if warning.author == principal.name:
        raise SelfApprovalForbidden()
    now = utc_now().replace(microsecond=0)
    _check_validity(warning, now)
    referenced = await _referenced(session, warning)
    if referenced is not None and referenced.state != WarningState.PUBLISHED:
        raise WarningNotEditable(referenced.state, "cập nhật/huỷ", "update or cancel")
    warning.state = WarningState.PUBLISHED
    warning.sent_at = now
    warning.identifier = _identifier(runtime, warning, now)
    if warning.effective_at is None:
        warning.effective_at = now
    warning.approver = principal.name
    warning.updated_at = now
    if referenced is not None:
        referenced.state = WarningState.CANCELLED if warning.msg_type == MsgType.CANCEL else WarningState.SUPERSEDED
        referenced.updated_at = now
    await session.flush()
    record_event(
        session,
        _event(
            WarningPublished,
            warning,
            identifier=warning.identifier,
            headline_vi=warning.headline_vi,
            headline_en=warning.headline_en,
            references_identifier=referenced.identifier if referenced else None,
        ),
    )
    await schedule_job(session, DISTRIBUTE_JOB, {"warning_id": warning.id}, dedupe_key=f"{DISTRIBUTE_JOB}:{warning.id}")
    await schedule_expiry(session, warning)
    return await to_read(session, warning, runtime.settings)


async def schedule_expiry(session: AsyncSession, warning: PublicWarning) -> None:
    """Set the durable timer that marks a published warning expired at its expiry time."""
    await schedule_job(
        session,
        EXPIRE_JOB,
        {"warning_id": warning.id, "expires_at": ensure_utc(warning.expires_at).isoformat()},
        run_at=warning.expires_at,
        dedupe_key=f"{EXPIRE_JOB}:{warning.id}",
    )


async def expiry_pending(session: AsyncSession, warning_id: int) -> datetime | None:
    """Return the expiry time of a warning still published and not yet expired, else None."""
    warning = await repository.get(session, warning_id)
    if warning is None or warning.state != WarningState.PUBLISHED or ensure_utc(warning.expires_at) <= utc_now():
        return None
    return ensure_utc(warning.expires_at)


async def expire(session: AsyncSession, warning_id: int, now: datetime | None = None) -> bool:
    """Mark a published warning expired once its expiry time has passed (timer job); tell whether it did.

    A warning replaced or cancelled meanwhile, or one whose timer fired early, is left alone.
    """
    warning = await repository.get(session, warning_id, for_update=True)
    moment = now or utc_now()
    if warning is None or warning.state != WarningState.PUBLISHED or ensure_utc(warning.expires_at) > moment:
        return False
    warning.state = WarningState.EXPIRED
    warning.updated_at = moment
    await session.flush()
    record_event(session, _event(WarningExpired, warning, identifier=warning.identifier or ""))
    log.info("warning expired", extra={"warning_id": warning.id})
    return True


async def reject(
    session: AsyncSession, runtime: Runtime, warning_id: int, principal: Principal, note: str
) -> WarningRead:
    """Return a pending warning to its author with a reason."""
    warning = await _require(session, warning_id, for_update=True)
    if warning.state != WarningState.PENDING:
        raise WarningNotEditable(warning.state, "trả lại", "return")
    if not note.strip():
        raise NoteRequired()
    warning.state = WarningState.REJECTED
    warning.review_note = note.strip()
    warning.approver = principal.name
    warning.updated_at = utc_now()
    await session.flush()
    record_event(session, _event(WarningRejected, warning))
    return await to_read(session, warning, runtime.settings)


async def derive(
    session: AsyncSession, runtime: Runtime, warning_id: int, msg_type: MsgType, principal: Principal
) -> WarningRead:
    """Start an Update or a Cancel of a published warning: a new draft referencing it."""
    source = await _require(session, warning_id)
    if source.state != WarningState.PUBLISHED:
        raise WarningNotEditable(source.state, "cập nhật/huỷ", "update or cancel")
    data = to_input(source)
    if msg_type is MsgType.CANCEL:
        data = data.model_copy(
            update={
                "headline_vi": f"Huỷ cảnh báo: {source.headline_vi}"[:MAX_HEADLINE],
                "headline_en": f"Cancelled: {source.headline_en}"[:MAX_HEADLINE],
                "response_type": None,
            }
        )
    if data.expires_at <= utc_now():
        data = data.model_copy(update={"expires_at": utc_now() + timedelta(hours=DEFAULT_PROPOSAL_HOURS)})
    data = data.model_copy(update={"effective_at": None})
    draft = await create_draft(
        session, runtime, data, principal, msg_type=msg_type, references_id=source.id, alarm_id=source.alarm_id
    )
    return draft


async def propose_from_alarm(
    session: AsyncSession, runtime: Runtime, alarm_id: int, principal: Principal
) -> WarningRead:
    """Draft a warning from an alarm: its title, severity and place; the author completes it."""
    try:
        source = await alarm.get_alarm(session, alarm_id)
    except alarm.AlarmNotFound as exc:
        raise AlarmUnavailable(alarm_id) from exc
    unit_code = source.unit_code
    if unit_code is None and source.lat is not None and source.lon is not None:
        unit = await org_unit.locate_point(session, source.lat, source.lon)
        unit_code = unit.code if unit else None
    if unit_code is None:
        raise InvalidArea(
            f"Cảnh báo sự cố #{alarm_id} không gắn với đơn vị hành chính hay vị trí nào; hãy soạn cảnh báo mới.",
            f"Alarm #{alarm_id} has no unit or position; write a new warning instead.",
            alarm_id=alarm_id,
        )
    severity, urgency = ALARM_SEVERITY.get(source.severity, (Severity.UNKNOWN, Urgency.UNKNOWN))
    environmental = source.source_kind in ("datastream", "station")
    title = source.title[:MAX_HEADLINE]
    data = WarningInput(
        category=Category.ENV if environmental else Category.OTHER,
        urgency=urgency,
        severity=severity,
        certainty=Certainty.OBSERVED,
        event_vi=source.title[:200],
        event_en=source.title[:200],
        headline_vi=title,
        headline_en=title,
        description_vi=f"Hệ thống ghi nhận: {source.title}.",
        description_en=f"Detected by the operations center: {source.title}.",
        expires_at=utc_now() + timedelta(hours=DEFAULT_PROPOSAL_HOURS),
        unit_codes=[unit_code],
    )
    return await create_draft(session, runtime, data, principal, alarm_id=alarm_id)


# Subscriptions and distribution


def _link(settings: Settings, path: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}{path}"


async def subscribe(session: AsyncSession, runtime: Runtime, data: SubscribeInput) -> SubscribeResult:
    """Record a subscription and send a confirmation link through the same channel (double opt-in)."""
    codes = list(dict.fromkeys(code.strip() for code in data.unit_codes if code.strip()))
    for code in codes:
        if await org_unit.get_unit(session, code) is None:
            raise InvalidArea(f"Không có đơn vị hành chính mã {code}.", f"No administrative unit {code}.", code=code)
    kind = notification.ChannelKind(data.channel.value)
    address = notification.validate_recipient(kind, data.address, runtime.settings)
    row = await repository.find_subscriber(session, data.channel.value, address)
    if row is None:
        row = Subscriber(channel=data.channel.value, address=address, unsubscribe_token=secrets.token_urlsafe(24))
        repository.add(session, row)
    # Unconfirmed until the owner of the address follows the new link, even if it was confirmed before.
    row.unit_codes = codes
    row.lang = data.lang
    row.confirmed = False
    row.confirm_token = secrets.token_urlsafe(24)
    row.created_at = utc_now()
    await session.flush()
    english = data.lang == "en"
    await notification.send(
        session,
        runtime,
        channel=kind,
        recipient=address,
        template=NOTIFY_TEMPLATE,
        params={
            "title": "Confirm your warning subscription" if english else "Xác nhận đăng ký nhận cảnh báo",
            "severity": "Information" if english else "Thông báo",
            # An SMS holds about 200 Vietnamese characters: the link is the message there.
            "message": ""
            if kind is notification.ChannelKind.SMS
            else (
                "Open the link to confirm. If you did not ask for it, ignore this message."
                if english
                else "Mở liên kết để xác nhận. Nếu bạn không đăng ký, hãy bỏ qua tin này."
            ),
            "link": _link(runtime.settings, f"{SUBSCRIBE_PATH}/xac-nhan/{row.confirm_token}"),
        },
        lang=data.lang,
        correlation="warning:subscription",
    )
    return SubscribeResult(
        status="pending_confirmation",
        message=(
            "We sent a confirmation link; the subscription starts once you open it."
            if english
            else "Chúng tôi đã gửi liên kết xác nhận; đăng ký có hiệu lực khi bạn mở liên kết đó."
        ),
    )


async def confirm(session: AsyncSession, token: str) -> list[str]:
    """Confirm a subscription from its link; return its unit codes."""
    row = await repository.get_subscriber_by_token(session, confirm=token)
    if row is None:
        raise SubscriptionNotFound()
    row.confirmed = True
    row.confirm_token = None
    row.confirmed_at = utc_now()
    await session.flush()
    return list(row.unit_codes)


async def unsubscribe(session: AsyncSession, token: str) -> None:
    """Delete a subscription (and the address with it) from its unsubscribe link."""
    row = await repository.get_subscriber_by_token(session, unsubscribe=token)
    if row is None:
        raise SubscriptionNotFound()
    await repository.delete(session, row)
    await session.flush()


def _message(warning: PublicWarning, subscriber: Subscriber, settings: Settings) -> dict[str, str]:
    english = subscriber.lang == "en"
    headline = warning.headline_en if english else warning.headline_vi
    prefix = {"Update": ("Cập nhật: ", "Update: "), "Cancel": ("", "")}.get(warning.msg_type, ("", ""))
    title = (prefix[1] if english else prefix[0]) + headline
    link = _link(settings, f"{PUBLIC_PATH}/{warning.id}")
    if subscriber.channel == SubscriberChannel.SMS:
        return {"title": title[:SMS_HEADLINE_CHARS], "severity": warning.severity, "message": "", "link": link}
    areas = ", ".join(
        str(a.get("name_en") if english and a.get("name_en") else a.get("name", "")) for a in warning.areas
    )
    parts = [
        warning.description_en if english else warning.description_vi,
        warning.instruction_en if english else warning.instruction_vi,
        ("Areas: " if english else "Khu vực: ") + areas,
        ("Valid until " if english else "Hiệu lực đến ") + f"{to_local(warning.expires_at):%d/%m/%Y %H:%M}",
        ("Unsubscribe: " if english else "Huỷ đăng ký: ")
        + _link(settings, f"{SUBSCRIBE_PATH}/huy/{subscriber.unsubscribe_token}"),
    ]
    return {
        "title": title,
        "severity": label(SEVERITY_LABELS, warning.severity, subscriber.lang),
        "message": "\n\n".join(p for p in parts if p) + "\n",
        "link": link,
    }


async def distribute(session: AsyncSession, runtime: Runtime, warning_id: int) -> int:
    """Queue one message per confirmed subscriber of the warning's units; return how many were queued.

    Each message is its own notification delivery, retried on its own: a failing channel or address
    never holds back the others.
    """
    warning = await repository.get(session, warning_id)
    if warning is None or warning.identifier is None:
        return 0
    targets = set(warning.unit_codes or [])
    queued = 0
    for subscriber in await repository.confirmed_subscribers(session):
        if not targets.intersection(subscriber.unit_codes or []):
            continue
        await notification.send(
            session,
            runtime,
            channel=notification.ChannelKind(subscriber.channel),
            recipient=subscriber.address,
            template=NOTIFY_TEMPLATE,
            params=_message(warning, subscriber, runtime.settings),
            lang=subscriber.lang,
            correlation=f"warning:{warning.identifier}",
            secret=None,
        )
        queued += 1
    log.info("warning distributed", extra={"warning_id": warning.id, "queued": queued})
    return queued


async def delivery_report(session: AsyncSession, runtime: Runtime, warning_id: int) -> DeliveryReport:
    """Count the warning's deliveries per channel: delivered, pending, failed and retried."""
    warning = await _require(session, warning_id)
    channels: dict[str, ChannelReport] = {}
    if warning.identifier:
        filters = notification.DeliveryFilters(correlation=f"warning:{warning.identifier}")
        offset = 0
        while True:
            page = await notification.list_deliveries(
                session, filters, PageParams(limit=DELIVERY_PAGE, offset=offset), reveal_recipients=False
            )
            for delivery in page.items:
                row = channels.setdefault(delivery.channel.value, ChannelReport(channel=delivery.channel.value))
                row.total += 1
                if delivery.status == notification.DeliveryStatus.DELIVERED:
                    row.delivered += 1
                elif delivery.status in (notification.DeliveryStatus.FAILED, notification.DeliveryStatus.DEAD):
                    row.failed += 1
                else:
                    row.pending += 1
                if delivery.attempts > 1:
                    row.retried += 1
            offset += DELIVERY_PAGE
            if offset >= page.total:
                break
    ordered = sorted(channels.values(), key=lambda r: r.channel)
    return DeliveryReport(
        warning_id=warning.id,
        identifier=warning.identifier,
        channels=ordered,
        total=sum(r.total for r in ordered),
    )


# Figures and the map


async def kpis(session: AsyncSession, now: datetime | None = None, unit_code: str | None = None) -> WarningKpis:
    """Return the figures of the operations picture."""
    rows = await repository.current(session, now or utc_now(), unit_code)
    return WarningKpis(
        current=len(rows),
        pending_approval=await repository.count_state(session, WarningState.PENDING),
        extreme_or_severe=repository.count_serious(rows),
        subscribers=await repository.count_subscribers(session),
    )


async def area_features(
    session: AsyncSession, now: datetime | None = None, unit_code: str | None = None, lang: str = "vi"
) -> dict[str, Any]:
    """Return the areas of the warnings in force as a GeoJSON FeatureCollection (public properties only)."""
    features: list[dict[str, Any]] = []
    for warning in await repository.current(session, now or utc_now(), unit_code):
        english = lang == "en"
        for index, area in enumerate(warning.areas):
            rings = area.get("rings") or []
            if not rings:
                continue
            geometry = (
                {"type": "Polygon", "coordinates": [rings[0]]}
                if len(rings) == 1
                else {"type": "MultiPolygon", "coordinates": [[ring] for ring in rings]}
            )
            name = area.get("name_en") if english and area.get("name_en") else area.get("name")
            features.append(
                {
                    "type": "Feature",
                    "id": f"{warning.id}-{index}",
                    "geometry": geometry,
                    "properties": {
                        "name": f"{warning.headline_en if english else warning.headline_vi} — {name}",
                        "code": area.get("code") or "",
                        "severity": warning.severity,
                        "warning_id": warning.id,
                        "url": f"{PUBLIC_PATH}/{warning.id}",
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


def audit_decision(session: AsyncSession, principal: Principal, action: str, warning_id: int) -> None:
    """Write an explicit audit line for an approval decision (besides the row change)."""
    record_audit(session, principal, action, PublicWarning.__tablename__, str(warning_id))
