"""A policy author's mistakes are caught and explained: a wrong `@policy` argument fails at collection
naming the policy and the valid values; a check that returns a value, yields something other than a
Finding, or yields a Finding that names no resource or file is an `error` result that says so - never a
pass, never chartgate's own AttributeError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import chartgate.report  # noqa: F401  (imported once: in-process pytester runs drop what they import)
import chartgate.report.terminal  # noqa: F401
from chartgate import Applicability, ScenarioKind, Severity, policy
from chartgate.check.definition import PolicyDeclarationError

from ..reliability.helpers import plugin_repo

COMMON = dict(title="t", rationale="r", reference="docs/policies.md")


def check(ctx):  # a check function to decorate
    return ()


PER_SCENARIO = dict(receives="scenario")


@pytest.mark.parametrize("kwargs, expected", [
    (dict(receives="chart", applies_to=Applicability(kinds="Deployment")),
     "kinds='Deployment' must be a tuple of names"),
    (dict(receives="chart", applies_to=Applicability(requires="blueprint-file")),
     "requires='blueprint-file' must be a tuple of names"),
    (dict(**PER_SCENARIO, applies_to=Applicability(scenarios="default")), "scenarios='default' must be a tuple of names"),
    (dict(**PER_SCENARIO, applies_to=Applicability(scenarios=("defualt",))), "valid kinds: ['default', 'capabilities'"),
    (dict(receives="chart", severity="warn"), "severity='warn' is not one of ['error', 'warning', 'info']"),
    (dict(receives="chart", applies_to=Applicability(requires=("blueprnt",))), "unknown requires=['blueprnt']"),
])
def test_a_wrong_policy_argument_names_the_policy_and_the_valid_values(kwargs, expected):
    with pytest.raises(PolicyDeclarationError) as raised:
        policy(id="ABC-001", **COMMON, **kwargs)(check)
    assert raised.value.args[0].startswith("ABC-001: ")
    assert expected in str(raised.value)


@pytest.mark.parametrize("kwargs, expected", [
    # Which context the check receives is said, never inferred from other arguments.
    ({}, 'say which context the check receives: receives="chart" (a ChartContext, once per chart) or '
         'receives="scenario" (a ScenarioContext'),
    (dict(receives="scenarios"), "receives='scenarios' is not one of ['chart', 'scenario']"),
    # A per-scenario check without scenario kinds, a chart-level one with them.
    (dict(receives="scenario"), 'receives="scenario" runs the check once per planned scenario, but applies_to names '
                                'no scenarios: say which with applies_to=Applicability(scenarios=...) - "*" for '
                                "every scenario, or kinds from ['default', 'capabilities'"),
    (dict(receives="scenario", applies_to=Applicability(kinds=("Deployment",))), "applies_to names no scenarios"),
    (dict(receives="chart", applies_to=Applicability(scenarios="*")),
     'receives="chart" runs the check once per chart (a ChartContext), but applies_to names scenarios=\'*\': '
     'declare receives="scenario"'),
    (dict(receives="chart", applies_to=Applicability(scenarios=(ScenarioKind.DEFAULT,))),
     'receives="chart" runs the check once per chart'),
    (dict(receives="chart", applies_to=Applicability(failed_renders=True)),
     'failed_renders=True is for receives="scenario"'),
    (dict(receives="chart", applies_to=("blueprint",)),
     "applies_to=('blueprint',) must be chartgate.Applicability(...)"),
    (dict(receives="chart", applies_to=Applicability(profile="blueprints")),
     "profile='blueprints' is not a chart profile: one of ['blueprint', 'generic']"),
    (dict(receives="scenario", applies_to=Applicability(scenarios={"bp": "*"})),
     "scenarios={'bp': ...}: the keys of a scenarios mapping are chart profiles, one of ['blueprint', 'generic']"),
    (dict(receives="scenario", applies_to=Applicability(scenarios={"generic": ("defualt",)})),
     "scenarios['generic']=('defualt',): ['defualt'] is neither a scenario kind nor a scenario name"),
    # The profile is not a requirement; the message says where it goes.
    (dict(receives="chart", applies_to=Applicability(requires=("blueprint",))),
     "unknown requires=['blueprint']; known: ['application-chart', 'blueprint-file', 'capability-gates', "
     "'config-schema', 'dependencies', 'fqdn-inputs', 'helm-matrix', 'toggles'] (a rule for blueprint charts "
     'declares Applicability(profile="blueprint"))'),
    # The arguments of the earlier form name where each is said now.
    (dict(scenarios="*"), 'scenarios= is now receives="scenario", applies_to=Applicability(scenarios=...)'),
    (dict(receives="chart", kinds=("Deployment",)), "kinds= is now applies_to=Applicability(kinds=...)"),
    (dict(receives="scenario", judges_failed_renders=True),
     "judges_failed_renders= is now applies_to=Applicability(failed_renders=True)"),
    (dict(receives="chart", requires=("blueprint",)),
     'requires= is now applies_to=Applicability(requires=...), and profile="blueprint" for "blueprint"'),
])
def test_what_the_check_receives_and_where_it_applies_are_validated(kwargs, expected):
    with pytest.raises(PolicyDeclarationError) as raised:
        policy(id="ABC-001", **COMMON, **kwargs)(check)
    assert raised.value.args[0].startswith("ABC-001: ")
    assert expected in str(raised.value)


@pytest.mark.parametrize("policy_id", ["abc-001", "ABC", "ABC_001", "", "ABC-1x"])
def test_a_policy_id_must_be_family_dash_number(policy_id):
    with pytest.raises(PolicyDeclarationError, match="must be a family and a number"):
        policy(id=policy_id, **COMMON)(check)


@pytest.mark.parametrize("argument", ["title", "rationale", "reference"])
def test_metadata_an_auditor_reads_cannot_be_empty(argument):
    with pytest.raises(PolicyDeclarationError, match=f"ABC-001: {argument} must be a non-empty string"):
        policy(id="ABC-001", **{**COMMON, argument: "  "})(check)


def test_valid_declarations_are_normalised():
    declared = policy(id="ABC-001", **COMMON, severity="warning", receives="scenario",
                      applies_to=Applicability(profile="blueprint", scenarios=["default", "opt-in"],
                                               kinds=["Deployment"], requires=["blueprint-file"]))(check)
    assert declared.severity is Severity.WARNING
    assert [k.value for k in declared.scenarios] == ["default", "opt-in"]
    assert declared.kinds == ("Deployment",) and declared.requires == ("blueprint-file",)
    assert declared.profile == "blueprint" and declared.per_scenario
    assert policy(id="ABC-002", **COMMON, receives="scenario",
                  applies_to=Applicability(scenarios="*"))(check).scenarios == "*"
    chart_level = policy(id="ABC-003", **COMMON, receives="chart")(check)
    assert chart_level.scenarios is None and not chart_level.per_scenario and chart_level.profile is None
    by_profile = policy(id="ABC-004", **COMMON, receives="scenario",
                        applies_to=Applicability(scenarios={"blueprint": "*", "generic": ["default"]}))(check)
    assert by_profile.scenarios == "*"  # planned on every scenario; a generic chart's others are skipped
    assert by_profile.applicability.scenarios == {"blueprint": "*", "generic": (ScenarioKind.DEFAULT,)}


MISUSED = '''
from chartgate import Applicability, Finding, ScenarioContext, policy

@policy(id="MIS-001", title="returns False", receives="scenario",
        applies_to=Applicability(scenarios="*"), rationale="r", reference="r")
def returns_false(ctx: ScenarioContext):
    return False

@policy(id="MIS-002", title="yields text", receives="scenario",
        applies_to=Applicability(scenarios="*"), rationale="r", reference="r")
def yields_text(ctx: ScenarioContext):
    yield "the port is too high"

@policy(id="MIS-003", title="yields a finding about nothing", receives="scenario",
        applies_to=Applicability(scenarios="*"), rationale="r", reference="r")
def yields_nowhere(ctx: ScenarioContext):
    yield Finding("the port is too high")

@policy(id="MIS-004", title="returns a list of findings", receives="scenario",
        applies_to=Applicability(scenarios="*"), rationale="r", reference="r")
def returns_list(ctx: ScenarioContext):
    return [Finding.on(m, "$.data", "a real finding") for m in ctx.manifests]

@policy(id="MIS-005", title="returns None: found nothing", receives="scenario",
        applies_to=Applicability(scenarios="*"), rationale="r", reference="r")
def returns_none(ctx: ScenarioContext):
    return None
'''


def test_a_misused_check_is_an_error_result_that_says_what_to_do(pytester, monkeypatch):
    repo = plugin_repo(pytester, monkeypatch)
    (repo / "charts" / "tiny" / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  port: \"80\"\n")
    (repo / "policies" / "misused.py").write_text(MISUSED)
    result = pytester.runpytest("policies", "--chart-root", "charts", "--cache-dir", "cache", "--helm-version",
                                "4.1.4", "-p", "no:cacheprovider", "--update-golden")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    results = json.loads((Path(repo) / "reports" / "chartgate.json").read_text())["results"]

    def of(pid):
        mine = [r for r in results if r["policy"] == pid]
        assert mine, pid
        return mine

    for pid, said in (("MIS-001", "returned bool False"), ("MIS-002", "yielded str 'the port is too high'"),
                      ("MIS-003", "names neither a resource nor a file")):
        assert {r["outcome"] for r in of(pid)} == {"error"}
        assert all(said in r["message"] and r["message"].startswith(f"{pid}: ") for r in of(pid))
        assert all("AttributeError" not in r["message"] for r in of(pid))
    assert {r["outcome"] for r in of("MIS-004")} == {"failed"}
    assert {r["outcome"] for r in of("MIS-005")} == {"passed"}
