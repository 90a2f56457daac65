"""Tracking numbers under concurrent submissions: each report gets its own, and none is skipped when all succeed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from ioc.core.runtime import Runtime
from ioc.core.security import Role

from .conftest import Submit, principal

MONDAY_10 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 10:00 in the province
CONCURRENT = 12


async def test_concurrent_submissions_get_distinct_consecutive_numbers(runtime: Runtime, submit: Submit) -> None:
    # The hotline is not rate limited: twelve reports at once from one caller are all accepted.
    operator = principal(runtime, Role.HOTLINE_OPERATOR)
    results = await asyncio.gather(*(submit(as_principal=operator, now=MONDAY_10) for _ in range(CONCURRENT)))
    assert sorted(r.tracking_code for r in results) == [f"PA-2026-{n:06d}" for n in range(1, CONCURRENT + 1)]
    assert len({r.id for r in results}) == CONCURRENT
