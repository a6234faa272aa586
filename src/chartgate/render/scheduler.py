"""When charts are rendered: a chart's planned scenarios before its first check runs, and the next
charts' in the background meanwhile, so Helm works while Python judges.

One chart is judged at a time; one background thread renders ahead (the renderer itself runs one
Helm per CPU). The second chart ahead is rendered only while this process is small, so memory stays
near one big chart's renders. A stop (signal, -x, a crashed worker) renders nothing more, and the
renders queued are cancelled."""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:
    from chartgate.discover.charts import Chart
    from chartgate.render.renderer import Renderer
    from chartgate.plan.scenarios import Scenario
    from chartgate.core.stop import StopSwitch

_PREFETCH_DEPTH = 2  # charts rendered ahead of the one being judged
_PREFETCH_RSS_MB = 700  # ... the second of them only while the process is smaller than this


def _current_rss_mb() -> float:
    """This process's resident memory now (Linux /proc; 0 where it cannot be read)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def render_chart(chart: "Chart", scenarios: list["Scenario"], renderer: "Renderer",
                 compared: Iterable[str] = (), others: Callable[[], Iterable["Renderer"]] = tuple) -> None:
    """A chart's planned scenarios; then the `compared` ones under the other Helm versions (`others`),
    so the checks comparing Helm versions find their renders made too."""
    renderer.render_all((chart, s) for s in scenarios)
    compared = set(compared)
    if compared:
        chosen = [s for s in scenarios if s.name in compared]
        for other in others():
            other.render_all((chart, s) for s in chosen)


class RenderScheduler:
    """Renders charts in the order they are judged. `render(name)` makes a chart's renders; `cached(name)`
    says every result of the chart is cached (nothing to render), and `serve(name)` then loads them."""

    def __init__(self, render: Callable[[str], None], *, cached: Callable[[str], bool],
                 serve: Callable[[str], None], stop: "StopSwitch"):
        self._render, self._cached, self._serve, self.stop = render, cached, serve, stop
        # The order charts are judged in (one at a time); known in a serial session, so the next
        # chart's renders are made while this one is judged. Empty: no rendering ahead.
        self.order: list[str] = []
        self._begun: set[str] = set()
        self._ahead: dict[str, Future] = {}
        self._pool: ThreadPoolExecutor | None = None

    def claim(self, name: str) -> bool:
        """True the first time a chart begins (until it ends): only then is it rendered."""
        if name in self._begun:
            return False
        self._begun.add(name)
        return True

    def begin(self, name: str) -> None:
        """The chart's renders, made now (or waited for, when rendered ahead), then the next charts'."""
        if name not in self._ahead and self._cached(name):
            self._serve(name)  # nothing to render: every result is cached
            self._prefetch_after(name)
            return
        ahead = self._ahead.pop(name, None)
        try:
            if ahead is not None:
                ahead.result()
            else:
                self._render_now(name)
        except Exception:  # noqa: BLE001 - no usable Helm, or a bug: each check renders (and reports) itself
            pass
        self._prefetch_after(name)

    def _prefetch_after(self, name: str) -> None:
        """Render the next chart in the background - and the one after it while this process is
        small, so Helm keeps both cores busy while Python judges (memory stays near one chart's
        renders for big charts, which is what the limit protects)."""
        if self.stop.requested:
            return
        following = self.order[self.order.index(name) + 1:] if name in self.order else []
        for depth, upcoming in enumerate(following[:_PREFETCH_DEPTH]):
            if depth and _current_rss_mb() > _PREFETCH_RSS_MB:
                break
            if upcoming not in self._ahead and not self._cached(upcoming):
                self._ahead[upcoming] = self._background().submit(self._render_now, upcoming)

    def _render_now(self, name: str) -> None:
        self.stop.check()  # queued before a stop
        self._render(name)

    def _background(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chartgate-prefetch")
        return self._pool

    def end(self, name: str) -> None:
        self._begun.discard(name)

    def shutdown(self) -> None:
        """An interrupted run does not wait for the next chart's renders."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
