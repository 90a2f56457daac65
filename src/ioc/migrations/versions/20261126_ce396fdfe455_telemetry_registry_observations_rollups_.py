"""telemetry registry, observations, rollups and dead letters

Revision ID: ce396fdfe455
Revises: eb82f55b16f1
Create Date: 2026-11-26 08:50:28.275786
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ioc.core.db

revision: str = "ce396fdfe455"
down_revision: str | None = "eb82f55b16f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""

    op.create_table(
        "telemetry_dead_letter",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("received_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=True),
        sa.Column("device_code", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("message_vi", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("payload_bytes", sa.Integer(), nullable=False),
        sa.Column("payload_truncated", sa.Boolean(), nullable=False),
        sa.Column(
            "detail", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_dead_letter")),
    )
    with op.batch_alter_table("telemetry_dead_letter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_telemetry_dead_letter_device_code"), ["device_code"], unique=False)
        batch_op.create_index("ix_telemetry_dead_letter_reason_time", ["reason", "received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_telemetry_dead_letter_received_at"), ["received_at"], unique=False)

    op.create_table(
        "telemetry_device",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("unit_code", sa.String(length=20), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("offline_after_minutes", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("is_online", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "properties", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_device")),
        sa.UniqueConstraint("code", name=op.f("uq_telemetry_device_code")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_telemetry_device_token_hash")),
    )
    with op.batch_alter_table("telemetry_device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_telemetry_device_unit_code"), ["unit_code"], unique=False)

    op.create_table(
        "telemetry_dirty_hour",
        sa.Column("datastream_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bucket", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("datastream_id", "bucket", name=op.f("pk_telemetry_dirty_hour")),
    )
    op.create_table(
        "telemetry_observation",
        sa.Column("datastream_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("time", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("received_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("datastream_id", "time", name=op.f("pk_telemetry_observation")),
    )
    op.create_table(
        "telemetry_rollup_day",
        sa.Column("datastream_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("min_value", sa.Float(), nullable=False),
        sa.Column("max_value", sa.Float(), nullable=False),
        sa.Column("mean_value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("datastream_id", "day", name=op.f("pk_telemetry_rollup_day")),
    )
    op.create_table(
        "telemetry_rollup_hour",
        sa.Column("datastream_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bucket", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("min_value", sa.Float(), nullable=False),
        sa.Column("max_value", sa.Float(), nullable=False),
        sa.Column("mean_value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("datastream_id", "bucket", name=op.f("pk_telemetry_rollup_hour")),
    )
    op.create_table(
        "telemetry_datastream",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("observed_property", sa.String(length=120), nullable=False),
        sa.Column("observed_property_definition", sa.String(length=300), nullable=False),
        sa.Column("unit_name", sa.String(length=60), nullable=False),
        sa.Column("unit_symbol", sa.String(length=30), nullable=False),
        sa.Column("unit_definition", sa.String(length=300), nullable=False),
        sa.Column("sensor", sa.String(length=200), nullable=False),
        sa.Column("valid_min", sa.Float(), nullable=True),
        sa.Column("valid_max", sa.Float(), nullable=True),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("last_time", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["telemetry_device.id"],
            name=op.f("fk_telemetry_datastream_device_id_telemetry_device"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_datastream")),
        sa.UniqueConstraint("device_id", "key", name=op.f("uq_telemetry_datastream_device_id_key")),
    )


def downgrade() -> None:
    """Revert this revision."""

    op.drop_table("telemetry_datastream")
    op.drop_table("telemetry_rollup_hour")
    op.drop_table("telemetry_rollup_day")
    op.drop_table("telemetry_observation")
    op.drop_table("telemetry_dirty_hour")
    with op.batch_alter_table("telemetry_device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telemetry_device_unit_code"))

    op.drop_table("telemetry_device")
    with op.batch_alter_table("telemetry_dead_letter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telemetry_dead_letter_received_at"))
        batch_op.drop_index("ix_telemetry_dead_letter_reason_time")
        batch_op.drop_index(batch_op.f("ix_telemetry_dead_letter_device_code"))

    op.drop_table("telemetry_dead_letter")
