"""UDP media range: finding ranges in values, and the NET policies on hand-written values and renders
(no Helm)."""

from __future__ import annotations

from types import SimpleNamespace

from chartgate.check.context import _scenario_values

import pytest

from chartgate.check.context import ScenarioContext
from chartgate.check.loader import load_policy_module
from chartgate.parse.manifests import _parse_render
from chartgate.discover.platform import Platform
from chartgate.check.definition import NotApplicable
from chartgate.render.renderer import Render
from chartgate.plan.scenarios import Scenario, ScenarioKind

from ..conftest import REPO

net = load_policy_module(REPO / "policies" / "udp_range.py")
ALLOWED = (30000, 32767)


def test_ranges_are_found_by_key_name_and_bound_names():
    values = {
        "stunnerOverlay": {"udpPortRange": {"start": 30000, "end": 32767}},
        "turn": {"udp": {"min": "31000", "max": "31999"}, "relay": {"portRange": {"from": 1, "to": 2}}},
        "maintenance": {"window": {"start": 1, "end": 5}},  # not a port range
    }
    found = {(r.dotted, r.start, r.end) for r in net.port_ranges(values)}
    assert found == {("stunnerOverlay.udpPortRange", 30000, 32767), ("turn.udp", "31000", "31999"),
                     ("turn.relay.portRange", 1, 2)}


@pytest.mark.parametrize("start, end, problem", [
    (30000, 32767, None), (31000, "31999", None),
    (32767, 30000, "greater than end"),
    (20000, 32767, "not inside the allowed UDP range"), (30000, 40000, "not inside"),
    ("low", 32767, "not port numbers"),
])
def test_range_problems(start, end, problem):
    found = net.range_problem(net.PortRange(("r",), start, end, ("start", "end")), ALLOWED)
    assert found is None if problem is None else problem in found


def chart_context(values: dict, scenarios=(), render=None):
    chart = SimpleNamespace(name="chart", values=values, effective_values=values, subcharts={}, path=None)
    return SimpleNamespace(chart=chart, name="chart", platform=Platform(), scenarios=list(scenarios),
                           try_render=lambda name: render,
                           values_for=lambda scenario: _scenario_values(chart, scenario))


def test_a_reversed_range_in_values_is_caught_without_rendering():
    # The chart's own template only fails on it when the NetworkPolicy is switched on.
    ctx = chart_context({"stunnerOverlay": {"udpPortRange": {"start": 32767, "end": 30000}}})
    [finding] = net.values_ranges_inside.check(ctx)
    assert "start 32767 is greater than end 30000" in finding.message
    assert finding.template == "chart/values.yaml" and finding.path == "$.stunnerOverlay.udpPortRange"


def test_values_files_of_scenarios_are_checked_too(tmp_path):
    ci = tmp_path / "wide-values.yaml"
    ci.write_text("stunnerOverlay: {udpPortRange: {start: 1024, end: 65535}}\n")
    ctx = chart_context({"stunnerOverlay": {"udpPortRange": {"start": 30000, "end": 32767}}},
                        [Scenario("ci.wide", ScenarioKind.CI, (ci,))])
    [finding] = net.values_ranges_inside.check(ctx)
    assert finding.template == str(ci) and "1024-65535" in finding.message


def test_no_range_is_not_applicable():
    with pytest.raises(NotApplicable):
        list(net.values_ranges_inside.check(chart_context({"replicas": 1})))


def test_scenario_values_merge_set_json_mappings_like_helm():
    scenario = Scenario("s", ScenarioKind.CI, set_values=(("o", {"networkPolicy": {"enabled": True}}),))
    values = _scenario_values(SimpleNamespace(effective_values={"o": {"udpPortRange": {"start": 1, "end": 2}}}),
                             scenario)
    assert values == {"o": {"udpPortRange": {"start": 1, "end": 2}, "networkPolicy": {"enabled": True}}}


POLICY = """
---
# Source: chart/templates/networkpolicy.yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: turn}
spec:
  podSelector: {}
  ingress:
    - ports:
        - {protocol: UDP, port: %s, endPort: %s}
        - {protocol: TCP, port: 3478}
  egress:
    - ports: [{protocol: UDP, port: 53}]  # DNS egress is not a media port
"""

SERVICE = """
---
# Source: chart/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: turn}
spec:
  type: %s
  ports:
    - {name: turn-udp, protocol: UDP, port: %s, nodePort: 31000}
"""

VALUES = {"o": {"udpPortRange": {"start": 30000, "end": 32767}, "turnPort": 3478}}


def scenario_context(text: str, values: dict = VALUES) -> ScenarioContext:
    scenario = Scenario("test", ScenarioKind.DEFAULT)
    render = Render("chart", scenario, "helm template chart", _parse_render(text, namespace="ns"))
    return ScenarioContext(chart_context(values), scenario, render)


def messages(policy, text: str, values: dict = VALUES) -> list[str]:
    return [f"{f.path}: {f.message}" for f in policy.check(scenario_context(text, values))]


def test_rendered_range_from_values_passes_both_checks():
    text = POLICY % (30000, 32767) + SERVICE % ("LoadBalancer", 31000)
    assert messages(net.rendered_ports_inside, text) == []
    assert messages(net.rendered_ports_match_values, text) == []


def test_a_hardcoded_end_port_leaves_the_window_and_the_values():
    [outside] = messages(net.rendered_ports_inside, POLICY % (30000, 40000))
    assert outside.startswith("$.spec.ingress[0].ports[0]: UDP 30000-40000 is not inside")
    [drift] = messages(net.rendered_ports_match_values, POLICY % (30000, 32000))
    assert "UDP range 30000-32000 matches no range in the values (values ranges: o.udpPortRange (30000-32767))" in drift


def test_exposed_udp_service_ports_are_judged_cluster_internal_ones_are_not():
    [finding] = messages(net.rendered_ports_inside, SERVICE % ("LoadBalancer", 3478))
    assert finding.startswith("$.spec.ports[0].port: UDP 3478 is not inside")
    assert messages(net.rendered_ports_match_values, SERVICE % ("LoadBalancer", 3478)) == []  # o.turnPort
    with pytest.raises(NotApplicable):
        messages(net.rendered_ports_inside, SERVICE % ("ClusterIP", 3478))


def test_a_udp_rule_without_port_admits_everything():
    text = POLICY.replace("{protocol: UDP, port: %s, endPort: %s}", "{protocol: UDP}")
    [finding] = messages(net.rendered_ports_inside, text)
    assert "admits every UDP port" in finding


TURN_POD = """
---
# Source: chart/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: turn}
spec:
  selector: {matchLabels: {app: turn}}
  template:
    metadata: {labels: {app: turn}}
    spec:
      containers:
        - name: turn
          image: turn:1.0
          ports: [{name: media, containerPort: %s, protocol: UDP}, {name: media, containerPort: 8080}]
"""


def test_a_named_udp_port_is_resolved_to_the_container_port_and_judged():
    named = POLICY.replace("{protocol: UDP, port: %s, endPort: %s}", "{protocol: UDP, port: media}")
    assert messages(net.rendered_ports_inside, named + TURN_POD % 31000) == []
    [outside] = messages(net.rendered_ports_inside, named + TURN_POD % 3478)
    assert "UDP 3478 (port 'media' resolves to container port 3478) is not inside the allowed" in outside
    # A name no selected UDP container port carries admits nothing: a finding, not a silent pass.
    [dangling] = messages(net.rendered_ports_inside, named)
    assert "names port 'media', but no UDP container port of that name exists" in dangling
    # NET-003 compares numbers with values; a name is not a hardcoded number: nothing to judge.
    with pytest.raises(NotApplicable, match="named or unset"):
        messages(net.rendered_ports_match_values, named + TURN_POD % 31000)
