"""initial schema

Revision ID: eb82f55b16f1
Revises:
Create Date: 2026-11-26 07:33:00.797576
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ioc.core.db

revision: str = "eb82f55b16f1"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""

    op.create_table(
        "audit_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("occurred_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=120), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("entity_type", sa.String(length=80), nullable=False),
        sa.Column("entity_id", sa.String(length=80), nullable=False),
        sa.Column(
            "before", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column(
            "after", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entry_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index("ix_audit_entry_entity", ["entity_type", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_entity_type"), ["entity_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_occurred_at"), ["occurred_at"], unique=False)

    op.create_table(
        "calendar_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_day")),
    )
    op.create_table(
        "event_handled",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("handler", sa.String(length=160), nullable=False),
        sa.Column("handled_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_handled")),
        sa.UniqueConstraint("event_id", "handler", name=op.f("uq_event_handled_event_id_handler")),
    )
    op.create_table(
        "identity_login_throttle",
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ip", name=op.f("pk_identity_login_throttle")),
    )
    with op.batch_alter_table("identity_login_throttle", schema=None) as batch_op:
        batch_op.create_index("ix_identity_login_throttle_window", ["window_started_at"], unique=False)

    op.create_table(
        "identity_user",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column(
            "unit_codes", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "extra_scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_user")),
        sa.UniqueConstraint("username", name=op.f("uq_identity_user_username")),
    )
    with op.batch_alter_table("identity_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_user_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_user_role"), ["role"], unique=False)

    op.create_table(
        "job",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("run_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("locked_by", sa.String(length=80), nullable=True),
        sa.Column("locked_until", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_job_dedupe_key")),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index("ix_job_due", ["status", "run_at"], unique=False)

    op.create_table(
        "notification_delivery",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=500), nullable=False),
        sa.Column("template_key", sa.String(length=120), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("correlation", sa.String(length=200), nullable=True),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column(
            "params", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("webhook_secret", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_delivery")),
    )
    with op.batch_alter_table("notification_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_delivery_correlation"), ["correlation"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_delivery_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_notification_delivery_status_channel", ["status", "channel"], unique=False)

    op.create_table(
        "notification_template",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sms_ascii", sa.Boolean(), nullable=False),
        sa.Column("updated_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_template")),
        sa.UniqueConstraint("key", "channel", "lang", name=op.f("uq_notification_template_key_channel_lang")),
    )
    op.create_table(
        "org_unit_agency",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("search_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["org_unit_agency.id"],
            name=op.f("fk_org_unit_agency_parent_id_org_unit_agency"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_unit_agency")),
        sa.UniqueConstraint("code", name=op.f("uq_org_unit_agency_code")),
    )
    with op.batch_alter_table("org_unit_agency", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_unit_agency_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_org_unit_agency_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_org_unit_agency_search_name"), ["search_name"], unique=False)

    op.create_table(
        "org_unit_unit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("search_name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("unit_type", sa.String(length=40), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "geometry", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("min_lon", sa.Float(), nullable=True),
        sa.Column("min_lat", sa.Float(), nullable=True),
        sa.Column("max_lon", sa.Float(), nullable=True),
        sa.Column("max_lat", sa.Float(), nullable=True),
        sa.Column("geometry_source", sa.String(length=40), nullable=True),
        sa.Column("source_epsg", sa.Integer(), nullable=True),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["org_unit_unit.id"],
            name=op.f("fk_org_unit_unit_parent_id_org_unit_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_unit_unit")),
        sa.UniqueConstraint("code", "valid_from", name=op.f("uq_org_unit_unit_code_valid_from")),
    )
    with op.batch_alter_table("org_unit_unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_unit_unit_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_org_unit_unit_level"), ["level"], unique=False)
        batch_op.create_index(batch_op.f("ix_org_unit_unit_max_lat"), ["max_lat"], unique=False)
        batch_op.create_index(batch_op.f("ix_org_unit_unit_max_lon"), ["max_lon"], unique=False)
        batch_op.create_index(batch_op.f("ix_org_unit_unit_min_lat"), ["min_lat"], unique=False)
        batch_op.create_index(batch_op.f("ix_org_unit_unit_min_lon"), ["min_lon"], unique=False)
        batch_op.create_index(batch_op.f("ix_org_unit_unit_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_org_unit_unit_search_name"), ["search_name"], unique=False)
        batch_op.create_index("ix_org_unit_unit_validity", ["valid_from", "valid_to"], unique=False)

    op.create_table(
        "outbox_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("occurred_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_event_id")),
    )
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_event_name"), ["name"], unique=False)
        batch_op.create_index("ix_outbox_event_unpublished", ["published_at", "id"], unique=False)

    op.create_table(
        "identity_api_key",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("prefix", sa.String(length=24), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "scopes", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["identity_user.id"],
            name=op.f("fk_identity_api_key_user_id_identity_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_api_key")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_identity_api_key_secret_hash")),
    )
    with op.batch_alter_table("identity_api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_api_key_prefix"), ["prefix"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_api_key_user_id"), ["user_id"], unique=False)

    op.create_table(
        "identity_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["identity_user.id"],
            name=op.f("fk_identity_session_user_id_identity_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_session")),
    )
    with op.batch_alter_table("identity_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_session_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "org_unit_agency_area",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["org_unit_agency.id"],
            name=op.f("fk_org_unit_agency_area_agency_id_org_unit_agency"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_unit_agency_area")),
        sa.UniqueConstraint("agency_id", "unit_code", name=op.f("uq_org_unit_agency_area_agency_id_unit_code")),
    )
    with op.batch_alter_table("org_unit_agency_area", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_unit_agency_area_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_org_unit_agency_area_unit_code"), ["unit_code"], unique=False)


def downgrade() -> None:
    """Revert this revision."""

    with op.batch_alter_table("org_unit_agency_area", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_unit_agency_area_unit_code"))
        batch_op.drop_index(batch_op.f("ix_org_unit_agency_area_agency_id"))

    op.drop_table("org_unit_agency_area")
    with op.batch_alter_table("identity_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_session_user_id"))
        batch_op.drop_index(batch_op.f("ix_identity_session_expires_at"))

    op.drop_table("identity_session")
    with op.batch_alter_table("identity_api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_api_key_user_id"))
        batch_op.drop_index(batch_op.f("ix_identity_api_key_prefix"))

    op.drop_table("identity_api_key")
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_event_unpublished")
        batch_op.drop_index(batch_op.f("ix_outbox_event_name"))

    op.drop_table("outbox_event")
    with op.batch_alter_table("org_unit_unit", schema=None) as batch_op:
        batch_op.drop_index("ix_org_unit_unit_validity")
        batch_op.drop_index(batch_op.f("ix_org_unit_unit_search_name"))
        batch_op.drop_index(batch_op.f("ix_org_unit_unit_parent_id"))
        batch_op.drop_index(batch_op.f("ix_org_unit_unit_min_lon"))
        batch_op.drop_index(batch_op.f("ix_org_unit_unit_min_lat"))
        batch_op.drop_index(batch_op.f("ix_org_unit_unit_max_lon"))
        batch_op.drop_index(batch_op.f("ix_org_unit_unit_max_lat"))
        batch_op.drop_index(batch_op.f("ix_org_unit_unit_level"))
        batch_op.drop_index(batch_op.f("ix_org_unit_unit_code"))

    op.drop_table("org_unit_unit")
    with op.batch_alter_table("org_unit_agency", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_unit_agency_search_name"))
        batch_op.drop_index(batch_op.f("ix_org_unit_agency_parent_id"))
        batch_op.drop_index(batch_op.f("ix_org_unit_agency_kind"))

    op.drop_table("org_unit_agency")
    op.drop_table("notification_template")
    with op.batch_alter_table("notification_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_delivery_status_channel")
        batch_op.drop_index(batch_op.f("ix_notification_delivery_created_at"))
        batch_op.drop_index(batch_op.f("ix_notification_delivery_correlation"))

    op.drop_table("notification_delivery")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index("ix_job_due")

    op.drop_table("job")
    with op.batch_alter_table("identity_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_user_role"))
        batch_op.drop_index(batch_op.f("ix_identity_user_agency_id"))

    op.drop_table("identity_user")
    with op.batch_alter_table("identity_login_throttle", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_login_throttle_window")

    op.drop_table("identity_login_throttle")
    op.drop_table("event_handled")
    op.drop_table("calendar_day")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_entry_entity_type"))
        batch_op.drop_index("ix_audit_entry_entity")
        batch_op.drop_index(batch_op.f("ix_audit_entry_actor_id"))

    op.drop_table("audit_entry")
