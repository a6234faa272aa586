"""The run's results as the result cache keeps them across runs: each chart's key over everything its
checks can observe (resultcache.py says what), a check's cached result or its judgement stored, and a
chart whose every result is cached served without loading a render."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

from chartgate.check.definition import Outcome, Result, file_sha256
from chartgate.core.errors import ChartgateError
from chartgate.render.renderer import RenderSummary
from chartgate.check.resultcache import ResultCache, chart_key

if TYPE_CHECKING:
    from chartgate.discover.chartconfig import EffectiveSettings
    from chartgate.discover.charts import Chart
    from chartgate.check.context import ChartContext
    from chartgate.render.renderer import Renderer
    from chartgate.plan.scenarios import Scenario


@dataclass(frozen=True)
class KeyInputs:
    """The run's settings in every chart's key."""

    cache_dir: Path | None  # None: nothing is cached
    other_helm_versions: tuple[str, ...]
    kube_versions: tuple[str, ...]
    target_kube: str
    files: tuple[Path | None, ...]  # the platform file, the waivers file, the configuration file
    judge_test_hooks: bool


class ResultStore:
    """Cached results of the run's checks (`checks`: the checks this session runs, per chart)."""

    def __init__(self, inputs: KeyInputs, *, charts: Mapping[str, "Chart"],
                 plans: Callable[[], Mapping[str, list["Scenario"]]], platform: Callable[[], dict],
                 helm_sha256: Callable[[], str], chart_settings: Callable[[str], "EffectiveSettings"],
                 module_sha: Callable, context: Callable[[str], "ChartContext"],
                 renderer: Callable[[], "Renderer"], checks: Mapping[str, list],
                 secrets_of: Callable[[str], dict], absorb: Callable[[dict], None]):
        self.inputs, self.charts, self._plans, self._platform = inputs, charts, plans, platform
        self._helm_sha256, self._chart_settings, self._module_sha = helm_sha256, chart_settings, module_sha
        self._context, self._renderer, self.checks = context, renderer, checks
        self._secrets_of, self._absorb = secrets_of, absorb
        self.cache = ResultCache(inputs.cache_dir)
        self.from_cache: set[str] = set()  # charts served without a render
        self._keys: dict[str, str | None] = {}

    def judged(self, check, judge: Callable[[object], Result]) -> Result:
        """The check's result from the cache when nothing it can see changed, else `judge(check)` now."""
        key, module, extra = self.coordinates(check)
        cached = self.cache.get(key, check.policy.id, module, check.scenario, extra) if module else None
        if cached is not None:
            return Result.from_dict(cached, check.policy)
        result = judge(check)
        if module and not (check.policy.cache_extra is not None and result.outcome is not Outcome.PASSED):
            # What the check read, as it stands after the check (it may have written it: a new golden
            # file). A failure of such a check is not cached: it may depend on how the run treats what
            # it read (--update-golden rewrites a drifted golden file, a check-only run reports it).
            extra = self.coordinates(check)[2]
            self.cache.put(key, check.policy.id, module, check.scenario, result.to_dict(), extra)
        return result

    def coordinates(self, check) -> tuple[str | None, str, str]:
        """(chart key, policy module sha256, what else the check reads) of a check's cached result."""
        policy = check.policy
        module = self._module_sha(policy)
        key = self.key(check.chart) if not check.disabled else None
        extra = ""
        if key is not None and policy.cache_extra is not None:
            try:
                extra = policy.cache_extra(self._context(check.chart), check.scenario)
            except ChartgateError:
                key = None
        return key, module, extra

    def served_by_cache(self, name: str) -> bool:
        """Every check this session runs on the chart has a cached result, and the chart's render
        summaries and redaction state are cached too: its renders need not be loaded at all."""
        checks = self.checks.get(name)
        key = self.key(name)
        if not checks or key is None:
            return False
        renders, secrets = self.cache.chart_state(key)
        if not secrets or any(s.name not in renders for s in self._plans()[name]):
            return False
        for check in checks:
            if check.disabled:
                continue
            key, module, extra = self.coordinates(check)
            if not module or not self.cache.peek(key, check.policy.id, module, check.scenario, extra):
                return False
        return True

    def serve(self, name: str) -> None:
        """Load the chart's render summaries and what its renders taught the redactor, from the cache."""
        renders, secrets = self.cache.chart_state(self.key(name))
        renderer = self._renderer()
        for scenario in self._plans()[name]:
            renderer.remember(self.charts[name], scenario, RenderSummary.from_dict(renders[scenario.name]))
        self._absorb(secrets)
        self.from_cache.add(name)

    def keep_chart_state(self, name: str) -> None:
        """Before a chart's renders are released: what the reports and the redactor need of them, for a
        later run that finds every result cached."""
        key = self.key(name)
        if key is None or name in self.from_cache:
            return
        chart, renderer, renders = self.charts[name], self._renderer(), {}
        for scenario in self._plans()[name]:
            summary = renderer.summary(chart, scenario)
            if summary is None:
                return  # a partial run (-k): not every scenario was rendered
            renders[scenario.name] = summary.to_dict()
        self.cache.put_chart_state(key, renders, self._secrets_of(name) or {"literals": [], "names": []})

    def key(self, name: str) -> str | None:
        """Everything a check of chart `name` can observe (see resultcache.py), or None (no caching)."""
        inputs = self.inputs
        if inputs.cache_dir is None or name not in self.charts:
            return None
        if name not in self._keys:
            chart, plan = self.charts[name], self._plans()[name]
            try:
                helm = [self._helm_sha256(), *inputs.other_helm_versions]
            except ChartgateError:
                return None
            scenarios = [{"name": s.name, "kind": s.kind.value, **s.describe_inputs(), "release": s.release,
                          "namespace": s.namespace, "toggle": s.toggle,
                          "values": [file_sha256(p) for p in s.values_files]} for s in plan]
            settings = self._chart_settings(name)
            # Every file a check of the chart can read beside its tree, by content (resultcache.py).
            files = [chart.blueprint_path, *inputs.files, *(p for s in plan for p in s.values_files),
                     *(s.extra.get("source") for s in plan)]
            self._keys[name] = chart_key(
                chart_digest=chart.digest, plan=scenarios, platform=self._platform(),
                kube_versions=inputs.kube_versions, helm=helm, target_kube=inputs.target_kube,
                settings={"profile": chart.profile, "enable": settings.enable, "disable": settings.disable,
                          "constraints": sorted(settings.constraints), "judge_test_hooks": inputs.judge_test_hooks},
                files=files)
        return self._keys[name]

    def save(self) -> None:
        self.cache.save()
