"""HTTP routes of the working calendar: read the holidays of a year, record the Government's decisions."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from .calendar import HOLIDAY, WORKING_DAY
from .errors import NotFound
from .http import db_session
from .models import CalendarDay
from .runtime import Runtime
from .security import Principal, require_scope

CALENDAR_WRITE = "calendar:write"

router = APIRouter(prefix="/calendar", tags=["calendar"])


class CalendarDayRead(BaseModel):
    """A day off (or a make-up working day) of the year."""

    day: date
    kind: Literal["holiday", "working_day"]
    name: str
    source: Literal["law", "override"]


class CalendarDayWrite(BaseModel):
    """An override decided for one day."""

    kind: Literal["holiday", "working_day"]
    name: str = Field(min_length=1, max_length=200)


class YearRead(BaseModel):
    """The calendar of a year: holidays and make-up working days."""

    year: int
    days: list[CalendarDayRead]
    working_days: int


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/{year}", response_model=YearRead, summary="Ngày nghỉ lễ trong năm / holidays of a year")
async def read_year(request: Request, year: int = Path(ge=1900, le=2100)) -> YearRead:
    """List the year's holidays (law and overrides) and count its working days."""
    calendar = _runtime(request).calendar
    overrides = calendar.overrides
    days = [
        CalendarDayRead(day=d, kind=HOLIDAY, name=name, source="override" if d in overrides else "law")
        for d, name in sorted(calendar.holidays(year).items())
    ]
    days += [
        CalendarDayRead(day=d, kind=WORKING_DAY, name=name, source="override")
        for d, (kind, name) in sorted(overrides.items())
        if kind == WORKING_DAY and d.year == year
    ]
    count = sum(
        1
        for offset in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)
        if calendar.is_working_day(date.fromordinal(date(year, 1, 1).toordinal() + offset))
    )
    return YearRead(year=year, days=sorted(days, key=lambda d: d.day), working_days=count)


@router.put("/days/{day}", response_model=CalendarDayRead, summary="Ghi quyết định nghỉ / record an override")
async def put_day(
    day: date,
    body: CalendarDayWrite,
    request: Request,
    session: AsyncSession = Depends(db_session),
    _principal: Principal = Depends(require_scope(CALENDAR_WRITE)),
) -> CalendarDayRead:
    """Record a decided holiday or make-up working day."""
    row = await session.get(CalendarDay, day)
    if row is None:
        session.add(CalendarDay(day=day, kind=body.kind, name=body.name))
    else:
        row.kind, row.name = body.kind, body.name
    await session.commit()
    await _runtime(request).load_calendar()
    return CalendarDayRead(day=day, kind=body.kind, name=body.name, source="override")


@router.delete("/days/{day}", status_code=204, summary="Bỏ quyết định / remove an override")
async def delete_day(
    day: date,
    request: Request,
    session: AsyncSession = Depends(db_session),
    _principal: Principal = Depends(require_scope(CALENDAR_WRITE)),
) -> None:
    """Remove an override; the day goes back to the rule of the law."""
    row = await session.get(CalendarDay, day)
    if row is None:
        raise NotFound("Ngày này không có quyết định riêng.", "This day has no override.")
    await session.delete(row)
    await session.commit()
    await _runtime(request).load_calendar()
