"""JUnit XML with one testcase per result, for CI systems that only read JUnit.

Only what blocks the gate is a `<failure>`: a finding of a policy below --fail-on (a warning) is a
passed testcase carrying the finding in its properties and system-out, so CI test widgets count
blocking findings as failed tests and nothing else. The report model is already free of control
characters (`safe.clean`), which XML 1.0 cannot carry."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from chartgate.check.verdict import finding_dict_counts, is_blocking
from chartgate.report.defects import cause_lines, provenance


def _finding_text(result: dict, findings: list[dict], planned: dict) -> str:
    """Each finding with its cause: the scenarios it was seen in, the first one's inputs and command."""
    lines = []
    for f in findings:
        lines.append(f"{f['resource'] or '-'} ({f['template'] or '-'}, {f['path'] or '-'}): {f['message']}")
        seen = provenance(result, f, planned.get(result["chart"], {}))
        names = [name for name, _, _ in seen if name]
        lines.extend("  " + line for line in cause_lines(names, seen[0][1], seen[0][2]))
    return "\n".join(lines)


def render_junit(report: dict) -> str:
    results = report["results"]
    fail_on = report["summary"].get("fail_on", "error")
    planned = {c["name"]: {s["name"]: s for s in c.get("scenarios", [])} for c in report.get("charts", [])}
    upstream_blocks = report["summary"].get("fail_on_upstream", True)

    def counted(f: dict) -> bool:  # a baselined finding, or upstream with fail-on-upstream off: not blocking
        return finding_dict_counts(f, upstream_blocks)

    def blocking_failure(r: dict) -> bool:
        return r["outcome"] == "failed" and is_blocking(
            "failed", r["severity"], fail_on, findings_count=not r["findings"] or any(map(counted, r["findings"])))

    suite = ET.Element("testsuite", name="chartgate", tests=str(len(results)),
                       failures=str(sum(blocking_failure(r) for r in results)),
                       errors=str(sum(r["outcome"] == "error" for r in results)),
                       skipped=str(sum(r["outcome"] in ("skipped", "waived", "baselined") for r in results)),
                       timestamp=report["generated_at"])
    props = ET.SubElement(suite, "properties")
    shard = report.get("shard")
    for name, value in (("chartgate.version", report["tool"]["version"]),
                        ("chartgate.engine.gate", report["summary"]["gate"]),
                        ("chartgate.shard", f"{shard['index']}/{shard['total']}" if shard else ""),
                        ("helm.version", report["helm"].get("version") or ""),
                        ("helm.path", report["helm"].get("path") or "")):
        ET.SubElement(props, "property", name=name, value=str(value))
    for r in results:
        label = f"{r['chart']}:{r['scenario']}" if r["scenario"] else r["chart"]
        case = ET.SubElement(suite, "testcase", classname=f"chartgate.{r['policy']}", name=f"{r['policy']}[{label}]")
        if blocking_failure(r):  # only what blocks: the rest of its findings are in system-out
            ET.SubElement(case, "failure", message=f"{r['title']} ({r['severity']})").text = \
                _finding_text(r, [f for f in r["findings"] if counted(f)], planned)
            if not all(counted(f) for f in r["findings"]):
                ET.SubElement(case, "system-out").text = "not blocking (baselined or upstream):\n" + \
                    _finding_text(r, [f for f in r["findings"] if not counted(f)], planned)
        elif r["outcome"] == "failed" and r["severity"] == "info":
            ET.SubElement(case, "system-out").text = _finding_text(r, r["findings"], planned)
        elif r["outcome"] == "failed":  # a warning: reported, not a failed test
            props = ET.SubElement(case, "properties")
            ET.SubElement(props, "property", name="chartgate.outcome", value="warning")
            ET.SubElement(props, "property", name="chartgate.severity", value=r["severity"])
            for n, finding in enumerate(r["findings"], 1):
                ET.SubElement(props, "property", name=f"chartgate.finding.{n}", value=_finding_text(r, [finding], planned))
            ET.SubElement(case, "system-out").text = (f"warning (not blocking below --fail-on {fail_on}): "
                                                      f"{r['title']}\n{_finding_text(r, r['findings'], planned)}")
        elif r["outcome"] == "error":
            ET.SubElement(case, "error", message=r.get("message", "")[:200]).text = r.get("message", "")
        elif r["outcome"] in ("skipped", "waived", "baselined"):
            reason = r.get("message") or (r.get("waiver") or {}).get("reason", "") or (
                "in the repository's baseline" if r["outcome"] == "baselined" else "")
            ET.SubElement(case, "skipped", message=f"{r['outcome']}: {reason}")
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
