"""What a policy is: declared metadata plus a pure check function that returns findings.

A policy module defines module-level `Policy` objects (usually with the `@policy` decorator);
chartgate finds them by looking at the module's attributes. Nothing registers itself on import.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

import yaml

if TYPE_CHECKING:
    from .manifests import Manifest
    from .scenarios import ScenarioKind


class Severity(str, Enum):
    ERROR = "error"  # a finding blocks the release
    WARNING = "warning"  # reported; blocks only with --fail-on warning
    INFO = "info"  # information for the chart's owner; never blocks


class Outcome(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    WAIVED = "waived"
    SKIPPED = "skipped"
    ERROR = "error"


class NotApplicable(Exception):
    """Raised by a check when the policy has nothing to judge on this chart (outcome `skipped`)."""


_EXCERPT_LINES = 14


def excerpt(body: Any, max_lines: int = _EXCERPT_LINES) -> str:
    text = yaml.safe_dump(body, sort_keys=False, default_flow_style=False, width=100)
    lines = text.splitlines()
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"# ... {len(lines) - max_lines} more lines"]
    return "\n".join(lines)


@dataclass(frozen=True)
class Finding:
    """One violation: where it is (resource, template, JSONPath) and what to change."""

    message: str
    resource: str = ""  # Kind/namespace/name
    template: str = ""  # the `# Source:` template, or a chart file such as values.yaml
    path: str = ""  # JSONPath of the offending field, e.g. $.spec.ports[0].port
    excerpt: str = ""  # the offending rendered YAML (or values) excerpt, for reports
    line: int | None = None  # line in `template`, when known
    # What causes it, when several policies can report the same cause (e.g. "a domain as a default"):
    # the report groups findings on one object and path with the same cause into one defect.
    cause: str = ""

    @classmethod
    def on(cls, manifest: "Manifest", path: str, message: str, *, value: Any = None) -> "Finding":
        """A finding on a rendered object; the excerpt is the offending value (or the whole object)."""
        shown = value if value is not None else manifest.body
        return cls(message, manifest.resource_id, manifest.source, path, excerpt(shown))

    def to_dict(self) -> dict:
        data = {"resource": self.resource, "template": self.template, "path": self.path, "message": self.message}
        if self.excerpt:
            data["excerpt"] = self.excerpt
        if self.line is not None:
            data["line"] = self.line
        if self.cause:
            data["cause"] = self.cause
        return data


@dataclass(frozen=True)
class Policy:
    """A rule with the metadata an auditor needs, and a check function.

    `scenarios` is None for a chart-level policy (the check receives a ChartContext); otherwise the
    policy runs once per scenario whose kind is listed (or every scenario for "*"), and the check
    receives a ScenarioContext.
    """

    id: str
    title: str
    severity: Severity
    rationale: str
    reference: str
    check: Callable[..., Iterable[Finding]] = field(repr=False, compare=False)
    scenarios: tuple["ScenarioKind | str", ...] | str | None = None
    judges_failed_renders: bool = False  # the check wants scenario renders that failed, too
    module_path: str = field(default="", compare=False)
    # Applicability, checked by the engine before the check runs (see chartgate.applicability):
    # `kinds` - the render (or, chart-level, some planned render) must contain one of these kinds;
    # `requires` - chart facts the rule needs, e.g. "blueprint" for Blueprint-only rules.
    kinds: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    # What else the check reads, beyond the chart and its plan (the result cache's key covers those):
    # cache_extra(chart_context, scenario_name) -> str, e.g. a golden file's digest.
    cache_extra: Callable[..., str] | None = field(default=None, compare=False, repr=False)

    @property
    def family(self) -> str:
        """`OBS` for `OBS-003`: policies are grouped by family in reports and configuration."""
        return self.id.split("-", 1)[0]

    @property
    def per_scenario(self) -> bool:
        return self.scenarios is not None

    def applies_to(self, scenario) -> bool:
        if scenario.kind.value == "bare":  # chart defaults that need input: only render checks judge it
            return self.judges_failed_renders
        if self.scenarios == "*":
            return True
        return scenario.kind in self.scenarios or scenario.name in self.scenarios

    def metadata(self) -> dict:
        return {"id": self.id, "title": self.title, "severity": self.severity.value,
                "rationale": self.rationale, "reference": self.reference, "family": self.family,
                "kinds": list(self.kinds), "requires": list(self.requires)}


def policy(*, id: str, title: str, rationale: str, reference: str, severity: Severity = Severity.ERROR,
           scenarios: Any = None, judges_failed_renders: bool = False, kinds: Iterable[str] = (),
           requires: Iterable[str] = (), cache_extra: Callable[..., str] | None = None) -> Callable[[Callable], Policy]:
    """Declare a policy: `@policy(id="OBS-001", title=..., rationale=..., reference=...)`.

    `kinds=("ServiceMonitor", "PodMonitor")` and `requires=("blueprint",)` declare when the rule
    applies; the engine records `skipped` with a uniform reason where it does not."""
    from .applicability import REQUIREMENTS  # the vocabulary of `requires`

    def wrap(fn: Callable) -> Policy:
        if not fn.__doc__ and not rationale:
            raise TypeError(f"{id}: a policy needs a rationale")
        unknown = sorted(set(requires) - set(REQUIREMENTS))
        if unknown:
            raise TypeError(f"{id}: unknown requires={unknown}; known: {sorted(REQUIREMENTS)}")
        return Policy(id, title, Severity(severity), " ".join(rationale.split()), reference, fn,
                      scenarios if scenarios in (None, "*") else tuple(scenarios), judges_failed_renders,
                      module_path=getattr(fn, "__module__", ""), kinds=tuple(kinds), requires=tuple(requires),
                      cache_extra=cache_extra)
    return wrap


def policies_in(module) -> list[Policy]:
    """The Policy objects a module defines, in id order."""
    found = [value for value in vars(module).values() if isinstance(value, Policy)]
    ids = [p.id for p in found]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise TypeError(f"{module.__name__}: duplicate policy ids {sorted(duplicates)}")
    return sorted(found, key=lambda p: p.id)


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass
class Result:
    """The verdict of one policy on one chart (and scenario)."""

    policy: Policy
    chart: str
    scenario: str | None
    outcome: Outcome
    findings: list[Finding] = field(default_factory=list)
    message: str = ""  # why it errored / was skipped
    command: str = ""  # helm command reproducing the scenario's render
    waiver: dict | None = None
    scenario_inputs: dict | None = None
    # Why a result was skipped or errored by the engine rather than judged by the check:
    # "render-failed" (a planned scenario did not render; RENDER-001 reports it), "infeasible" (a
    # generated input the chart refuses with its own `fail`/`required`), "not-applicable",
    # "policy-error" (the check raised). `cause_scenario` names the scenario concerned.
    cause: str = ""
    cause_scenario: str | None = None

    @property
    def severity(self) -> Severity:
        return self.policy.severity

    @classmethod
    def from_dict(cls, data: dict, policy: Policy) -> "Result":
        """Rebuild a result serialised by `to_dict` (e.g. sent by a pytest-xdist worker)."""
        findings = [Finding(f["message"], f.get("resource", ""), f.get("template", ""), f.get("path", ""),
                            f.get("excerpt", ""), f.get("line"), f.get("cause", ""))
                    for f in data.get("findings", [])]
        return cls(policy, data["chart"], data.get("scenario"), Outcome(data["outcome"]), findings,
                   data.get("message", ""), data.get("command", ""), data.get("waiver"), data.get("scenario_inputs"),
                   data.get("cause", ""), data.get("cause_scenario"))

    def to_dict(self) -> dict:
        data = {
            "policy": self.policy.id,
            "title": self.policy.title,
            "chart": self.chart,
            "scenario": self.scenario,
            "outcome": self.outcome.value,
            "severity": self.policy.severity.value,
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.message:
            data["message"] = self.message
        if self.command:
            data["command"] = self.command
        if self.waiver:
            data["waiver"] = self.waiver
        if self.scenario_inputs is not None:
            data["scenario_inputs"] = self.scenario_inputs
        if self.cause:
            data["cause"] = self.cause
            if self.cause_scenario is not None:
                data["cause_scenario"] = self.cause_scenario
        return data
