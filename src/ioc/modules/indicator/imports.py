"""Background imports: large files are checked and written by a durable job, with progress the page can poll."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.errors import NotFound
from ioc.core.events import record_event
from ioc.core.jobs import schedule_job
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.time import utc_now

from . import repository, service
from .constants import IMPORT_CHUNK, IMPORT_JOB, PAGE_PATH, ChangeSource, ImportState, ImportStrategy
from .events import ImportCompleted
from .models import ImportRecord
from .schemas import ImportRecordRead, ImportSummary, ValueRow


async def start_import(
    session: AsyncSession,
    rows: list[ValueRow],
    actor: Principal,
    *,
    strategy: ImportStrategy,
    source: ChangeSource,
    vietnamese_numbers: bool = False,
) -> ImportRecordRead:
    """Store the parsed rows in an import record and schedule the job that writes them."""
    record = ImportRecord(
        status=ImportState.QUEUED.value,
        source=source.value,
        strategy=strategy.value,
        total=len(rows),
        processed=0,
        rows=[r.model_dump(mode="json") for r in rows],
        created_by=actor.name,
        created_by_id=actor.id,
        created_by_role=actor.role.value,
        agency_id=actor.agency_id,
        created_at=utc_now(),
    )
    repository.add_import(session, record)
    await session.flush()
    await schedule_job(
        session,
        IMPORT_JOB,
        {"import_id": record.id, "vietnamese_numbers": vietnamese_numbers},
        dedupe_key=f"{IMPORT_JOB}:{record.id}",
        max_attempts=3,
    )
    return import_read(record)


def import_read(record: ImportRecord) -> ImportRecordRead:
    """Describe an import record for the API and the progress bar."""
    return ImportRecordRead(
        id=record.id,
        status=ImportState(record.status),
        source=record.source,
        strategy=ImportStrategy(record.strategy),
        total=record.total,
        processed=record.processed,
        percent=round(record.processed * 100 / record.total) if record.total else 100,
        summary=ImportSummary.model_validate(record.summary) if record.summary else None,
        error=record.error,
        created_by=record.created_by,
        created_at=record.created_at,
        finished_at=record.finished_at,
        page=f"{PAGE_PATH}/imports/{record.id}",
    )


async def get_import(session: AsyncSession, import_id: int, reader: Principal) -> ImportRecordRead:
    """Return an import to the person who started it, their agency's colleagues, leaders and administrators."""
    record = await repository.get_import(session, import_id)
    visible = record is not None and (
        reader.role in (Role.ADMIN, Role.LEADER)
        or record.created_by == reader.name
        or (reader.agency_id is not None and reader.agency_id == record.agency_id)
    )
    if record is None or not visible:
        raise NotFound("Không tìm thấy lượt nhập số liệu.", "Import not found.", import_id=import_id)
    return import_read(record)


def _actor(record: ImportRecord) -> Principal:
    """Act as the person who started the import: the same agency limits apply as in the request."""
    return Principal(
        kind=PrincipalKind.USER,
        id=record.created_by_id,
        name=record.created_by,
        role=Role(record.created_by_role),
        agency_id=record.agency_id,
    )


def _merge(total: ImportSummary, part: ImportSummary) -> None:
    total.imported += part.imported
    total.updated += part.updated
    total.deleted += part.deleted
    total.ignored += part.ignored
    total.violations += part.violations


async def run_import(session: AsyncSession, import_id: int, *, vietnamese_numbers: bool = False) -> None:
    """Check every row first (all-or-nothing refuses before writing), then write in chunks, committing progress.

    A retry after a crash starts again from the stored rows: values already written are unchanged and ignored.
    """
    record = await repository.get_import(session, import_id)
    if record is None or record.status in (ImportState.DONE.value, ImportState.FAILED.value):
        return
    rows = [ValueRow.model_validate(r) for r in record.rows]
    actor, strategy, source = _actor(record), ImportStrategy(record.strategy), ChangeSource(record.source)
    record.status, record.processed = ImportState.RUNNING.value, 0
    await session.commit()
    catalog = await repository.load_catalog(session)
    kwargs: dict[str, Any] = {"source": source, "vietnamese_numbers": vietnamese_numbers}
    checked = await service.import_rows(session, catalog, rows, actor, strategy=strategy, dry_run=True, **kwargs)
    summary = checked.model_copy(update={"dry_run": False, "imported": 0})
    if checked.conflicts and strategy is ImportStrategy.ALL_OR_NOTHING:
        summary.status, summary.imported = "ERROR", 0
        _finish(record, summary, ImportState.FAILED, len(rows))
        return
    refused = {c.row for c in checked.conflicts if c.row is not None}
    good = [r for r in rows if r.row not in refused]
    record.processed = len(rows) - len(good)
    for start in range(0, len(good), IMPORT_CHUNK):
        chunk = good[start : start + IMPORT_CHUNK]
        part = await service.import_rows(
            session, catalog, chunk, actor, strategy=ImportStrategy.STORE_VALID, publish=False, **kwargs
        )
        _merge(summary, part)
        record.processed += len(chunk)
        await session.commit()  # the page sees the progress; the values of this chunk are stored
    if summary.violations and summary.status == "SUCCESS":
        summary.status = "WARNING"
    _finish(record, summary, ImportState.DONE, len(rows))
    if summary.imported + summary.updated + summary.deleted:
        element_ids = {catalog.elements[r.data_element].id for r in good if r.data_element in catalog.elements}
        record_event(
            session,
            ImportCompleted(
                import_id=import_id,
                source=source.value,
                status=summary.status,
                data_sets=sorted(ds.code for ds in catalog.data_sets.values() if element_ids & set(ds.element_ids)),
                periods=sorted({r.period for r in good}),
                total=summary.total,
                imported=summary.imported,
                updated=summary.updated,
                deleted=summary.deleted,
                refused=summary.refused,
            ),
        )


def _finish(record: ImportRecord, summary: ImportSummary, state: ImportState, processed: int) -> None:
    record.status = state.value
    record.processed = processed
    record.summary = summary.model_dump(mode="json")
    record.rows = []
    record.finished_at = utc_now()
