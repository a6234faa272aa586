"""Every finding's JSONPath names something: jsonpath-ng resolves it against the object the finding names.

A path is how a report (and SARIF, and a reviewer) finds the offending field; one that names nothing
sends them nowhere. Over every mutant fixture (test_mutants.py checks the run it makes anyway, so no
chart is rendered twice), each finding on a rendered object is resolved against that object as
rendered in the scenario(s) the finding is about (or a render derived from one), and each finding on
a chart file (values.yaml ...) against that file. A finding that a field is missing names the key to
add, under a mapping the object has; a place inside a document embedded in a string resolves up to
the string (chartgate.core.jsonpaths.resolve).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from chartgate import Finding
from chartgate.engine.gate import Gate
from chartgate.core.jsonpaths import up_to_missing
from chartgate.lib.renders import UnresolvedPath, jsonpath, resolve, trail_of
from chartgate.core.yamlio import load_file

Objects = dict[tuple[str, str, str], list[dict]]  # (chart, scenario, resource id) -> its bodies


def unresolved_paths(results, objects: Objects, chart_dirs: dict[str, Path]) -> list[str]:
    """What is wrong with each finding path that does not resolve.

    `objects`: (chart, scenario, resource id) -> its bodies in every render the run made (one per Helm
    version); `chart_dirs`: chart name -> its directory, for findings on chart files."""
    problems = []
    for result in results:
        for finding in result.findings:
            if not finding.path:
                continue
            where = f"{result.policy.id} on {result.chart}: {finding.resource or finding.template} {finding.path}"
            if finding.resource:
                named = {result.scenario} if result.scenario else set(finding.scenarios)
                bodies = [body for (chart, scenario, resource), found in objects.items() for body in found
                          if chart == result.chart and resource == finding.resource
                          and (not named or scenario.split("+")[0] in named)]  # `default+no-overlay`: a variant
                if not bodies:  # identical renders are kept once, under the first scenario that made them
                    bodies = [body for (chart, _, resource), found in objects.items() for body in found
                              if chart == result.chart and resource == finding.resource]
                if not bodies:
                    problems.append(f"{where}: no render holds {finding.resource}")
                    continue
            else:
                body = _chart_file(chart_dirs.get(result.chart), finding.template)
                if body is None:
                    problems.append(f"{where}: the finding names no object and no chart file")
                    continue
                bodies = [body]
            errors = []
            for body in bodies:
                try:
                    resolve(body, finding.path, default=None)  # None: a missing field's key to add
                except UnresolvedPath as exc:
                    errors.append(str(exc))
            if len(errors) == len(bodies):  # names nothing in any render of the object it names
                problems.append(f"{where}: {errors[0]}")
    return problems


def _chart_file(chart_dir: Path | None, template: str):
    if chart_dir is None or not template:
        return None
    if Path(template).is_absolute():  # a file of its own: a golden file, a blueprint.yaml beside the chart
        path = Path(template)
    else:  # `<chart>/values.yaml`, `<chart>/charts/<sub>/values.yaml`
        path = chart_dir.joinpath(*Path(template).parts[1:])
    return load_file(path, what="chart file") if path.is_file() and path != chart_dir else None


def _objects(gate: Gate) -> Objects:
    renderers = [gate.renderer, *(gate.__dict__.get("matrix_renderers") or {}).values()]
    found: Objects = {}
    for renderer in renderers:
        for render in renderer.renders():
            for manifest in render.manifests:
                found.setdefault((render.chart, render.scenario.name, manifest.resource_id), []).append(manifest.body)
    return found


def unresolved_paths_of(gate: Gate, chart_root: Path) -> list[str]:
    """`unresolved_paths` of a finished run made with `keep_renders` (test_mutants.py checks every mutant)."""
    return unresolved_paths(gate.results, _objects(gate), {path.name: path for path in chart_root.iterdir()})


def test_the_check_fails_on_a_path_that_names_nothing(tmp_path):
    # The same check, on a planted run: a path into the object passes, and so does a missing field's
    # key under a mapping the object has; a misspelt field, a path past a string or past a missing
    # mapping, and a finding on an object no render holds fail.
    body = {"kind": "ConfigMap", "metadata": {"name": "web"}, "data": {"config.json": '{"host": "a.example.com"}'}}
    pod = {"spec": {"containers": [{"name": "app", "securityContext": {"runAsUser": 0}}]}}
    objects = {("web", "default", "ConfigMap/ns/web"): [body], ("web", "default", "Pod/ns/web"): [pod]}
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "values.yaml").write_text("global:\n  domain: example.com\n")
    (tmp_path / "web" / "Chart.yaml").write_text("name: web\ndependencies:\n  - {name: redis, version: 1.0.0}\n")
    policy = SimpleNamespace(id="TEST-001")

    def run(*findings):
        return [SimpleNamespace(policy=policy, chart="web", scenario="default", findings=list(findings))]

    good = [Finding("m", "ConfigMap/ns/web", "web/templates/cm.yaml", "$.data['config.json']"),
            Finding("m", "Pod/ns/web", "web/templates/pod.yaml", "$.spec.containers[0].securityContext.runAsUser"),
            Finding("m", "", "web/values.yaml", "$.global.domain"),
            Finding("m", "", "web/Chart.yaml", "$.dependencies[?(@.name=='redis')].version"),
            Finding("m", "Pod/ns/web", "web/templates/pod.yaml", "$.spec.containers[0].securityContext.runAsNonRoot"),
            Finding("m", "Pod/ns/web", "web/templates/pod.yaml")]  # no path: nothing to resolve
    assert unresolved_paths(run(*good), objects, {"web": tmp_path / "web"}) == []
    bad = [Finding("m", "ConfigMap/ns/web", "web/templates/cm.yaml", "$.data.config.json"),
           Finding("m", "ConfigMap/ns/web", "web/templates/cm.yaml", "$.data['config.json'].host"),
           Finding("m", "Pod/ns/web", "web/templates/pod.yaml", "$.spec.containers[1].securityContext"),
           Finding("m", "", "web/values.yaml", "$.globals.domain"),
           Finding("m", "", "web/Chart.yaml", "$.dependencies[?(@.name=='valkey')].version"),
           Finding("m", "", "web/Chart.yaml", "$.dependencies[?name=='redis'"),  # not a JSONPath
           Finding("m", "Pod/ns/web", "web/templates/pod.yaml", "$.spec.containers[0].resources.limits.memory"),
           Finding("m", "Service/ns/web", "web/templates/svc.yaml", "$.spec")]
    problems = unresolved_paths(run(*bad), objects, {"web": tmp_path / "web"})
    assert len(problems) == len(bad), problems
    assert "$.data exists, $.data.config does not" in problems[0]
    assert "no render holds Service/ns/web" in problems[-1]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=12), st.integers(min_value=0, max_value=50)), max_size=6))
def test_jsonpath_ng_reads_back_every_path_chartgate_writes(trail):
    # Any key - dots, quotes, backslashes, `where`, non-ASCII - comes back from jsonpath-ng unchanged.
    path = jsonpath(tuple(trail))
    assert trail_of(path) == tuple(trail)
    body: object = "leaf"
    for part in reversed(trail):
        body = [None] * part + [body] if isinstance(part, int) else {part: body}
    assert resolve(body, path) == "leaf"


def test_a_missing_field_names_the_first_key_to_add():
    body = {"spec": {"containers": [{"name": "app", "resources": {}}]}}
    limits = "$.spec.containers[0].resources.limits"
    assert up_to_missing(body, limits + ".memory") == limits
    assert up_to_missing(body, "$.spec.containers[0].name") == "$.spec.containers[0].name"
    assert up_to_missing(body, "$.spec.containers[2].resources") == "$.spec.containers[2].resources"  # stays wrong
    assert up_to_missing(body, "$.spec.containers[0].name.x") == "$.spec.containers[0].name.x"  # past a string
