"""What part of the whole gate a run judged.

The whole gate is every policy of the policy packs the run collected (each directory of policy
modules, taken whole) applied to every discovered chart. A run that judged less is `partial`:
`-k`, `-m`, `--deselect`, node ids, `--lf` (checks collected but not selected), some modules of a
pack left out (`pytest policies/golden.py`), or `--changed-since` (charts left out). Its reports say
what was selected and what was not, with counts, and its verdict is never `passed`.

A `--shard I/N` run is not partial on that account: its reports are marked as a shard, and
`chartgate merge` refuses a set of shards with one missing, so the merge of a full set is the whole
gate. A shard run that also deselected checks stays partial, and so does its merge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

_SHOWN = 200  # deselected checks named in the report; the others are counted


@dataclass
class Scope:
    """Filled by whoever drives the gate (the pytest plugin knows selection; the gate knows charts)."""

    collected: int = 0  # policy checks the collected modules planned
    deselected: list[str] = field(default_factory=list)  # those not selected (pytest node ids)
    modules_run: list[str] = field(default_factory=list)
    modules_not_run: list[str] = field(default_factory=list)  # same pack, holding policies, not collected
    charts_discovered: int = 0
    charts_left_out: list[str] = field(default_factory=list)  # by --changed-since
    changed_since: str | None = None

    def reasons(self) -> list[str]:
        reasons = []
        if self.deselected:
            reasons.append(f"{len(self.deselected)} of {self.collected} checks deselected "
                           "(-k, -m, --deselect, node ids or --lf)")
        if self.modules_not_run:
            reasons.append(f"{len(self.modules_not_run)} policy module(s) of the pack not run: "
                           + ", ".join(self.modules_not_run))
        if self.charts_left_out:
            reasons.append(f"--changed-since {self.changed_since}: {len(self.charts_left_out)} of "
                           f"{self.charts_discovered} charts left out")
        return reasons

    def to_dict(self) -> dict | None:
        """The report's `summary.partial`: None when the run judged the whole gate."""
        reasons = self.reasons()
        if not reasons:
            return None
        return {
            "reason": "; ".join(reasons),
            "checks": {"collected": self.collected, "selected": self.collected - len(self.deselected),
                       "deselected": len(self.deselected)},
            "deselected": sorted(self.deselected)[:_SHOWN],
            "policy_modules": {"run": sorted(self.modules_run), "not_run": sorted(self.modules_not_run)},
            "charts": {"discovered": self.charts_discovered, "left_out": sorted(self.charts_left_out)},
            "changed_since": self.changed_since if self.charts_left_out else None,
        }


def merge_partial(parts: list[tuple[str, dict | None]]) -> dict | None:
    """The partial record of merged shards: (shard label, its `summary.partial`) each. Sharding
    itself leaves nothing out of a full set; what each shard deselected or left out stays."""
    present = [(label, p) for label, p in parts if p]
    if not present:
        return None
    checks = {k: sum(p.get("checks", {}).get(k, 0) for _, p in present) for k in ("collected", "selected", "deselected")}
    deselected = sorted({n for _, p in present for n in p.get("deselected", [])})
    return {
        "reason": "; ".join(f"{label}: {p.get('reason')}" for label, p in present),
        "checks": checks,
        "deselected": deselected[:_SHOWN],
        "policy_modules": {k: sorted({m for _, p in present for m in p.get("policy_modules", {}).get(k, [])})
                           for k in ("run", "not_run")},
        "charts": {"discovered": max(p.get("charts", {}).get("discovered", 0) for _, p in present),
                   "left_out": sorted({c for _, p in present for c in p.get("charts", {}).get("left_out", [])})},
        "changed_since": next((p.get("changed_since") for _, p in present if p.get("changed_since")), None),
    }


def modules_not_run(run: set[Path], whole: Iterable[Path] = ()) -> list[str]:
    """The policy modules beside those run (same directory: the same pack), and those of the whole gate
    (`whole`: every enabled pack's and the repository's own, chartgate.packs), that hold a policy and
    were not run. A module that cannot even be loaded counts too: nothing of it was judged."""
    from chartgate.check.loader import is_policy_file, load_policy_module
    from chartgate.check.definition import policies_in
    left = []
    ran = {p.resolve() for p in run}
    candidates = {p.resolve(): p for d in sorted({p.parent for p in run}) for p in sorted(d.glob("*.py"))}
    candidates.update({Path(p).resolve(): Path(p) for p in whole if Path(p).resolve() not in candidates})
    for path in sorted(candidates.values()):
        if path.resolve() in ran or not is_policy_file(path):
            continue
        try:
            holds_policies = bool(policies_in(load_policy_module(path)))
        except Exception:  # noqa: BLE001 - a broken module is still part of the pack
            holds_policies = True
        if holds_policies:
            left.append(str(path))
    return left
