"""A per-process cache of what ingestion needs to know about devices and datastreams.

Reading the devices and datastreams of every batch from the database cost more than writing the batch. The
cache is filled on demand (a device it does not know is looked up, so a device registered a moment ago is
found at once) and emptied when this process changes a device or datastream through the ORM: the change is
noticed at flush and the cache is emptied again after the commit, so that a batch reading in between cannot
keep the old values. Changes made by another process are seen after at most `REGISTRY_TTL_SECONDS` (10 s).

`last_seen_at` and `is_online` are the exception: ingestion writes them itself and keeps the cached copy up
to date; the offline check (possibly in another process) flips `is_online` back, which this cache sees after
at most `REGISTRY_TTL_SECONDS` (10 s), so a device that starts talking again is marked online within that time.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, Session, object_session

from . import repository
from .constants import REGISTRY_TTL_SECONDS
from .models import Datastream, Device
from .repository import DeviceInfo

CHANGED = repository.REGISTRY_CHANGED


@dataclass
class _Cache:
    loaded_at: float = field(default_factory=time.monotonic)
    by_id: dict[int, DeviceInfo] = field(default_factory=dict)
    by_code: dict[str, DeviceInfo] = field(default_factory=dict)


_CACHES: WeakKeyDictionary[Engine, _Cache] = WeakKeyDictionary()


def invalidate() -> None:
    """Forget every cached device (all databases of the process)."""
    _CACHES.clear()


def _cache_for(session: AsyncSession) -> _Cache:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    cache = _CACHES.get(engine)
    if cache is None or time.monotonic() - cache.loaded_at > REGISTRY_TTL_SECONDS:
        cache = _Cache()
        _CACHES[engine] = cache
    return cache


async def lookup(
    session: AsyncSession, codes: Collection[str] = (), ids: Collection[int] = ()
) -> tuple[dict[int, DeviceInfo], dict[str, DeviceInfo]]:
    """Return the known devices among these codes and ids, by id and by code, loading the ones not cached."""
    cache = _cache_for(session)
    missing_codes = [code for code in codes if code not in cache.by_code]
    missing_ids = [device_id for device_id in ids if device_id not in cache.by_id]
    if missing_codes or missing_ids:
        for device in (await repository.load_devices(session, codes=missing_codes, ids=missing_ids)).values():
            cache.by_id[device.id] = device
            cache.by_code[device.code] = device
    by_id = {device_id: cache.by_id[device_id] for device_id in ids if device_id in cache.by_id}
    by_code = {code: cache.by_code[code] for code in codes if code in cache.by_code}
    for device in by_code.values():
        by_id[device.id] = device
    return by_id, by_code


# --- invalidation ------------------------------------------------------------------------------------------------


def _note_change(_mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    session = object_session(target)
    if session is not None:
        session.info[CHANGED] = True
    invalidate()


def _after_commit(session: Session) -> None:
    if session.info.pop(CHANGED, False):
        invalidate()


for _model in (Device, Datastream):
    for _name in ("after_insert", "after_update", "after_delete"):
        event.listen(_model, _name, _note_change)
event.listen(Session, "after_commit", _after_commit)
