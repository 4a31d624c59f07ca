"""A small thread-safe LRU cache for values derived from one data version."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

# Values computed (cache misses) since ``count_misses`` in this context (a request), so that
# the web layer can count only the answers that really computed something against a limit.
_misses: ContextVar[list[int] | None] = ContextVar("geoapp_cache_misses", default=None)


# Held around each computation (cache miss) in this context: the web layer sets one for the
# expensive answers, so that at most one of them computes at a time across the workers.
_compute_guard: ContextVar[Callable[[], AbstractContextManager] | None] = ContextVar(
    "geoapp_compute_guard", default=None
)


def count_misses(guard: Callable[[], AbstractContextManager] | None = None) -> list[int]:
    """Start counting the cache misses of this context (the list grows by one per miss), and
    hold ``guard()`` around each computation when given."""
    box: list[int] = []
    _misses.set(box)
    _compute_guard.set(guard)
    return box


class LruCache:
    """Keeps the ``max_entries`` most recently used values."""

    def __init__(self, max_entries: int = 64) -> None:
        self.max_entries = max_entries
        self._values: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]  # type: ignore[return-value]
        box = _misses.get()
        if box is not None:
            box.append(1)
        guard = _compute_guard.get()
        if guard is None:
            value = compute()
        else:
            with guard():
                value = compute()
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.max_entries:
                self._values.popitem(last=False)
        return value
