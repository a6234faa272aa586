"""Render scenarios with Helm, once each: an in-memory memo, a content-addressed disk cache shared
between runs (and safe under concurrent runs), and a thread pool across the machine's cores."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from chartgate.discover.capabilities import bare_cluster_apis
from chartgate.discover.charts import Chart
from chartgate.core.errors import ChartFailed, HelmCrashed, ManifestParseError, RenderError, RenderTimeout
from chartgate.render.helm import Helm, TemplateRequest
from chartgate.parse.manifests import Manifest, build_manifests, parse_documents, shared_body
from chartgate.core.memo import IdentityMemo
from chartgate.plan.references import References, chart_references
from chartgate.plan.scenarios import Scenario
from chartgate.core.values import get_path, split_dotted, with_files, with_set
from chartgate.core.yamlio import PRIVATE_FILE_MODE, private_dirs, write_atomic

_ABSENT = object()
_OBJECT_KEYS = IdentityMemo(100_000)  # body -> its key in the cache's object store


def _canonical(body: dict) -> str:
    """An object's text in the object store (its key is the hash of this text)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)


class _UnusableEntry(Exception):
    """A cache entry whose stored objects cannot be read back (deleted, truncated, not an object): the
    cache's problem, not the chart's - the scenario is rendered again, never reported as failing."""

_CACHE_FORMAT = 5  # 2: Helm's error messages kept whole, chart failures classified precisely;
#                  3: parsed objects as one JSON text each (interned on read), no raw stdout beside them;
#                  4: objects stored once each by content (objects/), entries list their keys;
#                  5: keyed by the arguments Helm receives, charts digested as Helm loads them
_ERROR_TYPES = {cls.reason: cls for cls in (RenderError, ChartFailed, ManifestParseError)}


@dataclass(frozen=True)
class RenderSummary:
    """What outlives a released render: enough for the reports."""

    warnings: tuple[str, ...]
    ok: bool
    cached: bool
    seconds: float

    def to_dict(self) -> dict:
        return {"warnings": list(self.warnings), "ok": self.ok, "seconds": self.seconds}

    @classmethod
    def from_dict(cls, data: dict) -> "RenderSummary":
        return cls(tuple(str(w) for w in data.get("warnings") or ()), bool(data.get("ok")), True,
                   float(data.get("seconds") or 0.0))


@dataclass
class Render:
    """The outcome of rendering one scenario of one chart."""

    chart: str
    scenario: Scenario
    command: str
    manifests: list[Manifest] = field(default_factory=list)
    warnings: tuple[str, ...] = ()
    error: RenderError | None = None
    seconds: float = 0.0
    cached: bool = False
    stdout: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        """Did Helm render it? (else `error` says why)"""
        return self.error is None

    @property
    def refused(self) -> bool:
        """A generated input (toggle, plan row) the chart stopped through its own `fail`/`required`/schema
        (infeasible when the chart's base scenario renders: see ChartContext.infeasible)."""
        return isinstance(self.error, ChartFailed) and self.scenario.generated

    def kinds(self) -> set[str]:
        """The kinds the render holds."""
        return {m.kind for m in self.manifests}

    def of_kind(self, *kinds: str) -> list[Manifest]:
        """The render's objects of these kinds, e.g. `render.of_kind("Deployment", "StatefulSet")`."""
        return [m for m in self.manifests if m.kind in kinds]



def default_cache_dir() -> Path | None:
    """$XDG_CACHE_HOME/chartgate (only when XDG_CACHE_HOME is absolute, as the XDG spec says), else
    ~/.cache/chartgate; None (no cache) when there is no home directory to put it in."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError):  # no HOME and no passwd entry
            return None
    return Path(base) / "chartgate"


class RenderCacheWarning(UserWarning):
    """The render cache cannot be used (its directory is a file, unwritable, the disk is full):
    chartgate renders without it. Emitted once per cache directory and process."""


_CACHE_WARNED: set[str] = set()
_CACHE_WARNED_LOCK = threading.Lock()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _valid_entry(entry: object) -> bool:
    """Is `entry` a cache entry as `Renderer` writes it? Either a render (`stdout`, `warnings`,
    `seconds`, optional parsed `documents`) or a chart error (`error`: reason, message, stderr)."""
    if not isinstance(entry, dict):
        return False
    if "error" in entry:
        error = entry["error"]
        return (isinstance(error, dict) and isinstance(error.get("reason"), str)
                and isinstance(error.get("message"), str) and isinstance(error.get("stderr", ""), str))
    warnings_ = entry.get("warnings", [])
    seconds = entry.get("seconds", 0.0)
    documents = entry.get("documents")
    if documents is not None and entry.get("objects") is not True:
        return False
    return ((isinstance(entry.get("stdout"), str) or isinstance(documents, list))
            and isinstance(warnings_, list) and all(isinstance(w, str) for w in warnings_)
            and isinstance(seconds, (int, float)) and not isinstance(seconds, bool)
            and (documents is None or isinstance(documents, list)
                 and all(isinstance(d, list) and len(d) == 2 and isinstance(d[0], str) and isinstance(d[1], str)
                         for d in documents)))


@dataclass
class Renderer:
    helm: Helm
    cache_dir: Path | None = None
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    release_name: str | None = None  # default: the chart's name
    namespace: str | None = None  # default: the chart's name
    kube_version: str | None = None  # target Kubernetes version (`v1.33.0`) of scenarios that name none
    _memo: dict = field(default_factory=dict)
    _locks: dict = field(default_factory=dict)
    _values: dict = field(default_factory=dict)  # (chart digest, values files) -> merged values
    _effective: dict = field(default_factory=dict)  # (chart digest, request args) -> effective request
    _refs: dict = field(default_factory=dict)  # chart digest -> values paths its templates read
    _bare: dict = field(default_factory=dict)  # (chart digest, kube version) -> built-in APIs to advertise
    _summaries: dict = field(default_factory=dict)  # memo key -> RenderSummary, kept after release()
    _stored: set = field(default_factory=set)  # object keys known to be in this cache's object store
    observers: list = field(default_factory=list)  # called with every new distinct render
    _guard: threading.Lock = field(default_factory=threading.Lock)
    stats: dict = field(default_factory=lambda: {"renders": 0, "cache_hits": 0, "memo_hits": 0, "helm_seconds": 0.0})

    def request(self, chart: Chart, scenario: Scenario) -> TemplateRequest:
        """What Helm is asked: the scenario's inputs on the target Kubernetes version (every Helm then
        answers `.Capabilities.KubeVersion` alike, not with the version its libraries were built for),
        with the built-in APIs that version serves and the templates test for (see
        capabilities.bare_cluster_apis) advertised in addition to the scenario's optional ones."""
        kube_version = scenario.kube_version or self.kube_version
        bare = self._bare_apis(chart, kube_version) if kube_version else ()
        return TemplateRequest(
            chart_dir=chart.path,
            release=scenario.release or self.release_name or chart.name,
            namespace=scenario.namespace or self.namespace or chart.name,
            values_files=scenario.values_files,
            set_values=scenario.set_values,
            api_versions=scenario.api_versions + tuple(a for a in bare if a not in scenario.api_versions),
            kube_version=kube_version,
        )

    def _bare_apis(self, chart: Chart, kube_version: str) -> tuple[str, ...]:
        key = (chart.digest, kube_version)
        with self._guard:
            found = self._bare.get(key)
        if found is None:
            found = bare_cluster_apis(chart, kube_version)
            with self._guard:
                self._bare[key] = found
        return found

    def cache_key(self, chart: Chart, request: TemplateRequest) -> str:
        """Content address of a render, derived from the request Helm receives (pass the effective
        request: the one `helm template` is run with): its exact arguments, with every file they name
        replaced by the digest of what Helm reads there - the chart tree as Helm loads it, each values
        file's bytes - and the Helm binary's digest. Nothing is listed by hand, so a new flag or input
        of TemplateRequest is part of the key as soon as it reaches Helm's command line."""
        addressed = replace(request, chart_dir=Path(f"chart:{chart.digest}"),
                            values_files=tuple(Path(f"values:{_file_digest(p)}") for p in request.values_files))
        key = {"format": _CACHE_FORMAT, "helm": self.helm.location.sha256, "args": addressed.args()}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()

    @staticmethod
    def _memo_key(chart: Chart, request: TemplateRequest) -> tuple:
        # args() spells out every input as text; --set-json values may be unhashable mappings
        return (chart.name, chart.digest, tuple(request.args()))

    def effective_request(self, chart: Chart, request: TemplateRequest) -> TemplateRequest:
        """The request without `--set` lines that provably change nothing: a value equal, in type and
        value, to what the chart and values files already give (`off.X` then shares the default's
        render), or a path no template of the chart can read (see references.py)."""
        if not request.set_values:
            return request
        memo_key = (chart.digest, tuple(request.args()))
        with self._guard:
            known = self._effective.get(memo_key)
        if known is not None:
            return known
        values = self._values_for(chart, request.values_files)
        reads = self._references(chart).reads
        kept = []
        for dotted_path, value in request.set_values:
            path = split_dotted(dotted_path)
            if not reads(path):
                continue
            current = get_path(values, path, _ABSENT)
            if isinstance(value, (dict, list)) or value is None or type(current) is not type(value) \
                    or current != value:
                kept.append((dotted_path, value))
                values = with_set(values, dotted_path, value)
        effective = replace(request, set_values=tuple(kept))
        with self._guard:
            self._effective[memo_key] = effective
        return effective

    def _references(self, chart: Chart) -> References:
        with self._guard:
            found = self._refs.get(chart.digest)
        if found is None:
            found = chart_references(chart)
            with self._guard:
                self._refs[chart.digest] = found
        return found

    def _values_for(self, chart: Chart, files: tuple[Path, ...]) -> dict:
        key = (chart.digest, tuple(str(f) for f in files))
        with self._guard:
            cached = self._values.get(key)
        if cached is None:
            cached = with_files(chart.effective_values, files)
            with self._guard:
                self._values[key] = cached
        return cached

    def render(self, chart: Chart, scenario: Scenario) -> Render:
        request = self.request(chart, scenario)
        effective = self.effective_request(chart, request)
        memo_key = self._memo_key(chart, effective)
        command = self.helm.command_line(request)
        with self._guard:
            if memo_key in self._memo:
                self.stats["memo_hits"] += 1
                return self._relabel(self._memo[memo_key], scenario, command)
            lock = self._locks.setdefault(memo_key, threading.Lock())
        with lock:
            fresh = memo_key not in self._memo
            if fresh:
                render = self._render_uncached(chart, scenario, request, effective)
                with self._guard:
                    self._memo[memo_key] = render
                    self._summaries[memo_key] = RenderSummary(render.warnings, render.ok, render.cached,
                                                              render.seconds)
            render = self._memo[memo_key]
        if fresh:
            for observe in self.observers:  # e.g. the redactor learning a rendered Secret's values
                observe(render)
        return self._relabel(render, scenario, command)

    def release(self, chart_name: str) -> int:
        """Forget the renders of one chart (its checks are done): memory stays bounded by one chart's
        renders, not the monorepo's. What reports need is kept (see `summary`); a later render of
        the same scenario comes from the disk cache."""
        with self._guard:
            gone = [key for key in self._memo if key[0] == chart_name]
            for key in gone:
                del self._memo[key]
                self._locks.pop(key, None)
        return len(gone)

    def summary(self, chart: Chart, scenario: Scenario) -> "RenderSummary | None":
        """What the reports keep of a scenario's render (its warnings, whether it rendered), also after
        `release`; None if it was never rendered. Never runs Helm."""
        memo_key = self._memo_key(chart, self.effective_request(chart, self.request(chart, scenario)))
        with self._guard:
            return self._summaries.get(memo_key)

    def remember(self, chart: Chart, scenario: Scenario, summary: "RenderSummary") -> None:
        """A summary known from an earlier run (the result cache), for a render not made in this one."""
        memo_key = self._memo_key(chart, self.effective_request(chart, self.request(chart, scenario)))
        with self._guard:
            self._summaries.setdefault(memo_key, summary)

    def cached_render(self, chart: Chart, scenario: Scenario) -> Render | None:
        """The scenario's render from the memo or the disk cache only; None if neither has it. Never
        runs Helm (for --plan)."""
        known = self.rendered(chart, scenario)
        if known is not None or self.cache_dir is None:
            return known
        request = self.request(chart, scenario)
        key = self.cache_key(chart, self.effective_request(chart, request))
        entry = self._read_cache(Path(self.cache_dir) / "renders" / key[:2] / f"{key}.json")
        if entry is None:
            return None
        try:
            return self._from_output(chart, scenario, self.helm.command_line(request), entry, cached=True)
        except _UnusableEntry:
            return None

    def renders(self) -> list[Render]:
        """Every distinct render so far (identical inputs share one), e.g. for evidence and redaction."""
        with self._guard:
            return list(self._memo.values())

    def rendered(self, chart: Chart, scenario: Scenario) -> Render | None:
        """This scenario's render if it has already happened; never runs Helm."""
        request = self.request(chart, scenario)
        memo_key = self._memo_key(chart, self.effective_request(chart, request))
        with self._guard:
            render = self._memo.get(memo_key)
        return None if render is None else self._relabel(render, scenario, self.helm.command_line(request))

    @staticmethod
    def _relabel(render: Render, scenario: Scenario, command: str) -> Render:
        """Identical inputs are rendered once; each scenario still gets its own name and command."""
        if render.scenario == scenario and render.command == command:
            return render
        error = render.error
        if error is not None:  # the message must name this scenario, not the one rendered first
            error = type(error)(error.chart, scenario.name, error.helm_message, command, error.stderr)
        return Render(render.chart, scenario, command, render.manifests, render.warnings, error,
                      render.seconds, render.cached, render.stdout)

    def _render_uncached(self, chart: Chart, scenario: Scenario, request: TemplateRequest,
                         effective: TemplateRequest) -> Render:
        command = self.helm.command_line(request)
        cache_file = None
        if self.cache_dir is not None:
            key = self.cache_key(chart, effective)
            cache_file = Path(self.cache_dir) / "renders" / key[:2] / f"{key}.json"
            entry = self._read_cache(cache_file)
            if entry is not None:
                try:
                    render = self._from_output(chart, scenario, command, entry, cached=True)
                except _UnusableEntry:
                    pass  # rendered again below, and the entry rewritten
                else:
                    self.stats["cache_hits"] += 1
                    return render
        try:
            # Helm receives exactly the request the key was derived from: a `--set` line pruned from
            # the key is pruned from what Helm renders too, never one without the other.
            output = self.helm.template(effective, chart=chart.name, scenario=scenario.name)
            entry = {"stdout": output.stdout, "warnings": list(output.warnings), "seconds": output.seconds}
        except (HelmCrashed, RenderTimeout) as exc:  # tool failures are never cached
            return Render(chart.name, scenario, command, error=exc)
        except RenderError as exc:
            entry = {"error": {"reason": exc.reason, "message": exc.helm_message, "stderr": exc.stderr}}
        with self._guard:
            self.stats["renders"] += 1
            self.stats["helm_seconds"] += entry.get("seconds", 0.0)
        render = self._from_output(chart, scenario, command, entry, cached=False)
        if cache_file is not None:
            self._write_cache(cache_file, self._cache_text(entry, render))
        return render

    def render_again(self, chart: Chart, scenario: Scenario) -> Render:
        """A second, independent render of a scenario (no memo, no cache): comparing it with the first
        shows which fields the chart computes nondeterministically (random passwords, generated
        certificates, timestamps)."""
        request = self.request(chart, scenario)
        command = self.helm.command_line(request)
        try:
            output = self.helm.template(self.effective_request(chart, request), chart=chart.name,
                                        scenario=scenario.name)
        except RenderError as exc:
            return Render(chart.name, scenario, command, error=exc)
        with self._guard:
            self.stats["renders"] += 1
            self.stats["helm_seconds"] += output.seconds
        entry = {"stdout": output.stdout, "warnings": list(output.warnings), "seconds": output.seconds}
        return self._from_output(chart, scenario, command, entry, cached=False)

    def _write_cache(self, path: Path, text: str) -> None:
        """Write an entry atomically, owner-only. A cache that cannot be written (its directory is a
        file, read-only, the disk is full) is bypassed for the rest of the run, with one warning:
        the render itself is fine, and a cache must never fail a gate."""
        cache_dir = self.cache_dir
        if cache_dir is None:
            return
        try:
            private_dirs(path.parent, Path(cache_dir).parent)  # with its parents: ~/.cache may not exist
            write_atomic(path, text, mode=PRIVATE_FILE_MODE, durable=False)
        except OSError as exc:
            self.cache_dir = None  # reads too: a cache that cannot be written is not trusted either
            key = str(cache_dir)
            with _CACHE_WARNED_LOCK:
                if key in _CACHE_WARNED:
                    return
                _CACHE_WARNED.add(key)
            warnings.warn(RenderCacheWarning(
                f"render cache {cache_dir} cannot be written ({exc.strerror or exc}); rendering without it "
                "for the rest of this run. Point --cache-dir at a writable directory, or pass "
                "--no-render-cache."), stacklevel=2)

    def _cache_text(self, entry: dict, render: Render) -> str:
        """The entry. A render's parsed objects are stored once each, by content, in the cache's object
        store (`objects/`), and the entry lists their keys: the scenarios of a chart share most of their
        objects (a CRD-heavy chart renders megabytes of the same CRDs in every scenario), so each is
        serialised, written and read back once. Bodies with YAML-only types (timestamps, binary) keep
        Helm's raw output instead, re-parsed on read."""
        if render.ok:
            try:
                documents = [[m.source, self._store_object(m.body)] for m in render.manifests]
            except (TypeError, ValueError, OSError):
                pass
            else:
                return json.dumps({k: v for k, v in entry.items() if k != "stdout"}
                                  | {"documents": documents, "objects": True})
        return json.dumps(entry)

    def _store_object(self, body: dict) -> str:
        """The object's content key; the object is written to this cache's store the first time it is
        seen. Keys are memoised per body (process-wide), writes per store (renderers may use different
        caches)."""
        written = []

        def serialise(body: dict) -> str:
            written.append(_canonical(body))
            return hashlib.sha256(written[0].encode("utf-8", "surrogatepass")).hexdigest()[:40]

        key = _OBJECT_KEYS.get(body, serialise)
        if key not in self._stored:
            path = self._object_path(key)
            if path is not None and not path.exists():
                text = written[0] if written else _canonical(body)
                private_dirs(path.parent, Path(self.cache_dir).parent)
                write_atomic(path, text, mode=PRIVATE_FILE_MODE, durable=False)
            self._stored.add(key)
        return key

    def _object_path(self, key: str) -> Path | None:
        return Path(self.cache_dir) / "objects" / key[:2] / f"{key}.json" if self.cache_dir is not None else None

    def _load_object(self, key: str) -> object:
        path = self._object_path(key)
        if path is None:
            raise ValueError("no object store")
        return shared_body(key, lambda: path.read_text(encoding="utf-8"))

    def _load_documents(self, stored: list) -> list[tuple[str, dict]]:
        """(source, body) of an entry's stored objects. An object the store cannot give back is removed
        (so the render that follows writes it again) and the entry is _UnusableEntry."""
        documents = []
        for source, key in stored:
            try:
                body = self._load_object(key)
            except (OSError, ValueError, RecursionError) as exc:
                self._forget_object(key)
                raise _UnusableEntry(str(exc)) from None
            if not (isinstance(body, dict) and isinstance(body.get("kind"), str)
                    and isinstance(body.get("apiVersion"), str)):
                self._forget_object(key)
                raise _UnusableEntry(f"stored object {key} is not a Kubernetes object")
            documents.append((source, body))
        return documents

    def _forget_object(self, key: str) -> None:
        self._stored.discard(key)
        path = self._object_path(key)
        try:
            if path is not None:
                path.unlink(missing_ok=True)
        except OSError:
            pass

    @staticmethod
    def _read_cache(path: Path) -> dict | None:
        """The entry at `path`, or None (re-render) when it is missing, unreadable, or not exactly the
        shape this version writes (a foreign, truncated or hand-edited file)."""
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):  # missing or unreadable entries are simply re-rendered
            return None
        return entry if _valid_entry(entry) else None

    def _from_output(self, chart: Chart, scenario: Scenario, command: str, entry: dict, *, cached: bool) -> Render:
        if "error" in entry:
            err = entry["error"]
            cls = _ERROR_TYPES.get(err["reason"], RenderError)
            return Render(chart.name, scenario, command, error=cls(chart.name, scenario.name, err["message"],
                                                                    command, err.get("stderr", "")), cached=cached)
        request = self.request(chart, scenario)
        try:
            stored = entry.get("documents")
            if isinstance(stored, list):
                documents = self._load_documents(stored)
            else:
                started = time.perf_counter()
                documents = parse_documents(entry["stdout"], chart=chart.name, scenario=scenario.name, command=command)
                with self._guard:
                    self.stats["parse_seconds"] = self.stats.get("parse_seconds", 0.0) + time.perf_counter() - started
            manifests = build_manifests(documents, namespace=request.namespace,
                                        cluster_scoped=chart.cluster_scoped_kinds)
        except (ManifestParseError, ValueError, OSError) as exc:
            if not isinstance(exc, ManifestParseError):
                exc = ManifestParseError(chart.name, scenario.name, f"unreadable render output ({exc})", command)
            return Render(chart.name, scenario, command, error=exc, cached=cached)
        # Helm's raw output is not kept: the parsed objects are what every check and report reads.
        return Render(chart.name, scenario, command, manifests, tuple(entry.get("warnings", ())), None,
                      entry.get("seconds", 0.0), cached)

    def render_all(self, jobs: Iterable[tuple[Chart, Scenario]]) -> list[Render]:
        jobs = list(jobs)
        self.helm.stop.check()
        if self.workers <= 1 or len(jobs) <= 1:
            return [self.render(c, s) for c, s in jobs]
        pool = ThreadPoolExecutor(max_workers=self.workers)
        try:
            return list(pool.map(lambda job: self.render(*job), jobs))
        finally:  # after an interrupt or a stop the queued renders are dropped, not run
            pool.shutdown(wait=True, cancel_futures=True)
