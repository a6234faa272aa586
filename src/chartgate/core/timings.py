"""Where a run's time goes: wall and CPU per phase (discover, plan, render, parse, each policy family,
report), Helm's own CPU, peak memory - recorded in every report's `timings` - and each chart's cost,
which balances `--shard I/N` on the next run (`chartgate-timings.json`, see selection.balanced_shards).

CPU is the process's (all threads); Helm's CPU is that of the child processes chartgate waited for.
Phases nest (a check may render a variant; planning renders each chart's defaults once), so they do
not add up to the total - each says how long chartgate spent inside it.
"""

from __future__ import annotations

import json
import resource
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from chartgate.core.yamlio import SHARED_FILE_MODE, write_atomic

TIMINGS_FILE = "chartgate-timings.json"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Timings:
    phases: dict[str, dict[str, float]] = field(default_factory=dict)
    chart_seconds: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _started: tuple[float, float, float] = field(default_factory=lambda: (time.perf_counter(), time.process_time(),
                                                                          _children_cpu()), repr=False)

    def add(self, phase: str, wall: float, cpu: float = 0.0, **counts: float) -> None:
        with self._lock:
            entry = self.phases.setdefault(phase, {"wall": 0.0, "cpu": 0.0})
            entry["wall"] += wall
            entry["cpu"] += cpu
            for name, value in counts.items():
                entry[name] = entry.get(name, 0) + value

    @contextmanager
    def phase(self, name: str, chart: str | None = None):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - wall
            self.add(name, elapsed, time.process_time() - cpu)
            if chart is not None:
                self.charge(chart, elapsed)

    def charge(self, chart: str, seconds: float) -> None:
        with self._lock:
            self.chart_seconds[chart] = self.chart_seconds.get(chart, 0.0) + seconds

    def to_dict(self) -> dict:
        wall0, cpu0, children0 = self._started
        with self._lock:
            phases = {name: {k: round(v, 3) for k, v in entry.items()} for name, entry in sorted(self.phases.items())}
        return {
            "total": {"wall": round(time.perf_counter() - wall0, 3), "cpu": round(time.process_time() - cpu0, 3),
                      "helm_cpu": round(_children_cpu() - children0, 3)},
            "phases": phases,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "chart_seconds": {name: round(s, 3) for name, s in sorted(self.chart_seconds.items())},
        }


def load_chart_costs(path: Path | None) -> dict[str, float]:
    """Per-chart seconds of an earlier run (a committed chartgate-timings.json); {} when absent."""
    if path is None or not Path(path).is_file():
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    costs = data.get("chart_seconds") if isinstance(data, dict) else None
    if not isinstance(costs, dict):
        return {}
    return {str(k): float(v) for k, v in costs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def write_chart_costs(path: Path, chart_seconds: dict[str, float]) -> None:
    """Merge this run's per-chart seconds into `path` (meant to be committed: shards balance on it)."""
    costs = load_chart_costs(path)
    costs.update({k: round(v, 2) for k, v in chart_seconds.items()})
    write_atomic(path, json.dumps({"chart_seconds": dict(sorted(costs.items()))}, indent=1) + "\n",
                 mode=SHARED_FILE_MODE)
