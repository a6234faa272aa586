"""One finding per defect: the report's grouped view of its results.

`results` stay one per (policy, chart, scenario), as the report contract says. A defect is what a
chart author fixes once: the same policy, chart, resource, template, JSONPath and message, however
many scenarios show it - or, when the policy names the defect's cause on its resource (a finding's
`key`, such as a container name and the field at fault), the same policy, chart, resource and key. A
finding that names its `cause` groups by chart, resource, template, JSONPath and cause instead -
whatever its policy or message - so one cause reported by two policies (a default domain: FQDN-001 on
the default, FQDN-003 on the fallback it causes) is one defect listing both in `policies` (each
occurrence then names its `policy`). Messages that name the scenario they were found in still group: the message
is compared with every scenario name of the chart replaced by `<scenario>`. A result that errored
(or failed without findings) is a defect of its own message.

`report["defects"]`, worst first (blocking, then failed/error/waived, then chart, policy, resource):

    {"id": "d-3f2a...",            # stable across runs: a hash of the grouping key
     "policy", "title", "chart", "severity",
     "policies": [...],            # every policy reporting it (more than one only for a shared `cause`)
     "outcome": "failed" | "error" | "waived" | "baselined",   # the worst outcome among its occurrences
     "blocking": bool,             # makes the gate red (error, or a failure at --fail-on severity)
     "ownership": "own" | "upstream", "dependency"?,   # upstream: made by a vendored subchart's template
     "resource", "template", "path", "message", "excerpt",   # of the first occurrence
     "file", "line",               # the chart file (relative to working_dir) and line, when known
     "occurrences": [{"scenario",  # a chart-level finding: one per scenario it names (null: none)
                      "outcome", "command", "inputs",        # the scenario's values/--set/APIs
                      "message"?,  # only when it differs from the defect's message
                      "note"?,     # the result's own message (an expired waiver, an error)
                      "waiver"?}]}
"""

from __future__ import annotations

import hashlib
import json
import re

from chartgate.check.verdict import is_blocking

#: Outcomes that make defects, in reading order: what to fix, what stopped judging, what was accepted.
DEFECT_OUTCOMES = ("failed", "error", "waived", "baselined")
#: Worst first: the outcome a defect shows when its occurrences differ.
_WORST = ("error", "failed", "waived", "baselined")
_SCENARIO_PLACEHOLDER = "<scenario>"
_SEVERITIES = ("error", "warning", "info")  # most severe first


def _scenario_pattern(names) -> re.Pattern | None:
    names = sorted({n for n in names if n}, key=len, reverse=True)
    if not names:
        return None
    # A whole name only, not part of a longer word (`defaults`); a full stop or an extension may follow
    # (`golden/<chart>/<scenario>.yaml`: one missing golden file per scenario is one defect).
    return re.compile(r"(?<![\w.-])(?:" + "|".join(map(re.escape, names)) + r")(?![\w-])")


def _chart_scenarios(report: dict) -> dict[str, set[str]]:
    """Every scenario name per chart: the planned ones and any a result names."""
    names: dict[str, set[str]] = {}
    for chart in report.get("charts", []):
        names.setdefault(chart["name"], set()).update(s["name"] for s in chart.get("scenarios", []))
    for result in report.get("results", []):
        if result.get("scenario"):
            names.setdefault(result["chart"], set()).add(result["scenario"])
    return names


def _normalise_message(message: str, pattern: re.Pattern | None) -> str:
    text = " ".join((message or "").split())
    return pattern.sub(_SCENARIO_PLACEHOLDER, text) if pattern is not None else text


def shown_outcome(outcome: str, severity: str, fail_on: str) -> str:
    """The outcome as the human reports show it: a failure below --fail-on is a `warning` - reported,
    not blocking - so a reader (and a CI test widget) never counts it as a failed gate."""
    return "warning" if outcome == "failed" and not is_blocking(outcome, severity, fail_on) else outcome


def defect_shown_outcome(defect: dict) -> str:
    return "warning" if defect["outcome"] == "failed" and not defect["blocking"] else defect["outcome"]


def _defect_id(policy: str, chart: str, resource: str, template: str, path: str, normalised: str) -> str:
    raw = "\0".join((policy, chart, resource or "", template or "", path or "", normalised))
    return "d-" + hashlib.sha256(raw.encode("utf-8", errors="replace")).hexdigest()[:16]


def _sort_key(defect: dict) -> tuple:
    """The order defects are listed in: blocking first, own before upstream, then failed/error/waived/
    baselined, chart, policy, place."""
    return (not defect["blocking"], defect.get("ownership") == "upstream", DEFECT_OUTCOMES.index(defect["outcome"]), defect["chart"], defect["policy"],
            defect["resource"], defect["template"], defect["path"], defect["message"], defect["id"])


def priority_key(defect: dict) -> tuple:
    """The order of the "top findings": blocking first, then the most widespread."""
    return (not defect["blocking"], defect.get("ownership") == "upstream", DEFECT_OUTCOMES.index(defect["outcome"]),
            0 if defect["severity"] == "error" else 1, -len(defect["occurrences"]), _sort_key(defect))


def group_defects(report: dict) -> list[dict]:
    """The defects of a report's results (see the module docstring for the shape)."""
    fail_on = report.get("summary", {}).get("fail_on", "error")
    upstream_blocks = report.get("summary", {}).get("fail_on_upstream", True)
    patterns = {chart: _scenario_pattern(names) for chart, names in _chart_scenarios(report).items()}
    scenario_entries = {chart["name"]: {s["name"]: s for s in chart.get("scenarios", [])}
                        for chart in report.get("charts", [])}
    defects: dict[str, dict] = {}
    seen: dict[str, set] = {}  # (policy, scenario) per defect: one occurrence each
    for result in report["results"]:
        outcome = result["outcome"]
        if outcome not in DEFECT_OUTCOMES:
            continue
        findings = list(result.get("findings") or [])
        if outcome == "error" or not findings:
            findings.append({"resource": "", "template": "", "path": "",
                             "message": result.get("message") or f"{outcome} without a message"})
            note = None
        else:
            note = result.get("message") or None
        pattern = patterns.get(result["chart"])
        for finding in findings:
            outcome = "baselined" if finding.get("baselined") else result["outcome"]  # one by one (baseline.py)
            resource, template, path = (finding.get(k) or "" for k in ("resource", "template", "path"))
            if finding.get("cause"):  # one cause, whichever policy reports it and however it says so
                key = _defect_id("", result["chart"], resource, template, path, "cause: " + finding["cause"])
            elif finding.get("key"):  # the policy names the defect on its resource (container and field)
                key = _defect_id(result["policy"], result["chart"], resource, "", "", "key:" + finding["key"])
            else:
                normalised = _normalise_message(finding["message"], pattern)
                key = _defect_id(result["policy"], result["chart"], resource, template, path, normalised)
            defect = defects.get(key)
            if defect is None:
                defect = defects[key] = {
                    "id": key, "policy": result["policy"], "policies": [result["policy"]],
                    "title": result.get("title", ""),
                    "chart": result["chart"], "severity": result["severity"], "outcome": outcome,
                    "blocking": False, "resource": resource, "template": template, "path": path,
                    "message": finding["message"], "excerpt": finding.get("excerpt", ""),
                    "line": finding.get("line"), "occurrences": [],
                    "ownership": "upstream" if finding.get("dependency") else "own"}
                if finding.get("dependency"):
                    defect["dependency"] = finding["dependency"]
            elif result["policy"] not in defect["policies"]:
                defect["policies"].append(result["policy"])
                if _SEVERITIES.index(result["severity"]) < _SEVERITIES.index(defect["severity"]):
                    defect["severity"] = result["severity"]
            for scenario, command, inputs in provenance(result, finding, scenario_entries.get(result["chart"], {})):
                if (result["policy"], scenario) in seen.setdefault(key, set()):
                    continue  # the same defect twice in one result: one occurrence
                seen[key].add((result["policy"], scenario))
                occurrence = {"scenario": scenario, "outcome": outcome, "command": command, "inputs": inputs}
                if finding.get("cause"):
                    occurrence["policy"] = result["policy"]
                if finding["message"] != defect["message"]:
                    occurrence["message"] = finding["message"]
                if note and note != finding["message"]:
                    occurrence["note"] = note
                if result.get("waiver"):
                    occurrence["waiver"] = result["waiver"]
                defect["occurrences"].append(occurrence)
            if _WORST.index(outcome) < _WORST.index(defect["outcome"]):
                defect["outcome"] = outcome
    for defect in defects.values():
        defect["blocking"] = any(is_blocking(o["outcome"], defect["severity"], fail_on) for o in defect["occurrences"]) \
            and (upstream_blocks or defect["ownership"] == "own" or defect["outcome"] == "error")
    return sorted(defects.values(), key=_sort_key)


def provenance(result: dict, finding: dict, planned: dict[str, dict]) -> list[tuple]:
    """(scenario, command, inputs) of each scenario a finding was seen in: a per-scenario result's own;
    a chart-level finding's `scenarios`, reproduced from the result's `reproduce` (or the chart's
    planned scenario entry); (None, "", None) for a chart-level result that names none (an error)."""
    names = finding.get("scenarios") if result["scenario"] is None else None
    if not names:
        return [(result["scenario"], result.get("command", ""), result.get("scenario_inputs"))]
    found = []
    for name in names:
        entry = (result.get("reproduce") or {}).get(name) or {}
        scenario = planned.get(name) or {}
        inputs = entry.get("inputs") or ({k: scenario[k] for k in _INPUT_KEYS if k in scenario} or None)
        found.append((name, entry.get("command") or scenario.get("command") or "", inputs))
    return found


_INPUT_KEYS = ("values_files", "set", "api_versions", "kube_version")  # Scenario.describe_inputs


def set_text(key: str, value) -> str:
    """`debug.enabled=true`: a value as `--set-json` spells it (strings bare)."""
    return f"{key}={value if isinstance(value, str) else json.dumps(value, default=str)}"


def changed_values_text(inputs: dict) -> list[str]:
    """`key=value` of each value that differs from the chart's defaults (reports written before `values`
    existed: the `--set` values)."""
    changed = inputs.get("values") if "values" in inputs else inputs.get("set") or {}
    shown = [set_text(k, v) for k, v in changed.items()]
    if inputs.get("values_omitted"):
        shown.append(f"{inputs['values_omitted']} more (see the values files)")
    return shown


def inputs_text(inputs: dict | None) -> str:
    """A scenario's inputs on one line: values that differ from the chart's defaults, values files,
    advertised APIs."""
    if not inputs:
        return ""
    parts = ["values " + (", ".join(changed_values_text(inputs)) or "chart defaults")]
    if inputs.get("values_files"):
        parts.append("values files " + ", ".join(inputs["values_files"]))
    apis = inputs.get("api_versions") or []
    parts.append("APIs " + (", ".join(apis) if apis else "none (bare cluster)"))
    return "; ".join(parts)


def cause_lines(scenarios: list, command: str, inputs: dict | None) -> list[str]:
    """What a text format says of a finding's cause: where it was seen, with what, how to reproduce."""
    lines = []
    if scenarios:
        shown = ", ".join(scenarios[:5]) + (f" and {len(scenarios) - 5} more" if len(scenarios) > 5 else "")
        lines.append(f"seen in: {shown}")
    if inputs:
        lines.append(f"inputs ({scenarios[0]}): {inputs_text(inputs)}" if scenarios else f"inputs: {inputs_text(inputs)}")
    if command:
        lines.append(f"reproduce: {command}")
    return lines


def defect_counts(defects: list[dict]) -> dict:
    counts = {o: sum(d["outcome"] == o for d in defects) for o in DEFECT_OUTCOMES}
    return {"total": len(defects), **counts, "blocking": sum(d["blocking"] for d in defects),
            "warning": sum(defect_shown_outcome(d) == "warning" for d in defects),
            "occurrences": sum(len(d["occurrences"]) for d in defects),
            "upstream": sum(d.get("ownership") == "upstream" for d in defects)}


def scenario_names(defect: dict) -> list[str]:
    return [o["scenario"] or "chart-level" for o in defect["occurrences"]]


def policies_of(defect: dict) -> list[str]:
    """Every policy reporting the defect (reports written before `policies` existed name one)."""
    return defect.get("policies") or [defect["policy"]]
