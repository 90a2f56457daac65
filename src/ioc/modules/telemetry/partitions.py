"""Monthly range partitions of the observation table on PostgreSQL (SQLite keeps one plain table).

The table is declared `PARTITION BY RANGE (time)` with a DEFAULT partition, so a reading is never refused for
lack of a partition. A daily job creates the month partitions up to two months ahead, but only months that have
not begun: ingestion refuses readings from the future, so nothing is being written into a month while its
partition is attached. (Attaching the month being written would race with inserts already routed to DEFAULT.)
Readings of a month without a partition, such as the month the table was created in, stay in DEFAULT and leave
it through retention. Retention drops whole months once they are older than the longest retention of any
datastream.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Observation

TABLE = Observation.__tablename__
DEFAULT_PARTITION = f"{TABLE}_default"  # created with the table (models.py and the migration)
MONTHS_AHEAD = 2
# A month's partition is attached only while the month is at least this far away.
LEAD_TIME = timedelta(days=1)


@dataclass(frozen=True)
class MonthPartition:
    """One month partition: readings with start <= time < end (UTC)."""

    start: datetime

    @property
    def end(self) -> datetime:
        """The first instant of the following month."""
        return month_start(self.start + timedelta(days=32))

    @property
    def name(self) -> str:
        """The partition's table name, e.g. telemetry_observation_p202611."""
        return f"{TABLE}_p{self.start:%Y%m}"


def month_start(moment: datetime) -> datetime:
    """The first instant (UTC) of the month holding `moment`."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def months_from(moment: datetime, count: int) -> list[MonthPartition]:
    """`count` consecutive month partitions starting with the month of `moment`."""
    months = [MonthPartition(month_start(moment))]
    while len(months) < count:
        months.append(MonthPartition(months[-1].end))
    return months


async def is_partitioned(session: AsyncSession) -> bool:
    """Tell whether the observation table is a partitioned table (PostgreSQL after the partitioning migration)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    found = await session.scalar(
        text("SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid WHERE c.relname = :t"),
        {"t": TABLE},
    )
    return found is not None


async def partition_names(session: AsyncSession) -> list[str]:
    """Names of the observation table's partitions, DEFAULT included."""
    rows = await session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :t ORDER BY c.relname"
        ),
        {"t": TABLE},
    )
    return list(rows)


def _literal(moment: datetime) -> str:
    # Bounds of ATTACH PARTITION cannot be bound parameters; they are formatted from datetimes made here.
    return f"'{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}+00'"


async def ensure_partitions(session: AsyncSession, now: datetime, months_ahead: int = MONTHS_AHEAD) -> list[str]:
    """Create the partitions of the months starting within `months_ahead` months; return those created."""
    if not await is_partitioned(session):
        return []
    existing = set(await partition_names(session))
    created: list[str] = []
    for month in months_from(now, months_ahead + 1):
        if month.name in existing or month.start < now + LEAD_TIME:
            continue
        bounds = {"start": month.start, "end": month.end}
        # Only readings written directly (imports, repairs) can be in DEFAULT for a future month: move them, with
        # DEFAULT held still so none slips in between the move and the attach.
        await session.execute(text(f"LOCK TABLE {DEFAULT_PARTITION} IN SHARE ROW EXCLUSIVE MODE"))
        await session.execute(
            text(f"CREATE TABLE {month.name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        )
        await session.execute(
            text(
                f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE time >= :start AND time < :end RETURNING *) "
                f"INSERT INTO {month.name} SELECT * FROM moved"
            ),
            bounds,
        )
        await session.execute(
            text(
                f"ALTER TABLE {TABLE} ATTACH PARTITION {month.name} "
                f"FOR VALUES FROM ({_literal(month.start)}) TO ({_literal(month.end)})"
            )
        )
        created.append(month.name)
    return created


async def drop_partitions_before(session: AsyncSession, cutoff: datetime) -> list[str]:
    """Drop the month partitions that end at or before `cutoff` (all their readings are past retention)."""
    if not await is_partitioned(session):
        return []
    dropped: list[str] = []
    prefix = f"{TABLE}_p"
    for name in await partition_names(session):
        if not name.startswith(prefix):
            continue
        start = datetime.strptime(name.removeprefix(prefix), "%Y%m").replace(tzinfo=UTC)
        if MonthPartition(start).end <= cutoff:
            await session.execute(text(f"ALTER TABLE {TABLE} DETACH PARTITION {name}"))
            await session.execute(text(f"DROP TABLE {name}"))
            dropped.append(name)
    return dropped
