"""The org_unit facade as other modules use it, the demo seed, and the rules of unit imports."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from shapely.geometry import shape
from sqlalchemy import func, select

from ioc.core.models import OutboxEvent
from ioc.core.runtime import Runtime
from ioc.modules import org_unit
from ioc.modules.org_unit import service
from ioc.modules.org_unit.exceptions import OrgUnitImportFailed
from ioc.modules.org_unit.models import Agency, AgencyArea, OrgUnit

from .conftest import COMMUNE_COUNT, DEMO_UNIT_COUNT, run_seed

HANOI = (21.03, 105.85)


def _cell(schematic: dict[str, Any], code: str) -> Any:
    return next(shape(f["geometry"]) for f in schematic["features"] if f["properties"]["code"] == code)


async def _count(runtime: Runtime, model: type[Any]) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class TestSeed:
    async def test_seed_twice_still_gives_97_units_and_the_same_agencies(self, runtime: Runtime) -> None:
        first = await run_seed(runtime)
        counts = (await _count(runtime, OrgUnit), await _count(runtime, Agency), await _count(runtime, AgencyArea))
        second = await run_seed(runtime)
        assert counts[0] == DEMO_UNIT_COUNT
        assert counts[1] == 13 + COMMUNE_COUNT
        assert counts[2] == counts[1]  # one area each: the province, or the committee's own commune
        assert (await _count(runtime, OrgUnit), await _count(runtime, Agency), await _count(runtime, AgencyArea)) == (
            counts
        )
        assert "97 mới / new" in first[0]
        assert "0 mới / new" in second[0]
        assert "schematic" in second[0]

    async def test_seed_announces_its_imports_as_events(self, runtime: Runtime) -> None:
        await run_seed(runtime)
        async with runtime.db.session() as session:
            names = list(await session.scalars(select(OutboxEvent.name).order_by(OutboxEvent.id)))
        assert names == ["org_unit.units_imported", "org_unit.boundaries_imported", "org_unit.boundaries_imported"]
        await run_seed(runtime)
        assert await _count(runtime, OutboxEvent) == len(names)  # nothing changed, nothing announced


@pytest.mark.usefixtures("seeded")
class TestFacade:
    async def test_locate_point_returns_the_commune_or_none(self, runtime: Runtime, schematic: dict[str, Any]) -> None:
        point = _cell(schematic, "27727").point_on_surface()
        async with runtime.db.session() as session:
            found = await org_unit.locate_point(session, point.y, point.x)
            outside = await org_unit.locate_point(session, *HANOI)
            before_reform = await org_unit.locate_point(session, point.y, point.x, on=date(2025, 6, 30))
        assert isinstance(found, org_unit.OrgUnitRead)
        assert (found.code, found.name, found.level) == ("27727", "Xã Hưng Điền", org_unit.UnitLevel.COMMUNE)
        assert found.schematic is True
        assert outside is None
        assert before_reform is None  # the demo holds no unit valid before 1 July 2025

    async def test_get_unit_and_units_within(self, runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            province = await org_unit.get_unit(session, "80")
            missing = await org_unit.get_unit(session, "00000")
            within = await org_unit.units_within(session, "80")
            inside_commune = await org_unit.units_within(session, "27727")
        assert province is not None
        assert province.name == "Tỉnh Tây Ninh"
        assert missing is None
        assert len(within) == COMMUNE_COUNT
        assert "27727" in within
        assert "80" not in within
        assert inside_commune == []

    async def test_units_within_an_unknown_unit_is_an_error(self, runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            with pytest.raises(org_unit.UnitNotFound):
                await org_unit.units_within(session, "00000")

    async def test_agencies_for_a_commune_start_with_its_own_committee(self, runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            agencies = await org_unit.agencies_for_unit(session, "27727")
            for_province = await org_unit.agencies_for_unit(session, "80")
        assert agencies[0].code == "UBND-27727"
        assert agencies[0].name == "UBND xã Hưng Điền"
        assert {a.code for a in agencies[1:]} == {a.code for a in for_province}
        assert len(for_province) == 13
        assert all(isinstance(a, org_unit.AgencyRead) for a in agencies)

    async def test_agencies_for_a_point(self, runtime: Runtime, schematic: dict[str, Any]) -> None:
        point = _cell(schematic, "25459").point_on_surface()
        async with runtime.db.session() as session:
            agencies = await org_unit.agencies_for_point(session, point.y, point.x)
            nobody = await org_unit.agencies_for_point(session, *HANOI)
        assert agencies[0].code == "UBND-25459"
        assert nobody == []

    async def test_ancestors_and_children(self, runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            ancestors = await org_unit.ancestors(session, "27727")
            children = await org_unit.children(session, "80")
        assert [a.code for a in ancestors] == ["80"]
        assert len(children) == COMMUNE_COUNT

    async def test_a_new_boundary_replaces_the_cached_one(self, runtime: Runtime, schematic: dict[str, Any]) -> None:
        old_point = _cell(schematic, "27727").point_on_surface()
        elsewhere = _cell(schematic, "25459").point_on_surface()
        async with runtime.db.session() as session:
            assert (await service.locate(session, old_point.y, old_point.x)).code == "27727"  # type: ignore[union-attr]
        # Move 27727 to a small square around a point of another cell (a deliberately wrong boundary).
        square = [[elsewhere.x + dx, elsewhere.y + dy] for dx, dy in ((-1e-3, -1e-3), (1e-3, -1e-3), (1e-3, 1e-3))]
        ring = [*square, [elsewhere.x - 1e-3, elsewhere.y + 1e-3], square[0]]
        geojson = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"code": "27727"},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            ],
        }
        async with runtime.db.transaction() as session:
            await service.import_boundaries_geojson(session, json.dumps(geojson).encode())
        async with runtime.db.session() as session:
            at_old = await service.locate(session, old_point.y, old_point.x)
            at_new = await service.locate(session, elsewhere.y, elsewhere.x)
        assert at_old is not None
        assert at_old.code == "80"  # no commune covers the old place any more
        assert at_new is not None
        assert at_new.code == "27727"  # on overlap the smaller unit wins


class TestUnitImportRules:
    async def test_versions_of_one_code_may_not_overlap(self, runtime: Runtime) -> None:
        csv_text = (
            "code,name,level,valid_from,valid_to\n"
            "80,Tỉnh Long An,province,1976-02-01,\n"
            "80,Tỉnh Tây Ninh,province,2025-07-01,\n"
        )
        async with runtime.db.transaction() as session:
            with pytest.raises(OrgUnitImportFailed) as caught:
                await service.import_units_csv(session, csv_text.encode())
        assert [(p.row, p.column) for p in caught.value.problems] == [(3, "valid_from")]
        assert await _count(runtime, OrgUnit) == 0

    async def test_an_open_version_must_be_closed_before_a_new_one_starts(self, runtime: Runtime) -> None:
        await run_seed(runtime)
        async with runtime.db.transaction() as session:
            with pytest.raises(OrgUnitImportFailed):
                await service.import_units_csv(
                    session, b"code,name,level,valid_from\n80,T\xe1\xbb\x89nh T\xc3\xa2y Ninh,province,2030-01-01\n"
                )
        closing = "code,name,level,valid_from,valid_to\n80,Tỉnh Tây Ninh,province,2025-07-01,2029-12-31\n"
        opening = "80,Tỉnh Tây Ninh mới,province,2030-01-01,\n"
        async with runtime.db.transaction() as session:
            report = await service.import_units_csv(session, (closing + opening).encode())
        assert (report.created, report.updated) == (1, 1)
        async with runtime.db.session() as session:
            current = await org_unit.get_unit(session, "80")
            now = await org_unit.get_unit(session, "80", date(2026, 1, 1))
            later = await org_unit.get_unit(session, "80", date(2030, 1, 1))
            # The communes still point at the 2025 version; their ancestors follow the code to the new one.
            ancestors_later = await org_unit.ancestors(session, "27727", date(2030, 1, 1))
        assert now is not None
        assert later is not None
        assert (now.name, later.name) == ("Tỉnh Tây Ninh", "Tỉnh Tây Ninh mới")
        assert current is not None
        assert current.name == "Tỉnh Tây Ninh"  # without a date: today's version, not the planned one
        assert [a.name for a in ancestors_later] == ["Tỉnh Tây Ninh mới"]

    async def test_parent_links_may_not_form_a_cycle(self, runtime: Runtime) -> None:
        csv_text = (
            "code,name,level,parent_code,valid_from\n"
            "A1,Đơn vị A,district,B1,2025-07-01\n"
            "B1,Đơn vị B,district,A1,2025-07-01\n"
        )
        async with runtime.db.transaction() as session:
            with pytest.raises(OrgUnitImportFailed) as caught:
                await service.import_units_csv(session, csv_text.encode())
        assert {(p.row, p.column) for p in caught.value.problems} == {(2, "parent_code"), (3, "parent_code")}

    async def test_children_may_come_before_their_parent_in_the_file(self, runtime: Runtime) -> None:
        csv_text = (
            "code,name,level,parent_code,valid_from\n"
            "X2,Ấp Hai,commune,X1,2025-07-01\n"
            "X1,Xã Một,commune,X0,2025-07-01\n"
            "X0,Tỉnh Không,province,,2025-07-01\n"
        )
        async with runtime.db.transaction() as session:
            report = await service.import_units_csv(session, csv_text.encode())
        assert report.created == 3
        async with runtime.db.session() as session:
            assert [a.code for a in await org_unit.ancestors(session, "X2", date(2025, 8, 1))] == ["X0", "X1"]
            assert await org_unit.units_within(session, "X0", date(2025, 8, 1)) == ["X1", "X2"]
