"""Events the org_unit module publishes; consumers use them to refresh maps and cached lookups."""

from __future__ import annotations

from typing import ClassVar

from ioc.core.events import Audience, DomainEvent


class UnitsImported(DomainEvent):
    """Administrative units were created or changed by an import."""

    event_name: ClassVar[str] = "org_unit.units_imported"
    audience: ClassVar[Audience] = "public"  # counts and public unit codes only

    created: int
    updated: int
    codes: list[str]


class BoundariesImported(DomainEvent):
    """Boundaries of administrative units were replaced by an import."""

    event_name: ClassVar[str] = "org_unit.boundaries_imported"
    audience: ClassVar[Audience] = "public"

    updated: int
    codes: list[str]
    geometry_source: str
