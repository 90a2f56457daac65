"""HTTP layer of the `scaffoldtest_69907dd64257463ea` module: thin routes over the service; routes that write commit."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.http import db_session
from ioc.core.templating import render

from . import service
from .constants import MODULE_NAME, PAGE_PATH
from .schemas import Scaffoldtest69907dd64257463eaStatus

# Mounted under /api/v1. Protect routes that show non-public data with `Depends(require_read)` (deps.py).
api_router = APIRouter(prefix=f"/{MODULE_NAME}", tags=[MODULE_NAME])
page_router = APIRouter(include_in_schema=False)


@api_router.get(
    "/status",
    response_model=Scaffoldtest69907dd64257463eaStatus,
    summary="Trạng thái module / module status",
)
async def read_status(session: AsyncSession = Depends(db_session)) -> Scaffoldtest69907dd64257463eaStatus:
    """Tell whether the module is loaded and its database answers."""
    return await service.get_status(session)


@page_router.get(PAGE_PATH)
async def index_page(request: Request, session: AsyncSession = Depends(db_session)) -> Response:
    """Show the module's home page."""
    status = await service.get_status(session)
    # The module's templates folder is mounted under "<module>/".
    return render(request, f"{MODULE_NAME}/index.html", {"status": status})
