"""What a run covers: the charts under the chart roots, those `exclude-charts`, --changed-since and
--shard leave out, the per-chart settings, the platform file and the HelmRelease files."""

from __future__ import annotations

import fnmatch
import glob
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from chartgate.discover.capabilities import advertised_apis
from chartgate.discover.chartconfig import ChartSettings, EffectiveSettings, parse_chart_settings, settings_for
from chartgate.discover.charts import BrokenChart, Chart, discover
from chartgate.core.errors import ChartgateError
from chartgate.core.kube import DEFAULT_KUBE_VERSION
from chartgate.discover.platform import load_platform
from chartgate.plan.releases import release_scenarios
from chartgate.discover.selection import assignment, changed_charts, changed_files, parse_shard, with_dependents
from chartgate.core.timings import Timings, load_chart_costs

if TYPE_CHECKING:
    from chartgate.engine.gate import GateConfig


class Discovery:
    """The run's charts and their settings, each found once, on first use."""

    def __init__(self, config: "GateConfig", timings: Timings):
        self.config, self.timings = config, timings
        self.shard_assignment: dict[str, int] = {}  # chart -> shard, under --shard
        self.charts_left_out: list[str] = []  # by --changed-since

    @cached_property
    def discovered(self) -> list[Chart | BrokenChart]:
        for root in self.config.chart_roots:
            if not Path(root).is_dir():
                raise ChartgateError(f"--chart-root must be a directory, given: {root}")
        with self.timings.phase("discover"):
            return discover(self.config.chart_roots)

    @cached_property
    def excluded(self) -> dict[str, tuple[Path, str]]:
        """Charts `exclude-charts` leaves out (loaded or not): name -> (path, the glob). Never judged,
        always listed in the reports."""
        found = {}
        for chart in self.discovered:
            pattern = next((g for g in self.config.exclude_charts if fnmatch.fnmatchcase(chart.name, g)), None)
            if pattern is not None:
                found[chart.name] = (chart.path, pattern)
        return found

    @cached_property
    def selected(self) -> set[str]:
        """Names of the charts this run covers, after exclude-charts, --changed-since and --shard."""
        loaded = {c.name: c for c in self.discovered if isinstance(c, Chart) and c.name not in self.excluded}
        names = {c.name for c in self.discovered} - set(self.excluded)
        if self.config.changed_since:
            changed = changed_files(Path(self.config.chart_roots[0]), self.config.changed_since)
            kept = self._changed_selection(loaded, changed) | {
                b.name for b in self.discovered if isinstance(b, BrokenChart)
                and any(b.path.resolve() in p.parents for p in changed)} - set(self.excluded)
            self.charts_left_out, names = sorted(names - kept), kept
        if self.config.shard:
            index, total = parse_shard(self.config.shard)
            placed = assignment(sorted(names), total, load_chart_costs(self.config.timings_file))
            self.shard_assignment = placed
            names = {name for name, where in placed.items() if where == index}
        return names

    def _changed_selection(self, loaded: dict[str, Chart], changed: set[Path]) -> set[str]:
        """Charts a change can affect: its own files (and its dependents, see selection.py), its cluster
        overlays, the HelmReleases that install it - and every chart when the platform file, the
        waivers, the configuration or any Python file outside the charts (a policy module, chartgate
        itself) changed."""
        global_files = {Path(p).resolve() for p in (self.config.platform_file, self.config.waivers_file,
                                                     self.config.config_file) if p}
        chart_dirs = [c.path.resolve() for c in loaded.values() if c.path is not None]
        for path in changed:
            inside_chart = any(d == path or d in path.parents for d in chart_dirs)
            if path in global_files or (path.suffix == ".py" and not inside_chart):
                return set(loaded)
        touched = set(changed_charts(loaded, changed))
        for root in self.config.overlay_roots:
            root = Path(root).resolve()
            touched |= {path.relative_to(root).parts[0] for path in changed
                        if root in path.parents and len(path.relative_to(root).parts) > 1} & set(loaded)
        releases = [p for p in self.release_files if p.resolve() in changed]
        if releases:
            touched |= {name for name, chart in loaded.items()
                        if release_scenarios(chart, releases, advertised_apis(chart))}
        return with_dependents(loaded, touched)

    @cached_property
    def charts(self) -> dict[str, Chart]:
        charts = {c.name: c for c in self.discovered if isinstance(c, Chart) and c.name in self.selected}
        for name, chart in charts.items():
            chosen = self.chart_settings(name).profile
            if chosen:
                chart.profile = chosen
        return charts

    @cached_property
    def broken(self) -> dict[str, BrokenChart]:
        return {c.name: c for c in self.discovered if isinstance(c, BrokenChart) and c.name in self.selected}

    def chart_settings(self, name: str) -> EffectiveSettings:
        """The per-chart configuration that applies to `name` (platform file first, then pyproject)."""
        return settings_for(name, self.setting_entries)

    @cached_property
    def setting_entries(self) -> tuple[ChartSettings, ...]:
        from_platform = parse_chart_settings(self.platform.raw.get("charts") or {}, self.platform.source)
        return from_platform + tuple(self.config.chart_settings)

    @cached_property
    def release_files(self) -> list[Path]:
        return sorted({Path(p) for pattern in self.config.release_globs
                       for p in glob.glob(str(pattern), recursive=True) if Path(p).is_file()})

    @cached_property
    def platform(self):
        return load_platform(self.config.platform_file)

    @cached_property
    def kube_versions(self) -> tuple[str, ...]:
        return tuple(self.config.kube_versions or self.platform.kubernetes_versions or (DEFAULT_KUBE_VERSION,))
