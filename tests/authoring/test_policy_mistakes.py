"""A policy author's mistakes are caught and explained: a wrong `@policy` argument fails at collection
naming the policy and the valid values; a check that returns a value, yields something other than a
Finding, or yields a Finding that names no resource or file is an `error` result that says so - never a
pass, never chartgate's own AttributeError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import chartgate.report  # noqa: F401  (imported once: in-process pytester runs drop what they import)
import chartgate.terminal  # noqa: F401
from chartgate import Severity, policy
from chartgate.definition import PolicyDeclarationError

from ..reliability.helpers import plugin_repo

COMMON = dict(title="t", rationale="r", reference="docs/policies.md")


def check(ctx):  # a check function to decorate
    return ()


@pytest.mark.parametrize("kwargs, expected", [
    (dict(kinds="Deployment"), "kinds='Deployment' must be a tuple of names"),
    (dict(requires="blueprint"), "requires='blueprint' must be a tuple of names"),
    (dict(scenarios="default"), "scenarios='default' must be a tuple of names"),
    (dict(scenarios=("defualt",)), "valid kinds: ['default', 'capabilities'"),
    (dict(severity="warn"), "severity='warn' is not one of ['error', 'warning', 'info']"),
    (dict(requires=("blueprnt",)), "unknown requires=['blueprnt']"),
])
def test_a_wrong_policy_argument_names_the_policy_and_the_valid_values(kwargs, expected):
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
    declared = policy(id="ABC-001", **COMMON, severity="warning", scenarios=["default", "opt-in"],
                      kinds=["Deployment"], requires=["blueprint"])(check)
    assert declared.severity is Severity.WARNING
    assert [k.value for k in declared.scenarios] == ["default", "opt-in"]
    assert declared.kinds == ("Deployment",) and declared.requires == ("blueprint",)
    assert policy(id="ABC-002", **COMMON, scenarios="*")(check).scenarios == "*"


MISUSED = '''
from chartgate import Finding, ScenarioContext, policy

@policy(id="MIS-001", title="returns False", scenarios="*", rationale="r", reference="r")
def returns_false(ctx: ScenarioContext):
    return False

@policy(id="MIS-002", title="yields text", scenarios="*", rationale="r", reference="r")
def yields_text(ctx: ScenarioContext):
    yield "the port is too high"

@policy(id="MIS-003", title="yields a finding about nothing", scenarios="*", rationale="r", reference="r")
def yields_nowhere(ctx: ScenarioContext):
    yield Finding("the port is too high")

@policy(id="MIS-004", title="returns a list of findings", scenarios="*", rationale="r", reference="r")
def returns_list(ctx: ScenarioContext):
    return [Finding.on(m, "$.data", "a real finding") for m in ctx.manifests]

@policy(id="MIS-005", title="returns None: found nothing", scenarios="*", rationale="r", reference="r")
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
