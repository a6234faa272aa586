"""Policy results cached across runs: a warm re-run of an unchanged monorepo judges almost nothing.

A result is a pure function of what the check could see, so it is cached under a key over all of
it: chartgate's own code (every file of the installed package) and the versions of the libraries its
checks use, the policy module, the chart tree as Helm loads it (vendored dependencies included), the
chart's whole plan (every scenario's inputs), and the bytes of every other file a check of the chart
can read - blueprint.yaml wherever it lives (in the chart or beside it), the values files of its
scenarios, the HelmRelease files they come from, the platform file, the waivers file and the
configuration file - plus the target Kubernetes and Helm versions, the chart's effective
configuration and the Hypothesis profile; a policy that reads something else declares it
(`cache_extra`: the golden check, its golden file). Anything else changed is a miss.

Beside the results, each chart's entry keeps what its renders left for the reports (per scenario:
rendered or not, Helm's warnings) and what they taught the redactor, so a warm run whose every
result is cached loads no render at all.

Stored per chart, `<cache>/results/<key>.json`: {policy id: {"module": sha256, "results": {scenario or
"": result}}}, the results *before* waivers (waivers are applied on every run). Not cached: errors
(a crash or a timeout may not recur), and anything when --no-render-cache is given. Entries are written owner-only and
atomically; a concurrent writer (an xdist worker) merges with what is there under a file lock."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from chartgate.core.yamlio import PRIVATE_FILE_MODE, private_dirs, write_atomic

_FORMAT = 3  # 3: keyed by the bytes of every input file as well
_LIBRARIES = ("pyyaml", "jsonschema", "kubernetes-validate", "publicsuffixlist", "hypothesis", "deepdiff",
              "jsonpath-ng")


@lru_cache(maxsize=1)
def _engine_digest() -> str:
    """sha256 over every file of the installed chartgate package (code, templates, data; not compiled
    bytecode) and the versions of the libraries checks depend on."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    for name in _LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name}={version}\0".encode())
    return digest.hexdigest()


def _digest_of(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


class ResultCache:
    """Cached results for the charts of one run."""

    def __init__(self, root: Path | None):
        self.root = Path(root) / "results" if root is not None else None
        self._loaded: dict[str, dict] = {}
        self._new: dict[str, dict] = {}  # key -> {policy: {"module", "results": {scenario: dict}}}
        self._state: dict[str, tuple[dict, dict]] = {}  # key -> (render summaries, redaction learned)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def _entry(self, key: str) -> dict:
        with self._lock:
            if key in self._loaded:
                return self._loaded[key]
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != _FORMAT:
                data = {}
        except (OSError, ValueError):
            data = {}
        entry = data if isinstance(data.get("policies"), dict) else {"policies": {}}
        with self._lock:
            self._loaded.setdefault(key, entry)
            return self._loaded[key]

    def chart_state(self, key: str | None) -> tuple[dict, dict]:
        """(render summaries by scenario, what the chart's renders taught the redactor) of a chart, as
        an earlier run left them: with every result cached, a warm run need not load one render."""
        if key is None or self.root is None:
            return {}, {}
        entry = self._entry(key)
        renders, secrets = entry.get("renders"), entry.get("secrets")
        return (renders if isinstance(renders, dict) else {}), (secrets if isinstance(secrets, dict) else {})

    def put_chart_state(self, key: str | None, renders: dict, secrets: dict) -> None:
        if key is None or self.root is None:
            return
        with self._lock:
            self._state[key] = (renders, secrets)

    def _find(self, key: str | None, policy_id: str, module: str, scenario: str | None, extra: str) -> dict | None:
        """The stored result of this policy module on this scenario, if what else it read is unchanged."""
        if key is None or self.root is None:
            return None
        stored = self._entry(key)["policies"].get(policy_id)
        if not (isinstance(stored, dict) and stored.get("module") == module and isinstance(stored.get("results"), dict)):
            return None
        found = stored["results"].get(scenario or "")
        # `_extra`: what else the check read (a golden file); a change there is a miss
        return found if isinstance(found, dict) and found.get("_extra", "") == extra else None

    def get(self, key: str | None, policy_id: str, module: str, scenario: str | None, extra: str = "") -> dict | None:
        if key is None or self.root is None:
            return None
        found = self._find(key, policy_id, module, scenario, extra)
        with self._lock:
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
        return {k: v for k, v in found.items() if k != "_extra"}

    def peek(self, key: str | None, policy_id: str, module: str, scenario: str | None, extra: str = "") -> bool:
        """Is a result cached (without counting a hit)?"""
        return self._find(key, policy_id, module, scenario, extra) is not None

    def put(self, key: str | None, policy_id: str, module: str, scenario: str | None, result: dict,
            extra: str = "") -> None:
        if key is None or self.root is None or result.get("outcome") == "error":
            return
        with self._lock:
            policy = self._new.setdefault(key, {}).setdefault(policy_id, {"module": module, "results": {}})
            if policy["module"] == module:
                policy["results"][scenario or ""] = {**result, "_extra": extra} if extra else result

    def save(self) -> None:
        """Write what this run judged, merged into what the cache holds (under a lock per entry)."""
        if self.root is None:
            return
        with self._lock:
            new, self._new = self._new, {}
            state, self._state = self._state, {}
        for key in state.keys() - new.keys():
            new[key] = {}
        for key, policies in new.items():
            path = self._path(key)
            try:
                private_dirs(path.parent, self.root.parent.parent)
                with open(path.with_suffix(".lock"), "a+") as lock:
                    fcntl.flock(lock, fcntl.LOCK_EX)
                    try:
                        document = json.loads(path.read_text(encoding="utf-8"))
                        document = document if document.get("format") == _FORMAT else {}
                    except (OSError, ValueError, AttributeError):
                        document = {}
                    current = document.get("policies", {}) if isinstance(document.get("policies"), dict) else {}
                    for policy_id, stored in policies.items():
                        old = current.get(policy_id)
                        if isinstance(old, dict) and old.get("module") == stored["module"]:
                            merged = dict(old.get("results") or {})
                            merged.update(stored["results"])
                            stored = {"module": stored["module"], "results": merged}
                        current[policy_id] = stored
                    renders, secrets = state.get(key, (document.get("renders"), document.get("secrets")))
                    write_atomic(path, json.dumps({"format": _FORMAT, "policies": current, "renders": renders or {},
                                                   "secrets": secrets or {}}),
                                 mode=PRIVATE_FILE_MODE, durable=False)
            except OSError:
                return  # a cache that cannot be written only costs time; the render cache warns once


def _input_files(paths: Iterable[Path | str | None]) -> dict[str, str]:
    """{path: sha256 of its bytes} of the files a check can read ("missing" for one that is not there:
    a file appearing later is a change too)."""
    found = {}
    for path in sorted({str(p) for p in paths if p}):
        try:
            found[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            found[path] = "missing"
    return found


def chart_key(*, chart_digest: str, plan: Iterable[dict], platform: Any, kube_versions: Iterable[str],
              helm: Iterable[str], settings: Any, target_kube: str, files: Iterable[Path | str | None] = ()) -> str:
    """The key of one chart's results: everything a check of that chart can observe. `files`: every
    input file a check of the chart can read besides the chart tree (see the module's docstring)."""
    return _digest_of({
        "format": _FORMAT, "engine": _engine_digest(), "chart": chart_digest, "plan": list(plan),
        "platform": platform, "kube": list(kube_versions), "target": target_kube, "helm": list(helm),
        "settings": settings, "hypothesis": os.environ.get("CHARTGATE_HYPOTHESIS_PROFILE", ""),
        "files": _input_files(files),
    })
