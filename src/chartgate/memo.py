"""Memos keyed by an object's identity (rendered bodies and render lists are shared between the
scenarios that render the same thing, so per-object work keyed by identity is done once per distinct
object). Each memo holds what it keys on, so an identity is never reused while cached, and is
bounded. `clear_all()` drops every registered memo: the gate calls it when a chart's checks are done,
so memory stays bounded by one chart's renders."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable

_REGISTRY: list["IdentityMemo"] = []
_CLEARERS: list[Callable[[], None]] = []


class IdentityMemo:
    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict[int, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # how many values were computed, not found (tests assert reuse)
        _REGISTRY.append(self)

    def get(self, obj: Any, compute: Callable[[Any], Any]) -> Any:
        key = id(obj)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] is obj:
                self._entries.move_to_end(key)
                return entry[1]
        value = compute(obj)
        with self._lock:
            self.computed += 1
            self._entries[key] = (obj, value)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def on_clear(clear: Callable[[], None]) -> None:
    """Register another cache to drop with the memos (e.g. the shared parsed documents)."""
    _CLEARERS.append(clear)


def clear_all() -> None:
    for memo in _REGISTRY:
        memo.clear()
    for clear in _CLEARERS:
        clear()
