"""Golden kind summaries: one small YAML file per chart and scenario, compared with deepdiff,
rewritten atomically under --update-golden, with orphan detection limited to what the run covered.

The golden directory is chartgate's own: nothing is read, written or deleted through a link that
leads out of it (or out of its repository), and only files chartgate wrote - its header, and the
chart and scenario of their place - are ever deleted as orphans."""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

from deepdiff import DeepDiff

from chartgate.core.confine import anchor, confine
from chartgate.check.definition import GOLDEN_ROLE, Outcome, Result
from chartgate.core.errors import InvalidConfig, InvalidYaml

from chartgate.plan.scenarios import safe_name
from chartgate.core.yamlio import SHARED_FILE_MODE, dump, load_file, write_atomic

# The first line of every golden file. It names a command that exists in any repository using
# chartgate (as GOLD-001's advice does); files written under an earlier header are still chartgate's.
_HEADER = "# chartgate golden kind summary. Regenerate with: chartgate check --update-golden\n"
_EARLIER_HEADERS = ("# chartgate golden kind summary. Regenerate with: pytest policies --update-golden\n",)


def _flat(summary: dict[str, dict[str, int]]) -> dict[str, int]:
    return {f"{kind} {api}": count for kind, apis in summary.items() for api, count in apis.items()}


def _describe_diff(expected: dict, actual: dict) -> list[str]:
    """Readable lines for a kind-summary drift, from deepdiff's structured (tree) result."""
    # threshold 0: always itemise; by default deepdiff reports "root changed" when most keys differ.
    diff = DeepDiff(_flat(expected), _flat(actual), view="tree", threshold_to_diff_deeper=0)
    lines = []
    for item in diff.get("dictionary_item_added", []):
        lines.append(f"+ {item.path(output_format='list')[0]}: {item.t2}  (rendered, not in the golden file)")
    for item in diff.get("dictionary_item_removed", []):
        lines.append(f"- {item.path(output_format='list')[0]}: {item.t1}  (in the golden file, no longer rendered)")
    for item in [*diff.get("values_changed", []), *diff.get("type_changes", [])]:
        lines.append(f"~ {item.path(output_format='list')[0]}: {item.t1!r} -> {item.t2!r}")
    return sorted(lines, key=lambda line: line[2:])


@dataclass
class GoldenStore:
    root: Path
    update: bool = False
    written: list[Path] = field(default_factory=list)  # created or changed under --update-golden
    checked: set[tuple[str, str]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _anchor: Path | None = None  # the repository the golden directory must not leave

    def path_for(self, chart: str, scenario: str) -> Path:
        """Inside `root`, whatever characters the chart or scenario name contains."""
        return self.root / safe_name(chart) / f"{safe_name(scenario)}.yaml"

    def guard(self, path: Path) -> None:
        """Refuse (InvalidConfig naming the link) a golden directory that leads out of its repository,
        or a chart directory or golden file that leads out of the golden directory."""
        if self._anchor is None:
            self._anchor = anchor(self.root)
        confine(self.root, self._anchor, "golden directory")
        confine(path, self.root, "golden file")

    def _confined(self, path: Path) -> bool:
        try:
            self.guard(path)
        except InvalidConfig:  # a link out: never read, listed or deleted
            return False
        return True

    def is_ours(self, path: Path) -> bool:
        """A golden file chartgate wrote: a regular file inside the golden directory that starts with
        chartgate's header and records the chart and scenario its place stands for."""
        if path.is_symlink() or not path.is_file() or not self._confined(path):
            return False
        try:
            text = path.read_text(encoding="utf-8")
            data = load_file(path, what="golden file") if text.startswith((_HEADER, *_EARLIER_HEADERS)) else None
        except (OSError, UnicodeDecodeError, InvalidYaml):
            return False
        return (isinstance(data, dict) and isinstance(data.get("kinds"), dict)
                and safe_name(str(data.get("chart"))) == path.parent.name
                and f"{safe_name(str(data.get('scenario')))}.yaml" == path.name)

    def has_files(self, chart: str) -> bool:
        """Does the chart have any golden file yet? (A new chart has none: one finding, not one per scenario.)"""
        directory = self.root / safe_name(chart)
        return self._confined(directory) and directory.is_dir() and any(directory.glob("*.yaml"))

    def fingerprint(self, chart: str, scenario: str) -> str:
        """What a golden check of (chart, scenario) reads besides the render: its file. (Under
        --update-golden the check leaves a file matching the render, so its result, cached with the
        file as it stands afterwards, holds for a later check-only run too.)"""
        path = self.path_for(chart, scenario)
        if not self._confined(path):
            return "refused"  # the check reports the link
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return "missing"

    def load(self, path: Path) -> dict | None:
        self.guard(path)
        if not path.exists():
            return None
        data = load_file(path, what="golden file")
        if not isinstance(data, dict) or not isinstance(data.get("kinds"), dict):
            raise InvalidYaml(f"{path}: not a chartgate golden file (no `kinds` mapping); "
                              "re-create it with --update-golden")
        return data["kinds"]

    def check(self, chart: str, scenario: str, summary: dict, chart_path: Path | None = None) -> list[str]:
        """Compare; return drift lines (empty when equal). Under --update-golden, rewrite instead.

        The file also records where the chart lives (relative to the golden directory), so a later
        run over other chart roots never mistakes these files for orphans."""
        path = self.path_for(chart, scenario)
        with self._lock:
            self.checked.add((safe_name(chart), safe_name(scenario)))
        expected = self.load(path)
        if expected == summary:
            return []
        if self.update:
            record = {"chart": chart, "scenario": scenario, "kinds": summary}
            if chart_path is not None:
                record["chart_path"] = os.path.relpath(Path(chart_path).resolve(), self.root.resolve())
            text = _HEADER + dump(record)
            write_atomic(path, text, mode=SHARED_FILE_MODE)  # committed files: ordinary permissions
            with self._lock:
                self.written.append(path)
            return []
        if expected is None:
            return [f"no golden file {path}; create it with --update-golden"]
        return _describe_diff(expected, summary)

    def orphans(self, planned: dict[str, set[str]], covered_charts: set[str], full_run: bool,
                chart_roots: tuple[Path, ...] = ()) -> list[Path]:
        """Golden files that no planned scenario produces.

        Only charts whose golden check ran in this session are considered, so `-k`, node ids and
        skips never produce false orphans. A whole directory of a chart that was not discovered is
        considered only on a full run, and only when its files say the chart lived under one of this
        run's chart roots (so a run over another chart tree never claims this tree's goldens).
        """
        if not self.root.is_dir() or not self._confined(self.root):
            return []
        planned_safe = {safe_name(c): {safe_name(s) for s in scen} for c, scen in planned.items()}
        covered = {safe_name(c) for c in covered_charts}
        found = []
        for chart_dir in sorted(p for p in self.root.iterdir() if p.is_dir() and self._confined(p)):
            if chart_dir.name in covered:
                found += [p for p in sorted(chart_dir.glob("*.yaml"))
                          if p.stem not in planned_safe.get(chart_dir.name, set())]
            elif full_run and chart_dir.name not in planned_safe and self._was_under(chart_dir, chart_roots):
                found += sorted(chart_dir.glob("*.yaml"))
        return found

    def _was_under(self, chart_dir: Path, chart_roots: tuple[Path, ...]) -> bool:
        for path in sorted(chart_dir.glob("*.yaml")):
            if not self.is_ours(path):
                continue
            recorded = (load_file(path, what="golden file") or {}).get("chart_path")
            if recorded:
                where = (self.root / recorded).resolve()
                return any(where == Path(r).resolve() or Path(r).resolve() in where.parents for r in chart_roots)
        return False

    def remove(self, paths: list[Path]) -> list[Path]:
        """Delete the orphans chartgate wrote; return those deleted. Any other file (no chartgate
        header for its place, a link, outside the golden directory) stays: chartgate never wrote it."""
        removed = []
        for path in paths:
            if not self.is_ours(path):
                continue
            path.unlink(missing_ok=True)
            removed.append(path)
            try:
                path.parent.rmdir()
            except OSError:
                pass
        return removed


def golden_orphans(store: GoldenStore, results: Iterable[Result], plans: Callable[[], Mapping[str, list]], *,
                   partial_selection: bool, chart_roots: tuple[Path, ...] = (),
                   excluded: Iterable[str] = ()) -> list[Path]:
    """Golden files no planned scenario produces - judged only where the run saw everything.

    The golden check is the policy declaring `role="golden"`. A chart's files are judged only when
    every one of its planned golden checks ran (rendered, or recorded as infeasible); a chart
    directory whose chart no longer exists only on a run that covered every discovered chart and
    every golden check. A `partial_selection` (a shard, --changed-since, a broken chart), a
    deselection or an `excluded` chart never makes another chart's golden files orphans, so
    `--update-golden` never deletes them. (An incomplete run asks for none at all.)"""
    golden = [r for r in results if r.policy.role == GOLDEN_ROLE]
    if not golden:
        return []
    judged = {(r.chart, r.scenario) for r in golden
              if r.outcome in (Outcome.PASSED, Outcome.FAILED, Outcome.WAIVED, Outcome.BASELINED)
              or r.cause == "infeasible"}
    golden_policy, plans = golden[0].policy, plans()  # planned only when a golden check ran
    expected = {name: {(name, s.name) for s in scenarios if golden_policy.applies_to(s)}
                for name, scenarios in plans.items()}
    complete_charts = {name for name, wanted in expected.items() if wanted and wanted <= judged}
    planned = {name: {s.name for s in scenarios} for name, scenarios in plans.items()}
    full_run = not partial_selection and complete_charts == {n for n, w in expected.items() if w}
    orphans = store.orphans(planned, complete_charts, full_run=full_run, chart_roots=chart_roots)
    kept = {safe_name(name) for name in excluded}  # kept for when the chart is fixed
    return [p for p in orphans if p.parent.name not in kept]
