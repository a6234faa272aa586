"""Test your own policies in your own repository: render a chart with the real Helm and judge it.

    from chartgate.testing import judge

    def test_a_chart_without_limits_fails():
        judged = judge("charts/web", my_policy, values={"resources": {}})
        assert judged.outcome == "failed"

`judge` renders ONE scenario - the chart's defaults, plus the `values` and `api_versions` you give -
with the same Helm the gate uses (`HELM_BIN`, the pinned binary of `chartgate tools install`, or
`helm` on PATH), and runs your policies through the gate's own judging: applicability (the profile,
requirements and kinds of `applies_to=Applicability(...)`), `NotApplicable`, the checks of what a
check yields, and waivers when you pass a waivers file. A policy declared with receives="chart" sees
a ChartContext whose only scenario is that one.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable

import yaml

from chartgate.core.errors import ChartgateError
from chartgate.check.definition import Finding, Policy, Result, policies_in
from chartgate.render.renderer import Render
from chartgate.plan.scenarios import ChartBase, Scenario, ScenarioKind
from chartgate.render.toolchain import DEFAULT_HELM_VERSION

__all__ = ["Judged", "Result", "judge", "load_policies"]


@dataclass
class Judged:
    """What `judge` found: one Result per policy that ran, and the render they judged."""

    results: list[Result]
    render: Render = field(repr=False)

    @property
    def outcome(self) -> str:
        """The outcome (`passed`, `failed`, `waived`, `skipped` or `error`) of the one policy judged.
        With several policies, read `outcomes` instead."""
        if len(self.results) != 1:
            raise ValueError(f"{len(self.results)} policies were judged ({sorted(self.outcomes)}); "
                             "read judged.outcomes[policy_id] instead of judged.outcome")
        return self.results[0].outcome.value

    @property
    def outcomes(self) -> dict[str, str]:
        """Policy id -> outcome value, e.g. {"WEB-001": "failed"}."""
        return {r.policy.id: r.outcome.value for r in self.results}

    @property
    def findings(self) -> list[Finding]:
        """Every finding of every policy judged (waived findings included)."""
        return [f for r in self.results for f in r.findings]

    @property
    def messages(self) -> list[str]:
        """The error or skip messages of results that have one (why a policy errored or was skipped)."""
        return [f"{r.policy.id}: {r.message}" for r in self.results if r.message]


def load_policies(source: Any) -> list[Policy]:
    """The policies in `source`: a Policy, a module, a path to a policy file (`policies/web.py`), or an
    iterable of any of these."""
    if isinstance(source, Policy):
        return [source]
    if isinstance(source, ModuleType):
        return policies_in(source)
    if isinstance(source, (str, Path)):
        from chartgate.check.loader import load_policy_module
        path = Path(source)
        if not path.is_file():
            raise ChartgateError(f"policy file {path} does not exist")
        return policies_in(load_policy_module(path.resolve()))
    if isinstance(source, Iterable):
        return [p for item in source for p in load_policies(item)]
    raise TypeError(f"judge() takes a Policy, a policy module, a policy file or a list of them, "
                    f"not {type(source).__name__}")


def judge(chart: str | Path, policies: Any, *, values: dict | None = None, api_versions: Iterable[str] = (),
          kind: ScenarioKind | str = ScenarioKind.DEFAULT, kube_version: str | None = None,
          waivers: str | Path | None = None, today: date | None = None,
          helm_version: str = DEFAULT_HELM_VERSION) -> Judged:
    """Render the chart directory `chart` once with the real Helm and judge it with `policies`.

    `values` are layered over the chart's defaults (as `helm template -f`); `api_versions` are
    advertised to `.Capabilities.APIVersions` (e.g. `["monitoring.coreos.com/v1"]`); `kind` is the
    scenario kind the render stands for (a receives="scenario" policy declared for other kinds is not
    run: that is an error here, so a test cannot pass by judging nothing); `kube_version` is the target Kubernetes
    version; `waivers` a waivers file applied as the gate applies it, with `today` the date its
    expiries are judged against (default: the real date).

    A render Helm refuses raises chartgate.RenderError (Helm's message and the command), unless a
    policy declares `applies_to=Applicability(failed_renders=True)`."""
    from chartgate.engine.gate import Gate, GateConfig  # the gate imports the whole engine: only when judging
    from chartgate.settings import default_tools_dir

    chosen = load_policies(policies)
    if not chosen:
        raise ChartgateError(f"no policy found in {policies!r}")
    chart_dir = Path(chart)
    if not (chart_dir / "Chart.yaml").is_file():
        raise ChartgateError(f"{chart_dir} is not a chart directory (no Chart.yaml in it)")
    kind = ScenarioKind(kind)
    with tempfile.TemporaryDirectory(prefix="chartgate-judge-") as scratch:
        work = Path(scratch)
        values_files: tuple[Path, ...] = ()
        if values:
            values_files = (work / "values.yaml",)
            values_files[0].write_text(yaml.safe_dump(values, sort_keys=False))
        config = GateConfig(chart_roots=(chart_dir,), overlay_roots=(), report_dir=work / "reports",
                            golden_dir=work / "golden", cache_dir=None, helm_versions=(helm_version,),
                            tools_dir=default_tools_dir(Path.cwd()),  # where the gate looks for Helm
                            kube_versions=(kube_version,) if kube_version else None,
                            waivers_file=Path(waivers) if waivers else None, today=today)
        gate = Gate(config)
        if gate.broken:
            raise next(iter(gate.broken.values())).error
        name = _the_chart(gate, chart_dir)
        scenario = Scenario(kind.value, kind, values_files, api_versions=tuple(api_versions),
                            description="chartgate.testing.judge")
        # The plan is the one scenario asked for: no toggles, capabilities or covering rows.
        gate.__dict__["plans"] = {name: [scenario]}
        gate.__dict__["bases"] = {name: ChartBase()}
        checks = gate.planned_checks(chosen)
        unplanned = sorted({p.id for p in chosen} - {c.policy.id for c in checks})
        if unplanned:
            raise ChartgateError(f"{', '.join(unplanned)} does not run on a scenario of kind {kind.value!r}: "
                                 f"pass kind= one of the kinds the policy declares in "
                                 f"@policy(applies_to=Applicability(scenarios=...))")
        render = gate.chart_context(name).try_render(scenario)
        if render.error is not None and not any(p.judges_failed_renders for p in chosen):
            raise render.error
        gate.session_checks[name] = checks
        results = [gate.evaluate(check) for check in checks]
        gate.end_chart(name)
        return Judged(results, render)


def _the_chart(gate, chart_dir: Path) -> str:
    """The name of the chart at `chart_dir` itself (a chart's vendored charts/ are not separate)."""
    for name, loaded in gate.charts.items():
        if loaded.path is not None and Path(loaded.path).resolve() == chart_dir.resolve():
            return name
    raise ChartgateError(f"{chart_dir}: no chart found there")
