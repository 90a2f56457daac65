"""Fixtures of the audit module tests: a small audit trail with known times, actors and changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ioc.core.models import AuditEntry
from ioc.core.runtime import Runtime

# What the kernel writes for a few days of work, at fixed times so that period filters can be checked.
TRAIL: dict[str, dict[str, Any]] = {
    "holiday_created": {
        "occurred_at": datetime(2025, 7, 1, 1, 30, tzinfo=UTC),  # 08:30 on 01/07 in Vietnam
        "actor_id": 7,
        "actor_name": "nguyenvana",
        "actor_kind": "user",
        "action": "create",
        "entity_type": "calendar_day",
        "entity_id": "2025-09-02",
        "before": None,
        "after": {"day": "2025-09-02", "kind": "holiday", "name": "Quốc khánh"},
        "request_id": "req-1",
        "ip": "10.80.1.5",
    },
    "holiday_renamed": {
        "occurred_at": datetime(2025, 7, 1, 3, 0, tzinfo=UTC),  # 10:00 on 01/07
        "actor_id": 7,
        "actor_name": "nguyenvana",
        "actor_kind": "user",
        "action": "update",
        "entity_type": "calendar_day",
        "entity_id": "2025-09-02",
        "before": {"name": "Quốc khánh"},
        "after": {"name": "Quốc khánh 2/9"},
    },
    "agency_synced": {
        "occurred_at": datetime(2025, 7, 2, 2, 0, tzinfo=UTC),  # 09:00 on 02/07
        "actor_id": 12,
        "actor_name": "sokhcn-sync",
        "actor_kind": "api_key",
        "action": "update",
        "entity_type": "org_unit_agency",
        "entity_id": "15",
        "before": {"phone": None, "tags": ["old"]},
        "after": {"phone": "0276 3822 123", "tags": ["môi trường"]},
    },
    "makeup_day_deleted": {
        "occurred_at": datetime(2025, 7, 1, 17, 30, tzinfo=UTC),  # 00:30 on 02/07 in Vietnam, still 01/07 in UTC
        "actor_id": 1,
        "actor_name": "quantri",
        "actor_kind": "user",
        "action": "delete",
        "entity_type": "calendar_day",
        "entity_id": "2025-09-06",
        "before": {"day": "2025-09-06", "kind": "working_day", "name": "Làm bù"},
        "after": None,
    },
}


@pytest.fixture
async def trail(runtime: Runtime) -> dict[str, int]:
    """Append the trail to the audit log and return each entry's id by its key."""
    async with runtime.db.transaction() as session:
        rows = {key: AuditEntry(**fields) for key, fields in TRAIL.items()}
        session.add_all(rows.values())
        await session.flush()
        return {key: row.id for key, row in rows.items()}
