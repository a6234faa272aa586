"""What every human report says about baselined findings, upstream findings and findings judged in
another chart of the repository - one wording for Markdown, HTML and the terminal."""

from __future__ import annotations


def split_baselined(defects: list[dict]) -> tuple[list[dict], list[dict]]:
    """(defects to read, defects the baseline holds): baselined ones are listed apart, after the rest."""
    return ([d for d in defects if d["outcome"] != "baselined"], [d for d in defects if d["outcome"] == "baselined"])


def ownership_mark(defect: dict) -> str:
    """`upstream: redis` for a finding made by a vendored subchart's template; "" for the chart's own."""
    if defect.get("ownership") == "upstream":
        return f"upstream: {defect.get('dependency') or 'a dependency'}"
    return ""


def baseline_notes(report: dict) -> list[str]:
    """Plain sentences: the baseline in use, what it no longer matches, what was written or refused,
    and what umbrellas left to the dependency charts judged in the same run."""
    summary = report.get("summary") or {}
    baseline = summary.get("baseline") or {}
    notes = []
    if baseline.get("used"):
        notes.append(f"{baseline.get('baselined_findings', 0)} finding(s) baselined, not blocking "
                     f"({baseline.get('entries', 0)} entries in {baseline.get('file')})")
    if baseline.get("note"):
        notes.append(baseline["note"])
    if baseline.get("written"):
        notes.append(f"baseline written: {baseline['written']['entries']} entries to {baseline['written']['file']}")
    if baseline.get("refused"):
        notes.append(f"baseline not written: {baseline['refused']}")
    if summary.get("fail_on_upstream") is False:
        notes.append(f"fail-on-upstream is false: {(summary.get('defects') or {}).get('upstream', 0)} upstream "
                     "defect(s) (made by vendored subcharts' templates) are reported, not blocking")
    for umbrella, moved in (summary.get("judged_elsewhere") or {}).items():
        for chart, n in moved.items():
            notes.append(f"{umbrella}: {n} finding(s) judged in chart {chart} (the dependency's own chart, "
                         "judged in this run with the same values), not repeated here")
    return notes
