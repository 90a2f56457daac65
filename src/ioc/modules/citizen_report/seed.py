"""Demo data: 15 report categories routed to the demo agencies, and about 300 reports of the last 90 days.

Every report is created through the service, step by step and back-dated, so that tracking codes,
timelines, deadlines, timers and events are exactly what real use would leave. The random choices come
from a fixed seed, so two runs on the same day tell the same story. Photos are generated pictures
marked "DEMO"; reporters are demo names without phone numbers or e-mail addresses.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.errors import IocError
from ioc.core.module import SeedContext
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.settings import Environment
from ioc.core.time import PROVINCE_TZ, ensure_utc, to_local, utc_now
from ioc.modules import identity, org_unit

from . import repository, service
from .constants import ReportStatus, Source
from .models import Report
from .photos import MediaStore, PhotoUpload
from .schemas import (
    AssignInput,
    CategoryCreate,
    ExtensionDecision,
    ExtensionInput,
    MergeInput,
    RatingInput,
    RejectInput,
    ReportCreate,
    ResolveInput,
    ReturnInput,
)

RANDOM_SEED = 1022
# The identity module's demo agency staff and head work at the Department of Construction, which handles
# roads, street lights, trees, water and signs across the province (the most demo reports).
DEMO_STAFF = ("chuyenvien", "lanhdaocoquan")
DEMO_STAFF_AGENCY = "80-SXD"
DEMO_REPORTS = 300
# Browser tests seed the demo before each test; a smaller story keeps them fast (IOC_ENV=test only).
TEST_DEMO_REPORTS = 30
DEMO_DAYS = 90
RECENT_DAYS = 3
DUPLICATE_SHARE = 0.03
COMMUNE_COMMITTEE = None  # routing: the People's Committee of the commune holding the point
CONSTRUCTION = "80-SXD"
ENVIRONMENT = "80-SNNMT"
HEALTH = "80-SYT"
# The wards of the two former provincial capitals, where the department runs street lighting itself.
CENTRAL_WARDS = ("25459", "25480", "27694", "27712")
STREETS = (
    "đường 30/4",
    "đường Cách Mạng Tháng Tám",
    "đường Điện Biên Phủ",
    "đường Hùng Vương",
    "đường Trần Hưng Đạo",
    "đường Nguyễn Huệ",
    "đường Lê Lợi",
    "quốc lộ 22B",
    "quốc lộ 1",
    "quốc lộ 62",
    "đường tỉnh 781",
    "đường tỉnh 827",
    "đường Huỳnh Văn Nhứt",
    "hẻm 12 đường Nguyễn Trãi",
)
NAMES = (
    "Nguyễn Văn An",
    "Trần Thị Bích",
    "Lê Hoàng Cường",
    "Phạm Thị Dung",
    "Võ Minh Đức",
    "Huỳnh Thị Hoa",
    "Đặng Quốc Hùng",
    "Bùi Thị Lan",
    "Ngô Thanh Phong",
    "Dương Thị Thu",
)


@dataclass(frozen=True)
class DemoCategory:
    """A category of the demo with the sentences its reports are written from."""

    data: CategoryCreate
    sentences: tuple[str, ...]
    attributes: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    results: tuple[str, ...] = ("Đơn vị đã kiểm tra và xử lý xong.",)


def _category(
    code: str,
    name: str,
    name_en: str,
    group: str,
    agency: str | None,
    accept_hours: float,
    resolve_days: int,
    *,
    photo: bool = False,
    overrides: dict[str, str] | None = None,
    attributes: list[dict[str, Any]] | None = None,
    keywords: tuple[str, ...] = (),
    order: int = 100,
) -> CategoryCreate:
    return CategoryCreate(
        code=code,
        name=name,
        name_en=name_en,
        group=group,
        default_agency_code=agency,
        agency_overrides=overrides or {},
        accept_hours=accept_hours,
        resolve_days=resolve_days,
        photo_required=photo,
        attributes=attributes or [],
        keywords=list(keywords),
        sort_order=order,
    )


DEMO_CATEGORIES: tuple[DemoCategory, ...] = (
    DemoCategory(
        _category(
            "o-ga-mat-duong",
            "Ổ gà, hư hỏng mặt đường",
            "Potholes and damaged roads",
            "Giao thông, hạ tầng",
            CONSTRUCTION,
            8,
            5,
            photo=True,
            keywords=("ổ gà", "sụt lún", "mặt đường"),
            order=10,
        ),
        (
            "Ổ gà lớn giữa {street}, xe máy đi qua dễ té ngã, nhất là buổi tối.",
            "Mặt đường {street} bị sụt lún, đọng nước, nhiều người đi đường suýt bị ngã.",
            "Đoạn {street} gần chợ bị bong tróc nhựa, đá văng ra lòng đường.",
        ),
        results=("Đã vá ổ gà bằng bê tông nhựa nóng, thông xe.", "Đã cào bóc, thảm lại đoạn mặt đường hư hỏng."),
    ),
    DemoCategory(
        _category(
            "den-chieu-sang",
            "Đèn chiếu sáng công cộng hỏng",
            "Broken street lights",
            "Hạ tầng đô thị",
            COMMUNE_COMMITTEE,
            8,
            3,
            overrides=dict.fromkeys(CENTRAL_WARDS, CONSTRUCTION),
            order=20,
            attributes=[
                {
                    "code": "so_cot",
                    "datatype": "string",
                    "required": False,
                    "order": 1,
                    "description": "Số hiệu cột đèn (nếu thấy)",
                }
            ],
        ),
        (
            "Cụm đèn đường trên {street} tắt cả tuần nay, đường tối rất nguy hiểm.",
            "Đèn chiếu sáng ở {street} chập chờn, lúc sáng lúc tắt.",
            "Cột đèn trên {street} bị nghiêng, dây điện lòng thòng.",
        ),
        attributes={"so_cot": ("", "C12", "T-045", "")},
        results=("Đã thay bộ đèn LED và kiểm tra tủ điện.", "Đã sửa chữa đường dây, đèn sáng bình thường."),
    ),
    DemoCategory(
        _category(
            "rac-thai",
            "Rác thải, vệ sinh môi trường",
            "Waste and street cleanliness",
            "Môi trường",
            COMMUNE_COMMITTEE,
            4,
            2,
            photo=True,
            order=30,
            attributes=[
                {
                    "code": "khoi_luong",
                    "datatype": "singlevaluelist",
                    "required": True,
                    "order": 1,
                    "description": "Khối lượng rác",
                    "values": [
                        {"key": "it", "name": "Ít (vài túi)"},
                        {"key": "nhieu", "name": "Nhiều (cả đống)"},
                        {"key": "rat_nhieu", "name": "Rất nhiều (bãi rác tự phát)"},
                    ],
                }
            ],
        ),
        (
            "Bãi rác tự phát trên vỉa hè {street}, bốc mùi hôi thối nhiều ngày.",
            "Người dân đổ trộm xà bần và rác sinh hoạt bên lề {street}.",
            "Thùng rác công cộng trên {street} đầy tràn, chưa được thu gom.",
        ),
        attributes={"khoi_luong": ("it", "nhieu", "rat_nhieu")},
        results=("Đã thu gom, vận chuyển rác và vệ sinh khu vực.", "Đã dọn sạch, cắm biển cấm đổ rác."),
    ),
    DemoCategory(
        _category(
            "ngap-nuoc",
            "Ngập nước, tắc cống thoát nước",
            "Flooding and blocked drains",
            "Hạ tầng đô thị",
            COMMUNE_COMMITTEE,
            4,
            3,
            order=40,
            attributes=[
                {
                    "code": "do_sau_cm",
                    "datatype": "number",
                    "required": False,
                    "order": 1,
                    "description": "Độ sâu ngập ước tính (cm)",
                }
            ],
        ),
        (
            "Sau mưa, {street} ngập sâu, nước rút rất chậm do miệng cống bị rác che kín.",
            "Cống thoát nước trên {street} bị tắc, nước tràn vào nhà dân.",
            "Đoạn {street} trước trường học thường xuyên ngập khi mưa lớn.",
        ),
        attributes={"do_sau_cm": (10, 20, 30, 40)},
        results=("Đã nạo vét cống, khơi thông dòng chảy.", "Đã dọn rác miệng cống và lắp song chắn rác mới."),
    ),
    DemoCategory(
        _category(
            "lan-chiem-via-he",
            "Lấn chiếm vỉa hè, lòng đường",
            "Encroachment on pavements",
            "Trật tự đô thị",
            COMMUNE_COMMITTEE,
            8,
            5,
            order=50,
        ),
        (
            "Quán ăn bày bàn ghế kín vỉa hè {street}, người đi bộ phải xuống lòng đường.",
            "Điểm bán hàng rong chiếm lòng đường {street} gây ùn tắc giờ cao điểm.",
            "Cửa hàng vật liệu xây dựng để cát đá tràn ra {street}.",
        ),
        results=(
            "Đã lập biên bản, yêu cầu thu dọn, trả lại vỉa hè.",
            "Tổ trật tự đô thị đã xử lý, nhắc nhở hộ kinh doanh.",
        ),
    ),
    DemoCategory(
        _category(
            "tieng-on",
            "Tiếng ồn, gây mất trật tự",
            "Noise and disturbance",
            "Trật tự đô thị",
            COMMUNE_COMMITTEE,
            4,
            3,
            order=60,
        ),
        (
            "Quán karaoke trên {street} hát đến khuya, ảnh hưởng giấc ngủ người dân.",
            "Xưởng cơ khí ở {street} hoạt động ồn ào cả ban đêm.",
            "Loa quảng cáo công suất lớn trên {street} mở liên tục từ sáng sớm.",
        ),
        results=("Công an xã đã kiểm tra, yêu cầu giảm âm lượng, cam kết không tái phạm.",),
    ),
    DemoCategory(
        _category(
            "cay-xanh",
            "Cây xanh gãy đổ, nguy hiểm",
            "Fallen or dangerous trees",
            "Hạ tầng đô thị",
            CONSTRUCTION,
            4,
            2,
            photo=True,
            order=70,
        ),
        (
            "Cây xanh trên {street} bị gãy nhánh lớn sau cơn mưa, chắn nửa lòng đường.",
            "Cây dầu già trên {street} nghiêng nhiều, có nguy cơ đổ vào nhà dân.",
            "Cành cây vướng vào đường dây điện trên {street}.",
        ),
        results=("Đã cắt tỉa, dọn cành gãy, thông đường.", "Đã đốn hạ cây nguy hiểm và trồng cây thay thế."),
    ),
    DemoCategory(
        _category(
            "cap-nuoc",
            "Sự cố cấp nước, vỡ ống nước",
            "Water supply problems",
            "Hạ tầng đô thị",
            CONSTRUCTION,
            8,
            3,
            order=80,
        ),
        (
            "Ống nước bị vỡ trên {street}, nước chảy lênh láng ra đường.",
            "Khu dân cư gần {street} mất nước sinh hoạt hai ngày nay.",
            "Nước máy ở khu vực {street} có màu đục, mùi lạ.",
        ),
        results=("Đơn vị cấp nước đã sửa chữa đường ống, cấp nước trở lại.",),
    ),
    DemoCategory(
        _category(
            "o-nhiem-moi-truong",
            "Ô nhiễm môi trường (khói, bụi, nước thải)",
            "Pollution (smoke, dust, wastewater)",
            "Môi trường",
            ENVIRONMENT,
            8,
            10,
            order=90,
            keywords=("ô nhiễm", "nước thải", "khói bụi"),
        ),
        (
            "Cơ sở sản xuất gần {street} xả nước thải đen ra kênh, bốc mùi nồng nặc.",
            "Lò đốt rác ở khu vực {street} gây khói bụi mù mịt vào buổi chiều.",
            "Xe chở đất không che chắn làm bụi bay khắp {street}.",
        ),
        results=("Đoàn kiểm tra đã lấy mẫu, lập biên bản, yêu cầu cơ sở khắc phục.",),
    ),
    DemoCategory(
        _category(
            "trat-tu-xay-dung",
            "Vi phạm trật tự xây dựng",
            "Building without permit",
            "Trật tự đô thị",
            COMMUNE_COMMITTEE,
            8,
            10,
            order=100,
        ),
        (
            "Công trình trên {street} xây dựng lấn ra hành lang an toàn đường bộ.",
            "Nhà dân ở {street} đang xây thêm tầng, nghi không có giấy phép.",
        ),
        results=("Đã kiểm tra hồ sơ, lập biên bản và đình chỉ thi công phần vi phạm.",),
    ),
    DemoCategory(
        _category(
            "bien-bao-giao-thong",
            "Biển báo, đèn tín hiệu giao thông hư hỏng",
            "Damaged traffic signs and signals",
            "Giao thông, hạ tầng",
            CONSTRUCTION,
            8,
            3,
            order=110,
        ),
        (
            "Đèn tín hiệu giao thông ở ngã tư {street} không hoạt động.",
            "Biển báo giao thông trên {street} bị cây che khuất, người đi đường không thấy.",
        ),
        results=(
            "Đã sửa chữa đèn tín hiệu, kiểm tra lại chu kỳ đèn.",
            "Đã dựng lại biển báo và cắt tỉa cây che khuất.",
        ),
    ),
    DemoCategory(
        _category(
            "gia-suc-duong",
            "Gia súc thả rông, xác động vật trên đường",
            "Loose livestock or dead animals on roads",
            "Môi trường",
            COMMUNE_COMMITTEE,
            4,
            2,
            order=120,
        ),
        (
            "Đàn bò thả rông trên {street} gây nguy hiểm cho xe cộ.",
            "Xác chó chết bên lề {street} bốc mùi, chưa ai dọn.",
        ),
        results=("Đã nhắc nhở chủ hộ chăn thả, dọn dẹp và tiêu độc khu vực.",),
    ),
    DemoCategory(
        _category(
            "an-toan-thuc-pham",
            "An toàn thực phẩm",
            "Food safety",
            "Y tế",
            HEALTH,
            8,
            10,
            order=130,
        ),
        (
            "Quán ăn trên {street} chế biến thực phẩm mất vệ sinh, có nhiều ruồi nhặng.",
            "Phát hiện hàng thực phẩm không rõ nguồn gốc bày bán ở chợ gần {street}.",
        ),
        results=("Đoàn liên ngành đã kiểm tra, xử phạt và tiêu hủy hàng không rõ nguồn gốc.",),
    ),
    DemoCategory(
        _category(
            "quang-cao-trai-phep",
            "Quảng cáo, rao vặt trái phép",
            "Illegal advertising",
            "Trật tự đô thị",
            COMMUNE_COMMITTEE,
            8,
            5,
            order=140,
        ),
        (
            "Tờ rơi quảng cáo dán chi chít trên cột điện dọc {street}.",
            "Băng rôn quảng cáo treo trái phép chắn tầm nhìn ở {street}.",
        ),
        results=("Đã tháo dỡ, bóc xóa quảng cáo trái phép.",),
    ),
    DemoCategory(
        _category(
            "khac",
            "Vấn đề khác",
            "Other problems",
            "Khác",
            COMMUNE_COMMITTEE,
            8,
            5,
            order=900,
        ),
        (
            "Nắp hố ga trên {street} bị mất, rất nguy hiểm cho người đi đường.",
            "Đoạn lan can cầu trên {street} bị hư hỏng.",
        ),
        results=("Đã khắc phục, bảo đảm an toàn cho người dân.",),
    ),
)


def demo_photo(rng: random.Random, label: str) -> PhotoUpload:
    """Return a generated picture plainly marked as demo material (never a real photo)."""
    hue = rng.randrange(60, 200)
    image = Image.new("RGB", (480, 360), (hue, hue - 20, 90))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(0, 440), rng.randrange(0, 320)
        draw.ellipse((x, y, x + rng.randrange(20, 90), y + rng.randrange(20, 60)), fill=(hue // 2, 70, 60))
    draw.rectangle((0, 300, 480, 360), fill=(20, 20, 20))
    draw.text((16, 318), f"DEMO - {label}", fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return PhotoUpload(file_name=f"demo-{label}.jpg", data=buffer.getvalue())


def _actor(runtime: Runtime, role: Role, name: str, agency_id: int | None = None) -> Principal:
    return Principal(
        kind=PrincipalKind.USER,
        id=None,
        name=name,
        display_name=name,
        role=role,
        scopes=runtime.scopes_for_role(role),
        agency_id=agency_id,
    )


@dataclass
class DemoContext:
    """What the demo story needs at hand."""

    session: AsyncSession
    runtime: Runtime
    rng: random.Random
    store: MediaStore
    now: datetime
    operator: Principal
    agency_ids: dict[str, int]
    points: dict[str, list[tuple[float, float]]]
    unit_names: dict[str, str]

    def staff(self, agency_code: str, head: bool = False) -> Principal:
        """Return a demo officer (or the head) of an agency."""
        role = Role.AGENCY_HEAD if head else Role.AGENCY_STAFF
        prefix = "lanhdao" if head else "canbo"
        return _actor(self.runtime, role, f"{prefix}.{agency_code.lower()}", self.agency_ids.get(agency_code))

    def hours(self, low: float, high: float) -> timedelta:
        """Return a random duration between two numbers of hours."""
        return timedelta(hours=self.rng.uniform(low, high))


async def _ensure_categories(ctx: SeedContext) -> int:
    created = 0
    for demo in DEMO_CATEGORIES:
        if await repository.category_by_code(ctx.session, demo.data.code) is None:
            await service.create_category(ctx.session, demo.data)
            created += 1
    return created


async def _sample_points(
    session: AsyncSession, rng: random.Random, units: list[org_unit.OrgUnitRead]
) -> dict[str, list[tuple[float, float]]]:
    """Return a few random points inside each commune (sampled in its box, kept if the commune holds them)."""
    points: dict[str, list[tuple[float, float]]] = {}
    for unit in units:
        if unit.bbox is None:
            continue
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in unit.bbox)
        found: list[tuple[float, float]] = []
        for _ in range(30):
            lat = round(rng.uniform(min_lat, max_lat), 6)
            lon = round(rng.uniform(min_lon, max_lon), 6)
            located = await org_unit.locate_point(session, lat, lon)
            if located is not None and located.code == unit.code:
                found.append((lat, lon))
                if len(found) == 3:
                    break
        if found:
            points[unit.code] = found
    return points


def _moment(ctx: DemoContext, days_ago: float) -> datetime:
    """Return a daytime moment (06:00–21:00 local) about `days_ago` days before now."""
    local_day = to_local(ctx.now - timedelta(days=days_ago)).date()
    minute = ctx.rng.randrange(6 * 60, 21 * 60)
    moment = datetime(local_day.year, local_day.month, local_day.day, minute // 60, minute % 60, tzinfo=PROVINCE_TZ)
    return min(ensure_utc(moment), ctx.now - timedelta(minutes=5))


def _before_now(ctx: DemoContext, moment: datetime) -> bool:
    return moment < ctx.now - timedelta(minutes=1)


async def _tell_story(ctx: DemoContext, index: int, unit_code: str, created: datetime) -> Report | None:
    """Create one report and take it as far along the workflow as its age allows."""
    rng = ctx.rng
    demo = rng.choices(DEMO_CATEGORIES, weights=(14, 9, 16, 9, 10, 6, 6, 5, 6, 5, 4, 3, 3, 3, 3))[0]
    category = demo.data
    point = rng.choice(ctx.points[unit_code])
    street = rng.choice(STREETS)
    source = rng.choices((Source.WEB, Source.APP, Source.HOTLINE), weights=(50, 25, 25))[0]
    photos = (
        [demo_photo(rng, f"{category.code}-{index}")] if category.photo_required and source != Source.HOTLINE else []
    )
    attributes = {code: rng.choice(values) for code, values in demo.attributes.items()}
    data = ReportCreate(
        category_code=category.code,
        description=rng.choice(demo.sentences).format(street=street),
        lat=point[0],
        lon=point[1],
        address=f"{street}, {ctx.unit_names.get(unit_code, unit_code)}",
        attributes={k: v for k, v in attributes.items() if v != ""},
        reporter_name=rng.choice(NAMES) if rng.random() < 0.7 else None,
        anonymous=rng.random() < 0.15,
        source=source,
    )
    submitted = await service.submit(
        ctx.session,
        ctx.runtime,
        data,
        principal=ctx.operator if source is Source.HOTLINE else None,
        uploads=photos,
        client_ip=f"198.51.100.{index % 250}",  # documentation addresses: one per demo reporter
        store=ctx.store,
        now=created,
    )
    report_id, token = submitted.id, submitted.rating_token
    session, runtime, operator = ctx.session, ctx.runtime, ctx.operator

    # The last days' reports are still waiting at the hotline more often than old ones.
    recent = ctx.now - created < timedelta(days=RECENT_DAYS)
    moment = created + ctx.hours(0.3, 6)
    if not _before_now(ctx, moment) or (recent and rng.random() < 0.3):
        return None
    if rng.random() < 0.06:
        reason = rng.choice(("spam", "out_of_scope", "insufficient_info", "duplicate"))
        await service.reject(session, runtime, report_id, operator, RejectInput(reason=reason), now=moment)
        return None
    await service.accept(session, runtime, report_id, operator, now=moment)
    moment += ctx.hours(0.1, 3)
    if not _before_now(ctx, moment) or (recent and rng.random() < 0.25):
        return None
    report = await service.assign(session, runtime, report_id, operator, AssignInput(), now=moment)
    agency = report.agency_code or ""
    if rng.random() < 0.04:
        moment += ctx.hours(2, 20)
        if not _before_now(ctx, moment):
            return report
        await service.return_report(
            session, runtime, report_id, ctx.staff(agency),
            ReturnInput(reason="Vị trí thuộc tuyến đường do tỉnh quản lý, không thuộc thẩm quyền của xã.",
                        suggested_agency_code=CONSTRUCTION),
            now=moment,
        )  # fmt: skip
        moment += ctx.hours(1, 8)
        if not _before_now(ctx, moment) or rng.random() < 0.4:
            return report
        report = await service.assign(session, runtime, report_id, operator, AssignInput(), now=moment)
        agency = report.agency_code or ""
    moment += ctx.hours(1, 30)
    # Some agencies have not picked the report up yet: recent ones often, old ones rarely (they go overdue).
    if not _before_now(ctx, moment) or rng.random() < (0.25 if recent else 0.03):
        return report
    staff = ctx.staff(agency)
    await service.start(session, runtime, report_id, staff, now=moment)
    if rng.random() < 0.06:
        await service.request_extension(
            session, runtime, report_id, staff,
            ExtensionInput(days=rng.choice((2, 3, 5)), reason="Cần phối hợp với đơn vị điện lực và chờ vật tư."),
            now=moment + timedelta(hours=2),
        )  # fmt: skip
        decide = moment + ctx.hours(4, 20)
        if _before_now(ctx, decide):
            decision = service.approve_extension if rng.random() < 0.8 else service.decline_extension
            await decision(session, runtime, report_id, ctx.staff(agency, head=True), ExtensionDecision(), now=decide)
            moment = decide
    if report.resolve_due_at is None or report.assigned_at is None:
        return report
    allowed = ensure_utc(report.resolve_due_at) - ensure_utc(report.assigned_at)
    # Most agencies finish within the deadline; about one report in six is late.
    moment = max(moment + timedelta(hours=1), ensure_utc(report.assigned_at) + allowed * rng.uniform(0.15, 1.25))
    if not _before_now(ctx, moment) or rng.random() < 0.05:
        return report
    proof = [demo_photo(rng, f"ket-qua-{index}")] if category.photo_required else []
    result = ResolveInput(result=rng.choice(demo.results))
    await service.resolve(session, runtime, report_id, staff, result, uploads=proof, store=ctx.store, now=moment)
    moment += ctx.hours(2, 72)
    if not _before_now(ctx, moment) or rng.random() < 0.35:
        return report  # unrated: the close timer ends it after the rating window
    if rng.random() < 0.86:
        await service.rate(
            session, runtime, submitted.tracking_code, RatingInput(token=token, rating="satisfied"), now=moment
        )
        return report
    await service.rate(
        session, runtime, submitted.tracking_code,
        RatingInput(token=token, rating="not_satisfied", comment="Vẫn chưa khắc phục triệt để."),
        now=moment,
    )  # fmt: skip
    moment += ctx.hours(4, 48)
    if not _before_now(ctx, moment) or rng.random() < 0.4:
        return report
    await service.start(session, runtime, report_id, staff, now=moment)
    moment += ctx.hours(8, 60)
    if _before_now(ctx, moment):
        result = ResolveInput(result="Đã xử lý bổ sung theo phản ánh lại của người dân.")
        proof = [demo_photo(rng, f"bo-sung-{index}")] if category.photo_required else []
        await service.resolve(session, runtime, report_id, staff, result, uploads=proof, store=ctx.store, now=moment)
    return report


async def _file_duplicate(ctx: DemoContext, target: Report, created: datetime) -> bool:
    """File a second report next to an open one, by phone, and merge it as operators do; tell if it worked."""
    if created <= ensure_utc(target.created_at) or not _before_now(ctx, created + timedelta(hours=1)):
        return False
    data = ReportCreate(
        category_code=target.category_code,
        description=f"Phản ánh lại vấn đề tại {target.address}, đến nay vẫn chưa thấy xử lý.",
        lat=round(target.lat + 0.0004, 6),
        lon=target.lon,
        address=target.address,
        attributes=dict(target.attributes or {}),
        source=Source.HOTLINE,
    )
    try:
        duplicate = await service.submit(
            ctx.session, ctx.runtime, data, principal=ctx.operator, store=ctx.store, now=created
        )
    except IocError:
        return False  # the point fell just across a commune border
    merge = MergeInput(into_report_id=target.id)
    await service.merge(ctx.session, ctx.runtime, duplicate.id, ctx.operator, merge, now=created + timedelta(hours=1))
    return True


async def _link_demo_staff(ctx: SeedContext) -> list[str]:
    """Give the identity module's demo agency accounts an agency, so that they can act on demo reports."""
    try:
        agency = await org_unit.get_agency(ctx.session, DEMO_STAFF_AGENCY)
    except org_unit.AgencyNotFound:
        return []
    linked: list[str] = []
    for username in DEMO_STAFF:
        user = await identity.get_user_by_username(ctx.session, username)
        # An account an administrator already placed in an agency keeps its agency.
        if user is None or user.agency_id is not None:
            continue
        await identity.update_user(ctx.session, ctx.runtime, user.id, identity.UserUpdate(agency_id=agency.id))
        linked.append(username)
    if linked:
        ctx.say(f"citizen_report: {', '.join(linked)} → {agency.name} ({agency.code})")
    return linked


async def seed_demo(ctx: SeedContext) -> None:
    """Create the demo categories, then (on an empty table only) about 300 demo reports of the last 90 days."""
    created_categories = await _ensure_categories(ctx)
    await _link_demo_staff(ctx)
    session, runtime = ctx.session, ctx.runtime
    if await repository.seeded_count(session):
        ctx.say(
            f"citizen_report: {created_categories} lĩnh vực mới / new categories; đã có phản ánh, không tạo thêm "
            "phản ánh demo / reports exist already, no demo reports added."
        )
        return
    rng = random.Random(RANDOM_SEED)  # noqa: S311 - a reproducible demo story, not a secret
    communes = await org_unit.units_valid_on(session, level=org_unit.UnitLevel.COMMUNE)
    if not communes:
        ctx.say("citizen_report: chưa có đơn vị hành chính, bỏ qua phản ánh demo / no units yet, no demo reports.")
        return
    codes = sorted(c.code for c in communes if c.bbox is not None)
    names = {c.code: c.name for c in communes}
    # Every commune gets a report; the wards (denser population) get more of the rest.
    weights = [4 if names[c].startswith("Phường") else 1 for c in codes]
    if runtime.settings.env is Environment.TEST:
        chosen = rng.choices(codes, weights=weights, k=TEST_DEMO_REPORTS)
    else:
        chosen = codes + rng.choices(codes, weights=weights, k=max(DEMO_REPORTS - len(codes), 0))
    needed = set(chosen)
    points = await _sample_points(session, rng, [c for c in communes if c.code in needed])
    chosen = [code for code in chosen if code in points]
    agency_ids: dict[str, int] = {}
    for code in {CONSTRUCTION, ENVIRONMENT, HEALTH} | {f"UBND-{c}" for c in needed}:
        try:
            agency_ids[code] = (await org_unit.get_agency(session, code)).id
        except org_unit.AgencyNotFound:
            continue
    demo = DemoContext(
        session=session,
        runtime=runtime,
        rng=rng,
        store=MediaStore.under(runtime.settings.data_dir),
        now=utc_now(),
        operator=_actor(runtime, Role.HOTLINE_OPERATOR, "tongdai1022.demo"),
        agency_ids=agency_ids,
        points=points,
        unit_names=names,
    )
    moments = sorted(_moment(demo, rng.uniform(0, DEMO_DAYS)) for _ in chosen)
    rng.shuffle(chosen)
    still_open: list[Report] = []
    merged = 0
    for index, (unit_code, created) in enumerate(zip(chosen, moments, strict=True)):
        # Now and then a second caller reports a problem that is already being handled.
        if still_open and rng.random() < DUPLICATE_SHARE:
            merged += await _file_duplicate(demo, rng.choice(still_open), created)
        report = await _tell_story(demo, index, unit_code, created)
        if report is not None and ReportStatus(report.status) in {ReportStatus.ASSIGNED, ReportStatus.IN_PROGRESS}:
            still_open.append(report)
        # One transaction holds the whole demo: forgetting finished rows keeps every flush (and its audit
        # pass over the session) small instead of growing with each report.
        await session.flush()
        session.expunge_all()
    total = await repository.seeded_count(session)
    ctx.say(
        f"citizen_report: {created_categories} lĩnh vực mới / new categories, {total} phản ánh demo / demo reports "
        f"({merged} gộp trùng / merged duplicates) trên {len(set(chosen))} xã, phường / communes."
    )
