"""How one audit entry is laid out as a before/after table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ioc.modules.audit import AuditEntryRead, FieldChange, field_changes

pytestmark = pytest.mark.engine_free  # no database: run once, in the SQLite pass


def _entry(action: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> AuditEntryRead:
    return AuditEntryRead(
        id=1,
        occurred_at=datetime(2025, 7, 1, 3, 0, tzinfo=UTC),
        actor_id=7,
        actor_name="nguyenvana",
        actor_kind="user",
        action=action,
        entity_type="org_unit_agency",
        entity_id="15",
        before=before,
        after=after,
    )


def test_update_shows_each_changed_column_before_and_after() -> None:
    entry = _entry("update", {"phone": None, "tags": ["cũ"]}, {"phone": "0276 3822 123", "tags": ["môi trường"]})
    assert field_changes(entry) == [
        FieldChange(field="phone", before=None, after="0276 3822 123", changed=True),
        FieldChange(field="tags", before='["cũ"]', after='["môi trường"]', changed=True),
    ]


def test_creation_has_only_after_values_and_empty_columns_are_not_changes() -> None:
    entry = _entry("create", None, {"id": 15, "name": "Sở Tài nguyên và Môi trường", "email": None})
    assert field_changes(entry) == [
        FieldChange(field="id", before=None, after="15", changed=True),
        FieldChange(field="name", before=None, after="Sở Tài nguyên và Môi trường", changed=True),
        FieldChange(field="email", before=None, after=None, changed=False),
    ]


def test_deletion_has_only_before_values() -> None:
    entry = _entry("delete", {"id": 15, "active": True, "bounds": {"lat": 11.3}}, None)
    assert field_changes(entry) == [
        FieldChange(field="id", before="15", after=None, changed=True),
        FieldChange(field="active", before="true", after=None, changed=True),
        FieldChange(field="bounds", before='{"lat": 11.3}', after=None, changed=True),
    ]


def test_recorded_actions_list_every_field_they_mention() -> None:
    entry = _entry("login_failed", None, {"ip": "10.80.1.5"})
    assert [change.field for change in field_changes(entry)] == ["ip"]
