"""Schemas of the `scaffoldtest_69907dd64257463ea` module: XRead / XCreate / XUpdate / XFilters models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Scaffoldtest69907dd64257463eaStatus(BaseModel):
    """Whether the module is loaded and its database answers."""

    module: str = Field(description="Tên module / module name")
    title_vi: str
    title_en: str
    database_ok: bool = Field(description="Cơ sở dữ liệu trả lời / the database answered")
    checked_at: datetime = Field(description="Thời điểm kiểm tra (UTC) / when it was checked (UTC)")
