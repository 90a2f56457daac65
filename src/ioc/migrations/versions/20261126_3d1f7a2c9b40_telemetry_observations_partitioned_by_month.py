"""telemetry observations partitioned by month on PostgreSQL

Revision ID: 3d1f7a2c9b40
Revises: 6189b8a75e87
Create Date: 2026-11-26 10:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "3d1f7a2c9b40"
down_revision: str | None = "6189b8a75e87"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "datastream_id integer NOT NULL, time timestamptz NOT NULL, value double precision NOT NULL, received_at timestamptz NOT NULL"


def upgrade() -> None:
    """Rebuild the observation table as a range-partitioned table with a DEFAULT partition (PostgreSQL only).

    Month partitions are created by the `telemetry.maintain_partitions` job, which moves rows out of DEFAULT.
    """
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE telemetry_observation RENAME TO telemetry_observation_old")
    op.execute(
        "ALTER TABLE telemetry_observation_old RENAME CONSTRAINT pk_telemetry_observation TO pk_telemetry_observation_old"
    )
    op.execute(
        f"CREATE TABLE telemetry_observation ({COLUMNS}, "
        "CONSTRAINT pk_telemetry_observation PRIMARY KEY (datastream_id, time)) PARTITION BY RANGE (time)"
    )
    op.execute("CREATE TABLE telemetry_observation_default PARTITION OF telemetry_observation DEFAULT")
    op.execute(
        "INSERT INTO telemetry_observation SELECT datastream_id, time, value, received_at FROM telemetry_observation_old"
    )
    op.execute("DROP TABLE telemetry_observation_old")


def downgrade() -> None:
    """Back to one plain table holding every partition's rows."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE TABLE telemetry_observation_plain ({COLUMNS})")
    op.execute(
        "INSERT INTO telemetry_observation_plain SELECT datastream_id, time, value, received_at FROM telemetry_observation"
    )
    op.execute("DROP TABLE telemetry_observation CASCADE")
    op.execute("ALTER TABLE telemetry_observation_plain RENAME TO telemetry_observation")
    op.execute(
        "ALTER TABLE telemetry_observation ADD CONSTRAINT pk_telemetry_observation PRIMARY KEY (datastream_id, time)"
    )
