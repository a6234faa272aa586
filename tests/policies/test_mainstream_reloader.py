"""bench/mainstream.py's config-reloader, shaped like a popular public chart, carries issue 18's planning
and Helm-comparison shapes: none of them is reported, while the one planted true defect (a ServiceMonitor
that renders with its Service off) is reported once and the CA generated on every render is named."""

from __future__ import annotations

import sys

import pytest

from chartgate.check.definition import Outcome

from ..conftest import REPO, gate_config, run_gate

sys.path.insert(0, str(REPO / "bench"))
import mainstream  # noqa: E402

HELM3 = REPO / ".tools" / "helm-v3.19.0" / "helm"


@pytest.fixture(scope="module")
def reloader_run(tmp_path_factory, policies, render_cache):
    root = tmp_path_factory.mktemp("reloader")
    mainstream.write_reloader_chart(root / "charts")
    (root / "overlays").mkdir()
    return run_gate(gate_config(root, root / "charts", root / "overlays", cache=render_cache), policies)


@pytest.mark.skipif(not HELM3.is_file(), reason="the pinned Helms are provisioned by `make tools`")
def test_the_reloader_shapes_are_quiet_and_the_planted_defects_found(reloader_run):
    run = reloader_run
    failed = {(r.policy.id, r.scenario): r for r in run.gate.results if r.outcome in (Outcome.FAILED, Outcome.ERROR)}
    # Shapes 6, 9, 10, 11: no HELM-001, no dead gate, no render failure, no orphan's wiring findings.
    assert not [key for key in failed if key[0] in ("HELM-001", "CAP-002", "RENDER-001", "WIR-001")], sorted(failed)
    plan = run.gate.combination_plans["config-reloader"]
    assert "reloader.isOpenshift" in {f.name for f in plan.factors}
    assert plan.infeasible and all("schema" in message for _, message in plan.infeasible)
    # The planted defects: the child without its parent, once; the CA regenerated on every render.
    [nest] = [r for key, r in failed.items() if key[0] == "NEST-001"]
    assert [f.resource for f in nest.findings] == ["ServiceMonitor/config-reloader/config-reloader-config-reloader"]
    [helm2] = [r for key, r in failed.items() if key[0] == "HELM-002"]
    [ca] = helm2.findings  # one finding for the object, naming its three fields; the kept password is not one
    assert ca.resource.endswith("-webhook-ca") and "$.data['ca.crt'], $.data['tls.crt'], $.data['tls.key']" in ca.message
