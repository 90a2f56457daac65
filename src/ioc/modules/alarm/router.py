"""HTTP API and pages of the alarm module: the console, alarm detail, rules, silences and routing policies."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.errors import IocError, ValidationFailed
from ioc.core.http import db_session
from ioc.core.i18n import request_language
from ioc.core.security import Principal, require_scope
from ioc.core.templating import render
from ioc.core.time import to_local, utc_now
from ioc.modules import org_unit

from . import rulebook, service
from .constants import (
    API_PREFIX,
    CONSOLE_PATH,
    DEFAULT_WINDOW_HOURS,
    POLICIES_PATH,
    RULES_API_PREFIX,
    RULES_PATH,
    SCOPE_OPERATE,
    SCOPE_READ,
    SCOPE_RULES,
    SILENCES_PATH,
    TARGET_CHANNELS,
    Operator,
    RuleKind,
    ScopeKind,
    Severity,
)
from .schemas import (
    ActionNote,
    AlarmDetail,
    AlarmKpis,
    AlarmRead,
    AssignRequest,
    CommentCreate,
    PolicyRead,
    PolicyWrite,
    RuleRead,
    RuleTestResult,
    RuleWrite,
    SilenceRead,
    SilenceWrite,
)

api_router = APIRouter(tags=["alarm"])
page_router = APIRouter(include_in_schema=False)

require_read = require_scope(SCOPE_READ)
require_operate = require_scope(SCOPE_OPERATE)
require_rules = require_scope(SCOPE_RULES)
ALARM_ID = Path(ge=1, le=2**62)
RULE_ID = Path(ge=1, le=2**31 - 1)


# --- alarms -------------------------------------------------------------------------------------------------------


@api_router.get(API_PREFIX, response_model=list[AlarmRead], summary="Danh sách cảnh báo / list alarms")
async def list_alarms(
    status: str | None = Query("open", pattern=r"^(open|active|acknowledged|cleared)$"),
    severity: Severity | None = None,
    limit: int = Query(200, ge=1, le=1000),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> list[AlarmRead]:
    """List alarms, most severe first; "open" means active or acknowledged."""
    return await service.list_alarms(
        session, principal, status=status, severity=severity.value if severity else None, limit=limit
    )


@api_router.get(f"{API_PREFIX}/kpis", response_model=AlarmKpis, summary="Số cảnh báo đang mở / open alarm counts")
async def alarm_kpis(
    session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_read)
) -> AlarmKpis:
    """Count open alarms by severity."""
    return await service.kpis(session, principal)


@api_router.get(f"{API_PREFIX}/{{alarm_id}}", response_model=AlarmDetail, summary="Chi tiết cảnh báo / alarm")
async def get_alarm(
    alarm_id: int = ALARM_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> AlarmDetail:
    """Return one alarm with its history."""
    return await service.alarm_detail(session, alarm_id)


@api_router.post(f"{API_PREFIX}/{{alarm_id}}/acknowledge", response_model=AlarmRead, summary="Xác nhận / acknowledge")
async def acknowledge(
    data: ActionNote,
    alarm_id: int = ALARM_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_operate),
) -> AlarmRead:
    """Acknowledge an alarm."""
    result = await service.acknowledge(session, alarm_id, principal, data.note)
    await session.commit()
    return result


@api_router.post(f"{API_PREFIX}/{{alarm_id}}/clear", response_model=AlarmRead, summary="Kết thúc / clear")
async def clear(
    data: ActionNote,
    alarm_id: int = ALARM_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_operate),
) -> AlarmRead:
    """Clear an alarm by hand."""
    result = await service.clear(session, alarm_id, principal, data.note)
    await session.commit()
    return result


@api_router.post(f"{API_PREFIX}/{{alarm_id}}/comments", response_model=AlarmRead, summary="Ghi chú / comment")
async def add_comment(
    data: CommentCreate,
    alarm_id: int = ALARM_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_operate),
) -> AlarmRead:
    """Comment on an alarm."""
    result = await service.comment(session, alarm_id, principal, data.text)
    await session.commit()
    return result


@api_router.post(f"{API_PREFIX}/{{alarm_id}}/assign", response_model=AlarmRead, summary="Giao xử lý / assign")
async def assign(
    data: AssignRequest,
    alarm_id: int = ALARM_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_operate),
) -> AlarmRead:
    """Assign an alarm to someone."""
    result = await service.assign(session, alarm_id, principal, data.assignee_id)
    await session.commit()
    return result


# --- rules --------------------------------------------------------------------------------------------------------


@api_router.get(RULES_API_PREFIX, response_model=list[RuleRead], summary="Quy tắc cảnh báo / alarm rules")
async def list_rules(
    session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_read)
) -> list[RuleRead]:
    """List alarm rules."""
    return await rulebook.list_rules(session)


@api_router.post(RULES_API_PREFIX, response_model=RuleRead, status_code=201, summary="Tạo quy tắc / create a rule")
async def create_rule(
    data: RuleWrite, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_rules)
) -> RuleRead:
    """Check and store a rule; an invalid rule answers 422 with the field and a precise message."""
    result = await rulebook.create_rule(session, data, principal)
    await session.commit()
    return result


@api_router.post(f"{RULES_API_PREFIX}/test", response_model=RuleTestResult, summary="Thử quy tắc / test a rule")
async def replay_rule(
    data: RuleWrite, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_rules)
) -> RuleTestResult:
    """Replay a rule over the last 24 hours without saving it."""
    return await rulebook.replay_rule(session, data)


@api_router.get(f"{RULES_API_PREFIX}/{{rule_id}}", response_model=RuleRead, summary="Quy tắc / rule")
async def get_rule(
    rule_id: int = RULE_ID, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_read)
) -> RuleRead:
    """Return one rule."""
    return await rulebook.get_rule(session, rule_id)


@api_router.put(f"{RULES_API_PREFIX}/{{rule_id}}", response_model=RuleRead, summary="Sửa quy tắc / update a rule")
async def update_rule(
    data: RuleWrite,
    rule_id: int = RULE_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_rules),
) -> RuleRead:
    """Check and store a changed rule."""
    result = await rulebook.update_rule(session, rule_id, data)
    await session.commit()
    return result


@api_router.delete(f"{RULES_API_PREFIX}/{{rule_id}}", status_code=204, summary="Xóa quy tắc / delete a rule")
async def delete_rule(
    rule_id: int = RULE_ID, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_rules)
) -> Response:
    """Delete a rule."""
    await rulebook.delete_rule(session, rule_id)
    await session.commit()
    return Response(status_code=204)


# --- silences and routing policies --------------------------------------------------------------------------------


@api_router.get("/alarm-silences", response_model=list[SilenceRead], summary="Tạm tắt / silences")
async def list_silences(
    session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_read)
) -> list[SilenceRead]:
    """List silences and maintenance windows that have not ended."""
    return await rulebook.list_silences(session)


@api_router.post("/alarm-silences", response_model=SilenceRead, status_code=201, summary="Tạm tắt / add a silence")
async def create_silence(
    data: SilenceWrite, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_operate)
) -> SilenceRead:
    """Add a silence or maintenance window."""
    result = await rulebook.create_silence(session, data, principal)
    await session.commit()
    return result


@api_router.delete("/alarm-silences/{silence_id}", status_code=204, summary="Kết thúc tạm tắt / end a silence")
async def end_silence(
    silence_id: int = Path(ge=1, le=2**31 - 1),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_operate),
) -> Response:
    """End a silence now."""
    await rulebook.end_silence(session, silence_id)
    await session.commit()
    return Response(status_code=204)


@api_router.get("/alarm-policies", response_model=list[PolicyRead], summary="Chính sách thông báo / routing")
async def list_policies(
    session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_rules)
) -> list[PolicyRead]:
    """List routing policies."""
    return await rulebook.list_policies(session)


@api_router.post("/alarm-policies", response_model=PolicyRead, status_code=201, summary="Thêm chính sách / add")
async def create_policy(
    data: PolicyWrite,
    request: Request,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_rules),
) -> PolicyRead:
    """Add a routing policy; unknown units or agencies and unreachable recipients answer 422."""
    result = await rulebook.create_policy(session, data, request.app.state.runtime.settings)
    await session.commit()
    return result


@api_router.get("/alarm-policies/{policy_id}", response_model=PolicyRead, summary="Chính sách / routing policy")
async def get_policy(
    policy_id: int = Path(ge=1, le=2**31 - 1),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_rules),
) -> PolicyRead:
    """Return one routing policy."""
    return await rulebook.get_policy(session, policy_id)


@api_router.put("/alarm-policies/{policy_id}", response_model=PolicyRead, summary="Sửa chính sách / update")
async def update_policy(
    data: PolicyWrite,
    request: Request,
    policy_id: int = Path(ge=1, le=2**31 - 1),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_rules),
) -> PolicyRead:
    """Change a routing policy."""
    result = await rulebook.update_policy(session, policy_id, data, request.app.state.runtime.settings)
    await session.commit()
    return result


@api_router.delete("/alarm-policies/{policy_id}", status_code=204, summary="Xóa chính sách / delete")
async def delete_policy(
    policy_id: int = Path(ge=1, le=2**31 - 1),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_rules),
) -> Response:
    """Delete a routing policy."""
    await rulebook.delete_policy(session, policy_id)
    await session.commit()
    return Response(status_code=204)


# --- pages --------------------------------------------------------------------------------------------------------


def _lang(request: Request) -> str:
    return request_language(request, request.app.state.runtime.settings.default_language)


@page_router.get(CONSOLE_PATH)
async def console_page(
    request: Request,
    severity: str = Query("", pattern=r"^(|critical|major|minor|warning|indeterminate)$"),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Show the alarm console; rows refresh live on every alarm event."""
    alarms = await service.list_alarms(session, principal, severity=severity or None)
    figures = await service.kpis(session, principal)
    return render(
        request,
        "alarm/console.html",
        {"alarms": alarms, "kpis": figures, "severity": severity, "can_operate": principal.has(SCOPE_OPERATE)},
    )


@page_router.get(f"{CONSOLE_PATH}/rows")
async def console_rows(
    request: Request,
    severity: str = Query("", pattern=r"^(|critical|major|minor|warning|indeterminate)$"),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Return the console's figures and table, fetched again by the page on every alarm event."""
    alarms = await service.list_alarms(session, principal, severity=severity or None)
    figures = await service.kpis(session, principal)
    return render(
        request,
        "alarm/_live.html",
        {"alarms": alarms, "kpis": figures, "severity": severity, "can_operate": principal.has(SCOPE_OPERATE)},
    )


@page_router.get(f"{CONSOLE_PATH}/{{alarm_id}}")
async def detail_page(
    request: Request,
    alarm_id: int = ALARM_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Show one alarm with its history and the operator's actions."""
    alarm = await service.alarm_detail(session, alarm_id)
    return render(request, "alarm/detail.html", {"alarm": alarm, "can_operate": principal.has(SCOPE_OPERATE)})


@page_router.post(f"{CONSOLE_PATH}/{{alarm_id}}/{{action}}")
async def act_page(
    request: Request,
    action: str = Path(pattern=r"^(acknowledge|clear|comment|assign|silence)$"),
    alarm_id: int = ALARM_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_operate),
) -> Response:
    """Apply an operator's action from a page form and go back to where it came from."""
    form = await request.form()
    note = str(form.get("note") or "").strip()
    back = str(form.get("back") or f"{CONSOLE_PATH}/{alarm_id}")
    if not back.startswith("/") or back.startswith("//"):
        back = f"{CONSOLE_PATH}/{alarm_id}"
    try:
        if action == "acknowledge":
            await service.acknowledge(session, alarm_id, principal, note[:2000])
        elif action == "clear":
            await service.clear(session, alarm_id, principal, note[:2000])
        elif action == "comment":
            text = CommentCreate(text=note).text
            await service.comment(session, alarm_id, principal, text)
        elif action == "silence":
            raw_hours = str(form.get("hours") or "").strip()
            hours = float(raw_hours) if raw_hours.replace(".", "", 1).isdigit() else 0.0
            await service.silence_alarm(session, alarm_id, principal, hours, note[:500])
        else:
            raw = str(form.get("assignee_id") or "").strip()
            await service.assign(session, alarm_id, principal, int(raw) if raw.isdigit() else None)
    except ValidationError as exc:
        raise ValidationFailed("Ghi chú không được để trống.", "The comment must not be empty.") from exc
    await session.commit()
    return RedirectResponse(back, status_code=303)


def _rule_form(form: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in form.items():
        if key in ("csrf_token", "action") or value in ("", None):
            continue
        data[key] = value
    data["enabled"] = "enabled" in form
    return data


async def _editor(
    request: Request,
    rule: dict[str, Any],
    *,
    rule_id: int | None = None,
    errors: dict[str, Any] | None = None,
    test: RuleTestResult | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "alarm/rule_form.html",
        {
            "rule": rule,
            "rule_id": rule_id,
            "errors": errors or {},
            "test": test,
            "kinds": list(RuleKind),
            "scopes": list(ScopeKind),
            "severities": list(Severity),
            "operators": list(Operator),
        },
        status_code=status_code,
    )


@page_router.get(RULES_PATH)
async def rules_page(
    request: Request, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_read)
) -> Response:
    """Show the list of rules."""
    rules = await rulebook.list_rules(session)
    return render(request, "alarm/rules.html", {"rules": rules, "can_edit": principal.has(SCOPE_RULES)})


@page_router.get(f"{RULES_PATH}/new")
async def new_rule_page(request: Request, principal: Principal = Depends(require_rules)) -> Response:
    """Show an empty rule editor."""
    return await _editor(request, {"kind": "threshold", "severity": "major", "scope_kind": "datastream"})


@page_router.get(f"{RULES_PATH}/{{rule_id}}")
async def edit_rule_page(
    request: Request,
    rule_id: int = RULE_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_rules),
) -> Response:
    """Show the editor of a stored rule."""
    rule = await rulebook.get_rule(session, rule_id)
    values = {**rule.model_dump(), **{k: v for k, v in rule.params.items() if v is not None}}
    return await _editor(request, values, rule_id=rule_id)


@page_router.post(f"{RULES_PATH}/save")
async def save_rule_page(
    request: Request, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_rules)
) -> Response:
    """Test or save a rule from the editor; errors are shown beside the fields."""
    form = dict((await request.form()).items())
    values = _rule_form({k: str(v) for k, v in form.items()})
    raw_id = values.pop("rule_id", None)
    rule_id = int(raw_id) if raw_id and str(raw_id).isdigit() else None
    lang = _lang(request)
    try:
        data = RuleWrite.model_validate(values)
        if form.get("action") == "test":
            result = await rulebook.replay_rule(session, data)
            return await _editor(request, values, rule_id=rule_id, test=result)
        if rule_id is None:
            await rulebook.create_rule(session, data, principal)
        else:
            await rulebook.update_rule(session, rule_id, data)
    except ValidationError as exc:
        return await _editor(request, values, rule_id=rule_id, errors=_form_errors(exc), status_code=422)
    except IocError as exc:
        await session.rollback()
        return await _editor(request, values, rule_id=rule_id, errors=exc.field_errors(), status_code=exc.status_code)
    await session.commit()
    return RedirectResponse(f"{RULES_PATH}?lang={lang}", status_code=303)


# --- silence, maintenance and routing pages -----------------------------------------------------------------------


def _local_input(value: datetime) -> str:
    return to_local(value).strftime("%Y-%m-%dT%H:%M")


def _parse_local(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    # datetime-local has no offset: the form is in the province's time (+07:00).
    return f"{value}:00+07:00" if len(value) == 16 else f"{value}+07:00"


def _form_errors(exc: ValidationError) -> dict[str, Any]:
    return {
        str(err["loc"][0]) if err["loc"] else "": {"vi": f"Giá trị không hợp lệ: {err['msg']}", "en": err["msg"]}
        for err in exc.errors()
    }


async def _unit_options(request: Request, session: AsyncSession) -> list[tuple[str, str]]:
    province = request.app.state.runtime.settings.province_code
    units = await org_unit.children(session, province)
    top = await org_unit.get_unit(session, province)
    return [("", "—")] + ([(top.code, top.name)] if top else []) + [(u.code, f"{u.name} ({u.code})") for u in units]


async def _silences_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    now = utc_now()
    rules = await rulebook.list_rules(session)
    defaults = {
        "kind": "maintenance",
        "starts_at": _local_input(now),
        "ends_at": _local_input(now + timedelta(hours=DEFAULT_WINDOW_HOURS)),
    }
    return render(
        request,
        "alarm/silences.html",
        {
            "silences": await rulebook.list_silences(session, now),
            "rule_names": {r.id: r.name for r in rules},
            "rule_options": [("", "—")] + [(str(r.id), r.name) for r in rules],
            "unit_options": await _unit_options(request, session),
            "values": {**defaults, **(values or {})},
            "errors": errors or {},
            "now": now,
            "can_operate": principal.has(SCOPE_OPERATE),
        },
        status_code=status_code,
    )


@page_router.get(SILENCES_PATH)
async def silences_page(
    request: Request, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_read)
) -> Response:
    """Show running and planned silences and maintenance windows, and the form to add one."""
    return await _silences_page(request, session, principal)


@page_router.post(SILENCES_PATH)
async def create_silence_page(
    request: Request, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_operate)
) -> Response:
    """Add a silence or maintenance window from the form; errors are shown beside the fields."""
    form = {k: str(v).strip() for k, v in (await request.form()).items() if k != "csrf_token"}
    data = {
        "kind": form.get("kind") or "silence",
        "rule_id": form.get("rule_id") or None,
        "source_ref": form.get("source_ref") or None,
        "unit_code": form.get("unit_code") or None,
        "starts_at": _parse_local(form.get("starts_at", "")),
        "ends_at": _parse_local(form.get("ends_at", "")),
        "reason": form.get("reason", ""),
    }
    try:
        await rulebook.create_silence(session, SilenceWrite.model_validate(data), principal)
    except ValidationError as exc:
        return await _silences_page(request, session, principal, values=form, errors=_form_errors(exc), status_code=422)
    except IocError as exc:
        await session.rollback()
        errors = exc.field_errors("ends_at")
        return await _silences_page(
            request, session, principal, values=form, errors=errors, status_code=exc.status_code
        )
    await session.commit()
    return RedirectResponse(f"{SILENCES_PATH}?lang={_lang(request)}", status_code=303)


@page_router.post(f"{SILENCES_PATH}/{{silence_id}}/end")
async def end_silence_page(
    request: Request,
    silence_id: int = Path(ge=1, le=2**31 - 1),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_operate),
) -> Response:
    """End a silence or maintenance window early."""
    await rulebook.end_silence(session, silence_id)
    await session.commit()
    return RedirectResponse(f"{SILENCES_PATH}?lang={_lang(request)}", status_code=303)


def _targets_text(targets: list[dict[str, str]]) -> str:
    return "\n".join(f"{t['channel']}: {t['recipient']}" for t in targets)


def _parse_targets(text: str) -> list[dict[str, str]]:
    """Read one target per line, "email: a@b.vn" (the channel may be left out when the address tells it)."""
    targets: list[dict[str, str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        head, sep, rest = line.partition(":")
        if sep and head.strip().lower() in TARGET_CHANNELS:
            channel, recipient = head.strip().lower(), rest.strip()
        elif line.lower().startswith(("http://", "https://")):
            channel, recipient = "webhook", line
        elif "@" in line:
            channel, recipient = "email", line
        else:
            channel, recipient = "sms", line
        targets.append({"channel": channel, "recipient": recipient})
    return targets


async def _policy_page(
    request: Request,
    session: AsyncSession,
    *,
    values: dict[str, Any],
    policy_id: int | None = None,
    errors: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "alarm/policies.html",
        {
            "policies": await rulebook.list_policies(session),
            "policy_id": policy_id,
            "values": values,
            "errors": errors or {},
            "severities": list(Severity),
            "unit_options": await _unit_options(request, session),
        },
        status_code=status_code,
    )


_NEW_POLICY = {"min_severity": "major", "repeat_minutes": 240, "enabled": True}


@page_router.get(POLICIES_PATH)
async def policies_page(
    request: Request, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_rules)
) -> Response:
    """Show the routing policies and the form to add one."""
    return await _policy_page(request, session, values=dict(_NEW_POLICY))


@page_router.get(f"{POLICIES_PATH}/{{policy_id}}")
async def edit_policy_page(
    request: Request,
    policy_id: int = Path(ge=1, le=2**31 - 1),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_rules),
) -> Response:
    """Show the routing policies with one of them in the form."""
    policy = await rulebook.get_policy(session, policy_id)
    values = {
        **policy.model_dump(),
        "targets": _targets_text(policy.targets),
        "escalation_targets": _targets_text(policy.escalation_targets),
    }
    return await _policy_page(request, session, values=values, policy_id=policy_id)


@page_router.post(f"{POLICIES_PATH}/save")
async def save_policy_page(
    request: Request, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_rules)
) -> Response:
    """Create or change a routing policy from the form; errors are shown beside the fields."""
    form = {k: str(v).strip() for k, v in (await request.form()).items() if k != "csrf_token"}
    raw_id = form.get("policy_id", "")
    policy_id = int(raw_id) if raw_id.isdigit() else None
    values: dict[str, Any] = {**form, "enabled": "enabled" in form}
    data = {
        "name": form.get("name", ""),
        "min_severity": form.get("min_severity") or "warning",
        "unit_code": form.get("unit_code") or None,
        "agency_code": form.get("agency_code") or None,
        "targets": _parse_targets(form.get("targets", "")),
        "escalation_targets": _parse_targets(form.get("escalation_targets", "")),
        "repeat_minutes": form.get("repeat_minutes") or 240,
        "escalate_after_minutes": form.get("escalate_after_minutes") or None,
        "enabled": "enabled" in form,
    }
    settings = request.app.state.runtime.settings
    try:
        policy = PolicyWrite.model_validate(data)
        if policy_id is None:
            await rulebook.create_policy(session, policy, settings)
        else:
            await rulebook.update_policy(session, policy_id, policy, settings)
    except ValidationError as exc:
        errors = _form_errors(exc)
        return await _policy_page(request, session, values=values, policy_id=policy_id, errors=errors, status_code=422)
    except IocError as exc:
        await session.rollback()
        errors = exc.field_errors("name")
        return await _policy_page(
            request, session, values=values, policy_id=policy_id, errors=errors, status_code=exc.status_code
        )
    await session.commit()
    return RedirectResponse(f"{POLICIES_PATH}?lang={_lang(request)}", status_code=303)


@page_router.post(f"{POLICIES_PATH}/{{policy_id}}/delete")
async def delete_policy_page(
    request: Request,
    policy_id: int = Path(ge=1, le=2**31 - 1),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_rules),
) -> Response:
    """Delete a routing policy."""
    await rulebook.delete_policy(session, policy_id)
    await session.commit()
    return RedirectResponse(f"{POLICIES_PATH}?lang={_lang(request)}", status_code=303)
