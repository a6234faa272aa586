"""What the human-readable reports share: the chart x policy matrix and the results worth reading."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Worst first. A cell shows the worst outcome among its scenarios: one failing scenario makes the
#: whole (chart, policy) cell fail; `skipped` (not applicable) only shows when nothing else ran.
OUTCOME_ORDER = ("error", "failed", "waived", "passed", "skipped")
#: Outcomes that get a section of their own below the matrix, in reading order: what the chart author
#: must fix, then what stopped the gate from judging, then what was deliberately accepted.
NOTEWORTHY = ("failed", "error", "waived")


@dataclass
class Cell:
    counts: dict[str, int] = field(default_factory=lambda: {o: 0 for o in OUTCOME_ORDER})
    first_noteworthy: dict | None = None  # the result the cell links to

    @property
    def outcome(self) -> str:
        return next((o for o in OUTCOME_ORDER if self.counts[o]), "skipped")

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """`2 failed, 14 passed` — the non-zero counts, worst first."""
        return ", ".join(f"{n} {o}" for o, n in self.counts.items() if n)


@dataclass
class Matrix:
    charts: list[str]
    policies: list[dict]  # the report's policy entries, in id order
    cells: dict[tuple[str, str], Cell]

    def cell(self, chart: str, policy_id: str) -> Cell | None:
        return self.cells.get((chart, policy_id))


def build_matrix(report: dict) -> Matrix:
    charts = sorted({c["name"] for c in report["charts"]} | {b["name"] for b in report.get("broken_charts", [])})
    cells: dict[tuple[str, str], Cell] = {}
    for result in report["results"]:
        cell = cells.setdefault((result["chart"], result["policy"]), Cell())
        cell.counts[result["outcome"]] += 1
        if result["outcome"] in NOTEWORTHY:
            current = cell.first_noteworthy
            if current is None or OUTCOME_ORDER.index(result["outcome"]) < OUTCOME_ORDER.index(current["outcome"]):
                cell.first_noteworthy = result
    return Matrix(charts, sorted(report["policies"], key=lambda p: p["id"]), cells)


def noteworthy_results(report: dict) -> list[dict]:
    """Failures, errors and waivers (in that order), then by chart, policy and scenario."""
    chosen = [r for r in report["results"] if r["outcome"] in NOTEWORTHY]
    return sorted(chosen, key=lambda r: (NOTEWORTHY.index(r["outcome"]), r["chart"], r["policy"],
                                         r["scenario"] or ""))


def anchor(result: dict) -> str:
    """A stable HTML/Markdown anchor for one result."""
    raw = f"{result['policy']}-{result['chart']}-{result['scenario'] or 'chart'}"
    return "r-" + re.sub(r"[^A-Za-z0-9_-]+", "-", raw).strip("-").lower()


def scenario_label(result: dict) -> str:
    return result["scenario"] or "chart-level"


def policy_index(report: dict) -> dict[str, dict]:
    return {p["id"]: p for p in report["policies"]}


def values_digests(report: dict) -> dict[str, str]:
    """Every values/overlay file any scenario used, with its sha256."""
    digests: dict[str, str] = {}
    for chart in report["charts"]:
        for scenario in chart.get("scenarios", []):
            digests.update(scenario.get("values_digests", {}))
    return dict(sorted(digests.items()))
