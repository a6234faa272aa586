"""Run `helm template` as a typed request and classify its failures.

Renders are isolated: Helm gets private config/cache/data directories, an unreadable kubeconfig and a
dead proxy, so nothing a render does can reach a cluster or the network.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import ChartFailed, HelmCrashed, HelmNotFound, HelmVersionUnsupported, RenderError, RenderTimeout
from .toolchain import HelmLocation

SUPPORTED_MAJORS = (3, 4)
DEFAULT_TIMEOUT = 120.0

_CHART_FAIL = re.compile(r"execution error at \(|required value|\bfail\b", re.IGNORECASE)


@dataclass(frozen=True)
class TemplateRequest:
    """Everything that determines one `helm template` invocation (and its cache key)."""

    chart_dir: Path
    release: str = "release"
    namespace: str = "default"
    values_files: tuple[Path, ...] = ()
    set_values: tuple[tuple[str, Any], ...] = ()  # (dotted.path, JSON-able value), passed as --set-json
    api_versions: tuple[str, ...] = ()
    kube_version: str | None = None

    def args(self) -> list[str]:
        argv = ["template", self.release, str(self.chart_dir), "--namespace", self.namespace]
        for path in self.values_files:
            argv += ["--values", str(path)]
        for key, value in self.set_values:
            argv += ["--set-json", f"{key}={json.dumps(value, sort_keys=True)}"]
        for api in self.api_versions:
            argv += ["--api-versions", api]
        if self.kube_version:
            argv += ["--kube-version", self.kube_version]
        return argv


@dataclass(frozen=True)
class HelmOutput:
    stdout: str
    warnings: tuple[str, ...]
    seconds: float


def _isolated_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBE"))}
    env.update(
        HELM_CONFIG_HOME=str(home / "config"),
        HELM_CACHE_HOME=str(home / "cache"),
        HELM_DATA_HOME=str(home / "data"),
        KUBECONFIG=str(home / "no-kubeconfig"),
        # Any network attempt goes to a closed local port and fails at once.
        HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="",
        http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9", no_proxy="",
    )
    return env


@dataclass
class Helm:
    """A located, version-checked Helm binary."""

    location: HelmLocation
    timeout: float = DEFAULT_TIMEOUT
    _home: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="chartgate-helm-")))

    @property
    def path(self) -> Path:
        return self.location.path

    @cached_property
    def env(self) -> dict[str, str]:
        return _isolated_env(self._home)

    @cached_property
    def version(self) -> str:
        """e.g. 'v4.1.4'; raises if the binary does not answer like a supported Helm."""
        try:
            proc = subprocess.run([str(self.path), "version", "--template", "{{.Version}}"],
                                  capture_output=True, text=True, timeout=min(self.timeout, 30), env=self.env)
        except subprocess.TimeoutExpired:
            raise HelmNotFound(f"{self.path} did not answer `helm version` within 30s") from None
        except OSError as exc:
            raise HelmNotFound(f"{self.path} cannot be executed: {exc.strerror}") from None
        text = proc.stdout.strip()
        match = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)\S*", text)
        if proc.returncode != 0 or not match:
            raise HelmVersionUnsupported(
                f"{self.path} is not a Helm binary: `helm version` printed {text or proc.stderr.strip()!r}"
            )
        if int(match.group(1)) not in SUPPORTED_MAJORS:
            raise HelmVersionUnsupported(
                f"{self.path} is Helm {text}; chartgate supports Helm "
                f"{' and '.join(f'{m}.x' for m in SUPPORTED_MAJORS)}. Set HELM_BIN to a supported binary."
            )
        return text

    def command_line(self, request: TemplateRequest) -> str:
        return shlex.join([str(self.path), *request.args()])

    def template(self, request: TemplateRequest, *, chart: str, scenario: str) -> HelmOutput:
        """Run `helm template`; return stdout and Helm's warnings, or raise a typed RenderError."""
        __tracebackhide__ = True
        command = self.command_line(request)
        started = time.perf_counter()
        proc = subprocess.Popen([str(self.path), *request.args()], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise RenderTimeout(chart, scenario, f"no result after {self.timeout:g}s (per-render timeout; "
                                "raise it with --render-timeout)", command) from None
        seconds = time.perf_counter() - started
        error_lines = [ln for ln in stderr.splitlines() if ln.startswith("Error:")]
        warnings = tuple(ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("Error:"))
        if proc.returncode == 0:
            return HelmOutput(stdout, warnings, seconds)
        if proc.returncode < 0 or "panic:" in stderr or not error_lines:
            how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
            lines = stderr.strip().splitlines()
            panic = [ln for ln in lines if ln.startswith("panic:")]  # the cause, not the goroutine dump
            detail = (panic or lines[-1:] or ["no message"])[0]
            raise HelmCrashed(chart, scenario, f"{how}: {detail}. Helm itself failed, not the chart; the result "
                              "is not cached, so re-run, or try another Helm with HELM_BIN", command, stderr)
        message = "\n".join(ln.removeprefix("Error: ") for ln in error_lines)
        error_cls = ChartFailed if _CHART_FAIL.search(message) else RenderError
        raise error_cls(chart, scenario, message, command, stderr)
