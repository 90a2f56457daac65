"""Intake's in-memory copies (categories, boundaries, routes) and the agency list of the org_unit facade."""

from __future__ import annotations

import pytest

from ioc.core.runtime import Runtime
from ioc.modules import org_unit
from ioc.modules.citizen_report import service
from ioc.modules.citizen_report.exceptions import UnknownCategory
from ioc.modules.citizen_report.lookups import lookups_for
from ioc.modules.citizen_report.schemas import CategoryUpdate

from .conftest import COMMUNE_AGENCY, FAR_IN_OTHER_COMMUNE, INSIDE, OUTSIDE, ROAD_AGENCY, TAN_NINH, Categories, Submit


async def test_copies_answer_as_org_unit_and_follow_category_changes(
    runtime: Runtime, categories: Categories, submit: Submit
) -> None:
    lookups = lookups_for(runtime)
    async with runtime.db.session() as session:
        for point in (INSIDE, FAR_IN_OTHER_COMMUNE, OUTSIDE):
            located = await org_unit.locate_point(session, *point)
            assert await lookups.unit_code(session, *point) == (located.code if located else None)
        assert await lookups.unit_code(session, *INSIDE) == TAN_NINH

    first = await submit()
    assert first.unit_code == TAN_NINH
    assert first.suggested_agency_code == COMMUNE_AGENCY

    # A category changed in this process is seen by the very next submission: routing, then deactivation.
    async with runtime.db.transaction() as session:
        current = await service.get_category(session, "rac-thai")
        fields = current.model_dump(include=set(CategoryUpdate.model_fields))
        await service.update_category(
            session, "rac-thai", CategoryUpdate(**{**fields, "default_agency_code": ROAD_AGENCY})
        )
    assert (await submit()).suggested_agency_code == ROAD_AGENCY
    async with runtime.db.transaction() as session:
        await service.update_category(session, "rac-thai", CategoryUpdate(**{**fields, "active": False}))
    with pytest.raises(UnknownCategory):
        await submit()


async def test_org_unit_lists_every_agency(runtime: Runtime, categories: Categories) -> None:
    async with runtime.db.session() as session:
        agencies = await org_unit.list_agencies(session)
        codes = [a.code for a in agencies]
        assert {COMMUNE_AGENCY, ROAD_AGENCY} <= set(codes)
        assert all(a.is_active for a in agencies)
        committees = await org_unit.list_agencies(session, kind=org_unit.AgencyKind.COMMUNE_COMMITTEE)
        assert COMMUNE_AGENCY in {a.code for a in committees}
        assert ROAD_AGENCY not in {a.code for a in committees}
        for_commune = {a.code for a in await org_unit.list_agencies(session, unit=TAN_NINH)}
        assert COMMUNE_AGENCY in for_commune
        assert len(for_commune) < len(codes)
