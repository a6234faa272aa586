"""chartgate.sarif: SARIF 2.1.0 for code-scanning UIs.

One run; one rule per policy; one result per defect (see `defects.py`: the same policy, chart,
resource, template, JSONPath and message, in however many scenarios), with its scenarios as related
locations (the first `_MAX_RELATED`) and in `properties.scenarios`. A defect waived in every scenario
carries an accepted external suppression with the waiver's justification; one the repository's
baseline holds, an accepted external suppression saying so. `properties.ownership` is `own` or
`upstream` (with `dependency`: made by a vendored subchart's template). Each result points at the
chart file on disk that a `# Source:` path names, relative to the working directory the gate ran in
(resolved once when the report was built, see `locate.py`), with a line where one is known. Errored
results become tool execution notifications, one per error defect: they are not findings about the
chart's content.

Bounded, because code-scanning uploads are: at most `_MAX_RESULTS` results and `_MAX_BYTES` bytes per
file. When every defect does not fit with full detail, results carry less (`_DETAILS`: compact, then
minimal); when they still do not fit, the most important defects are kept (blocking first, then the
most widespread). The run's `properties.truncation` says which detail was used and what was left out;
`truncation_note` gives the same text for the terminal.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path

from chartgate.report.defects import inputs_text, priority_key, scenario_names

_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_SRCROOT = "%SRCROOT%"
_MAX_RESULTS = 25_000  # GitHub code scanning rejects uploads with more results per run
_MAX_BYTES = 10_000_000  # per file
_MAX_NOTIFICATIONS = 1_000
_MAX_RELATED = 10  # related locations (scenarios) per result; every scenario name is in properties
_MAX_SCENARIO_NAMES = 200
_MAX_MESSAGE = 4_000  # characters of a result message
_RESERVE = 4_096  # bytes kept free for the truncation statement


def _dumps(data) -> str:
    return json.dumps(data, separators=(",", ":"))


def _fix(policy: dict) -> str:
    return f"Fix: {policy['remediation']}" if policy.get("remediation") else ""


def _rule(policy: dict) -> dict:
    reference = policy.get("see") or ""  # only a reference that resolves where the report is read
    rule = {
        "id": policy["id"],
        "name": "".join(word.capitalize() for word in re.findall(r"[A-Za-z0-9]+", policy["title"])),
        "shortDescription": {"text": policy["title"]},
        "fullDescription": {"text": policy.get("rationale") or policy["title"]},
        "help": {"text": "\n".join(part for part in (policy.get("rationale") or policy["title"], _fix(policy),
                                                      f"Reference: {reference}" if reference else "") if part)},
        "defaultConfiguration": {"level": _level(policy.get("severity"))},
        "properties": {"tags": ["helm", "policy"], "module": policy.get("module", ""),
                       "moduleSha256": policy.get("module_sha256", "")},
    }
    if re.match(r"https?://\S+$", reference):
        rule["helpUri"] = reference
    return rule


def _level(severity: str | None) -> str:
    return {"warning": "warning", "info": "note"}.get(severity or "", "error")


def _artifact(file: str) -> dict:
    if file.startswith("file:"):
        return {"uri": file}
    return {"uri": file, "uriBaseId": _SRCROOT}


def _message(defect: dict, detail: str) -> str:
    names = scenario_names(defect)
    if detail == "minimal":
        text = f"{defect['message']} ({defect['chart']}; {len(names)} scenario{'s' if len(names) != 1 else ''}, " \
               "details in chartgate.json)"
        return text if len(text) <= _MAX_MESSAGE // 4 else text[:_MAX_MESSAGE // 4] + " [...]"
    lines = [defect["message"]]
    where = ", ".join(f"{k} {v}" for k, v in (("resource", defect["resource"]), ("template", defect["template"]),
                                               ("JSONPath", defect["path"])) if v)
    lines.append(f"({defect['chart']}: {where})" if where else f"({defect['chart']})")
    shown = ", ".join(names[:_MAX_RELATED]) + (f" and {len(names) - _MAX_RELATED} more" if len(names) > _MAX_RELATED else "")
    lines.append(f"Seen in {len(names)} scenario{'s' if len(names) != 1 else ''}: {shown}")
    first = next((o for o in defect["occurrences"] if o.get("command")), defect["occurrences"][0])
    if first.get("inputs"):
        lines.append(f"Inputs ({first['scenario']}): {inputs_text(first['inputs'])}")
    if first.get("command"):
        lines.append(f"Reproduce: {first['command']}")
    text = "\n".join(lines)
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + f" [... {len(text) - _MAX_MESSAGE} more characters]"


#: How much of a defect a result carries. `full` while every defect fits the limits; else `compact`
#: (no related locations or scenario inputs, fewer scenario names); else `minimal` (message, location,
#: fingerprint): more results fit before any has to be left out.
_DETAILS = ("full", "compact", "minimal")


def _result(defect: dict, rule_index: int, detail: str = "full") -> dict:
    location: dict = {}
    physical = None
    if defect.get("file"):
        physical = {"artifactLocation": _artifact(defect["file"])}
        if defect.get("line"):
            physical["region"] = {"startLine": int(defect["line"])}
        location["physicalLocation"] = physical
    if defect["resource"] and detail != "minimal":
        location["logicalLocations"] = [{"fullyQualifiedName": defect["resource"], "kind": "resource"}]
    names = scenario_names(defect)
    listed = {"full": _MAX_SCENARIO_NAMES, "compact": 20, "minimal": 0}[detail]
    sarif = {
        "ruleId": defect["policy"],
        "ruleIndex": rule_index,
        "level": _level(defect["severity"]),
        "message": {"text": _message(defect, detail)},
        "locations": [location] if location else [],
        "partialFingerprints": {"chartgateDefect/v1": defect["id"].removeprefix("d-")},
        "properties": {"chart": defect["chart"], "defect": defect["id"], "occurrences": len(names),
                       "ownership": defect.get("ownership", "own"),
                       **({"dependency": defect["dependency"]} if defect.get("dependency") else {})},
    }
    if detail != "minimal":
        sarif["properties"].update({"resource": defect["resource"], "jsonpath": defect["path"],
                                    "template": defect["template"], "outcome": defect["outcome"],
                                    "scenarios": names[:listed]})
        if len(names) > listed:
            sarif["properties"]["scenariosOmitted"] = len(names) - listed
    if detail == "full" and len(names) > 1 and location:
        sarif["relatedLocations"] = [
            {"id": i, **({"physicalLocation": physical} if physical else {}),
             **({"logicalLocations": location["logicalLocations"]} if "logicalLocations" in location else {}),
             "message": {"text": f"also in scenario {name} ({o['outcome']})"}}
            for i, (name, o) in enumerate(zip(names[1:_MAX_RELATED + 1], defect["occurrences"][1:]), start=1)]
    first = defect["occurrences"][0]
    if detail == "full" and first.get("inputs"):
        sarif["properties"]["scenarioInputs"] = first["inputs"]
    waiver = next((o["waiver"] for o in defect["occurrences"] if o.get("waiver")), None)
    if defect["outcome"] == "waived" and waiver:
        sarif["suppressions"] = [{
            "kind": "external", "status": "accepted",
            "justification": f"{waiver.get('reason')} (owner {waiver.get('owner')}, expires {waiver.get('expires')})",
            "properties": {k: waiver.get(k) for k in ("owner", "expires", "source")},
        }]
    elif defect["outcome"] == "baselined":  # held by the repository's baseline file (baseline.py)
        sarif["suppressions"] = [{"kind": "external", "status": "accepted",
                                  "justification": "in the repository's chartgate baseline"}]
    return sarif


def _notification(defect: dict) -> dict:
    names = scenario_names(defect)
    scope = names[0] if len(names) == 1 else f"{len(names)} scenarios"
    text = f"{defect['policy']} on {defect['chart']} [{scope}]: {defect['message'] or 'error'}"
    return {"level": "error",
            "message": {"text": text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + " [...]"},
            "descriptor": {"id": defect["policy"]},
            "properties": {"chart": defect["chart"], "scenarios": names[:_MAX_SCENARIO_NAMES],
                           "occurrences": len(names), "defect": defect["id"]}}


def _within(items, limit: int, budget: int) -> tuple[list[dict], int]:
    """The leading `items` (any iterable, consumed lazily) that fit `limit` entries and `budget` bytes
    (as JSON array members)."""
    kept, used = [], 0
    for item in itertools.islice(items, limit):
        size = len(_dumps(item)) + 1
        if used + size > budget:
            break
        kept.append(item)
        used += size
    return kept, used


def build_sarif(report: dict, *, max_results: int = _MAX_RESULTS, max_bytes: int = _MAX_BYTES) -> dict:
    policies = sorted(report["policies"], key=lambda p: p["id"])
    rule_index = {p["id"]: i for i, p in enumerate(policies)}
    defects = sorted(report.get("defects", []), key=priority_key)
    findings = [d for d in defects if d["outcome"] in ("failed", "waived", "baselined") and d["policy"] in rule_index]
    errors = [d for d in defects if d["outcome"] == "error"]
    root = report.get("working_dir") or os.getcwd()
    invocation = {"executionSuccessful": report["summary"]["gate"] != "incomplete",
                  "startTimeUtc": report.get("started_at") or report["generated_at"],
                  "endTimeUtc": report["generated_at"],
                  "toolExecutionNotifications": []}
    run = {
        "tool": {"driver": {"name": "chartgate", "version": report["tool"]["version"],
                            "semanticVersion": report["tool"]["version"], "rules": [_rule(p) for p in policies]}},
        "originalUriBaseIds": {_SRCROOT: {"uri": Path(root).resolve().as_uri().rstrip("/") + "/"}},
        "invocations": [invocation],
        "results": [],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "gate": report["summary"]["gate"],
            "gitCommit": report.get("git_commit"),
            "shard": report.get("shard"),
            "helm": report["helm"],
            "kubernetesVersions": report.get("kubernetes_versions", []),
            "charts": [{"name": c["name"], "version": c["version"], "digest": c["digest"]} for c in report["charts"]],
        },
    }
    sarif = {"$schema": _SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    budget = max_bytes - len(_dumps(sarif)) - _RESERVE
    notifications_all = [_notification(d) for d in errors[:_MAX_NOTIFICATIONS]]
    # Errors are few and decide the verdict: they get up to a tenth of the budget first.
    notifications, used = _within(notifications_all, _MAX_NOTIFICATIONS, max(budget // 10, 0))
    for detail in _DETAILS:  # the most detail with which every defect fits, else the least
        results, _ = _within((_result(d, rule_index[d["policy"]], detail) for d in findings), max_results,
                             budget - used)
        if len(results) == len(findings):
            break
    invocation["toolExecutionNotifications"] = notifications
    run["results"] = results
    truncation = {"truncated": len(results) < len(findings) or len(notifications) < len(errors),
                  "detail": detail,
                  "results": {"defects": len(findings), "written": len(results)},
                  "notifications": {"errors": len(errors), "written": len(notifications)},
                  "limits": {"results": max_results, "bytes": max_bytes, "notifications": _MAX_NOTIFICATIONS}}
    if truncation["truncated"]:
        truncation["statement"] = _statement(truncation)
    run["properties"]["truncation"] = truncation
    return sarif


def _statement(truncation: dict) -> str:
    parts = []
    r, n = truncation["results"], truncation["notifications"]
    if r["written"] < r["defects"]:
        parts.append(f"{r['written']:,} of {r['defects']:,} defects written as results")
    if n["written"] < n["errors"]:
        parts.append(f"{n['written']:,} of {n['errors']:,} error defects written as notifications")
    limits = truncation["limits"]
    return (f"SARIF truncated: {'; '.join(parts)} (limits: {limits['results']:,} results, "
            f"{limits['bytes']:,} bytes per file; blocking and most widespread kept, with {truncation['detail']} "
            "detail). Every defect is in chartgate.json (`defects`).")


def truncation_note(sarif: dict) -> str | None:
    """The terminal's line about what the SARIF file left out, or None when it holds everything."""
    truncation = sarif["runs"][0]["properties"].get("truncation") or {}
    return truncation.get("statement")
