"""A fresh machine: `pip install chartgate` without the `[parallel]` extra (no pytest-xdist), and a home
without `~/.cache`. Both must gate, and the second must cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import pytest

from chartgate.engine.gate import Gate, GateConfig
from chartgate.render.renderer import RenderCacheWarning

from ..conftest import REPO
from .helpers import engine_policies, plugin_repo, write_chart

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  key: value\n"


def test_without_pytest_xdist_installed_the_gate_runs(pytester: pytest.Pytester, monkeypatch, tmp_path):
    repo = plugin_repo(pytester, monkeypatch)
    shim = tmp_path / "shim"  # first on sys.path: `import xdist` fails, as where it is not installed
    (shim / "xdist").mkdir(parents=True)
    (shim / "xdist" / "__init__.py").write_text('raise ModuleNotFoundError("No module named \'xdist\'")\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shim), *sys.path]),
           "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "policies", "--chart-root", "charts",
                           "--overlay-root", "overlays", "--helm-version", "4.1.4", "--update-golden", "--strict-markers",
                           "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:xdist.looponfail"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert "INTERNALERROR" not in out and "unknown hook" not in out, out[-3000:]
    assert proc.returncode == 0, out[-3000:]
    data = json.loads((repo / "reports" / "chartgate.json").read_text())
    assert data["summary"]["gate"] == "passed" and data["summary"]["per_chart"]["tiny"]["passed"] > 0


def test_a_cache_whose_parent_directories_do_not_exist_is_created_and_the_warm_run_uses_it(tmp_path, monkeypatch):
    write_chart(tmp_path / "charts", "tiny", {"cm.yaml": CONFIGMAP})
    (tmp_path / "overlays").mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home" / ".cache"))  # neither exists yet

    def run(name: str) -> dict:
        config = GateConfig(chart_roots=(tmp_path / "charts",), overlay_roots=(tmp_path / "overlays",),
                            report_dir=tmp_path / name, golden_dir=tmp_path / "golden", update_golden=True,
                            tools_dir=REPO / ".tools", helm_versions=("4.1.4",), platform_file=REPO / "platform.yaml")
        assert config.cache_dir == tmp_path / "home" / ".cache" / "chartgate"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            summary = Gate(config).run(engine_policies())
        assert not [w for w in caught if issubclass(w.category, RenderCacheWarning)], [str(w.message) for w in caught]
        return summary.reports.report

    cold = run("cold")
    assert cold["render_stats"]["renders"] > 0
    assert oct((tmp_path / "home" / ".cache" / "chartgate").stat().st_mode & 0o777) == "0o700"
    warm = run("warm")
    assert warm["render_stats"]["renders"] == 0, warm["render_stats"]  # every render came from the cache
    assert warm["render_stats"]["results_cached"] > 0 and warm["render_stats"]["results_judged"] == 0
    assert warm["summary"]["gate"] == cold["summary"]["gate"] == "passed"

