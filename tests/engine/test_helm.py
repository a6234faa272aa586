"""Running `helm template`: wrong versions, hangs, chart failures and Helm crashes are told apart,
and the Helm process runs isolated from any cluster, kubeconfig or user Helm configuration.

Fake `helm` scripts stand in for misbehaving binaries only where a real Helm cannot misbehave on
demand (wrong version, hang, crash); everything else runs the provisioned Helm.
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

import pytest

from chartgate.core.errors import ChartFailed, HelmCrashed, HelmVersionUnsupported, RenderError, RenderTimeout
from chartgate.render.helm import Helm, TemplateRequest
from chartgate.render.toolchain import locate

from ..conftest import REPO


@functools.cache
def _pinned():
    return locate(REPO / ".tools", env={})  # hashes ~60 MB: once per module


def real_helm(timeout: float = 60) -> Helm:
    return Helm(_pinned(), timeout=timeout)


def fake_helm(tmp_path: Path, template_body: str, *, version: str = "v4.1.4", timeout: float = 60) -> Helm:
    """A shell script that answers `helm version` with `version` and runs `template_body` otherwise."""
    script = tmp_path / "fake-helm"
    script.write_text(f'#!/bin/sh\nif [ "$1" = version ]; then echo {version}; exit 0; fi\n{template_body}\n')
    script.chmod(0o755)
    return Helm(locate(REPO / ".tools", env={"HELM_BIN": str(script)}), timeout=timeout)


def tiny_chart(root: Path, templates: dict[str, str], name: str = "tiny") -> Path:
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("{}\n")
    for rel, text in templates.items():
        (chart / "templates" / rel).write_text(text)
    return chart


def _gone(pid: int) -> bool:
    """True when the process no longer runs (exited, or a zombie waiting for its parent)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


# -- version -------------------------------------------------------------------------------------

def test_the_provisioned_helm_answers_with_a_supported_version():
    assert real_helm().version == "v4.1.4"


def test_helm_2_is_refused_with_the_supported_versions_and_the_fix(tmp_path):
    helm = fake_helm(tmp_path, "exit 0", version="v2.17.0")
    with pytest.raises(HelmVersionUnsupported) as excinfo:
        helm.version
    message = str(excinfo.value)
    assert "v2.17.0" in message and "3.x and 4.x" in message and "HELM_BIN" in message


def test_a_binary_that_is_not_helm_is_refused(tmp_path):
    helm = fake_helm(tmp_path, "exit 0", version="kubectl-1.33")
    with pytest.raises(HelmVersionUnsupported, match="is not a Helm binary"):
        helm.version


# -- hang ----------------------------------------------------------------------------------------

def test_a_hanging_render_is_killed_at_the_per_render_timeout(tmp_path):
    """The whole process group goes: the script and the child it started."""
    pids = tmp_path / "pids"
    helm = fake_helm(tmp_path, f"sleep 60 & echo $$ $! > {pids}; wait", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(RenderTimeout) as excinfo:
        helm.template(TemplateRequest(tmp_path), chart="tiny", scenario="default")
    elapsed = time.monotonic() - started

    assert elapsed < 5, f"the timeout took {elapsed:.1f}s to take effect"
    error = excinfo.value
    assert error.reason == "timeout" and error.chart == "tiny" and error.scenario == "default"
    assert "0.5s" in str(error) and "--render-timeout" in str(error)
    assert "reproduce with:" in str(error) and str(tmp_path) in error.command
    deadline = time.monotonic() + 5
    script_pid, child_pid = (int(p) for p in pids.read_text().split())
    while not (_gone(script_pid) and _gone(child_pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(script_pid) and _gone(child_pid), "helm (or a child) survived the timeout"


# -- chart failure versus Helm crash ---------------------------------------------------------------

def test_template_fail_is_a_chart_failure_with_the_charts_own_message(tmp_path):
    chart = tiny_chart(tmp_path, {"fqdn.yaml": '{{ fail "set overlay.fqdn to the Sovereign FQDN" }}\n'})
    with pytest.raises(ChartFailed) as excinfo:
        real_helm().template(TemplateRequest(chart), chart="tiny", scenario="default")
    error = excinfo.value
    assert error.reason == "chart-fail"
    assert "set overlay.fqdn to the Sovereign FQDN" in error.helm_message
    assert "tiny/templates/fqdn.yaml" in error.helm_message  # Helm names the template and line
    assert "helm template" not in error.helm_message and "-- release " in error.command


def test_required_value_is_a_chart_failure_naming_the_key(tmp_path):
    chart = tiny_chart(tmp_path, {"cm.yaml": '{{ required "global.domain is required" .Values.global }}\n'})
    with pytest.raises(ChartFailed, match="global.domain is required"):
        real_helm().template(TemplateRequest(chart), chart="tiny", scenario="default")


def test_helm_killed_by_a_signal_is_a_crash_not_a_chart_error(tmp_path):
    helm = fake_helm(tmp_path, "kill -SEGV $$")
    with pytest.raises(HelmCrashed) as excinfo:
        helm.template(TemplateRequest(tmp_path), chart="tiny", scenario="default")
    message = str(excinfo.value)
    assert "killed by signal 11" in message
    assert "Helm itself failed, not the chart" in message and "not cached" in message


def test_a_go_panic_is_a_crash_and_the_message_shows_the_panic(tmp_path):
    helm = fake_helm(tmp_path, "echo 'panic: runtime error: invalid memory address' >&2\n"
                               "echo 'goroutine 1 [running]:' >&2\nexit 2")
    with pytest.raises(HelmCrashed) as excinfo:
        helm.template(TemplateRequest(tmp_path), chart="tiny", scenario="default")
    assert "exit 2: panic: runtime error: invalid memory address" in str(excinfo.value)
    assert not isinstance(excinfo.value, ChartFailed)


def test_an_ordinary_helm_error_keeps_helms_message(tmp_path):
    chart = tiny_chart(tmp_path, {"cm.yaml": "{{ .Values.nope.deeper }}\n"})
    with pytest.raises(RenderError) as excinfo:
        real_helm().template(TemplateRequest(chart), chart="tiny", scenario="default")
    assert type(excinfo.value) is RenderError
    assert "tiny/templates/cm.yaml" in excinfo.value.helm_message


# -- isolation -----------------------------------------------------------------------------------

def test_helm_env_drops_the_users_kubeconfig_and_helm_settings(tmp_path, monkeypatch):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("HELM_KUBECONTEXT", "production")
    monkeypatch.setenv("HELM_REPOSITORY_CONFIG", str(tmp_path / "repos.yaml"))
    monkeypatch.setenv("HELM_CONFIG_HOME", str(tmp_path / "user-helm"))
    env = real_helm().env

    assert env["KUBECONFIG"] != str(kubeconfig) and not os.path.exists(env["KUBECONFIG"])
    assert "HELM_KUBECONTEXT" not in env
    for key in ("HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME", "HELM_REPOSITORY_CONFIG", "HOME"):
        assert not env[key].startswith(str(tmp_path)), key
    assert env["HTTPS_PROXY"] == env["HTTP_PROXY"] == "http://127.0.0.1:9"


def test_each_helm_gets_its_own_private_home():
    assert real_helm().env["HELM_CONFIG_HOME"] != real_helm().env["HELM_CONFIG_HOME"]
