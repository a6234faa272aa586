"""pytest plugin for the benchmarks: log every `helm template` chartgate runs, with its CPU time.

Loaded with `-p helm_recorder` (bench/ on PYTHONPATH) when CHARTGATE_BENCH_HELM_LOG names a file.
Each executed render appends one JSON line:
`{"argv": [...], "seconds": wall, "cpu": user+sys of the helm process, "maxrss_mb": ..., "ok": bool}`.
Cache hits run no Helm and log nothing, so the log is exactly the render set the run paid for.

The CPU comes from the kernel's accounting of the exact helm process: the Popen the engine creates
is reaped with wait4() instead of waitpid() (same semantics, plus the child's rusage). This works
with parallel renders (one Popen per thread) and costs nothing measurable.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import types

_LOCK = threading.Lock()
_LOCAL = threading.local()


class _RusagePopen(subprocess.Popen):
    """subprocess.Popen that keeps the rusage of the child it reaps."""

    rusage = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _LOCAL.last = self

    def _try_wait(self, wait_flags):  # CPython's single reaping point (POSIX)
        try:
            pid, status, usage = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            return (self.pid, 0)  # as Popen._try_wait: someone else reaped it
        if pid == self.pid:
            self.rusage = usage
        return (pid, status)


def _subprocess_proxy() -> types.ModuleType:
    """A stand-in for the `subprocess` module inside chartgate.render.helm only: same API, recording Popen."""
    proxy = types.ModuleType("subprocess_recording")
    proxy.__dict__.update({k: v for k, v in vars(subprocess).items() if not k.startswith("__")})
    proxy.Popen = _RusagePopen
    return proxy


def pytest_configure(config) -> None:
    log = os.environ.get("CHARTGATE_BENCH_HELM_LOG")
    if not log:
        return
    import chartgate.render.helm as helm_module
    from chartgate.render.helm import Helm

    helm_module.subprocess = _subprocess_proxy()
    original = Helm.template

    def recording_template(self, request, **kwargs):
        argv = [str(self.path), *request.args()]
        _LOCAL.last = None
        try:
            output = original(self, request, **kwargs)
        except Exception:
            _append(log, _entry(argv, None, ok=False))
            raise
        _append(log, _entry(argv, output.seconds, ok=True))
        return output

    Helm.template = recording_template


def _entry(argv: list[str], seconds: float | None, *, ok: bool) -> dict:
    proc = getattr(_LOCAL, "last", None)
    usage = getattr(proc, "rusage", None)
    entry: dict = {"argv": argv, "seconds": seconds, "ok": ok}
    if usage is not None:
        entry["cpu"] = round(usage.ru_utime + usage.ru_stime, 4)
        entry["maxrss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return entry


def _append(path: str, entry: dict) -> None:
    with _LOCK, open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")
