"""UDP media range: TURN/media UDP ports stay inside the range opened at the edge firewall.

A UDP port range in values is any mapping with `start`/`end` (or `min`/`max`, `from`/`to`) under a key
whose name mentions UDP or a port range (`stunnerOverlay.udpPortRange`, `turn.udp`, `mediaPortRange`).
The allowed range is the platform fact `udpPortRange` (ctx.platform.udp_port_range).

Rendered UDP ports are judged where they admit traffic from outside: NetworkPolicy *ingress* rules
(egress rules, e.g. DNS to port 53, are not media ports) and the ports of NodePort/LoadBalancer
Services. A rendered port is related to the values it came from by number: a rule with a range
(`port`..`endPort`) must equal a values range exactly; a single port must lie inside a values range or
equal a port number set in values. A port that matches no value was hardcoded in a template.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator, NamedTuple

from chartgate import Applicability, ChartContext, Finding, NotApplicable, ScenarioContext, policy
from chartgate.lib.renders import jsonpath, load_file
from chartgate.lib.selectors import matches, pod_templates
from chartgate.lib.values import Path_, dotted, values_file

REFERENCE = "docs/policies.md#net"

BOUND_PAIRS = (("start", "end"), ("min", "max"), ("from", "to"))
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
EXPOSED_SERVICE_TYPES = {"NodePort", "LoadBalancer"}


class PortRange(NamedTuple):
    path: Path_  # values path of the mapping holding the bounds
    start: Any
    end: Any
    bounds: tuple[str, str]  # the key names used, e.g. ("start", "end")

    @property
    def dotted(self) -> str:
        return dotted(self.path)

    def describe(self) -> str:
        return f"{self.dotted} ({self.start}-{self.end})"


def names_a_port_range(key: str) -> bool:
    words = [w.lower() for w in _WORDS.findall(key)]
    return "udp" in words or ("port" in words or "ports" in words) and "range" in words


def as_port(value: Any) -> int | None:
    """An integer port number from values (YAML may give "30000" as a string); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def port_ranges(values: Any, prefix: Path_ = ()) -> Iterator[PortRange]:
    """Every UDP/port range mapping in a values tree."""
    if not isinstance(values, dict):
        return
    for key, value in values.items():
        path = prefix + (str(key),)
        if isinstance(value, dict):
            if names_a_port_range(str(key)):
                for low, high in BOUND_PAIRS:
                    if low in value and high in value:
                        yield PortRange(path, value[low], value[high], (low, high))
                        break
            yield from port_ranges(value, path)


def port_numbers(values: Any, prefix: Path_ = ()) -> Iterator[tuple[Path_, int]]:
    """Every integer under a key mentioning a port (`turnUdpPort: 3478`, `metrics.port`)."""
    if isinstance(values, dict):
        for key, value in values.items():
            path = prefix + (str(key),)
            port = as_port(value)
            if port is not None and "port" in str(key).lower():
                yield path, port
            yield from port_numbers(value, path)


def range_problem(r: PortRange, allowed: tuple[int, int]) -> str | None:
    """Why a values range is unacceptable, or None."""
    start, end = as_port(r.start), as_port(r.end)
    low, high = allowed
    if start is None or end is None:
        return f"its bounds {r.start!r}-{r.end!r} are not port numbers"
    if start > end:
        return f"start {start} is greater than end {end} (a reversed range admits nothing)"
    if start < low or end > high:
        return f"{start}-{end} is not inside the allowed UDP range {low}-{high}"
    return None


def values_sources(ctx: ChartContext) -> Iterator[tuple[str, dict]]:
    """(file, values) to check: the chart's effective defaults and every values file a scenario uses."""
    yield f"{ctx.name}/values.yaml", ctx.chart.effective_values
    seen = set()
    for scenario in ctx.scenarios:
        for path in scenario.values_files:
            if path not in seen:
                seen.add(path)
                loaded = load_file(Path(path), what="values file")
                if isinstance(loaded, dict):
                    yield shown(ctx, Path(path)), loaded


def shown(ctx: ChartContext, path: Path) -> str:
    """A values file as the report shows it: relative to the chart's parent directory when inside it."""
    try:
        return str(path.resolve().relative_to(ctx.chart.path.resolve().parent))
    except (ValueError, AttributeError):
        return str(path)


@policy(
    id="NET-001",
    title="UDP port ranges in values lie inside the allowed UDP range, start <= end",
    receives="chart",
    applies_to=Applicability(profile="blueprint"),
    rationale="""Media relays (TURN) allocate UDP ports from the configured range; ports outside the
    range opened at the edge firewall silently drop media, and a reversed range admits nothing. The
    values are checked directly, because a template may only fail on a bad range when the object that
    uses it is switched on.""",
    reference=REFERENCE,
)
def values_ranges_inside(ctx: ChartContext):
    allowed = ctx.platform.udp_port_range
    found = False
    for source, values in values_sources(ctx):
        for r in port_ranges(values):
            found = True
            problem = range_problem(r, allowed)
            if problem:  # a default: in the values.yaml that sets it (a subchart's, without its key)
                template, at = values_file(ctx.chart, r.path) if values is ctx.chart.effective_values \
                    else (source, jsonpath(r.path))
                yield Finding(f"`{r.dotted}` in {source}: {problem}. Set `{r.dotted}.{r.bounds[0]}`/"
                              f"`.{r.bounds[1]}` inside {allowed[0]}-{allowed[1]} with {r.bounds[0]} <= "
                              f"{r.bounds[1]}, or add a waiver with a reason.",
                              template=template, path=at,
                              excerpt=f"{r.dotted}: {{{r.bounds[0]}: {r.start}, {r.bounds[1]}: {r.end}}}")
    if not found:
        raise NotApplicable("no UDP or port range in the chart's values")


# --- rendered ports ---------------------------------------------------------------------------------


class RenderedPort(NamedTuple):
    manifest: Any
    path: str  # JSONPath of the port entry
    port: Any  # int, a named port (str) or None (every port)
    end: Any  # endPort, or None for a single port
    entry: dict
    named: str | None = None  # the port name as written, when `port` was resolved from it


def resolve_named(p: RenderedPort, manifests) -> RenderedPort | None:
    """A named NetworkPolicy port resolved to the UDP container port of that name in the pods the
    policy selects (the number Kubernetes enforces); None when no selected container declares it."""
    selector = (p.manifest.body.get("spec") or {}).get("podSelector") or {}
    numbers = {port.get("containerPort") for t in pod_templates(manifests)
               if t.namespace == p.manifest.namespace and matches(selector, t.labels)
               for port in t.container_ports()
               if port.get("name") == p.port and port.get("protocol", "TCP") == "UDP"}
    numbers = {n for n in numbers if isinstance(n, int)}
    if len(numbers) != 1:
        return None if not numbers else p._replace(port=min(numbers), end=max(numbers), named=p.port)
    return p._replace(port=numbers.pop(), named=p.port)


def udp_ports(manifests) -> Iterator[RenderedPort]:
    """UDP ports admitted by NetworkPolicy ingress rules and exposed by NodePort/LoadBalancer Services."""
    for m in manifests:
        spec = m.body.get("spec") or {}
        if m.kind == "NetworkPolicy" and m.group == "networking.k8s.io":
            for i, rule in enumerate(spec.get("ingress") or []):
                for j, entry in enumerate((rule or {}).get("ports") or []):
                    if isinstance(entry, dict) and entry.get("protocol") == "UDP":
                        yield RenderedPort(m, f"$.spec.ingress[{i}].ports[{j}]", entry.get("port"),
                                           entry.get("endPort"), entry)
        elif m.kind == "Service" and m.group == "" and spec.get("type") in EXPOSED_SERVICE_TYPES:
            for i, entry in enumerate(spec.get("ports") or []):
                if isinstance(entry, dict) and entry.get("protocol") == "UDP":
                    for field in ("port", "nodePort"):
                        if field in entry:
                            yield RenderedPort(m, f"$.spec.ports[{i}].{field}", entry[field], None, entry)


def rendered_ports(ctx: ScenarioContext) -> list[RenderedPort]:
    found = [resolve_named(p, ctx.manifests) or p if isinstance(p.port, str) else p
             for p in udp_ports(ctx.manifests)]
    if not found:
        raise NotApplicable("the render admits no UDP port (no UDP NetworkPolicy ingress rule or "
                            "NodePort/LoadBalancer UDP Service port)")
    return found


def span(p: RenderedPort) -> str:
    return f"{p.port}-{p.end}" if p.end is not None else str(p.port)


@policy(
    id="NET-002",
    title="Rendered UDP NetworkPolicy rules and exposed UDP Service ports lie inside the allowed range",
    receives="scenario",
    applies_to=Applicability(profile="blueprint", kinds=("NetworkPolicy", "Service"), scenarios="*"),
    rationale="""Whatever the values say, what reaches the cluster is the rendered object: a
    NetworkPolicy admitting UDP outside the firewall window, or a NodePort/LoadBalancer exposing a UDP
    port the edge drops, breaks media for every call.""",
    reference=REFERENCE,
)
def rendered_ports_inside(ctx: ScenarioContext):
    low, high = ctx.chart.platform.udp_port_range
    for p in rendered_ports(ctx):
        if p.port is None:
            yield Finding.on(p.manifest, p.path, f"the UDP rule names no port, so it admits every UDP port; "
                             f"restrict it to {low}-{high} (port/endPort) or add a waiver with a reason.",
                             value=p.entry)
        elif isinstance(p.port, str):
            yield Finding.on(p.manifest, p.path, f"the UDP rule names port {p.port!r}, but no UDP container "
                             "port of that name exists in the pods its podSelector selects, so it admits "
                             "nothing. Name the container port, or use the port number.", value=p.entry)
        elif p.end is not None and p.port > p.end:
            yield Finding.on(p.manifest, p.path, f"UDP port {p.port} is greater than endPort {p.end}; the rule "
                             "admits nothing. Render port <= endPort.", value=p.entry)
        elif p.port < low or (p.end if p.end is not None else p.port) > high:
            named = f" (port {p.named!r} resolves to container port {span(p)})" if p.named else ""
            yield Finding.on(p.manifest, p.path, f"UDP {span(p)}{named} is not inside the allowed UDP range "
                             f"{low}-{high} opened at the edge firewall; render the range from values inside "
                             "it, or add a waiver with a reason.", value=p.entry)


@policy(
    id="NET-003",
    title="Rendered UDP ports match the values they come from",
    receives="scenario",
    applies_to=Applicability(profile="blueprint", kinds=("NetworkPolicy", "Service"), scenarios="*"),
    rationale="""A template that hardcodes its UDP ports drifts from the values operators tune: the
    values say 30000-32767 while the NetworkPolicy admits something else. A rendered UDP range must
    equal a values range (port == start, endPort == end); a single UDP port must lie inside a values
    range or equal a port number in values.""",
    reference=REFERENCE,
)
def rendered_ports_match_values(ctx: ScenarioContext):
    ports = [p for p in rendered_ports(ctx) if isinstance(p.port, int) and not p.named]
    if not ports:  # missing or named ports: NET-002's business (a name is not hardcoded in a template)
        raise NotApplicable("every rendered UDP port is named or unset; NET-002 judges those")
    values = ctx.values
    ranges = [(as_port(r.start), as_port(r.end), r) for r in port_ranges(values)]
    numbers = {port for _, port in port_numbers(values)}
    known = ", ".join(r.describe() for *_, r in ranges) or "none"
    for p in ports:
        if p.end is not None:
            if not any((p.port, p.end) == (start, end) for start, end, _ in ranges):
                yield Finding.on(p.manifest, p.path, f"UDP range {span(p)} matches no range in the values "
                                 f"(values ranges: {known}); render port/endPort from the values range's "
                                 "start/end instead of hardcoding them.", value=p.entry)
        elif p.port not in numbers and not any(s is not None and e is not None and s <= p.port <= e
                                                 for s, e, _ in ranges):
            yield Finding.on(p.manifest, p.path, f"UDP port {p.port} lies in no values range ({known}) and "
                             "equals no port set in values; render it from values instead of hardcoding it.",
                             value=p.entry)
