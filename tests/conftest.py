"""Shared fixtures: the real Helm binary, the repository's policies, and a mutant-chart builder."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from chartgate.engine.gate import Gate, GateConfig
from chartgate.check.loader import load_policies
from chartgate.check.definition import Outcome

# pytester drives the chartgate plugin in tests/engine/test_plugin.py; plugins may only be
# requested from this top-level conftest.
pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
CHARTS = REPO / "fixtures" / "charts"
OVERLAYS = REPO / "fixtures" / "overlays"
MUTANTS = REPO / "fixtures" / "mutants"
GOOD_CHARTS = ("bp-app-essentials", "bp-cluster-autoscaler", "bp-knative", "bp-kserve", "bp-memcached",
               "bp-reloader", "bp-stunner")


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def policies():
    return load_policies(REPO / "policies")


@pytest.fixture(scope="session")
def render_cache(tmp_path_factory) -> Path:
    """One render cache for the whole test session (mutants differ in content, so never collide)."""
    return tmp_path_factory.mktemp("render-cache")


def gate_config(tmp: Path, chart_root: Path, overlay_root: Path = OVERLAYS, *, cache: Path | None = None,
                golden: Path | None = None, update_golden: bool = True, **kw) -> GateConfig:
    """A gate over `chart_root`; by default goldens go to a scratch dir (mutant drift is not the point)."""
    return GateConfig(chart_roots=(chart_root,), overlay_roots=(overlay_root,), report_dir=tmp / "reports",
                      golden_dir=golden or tmp / "golden", update_golden=update_golden, cache_dir=cache,
                      tools_dir=REPO / ".tools", platform_file=REPO / "platform.yaml",
                      kube_versions=("1.30", "1.33"), **kw)


@dataclass
class GateRun:
    gate: Gate
    summary: object

    def outcomes(self) -> dict[tuple[str, str, str | None], Outcome]:
        return {(r.policy.id, r.chart, r.scenario): r.outcome for r in self.gate.results}

    def failing_ids(self) -> set[str]:
        return {r.policy.id for r in self.gate.results if r.outcome in (Outcome.FAILED, Outcome.ERROR)}

    def results_for(self, policy_id: str):
        return [r for r in self.gate.results if r.policy.id == policy_id]


def run_gate(config: GateConfig, policies, *, keep_renders: bool = False) -> GateRun:
    gate = Gate(config)
    gate.keep_renders = keep_renders  # every render stays in memory after the run (to inspect them)
    summary = gate.run(policies)
    return GateRun(gate, summary)


@pytest.fixture(scope="session")
def good_run(tmp_path_factory, policies, render_cache) -> GateRun:
    """The whole policy suite over the good fixture charts (GOOD_CHARTS), against the committed goldens."""
    tmp = tmp_path_factory.mktemp("good")
    return run_gate(gate_config(tmp, CHARTS, cache=render_cache, golden=REPO / "golden", update_golden=False),
                    policies)


def build_mutant(spec_path: Path, dest: Path) -> tuple[Path, Path, dict]:
    """Copy the mutant's base chart (and overlays) to `dest` and apply the spec's patches.

    Returns (chart_root, overlay_root, spec). Each `old` text must occur exactly once, so a fixture
    change that silently stops a mutant from mutating fails loudly.
    """
    spec = yaml.safe_load(spec_path.read_text())
    base = spec["base"]
    name = spec.get("name", base)
    chart_root, overlay_root = dest / "charts", dest / "overlays"
    chart_dir = chart_root / name
    shutil.copytree(CHARTS / base, chart_dir)
    if (OVERLAYS / base).is_dir():
        shutil.copytree(OVERLAYS / base, overlay_root / name)
    else:
        (overlay_root / name).mkdir(parents=True)
    for patch in spec.get("patches", []):
        target = chart_dir / patch["file"]
        text = target.read_text()
        count = text.count(patch["old"])
        assert count == 1, f"{spec_path.name}: patch text occurs {count} times in {patch['file']}, expected once"
        target.write_text(text.replace(patch["old"], patch["new"]))
    for rel, content in (spec.get("files") or {}).items():
        target = chart_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    for rel, content in (spec.get("overlay_files") or {}).items():
        (overlay_root / name / rel).write_text(content)
    for rel in spec.get("delete", []):
        path = chart_dir / rel
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return chart_root, overlay_root, spec
