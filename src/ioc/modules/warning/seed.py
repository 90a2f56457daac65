"""Demo warnings: one approved warning in force over three wards, and one that has already expired."""

from __future__ import annotations

from datetime import timedelta

from ioc.core.jobs import cancel_job
from ioc.core.module import SeedContext
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.time import utc_now
from ioc.modules import org_unit

from . import repository, service
from .constants import EXPIRE_JOB, Category, Certainty, ResponseType, Severity, Urgency
from .schemas import WarningInput

TAN_NINH = "25459"  # Phường Tân Ninh
BINH_MINH = "25480"  # Phường Bình Minh
NINH_THANH = "25567"  # Phường Ninh Thạnh

# Two people: a warning goes out only once a second person approves it.
AUTHOR = Principal(
    kind=PrincipalKind.SYSTEM,
    id=None,
    name="demo.bien-tap",
    role=Role.AGENCY_STAFF,
    display_name="Biên tập viên (dữ liệu mẫu)",
)
APPROVER = Principal(
    kind=PrincipalKind.SYSTEM,
    id=None,
    name="demo.lanh-dao",
    role=Role.AGENCY_HEAD,
    display_name="Lãnh đạo duyệt (dữ liệu mẫu)",
)


def _flood(hours: float) -> WarningInput:
    return WarningInput(
        category=Category.MET,
        response_type=ResponseType.AVOID,
        urgency=Urgency.EXPECTED,
        severity=Severity.SEVERE,
        certainty=Certainty.LIKELY,
        event_vi="Ngập úng do mưa lớn",
        event_en="Flooding after heavy rain",
        headline_vi="Cảnh báo ngập úng tại các phường Tân Ninh, Bình Minh, Ninh Thạnh",
        headline_en="Flood warning for Tân Ninh, Bình Minh and Ninh Thạnh wards",
        description_vi="Mưa lớn kéo dài, mực nước rạch Tây Ninh đang lên; "
        "nhiều tuyến đường nội ô có thể ngập 30–50 cm.",
        description_en="Prolonged heavy rain and a rising Tây Ninh canal; "
        "several inner-city streets may flood by 30–50 cm.",
        instruction_vi="Hạn chế đi qua vùng trũng, kê cao tài sản, theo dõi thông báo của chính quyền địa phương.",
        instruction_en="Avoid low-lying streets, raise belongings off the floor and follow local authority notices.",
        expires_at=utc_now() + timedelta(hours=hours),
        unit_codes=[TAN_NINH, BINH_MINH, NINH_THANH],
    )


def _haze() -> WarningInput:
    return WarningInput(
        category=Category.ENV,
        response_type=ResponseType.AVOID,
        urgency=Urgency.EXPECTED,
        severity=Severity.MODERATE,
        certainty=Certainty.OBSERVED,
        event_vi="Ô nhiễm không khí",
        event_en="Air pollution",
        headline_vi="Bụi mịn PM2.5 ở mức kém tại phường Tân Ninh",
        headline_en="Poor PM2.5 levels in Tân Ninh ward",
        description_vi="Chỉ số VN_AQI giờ vượt 150 tại trạm quan trắc Tân Ninh trong buổi sáng.",
        description_en="The hourly VN_AQI was above 150 at the Tân Ninh station during the morning.",
        instruction_vi="Người có bệnh hô hấp hạn chế ra ngoài, đeo khẩu trang khi cần.",
        instruction_en="People with respiratory conditions should limit time outdoors and wear a mask.",
        expires_at=utc_now() + timedelta(hours=1),
        unit_codes=[TAN_NINH],
    )


async def seed_demo(ctx: SeedContext) -> None:
    """Publish the demo warnings once: one in force, one expired (nothing is added when warnings exist)."""
    session, runtime = ctx.session, ctx.runtime
    if (await repository.list_warnings(session, None, 1, 0))[1]:
        ctx.say("warning: đã có cảnh báo, không tạo thêm / warnings exist already, no demo warnings added.")
        return
    for code in (TAN_NINH, BINH_MINH, NINH_THANH):
        if await org_unit.get_unit(session, code) is None:
            ctx.say("warning: chưa có đơn vị hành chính mẫu / no demo units, no demo warnings.")
            return
    # The expired one is published like any warning, then its story is moved to yesterday and its timer
    # fires: the same path a real warning takes when its expiry time passes.
    haze = await service.create_draft(session, runtime, _haze(), AUTHOR)
    await service.submit(session, runtime, haze.id, AUTHOR)
    await service.approve(session, runtime, haze.id, APPROVER)
    row = await repository.get(session, haze.id)
    if row is None:
        return
    yesterday = utc_now().replace(microsecond=0) - timedelta(days=1)
    row.sent_at = row.effective_at = row.created_at = row.submitted_at = yesterday
    row.expires_at = yesterday + timedelta(hours=6)
    row.identifier = service.cap_identifier(runtime, row.id, yesterday)
    await cancel_job(session, f"{EXPIRE_JOB}:{row.id}")
    await service.expire(session, row.id)
    flood = await service.create_draft(session, runtime, _flood(24), AUTHOR)
    await service.submit(session, runtime, flood.id, AUTHOR)
    await service.approve(session, runtime, flood.id, APPROVER)
    ctx.say("warning: 2 cảnh báo mẫu (1 đang hiệu lực, 1 đã hết hiệu lực) / 2 demo warnings (1 in force, 1 expired).")
