"""Business rules of the `scaffoldtest_69907dd64257463ea` module: no HTTP and no commit (the caller commits)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.time import utc_now

from . import repository
from .constants import MODULE_NAME, TITLE_EN, TITLE_VI
from .schemas import Scaffoldtest69907dd64257463eaStatus


async def get_status(session: AsyncSession) -> Scaffoldtest69907dd64257463eaStatus:
    """Report that the module is loaded and whether its database answers."""
    return Scaffoldtest69907dd64257463eaStatus(
        module=MODULE_NAME,
        title_vi=TITLE_VI,
        title_en=TITLE_EN,
        database_ok=await repository.database_answers(session),
        checked_at=utc_now(),
    )
