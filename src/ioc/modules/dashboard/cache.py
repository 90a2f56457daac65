"""A short-lived, shared memory of computed tiles, layers and charts, so that many screens cost one computation.

The key names what was computed (tile or layer, unit, language), for whom (the viewer's role, scopes,
agency and units, never the person: two operators of one agency see the same picture) and the newest
outbox event id at that moment, so that anything happening invalidates the picture at once. Concurrent
callers of one key share one computation; failures are never remembered.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from ioc.core.runtime import Runtime
from ioc.core.security import Principal

from .constants import PICTURE_CACHE_SECONDS, PICTURE_CACHE_SIZE

Value = TypeVar("Value")


def viewer_key(principal: Principal | None) -> Hashable:
    """Return what a picture may depend on about its viewer: everything but who the person is."""
    if principal is None:
        return None
    return (
        principal.kind.value,
        principal.role.value,
        tuple(sorted(principal.scopes)),
        principal.agency_id,
        tuple(sorted(principal.unit_codes)),
    )


class PictureCache:
    """Recently computed values by key, each kept for `seconds`, at most `size` of them."""

    def __init__(self, seconds: float = PICTURE_CACHE_SECONDS, size: int = PICTURE_CACHE_SIZE) -> None:
        self.seconds = seconds
        self.size = size
        self._values: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._running: dict[Hashable, asyncio.Future[Any]] = {}

    def clear(self) -> None:
        """Forget every value (tests, or after a change no event tells about)."""
        self._values.clear()

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[Value]]) -> Value:
        """Return the remembered value of `key`, else compute it once for every concurrent caller."""
        if self.seconds <= 0:
            return await compute()
        found = self._values.get(key)
        if found is not None and found[0] > time.monotonic():
            value: Value = found[1]
            return value
        running = self._running.get(key)
        if running is not None:
            shared: Value = await asyncio.shield(running)
            return shared
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            computed = await compute()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: waiting callers get it, nobody logs it as lost
            raise
        finally:
            self._running.pop(key, None)
        future.set_result(computed)
        self._values[key] = (time.monotonic() + self.seconds, computed)
        self._values.move_to_end(key)
        while len(self._values) > self.size:
            self._values.popitem(last=False)
        return computed


_CACHES: WeakKeyDictionary[Runtime, PictureCache] = WeakKeyDictionary()


def for_runtime(runtime: Runtime) -> PictureCache:
    """Return the cache of one running application (tests start many)."""
    cache = _CACHES.get(runtime)
    if cache is None:
        cache = _CACHES[runtime] = PictureCache()
    return cache
