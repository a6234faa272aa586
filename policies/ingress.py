"""Istio-less ingress: Knative and KServe run on the platform's Gateway-API class, without Istio.

These are Blueprint platform rules (`Applicability(profile="blueprint")`): a chart judged with the generic
profile is skipped. On a Blueprint chart they apply wherever the objects appear: a KnativeServing
(operator.knative.dev), KServe's `inferenceservice-config` ConfigMap, a Gateway
(gateway.networking.k8s.io); a render without them is skipped through the declared `kinds`. ING-005 applies to
every render and reports only what *requests* Istio: Istio API objects, injection asked for
(`sidecar.istio.io/inject: "true"`, `istio-injection: enabled`, `istio.io/rev: <revision>`) and the
Istio ingress class. An opt-out (`sidecar.istio.io/inject: "false"`, `istio-injection: disabled`) is
never a finding: it is what a chart does to run without Istio.
The platform class is the platform fact `ingressClass` (ctx.platform.ingress_class).
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from chartgate import Applicability, Finding, NotApplicable, ScenarioContext, ScenarioKind, policy
from chartgate.lib.renders import IdentityMemo

REFERENCE = "docs/policies.md#ing"

KNATIVE_INGRESSES = ("istio", "contour", "kourier")
KNATIVE_INGRESS_CLASS = "ingress.networking.knative.dev"
KSERVE_CONFIG = "inferenceservice-config"
GATEWAY_API = "gateway.networking.k8s.io"
ISTIO_GROUP = "istio.io"  # networking.istio.io, security.istio.io, telemetry.istio.io, install.istio.io ...
ISTIO_CLASS = "istio"
ISTIO_CONTROLLER = "istio.io/"  # IngressClass spec.controller: istio.io/ingress-controller
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
WAIVE = "or add a waiver with a reason"


def objects(ctx: ScenarioContext, group: str, kind: str) -> list:
    """The render's `kind` objects of API `group` (the declared kinds have already skipped renders without it)."""
    found = [m for m in ctx.manifests if m.group == group and m.kind == kind]
    if not found:
        others = sorted({m.api_version for m in ctx.manifests if m.kind == kind})
        raise NotApplicable(f"the render's {kind} objects are not {group} objects ({', '.join(others)})")
    return found


def is_true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


@policy(
    id="ING-001",
    title="KnativeServing disables Istio, Contour and Kourier and uses the platform ingress class",
    receives="scenario",
    applies_to=Applicability(profile="blueprint", kinds=("KnativeServing",), scenarios="*"),
    rationale="""The Knative operator installs Istio networking unless told otherwise, and Contour or
    Kourier when enabled; none of them exist on the platform. Knative must route through the
    platform's Gateway-API class, set in config.network.ingress-class.""",
    reference=REFERENCE,
)
def knative_serving_is_istio_less(ctx: ScenarioContext):
    platform_class = ctx.chart.platform.ingress_class
    for ks in objects(ctx, "operator.knative.dev", "KnativeServing"):
        spec = ks.body.get("spec") or {}
        ingress = spec.get("ingress") or {}
        for name in KNATIVE_INGRESSES:
            enabled = (ingress.get(name) or {}).get("enabled")
            # Istio is the operator's default ingress, so it must be switched off explicitly.
            if is_true(enabled) or (name == "istio" and enabled is None):
                state = "is not disabled (the operator defaults to Istio)" if enabled is None else "is enabled"
                yield Finding.on(ks, f"$.spec.ingress.{name}.enabled",
                                 f"the {name} ingress {state}; the platform has no {name}. Set "
                                 f"`spec.ingress.{name}.enabled: false`, {WAIVE}.", value=ingress or spec)
        network = (spec.get("config") or {}).get("network") or {}
        ingress_class = network.get("ingress-class") or network.get("ingress.class")
        # Knative qualifies a class with its ingress group: `cilium.ingress.networking.knative.dev`.
        if ingress_class not in (platform_class, f"{platform_class}.{KNATIVE_INGRESS_CLASS}"):
            yield Finding.on(ks, "$.spec.config.network['ingress-class']",
                             f"config.network.ingress-class is {ingress_class!r}; it must be the platform "
                             f"ingress class {platform_class!r} (or {platform_class}.{KNATIVE_INGRESS_CLASS}). Set it "
                             f"(from values), {WAIVE}.", value=network)


def kserve_section(cm, key: str) -> tuple[dict | None, str | None]:
    """One JSON section of inferenceservice-config: (data, None) or (None, why it is unusable)."""
    raw = (cm.body.get("data") or {}).get(key)
    if raw is None:
        return None, f"has no `{key}` section"
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return None, f"`{key}` is not valid JSON ({exc})"
    if not isinstance(data, dict):
        return None, f"`{key}` is not a JSON object"
    return data, None


def kserve_configs(ctx: ScenarioContext) -> list:
    found = [m for m in ctx.manifests if m.kind == "ConfigMap" and m.group == "" and m.name == KSERVE_CONFIG]
    if not found:
        raise NotApplicable(f"the render has no KServe {KSERVE_CONFIG} ConfigMap")
    return found


@policy(
    id="ING-002",
    title="KServe's rendered ingress config uses the Gateway API and the platform class, no Istio",
    receives="scenario",
    applies_to=Applicability(profile="blueprint", kinds=("ConfigMap",), scenarios="*"),
    rationale="""KServe writes Istio VirtualServices and expects an Istio ingress gateway unless its
    `ingress` config enables the Gateway API and disables the Istio virtual host. What counts is the
    JSON the controller reads from inferenceservice-config, not the values that produced it.""",
    reference=REFERENCE,
)
def kserve_ingress_config(ctx: ScenarioContext):
    platform_class = ctx.chart.platform.ingress_class
    for cm in kserve_configs(ctx):
        ingress, problem = kserve_section(cm, "ingress")
        if problem:
            yield Finding.on(cm, "$.data.ingress", f"{KSERVE_CONFIG} {problem}; it must configure Gateway-API "
                             f"ingress with class {platform_class!r}.")
            continue
        wanted = {"enableGatewayApi": True, "disableIstioVirtualHost": True, "ingressClassName": platform_class}
        for key, expected in wanted.items():
            actual = ingress.get(key)
            ok = is_true(actual) if expected is True else actual == expected
            if not ok:
                yield Finding.on(cm, "$.data.ingress", f"the `ingress` JSON has {key}={actual!r} at "
                                 f"$.data.ingress (json $.{key}); it must be {expected!r} for Istio-less "
                                 f"Gateway-API ingress. Set it in the chart's values, {WAIVE}.", value=ingress)


@policy(
    id="ING-003",
    title="KServe defaults to RawDeployment",
    receives="scenario",
    applies_to=Applicability(profile="blueprint", kinds=("ConfigMap",),
                             scenarios=(ScenarioKind.DEFAULT, ScenarioKind.CAPABILITIES, ScenarioKind.OPT_IN,
                                        ScenarioKind.OPT_IN_NO_API, ScenarioKind.OFF)),
    rationale="""Serverless mode puts Knative on every inference request's path; the platform serves
    with plain Deployments and lets a tenant opt in to Serverless per InferenceService. Judged on the
    chart's defaults only: a cluster overlay or values file may choose Serverless deliberately.""",
    reference=REFERENCE,
)
def kserve_defaults_to_raw_deployment(ctx: ScenarioContext):
    for cm in kserve_configs(ctx):
        deploy, problem = kserve_section(cm, "deploy")
        mode = (deploy or {}).get("defaultDeploymentMode")
        if problem or mode != "RawDeployment":
            detail = problem or f"has defaultDeploymentMode={mode!r}"
            yield Finding.on(cm, "$.data.deploy", f"the `deploy` JSON {detail} (json $.defaultDeploymentMode); the "
                             "default must be 'RawDeployment' (tenants opt in to Serverless per "
                             "InferenceService with the serving.kserve.io/deploymentMode annotation). Set the "
                             f"deployment mode in values, {WAIVE}.", value=deploy)


@policy(
    id="ING-004",
    title="Every Gateway uses the platform class or a GatewayClass the chart renders",
    receives="scenario",
    applies_to=Applicability(profile="blueprint", kinds=("Gateway",), scenarios="*"),
    rationale="""A Gateway whose class no controller implements is never programmed: routes attach to
    nothing and the service is unreachable. The platform implements one class; a chart may add its own
    GatewayClass (as bp-stunner does) and use that.""",
    reference=REFERENCE,
)
def gateways_use_known_class(ctx: ScenarioContext):
    gateways = objects(ctx, GATEWAY_API, "Gateway")
    # The chart's own classes: in this render, or in the render with every optional API advertised.
    everything = ctx.chart.try_render("capabilities")
    own = {m.name for m in ctx.manifests + everything.manifests if m.group == GATEWAY_API and m.kind == "GatewayClass"}
    allowed = {ctx.chart.platform.ingress_class} | own
    for gw in gateways:
        name = (gw.body.get("spec") or {}).get("gatewayClassName")
        if name not in allowed:
            yield Finding.on(gw, "$.spec.gatewayClassName",
                             f"gatewayClassName is {name!r}; the platform class is "
                             f"{ctx.chart.platform.ingress_class!r} and the chart renders "
                             f"{'GatewayClass ' + ', '.join(sorted(own)) if own else 'no GatewayClass'}. Use one "
                             f"of them, {WAIVE}.", value=gw.body.get("spec"))


def metadata_blocks(node: Any, path: str = "$") -> Iterator[tuple[str, dict]]:
    """Every `metadata` mapping in an object: its own, pod templates', job templates', CR-embedded ones."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if key == "metadata" and isinstance(value, dict):
                yield here, value
            yield from metadata_blocks(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from metadata_blocks(item, f"{path}[{index}]")


def requests_injection(marker: str, value: Any) -> bool:
    """Whether a label/annotation asks Istio to inject its sidecar (an opt-out never does)."""
    text = str(value).strip().lower()
    if marker == "sidecar.istio.io/inject":
        return is_true(value)
    if marker == "istio-injection":
        return text == "enabled"
    if marker == "istio.io/rev":
        return bool(text)  # a revision name selects an Istio control plane
    return False


INJECTION_MARKERS = ("sidecar.istio.io/inject", "istio-injection", "istio.io/rev")


_REQUESTS = IdentityMemo(50_000)  # body -> its requests: each distinct object walked once


def istio_requests(m) -> tuple[tuple[str, str, Any], ...]:
    """(JSONPath, what, shown value) for each place an object asks for Istio."""
    return _REQUESTS.get(m.body, lambda _: tuple(_istio_requests(m)))


def _istio_requests(m) -> Iterator[tuple[str, str, Any]]:
    if m.group == ISTIO_GROUP or m.group.endswith("." + ISTIO_GROUP):
        yield "$.apiVersion", f"{m.kind} ({m.api_version}) is an Istio object", None
    spec = m.body.get("spec") if isinstance(m.body.get("spec"), dict) else {}
    if m.kind == "Ingress" and m.group == "networking.k8s.io" and spec.get("ingressClassName") == ISTIO_CLASS:
        yield "$.spec.ingressClassName", "ingressClassName 'istio' hands the Ingress to Istio", spec
    if m.kind == "IngressClass" and str(spec.get("controller", "")).startswith(ISTIO_CONTROLLER):
        yield "$.spec.controller", f"IngressClass controller {spec.get('controller')!r} is Istio's", spec
    for path, meta in metadata_blocks(m.body):
        for field in ("labels", "annotations"):
            entries = meta.get(field)
            if not isinstance(entries, dict):
                continue
            for marker in INJECTION_MARKERS:
                if marker in entries and requests_injection(marker, entries[marker]):
                    yield (f"{path}.{field}['{marker}']", f"the {field[:-1]} {marker}={entries[marker]!r} asks for "
                           "Istio sidecar injection", {marker: entries[marker]})
        annotations = meta.get("annotations")
        if (isinstance(annotations, dict) and m.kind == "Ingress"
                and str(annotations.get(INGRESS_CLASS_ANNOTATION, "")).strip() == ISTIO_CLASS):
            yield (f"{path}.annotations['{INGRESS_CLASS_ANNOTATION}']",
                   f"the annotation {INGRESS_CLASS_ANNOTATION}='istio' hands the Ingress to Istio",
                   {INGRESS_CLASS_ANNOTATION: annotations[INGRESS_CLASS_ANNOTATION]})


@policy(
    id="ING-005",
    title="No Istio objects, no Istio sidecar-injection requests and no Istio ingress class",
    receives="scenario",
    applies_to=Applicability(profile="blueprint", scenarios="*"),
    rationale="""Istio is not installed: its API objects (networking.istio.io, security.istio.io, ...)
    are rejected by the API server, an injection request (`sidecar.istio.io/inject: "true"`,
    `istio-injection: enabled`, `istio.io/rev`) or the `istio` ingress class asks for a control
    plane that is not there. Opting out (`sidecar.istio.io/inject: "false"`) is what a chart should
    do and is never reported.""",
    reference=REFERENCE,
)
def no_istio(ctx: ScenarioContext):
    for m in ctx.manifests:
        for path, what, shown in istio_requests(m):
            remedy = "Remove it (use Gateway API objects instead)" if path == "$.apiVersion" else "Remove it"
            yield Finding.on(m, path, f"{what}; the platform has no Istio. {remedy}, {WAIVE}.", value=shown)
