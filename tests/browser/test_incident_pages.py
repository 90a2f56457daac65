"""Incidents in a real headless Chromium: open from an alarm, give two agencies a task each, see one escalate live."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select, update
from tests.browser.conftest import BrowserLogin
from tests.browser.page_checks import check_page, switch_language
from tests.conftest import UserFactory

from ioc.core.models import Job
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.time import utc_now
from ioc.modules import org_unit
from ioc.modules.alarm.service import Firing, fire
from ioc.modules.incident.constants import OVERDUE_JOB
from ioc.modules.incident.models import IncidentTask

pytestmark = pytest.mark.browser

TAN_NINH = (11.61507, 105.86238)


async def _raise_alarm(runtime: Runtime) -> int:
    async with runtime.db.transaction() as session:
        alarm = await fire(
            session,
            None,
            Firing(
                rule_id=None,
                severity="critical",
                title="Mực nước rạch Tây Ninh vượt báo động 3",
                source_kind="datastream",
                source_ref="muc-nuoc-rach-tay-ninh-bt",
                at=utc_now(),
                unit_code="25459",
                lat=TAN_NINH[0],
                lon=TAN_NINH[1],
            ),
        )
        assert alarm is not None
        return alarm.id


async def _let_task_run_late(runtime: Runtime, title: str) -> int:
    """Move a task's deadline (and its timer) a minute into the past, as if the office hours had gone by."""
    past = utc_now() - timedelta(minutes=1)
    async with runtime.db.transaction() as session:
        task = await session.scalar(select(IncidentTask).where(IncidentTask.title == title))
        assert task is not None
        task.due_at = past
        await session.execute(
            update(Job)
            .where(Job.dedupe_key == f"{OVERDUE_JOB}:{task.id}")
            .values(run_at=past, payload={"task_id": task.id, "due_at": past.isoformat()})
        )
        return task.id


async def _assign(page: Page, agency: str, title: str, hours: str, doer: str | None = None) -> None:
    form = page.locator("#form-task")
    await form.get_by_label("Cơ quan").select_option(agency)
    await form.get_by_label("Nhiệm vụ").fill(title)
    await form.get_by_label("Thời hạn (giờ)").fill(hours)
    if doer is not None:
        # The user picker: type part of a name, take the suggestion with the keyboard.
        picker = form.locator('[data-user-picker][data-name="assignee_id"]')
        await picker.get_by_role("combobox").fill(doer.split()[-2])
        await expect(picker.get_by_role("option")).to_have_text([doer])
        await picker.get_by_role("combobox").press("ArrowDown")
        await picker.get_by_role("combobox").press("Enter")
        await expect(picker.locator("[data-user-chosen] li")).to_contain_text(doer)
    await form.get_by_role("button", name="Giao nhiệm vụ").click()
    await expect(page.locator("#incident-task-table")).to_contain_text(title)
    if doer is not None:
        await expect(page.locator("#incident-task-table [data-task-assignee]")).to_contain_text(doer)


async def test_incident_from_alarm_two_agencies_one_overdue_escalates_live(
    page: Page, browser_login: BrowserLogin, runtime: Runtime, make_user: UserFactory
) -> None:
    alarm_id = await _raise_alarm(runtime)
    async with runtime.db.session() as session:
        ward = (await org_unit.get_agency(session, "UBND-25459")).id
    await make_user(Role.AGENCY_STAFF, display_name="Cán bộ Lê Thị Mai", agency_id=ward)
    await browser_login(page, role=Role.HOTLINE_OPERATOR, email="trucban@tayninh.gov.vn")
    await page.goto("/incidents")
    await check_page(page, "vi")
    await expect(page.locator("#incident-map")).to_have_attribute("data-incident-markers", "2")
    await page.get_by_role("link", name="Mở sự cố").click()
    await check_page(page, "vi")

    alarm_form = page.locator("#form-from-alarm")
    await alarm_form.get_by_label("Số cảnh báo").fill(str(alarm_id))
    await alarm_form.get_by_label("Loại sự cố").select_option("flooding")
    await alarm_form.get_by_role("button", name="Mở sự cố").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mực nước rạch Tây Ninh vượt báo động 3")
    await expect(page.locator("#incident-badges")).to_contain_text("Nghiêm trọng")
    await expect(page.locator("#incident-links")).to_contain_text(f"#{alarm_id}")
    await expect(page.locator("#incident-map")).to_have_attribute("data-incident-markers", "1")
    await expect(page.locator("#incident-checklist li")).to_have_count(8)
    await check_page(page, "vi")

    await _assign(page, "UBND-25459", "Di dời các hộ dân vùng trũng", "2", doer="Cán bộ Lê Thị Mai")
    await _assign(page, "80-SXD", "Bố trí máy bơm tiêu úng", "8")
    await page.locator("#form-log").get_by_label("Nội dung").fill("Yêu cầu lực lượng xung kích phường có mặt ngay.")
    await page.locator("#form-log").get_by_role("button", name="Ghi vào nhật ký").click()
    await expect(page.locator("#incident-log li").first).to_contain_text("lực lượng xung kích")
    first_step = page.locator("#incident-checklist li").first
    await first_step.get_by_role("button").click()
    await expect(page.locator("#incident-checklist li").first).to_have_attribute("data-done", "true")

    # The ward's two office hours go by: the timer fires in the server and the page updates without a reload.
    late = await _let_task_run_late(runtime, "Di dời các hộ dân vùng trũng")
    await expect(page.locator(f'tr[data-task="{late}"] [data-escalated]')).to_be_visible(timeout=15_000)
    await expect(page.locator("#incident-log li").first).to_contain_text("quá hạn")
    await expect(page.locator("tr[data-overdue]")).to_have_count(1)

    report = await page.request.get(await page.locator('[data-report-format="pdf"]').get_attribute("href") or "")
    assert report.status == 200
    assert (await report.body()).startswith(b"%PDF")

    await switch_language(page, "en")
    await expect(page.locator("#tasks-title")).to_have_text("Agencies' tasks")
    await check_page(page, "en")


async def test_incident_agency_staff_work_their_own_tasks(
    page: Page, browser_login: BrowserLogin, runtime: Runtime
) -> None:
    async with runtime.db.session() as session:
        ward = (await org_unit.get_agency(session, "UBND-25459")).id
    await browser_login(page, role=Role.AGENCY_STAFF, agency_id=ward)
    await page.goto("/incident-tasks")
    await check_page(page, "vi")
    task = page.locator("article.incident-task").first
    await expect(task).to_contain_text("Hỗ trợ di dời người và tài sản")
    await expect(page.locator("article.incident-task")).to_have_count(1)  # the construction department's is not here
    await task.get_by_label("Báo cáo tiến độ").fill("Đã di dời 8 hộ, còn 4 hộ đang vận động.")
    await task.get_by_role("button", name="Gửi báo cáo").click()
    await expect(page).to_have_url("/incident-tasks#task-" + (await task.get_attribute("data-task") or ""))
    done = page.locator("article.incident-task").first
    await done.get_by_label("Kết quả").fill("Đã di dời toàn bộ 12 hộ đến nơi an toàn.")
    await done.get_by_role("button", name="Báo cáo hoàn thành").click()
    await expect(page.get_by_text("Cơ quan của bạn hiện không có nhiệm vụ nào đang chờ.")).to_be_visible()
    await page.get_by_role("link", name="Cả nhiệm vụ đã xong").click()
    await expect(page.locator("article.incident-task").first).to_have_attribute("data-task-status", "done")
    await check_page(page, "vi")
    # The ward's staff see the incidents their agency has a task in, not the others (row level).
    listed = await page.request.get("/incidents")
    assert listed.status == 200
    assert "Ngập sâu sau mưa lớn tại khu dân cư phường Tân Ninh" in await listed.text()
    assert "Vàm Cỏ Đông" not in await listed.text()


async def test_incident_command_moves_a_task_to_another_agency_and_person_with_the_picker(
    page: Page, browser_login: BrowserLogin, runtime: Runtime, make_user: UserFactory
) -> None:
    async with runtime.db.session() as session:
        construction = (await org_unit.get_agency(session, "80-SXD")).id
        task = await session.scalar(
            select(IncidentTask).where(IncidentTask.title.startswith("Hỗ trợ di dời người và tài sản"))
        )
        assert task is not None
    await make_user(Role.AGENCY_STAFF, display_name="Kỹ sư Đỗ Văn Phúc", agency_id=construction)
    await browser_login(page, role=Role.HOTLINE_OPERATOR)
    await page.goto(f"/incidents/{task.incident_id}")
    row = page.locator(f'tr[data-task="{task.id}"]')
    await row.locator("[data-reassign] summary").click()
    form = page.locator(f"#form-reassign-{task.id}")
    await form.get_by_label("Cơ quan thực hiện").select_option("80-SXD")
    # The picker follows the agency chosen above: it offers the construction department's engineer.
    picker = form.locator("[data-user-picker]")
    await expect(picker).to_have_attribute("data-picker-ready", "true")  # the component loads lazily
    await picker.get_by_role("combobox").fill("Phúc")
    await expect(picker.get_by_role("option")).to_have_text(["Kỹ sư Đỗ Văn Phúc"])
    await picker.get_by_role("combobox").press("ArrowDown")
    await picker.get_by_role("combobox").press("Enter")
    await form.get_by_label("Lý do").fill("Cần máy móc chuyên dụng")
    await check_page(page, "vi")
    await form.get_by_role("button", name="Giao lại nhiệm vụ").click()
    await expect(row).to_contain_text("80-SXD")
    await expect(row.locator("[data-task-assignee]")).to_contain_text("Kỹ sư Đỗ Văn Phúc")
    await expect(page.locator("#incident-log li").first).to_contain_text("Chuyển nhiệm vụ")
    await expect(page.locator("#incident-log li").first).to_contain_text("Lý do: Cần máy móc chuyên dụng")
