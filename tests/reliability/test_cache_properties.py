"""Property: whatever input of a chart tree changes, a warm run judges exactly what a run without the
render cache judges - the caches' keys are derived from every input, never listed by hand.

Hypothesis builds a small Blueprint tree in the `platform/<name>/` layout (blueprint.yaml beside
chart/, a vendored subchart, a HelmRelease in a cluster tree), with the Pod template at a random depth
under random directory names (build-output names included), and reads the Pod's values indirectly
(`index . "Values"`). A warm run over the original fills both caches; then one to three inputs are
changed, and the warm run's verdict and findings must equal a `--no-render-cache` run's. Each change
also has an oracle (the policy it must turn red), so the property cannot hold by judging nothing.
Kept small for `make test`: a handful of examples, the real Helm, a few policy modules.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chartgate.engine.gate import Gate
from chartgate.check.loader import load_policy_module
from chartgate.check.definition import Outcome, policies_in

from ..conftest import REPO, gate_config

POLICIES = [p for name in ("render.py", "security_pods.py", "hygiene.py")
            for p in policies_in(load_policy_module(REPO / "policies" / name))]
DIRECTORY_NAMES = ("node_modules", ".git", ".venv", "__pycache__", ".tools", ".hypothesis", "deep", "x")
LABEL = "catalyst.openova.io/blueprint"

POD = """apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-pod
  labels:
    %s: {{ .Values.blueprintName }}
spec:
  containers:
    - name: app
      image: registry.example/app:1.0
      securityContext:
        privileged: {{ (index . "Values").pod.privileged }}
""" % LABEL
SUB_CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub-config\ndata:\n  mode: {{ .Values.mode | quote }}\n"
SUB_PRIVILEGED_POD = """apiVersion: v1
kind: Pod
metadata:
  name: sub-pod
spec:
  containers:
    - name: sub
      image: registry.example/sub:1.0
      securityContext: {privileged: true}
"""
HELMRELEASE = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: app, namespace: app}
spec:
  chart: {spec: {chart: app}}
  values:
    pod: {privileged: %s}
"""
BLUEPRINT = ("apiVersion: catalyst.openova.io/v1alpha1\nkind: Blueprint\nmetadata: {name: %s}\n"
             "spec: {version: %s}\n")


def rendered_path(names: list[str]) -> tuple[str, ...]:
    """Directories under templates/ that Helm renders: its one default ignore rule (`templates/.?*`)
    leaves out a dot-directory right under templates/, and chartgate with it (test_cache_keys.py)."""
    return ("nested", *names) if names[0].startswith(".") else tuple(names)


def build_tree(root: Path, template_dir: tuple[str, ...]) -> dict[str, Path]:
    app = root / "platform" / "app"
    chart = app / "chart"
    template = chart.joinpath("templates", *template_dir, "pod.yaml")
    files = {
        app / "blueprint.yaml": BLUEPRINT % ("app", "1.0.0"),
        chart / "Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n"
                              "dependencies: [{name: sub, version: 0.1.0}]\n",
        chart / "values.yaml": "blueprintName: app\npod: {privileged: false}\nsub: {mode: safe}\n",
        template: POD,
        chart / "charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
        chart / "charts/sub/values.yaml": "mode: safe\n",
        chart / "charts/sub/templates/cm.yaml": SUB_CONFIGMAP,
        root / "clusters/c1/app.yaml": HELMRELEASE % "false",
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "overlays").mkdir()
    return {"template": template, "values": chart / "values.yaml", "blueprint": app / "blueprint.yaml",
            "subchart": chart / "charts/sub/templates/privileged.yaml", "release": root / "clusters/c1/app.yaml"}


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path}: {old!r} not found"
    path.write_text(text.replace(old, new))


# Each change, and the policy it must turn red (an oracle: the property cannot hold vacuously).
CHANGES = {
    "template": (lambda p: _replace(p["template"], '(index . "Values").pod.privileged', "true"), "SEC-001"),
    "values": (lambda p: _replace(p["values"], "privileged: false", "privileged: true"), "SEC-001"),
    "subchart": (lambda p: p["subchart"].write_text(SUB_PRIVILEGED_POD), "SEC-001"),
    "blueprint": (lambda p: p["blueprint"].write_text(BLUEPRINT % ("renamed", "1.0.1")), "HYG-003"),
    "helmrelease": (lambda p: p["release"].write_text(HELMRELEASE % "true"), "SEC-001"),
}


def judged(root: Path, cache: Path | None) -> tuple[str, dict]:
    config = gate_config(root / "run", root / "platform", root / "overlays", cache=cache,
                         release_globs=(str(root / "clusters" / "**" / "*.yaml"),), helm_versions=("4.1.4",))
    summary = Gate(config).run(POLICIES)
    results = {(r.policy.id, r.chart, r.scenario): (r.outcome.value, sorted(repr(f.to_dict()) for f in r.findings))
               for r in summary.record.results}
    return summary.verdict, results


@settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(template_dir=st.lists(st.sampled_from(DIRECTORY_NAMES), min_size=1, max_size=3).map(rendered_path),
       changes=st.lists(st.sampled_from(sorted(CHANGES)), min_size=1, max_size=3, unique=True))
def test_a_warm_run_judges_what_a_run_without_the_render_cache_judges(tmp_path_factory, template_dir, changes):
    cache = tmp_path_factory.getbasetemp() / "cache-properties"  # shared by every example: keys must tell them apart
    with tempfile.TemporaryDirectory(dir=tmp_path_factory.getbasetemp()) as scratch:
        root = Path(scratch)
        paths = build_tree(root, template_dir)
        _, before = judged(root, cache)  # fills both caches with the original tree
        assert not failing(before) & {oracle for _, oracle in CHANGES.values()}
        for change in changes:
            CHANGES[change][0](paths)
        warm = judged(root, cache)
        cold = judged(root, None)
        assert warm == cold
        for change in changes:
            assert CHANGES[change][1] in failing(cold[1]), f"{change} should turn {CHANGES[change][1]} red"


def failing(results: dict) -> set[str]:
    return {policy for (policy, _, _), (outcome, _) in results.items() if outcome == Outcome.FAILED.value}
