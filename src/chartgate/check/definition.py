"""What a policy is: declared metadata plus a pure check function that returns findings.

A policy module defines module-level `Policy` objects (usually with the `@policy` decorator);
chartgate finds them by looking at the module's attributes. Nothing registers itself on import.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

import yaml

from chartgate.check.applicability import Applicability, PolicyDeclarationError
from chartgate.check.applicability import validated as validated_applicability
from chartgate.core.errors import ChartgateError
from chartgate.parse.manifests import dependency_of

if TYPE_CHECKING:
    from chartgate.parse.manifests import Manifest
    from chartgate.plan.scenarios import ScenarioKind


class Severity(str, Enum):
    """How much a finding weighs: an error blocks the release, a warning blocks only with --fail-on warning."""

    ERROR = "error"  # a finding blocks the release
    WARNING = "warning"  # reported; blocks only with --fail-on warning
    INFO = "info"  # information for the chart's owner; never blocks


class Outcome(str, Enum):
    """The verdict of one policy on one chart (and scenario)."""

    PASSED = "passed"
    FAILED = "failed"
    WAIVED = "waived"
    BASELINED = "baselined"  # every finding is in the repository's baseline (chartgate.check.baseline)
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
    # The defect's cause on its resource, stable across scenarios (e.g. "container app: privileged"):
    # findings of one policy with the same resource and key are one defect in reports. Empty: the
    # template, path and message decide.
    key: str = ""
    # What causes it, when several policies can report the same cause (e.g. "a domain as a default"):
    # the report groups findings on one object and path with the same cause into one defect.
    cause: str = ""
    # The scenarios a chart-level check saw it in (a per-scenario check's finding is in its own). Left
    # empty, the engine names the scenarios the check rendered that hold the resource (provenance.py).
    scenarios: tuple[str, ...] = ()
    # Set by the engine: the finding's baseline entry (chartgate.check.baseline), and whether the baseline holds it.
    fingerprint: str = ""
    baselined: bool = False

    @property
    def dependency(self) -> str | None:
        """The vendored subchart whose template made the object (`upstream`), or None (`own`)."""
        return dependency_of(self.template)

    @classmethod
    def on(cls, manifest: "Manifest", path: str, message: str, *, value: Any = None, key: str = "",
           scenarios: Iterable[str] = ()) -> "Finding":
        """A finding on a rendered object; the excerpt is the offending value (or the whole object)."""
        from chartgate.parse.manifests import Manifest
        if not isinstance(manifest, Manifest):
            raise PolicyMisuse(f"Finding.on(...) takes a chartgate.Manifest (an item of ctx.manifests or "
                               f"ctx.render.of_kind(...)), not {type(manifest).__name__} {_shown(manifest)}")
        shown = value if value is not None else manifest.body
        return cls(message, manifest.resource_id, manifest.source, path, excerpt(shown), key=key,
                   scenarios=tuple(scenarios))

    def to_dict(self) -> dict:
        data = {"resource": self.resource, "template": self.template, "path": self.path, "message": self.message}
        if self.excerpt:
            data["excerpt"] = self.excerpt
        if self.line is not None:
            data["line"] = self.line
        if self.key:
            data["key"] = self.key
        if self.cause:
            data["cause"] = self.cause
        if self.scenarios:
            data["scenarios"] = list(self.scenarios)
        if self.fingerprint:
            data["fingerprint"] = self.fingerprint
        if self.baselined:
            data["baselined"] = True
        if self.dependency:  # `own` unless marked
            data["ownership"], data["dependency"] = "upstream", self.dependency
        return data


@dataclass(frozen=True)
class Policy:
    """A rule with the metadata an auditor needs, and a check function.

    `receives` says what the check is given: "chart" - a ChartContext, once per chart; "scenario" - a
    ScenarioContext, once per planned scenario its `applicability` admits. `applicability` is where
    the rule applies (chartgate.Applicability), judged by the engine before the check runs.
    """

    id: str
    title: str
    severity: Severity
    rationale: str
    reference: str
    check: Callable[..., Iterable[Finding]] = field(repr=False, compare=False)
    receives: str = "chart"
    applicability: Applicability = Applicability()
    module_path: str = field(default="", compare=False)
    # What else the check reads, beyond the chart and its plan (the result cache's key covers those):
    # cache_extra(chart_context, scenario_name) -> str, e.g. a golden file's digest.
    cache_extra: Callable[..., str] | None = field(default=None, compare=False, repr=False)
    # What to change to fix a finding, said once for the rule (reports and the failure text show it)
    # instead of in every finding's message.
    remediation: str = ""
    # What the engine relies on the policy for (RENDER_ROLE, GOLDEN_ROLE), or "".
    role: str = ""

    @property
    def family(self) -> str:
        """`OBS` for `OBS-003`: policies are grouped by family in reports and configuration."""
        return self.id.split("-", 1)[0]

    @property
    def always_judged(self) -> bool:
        """The render policy is judged on every chart, whatever the per-chart configuration disables."""
        return self.role == RENDER_ROLE

    @property
    def per_scenario(self) -> bool:
        return self.receives == "scenario"

    # The declared applicability, read by the engine, the catalog and the reports.
    @property
    def profile(self) -> str | None:
        """The chart profile the rule is for (None: every chart)."""
        return self.applicability.profile

    @property
    def requires(self) -> tuple[str, ...]:
        """The chart facts the rule requires."""
        return self.applicability.requires

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds a render must hold for the rule to judge it."""
        return self.applicability.kinds

    @property
    def scenarios(self) -> tuple["ScenarioKind | str", ...] | str | None:
        """The scenario kinds (or names) a per-scenario check runs on, "*" for all; None for a chart-level check."""
        return self.applicability.all_scenarios if self.per_scenario else None

    @property
    def judges_failed_renders(self) -> bool:
        """The check judges renders Helm refused, too (the render check)."""
        return self.applicability.failed_renders

    def applies_to(self, scenario) -> bool:
        """Is the check planned on this scenario (a per-scenario check whose applicability admits it)?"""
        return self.per_scenario and self.applicability.runs_in(scenario)

    def metadata(self) -> dict:
        return {"id": self.id, "title": self.title, "severity": self.severity.value,
                "rationale": self.rationale, "reference": self.reference, "family": self.family,
                "receives": self.receives, "profile": self.profile,
                "kinds": list(self.kinds), "requires": list(self.requires),
                **({"remediation": self.remediation} if self.remediation else {}),
                **({"role": self.role} if self.role else {})}


#: What the engine relies on a policy for, declared with `@policy(role=...)`; at most one policy a run
#: has each role. The engine finds these policies by their role, never by their id.
RENDER_ROLE = "render"  # reports a scenario or chart that did not render: always judged, never waived
GOLDEN_ROLE = "golden"  # compares kind summaries with the golden files: decides which files are in use
ROLES = (RENDER_ROLE, GOLDEN_ROLE)


def _role(policy_id: str, role: Any) -> str:
    if role not in ("", *ROLES):
        raise PolicyDeclarationError(f"{policy_id}: role={role!r} is not one of {list(ROLES)} (or leave it out): "
                                     "a role says what the engine relies on the policy for")
    return role


_POLICY_ID = re.compile(r"[A-Z][A-Z0-9]*-[0-9]+")

#: The arguments of the earlier declaration form, and where each is said now.
_MOVED = {"scenarios": "receives=\"scenario\", applies_to=Applicability(scenarios=...)",
          "kinds": "applies_to=Applicability(kinds=...)",
          "requires": "applies_to=Applicability(requires=...), and profile=\"blueprint\" for \"blueprint\"",
          "judges_failed_renders": "applies_to=Applicability(failed_renders=True)"}


def _validated(id: str, title: str, rationale: str, reference: str, severity: Any,
               remediation: Any = "") -> Severity:
    """The declaration's metadata checked; its severity normalised."""
    if not isinstance(id, str) or not _POLICY_ID.fullmatch(id):
        raise PolicyDeclarationError(f"policy id {id!r} must be a family and a number, e.g. id=\"NET-101\" "
                                     "(upper-case family, a dash, digits): waivers and reports refer to it")
    for argument, value in (("title", title), ("rationale", rationale), ("reference", reference)):
        if not isinstance(value, str) or not value.strip():
            raise PolicyDeclarationError(f"{id}: {argument} must be a non-empty string: reports show it to the "
                                         "chart maintainer and the auditor")
    if not isinstance(remediation, str):
        raise PolicyDeclarationError(f"{id}: remediation={remediation!r} must be a string: what to change to fix "
                                     "a finding, shown with it in reports")
    valid_severities = [s.value for s in Severity]
    if severity not in valid_severities:  # a Severity member compares equal to its value
        raise PolicyDeclarationError(f"{id}: severity={severity!r} is not one of {valid_severities} "
                                     "(chartgate.Severity.ERROR / .WARNING / .INFO)")
    return Severity(severity)


def policy(*, id: str, title: str, rationale: str, reference: str, severity: Severity = Severity.ERROR,
           receives: str | None = None, applies_to: Applicability = Applicability(),
           cache_extra: Callable[..., str] | None = None, remediation: str = "", role: str = "",
           **former_arguments: Any) -> Callable[[Callable], Policy]:
    """Declare a policy: `@policy(id="OBS-001", title=..., rationale=..., reference=..., receives="chart")`.

    `receives` says what the check is given: "chart" (a ChartContext, once per chart) or "scenario"
    (a ScenarioContext, once per planned scenario). `applies_to=Applicability(profile=..., requires=...,
    kinds=..., scenarios=...)` says where the rule applies - a per-scenario check names its scenario
    kinds there - and the engine records `skipped` with a uniform reason where it does not.
    `remediation=` says once what to change to fix a finding (reports show it with the rationale), so
    messages say what is wrong and where. A wrong argument (a string where a tuple is meant, an unknown
    severity or scenario kind, scenario kinds on a chart-level check) raises PolicyDeclarationError
    when the module is collected, naming the policy and the valid values. While the check runs,
    `running_policy()` returns the policy.
    `role="render"` declares the policy that reports renders that failed (it receives them, is always
    judged and never waived); `role="golden"` the one comparing golden files."""
    if former_arguments:  # the earlier form, or a typo: say where each is said now
        said = "; ".join(f"{name}= is now {_MOVED[name]}" if name in _MOVED else f"{name}= is not an argument"
                         for name in sorted(former_arguments))
        raise PolicyDeclarationError(f"{id}: {said} (see docs/writing-policies.md)")
    severity = _validated(id, title, rationale, reference, severity, remediation)
    receives, applicability = validated_applicability(id, receives, applies_to)
    role = _role(id, role)
    if role == RENDER_ROLE:  # the render policy judges the renders Helm refused: that is its job
        applicability = dataclasses.replace(applicability, failed_renders=True)

    def wrap(fn: Callable) -> Policy:
        if not callable(fn):
            raise PolicyDeclarationError(f"{id}: @policy(...) decorates the check function, got {fn!r}")
        declared: list[Policy] = []

        @functools.wraps(fn)
        def check(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True  # a failing check's traceback starts in the check
            with _running(declared[0]):
                checked = fn(*args, **kwargs)
            # A generator runs when the engine iterates it: each step runs as the policy too.
            return _steps_as(declared[0], checked) if inspect.isgenerator(checked) else checked

        declared.append(Policy(id, title, severity, " ".join(rationale.split()), reference, check, receives,
                               applicability, module_path=getattr(fn, "__module__", ""), cache_extra=cache_extra,
                               remediation=" ".join(remediation.split()), role=role))
        return declared[0]
    return wrap


_RUNNING: ContextVar["Policy | None"] = ContextVar("chartgate_running_policy", default=None)


class _running:
    """Makes `policy` the running policy for the duration of a `with` block."""

    def __init__(self, policy: Policy):
        self.policy = policy

    def __enter__(self) -> None:
        self.token = _RUNNING.set(self.policy)

    def __exit__(self, *exc: Any) -> None:
        _RUNNING.reset(self.token)


def _steps_as(policy: Policy, steps: Any) -> Iterable[Any]:
    """The generator's items, each computed while `policy` is the running policy."""
    __tracebackhide__ = True
    while True:
        with _running(policy):
            try:
                item = next(steps)
            except StopIteration as stop:
                return stop.value
        yield item


def running_policy() -> Policy:
    """The policy whose check is running (declared with `@policy`), so a helper can name it in a
    finding without the check passing its own id. Outside a check it raises ChartgateError."""
    running = _RUNNING.get()
    if running is None:
        raise ChartgateError("running_policy() is called outside a policy's check: call it from a check "
                             "declared with @policy (or from a helper the check calls)")
    return running


class PolicyMisuse(ChartgateError):
    """A check produced something other than findings (it returned a value, yielded a string, or
    yielded a Finding that names neither a resource nor a file). The result is an `error`: a check
    that cannot say what it found must not pass."""


def findings_of(policy: Policy, checked: Any) -> Iterable[Finding]:
    """The findings a check produced, one by one, each validated. A check is a generator (or returns a
    list of findings, or None when it found nothing); anything else is a PolicyMisuse."""
    if checked is None:
        return
    if isinstance(checked, (str, bytes, dict, Finding)) or not isinstance(checked, Iterable):
        raise PolicyMisuse(f"{policy.id}: the check returned {type(checked).__name__} {_shown(checked)}; "
                           "a check yields chartgate.Finding objects (or returns a list of them) and passes "
                           "when it yields none - `return False` or `return True` is not a verdict")
    for item in checked:
        if not isinstance(item, Finding):
            raise PolicyMisuse(f"{policy.id}: the check yielded {type(item).__name__} {_shown(item)}; yield "
                               "chartgate.Finding objects, e.g. `yield Finding.on(manifest, \"$.spec\", "
                               "\"what is wrong and what to do\")`")
        wrong = [name for name in ("message", "resource", "template", "path") if not isinstance(getattr(item, name), str)]
        if wrong or not item.message.strip():
            raise PolicyMisuse(f"{policy.id}: the check yielded a Finding whose "
                               f"{', '.join(f'{n}={getattr(item, n)!r:.60}' for n in wrong) or 'message is empty'}; "
                               "message, resource, template and path are text - Finding.on(manifest, path, "
                               "message) fills resource and template from the rendered object")
        if not item.resource and not item.template:
            raise PolicyMisuse(f"{policy.id}: the check yielded a Finding that names neither a resource nor a "
                               f"file ({_shown(item.message)}); use Finding.on(manifest, path, message) for a "
                               "rendered object, or Finding(message, template=\"values.yaml\") for a chart file")
        yield item


def _shown(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


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
    # "render-failed" (a planned scenario did not render; the render policy reports it), "infeasible" (a
    # generated input the chart refuses with its own `fail`/`required`), "not-applicable",
    # "policy-error" (the check raised). `cause_scenario` names the scenario concerned.
    cause: str = ""
    cause_scenario: str | None = None
    # A chart-level result's provenance: {scenario named by a finding: {"command", "inputs"}}, so every
    # finding names how to reproduce it (a per-scenario result has `command` and `scenario_inputs`).
    reproduce: dict | None = None
    # Findings not reported here because the chart named (a dependency in the same repository, judged
    # in the same run) reports them where its templates live: chart -> count (chartgate.check.ownership).
    judged_in: dict[str, int] = field(default_factory=dict)

    @property
    def severity(self) -> Severity:
        return self.policy.severity

    @classmethod
    def from_dict(cls, data: dict, policy: Policy) -> "Result":
        """Rebuild a result serialised by `to_dict` (e.g. sent by a pytest-xdist worker)."""
        findings = [Finding(f["message"], f.get("resource", ""), f.get("template", ""), f.get("path", ""),
                            f.get("excerpt", ""), f.get("line"), key=f.get("key", ""), cause=f.get("cause", ""),
                            scenarios=tuple(f.get("scenarios") or ()),
                            fingerprint=f.get("fingerprint", ""), baselined=bool(f.get("baselined")))
                    for f in data.get("findings", [])]
        return cls(policy, data["chart"], data.get("scenario"), Outcome(data["outcome"]), findings,
                   data.get("message", ""), data.get("command", ""), data.get("waiver"), data.get("scenario_inputs"),
                   data.get("cause", ""), data.get("cause_scenario"), data.get("reproduce"),
                   dict(data.get("judged_in") or {}))

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
        if self.reproduce:
            data["reproduce"] = self.reproduce
        if self.judged_in:
            data["judged_in"] = dict(sorted(self.judged_in.items()))
        return data
