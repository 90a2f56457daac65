"""Demo data: the four content packs, reporters, and two years of plausible figures for the administrative
procedures, socio-economic, health and education packs, with a planted outlier and a late agency for the
reconciliation."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.module import SeedContext
from ioc.core.security import SYSTEM
from ioc.core.time import local_today, utc_now

from . import repository, service
from .constants import ChangeSource, ImportStrategy, ReportStatus
from .models import Report
from .periods import Period, PeriodType, period_containing, periods_between
from .repository import Catalog
from .schemas import ValueRow

DEMO_MONTHS = 24
SEED = 2025_07_01
# The commune whose last-month figure is planted as an outlier, and the agency left late, in the demo.
OUTLIER_UNIT = "25459"
LATE_UNIT = "27727"
REFORM = date(2025, 7, 1)


def demo_months(today: date) -> list[Period]:
    """Return the last DEMO_MONTHS complete months."""
    last = period_containing(PeriodType.MONTHLY, today).previous()
    return [last.shift(-i) for i in range(DEMO_MONTHS - 1, -1, -1)]


def tthc_rows(unit: str, months: list[Period], rng: random.Random, size: float) -> list[ValueRow]:
    """Generate dossier statistics that satisfy the balance identity month after month."""
    rows: list[ValueRow] = []
    carried = int(size * 6)
    for index, month in enumerate(months):
        trend = 1 + index * 0.01
        online = int(rng.gauss(size * 18 * trend, size * 2))
        in_person = max(0, int(rng.gauss(size * 14 / trend, size * 2)))
        postal = max(0, int(rng.gauss(size, size / 3)))
        online = max(0, online)
        total = carried + online + in_person + postal
        withdrawn = min(total, int(rng.random() * 3))
        workable = total - withdrawn
        resolved = int(workable * rng.uniform(0.8, 0.92))
        late = int(resolved * rng.uniform(0.0, 0.06))
        early = int((resolved - late) * rng.uniform(0.3, 0.6))
        on_time = resolved - late - early
        pending = workable - resolved
        overdue = int(pending * rng.uniform(0.0, 0.15))
        values = {
            ("TTHC_RECEIVED", "CARRIED_OVER"): carried,
            ("TTHC_RECEIVED", "ONLINE"): online,
            ("TTHC_RECEIVED", "IN_PERSON"): in_person,
            ("TTHC_RECEIVED", "POSTAL"): postal,
            ("TTHC_RESOLVED", "EARLY"): early,
            ("TTHC_RESOLVED", "ON_TIME"): on_time,
            ("TTHC_RESOLVED", "LATE"): late,
            ("TTHC_IN_PROGRESS", "WITHIN"): pending - overdue,
            ("TTHC_IN_PROGRESS", "OVERDUE"): overdue,
            ("TTHC_WITHDRAWN", "default"): withdrawn,
        }
        for (element, coc), value in values.items():
            rows.append(ValueRow(data_element=element, period=month.iso, org_unit=unit, coc=coc, value=value))
        carried = pending
    return rows


def socio_economic_rows(months: list[Period], rng: random.Random) -> list[ValueRow]:
    """Generate province-level monthly, quarterly and plan figures in the range of a large southern province."""
    rows: list[ValueRow] = []

    def add(element: str, period: str, value: float) -> None:
        rows.append(ValueRow(data_element=element, period=period, org_unit="80", value=round(value, 2)))

    for index, month in enumerate(months):
        season = 1.15 if month.start.month == 12 else (0.85 if month.start.month in (1, 2) else 1.0)
        add("SE_BUDGET_REVENUE", month.iso, rng.gauss(2900, 250) * season * (1 + index * 0.006))
        add("SE_EXPORT", month.iso, rng.gauss(2050, 120) * season * (1 + index * 0.008))
        add("SE_INVESTMENT_REG", month.iso, max(20.0, rng.gauss(260, 90)))
        add("SE_IIP", month.iso, rng.gauss(109.5, 2.0))
        add("SE_RETAIL", month.iso, rng.gauss(13500, 600) * season * (1 + index * 0.007))
        add("SE_CPI", month.iso, rng.gauss(103.2, 0.6))
    quarters = {period_containing(PeriodType.QUARTERLY, m.start) for m in months}
    for quarter in sorted(quarters):
        if quarter.end >= months[-1].end + timedelta(days=1):
            continue
        add("SE_GRDP", quarter.iso, rng.gauss(118000, 6000))
        add("SE_GRDP_GROWTH", quarter.iso, rng.gauss(8.3, 0.7))
    for year in sorted({m.start.year for m in months}):
        add("SE_BUDGET_REVENUE_PLAN", str(year), 36000 + (year - 2024) * 2500)
        add("SE_EXPORT_PLAN", str(year), 25000 + (year - 2024) * 2000)
        add("SE_GRDP_GROWTH_PLAN", str(year), 8.0 + (year - 2024) * 0.5)
    return rows


def health_rows(unit: str, months: list[Period], rng: random.Random) -> list[ValueRow]:
    """Generate monthly commune health station activity."""
    rows: list[ValueRow] = []
    for month in months:
        visits = max(50, int(rng.gauss(900, 120)))
        female = int(visits * rng.uniform(0.5, 0.58))
        inpatients = int(visits * rng.uniform(0.01, 0.03))
        for element, coc, value in (
            ("HE_OPD_VISITS", "FEMALE", female),
            ("HE_OPD_VISITS", "MALE", visits - female),
            ("HE_INPATIENTS", "FEMALE", inpatients // 2),
            ("HE_INPATIENTS", "MALE", inpatients - inpatients // 2),
            ("HE_INPATIENT_DAYS", "default", inpatients * 4),
            ("HE_BEDS_PLANNED", "default", 5),
        ):
            rows.append(ValueRow(data_element=element, period=month.iso, org_unit=unit, coc=coc, value=value))
    return rows


def school_years(today: date) -> list[Period]:
    """Return the current school year and the one before (start-of-year reports as of 30 September)."""
    current = period_containing(PeriodType.SCHOOL_YEAR, today)
    return [current.previous(), current]


# Demo orders of magnitude for a province of about 3 million people (not official figures): students per
# level, students per class, teachers per class, schools (public, private).
EDUCATION_LEVELS = {
    "PRIMARY": (250_000, 32, 1.45, (520, 12)),
    "LOWER_SEC": (190_000, 38, 1.9, (265, 6)),
    "UPPER_SEC": (105_000, 40, 2.25, (78, 11)),
}


def education_rows(years: list[Period], rng: random.Random) -> list[ValueRow]:
    """Generate province-level school statistics: schools, classes, teachers, students by level and sex, graduates."""
    rows: list[ValueRow] = []

    def add(element: str, period: str, coc: str, value: int) -> None:
        rows.append(ValueRow(data_element=element, period=period, org_unit="80", coc=coc, value=value))

    for index, year in enumerate(years):
        growth = 1 + index * 0.012
        for level, (students, per_class, teachers_per_class, (public, private)) in EDUCATION_LEVELS.items():
            total = int(students * growth * rng.uniform(0.98, 1.02))
            female = int(total * rng.uniform(0.475, 0.492))
            classes = round(total / per_class)
            private_classes = round(classes * private / (public + private) * 0.6)
            teachers = round(classes * teachers_per_class * rng.uniform(0.97, 1.03))
            female_teachers = int(teachers * rng.uniform(0.62, 0.78))
            add("ED_SCHOOLS", year.iso, f"{level}_PUBLIC", public)
            add("ED_SCHOOLS", year.iso, f"{level}_PRIVATE", private + index)
            add("ED_CLASSES", year.iso, f"{level}_PUBLIC", classes - private_classes)
            add("ED_CLASSES", year.iso, f"{level}_PRIVATE", private_classes)
            add("ED_STUDENTS", year.iso, f"{level}_FEMALE", female)
            add("ED_STUDENTS", year.iso, f"{level}_MALE", total - female)
            add("ED_TEACHERS", year.iso, f"{level}_FEMALE", female_teachers)
            add("ED_TEACHERS", year.iso, f"{level}_MALE", teachers - female_teachers)
        candidates = int(EDUCATION_LEVELS["UPPER_SEC"][0] * growth / 3 * rng.uniform(0.95, 1.0))
        add("ED_GRAD_CANDIDATES", year.iso, "default", candidates)
        add("ED_GRADUATES", year.iso, "default", int(candidates * rng.uniform(0.985, 0.996)))
    return rows


async def seed_demo(ctx: SeedContext) -> None:
    """Load the packs and two years of demo figures; a second run changes nothing."""
    session = ctx.session
    await service.sync_from_org_unit(session)
    packs = service.pack_files()
    for pack in packs.values():
        await service.load_pack(session, pack)
    catalog = await repository.load_catalog(session)
    for pack in packs.values():
        for ds in pack["data_sets"]:
            await service.assign_reporters(session, catalog, ds["code"], ds["reporters"])
    await service.assign_old_unit_reporters(session, await repository.load_catalog(session), "TTHC_MONTHLY")
    catalog = await repository.load_catalog(session)
    today = local_today()
    months = demo_months(today)
    message = await seed_figures(session, catalog, months, today)
    ctx.say(f"indicator: {len(packs)} gói chỉ tiêu / content packs; {message}")


async def seed_figures(session: AsyncSession, catalog: Catalog, months: list[Period], today: date) -> str:
    """Store demo figures for some months and mark their reports; skip if the last month has reports."""
    if await repository.period_ids(session, [months[-1].iso]) and any(
        await repository.reports_for(
            session,
            [catalog.data_sets["TTHC_MONTHLY"].id],
            list((await repository.period_ids(session, [months[-1].iso])).values()),
        )
    ):
        return "dữ liệu mẫu đã có / demo figures already present."
    rng = random.Random(SEED)  # noqa: S311 - demo figures, not secrets
    rows: list[ValueRow] = []
    new_communes = sorted(u.code for vs in catalog.units.values() for u in vs if u.level == "commune")
    old_communes = sorted(u.code for vs in catalog.units.values() for u in vs if u.level == "commune_pre2025")
    before = [m for m in months if m.end < REFORM]
    after = [m for m in months if m.start >= REFORM]
    for code in old_communes:
        rows.extend(tthc_rows(code, before, rng, rng.uniform(0.5, 1.5)))
    for code in new_communes:
        rows.extend(tthc_rows(code, after, rng, rng.uniform(1.5, 4.0)))
        rows.extend(health_rows(code, after, rng))
    # The planted outlier: one commune's online intake last month is ten times its usual level.
    for row in rows:
        if row.org_unit == OUTLIER_UNIT and row.period == months[-1].iso and row.coc == "ONLINE":
            row.value = int(row.value) * 10
            carried = next(
                r for r in rows if r.org_unit == OUTLIER_UNIT and r.period == months[-1].iso and r.coc == "WITHIN"
            )
            carried.value = int(carried.value) + int(row.value) - int(row.value) // 10
    rows.extend(socio_economic_rows(months, rng))
    rows.extend(education_rows(school_years(today), rng))
    quarters = sorted({period_containing(PeriodType.QUARTERLY, m.start) for m in months})
    for quarter in quarters[:-1]:
        for group, base in (
            ("CKMB", 15.5),
            ("TDGQ", 17.0),
            ("TTTT", 9.5),
            ("CLGQ", 7.5),
            ("MDSH", 16.0),
            ("MDHL", 15.0),
        ):
            rows.append(
                ValueRow(
                    data_element="IDX766_SCORE",
                    period=quarter.iso,
                    org_unit="80",
                    coc=group,
                    value=round(min(base * 1.15, rng.gauss(base, 0.8)), 2),
                )
            )
    summary = await service.import_rows(
        session,
        catalog,
        rows,
        SYSTEM,
        strategy=ImportStrategy.STORE_VALID,
        source=ChangeSource.SEED,
        check_calendar=False,
    )
    reports = await _seed_reports(session, catalog, months, rng, today)
    return f"{summary.imported} giá trị / values ({summary.refused} bị từ chối / refused), {reports} báo cáo / reports."


async def _seed_reports(
    session: AsyncSession, catalog: Catalog, months: list[Period], rng: random.Random, today: date
) -> int:
    """Mark past reports submitted, approved and accepted; leave the demo's late agency unsubmitted last month."""
    count = 0
    rows: list[dict[str, object]] = []
    for ds in catalog.data_sets.values():
        kind = PeriodType(ds.period_type)
        periods = [p for p in periods_between(kind, months[0].start, months[-1].end) if p.end < today]
        ids = await repository.ensure_periods(session, periods)
        for (ds_id, unit_id), agencies in catalog.sources.items():
            if ds_id != ds.id:
                continue
            unit = catalog.units_by_id[unit_id]
            for period in periods:
                if unit.valid_to is not None and period.start > unit.valid_to:
                    continue
                if period.end < unit.valid_from:
                    continue
                for agency_id in agencies:
                    last = period == periods[-1]
                    if last and unit.code == LATE_UNIT and ds.code == "TTHC_MONTHLY":
                        continue
                    due = service.deadline(ds, period)
                    late = rng.random() < 0.08
                    submitted = (
                        due + timedelta(days=rng.randint(1, 6)) if late else due - timedelta(days=rng.randint(0, 4))
                    )
                    at = min(utc_now(), utc_now() - timedelta(days=(today - submitted).days))
                    status = ReportStatus.SUBMITTED if last else ReportStatus.ACCEPTED
                    rows.append(
                        {
                            "data_set_id": ds.id,
                            "period_id": ids[period.iso],
                            "unit_id": unit_id,
                            "agency_id": agency_id,
                            "status": status.value,
                            "submitted_at": at,
                            "submitted_by": "demo",
                            "on_time": not late,
                            "approved_at": None if last else at,
                            "approved_by": None if last else "demo",
                            "accepted_at": None if last else at,
                            "accepted_by": None if last else "demo",
                        }
                    )
                    count += 1
    for start in range(0, len(rows), repository.CHUNK):
        await session.execute(insert(Report), rows[start : start + repository.CHUNK])
    return count
