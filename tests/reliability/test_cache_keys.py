"""Cache keys are derived from what is read, so a warm run can never judge stale inputs.

- a `--set` line is pruned from the render key and from what Helm receives together, and only when
  the static scan can show that no template reads it: a value read indirectly (`index . "Values"`,
  the root context handed to `tpl` or ranged over) keeps every line;
- the render key is Helm's exact request (its arguments, each values file's bytes), the digest of the
  chart tree as Helm loads it and the Helm binary's digest;
- the chart tree is read as Helm loads it, whatever its directories are named, `.helmignore` applied
  as Helm applies it (checked against the real Helm), and one link rule applies everywhere;
- the result key covers blueprint.yaml wherever it lives.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from chartgate.discover.charts import ChartFiles, _load_chart_dir
from chartgate.core.errors import InvalidChart
from chartgate.engine.gate import Gate
from chartgate.render.renderer import Renderer
from chartgate.plan.scenarios import Scenario, ScenarioKind

from ..conftest import gate_config
from .helpers import helm, write_chart

DEFAULT = Scenario("default", ScenarioKind.DEFAULT)
PRIVILEGED = Scenario("release.c1.app", ScenarioKind.RELEASE, set_values=(("pod.privileged", True),))
SHOWN = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shown\ndata:\n  privileged: {value}\n"


def rendered_data(render) -> dict:
    assert render.ok, render.error
    return {m.name: m.body.get("data") for m in render.manifests}


# -- 1. a value read indirectly is never pruned ----------------------------------------------------

INDIRECT_READS = {
    "index-by-name": {"cm.yaml": SHOWN.format(value='{{ $v := index . "Values" }}{{ $v.pod.privileged | quote }}')},
    "helper-given-the-root": {
        "_helpers.tpl": '{{ define "t.flag" }}{{ (get . "Values").pod.privileged | quote }}{{ end }}',
        "cm.yaml": SHOWN.format(value='{{ include "t.flag" $ }}')},
    "root-ranged-over": {"cm.yaml": SHOWN.format(
        value='{{ range $k, $v := $ }}{{ if eq $k (printf "%s%s" "Val" "ues") }}{{ $v.pod.privileged | quote }}'
              '{{ end }}{{ end }}')},
}


@pytest.mark.parametrize("templates", INDIRECT_READS.values(), ids=INDIRECT_READS.keys())
def test_a_set_line_read_indirectly_reaches_helm_and_the_key(tmp_path, templates):
    chart = _load_chart_dir(write_chart(tmp_path, "app", templates, values="pod: {privileged: false}\n"))
    for cache in (None, tmp_path / "cache"):  # cold without a cache, and with one
        renderer = Renderer(helm(), cache, workers=1)
        assert rendered_data(renderer.render(chart, DEFAULT))["shown"] == {"privileged": "false"}
        assert rendered_data(renderer.render(chart, PRIVILEGED))["shown"] == {"privileged": "true"}


def test_a_value_given_to_tpl_at_render_time_is_never_pruned(tmp_path):
    chart = _load_chart_dir(write_chart(tmp_path, "app", {"cm.yaml": SHOWN.format(value="{{ tpl .Values.text $ | quote }}")},
                                       values='text: "off"\npod: {privileged: false}\n'))
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text('text: "{{ .Values.pod.privileged }}"\n')
    renderer = Renderer(helm(), tmp_path / "cache", workers=1)
    base = Scenario("overlay", ScenarioKind.OVERLAY, (overlay,))
    assert rendered_data(renderer.render(chart, base))["shown"] == {"privileged": "false"}
    privileged = Scenario("overlay-privileged", ScenarioKind.OVERLAY, (overlay,), (("pod.privileged", True),))
    assert rendered_data(renderer.render(chart, privileged))["shown"] == {"privileged": "true"}


def test_a_value_read_by_a_subcharts_helper_for_the_umbrella_is_never_pruned(tmp_path):
    """Named templates are shared by the whole tree: a library subchart's helper, included with the
    umbrella's root context, reads the umbrella's values."""
    chart_yaml = "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies: [{name: lib, version: 0.1.0}]\n"
    path = write_chart(tmp_path, "app", {"cm.yaml": SHOWN.format(value='{{ include "lib.flag" . }}')},
                       values="pod: {privileged: false}\n", chart_yaml=chart_yaml, files={
                           "charts/lib/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
                           "charts/lib/templates/_flag.tpl":
                               '{{ define "lib.flag" }}{{ .Values.pod.privileged | quote }}{{ end }}'})
    chart = _load_chart_dir(path)
    renderer = Renderer(helm(), tmp_path / "cache", workers=1)
    assert rendered_data(renderer.render(chart, DEFAULT))["shown"] == {"privileged": "false"}
    assert rendered_data(renderer.render(chart, PRIVILEGED))["shown"] == {"privileged": "true"}


def test_a_value_helm_validates_against_the_schema_is_never_pruned(tmp_path):
    """values.schema.json reads every value: a `--set` it refuses fails the render, read or not."""
    schema = '{"type": "object", "additionalProperties": false, "properties": {"pod": {"type": "object"}}}'
    chart = _load_chart_dir(write_chart(tmp_path, "app", {"cm.yaml": SHOWN.format(value='"x"')},
                                       values="pod: {}\n", files={"values.schema.json": schema}))
    render = Renderer(helm(), None, workers=1).render(
        chart, Scenario("typo", ScenarioKind.OVERLAY, set_values=(("podd", {"privileged": True}),)))
    assert not render.ok and "podd" in str(render.error)


def test_helm_receives_exactly_the_request_its_render_key_is_derived_from(tmp_path):
    """A line provably unread is pruned from the key and from Helm's command line together."""
    log = tmp_path / "argv"
    script = tmp_path / "fake-helm"
    script.write_text(f'#!/bin/sh\nif [ "$1" = version ]; then echo v4.1.4; exit 0; fi\necho "$@" >> {log}\n'
                      'printf "apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: x\\n"\n')
    script.chmod(0o755)
    from chartgate.render.helm import Helm
    from chartgate.render.toolchain import locate
    from ..conftest import REPO
    fake = Helm(locate(REPO / ".tools", env={"HELM_BIN": str(script)}), timeout=30)
    chart = _load_chart_dir(write_chart(tmp_path, "app", {"cm.yaml": SHOWN.format(value="{{ .Values.read | quote }}")},
                                       values="read: a\n"))
    renderer = Renderer(fake, tmp_path / "cache", workers=1)
    scenario = Scenario("s", ScenarioKind.OVERLAY, set_values=(("read", "b"), ("never.read", 1)))
    renderer.render(chart, scenario)
    argv = log.read_text()
    assert "read=" in argv and "never.read" not in argv
    effective = renderer.effective_request(chart, renderer.request(chart, scenario))
    assert effective.set_values == (("read", "b"),)


def test_the_plan_says_why_every_value_counts_as_read(tmp_path):
    write_chart(tmp_path / "charts", "app", INDIRECT_READS["index-by-name"], values="pod: {privileged: false}\n")
    (tmp_path / "overlays").mkdir()
    gate = Gate(gate_config(tmp_path, tmp_path / "charts", tmp_path / "overlays", cache=tmp_path / "cache",
                            plan_only=True))
    text = gate.describe_plans()
    assert "every value counts as read" in text
    assert "app/templates/cm.yaml names `Values` as data" in text


# -- the render key is the request Helm receives ------------------------------------------------------

def test_the_render_key_is_derived_from_the_request_and_what_its_files_hold(tmp_path):
    chart = _load_chart_dir(write_chart(tmp_path, "app", {"cm.yaml": SHOWN.format(value="{{ .Values | toJson | quote }}")}))
    renderer = Renderer(helm(), None, workers=1)
    one, two = tmp_path / "one.yaml", tmp_path / "two.yaml"
    one.write_text("a: 1\n")
    two.write_text("a: 1\n")
    base = Scenario("s", ScenarioKind.OVERLAY, (one,))
    key = renderer.cache_key(chart, renderer.request(chart, base))
    # the same bytes at another path are the same render
    assert renderer.cache_key(chart, renderer.request(chart, Scenario("t", ScenarioKind.OVERLAY, (two,)))) == key
    variants = [Scenario("s", ScenarioKind.OVERLAY, (one,), namespace="other"),
                Scenario("s", ScenarioKind.OVERLAY, (one,), release="other"),
                Scenario("s", ScenarioKind.OVERLAY, (one,), api_versions=("x/v1",)),
                Scenario("s", ScenarioKind.OVERLAY, (one,), kube_version="v1.29.0"),
                Scenario("s", ScenarioKind.OVERLAY, (one,), (("a", 2),)),
                Scenario("s", ScenarioKind.OVERLAY, (one, two))]
    keys = {renderer.cache_key(chart, renderer.request(chart, s)) for s in variants}
    assert len(keys) == len(variants) and key not in keys
    two.write_text("a: 2\n")
    assert renderer.cache_key(chart, renderer.request(chart, Scenario("t", ScenarioKind.OVERLAY, (two,)))) != key


# -- 2. the chart tree as Helm loads it -------------------------------------------------------------

BUILD_OUTPUT_NAMES = (".git", ".venv", "node_modules", "__pycache__", ".tools", ".hypothesis")


@pytest.mark.parametrize("dirname", BUILD_OUTPUT_NAMES)
def test_a_template_under_a_build_output_name_is_rendered_and_keyed(tmp_path, dirname):
    path = tmp_path / "app"
    write_chart(tmp_path, "app", files={f"templates/sub/{dirname}/cm.yaml": SHOWN.format(value='"false"')})
    renderer = Renderer(helm(), tmp_path / "cache", workers=1)
    first = renderer.render(_load_chart_dir(path), DEFAULT)
    assert rendered_data(first)["shown"] == {"privileged": "false"}  # Helm renders it
    (path / "templates" / "sub" / dirname / "cm.yaml").write_text(SHOWN.format(value='"true"'))
    again = Renderer(helm(), tmp_path / "cache", workers=1).render(_load_chart_dir(path), DEFAULT)
    assert not again.cached and rendered_data(again)["shown"] == {"privileged": "true"}


@pytest.mark.parametrize("dirname", BUILD_OUTPUT_NAMES)
def test_a_link_leaving_the_chart_is_refused_whatever_its_name(tmp_path, dirname):
    outside = tmp_path / "ci-secrets"
    outside.mkdir()
    (outside / "token").write_text("s3cr3t\n")
    chart = write_chart(tmp_path, "app", {"cm.yaml": SHOWN.format(value='"x"')})
    (chart / "files").mkdir()
    os.symlink(outside, chart / "files" / dirname)
    with pytest.raises(InvalidChart, match=rf"files/{dirname}: symbolic link .* leaves the chart directory"):
        ChartFiles.from_dir(chart)


def test_a_link_leaving_the_chart_is_refused_even_where_helmignore_leaves_it_out(tmp_path):
    """Helm resolves every link it meets before it looks at the ignore rules: one rule for all links."""
    (tmp_path / "elsewhere").write_text("x\n")
    chart = write_chart(tmp_path, "app", {"cm.yaml": SHOWN.format(value='"x"')},
                        files={".helmignore": "leak\n"})
    os.symlink(tmp_path / "elsewhere", chart / "leak")
    with pytest.raises(InvalidChart, match="leak: symbolic link .* leaves the chart directory"):
        ChartFiles.from_dir(chart)


TREE = ("templates/a.yaml", "templates/b.yaml", "templates/sub/c.yaml", "templates/.hidden.yaml",
        "templates/sub/.dot.yaml", "templates/node_modules/n.yaml", "templates/.git/g.yaml",
        "charts/s/templates/s1.yaml", "charts/s/templates/s2.yaml")
HELMIGNORE = {
    "none": None,
    "a-name": "b.yaml\n",
    "a-directory": "sub/\n",
    "a-path": "templates/*.yaml\n",
    "rooted": "/templates/b.yaml\n",
    "build-outputs": "# comment\nnode_modules\n.git/\n",
    "classes": "[ab].yaml\n[^s]1.yaml\nt?mplates/sub/?.yaml\n",
    "escaped-and-spaces": "  b\\.yaml  \n\ns2.yaml\n",
    "subchart-path": "charts/s/templates/s1.yaml\n",
    "negated-directory-only": "!sub/\n",
}


@pytest.mark.parametrize("helmignore", HELMIGNORE.values(), ids=HELMIGNORE.keys())
def test_the_chart_files_are_what_helm_loads(tmp_path, helmignore):
    """Checked against the real Helm: each template renders one ConfigMap named after its path, so
    Helm's `# Source:` lines list exactly the templates it loaded."""
    chart = tmp_path / "c"
    files = {rel: SHOWN.replace("shown", rel.replace("/", "-").replace(".", "x").replace("_", "u").lower()[-50:])
             .format(value='"x"') for rel in TREE}
    files["charts/s/Chart.yaml"] = "apiVersion: v2\nname: s\nversion: 0.1.0\n"
    files["charts/s/.helmignore"] = "s2.yaml\n"  # a subchart's own .helmignore: Helm does not read it
    if helmignore is not None:
        files[".helmignore"] = helmignore
    write_chart(tmp_path, "c", files=files,
                chart_yaml="apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies: [{name: s, version: 0.1.0}]\n")
    try:
        loaded = ChartFiles.from_dir(chart).files
        ours = {rel for rel in loaded if "/templates/" in f"/{rel}" and rel.endswith(".yaml")} \
            if "Chart.yaml" in loaded else None
    except InvalidChart:
        ours = None
    try:
        output = helm().template(Renderer(helm(), None).request(_load_chart_dir(chart), DEFAULT) if ours is not None
                                 else _bare_request(chart), chart="c", scenario="default").stdout
        theirs = {line.split("# Source: c/", 1)[1] for line in output.splitlines() if line.startswith("# Source: c/")}
    except Exception:  # noqa: BLE001 - Helm refusing the chart is an outcome to compare, not a test error
        theirs = None
    assert ours == theirs


def _bare_request(chart: Path):
    from chartgate.render.helm import TemplateRequest
    return TemplateRequest(chart_dir=chart)


def test_a_helmignore_pattern_helm_refuses_is_an_invalid_chart_naming_the_line(tmp_path):
    chart = write_chart(tmp_path, "app", files={".helmignore": "*.md\ntemplates/**/x.yaml\n"})
    with pytest.raises(InvalidChart, match=r"\.helmignore:2: `templates/\*\*/x\.yaml`: Helm does not support `\*\*`"):
        ChartFiles.from_dir(chart)
    (chart / ".helmignore").write_text("[z-\n")
    with pytest.raises(InvalidChart, match=r"\.helmignore:1: `\[z-` is not a valid pattern"):
        ChartFiles.from_dir(chart)


# -- 3. the result key covers blueprint.yaml wherever it lives ---------------------------------------

BLUEPRINT = ("apiVersion: catalyst.openova.io/v1alpha1\nkind: Blueprint\nmetadata: {{name: {name}}}\n"
             "spec: {{version: {version}}}\n")


def test_the_result_key_covers_a_blueprint_beside_the_chart(tmp_path):
    platform = tmp_path / "platform"
    chart = write_chart(platform / "app", "chart", {"cm.yaml": SHOWN.format(value='"x"')},
                        chart_yaml="apiVersion: v2\nname: app\nversion: 0.1.0\n")
    blueprint = chart.parent / "blueprint.yaml"
    (tmp_path / "overlays").mkdir()

    def key() -> str:
        gate = Gate(gate_config(tmp_path, platform, tmp_path / "overlays", cache=tmp_path / "cache"))
        assert gate.charts["app"].blueprint_path == blueprint
        return gate.store.key("app")

    blueprint.write_text(BLUEPRINT.format(name="app", version="1.0.0"))
    first = key()
    blueprint.write_text(BLUEPRINT.format(name="app", version="1.0.1"))
    bumped = key()
    blueprint.write_text(BLUEPRINT.format(name="renamed", version="1.0.1"))
    assert len({first, bumped, key()}) == 3
