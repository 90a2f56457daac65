"""telemetry: half-empty pages for the rows every batch updates

Revision ID: a3c7e91d5b20
Revises: fd8061c73269
Create Date: 2026-11-26 17:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "a3c7e91d5b20"
down_revision: str | None = "fd8061c73269"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Updated on every ingestion batch: with free room on each page PostgreSQL updates them in place (HOT).
TABLES = ("telemetry_device", "telemetry_datastream", "telemetry_dirty_hour")


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no fill factor
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} SET (fillfactor = 50)")


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
