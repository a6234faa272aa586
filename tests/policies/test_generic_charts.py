"""Generic charts (no blueprint.yaml) are judged fairly: the generic policies apply, Blueprint-only rules
are skipped with that reason, and a fresh `helm create` chart - generated at test time by the real
Helm - passes the whole gate (its warnings are hardening a maintainer accepts)."""

from __future__ import annotations

import subprocess

import pytest

from chartgate.check.definition import Outcome, Severity

from ..conftest import REPO, gate_config, run_gate

HELM = REPO / ".tools" / "helm-v4.1.4" / "helm"


@pytest.fixture(scope="module")
def helm_create_run(tmp_path_factory, policies, render_cache):
    root = tmp_path_factory.mktemp("helm-create")
    charts = root / "charts"
    charts.mkdir()
    subprocess.run([str(HELM), "create", "mychart"], cwd=charts, check=True, capture_output=True)
    (root / "overlays").mkdir()
    return run_gate(gate_config(root, charts, root / "overlays", cache=render_cache), policies)


def test_a_helm_create_chart_passes_the_whole_gate(helm_create_run):
    run = helm_create_run
    blocking = [(r.policy.id, r.scenario, r.message or [f.message for f in r.findings]) for r in run.gate.results
                if r.outcome is Outcome.ERROR or (r.outcome is Outcome.FAILED and r.severity is Severity.ERROR)]
    assert not blocking
    assert not run.summary.red
    # It was judged, not waved through: generic policies passed, and the hardening warnings are there.
    judged = {r.policy.id for r in run.gate.results if r.outcome is Outcome.PASSED}
    assert {"RENDER-001", "SCH-001", "WIR-004", "HYG-001", "FQDN-002", "SEC-001"} <= judged
    assert {r.policy.id for r in run.gate.results if r.outcome is Outcome.FAILED} >= {"SEC-010"}


def test_blueprint_only_rules_are_skipped_on_a_generic_chart_with_that_reason(helm_create_run):
    blueprint_only = [r for r in helm_create_run.gate.results
                      if r.policy.id.split("-")[0] in ("UMB", "OBS", "NET", "ING", "PROP") or r.policy.id == "HYG-003"]
    assert blueprint_only and all(r.outcome is Outcome.SKIPPED and "Blueprint-only rule" in r.message
                                  for r in blueprint_only)


def test_an_opt_in_object_of_a_custom_api_is_the_generic_chart_users_choice(helm_create_run):
    # `httpRoute.enabled` switches on a Gateway API HTTPRoute without a Capabilities gate: fine for a
    # third-party chart (the user enables it on a cluster that has the API); its defaults are judged.
    cap = {r.scenario: r for r in helm_create_run.gate.results if r.policy.id == "CAP-001"}
    opt_in = [r for name, r in cap.items() if name.startswith(("on.", "plan."))]
    assert opt_in and all(r.outcome is Outcome.SKIPPED and "generic chart" in r.message for r in opt_in)
    assert cap["default"].outcome in (Outcome.PASSED, Outcome.SKIPPED)


def test_helm_test_hooks_are_not_part_of_the_release_images(helm_create_run):
    # templates/tests/test-connection.yaml runs `busybox` without a tag, but only `helm test` runs it.
    [hyg] = [r for r in helm_create_run.gate.results if r.policy.id == "HYG-001"]
    assert hyg.outcome is Outcome.PASSED
