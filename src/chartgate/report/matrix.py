"""What the human-readable reports share: the chart x policy matrix (and its chart x family view,
which stays readable with 50 charts and 40 policies), and the results and defects worth reading."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chartgate.report.defects import defect_shown_outcome, shown_outcome

#: Worst first. A cell shows the worst outcome among its scenarios: one failing scenario makes the
#: whole (chart, policy) cell fail; `skipped` (not applicable) only shows when nothing else ran.
#: `warning` is a failure below --fail-on: shown apart from blocking failures, never as one.
OUTCOME_ORDER = ("error", "failed", "warning", "waived", "baselined", "passed", "skipped")
#: Outcomes that get a section of their own below the matrix, in reading order: what the chart author
#: must fix, then what stopped the gate from judging, then what was deliberately accepted.
NOTEWORTHY = ("failed", "error", "warning", "waived", "baselined")


@dataclass
class _Cell:
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
class _Matrix:
    charts: list[str]
    policies: list[dict]  # the report's policy entries, in id order
    cells: dict[tuple[str, str], _Cell]

    def cell(self, chart: str, policy_id: str) -> _Cell | None:
        return self.cells.get((chart, policy_id))


def _family_of(policy_id: str) -> str:
    return policy_id.split("-", 1)[0]


@dataclass
class _FamilyCell:
    """One chart x policy family cell: its policies' cells, the worst outcome first."""

    policies: list[tuple[str, _Cell]]  # (policy id, cell), in id order

    @property
    def outcome(self) -> str:
        return min((cell.outcome for _, cell in self.policies), key=OUTCOME_ORDER.index, default="skipped")

    def count(self, outcome: str) -> int:
        """How many of the family's policies show `outcome` on this chart."""
        return sum(cell.outcome == outcome for _, cell in self.policies)

    def summary(self) -> str:
        """`1 failed, 4 passed`: the policies by their (worst) outcome."""
        return ", ".join(f"{n} {o}" for o in OUTCOME_ORDER if (n := self.count(o)))


def families(matrix: _Matrix) -> dict[str, list[dict]]:
    """Policy family (`OBS`) -> its policies, in id order."""
    grouped: dict[str, list[dict]] = {}
    for policy in matrix.policies:
        grouped.setdefault(policy.get("family") or _family_of(policy["id"]), []).append(policy)
    return grouped


def family_cell(matrix: _Matrix, chart: str, policies: list[dict]) -> _FamilyCell | None:
    cells = [(p["id"], c) for p in policies if (c := matrix.cell(chart, p["id"])) is not None]
    return _FamilyCell(cells) if cells else None


def build_matrix(report: dict) -> _Matrix:
    charts = sorted({c["name"] for c in report["charts"]} | {b["name"] for b in report.get("broken_charts", [])})
    fail_on = report.get("summary", {}).get("fail_on", "error")
    cells: dict[tuple[str, str], _Cell] = {}
    for result in report["results"]:
        cell = cells.setdefault((result["chart"], result["policy"]), _Cell())
        outcome = shown_outcome(result["outcome"], result["severity"], fail_on)
        cell.counts[outcome] += 1
        if outcome in NOTEWORTHY:
            current = cell.first_noteworthy
            if current is None or OUTCOME_ORDER.index(outcome) < OUTCOME_ORDER.index(
                    shown_outcome(current["outcome"], current["severity"], fail_on)):
                cell.first_noteworthy = result
    return _Matrix(charts, sorted(report["policies"], key=lambda p: p["id"]), cells)


def _anchor(result: dict) -> str:
    """A stable HTML/Markdown anchor for one result."""
    raw = f"{result['policy']}-{result['chart']}-{result['scenario'] or 'chart'}"
    return "r-" + re.sub(r"[^A-Za-z0-9_-]+", "-", raw).strip("-").lower()


def policy_index(report: dict) -> dict[str, dict]:
    return {p["id"]: p for p in report["policies"]}


def values_digests(report: dict) -> dict[str, str]:
    """Every values/overlay file any scenario used, with its sha256."""
    digests: dict[str, str] = {}
    for chart in report["charts"]:
        for scenario in chart.get("scenarios", []):
            digests.update(scenario.get("values_digests", {}))
    return dict(sorted(digests.items()))


def first_defects(report: dict) -> dict[tuple[str, str], dict]:
    """(chart, policy) -> its first defect in report order, for links from the matrix."""
    first: dict[tuple[str, str], dict] = {}
    for defect in report.get("defects", []):
        for policy in defect.get("policies") or [defect["policy"]]:
            first.setdefault((defect["chart"], policy), defect)
    return first


def defects_per_cell(report: dict) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for defect in report.get("defects", []):
        for policy in defect.get("policies") or [defect["policy"]]:
            counts[(defect["chart"], policy)] = counts.get((defect["chart"], policy), 0) + 1
    return counts


def cut(text: str, limit: int, what: str = "characters") -> str:
    """`text` cut to `limit` characters, saying how much was cut."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit].rstrip() + f" [... {len(text) - limit} more {what}]"


def cut_lines(text: str, max_lines: int, max_chars: int) -> str:
    """A YAML excerpt cut to `max_lines` lines and `max_chars`, ending with a comment saying so."""
    if not text:
        return text
    lines = text.splitlines()
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"# ... {len(text.splitlines()) - max_lines} more lines (see chartgate.json)"]
    shown = "\n".join(lines)
    if len(shown) > max_chars:
        shown = shown[:max_chars].rstrip() + f"\n# ... {len(shown) - max_chars} more characters (see chartgate.json)"
    return shown


#: Human-readable reports stay readable and small on large runs: full cards for the top findings,
#: the rest collapsed, excerpts and lists capped, and a byte budget past which only summary rows
#: (then nothing) are written - each cut stated in the report itself.
TOP_FINDINGS = 25
EXCERPT_LINES = 30
EXCERPT_CHARS = 2_000
MESSAGE_CHARS = 2_000
COMMAND_CHARS = 2_000
SCENARIOS_SHOWN = 40
_BUDGET_BYTES = 4_500_000  # findings sections of chartgate.html / chartgate.md at most ...
_PAGE_BYTES = 4_900_000  # ... and less when the rest of the file is large: the whole file stays under 5 MB


class Budget:
    """Bytes left for a report's findings sections: full bodies while `full` holds, rows while `rows` does."""

    def __init__(self, limit: int | None = None, *, rest: int = 0):
        """`rest`: bytes the file holds besides the findings (matrix, provenance, ...)."""
        self.limit = max(0, min(_BUDGET_BYTES if limit is None else limit, _PAGE_BYTES - rest))
        self.used = 0

    def add(self, text: str) -> str:
        self.used += len(text.encode("utf-8"))
        return text

    @property
    def full(self) -> bool:
        return self.used < self.limit * 0.8

    @property
    def rows(self) -> bool:
        return self.used < self.limit


def defects_by_chart(report: dict) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for defect in report.get("defects", []):
        grouped.setdefault(defect["chart"], []).append(defect)
    return dict(sorted(grouped.items()))


def shown_totals(report: dict) -> dict[str, int]:
    """Results per outcome as the human reports show them: failures below --fail-on apart, as `warning`."""
    fail_on = report.get("summary", {}).get("fail_on", "error")
    totals = {o: 0 for o in OUTCOME_ORDER}
    for result in report["results"]:
        totals[shown_outcome(result["outcome"], result["severity"], fail_on)] += 1
    return totals


def family_summary(report: dict) -> list[dict]:
    """Per policy family: its policies, result totals, defects by outcome, charts with a defect."""
    rows: dict[str, dict] = {}
    for policy in sorted(report["policies"], key=lambda p: p["id"]):
        family = policy.get("family") or _family_of(policy["id"])
        row = rows.setdefault(family, {"family": family, "policies": [], "results": {o: 0 for o in OUTCOME_ORDER},
                                       "defects": {o: 0 for o in NOTEWORTHY}, "charts": set()})
        row["policies"].append(policy["id"])
    fail_on = report.get("summary", {}).get("fail_on", "error")
    for result in report["results"]:
        row = rows.get(_family_of(result["policy"]))
        if row is not None:
            row["results"][shown_outcome(result["outcome"], result["severity"], fail_on)] += 1
    for defect in report.get("defects", []):
        row = rows.get(_family_of(defect["policy"]))
        if row is not None:
            row["defects"][defect_shown_outcome(defect)] += 1
            row["charts"].add(defect["chart"])
    return [{**row, "charts": sorted(row["charts"])} for row in rows.values()]


def repeat_groups(defects: list[dict]) -> list[list[dict]]:
    """Defects of one chart that differ only in the policy reporting them (a chart that cannot be
    loaded errors on every policy with one message): shown once, naming every policy. Order kept."""
    groups: dict[tuple, list[dict]] = {}
    for defect in defects:
        key = (defect["chart"], defect["outcome"], defect["resource"], defect["template"], defect["path"],
               " ".join(defect["message"].split()))
        groups.setdefault(key, []).append(defect)
    return list(groups.values())


def top_groups(groups: list[list[dict]], n: int = TOP_FINDINGS) -> list[list[dict]]:
    """The `n` most important display groups (see `repeat_groups`): blocking first, then failed, then
    error severity, then the most widespread; within one such tier, (chart, policy) pairs take turns,
    so one chart's or one policy's long list does not hide every other one."""
    from chartgate.report.defects import DEFECT_OUTCOMES, priority_key
    ordered = sorted(groups, key=lambda g: priority_key(g[0]))
    turns: dict[tuple, int] = {}
    keyed = []
    for group in ordered:
        d = group[0]
        tier = (not d["blocking"], d.get("ownership") == "upstream", DEFECT_OUTCOMES.index(d["outcome"]), d["severity"] != "error", -len(d["occurrences"]))
        pair = (tier, d["chart"], d["policy"])
        turn = turns[pair] = turns.get(pair, -1) + 1
        keyed.append(((tier, turn, priority_key(d)), group))
    return [group for _, group in sorted(keyed, key=lambda item: item[0])[:n]]


def partial_coverage_text(partial: dict[str, int]) -> str:
    """Charts whose render budget ran out before their covering plan was complete."""
    return ("the render budget ran out before the covering plan was complete: "
            + ", ".join(f"{chart} ({n} combination(s) not covered)" for chart, n in partial.items())
            + "; chartgate.json lists them (charts[].plan.uncovered_combinations)")
