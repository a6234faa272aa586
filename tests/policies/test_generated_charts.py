"""Every policy stays quiet on realistic Blueprints that keep the contract: the benchmark's generator
(bench/monorepo.py) writes umbrellas over upstream-style subcharts with hundreds of boolean values,
large CRDs, embedded JSON/YAML ConfigMaps, charts that need a required value (ci/*-values.yaml) and a
composite of Blueprints - shrunk here to a size a test can render. A finding on them is a false
positive; the mutants under fixtures/mutants/ show each policy failing."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from chartgate.check.definition import Outcome

from ..conftest import REPO, gate_config, run_gate

sys.path.insert(0, str(REPO / "bench"))
import monorepo  # noqa: E402

HELM = REPO / ".tools" / "helm-v4.1.4" / "helm"


@pytest.fixture(scope="module")
def generated_run(tmp_path_factory, policies, render_cache):
    root = tmp_path_factory.mktemp("generated")
    mono = root / "mono"
    monorepo.generate(mono, 8, 0.05)  # the eighth (garnet) needs a required value
    (root / "overlays").mkdir()
    config = gate_config(root, mono / "platform", root / "overlays", cache=render_cache)
    return run_gate(dataclasses.replace(config, chart_roots=(mono / "platform", mono / "products")), policies)


@pytest.mark.skipif(not HELM.is_file(), reason="the pinned Helm is provisioned by `make tools`")
def test_every_policy_stays_quiet_on_generated_realistic_blueprints(generated_run):
    run = generated_run
    noisy = [(r.policy.id, r.chart, r.scenario, r.message or [f.message for f in r.findings][:2])
             for r in run.gate.results if r.outcome in (Outcome.FAILED, Outcome.ERROR)]
    assert not noisy
    assert not run.summary.red
    # Judged, not waved through: every family ran on them, and the required-input charts were layered
    # on their ci values (RENDER-001 passes on their bare render, which names the required key).
    passed = {r.policy.family for r in run.gate.results if r.outcome is Outcome.PASSED}
    assert {"RENDER", "OBS", "CAP", "UMB", "WIR", "SCH", "FQDN", "HYG", "SEC", "GOLD", "PROP"} <= passed
    assert len(run.gate.charts) >= 9  # eight platform Blueprints and the composite
    assert any(base.requires_input for base in run.gate.bases.values())
