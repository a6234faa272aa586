"""Parent and child toggles: a child only means something with its parent on.

Two signs make toggle B a child of toggle A:
- the values tree: `metrics.serviceMonitor.enabled` lies under `metrics.enabled` (toggles.py);
- the templates' `if` nesting: some template renders an object under a test of B inside a block that
  tests A (`{{ if .Values.service.enabled }} ... {{ if .Values.serviceMonitor.enabled }} --- kind: ...`).
  A test under `not` or `or`, or in an `else` branch, does not enclose anything; a test of B that only
  adjusts A's object (a metrics port in the Service, a rule in the NetworkPolicy) makes no child.

Nobody deploys a ServiceMonitor with its Service switched off, so such scenarios only produce findings
no maintainer accepts: the planner switches a child's parents on whenever the child is on
(`with_parents_on`), and the NEST policy reports once per child when it renders without its parent.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterable

from chartgate.core.values import dotted

if TYPE_CHECKING:
    from chartgate.discover.charts import Chart

Path_ = tuple[str, ...]

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)
_VALUES = re.compile(r"\.Values((?:\.[A-Za-z_][\w-]*)+)")
_OPENS = re.compile(r"^(if|with|range|define|block)\b")
_NEGATES = re.compile(r"\b(not|or)\b")
_OBJECT = re.compile(r"^kind:", re.MULTILINE)


def _tested(action: str, toggles: set[Path_], scope: Path_) -> set[Path_]:
    paths = {scope + tuple(p for p in m.group(1).split(".") if p) for m in _VALUES.finditer(action)}
    return paths & toggles


def template_parents(chart: "Chart", toggles: Iterable[Path_], scope: Path_ = ()) -> dict[Path_, set[Path_]]:
    """Child toggle -> the toggles whose `if` blocks enclose an `if` on it that renders a whole object
    (a top-level `kind:` line), in some template of the chart tree (paths in the umbrella's values
    coordinates). A test that only adjusts the enclosing object (a metrics port in the Service) makes
    no child. Pairs nested both ways are dropped."""
    toggles = set(toggles)
    found: dict[Path_, set[Path_]] = {}
    for text in chart.templates.values():
        # Per open block: [toggles its test requires on, the toggles enclosing it, renders an object]
        stack: list[list] = []
        last = 0
        for match in _ACTION.finditer(text):
            if _OBJECT.search(text, last, match.start()):
                for block in stack:
                    block[2] = True
            last = match.end()
            action = match.group(1)
            if action.startswith("/*"):
                continue
            if action.startswith(("end", "else")) and stack:
                tested, enclosing, renders = stack[-1]
                if renders:
                    for child in tested:
                        found.setdefault(child, set()).update(enclosing - {child})
                if action.startswith("end"):
                    stack.pop()
                    continue
                inner = action[4:].strip()  # the other branch: the block's test no longer holds
                holds = inner.startswith("if") and not _NEGATES.search(inner)
                stack[-1] = [_tested(inner, toggles, scope) if holds else set(), enclosing, False]
                continue
            opens = _OPENS.match(action)
            if not opens:
                continue
            enclosing = set().union(*(block[0] for block in stack))
            holds = opens.group(1) == "if" and not _NEGATES.search(action)
            stack.append([_tested(action, toggles, scope) if holds else set(), enclosing, False])
    for key, sub in chart.subcharts.items():
        for child, parents in template_parents(sub, toggles, scope + (key,)).items():
            found.setdefault(child, set()).update(parents)
    # A inside B here and B inside A there: neither is the parent.
    return {child: kept for child, parents in found.items()
            if (kept := {p for p in parents if child not in found.get(p, ())})}


def with_parents_on(row: dict[str, Any], parents: dict[str, tuple[str, ...]]) -> tuple[dict[str, Any], list]:
    """A plan row whose children that are on have their parents on too (transitively): the row's own
    factors are switched, parents that are no factor come back as extra `--set` pairs."""
    row, extra, changed = dict(row), {}, True
    while changed:
        changed = False
        for child, enclosing in parents.items():
            if row.get(child) is True or extra.get(child) is True:
                for parent in enclosing:
                    if parent in row and row[parent] is not True:
                        row[parent], changed = True, True
                    elif parent not in row and parent not in extra:
                        extra[parent], changed = True, True
    return row, list(extra.items())


def parent_names(parents: dict[Path_, set[Path_]], child: Path_) -> tuple[str, ...]:
    return tuple(sorted(dotted(p) for p in parents.get(child, ())))
