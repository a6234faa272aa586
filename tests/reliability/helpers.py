"""Small builders shared by the reliability tests: charts on disk, the pinned Helm binaries, a gate
over the engine's own policies, and a pytester repository that runs the real plugin."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest

from chartgate.engine.gate import Gate
from chartgate.render.helm import Helm
from chartgate.check.loader import load_policy_module
from chartgate.check.definition import policies_in
from chartgate.render.toolchain import locate

from ..conftest import REPO, gate_config

HELM_VERSIONS = ("4.1.4", "3.19.0")
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: {value}\n"


@functools.cache
def pinned(version: str = "4.1.4"):
    return locate(REPO / ".tools", version, env={})  # hashes ~60 MB: once per version and session


def helm(version: str = "4.1.4", timeout: float = 60) -> Helm:
    return Helm(pinned(version), timeout=timeout)


def write_chart(root: Path, name: str, templates: dict[str, str] | None = None, *, values: str = "{}\n",
                chart_yaml: str | None = None, files: dict[str, str | bytes] | None = None) -> Path:
    chart = root / name
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text(chart_yaml or f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(values)
    for rel, text in (templates or {}).items():
        (chart / "templates" / rel).write_text(text)
    for rel, data in (files or {}).items():
        target = chart / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data if isinstance(data, bytes) else data.encode())
    return chart


def engine_policies():
    """GOLD-001 and RENDER-001: enough to exercise the whole gate, cheap to run."""
    return [p for name in ("golden.py", "render.py") for p in policies_in(load_policy_module(REPO / "policies" / name))]


def run_small_gate(tmp_path: Path, chart_root: Path, **kw) -> tuple[Gate, object]:
    (tmp_path / "overlays").mkdir(exist_ok=True)
    kw.setdefault("cache", tmp_path / "cache")
    gate = Gate(gate_config(tmp_path, chart_root, tmp_path / "overlays", **kw))
    return gate, gate.run(engine_policies())


def plugin_repo(pytester: pytest.Pytester, monkeypatch) -> Path:
    """A tiny repository for an in-process pytest run of the real plugin: policies/ (GOLD-001 and
    RENDER-001), charts/tiny, overlays/, and a link to the provisioned .tools/."""
    monkeypatch.delenv("HELM_BIN", raising=False)
    monkeypatch.delenv("CHARTGATE_TOOLS_DIR", raising=False)
    root = pytester.path
    (root / ".tools").symlink_to(REPO / ".tools")
    (root / "policies").mkdir()
    for name in ("golden.py", "render.py"):
        shutil.copy(REPO / "policies" / name, root / "policies" / name)
    (root / "overlays").mkdir()
    write_chart(root / "charts", "tiny", {"cm.yaml": CONFIGMAP.format(name="cm", value="v")})
    return root


def run_plugin(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("policies", "--chart-root", "charts", "--overlay-root", "overlays",
                              "--helm-version", "4.1.4", "-p", "no:cacheprovider", "-p", "no:randomly", *args)


def no_crash(result: pytest.RunResult) -> str:
    """The run's whole output, after checking that nothing reached the user as a Python traceback."""
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output, output[-4000:]
    assert "Traceback (most recent call last)" not in output, output[-4000:]
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.USAGE_ERROR), output[-4000:]
    return output
