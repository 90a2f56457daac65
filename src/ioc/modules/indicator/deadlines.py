"""Deadline reminders and late notices: which agencies still owe a report, told once each through `notification`."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ioc.core.calendar import WorkingCalendar
from ioc.core.security import Role
from ioc.core.time import local_today
from ioc.modules import identity, notification, org_unit

from . import notices, repository
from .constants import LATE_NOTICE_WINDOW_DAYS, REMINDER_WORKING_DAYS, NoticeKind
from .periods import Period, PeriodType, period_containing
from .repository import Catalog, DataSetInfo
from .service import deadline, entry_link

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from ioc.core.runtime import Runtime

log = logging.getLogger(__name__)

# How many periods back a daily run looks for a deadline in the reminder or late-notice window.
LOOK_BACK_PERIODS = 6


def reminder_from(calendar: WorkingCalendar, due: date, working_days: int = REMINDER_WORKING_DAYS) -> date:
    """Return the day reminders start: `working_days` working days before the deadline."""
    day, counted = due, 0
    while counted < working_days:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return day


def notice_kind(calendar: WorkingCalendar, due: date, today: date) -> NoticeKind | None:
    """Say which message is due today for a deadline: a reminder, a late notice, or none."""
    if today > due:
        return NoticeKind.LATE if (today - due).days <= LATE_NOTICE_WINDOW_DAYS else None
    return NoticeKind.REMINDER if today >= reminder_from(calendar, due) else None


def candidate_periods(ds: DataSetInfo, calendar: WorkingCalendar, today: date) -> list[tuple[Period, NoticeKind]]:
    """Return the recent periods of a data set whose deadline calls for a message today."""
    found = []
    period = period_containing(PeriodType(ds.period_type), today)
    for _ in range(LOOK_BACK_PERIODS):
        if ds.open_from is not None and period.end < ds.open_from:
            break
        kind = notice_kind(calendar, deadline(ds, period), today)
        if kind is not None:
            found.append((period, kind))
        period = period.previous()
    return found


async def _recipients(session: AsyncSession, agency: org_unit.AgencyRead, kind: NoticeKind) -> list[str]:
    """Return the agency's office mailbox and, for a late notice, its heads' e-mail addresses."""
    emails = [agency.email] if agency.email else []
    if kind is NoticeKind.LATE:
        heads, _total = await identity.list_users(
            session, identity.UserFilters(role=Role.AGENCY_HEAD, agency_id=agency.id, is_active=True), limit=20
        )
        emails += [h.email for h in heads if h.email]
    return list(dict.fromkeys(e.lower() for e in emails))


async def send_deadline_notices(session: AsyncSession, runtime: Runtime, today: date | None = None) -> dict[str, int]:
    """Remind agencies that have not submitted before the deadline and send late notices after it, once each."""
    day = today or local_today()
    catalog = await repository.load_catalog(session)
    sent = {NoticeKind.REMINDER.value: 0, NoticeKind.LATE.value: 0}
    for ds in catalog.data_sets.values():
        for period, kind in candidate_periods(ds, runtime.calendar, day):
            already = await repository.notices_sent(session, ds.id, period.iso, kind.value)
            for agency_id, units in (await _missing(session, catalog, ds, period)).items():
                if agency_id in already:
                    continue
                count = await _notify(session, runtime, catalog, ds, period, kind, agency_id, units)
                repository.add_notice(session, ds.id, period.iso, agency_id, kind.value, count)
                sent[kind.value] += 1
    await session.flush()
    return sent


async def _missing(session: AsyncSession, catalog: Catalog, ds: DataSetInfo, period: Period) -> dict[int, list[str]]:
    """Return, per agency, the units whose report of a period is not submitted yet."""
    ids = await repository.period_ids(session, [period.iso])
    submitted = {
        (r.unit_id, r.agency_id)
        for r in await repository.reports_for(session, [ds.id], list(ids.values()))
        if r.submitted_at is not None
    }
    missing: dict[int, list[str]] = defaultdict(list)
    for unit_id, agency_id, _code in await repository.source_counts(session, ds.id):
        unit = catalog.units_by_id[unit_id]
        in_force = unit.valid_from <= period.end and (unit.valid_to is None or unit.valid_to >= period.start)
        if in_force and (unit_id, agency_id) not in submitted:
            missing[agency_id].append(unit.code)
    return {a: sorted(u) for a, u in missing.items()}


async def _notify(
    session: AsyncSession,
    runtime: Runtime,
    catalog: Catalog,
    ds: DataSetInfo,
    period: Period,
    kind: NoticeKind,
    agency_id: int,
    units: list[str],
) -> int:
    """Send one agency its message (Vietnamese); return how many addresses it went to."""
    code = catalog.agency_codes.get(agency_id)
    if code is None:
        return 0
    try:
        agency = await org_unit.get_agency(session, code)
    except org_unit.AgencyNotFound:
        log.warning("reporting agency no longer exists", extra={"agency": code})
        return 0
    recipients = await _recipients(session, agency, kind)
    if not recipients:
        log.info("agency has no e-mail address; deadline message skipped", extra={"agency": code})
        return 0
    params = {
        "data_set": ds.code,
        "data_set_name": ds.name,
        "period": period.iso,
        "deadline": f"{deadline(ds, period):%d/%m/%Y}",
        "agency": agency.name,
        "units": ", ".join(units[:20]) + (" …" if len(units) > 20 else ""),
        "count": len(units),
        "link": entry_link(ds.code, period.iso, units[0]),
    }
    for address in recipients:
        await notification.send(
            session,
            runtime,
            channel=notification.ChannelKind.EMAIL,
            recipient=address,
            template=notices.key(kind),
            params=params,
            lang="vi",
            correlation=f"indicator:{ds.code}:{period.iso}:{code}",
        )
    return len(recipients)
