"""The static values scan: what it resolves, and what makes it give up (every value counts as read)."""

from __future__ import annotations

import pytest

from chartgate.discover.charts import _load_chart_dir
from chartgate.plan.references import chart_references, _unresolved_reads

from ..reliability.helpers import write_chart

FOLLOWED = [
    "{{ .Values.a.b }}{{ $.Values.c }}",
    '{{ include "x.labels" . | nindent 4 }}{{ include "x.name" $ }}',
    '{{ include (print $.Template.BasePath "/cm.yaml") . | sha256sum }}',
    '{{ include "x.image" (dict "root" . "image" .Values.image) }}{{ include "x.sa" (dict "context" $) }}',
    "{{ $root := . }}{{ $root.Values.a }}{{ include \"x\" $root }}",
    "{{- with .Values.resources }}{{ toYaml . | nindent 2 }}{{ end }}",
    "{{- range $k, $v := .Values.m }}{{ $k }}: {{ . }}{{ end }}",
    "{{/* Values, $, tpl: a comment */}}",
    "{{ 0.5 }}{{ printf \"%s\" .Release.Name }}",
]
GIVEN_UP = {
    '{{ $v := index . "Values" }}{{ $v.a }}': "names `Values` as data",
    '{{ (get $ "Values").a }}': "names `Values` as data",
    "{{ toYaml $ }}": "hands the root context whole",
    '{{ $d := dict "context" $ }}{{ include "x" $d }}': "hands the root context whole",
    '{{ include "x" (list . "a") }}': "hands the root context whole",
    "{{ $r := . }}{{ toYaml $r }}": "hands the root context whole",
    '{{ index . (printf "%s%s" "Val" "ues") }}': "hands the root context whole",
    '{{ define "x" }}{{ range $k, $v := . }}{{ $k }}{{ end }}{{ end }}': "hands the root context whole",
    "{{ tpl .Values.text $ }}": "calls `tpl`",
    "{{ .Subcharts.sub.Values.a }}": "through `.Subcharts`",
}


@pytest.mark.parametrize("text", FOLLOWED)
def test_reads_the_scan_follows(text):
    assert _unresolved_reads(text) is None


@pytest.mark.parametrize("text, why", GIVEN_UP.items(), ids=range(len(GIVEN_UP)))
def test_reads_the_scan_cannot_follow_say_why(text, why):
    assert why in _unresolved_reads(text)


def test_a_read_it_cannot_follow_makes_every_value_of_the_tree_read(tmp_path):
    chart = _load_chart_dir(write_chart(tmp_path, "app", {"a.yaml": "{{ .Values.a }}", "b.yaml": "{{ toYaml $ }}"}))
    refs = chart_references(chart)
    assert refs.reads(("anything", "at", "all"))
    assert refs.unresolved == [f"{tmp_path}/app/templates/b.yaml hands the root context whole to `{{{{ toYaml $ }}}}`, "
                               "which may read any value (only `include`/`template` of a named template can be "
                               "followed)"]


def test_a_root_carried_in_a_dict_is_followed_into_the_helper(tmp_path):
    helper = ('{{ define "app.sa" }}{{ .root.Values.sa.name }}{{ include "app.name" .root }}{{ end }}'
              '{{ define "app.name" }}{{ .Values.nameOverride }}{{ end }}')
    files = {"_h.tpl": helper, "sa.yaml": '{{ include "app.sa" (dict "root" . "component" "c") }}'}
    refs = chart_references(_load_chart_dir(write_chart(tmp_path, "app", files)))
    assert not refs.unresolved and refs.reads(("sa", "name")) and refs.reads(("nameOverride",))
    assert not refs.reads(("unread",))
    files["_dump.tpl"] = '{{ define "app.dump" }}{{ toYaml .root }}{{ end }}'  # the carried root, whole
    refs = chart_references(_load_chart_dir(write_chart(tmp_path / "dump", "app", files)))
    assert "_dump.tpl hands the root context whole to `{{ toYaml .root }}`" in refs.unresolved[0]
    assert refs.reads(("unread",))


def test_a_helper_reads_for_every_chart_of_the_tree(tmp_path):
    chart_yaml = "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies: [{name: lib, version: 0.1.0}]\n"
    chart = _load_chart_dir(write_chart(tmp_path, "app", {}, chart_yaml=chart_yaml, files={
        "charts/lib/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 0.1.0\n",
        "charts/lib/templates/_h.tpl": '{{ define "lib.name" }}{{ .Values.nameOverride }}{{ end }}'}))
    refs = chart_references(chart)
    assert refs.reads(("nameOverride",)) and refs.reads(("lib", "nameOverride"))
    assert not refs.reads(("other",)) and not refs.unresolved


def test_what_helm_itself_reads_schema_tags_and_imported_values(tmp_path):
    chart_yaml = ("apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n"
                  "  - {name: tagged, version: 0.1.0, tags: [front]}\n"
                  "  - {name: exporter, version: 0.1.0, import-values: [{child: data, parent: imported}]}\n"
                  "  - {name: strict, version: 0.1.0}\n")
    files = {f"charts/{n}/Chart.yaml": f"apiVersion: v2\nname: {n}\nversion: 0.1.0\n"
             for n in ("tagged", "exporter", "strict")}
    files["charts/strict/values.schema.json"] = '{"type": "object"}'
    refs = chart_references(_load_chart_dir(write_chart(tmp_path, "app", {}, chart_yaml=chart_yaml, files=files)))
    assert refs.reads(("tags", "front")) and not refs.reads(("tags", "back"))
    assert refs.reads(("exporter", "data", "x")) and refs.reads(("strict", "anything"))
    assert not refs.reads(("tagged", "unread"))
