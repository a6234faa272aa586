"""Bounded memos that the gate empties when a chart's checks are done (`clear_all()`), so memory
stays bounded by one chart's renders.

`KeyedMemo` memoises by a key (a content digest: each distinct document is parsed once).
`IdentityMemo` memoises by an object's identity (rendered bodies and render lists are shared between
the scenarios that render the same thing, so per-object work keyed by identity is done once per
distinct object); it holds the object it keys on, so an identity is never reused while cached."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

_REGISTRY: list["KeyedMemo"] = []
_MISSING = object()


class KeyedMemo:
    """A thread-safe LRU memo of at most `size` entries. A value is computed outside the lock (two
    threads may compute the same value at once; the later one is kept)."""

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # how many values were computed, not found (tests assert reuse)
        _REGISTRY.append(self)

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        value = self._cached(key)
        if value is _MISSING:
            value = compute()
            self._store(key, value)
        return value

    def _cached(self, key: Hashable) -> Any:
        with self._lock:
            if key not in self._entries:
                return _MISSING
            self._entries.move_to_end(key)
            return self._entries[key]

    def _store(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self.computed += 1
            self._entries[key] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class IdentityMemo(KeyedMemo):
    """A bounded memo keyed by an object's identity: `get(obj, compute)` runs `compute(obj)` once per
    distinct object (a rendered body shared by several scenarios is judged once); emptied when the
    chart's checks are done."""

    def get(self, obj: Any, compute: Callable[[Any], Any]) -> Any:  # type: ignore[override]
        # The entry holds `obj`, so while it is cached no other object can have its id.
        entry = self._cached(id(obj))
        if entry is _MISSING:
            entry = (obj, compute(obj))
            self._store(id(obj), entry)
        return entry[1]


def clear_all() -> None:
    for memo in _REGISTRY:
        memo.clear()
