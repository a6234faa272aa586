"""Who owns a finding: the chart's own templates (`own`) or a vendored subchart's (`upstream`).

Helm names each rendered object's template in its `# Source:` header, e.g.
`shop/charts/redis/templates/statefulset.yaml`: an object made by a template under `charts/<dep>/`
is the dependency's code. A team gating only what it wrote sets `fail-on-upstream = false`: upstream
findings are still reported, they do not block.

A dependency that lives in the same repository (a `file://` dependency whose source chart the run
also judges) is judged where its templates live. Its findings are not reported again under each
umbrella that vendors it - the umbrella's result counts them (`judged_in`) instead. That must never
make the verdict greener, so a finding is moved only when the dependency's own judgement in this run
sees the same templates with the same values:
- the source chart is judged in this run (selected, loaded, the same policy not disabled on it);
- the vendored copy is the source chart byte for byte (else the umbrella ships other code);
- the umbrella passes the dependency nothing of its own: no `<dep>:` or `global:` key in its
  values.yaml or in the scenario's values files, no `--set global.`, and the source chart has no
  overlay base of its own; the only `--set <dep>.x=v` lines are the umbrella's plan exploring the
  dependency's toggles, and the source chart has a scenario of its own setting exactly those `x=v`
  (its default scenario when there are none) - so the subchart renders as the source chart does in
  that scenario (its "twin"); for a per-scenario check, the twin advertises the same APIs and
  Kubernetes version, and the policy judges the twin.
Otherwise the finding stays with the umbrella. (Names derived from the release name differ between
the two renders; a finding that depends only on the release name is the umbrella's own input anyway.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chartgate.check.definition import Finding, Outcome, Result
from chartgate.core.values import get_path, split_dotted
from chartgate.core.yamlio import load_text, read_text

if TYPE_CHECKING:
    from chartgate.engine.gate import Gate, PlannedCheck


def counts_against(finding: Finding, fail_on_upstream: bool) -> bool:
    """Does the finding make its result block? Not when baselined, nor upstream with fail-on-upstream off."""
    return not finding.baselined and (fail_on_upstream or finding.dependency is None)


def result_blocks(result: Result, fail_on_upstream: bool) -> bool:
    """A failed result blocks (at a blocking severity) unless none of its findings counts against it."""
    return not result.findings or any(counts_against(f, fail_on_upstream) for f in result.findings)


class SameRepoDependencies:
    """Moves a finding from an umbrella to the dependency chart that is judged in the same run."""

    def __init__(self, gate: "Gate"):
        self.gate = gate
        self._verdicts: dict[tuple, str | None] = {}

    def apply(self, check: "PlannedCheck", result: Result) -> Result:
        if not result.findings or check.chart not in self.gate.charts:
            return result
        kept, moved = [], {}
        for finding in result.findings:
            dep = finding.dependency
            judged_in = self._judged_in(check, dep) if dep else None
            if judged_in:
                moved[judged_in] = moved.get(judged_in, 0) + 1
            else:
                kept.append(finding)
        if not moved:
            return result
        result.findings, result.judged_in = kept, moved
        if not kept and result.outcome is Outcome.FAILED:
            result.outcome = Outcome.PASSED
            result.message = "; ".join(f"{n} finding(s) judged in chart {c}" for c, n in sorted(moved.items()))
        return result

    def _judged_in(self, check: "PlannedCheck", dep: str) -> str | None:
        key = (check.chart, check.scenario, check.policy.id, dep)
        if key not in self._verdicts:
            self._verdicts[key] = self._decide(check, dep)
        return self._verdicts[key]

    def _decide(self, check: "PlannedCheck", dep: str) -> str | None:
        gate, umbrella = self.gate, self.gate.charts[check.chart]
        found = next(((d, umbrella.subcharts.get(d.key)) for d in umbrella.dependencies
                      if dep in (d.key, d.name)), None)
        if found is None or found[1] is None or not found[0].repository.startswith("file://"):
            return None
        declared, vendored = found
        source = gate.charts.get(vendored.name)
        if source is None or source.name == umbrella.name or source.digest != vendored.digest:
            return None
        policy = check.policy
        if gate.chart_settings(source.name).disabled_reason(policy.id, always_judged=policy.always_judged):
            return None
        if gate.bases[source.name].files:  # judged with an overlay the umbrella does not pass it
            return None
        scenarios = gate.plans.get(umbrella.name, [])
        if check.scenario is not None:
            scenarios = [s for s in scenarios if s.name == check.scenario]
        if _passes_values(umbrella.values, declared.key):
            return None
        own = gate.plans.get(source.name, [])
        for scenario in scenarios:
            twins = _twins(scenario, declared.key, source.values, own)
            if check.scenario is not None:  # a per-scenario check: a twin must be judged alike
                twins = [t for t in twins if sorted(t.api_versions) == sorted(scenario.api_versions)
                         and t.kube_version == scenario.kube_version and check.policy.applies_to(t)]
            if not twins:
                return None
        return source.name


def _twins(scenario, key: str, defaults: dict | None, own: list) -> list:
    """The source chart's own scenarios that render the dependency as the umbrella's `scenario` does:
    the umbrella passes it nothing but `--set <key>.x=v` lines, and the source sets exactly those
    `x=v` (lines equal to the source's defaults change nothing on either side). None when the
    umbrella passes the dependency anything else."""
    if _values_files_pass(scenario, key):
        return []
    passed = {}
    for k, value in scenario.set_values:
        if k == key or k == "global" or k.startswith("global."):
            return []
        if k.startswith(f"{key}."):
            passed[k[len(key) + 1:]] = value
    wanted = _changed(passed, defaults)
    return [s for s in own if not s.values_files and _changed(dict(s.set_values), defaults) == wanted]


def _changed(sets: dict, defaults: dict | None) -> dict:
    missing = object()
    return {k: v for k, v in sets.items() if get_path(defaults or {}, split_dotted(k), missing) != v}


def _passes_values(values: dict | None, key: str) -> bool:
    return isinstance(values, dict) and (key in values or "global" in values)


def _values_files_pass(scenario, key: str) -> bool:
    for path in scenario.values_files:
        try:
            if _passes_values(load_text(read_text(path, what="values file"), str(path)), key):
                return True
        except Exception:  # noqa: BLE001 - unreadable: the render reports it; never move findings then
            return True
    return False
