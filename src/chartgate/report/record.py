"""The run record: one immutable account of a finished run, built once by the engine (`recorder.record_run`)
and the only thing the writers read - the report model (JSON, JUnit, Markdown, HTML, SARIF), the
evidence bundle and the terminal summary. It holds no Gate and no Renderer: what a writer needs is
copied in as plain, read-only data (frozen dataclasses, tuples, read-only mappings), plus the run's
Redactor, built once from the gate's inputs and handed down, and a narrow accessor to the rendered
manifests for the evidence bundle.

`chartgate merge` builds the same report model from shard reports (`report.merge`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from chartgate.check.definition import Outcome, Result
from chartgate.report.redact import Redactor

if TYPE_CHECKING:
    from chartgate.render.renderer import Render
    from chartgate.check.waivers import Waiver


def freeze(data: Any) -> Any:
    """A read-only copy of JSON-like data: mappings become read-only mappings, lists tuples."""
    if isinstance(data, Mapping):
        return MappingProxyType({key: freeze(value) for key, value in data.items()})
    if isinstance(data, (list, tuple)):
        return tuple(freeze(item) for item in data)
    return data


def thaw(data: Any) -> Any:
    """A plain, mutable copy of frozen data (the report model is a JSON-able dict)."""
    if isinstance(data, Mapping):
        return {key: thaw(value) for key, value in data.items()}
    if isinstance(data, tuple):
        return [thaw(item) for item in data]
    return data


@dataclass(frozen=True)
class GoldenChanges:
    """What the run did to the golden files, and the files no scenario produced."""
    dir: Path
    written: tuple[Path, ...] = ()
    removed: tuple[Path, ...] = ()
    orphans: tuple[Path, ...] = ()  # a red gate: produced by no scenario, not removed


@dataclass(frozen=True)
class BaselineState:
    """The baseline the run used, or wrote."""
    file: Path | None
    entries: int
    baselined_findings: int
    stale: tuple[Mapping, ...] = ()  # entries nothing in this run matched (reported; never red)
    written: tuple[str, int] | None = None  # (file, entries) under --write-baseline
    refused: str | None = None  # why --write-baseline wrote nothing


@dataclass(frozen=True)
class WaiverState:
    file: Path | None
    entries: tuple["Waiver", ...] = ()
    expired: tuple["Waiver", ...] = ()  # a red gate
    unused: tuple["Waiver", ...] = ()


@dataclass(frozen=True)
class RenderedManifests:
    """The run's renders, for the evidence bundle: iterating yields (member stem, Render) - each planned
    scenario as `manifests/<chart>/<scenario>`, each ad-hoc variant under `.../variants/<name>`. Renders
    released after their chart's checks come back from the render cache; nothing else is reachable."""
    _walk: Callable[[], Iterator[tuple[str, "Render"]]] = field(default=lambda: iter(()), repr=False)

    def __iter__(self) -> Iterator[tuple[str, "Render"]]:
        return self._walk()


@dataclass(frozen=True)
class RunRecord:
    """Everything the writers need about a finished run; assigning to it raises."""
    results: tuple[Result, ...]  # sorted by (chart, policy, scenario)
    provenance: Mapping  # tool, Helm, times, git commit, shard, platform, chart roots (report keys)
    charts: tuple[Mapping, ...]  # per chart: identity, dependencies, judged, scenarios (inputs, command, render)
    plans: Mapping  # chart -> its combination plan (coverage, estimate), when planned
    partial_coverage: Mapping  # chart -> combinations its covering plan left uncovered (budget spent)
    broken_charts: tuple[Mapping, ...]
    excluded_charts: tuple[Mapping, ...]
    policy_modules: Mapping  # module path -> sha256
    repository: Path  # where the reports are read: policy references are resolved against it
    golden: GoldenChanges
    waivers: WaiverState
    baseline: BaselineState
    incomplete: str | None  # why the run did not judge everything it planned
    partial: Mapping | None  # what of the whole gate the run did not select (partial.Scope)
    unreported_render_failures: tuple[tuple[str, str], ...]
    fail_on: str
    fail_on_upstream: bool
    update_golden: bool
    blocking: tuple[Result, ...]  # verdict.blocking_results: the one rule
    render_stats: Mapping | None  # None when nothing could be rendered (no Helm)
    timings: Mapping
    report_dir: Path
    redactor: Redactor = field(repr=False, compare=False)
    manifests: RenderedManifests = field(default_factory=RenderedManifests, repr=False, compare=False)

    @property
    def blocking_seen(self) -> bool:
        """Did the run see anything that blocks the gate - a blocking result (verdict.result_is_blocking),
        an orphaned golden file, an expired waiver, a render failure nothing reported? A partial or
        incomplete run can have: its exit status is then 1, not 2 (core.exitcodes)."""
        return bool(self.blocking or self.golden.orphans or self.waivers.expired or self.unreported_render_failures)

    @property
    def red(self) -> bool:
        return bool(self.incomplete or self.blocking_seen)

    @property
    def verdict(self) -> str:
        """`passed`, `failed`, `partial` or `incomplete`. Only `passed` is green: a partial run that
        found nothing blocking judged only part of the gate, so it says `partial`."""
        if self.incomplete:
            return "incomplete"
        if self.red:
            return "failed"
        return "partial" if self.partial else "passed"

    def per_chart(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for r in self.results:
            row = counts.setdefault(r.chart, {o.value: 0 for o in Outcome})
            row[r.outcome.value] += 1
        return dict(sorted(counts.items()))


@dataclass
class GateSummary:
    """What `Gate.finish` returns: the run record and the report files written from it (the plugin adds
    the evidence bundle). A thin view: every fact is the record's."""
    record: RunRecord
    reports: dict[str, Path] = field(default_factory=dict)

    @property
    def results(self) -> tuple[Result, ...]:
        return self.record.results

    @property
    def orphans(self) -> list[Path]:
        return list(self.record.golden.orphans)

    @property
    def removed(self) -> list[Path]:
        return list(self.record.golden.removed)

    @property
    def written(self) -> list[Path]:
        return list(self.record.golden.written)

    @property
    def incomplete(self) -> str | None:
        return self.record.incomplete

    @property
    def partial(self) -> dict | None:
        return thaw(self.record.partial)

    @property
    def baseline_written(self) -> tuple[str, int] | None:
        return self.record.baseline.written

    @property
    def baseline_refused(self) -> str | None:
        return self.record.baseline.refused

    @property
    def stale_baseline(self) -> list[dict]:
        return thaw(self.record.baseline.stale)

    @property
    def verdict(self) -> str:
        return self.record.verdict

    @property
    def red(self) -> bool:
        return self.record.red

    @property
    def blocking(self) -> list[Result]:
        return list(self.record.blocking)

    @property
    def unreported_render_failures(self) -> list[tuple[str, str]]:
        return list(self.record.unreported_render_failures)

    @property
    def expired_waivers(self) -> list["Waiver"]:
        return list(self.record.waivers.expired)

    @property
    def unused_waivers(self) -> list["Waiver"]:
        return list(self.record.waivers.unused)

    def per_chart(self) -> dict[str, dict[str, int]]:
        return self.record.per_chart()
