"""Find the boolean switches in a chart's effective values and say what kind of switch each is.

The Blueprint contract (docs/blueprint.md) binds *observability* toggles to default false - in the
overlay and in the upstream values after the umbrella's overrides - and the Blueprint's own *overlay*
objects (HPA, NetworkPolicy, PodDisruptionBudget in the umbrella's values). Feature switches
(`*.create`, `rbac.*`, `serviceAccount.*`, `scaleToZero.*`, a GatewayClass shipped on purpose) are
not bound. A toggle is classified:

1. by the platform file (`observabilityToggles: {include: [globs], exclude: [globs]}` on dotted paths);
2. by name: a path component naming an observability concern (serviceMonitor, podMonitor,
   prometheusRule, metrics, monitoring, tracing, prometheus, promExporter, hubble, ...) - unless the
   path names a feature switch (rbac, serviceAccount, scaleToZero);
3. otherwise a `create` switch is a feature, an optional-object switch of the umbrella's own values
   (hpa, networkPolicy, pdb) an overlay toggle, anything else a feature - except that a feature
   toggle read by a template that can render monitoring objects is a *probe*: its opt-in render
   decides (ChartContext.observability_toggles), because what it switches on is what counts.

Every toggle also records whether any template can read it (`referenced`, see references.py): an
unread toggle cannot change the render and is not worth a render.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable

from chartgate.discover.capabilities import capability_flags
from chartgate.discover.charts import Chart
from chartgate.plan.nesting import parent_names, template_parents
from chartgate.plan.references import chart_references
from chartgate.core.values import Path_, dotted, iter_leaves

#: Keys whose boolean value switches an optional part of the chart on or off.
_TOGGLE_KEYS = {"enabled", "enable", "create"}
_OBSERVABILITY = re.compile(r"servicemonitor|podmonitor|prometheusrule|metrics|monitoring|tracing|prometheus|"
                            r"exporter|grafana|dashboard|alert|hubble|telemetry|otel|jaeger|zipkin|scrape",
                            re.IGNORECASE)
_FEATURE = re.compile(r"^(rbac|serviceaccount|scaletozero|psp|podsecuritypolicy)$", re.IGNORECASE)
_OPTIONAL_OBJECT = re.compile(r"^(hpa|autoscaling|networkpolic(y|ies)|poddisruptionbudget|pdb)$", re.IGNORECASE)
#: Text that shows a template can render monitoring objects (used to pick probe toggles).
_OBSERVABILITY_MARKERS = ("monitoring.coreos.com", "ServiceMonitor", "PodMonitor", "PrometheusRule")
_API_VERSION = re.compile(r"apiVersion:\s*[\"']?([a-z0-9-]+(?:\.[a-z0-9-]+)+)/")


def _api_sensitive_text(text: str) -> bool:
    """Could this template render differently without optional APIs? It tests .Capabilities, or it
    writes an apiVersion of a group Kubernetes does not build in (a CRD-typed object)."""
    if "Capabilities.APIVersions" in text:
        return True
    from chartgate.core.kube import builtin_groups
    builtin = builtin_groups()
    return any(group not in builtin for group in _API_VERSION.findall(text))


class ToggleCategory(str, Enum):
    """What a boolean toggle switches: observability objects, overlay objects, or a feature of the payload."""

    OBSERVABILITY = "observability"  # scrape/alert/trace objects, usually CRD-typed (monitoring.coreos.com)
    OVERLAY = "overlay"  # optional objects the Blueprint's own overlay adds on request (HPA, NetworkPolicy)
    FEATURE = "feature"  # switches of the payload (rbac.create, ...): not required to default false


@dataclass(frozen=True)
class Toggle:
    """A boolean values switch (`metrics.enabled`) with its default, category and the subchart it belongs to."""

    path: Path_
    default: bool
    category: ToggleCategory
    in_subchart: str | None  # values key of the subchart the toggle belongs to, if any
    referenced: bool = True  # some template can read it (else it cannot change the render)
    probe: bool = False  # a feature toggle whose opt-in render decides whether it is observability
    # Enclosing toggles (dotted), switched on with it: by the values tree, then by the templates' `if`
    # nesting (see nesting.py).
    parents: tuple[str, ...] = field(default=())
    pinned: str = ""  # "include"/"exclude" when the platform file fixes the classification
    # A template that reads it tests .Capabilities or renders an object of a non-built-in API: only
    # then can switching it on render differently on a cluster without optional APIs.
    api_sensitive: bool = True

    @property
    def dotted(self) -> str:
        return dotted(self.path)

    @property
    def must_default_false(self) -> bool:
        return self.category is not ToggleCategory.FEATURE

    @property
    def exercised(self) -> bool:
        """Planned with its own opt-in / opt-in-without-API / explicit-off scenarios."""
        return self.referenced and (self.must_default_false or self.probe)


@dataclass(frozen=True)
class Classification:
    """The platform file's `observabilityToggles`: globs on dotted values paths."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def of(cls, platform) -> "Classification":
        """The classification a platform file pins (none without a platform file)."""
        if platform is None:
            return cls()
        return cls(platform.observability_include, platform.observability_exclude)

    def pinned(self, dotted_path: str) -> str:
        if any(fnmatch.fnmatchcase(dotted_path, g) for g in self.exclude):
            return "exclude"
        if any(fnmatch.fnmatchcase(dotted_path, g) for g in self.include):
            return "include"
        return ""


def _classify(path: Path_, overlay_keys: set[str]) -> ToggleCategory:
    parents = path[:-1]
    if any(_FEATURE.match(part) for part in parents):
        return ToggleCategory.FEATURE
    if any(_OBSERVABILITY.search(part) for part in parents):
        return ToggleCategory.OBSERVABILITY
    if path[-1] == "create":
        return ToggleCategory.FEATURE
    if parents and parents[0] in overlay_keys and any(_OPTIONAL_OBJECT.match(p) for p in parents):
        return ToggleCategory.OVERLAY
    return ToggleCategory.FEATURE


def _marks_observability(text: str) -> bool:
    return any(marker in text for marker in _OBSERVABILITY_MARKERS)


def _parents(path: Path_, all_paths: Iterable[Path_]) -> tuple[str, ...]:
    """Toggles whose mapping encloses this toggle's (`a.enabled` for `a.b.enabled`), outermost first."""
    scope = path[:-1]
    found = [p for p in all_paths if len(p[:-1]) < len(scope) and scope[:len(p) - 1] == p[:-1]]
    return tuple(dotted(p) for p in sorted(found, key=len))


def discover_toggles(chart: Chart, classification: Classification = Classification()) -> list[Toggle]:
    """Every boolean `enabled`/`enable`/`create` switch, umbrella and subcharts, as Helm would see it by
    default, classified; and every boolean a template tests together with a Capabilities gate
    (`.Values.isOpenshift`), whatever its name: a plan factor, so the gate is judged with it set."""
    subchart_keys = set(chart.subcharts)
    overlay_keys = {key for key in chart.values if key not in subchart_keys and key != "global"}
    references = chart_references(chart)
    monitoring = chart_references(chart, only=_marks_observability)
    api_sensitive = chart_references(chart, only=_api_sensitive_text)
    flags = capability_flags(chart)  # booleans a template combines with a Capabilities gate
    found = [(path, value) for path, value in iter_leaves(chart.effective_values)
             if path and (path[-1] in _TOGGLE_KEYS or path in flags) and isinstance(value, bool)]
    paths = [path for path, _ in found]
    nested = template_parents(chart, paths)  # `if` blocks of one toggle around a test of another
    toggles = []
    for path, value in found:
        name = dotted(path)
        pinned = classification.pinned(name)
        category = {"include": ToggleCategory.OBSERVABILITY, "exclude": ToggleCategory.FEATURE}.get(
            pinned, _classify(path, overlay_keys) if path[-1] in _TOGGLE_KEYS else ToggleCategory.FEATURE)
        probe = (category is ToggleCategory.FEATURE and not pinned and path[-1] in ("enabled", "enable")
                 and not any(_FEATURE.match(part) for part in path[:-1]) and monitoring.reads(path))
        toggles.append(Toggle(path, value, category, path[0] if path[0] in subchart_keys else None,
                              referenced=references.reads(path), probe=probe,
                              parents=tuple(dict.fromkeys(_parents(path, paths) + parent_names(nested, path))),
                              pinned=pinned, api_sensitive=api_sensitive.reads(path)))
    return sorted(toggles, key=lambda t: t.path)
