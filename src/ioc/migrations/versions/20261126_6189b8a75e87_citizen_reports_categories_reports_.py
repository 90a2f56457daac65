"""citizen reports: categories, reports, timeline, photos

Revision ID: 6189b8a75e87
Revises: ce396fdfe455
Create Date: 2026-11-26 08:50:34.657668
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ioc.core.db

revision: str = "6189b8a75e87"
down_revision: str | None = "ce396fdfe455"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""

    op.create_table(
        "citizen_report_category",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("group_name", sa.String(length=100), nullable=False),
        sa.Column(
            "keywords", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("default_agency_code", sa.String(length=40), nullable=True),
        sa.Column(
            "agency_overrides",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "attributes", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("accept_hours", sa.Float(), nullable=False),
        sa.Column("resolve_days", sa.Integer(), nullable=False),
        sa.Column("reopen_window_days", sa.Integer(), nullable=False),
        sa.Column("photo_required", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_report_category")),
        sa.UniqueConstraint("code", name=op.f("uq_citizen_report_category_code")),
    )
    op.create_table(
        "citizen_report_rate_hit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_report_rate_hit")),
    )
    with op.batch_alter_table("citizen_report_rate_hit", schema=None) as batch_op:
        batch_op.create_index("ix_citizen_report_rate_hit_key_at", ["client_key", "at"], unique=False)

    op.create_table(
        "citizen_report_sequence",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_citizen_report_sequence")),
    )
    op.create_table(
        "citizen_report_report",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("tracking_code", sa.String(length=24), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "attributes", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("unit_code", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("suggested_agency_code", sa.String(length=40), nullable=True),
        sa.Column("agency_code", sa.String(length=40), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("phase", sa.String(length=16), nullable=True),
        sa.Column("phase_started_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accept_due_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolve_due_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("approaching", sa.Boolean(), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("accepted_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("assigned_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_on_time", sa.Boolean(), nullable=True),
        sa.Column("result_text", sa.Text(), nullable=True),
        sa.Column("reject_reason", sa.String(length=30), nullable=True),
        sa.Column("extension_pending", sa.Boolean(), nullable=False),
        sa.Column("extension_days", sa.Integer(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("extension_count", sa.Integer(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("follower_count", sa.Integer(), nullable=False),
        sa.Column("reporter_name", sa.String(length=120), nullable=True),
        sa.Column("reporter_phone", sa.String(length=30), nullable=True),
        sa.Column("reporter_email", sa.String(length=200), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("submitted_by_user_id", sa.Integer(), nullable=True),
        sa.Column("rating_token_hash", sa.String(length=64), nullable=False),
        sa.Column("rating", sa.String(length=16), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("rated_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("merged_into_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["citizen_report_category.id"],
            name=op.f("fk_citizen_report_report_category_id_citizen_report_category"),
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["citizen_report_report.id"],
            name=op.f("fk_citizen_report_report_merged_into_id_citizen_report_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_report_report")),
        sa.UniqueConstraint("tracking_code", name=op.f("uq_citizen_report_report_tracking_code")),
    )
    with op.batch_alter_table("citizen_report_report", schema=None) as batch_op:
        batch_op.create_index("ix_citizen_report_report_agency", ["agency_id", "status"], unique=False)
        batch_op.create_index("ix_citizen_report_report_category_status", ["category_id", "status"], unique=False)
        batch_op.create_index("ix_citizen_report_report_created", ["created_at"], unique=False)
        batch_op.create_index("ix_citizen_report_report_lat_lon", ["lat", "lon"], unique=False)
        batch_op.create_index("ix_citizen_report_report_status_due", ["status", "due_at"], unique=False)
        batch_op.create_index("ix_citizen_report_report_unit", ["unit_code"], unique=False)
        batch_op.create_index("ix_citizen_report_report_updated", ["updated_at"], unique=False)

    op.create_table(
        "citizen_report_follower",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source_report_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["citizen_report_report.id"],
            name=op.f("fk_citizen_report_follower_report_id_citizen_report_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_report_follower")),
    )
    with op.batch_alter_table("citizen_report_follower", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_citizen_report_follower_report_id"), ["report_id"], unique=False)

    op.create_table(
        "citizen_report_link",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("linked_report_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["linked_report_id"],
            ["citizen_report_report.id"],
            name=op.f("fk_citizen_report_link_linked_report_id_citizen_report_report"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["citizen_report_report.id"],
            name=op.f("fk_citizen_report_link_report_id_citizen_report_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_report_link")),
        sa.UniqueConstraint(
            "report_id", "linked_report_id", name=op.f("uq_citizen_report_link_report_id_linked_report_id")
        ),
    )
    with op.batch_alter_table("citizen_report_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_citizen_report_link_report_id"), ["report_id"], unique=False)

    op.create_table(
        "citizen_report_photo",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("file_name", sa.String(length=80), nullable=False),
        sa.Column("thumb_name", sa.String(length=80), nullable=False),
        sa.Column("original_type", sa.String(length=40), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("gps_lat", sa.Float(), nullable=True),
        sa.Column("gps_lon", sa.Float(), nullable=True),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["citizen_report_report.id"],
            name=op.f("fk_citizen_report_photo_report_id_citizen_report_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_report_photo")),
    )
    with op.batch_alter_table("citizen_report_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_citizen_report_photo_report_id"), ["report_id"], unique=False)

    op.create_table(
        "citizen_report_timeline",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_name", sa.String(length=120), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["citizen_report_report.id"],
            name=op.f("fk_citizen_report_timeline_report_id_citizen_report_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_report_timeline")),
    )
    with op.batch_alter_table("citizen_report_timeline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_citizen_report_timeline_report_id"), ["report_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""

    with op.batch_alter_table("citizen_report_timeline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citizen_report_timeline_report_id"))

    op.drop_table("citizen_report_timeline")
    with op.batch_alter_table("citizen_report_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citizen_report_photo_report_id"))

    op.drop_table("citizen_report_photo")
    with op.batch_alter_table("citizen_report_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citizen_report_link_report_id"))

    op.drop_table("citizen_report_link")
    with op.batch_alter_table("citizen_report_follower", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citizen_report_follower_report_id"))

    op.drop_table("citizen_report_follower")
    with op.batch_alter_table("citizen_report_report", schema=None) as batch_op:
        batch_op.drop_index("ix_citizen_report_report_updated")
        batch_op.drop_index("ix_citizen_report_report_unit")
        batch_op.drop_index("ix_citizen_report_report_status_due")
        batch_op.drop_index("ix_citizen_report_report_lat_lon")
        batch_op.drop_index("ix_citizen_report_report_created")
        batch_op.drop_index("ix_citizen_report_report_category_status")
        batch_op.drop_index("ix_citizen_report_report_agency")

    op.drop_table("citizen_report_report")
    op.drop_table("citizen_report_sequence")
    with op.batch_alter_table("citizen_report_rate_hit", schema=None) as batch_op:
        batch_op.drop_index("ix_citizen_report_rate_hit_key_at")

    op.drop_table("citizen_report_rate_hit")
    op.drop_table("citizen_report_category")
