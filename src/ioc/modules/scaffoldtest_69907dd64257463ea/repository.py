"""Every query of the `scaffoldtest_69907dd64257463ea` module; services call these functions and build no SQL."""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession


async def database_answers(session: AsyncSession) -> bool:
    """Run a trivial query and tell whether the database answered it."""
    return await session.scalar(select(literal(1))) == 1
