"""pytest plugin for the benchmarks: log every `helm template` chartgate runs, to replay it bare.

Loaded with `-p helm_recorder` (bench/ on PYTHONPATH) when CHARTGATE_BENCH_HELM_LOG names a file.
Each executed render appends one JSON line: {"argv": [...], "seconds": ...}. Cache hits run no Helm
and log nothing, so the log is exactly the render set the run paid for.
"""

from __future__ import annotations

import json
import os
import threading

_LOCK = threading.Lock()


def pytest_configure(config) -> None:
    log = os.environ.get("CHARTGATE_BENCH_HELM_LOG")
    if not log:
        return
    from chartgate.helm import Helm

    original = Helm.template

    def recording_template(self, request, **kwargs):
        argv = [str(self.path), *request.args()]
        try:
            output = original(self, request, **kwargs)
        except Exception:
            _append(log, {"argv": argv, "seconds": None})
            raise
        _append(log, {"argv": argv, "seconds": output.seconds})
        return output

    Helm.template = recording_template


def _append(path: str, entry: dict) -> None:
    with _LOCK, open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")
