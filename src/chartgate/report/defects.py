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
     "occurrences": [{"scenario",  # null for a chart-level policy
                      "outcome", "command", "inputs",        # the scenario's values/--set/APIs
                      "message"?,  # only when it differs from the defect's message
                      "note"?,     # the result's own message (an expired waiver, an error)
                      "waiver"?}]}
"""

from __future__ import annotations

import hashlib
import re

#: Outcomes that make defects, in reading order: what to fix, what stopped judging, what was accepted.
DEFECT_OUTCOMES = ("failed", "error", "waived", "baselined")
#: Worst first: the outcome a defect shows when its occurrences differ.
_WORST = ("error", "failed", "waived", "baselined")
SCENARIO_PLACEHOLDER = "<scenario>"
_SEVERITIES = ("error", "warning", "info")  # most severe first


def _scenario_pattern(names) -> re.Pattern | None:
    names = sorted({n for n in names if n}, key=len, reverse=True)
    if not names:
        return None
    # A whole name only, not part of a longer word (`defaults`); a full stop or an extension may follow
    # (`golden/<chart>/<scenario>.yaml`: one missing golden file per scenario is one defect).
    return re.compile(r"(?<![\w.-])(?:" + "|".join(map(re.escape, names)) + r")(?![\w-])")


def chart_scenarios(report: dict) -> dict[str, set[str]]:
    """Every scenario name per chart: the planned ones and any a result names."""
    names: dict[str, set[str]] = {}
    for chart in report.get("charts", []):
        names.setdefault(chart["name"], set()).update(s["name"] for s in chart.get("scenarios", []))
    for result in report.get("results", []):
        if result.get("scenario"):
            names.setdefault(result["chart"], set()).add(result["scenario"])
    return names


def normalise_message(message: str, pattern: re.Pattern | None) -> str:
    text = " ".join((message or "").split())
    return pattern.sub(SCENARIO_PLACEHOLDER, text) if pattern is not None else text


def is_blocking(outcome: str, severity: str, fail_on: str) -> bool:
    if outcome == "error":
        return True
    return outcome == "failed" and (severity == "error" or (severity == "warning" and fail_on == "warning"))


def shown_outcome(outcome: str, severity: str, fail_on: str) -> str:
    """The outcome as the human reports show it: a failure below --fail-on is a `warning` - reported,
    not blocking - so a reader (and a CI test widget) never counts it as a failed gate."""
    return "warning" if outcome == "failed" and not is_blocking(outcome, severity, fail_on) else outcome


def defect_shown_outcome(defect: dict) -> str:
    return "warning" if defect["outcome"] == "failed" and not defect["blocking"] else defect["outcome"]


def defect_id(policy: str, chart: str, resource: str, template: str, path: str, normalised: str) -> str:
    raw = "\0".join((policy, chart, resource or "", template or "", path or "", normalised))
    return "d-" + hashlib.sha256(raw.encode("utf-8", errors="replace")).hexdigest()[:16]


def sort_key(defect: dict) -> tuple:
    """The order defects are listed in: blocking first, own before upstream, then failed/error/waived/
    baselined, chart, policy, place."""
    return (not defect["blocking"], defect.get("ownership") == "upstream", DEFECT_OUTCOMES.index(defect["outcome"]), defect["chart"], defect["policy"],
            defect["resource"], defect["template"], defect["path"], defect["message"], defect["id"])


def priority_key(defect: dict) -> tuple:
    """The order of the "top findings": blocking first, then the most widespread."""
    return (not defect["blocking"], defect.get("ownership") == "upstream", DEFECT_OUTCOMES.index(defect["outcome"]),
            0 if defect["severity"] == "error" else 1, -len(defect["occurrences"]), sort_key(defect))


def group_defects(report: dict) -> list[dict]:
    """The defects of a report's results (see the module docstring for the shape)."""
    fail_on = report.get("summary", {}).get("fail_on", "error")
    upstream_blocks = report.get("summary", {}).get("fail_on_upstream", True)
    patterns = {chart: _scenario_pattern(names) for chart, names in chart_scenarios(report).items()}
    defects: dict[str, dict] = {}
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
                key = defect_id("", result["chart"], resource, template, path, "cause: " + finding["cause"])
            elif finding.get("key"):  # the policy names the defect on its resource (container and field)
                key = defect_id(result["policy"], result["chart"], resource, "", "", "key:" + finding["key"])
            else:
                normalised = normalise_message(finding["message"], pattern)
                key = defect_id(result["policy"], result["chart"], resource, template, path, normalised)
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
            if any((o.get("policy", result["policy"]), o["scenario"]) == (result["policy"], result["scenario"])
                   for o in defect["occurrences"][-1:]):
                continue  # the same defect twice in one result: one occurrence
            occurrence = {"scenario": result["scenario"], "outcome": outcome, "command": result.get("command", ""),
                          "inputs": result.get("scenario_inputs")}
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
    return sorted(defects.values(), key=sort_key)


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
