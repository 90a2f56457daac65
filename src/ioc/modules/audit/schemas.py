"""Read schemas and filters of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryRead(BaseModel):
    """One recorded write: who, when, what, and the column values before and after."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime = Field(description="Thời điểm (UTC) / when it happened (UTC)")
    actor_id: int | None = Field(description="Mã người dùng, nếu có / user id, if any")
    actor_name: str = Field(description="Người thực hiện / who did it")
    actor_kind: str = Field(description="user | api_key | system")
    action: str = Field(description="create | update | delete, or a recorded action such as login")
    entity_type: str = Field(description="Bảng dữ liệu / table name")
    entity_id: str = Field(description="Khoá chính (ghép bằng '/') / primary key, parts joined by '/'")
    before: dict[str, Any] | None = Field(description="Giá trị trước / values before (changed columns only)")
    after: dict[str, Any] | None = Field(description="Giá trị sau / values after (changed columns only)")
    request_id: str | None = None
    ip: str | None = None


class AuditFilters(BaseModel):
    """Which audit entries to list; every filter is optional and they combine with AND."""

    actor: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    action: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


class FieldChange(BaseModel):
    """One column of an audit entry, shown side by side: its value before and after, as text."""

    field: str
    before: str | None
    after: str | None
    changed: bool
