"""chartgate.sarif: SARIF 2.1.0 for code-scanning UIs.

One run; one rule per policy; one result per finding of a failed result (a waived one carries an
accepted external suppression with the waiver's justification). Each result points at the chart
file on disk that a `# Source:` path names (`bp-stunner/templates/hpa.yaml` -> `<chart path>/templates/
hpa.yaml`), relative to the working directory the gate ran in, so the UI shows it in the repository.
A line is set only when the finding carries one or the JSONPath's chain of keys was found, nested
and unambiguous, in that file; otherwise the result points at the whole file. Errored results become
tool execution notifications: they are not findings about the chart's content.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path, PurePosixPath

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"

_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\['([^']*)'\]|\[\"([^\"]*)\"\]|\[(\d+|\*)\]")
_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<dashes>(?:- +)*)(?P<quote>[\"']?)(?P<key>[^\s\"':#{}][^\"':]*?)(?P=quote) *:(?:\s|$)")


def jsonpath_keys(path: str) -> list[str]:
    """The mapping keys of a JSONPath, outermost first: `$.spec.ports[0].port` -> [spec, ports, port]."""
    if not path or not path.startswith("$"):
        return []
    keys = []
    for match in _PATH_TOKEN.finditer(path[1:]):
        key = match.group(1) or match.group(2) or match.group(3)
        if key is not None:
            keys.append(key)
    return keys


def find_key_line(text: str, keys: list[str]) -> int | None:
    """The 1-based line where the nested chain of `keys` ends, if exactly one such line exists.

    Works on plain YAML and on YAML-shaped Helm templates (template directives are skipped); a chain
    that cannot be followed (keys produced by `toYaml`, say) or that ends on several lines gives None.
    """
    if not keys:
        return None
    lines = text.splitlines()
    ends = set(_chain_ends(lines, keys, 0, -1))
    return ends.pop() if len(ends) == 1 else None


def _chain_ends(lines: list[str], keys: list[str], start: int, parent_indent: int) -> list[int]:
    found = []
    for i in range(start, len(lines)):
        raw = lines[i]
        content = raw.lstrip(" ")
        if not content.strip() or content.startswith(("#", "{{")):
            continue
        indent = len(raw) - len(content)
        is_item = content.startswith("- ") or content.rstrip() == "-"
        if parent_indent >= 0 and (indent < parent_indent or (indent == parent_indent and not is_item)):
            break  # left the parent's block (a compact `- item` at the parent's indent still belongs to it)
        match = _KEY_LINE.match(raw)
        if match and match["key"] == keys[0]:
            if len(keys) == 1:
                found.append(i + 1)
            else:
                found += _chain_ends(lines, keys[1:], i + 1, len(match["indent"]) + len(match["dashes"]))
    return found


class _Locator:
    """Maps a finding's template (a `# Source:` path or chart file) to a file and, when found, a line."""

    def __init__(self, report: dict):
        self.charts = {c["name"]: Path(c["path"]) for c in report["charts"] if c.get("path")}
        self.root = Path(report.get("working_dir") or os.getcwd())
        self._texts: dict[Path, str | None] = {}

    def file_for(self, chart: str, template: str) -> Path | None:
        chart_dir = self.charts.get(chart)
        if chart_dir is None:
            return None
        parts = PurePosixPath(template or "").parts
        if len(parts) >= 2:  # `<chart name>/templates/x.yaml`, `<chart name>/charts/<sub>/templates/x.yaml`
            candidate = chart_dir.joinpath(*parts[1:])
            if candidate.is_file():
                return candidate
        return chart_dir / "Chart.yaml"  # chart-level finding, or a file only inside a packaged subchart

    def text(self, path: Path) -> str | None:
        if path not in self._texts:
            try:
                self._texts[path] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                self._texts[path] = None
        return self._texts[path]

    def line_for(self, path: Path, finding: dict) -> int | None:
        if finding.get("line"):
            return int(finding["line"])
        text = self.text(path)
        keys = jsonpath_keys(finding.get("path") or "")
        if text is None or not keys or path.name == "Chart.yaml":
            return None
        line = find_key_line(text, keys)
        if line is None and path.name == "values.yaml" and path.parent.parent.name == "charts" \
                and keys[0] == path.parent.name:
            line = find_key_line(text, keys[1:])  # umbrella path `$.<sub>.x` in the subchart's own values
        return line

    def artifact(self, path: Path) -> dict:
        try:
            relative = path.resolve().relative_to(self.root.resolve())
        except ValueError:
            return {"uri": path.resolve().as_uri()}
        return {"uri": relative.as_posix(), "uriBaseId": SRCROOT}


def _rule(policy: dict) -> dict:
    reference = policy.get("reference") or ""
    rule = {
        "id": policy["id"],
        "name": "".join(word.capitalize() for word in re.findall(r"[A-Za-z0-9]+", policy["title"])),
        "shortDescription": {"text": policy["title"]},
        "fullDescription": {"text": policy.get("rationale") or policy["title"]},
        "help": {"text": f"{policy.get('rationale', '')}\nReference: {reference}".strip()},
        "defaultConfiguration": {"level": _level(policy.get("severity"))},
        "properties": {"tags": ["helm", "policy"], "module": policy.get("module", ""),
                       "moduleSha256": policy.get("module_sha256", "")},
    }
    if re.match(r"https?://\S+$", reference):
        rule["helpUri"] = reference
    return rule


def _level(severity: str | None) -> str:
    return "warning" if severity == "warning" else "error"


def _fingerprint(result: dict, finding: dict) -> str:
    parts = (result["policy"], result["chart"], result["scenario"] or "", finding.get("resource") or "",
             finding.get("template") or "", finding.get("path") or "")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _message(result: dict, finding: dict) -> str:
    lines = [finding["message"]]
    where = ", ".join(f"{k} {v}" for k, v in (("scenario", result["scenario"]), ("resource", finding.get("resource")),
                                               ("template", finding.get("template")), ("JSONPath", finding.get("path")))
                      if v)
    if where:
        lines.append(f"({result['chart']}: {where})")
    if result.get("command"):
        lines.append(f"Reproduce: {result['command']}")
    return "\n".join(lines)


def _result(result: dict, finding: dict, rule_index: int, locator: _Locator) -> dict:
    path = locator.file_for(result["chart"], finding.get("template") or "")
    location: dict = {}
    if path is not None:
        physical = {"artifactLocation": locator.artifact(path)}
        line = locator.line_for(path, finding)
        if line:
            physical["region"] = {"startLine": line}
        location["physicalLocation"] = physical
    if finding.get("resource"):
        location["logicalLocations"] = [{"fullyQualifiedName": finding["resource"], "kind": "resource"}]
    sarif = {
        "ruleId": result["policy"],
        "ruleIndex": rule_index,
        "level": _level(result["severity"]),
        "message": {"text": _message(result, finding)},
        "locations": [location] if location else [],
        "partialFingerprints": {"chartgateFinding/v1": _fingerprint(result, finding)},
        "properties": {"chart": result["chart"], "scenario": result["scenario"],
                       "resource": finding.get("resource") or "", "jsonpath": finding.get("path") or "",
                       "template": finding.get("template") or "", "outcome": result["outcome"]},
    }
    if result.get("scenario_inputs"):
        sarif["properties"]["scenarioInputs"] = result["scenario_inputs"]
    waiver = result.get("waiver")
    if result["outcome"] == "waived" and waiver:
        sarif["suppressions"] = [{
            "kind": "external", "status": "accepted",
            "justification": f"{waiver.get('reason')} (owner {waiver.get('owner')}, expires {waiver.get('expires')})",
            "properties": {k: waiver.get(k) for k in ("owner", "expires", "source")},
        }]
    return sarif


def _notification(result: dict) -> dict:
    return {"level": "error", "message": {"text": f"{result['policy']} on {result['chart']}"
                                                  f"{' [' + result['scenario'] + ']' if result['scenario'] else ''}: "
                                                  f"{result.get('message') or 'error'}"},
            "descriptor": {"id": result["policy"]},
            "properties": {"chart": result["chart"], "scenario": result["scenario"]}}


def build_sarif(report: dict) -> dict:
    policies = sorted(report["policies"], key=lambda p: p["id"])
    rule_index = {p["id"]: i for i, p in enumerate(policies)}
    locator = _Locator(report)
    results = [_result(r, f, rule_index[r["policy"]], locator)
               for r in report["results"] if r["outcome"] in ("failed", "waived") and r["policy"] in rule_index
               for f in r["findings"]]
    invocation = {"executionSuccessful": True,
                  "startTimeUtc": report.get("started_at") or report["generated_at"],
                  "endTimeUtc": report["generated_at"],
                  "toolExecutionNotifications": [_notification(r) for r in report["results"] if r["outcome"] == "error"]}
    run = {
        "tool": {"driver": {"name": "chartgate", "version": report["tool"]["version"],
                            "semanticVersion": report["tool"]["version"], "rules": [_rule(p) for p in policies]}},
        "originalUriBaseIds": {SRCROOT: {"uri": locator.root.resolve().as_uri().rstrip("/") + "/"}},
        "invocations": [invocation],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "gate": report["summary"]["gate"],
            "gitCommit": report.get("git_commit"),
            "helm": report["helm"],
            "kubernetesVersions": report.get("kubernetes_versions", []),
            "charts": [{"name": c["name"], "version": c["version"], "digest": c["digest"]} for c in report["charts"]],
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(report: dict) -> str:
    return json.dumps(build_sarif(report), indent=2) + "\n"
