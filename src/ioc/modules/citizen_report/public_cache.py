"""A cache of public, anonymous reads (Open311 lists, the public map layer), dropped whenever reports change.

Every answer is stored under the normalised request and the module's data version. The version moves:
- in the writing process, right after the commit of any session that wrote a citizen_report table (ORM
  flushes and ORM insert/update/delete statements alike), so a reader never sees its own write late;
- in every other process, when its live feed reads a `citizen_report.*` event from the outbox (the live
  feed polls every 0.5 s and every write of a report records an event);
- at the latest after `MAX_AGE_SECONDS`, for writes that bypass both (raw SQL, a process without workers).
Bumping only after the commit matters: a reader that filled the cache between a bump and the commit would
otherwise keep the old answer under the new version.
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import Collection, Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from .constants import MODULE_NAME

if TYPE_CHECKING:
    from ioc.core.db import Database
    from ioc.core.live import LiveMessage
    from ioc.core.runtime import Runtime

MAX_ENTRIES: Final = 1024  # distinct normalised queries kept (least recently used dropped first)
MAX_AGE_SECONDS: Final = 10.0
MAX_BODY_BYTES: Final = 2_000_000  # a page of 500 requests is about 0.5 MB; larger answers are not kept
CHANGED_FLAG: Final = "citizen_report_changed"
CATEGORIES_FLAG: Final = "citizen_report_categories_changed"
CATEGORY_TABLE: Final = f"{MODULE_NAME}_category"
TABLE_PREFIX: Final = f"{MODULE_NAME}_"
# Tables whose rows never appear in public output: writing them must not empty the cache.
PRIVATE_TABLES: Final = frozenset({f"{TABLE_PREFIX}rate_hit", f"{TABLE_PREFIX}sequence", f"{TABLE_PREFIX}follower"})
EVENT_PREFIX: Final = f"{MODULE_NAME}."


@dataclass(frozen=True)
class CachedAnswer:
    """A stored answer: body, status, media type and headers."""

    body: bytes
    status: int
    media_type: str
    headers: tuple[tuple[str, str], ...]
    version: int
    stored_at: float


def _public_table(name: str | None) -> bool:
    return bool(name) and str(name).startswith(TABLE_PREFIX) and name not in PRIVATE_TABLES


class PublicCache:
    """Answers by key, valid for one data version and at most `MAX_AGE_SECONDS`."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_age: float = MAX_AGE_SECONDS) -> None:
        self.version = 0
        self.category_version = 0  # moves only when categories are written (intake keeps copies of them)
        self.max_entries = max_entries
        self.max_age = max_age
        self._entries: OrderedDict[Hashable, CachedAnswer] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def bump(self) -> None:
        """Invalidate every stored answer."""
        self.version += 1
        self._entries.clear()

    def get(self, key: Hashable) -> CachedAnswer | None:
        """Return the answer stored under `key` if it is still current."""
        entry = self._entries.get(key)
        if entry is None or entry.version != self.version or time.monotonic() - entry.stored_at > self.max_age:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(
        self, key: Hashable, version: int, body: bytes, status: int, media_type: str, headers: dict[str, str]
    ) -> None:
        """Store an answer computed while the data version was `version` (dropped if it has moved since)."""
        if version != self.version or len(body) > MAX_BODY_BYTES:
            return
        self._entries[key] = CachedAnswer(body, status, media_type, tuple(headers.items()), version, time.monotonic())
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    # Invalidation sources

    def watch(self, db: Database) -> None:
        """Bump the version after every commit of a session of `db` that wrote a public citizen_report table."""
        session_class = db.sync_session_class

        def after_flush(session: Session, _flush: UOWTransaction) -> None:
            for instance in (*session.new, *session.dirty, *session.deleted):
                table = getattr(instance, "__tablename__", None)
                if _public_table(table):
                    session.info[CHANGED_FLAG] = True
                if table == CATEGORY_TABLE:
                    session.info[CATEGORIES_FLAG] = True

        def do_orm_execute(state: ORMExecuteState) -> None:
            if state.is_insert or state.is_update or state.is_delete:
                table = getattr(getattr(state.statement, "table", None), "name", None)
                if _public_table(table):
                    state.session.info[CHANGED_FLAG] = True
                if table == CATEGORY_TABLE:
                    state.session.info[CATEGORIES_FLAG] = True

        def after_commit(session: Session) -> None:
            if session.info.pop(CATEGORIES_FLAG, False):
                self.category_version += 1
            if session.info.pop(CHANGED_FLAG, False):
                self.bump()

        def after_rollback(session: Session) -> None:
            # A savepoint rolled back leaves the outer transaction's earlier writes: keep the marks then.
            if not session.in_transaction():
                session.info.pop(CHANGED_FLAG, None)
                if session.info.pop(CATEGORIES_FLAG, False):
                    # Intake may have copied categories this transaction created: they no longer exist.
                    self.category_version += 1

        event.listen(session_class, "after_flush", after_flush)
        event.listen(session_class, "do_orm_execute", do_orm_execute)
        event.listen(session_class, "after_commit", after_commit)
        event.listen(session_class, "after_soft_rollback", lambda session, _previous: after_rollback(session))

    def on_live_message(self, message: LiveMessage) -> None:
        """Bump the version when the live feed sees a report event (written by this or another process)."""
        if message.name.startswith(EVENT_PREFIX):
            self.bump()


def public_query_key(
    name: str, lang: str, params: Iterable[tuple[str, str]], normalised: Collection[str], value: Hashable
) -> Hashable:
    """Return the key of a public read: its query sorted, the `normalised` parameters replaced by their read `value`.

    The map layer reads `bbox` and `zoom` into a box snapped to the zoom's tiles: every pan inside the same tiles
    gives the same key, where the raw parameters would give one key per pixel.
    """
    kept = tuple(sorted((key, item) for key, item in params if key not in normalised))
    return (name, lang, kept, value)


_CACHES: weakref.WeakKeyDictionary[Any, PublicCache] = weakref.WeakKeyDictionary()


def cache_for(runtime: Runtime) -> PublicCache:
    """Return the runtime's cache, installing its invalidation hooks the first time."""
    cache = _CACHES.get(runtime)
    if cache is None:
        cache = PublicCache()
        cache.watch(runtime.db)
        runtime.live.add_listener(cache.on_live_message)
        _CACHES[runtime] = cache
    return cache
