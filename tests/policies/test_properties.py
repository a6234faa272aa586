"""PROP-001: the render-level invariants on hand-made renders (no Helm), and the shrunk, reproducible
counterexample Hypothesis reports for the prop-* mutant (one chart, renders bounded by the profile)."""

from __future__ import annotations

import re
import shlex
import subprocess
from types import SimpleNamespace

import pytest

from chartgate.core.errors import ChartFailed, RenderError
from chartgate.engine.gate import Gate
from chartgate.check.loader import load_policy_module
from chartgate.parse.manifests import _parse_render
from chartgate.check.definition import Outcome
from chartgate.render.renderer import Render
from chartgate.plan.scenarios import Scenario, ScenarioKind

from ..conftest import MUTANTS, REPO, build_mutant, gate_config

props = load_policy_module(REPO / "policies" / "properties.py")
KEYS = {"stunnerOverlay.udpPortRange.start", "start", "sovereignFqdn"}
SCENARIO = Scenario("capabilities+property", ScenarioKind.CAPABILITIES)


def rendered(text: str) -> Render:
    return Render("demo", SCENARIO, "helm template demo ./demo",
                  _parse_render(text, namespace="demo", chart="demo"))


def failed(cls, message: str) -> Render:
    return Render("demo", SCENARIO, "helm template demo ./demo",
                  error=cls("demo", SCENARIO.name, message, "helm template demo ./demo"))


def test_a_clean_render_has_no_violations():
    render = rendered("---\n# Source: demo/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
                      "---\n# Source: demo/templates/b.yaml\napiVersion: batch/v1\nkind: Job\nmetadata:\n"
                      "  generateName: b-\n")
    assert props.violations(render, KEYS) == []


def test_nameless_and_duplicate_objects_are_violations():
    render = rendered("---\n# Source: demo/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
                      "---\n# Source: demo/templates/b.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
                      "---\n# Source: demo/templates/c.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name:\n")
    found = props.violations(render, KEYS)
    assert [v.key[0] for v in found] == ["duplicate", "bad-field"]
    assert found[0].resource == "ConfigMap/demo/a" and "demo/templates/a.yaml and demo/templates/b.yaml" in found[0].problem
    assert found[1].template == "demo/templates/c.yaml" and "metadata.name None" in found[1].problem


@pytest.mark.parametrize("render, problem", [
    (failed(ChartFailed, "execution error at (demo/templates/ks.yaml:1:11): sovereignFqdn is required"), None),
    (failed(ChartFailed, "execution error at (demo/templates/np.yaml:3:4): ports out of order"), "names no values key"),
    (failed(RenderError, 'template: demo/templates/gc.yaml:4:14: executing "demo/templates/gc.yaml" at <index>: '
                         "error calling index: out of range"), "not through the chart's own `fail`"),
])
def test_failed_renders_pass_only_through_a_clear_fail(render, problem):
    found = props.violations(render, KEYS)
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0].problem
        assert found[0].template.startswith("demo/templates/")


def test_a_fail_message_must_name_a_values_key_as_a_whole_word():
    assert props.names_a_key("stunnerOverlay.udpPortRange.start must be <= end", KEYS)
    assert not props.names_a_key("restart the operator", KEYS)


def test_charts_without_a_config_schema_are_not_applicable():
    from chartgate.check.applicability import unmet_requirement
    generic = SimpleNamespace(chart=SimpleNamespace(blueprint=None, profile="generic"), name="demo")
    assert "Blueprint-only rule" in unmet_requirement(props.valid_configurations_render, generic)
    no_schema = SimpleNamespace(chart=SimpleNamespace(blueprint={"spec": {}}, profile="blueprint"), name="demo")
    assert unmet_requirement(props.valid_configurations_render, no_schema) == \
        "blueprint.yaml declares no spec.configSchema"


@pytest.fixture(scope="module")
def mutant_result(tmp_path_factory, render_cache):
    tmp = tmp_path_factory.mktemp("prop-mutant")
    chart_root, overlay_root, _ = build_mutant(MUTANTS / "prop-udp-block-lookup-overflows.yaml", tmp)
    gate = Gate(gate_config(tmp, chart_root, overlay_root, cache=render_cache))
    # Evaluate the one check directly: no need to pre-render the chart's whole plan.
    [check] = gate.planned_checks([props.valid_configurations_render])
    return gate.evaluate(check)


def test_the_counterexample_is_shrunk_to_the_one_key_and_its_boundary(mutant_result):
    assert mutant_result.outcome is Outcome.FAILED
    [finding] = mutant_result.findings
    shown = re.search(r"shrunk\):\n(.*?)\nReproduce:", finding.message, re.DOTALL).group(1).splitlines()
    # The template breaks from block 32000 up; nothing else is needed to break it.
    assert shown == ["  stunnerOverlay.udpPortRange.start = 32000"]
    assert finding.template == "bp-stunner/templates/gatewayclass.yaml"


def test_the_message_carries_a_helm_command_that_reproduces_the_failure(mutant_result):
    [finding] = mutant_result.findings
    command = re.search(r"^Reproduce: (.+)$", finding.message, re.MULTILINE).group(1)
    argv = shlex.split(command)
    assert argv[1] == "template" and "--set-json" in argv
    assert argv[argv.index("--set-json") + 1] == "stunnerOverlay.udpPortRange.start=32000"
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "error calling index" in proc.stderr
