"""Demo data: alarm rules over the demo stations and citizen reports, and a routing policy to the operations room.

The rules are created through `rulebook.create_rule`, so they pass the same checks as rules written in the
editor. Thresholds follow the reference notes `environment-and-alerts.md` §7 (severities, pending periods,
hysteresis); VN_AQI 151 is the lower bound of the "Xấu" (bad) category of Quyết định 1459/QĐ-TCMT.
The PM2.5 rules at the industrial park catch the simulator's pollution episode (`ioc run --demo-activity`)
within minutes: above 100 µg/m³ for 3 minutes (major), above 150 µg/m³ for 5 minutes (critical).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ioc.core.module import SeedContext
from ioc.core.security import Principal, PrincipalKind, Role

from . import rulebook
from .exceptions import InvalidRule
from .models import AlarmRule, RoutingPolicy
from .schemas import PolicyWrite, RuleWrite

# The station of the simulator's pollution episode (telemetry demo) and the demo flooding category.
EPISODE_STATION = "KK-PHUOCDONG"
FLOOD_CATEGORY = "ngap-nuoc"
# A reserved example domain: the installation replaces it with the operations room's real mailbox.
OPERATIONS_MAILBOX = "trucban.ioc@tayninh.example"
POLICY_NAME = "Trực ban Trung tâm điều hành (demo)"
SEED_ACTOR = Principal(kind=PrincipalKind.SYSTEM, id=None, name="demo-seed", role=Role.ADMIN)

DEMO_RULES: tuple[dict[str, Any], ...] = (
    {
        "name": "Chất lượng không khí xấu (VN_AQI ≥ 151 trong 1 giờ)",
        "description": "Chỉ số VN_AQI giờ của một trạm không khí ở mức Xấu trở lên suốt 1 giờ.",
        "kind": "index",
        "severity": "major",
        "scope_kind": "province",
        "standard": "VN_AQI",
        "period": "hour",
        "operator": ">=",
        "threshold": 151,
        "pending_minutes": 60,
    },
    {
        "name": "Bụi PM2.5 rất cao tại KCN Phước Đông (> 150 µg/m³)",
        "description": "PM2.5 trên 150 µg/m³ trong 5 phút; kết thúc khi xuống dưới 120 µg/m³.",
        "kind": "threshold",
        "severity": "critical",
        "scope_kind": "station",
        "scope_ref": EPISODE_STATION,
        "parameter": "pm25",
        "operator": ">",
        "threshold": 150,
        "clear_threshold": 120,
        "pending_minutes": 5,
    },
    {
        "name": "Bụi PM2.5 tăng cao (> 100 µg/m³)",
        "description": "PM2.5 của một trạm không khí trên 100 µg/m³ trong 3 phút; kết thúc khi xuống dưới 80 µg/m³.",
        "kind": "threshold",
        "severity": "major",
        "scope_kind": "province",
        "parameter": "pm25",
        "operator": ">",
        "threshold": 100,
        "clear_threshold": 80,
        "pending_minutes": 3,
    },
    {
        "name": "Trạm quan trắc mất tín hiệu (30 phút)",
        "description": "Không nhận được số liệu PM2.5 của một trạm không khí trong 30 phút.",
        "kind": "no_data",
        "severity": "warning",
        "scope_kind": "province",
        "parameter": "pm25",
        "minutes": 30,
    },
    {
        "name": "Nhiều phản ánh ngập nước gần nhau (≥ 3 trong 500 m, 1 giờ)",
        "description": "Ba phản ánh ngập nước trở lên trong bán kính 500 m trong 1 giờ.",
        "kind": "report_count",
        "severity": "major",
        "scope_kind": "category",
        "scope_ref": FLOOD_CATEGORY,
        "count": 3,
        "radius_m": 500,
        "window_minutes": 60,
    },
    {
        "name": "Phản ánh quá hạn xử lý",
        "description": "Một phản ánh hiện trường đã quá hạn tiếp nhận hoặc xử lý.",
        "kind": "report_overdue",
        "severity": "minor",
        "scope_kind": "province",
    },
)


async def seed_rules(ctx: SeedContext, *, enabled: bool) -> None:
    """Create the demo rules and routing policy that are missing (by name); skip a rule whose source is absent."""
    session = ctx.session
    existing = set(await session.scalars(select(AlarmRule.name)))
    created: list[str] = []
    for fields in DEMO_RULES:
        if fields["name"] in existing:
            continue
        data = RuleWrite.model_validate({**fields, "enabled": enabled})
        try:
            async with session.begin_nested():
                await rulebook.create_rule(session, data, SEED_ACTOR)
        except InvalidRule as exc:  # e.g. telemetry or citizen_report seeded nothing: that rule has no source
            ctx.say(f"alarm: bỏ qua quy tắc / skipped rule '{data.name}': {exc.message_en}")
            continue
        created.append(data.name)
    if await session.scalar(select(RoutingPolicy.id).where(RoutingPolicy.name == POLICY_NAME)) is None:
        await rulebook.create_policy(
            session,
            PolicyWrite.model_validate(
                {
                    "name": POLICY_NAME,
                    "min_severity": "major",
                    "targets": [{"channel": "email", "recipient": OPERATIONS_MAILBOX}],
                    "repeat_minutes": 240,
                }
            ),
        )
        created.append(POLICY_NAME)
    ctx.say(f"alarm: {len(created)} quy tắc và chính sách mới / new rules and policies")


async def seed_demo(ctx: SeedContext) -> None:
    """Create the demo rules, enabled in every environment, and the routing policy."""
    await seed_rules(ctx, enabled=True)
