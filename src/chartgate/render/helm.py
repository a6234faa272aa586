"""Run `helm template` as a typed request and classify its failures.

Renders are isolated: every Helm call runs with a minimal, allow-listed environment (see
`_helm_environment`): a private HOME and private Helm config/cache/data/plugin directories, a
kubeconfig that does not exist, a proxy on a closed local port, and nothing else of the caller's
environment - no CI token can reach a render. Positional arguments follow `--`, so a release name
such as `--post-renderer=./x.sh` can never be read as a flag.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import signal
import subprocess
import shutil
import tempfile
import threading
import weakref
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from chartgate.core.errors import (ChartFailed, HelmCrashed, HelmNotFound, HelmVersionUnsupported, RenderError,
                                   RenderTimeout)
from chartgate.core.stop import StopSwitch
from chartgate.render.toolchain import HelmLocation

_SUPPORTED_MAJORS = (3, 4)
DEFAULT_TIMEOUT = 120.0

#: Helm reports the chart's own `fail`/`required` (and only those) as "execution error at (<template>:
#: <line>:<col>): <message>"; every other template error has another form. A chart's values schema
#: (values.schema.json) rejecting the values is the chart's own refusal too.
_CHART_FAIL = re.compile(r"\Aexecution error at \(|\Avalues don't meet the specifications of the schema")
#: The hint Helm appends to template errors; it is not part of the message.
_DEBUG_HINT = "Use --debug flag to render out invalid YAML"
_PANIC = re.compile(r"(?m)^panic: ")
#: At most one `helm template` per CPU at any moment, across every renderer and thread of the run (the
#: chart being judged, the charts rendered ahead of it, each Helm version of the matrix): more would
#: not render faster, and each Helm process of a large chart holds a few hundred MB.
_HELM_SLOTS = threading.BoundedSemaphore(os.cpu_count() or 1)


def _json_default(value: Any) -> Any:
    """YAML gives dates and timestamps; Helm and Flux pass them on as strings."""
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"{type(value).__name__} is not a JSON value")


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
        """`template [flags] -- RELEASE CHART`. A flag's value always follows it (Helm takes the next
        argument as the value whatever it looks like); the positional arguments come after `--`, so
        neither a release name nor a chart path can ever be read as a flag (Helm 3.19 and 4.1 both
        accept this form)."""
        argv = ["template", "--namespace", self.namespace]
        for path in self.values_files:
            argv += ["--values", str(path)]
        for key, value in self.set_values:
            argv += ["--set-json", f"{key}={json.dumps(value, sort_keys=True, default=_json_default)}"]
        for api in self.api_versions:
            argv += ["--api-versions", api]
        if self.kube_version:
            argv += ["--kube-version", self.kube_version]
        return argv + ["--", self.release, str(self.chart_dir)]


@dataclass(frozen=True)
class _HelmOutput:
    stdout: str
    warnings: tuple[str, ...]
    seconds: float


#: The only variables taken from the caller's environment: where programs are, and the locale.
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES")
#: A dead proxy: any network attempt goes to a closed local port and fails at once.
_DEAD_PROXY = "http://127.0.0.1:9"


def _helm_environment(home: Path, source: dict[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a Helm process: an allow-list, never the caller's environment less a
    deny-list. A template cannot read variables (Helm removes sprig's `env`/`expandenv`), but a chart
    file linked to /proc/self/environ could, and Helm plugins and credential helpers would: so CI
    tokens, cloud credentials and the user's kube/Helm settings are simply not there.

    - PATH and the locale (LANG, LC_ALL, LC_CTYPE, LC_MESSAGES) pass through;
    - HOME, TMPDIR and every Helm directory (config, cache, data, plugins, registry and repository
      files) are private to this Helm object; plugins are off (HELM_NO_PLUGINS);
    - KUBECONFIG names a file that does not exist, so nothing can reach a cluster;
    - TZ is UTC, so templates that format times (`now | date`, `dateInZone`) render the same on
      every machine;
    - HTTP(S)_PROXY point at a closed local port, so nothing can reach the network.
    """
    source = os.environ if source is None else source
    env = {key: source[key] for key in _PASSED_THROUGH if key in source}
    env.setdefault("PATH", os.defpath)
    config, cache, data = home / "config", home / "cache", home / "data"
    env.update(
        HOME=str(home / "home"),
        TMPDIR=str(home / "tmp"),
        TZ="UTC",
        HELM_CONFIG_HOME=str(config),
        HELM_CACHE_HOME=str(cache),
        HELM_DATA_HOME=str(data),
        HELM_PLUGINS=str(data / "plugins"),
        HELM_REGISTRY_CONFIG=str(config / "registry" / "config.json"),
        HELM_REPOSITORY_CONFIG=str(config / "repositories.yaml"),
        HELM_REPOSITORY_CACHE=str(cache / "repository"),
        HELM_NO_PLUGINS="1",
        KUBECONFIG=str(home / "no-kubeconfig"),
        HTTP_PROXY=_DEAD_PROXY, HTTPS_PROXY=_DEAD_PROXY, NO_PROXY="",
        http_proxy=_DEAD_PROXY, https_proxy=_DEAD_PROXY, no_proxy="",
    )
    for directory in (home / "home", home / "tmp"):
        directory.mkdir(parents=True, exist_ok=True)
    return env


def _split_stderr(stderr: str) -> tuple[str, tuple[str, ...]]:
    """(Helm's error message, whole; Helm's warnings). The error is everything from the first line
    that starts with "Error: " on (a chart's `fail` message may span many lines), without the
    "Use --debug flag" hint; the lines before it are warnings (one per line)."""
    lines = stderr.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Error: ")), None)
    before = lines if start is None else lines[:start]
    warnings = tuple(line for line in before if line.strip())
    if start is None:
        return "", warnings
    block = lines[start:]
    block[0] = block[0].removeprefix("Error: ")
    while block and (not block[-1].strip() or block[-1].strip() == _DEBUG_HINT):
        block.pop()
    return "\n".join(block), warnings


@dataclass
class Helm:
    """A located, version-checked Helm binary."""

    location: HelmLocation
    timeout: float = DEFAULT_TIMEOUT
    stop: StopSwitch = field(default_factory=StopSwitch)  # the gate's: checked before each render
    _home: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="chartgate-helm-")))

    def __post_init__(self) -> None:
        # The private home holds nothing worth keeping: removed with this object (or at exit).
        weakref.finalize(self, shutil.rmtree, str(self._home), True)

    @property
    def path(self) -> Path:
        return self.location.path

    @cached_property
    def env(self) -> dict[str, str]:
        return _helm_environment(self._home)

    def run(self, args: list[str], *, timeout: float | None = None) -> subprocess.CompletedProcess:
        """Any other Helm call (`version`, `dependency ...`), in the same isolated environment."""
        return subprocess.run([str(self.path), *args], capture_output=True, text=True, env=self.env,
                              timeout=self.timeout if timeout is None else timeout)

    @cached_property
    def version(self) -> str:
        """e.g. 'v4.1.4'; raises if the binary does not answer like a supported Helm."""
        try:
            proc = self.run(["version", "--template", "{{.Version}}"], timeout=min(self.timeout, 30))
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
        if int(match.group(1)) not in _SUPPORTED_MAJORS:
            raise HelmVersionUnsupported(
                f"{self.path} is Helm {text}; chartgate supports Helm "
                f"{' and '.join(f'{m}.x' for m in _SUPPORTED_MAJORS)}. Set HELM_BIN to a supported binary."
            )
        return text

    def command_line(self, request: TemplateRequest) -> str:
        return shlex.join([str(self.path), *request.args()])

    def template(self, request: TemplateRequest, *, chart: str, scenario: str) -> _HelmOutput:
        """Run `helm template`; return stdout and Helm's warnings, or raise a typed RenderError."""
        __tracebackhide__ = True
        command = self.command_line(request)
        self.stop.check()
        with _HELM_SLOTS:
            self.stop.check()  # it may have come while this thread waited for a slot
            started = time.perf_counter()
            proc = subprocess.Popen([str(self.path), *request.args()], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env=self.env, start_new_session=True)
            with self.stop.watching(proc):
                try:
                    stdout, stderr = proc.communicate(timeout=self.timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.communicate()
                    raise RenderTimeout(chart, scenario, f"no result after {self.timeout:g}s (per-render timeout; "
                                        "raise it with --render-timeout)", command) from None
            seconds = time.perf_counter() - started
        self.stop.check()  # killed by the stop: no result, and not Helm's failure
        message, warnings = _split_stderr(stderr)
        if proc.returncode == 0:
            return _HelmOutput(stdout, warnings, seconds)
        # Helm reports errors with exit 1 and an "Error: " message; a Go panic exits 2 with a stack.
        if proc.returncode < 0 or not message or (proc.returncode != 1 and _PANIC.search(stderr)):
            how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
            lines = stderr.strip().splitlines()
            panic = [ln for ln in lines if ln.startswith("panic:")]  # the cause, not the goroutine dump
            detail = (panic or lines[-1:] or ["no message"])[0]
            raise HelmCrashed(chart, scenario, f"{how}: {detail}. Helm itself failed, not the chart; the result "
                              "is not cached, so re-run, or try another Helm with HELM_BIN", command, stderr)
        error_cls = ChartFailed if _CHART_FAIL.match(message) else RenderError
        raise error_cls(chart, scenario, message, command, stderr)
