"""Plan around what a chart refuses: learn its guards from refused rows, cover the rest, within a budget.

A chart's own `fail`/`required` guards (`a` and `b` never both on, `a` needs `b`, `a` needs a value
nothing sets) make some plan rows infeasible. Giving every combination a refused row covered a row of
its own (one render each) does not scale: a CNI umbrella with 200 factors and 60 guards lost tens of
thousands of pairs that way. Instead:

1. A refused row is *bisected* against the defaults: the smallest set of its moved factors the chart
   still refuses with every other factor at its default (a few renders; factors the chart's message
   names are tried first). When the message names a factor outside that set and flipping it makes
   the set render, the guard is "needs that factor changed": the factor's default level joins the set.
2. Those sets are *forbidden tuples*: new rows are built greedily over the still-uncovered t-way
   combinations, never containing one (a default-level member is avoided by moving that factor).
3. A combination containing a whole forbidden tuple is infeasible, recorded with the tuple that
   refuses it. Everything else is covered by a row the chart renders - or, once the chart's render
   budget is spent, listed as uncovered: the chart's coverage is then partial, never silently.

Nothing here runs Helm: `learn_and_cover` is given a function rendering rows (refusal message or None).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Sequence

from chartgate.plan.covering import Interaction, coverage_gaps

_Item = tuple[str, Any]  # (factor name, level)


class _OutOfBudget(Exception):
    """The chart's render budget is spent: stop planning, say what is left."""


@dataclass(frozen=True)
class _Refusal:
    """Levels the chart refuses with every other factor at its default (a default level listed here is
    one the chart needs changed), and the chart's own message."""

    items: tuple[_Item, ...]
    message: str

    def within(self, combination: Sequence[_Item]) -> bool:
        return self._set <= set(combination)

    @cached_property
    def _set(self) -> frozenset:
        return frozenset(self.items)

    def describe(self) -> str:
        return ", ".join(f"{k}={_show(v)}" for k, v in self.items)


@dataclass
class _Coverage:
    """What planning around refusals found and spent."""

    refusals: list[_Refusal] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # new rows the chart renders (to be judged)
    infeasible: list[tuple[Interaction, _Refusal]] = field(default_factory=list)
    uncovered: list[Interaction] = field(default_factory=list)  # left when the budget ran out
    renders: int = 0  # rows and probes rendered while planning
    exhausted: bool = False  # the budget ran out before every combination was covered or refused

    @property
    def partial(self) -> bool:
        return bool(self.uncovered)


def _show(level: Any) -> str:
    return ("true" if level else "false") if isinstance(level, bool) else str(level)


def _mentioned(message: str, factor: str) -> bool:
    """Does the chart's message name this factor (`a.b.enabled` as `a.b` or `b`, as a word)?"""
    parts = [p for p in factor.split(".") if p not in ("enabled", "enable", "create")]
    if not parts:
        return False
    tail = ".".join(parts[-2:]) if len(parts) > 1 else parts[-1]
    return any(re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", message)
               for word in {tail, parts[-1]} if len(word) >= 4)


class _Learner:
    def __init__(self, space: dict[str, tuple], render: Callable[[list[dict]], list[str | None]], budget: int):
        self.space = space
        self.defaults = {name: levels[0] for name, levels in space.items()}
        self._render = render
        self.budget = budget
        self.spent = 0
        self._known: dict[frozenset, str | None] = {}

    def render(self, rows: list[dict]) -> list[str | None]:
        if self.spent + len(rows) > self.budget:
            raise _OutOfBudget
        self.spent += len(rows)
        return self._render(rows)

    def refused(self, changes: Sequence[_Item]) -> str | None:
        key = frozenset(changes)
        if key not in self._known:
            self._known[key] = self.render([{**self.defaults, **dict(changes)}])[0]
        return self._known[key]

    def minimal(self, row: dict, message: str) -> _Refusal | None:
        """The smallest set of the row's moved factors the chart refuses on its own (bisection): first
        with the same message (the same guard; a smaller set may trip a guard that needs a factor the
        row moved), then with any."""
        changes = [(k, v) for k, v in row.items() if v != self.defaults[k]]
        self._known[frozenset(changes)] = message
        for same in (True, False):
            refuses = (lambda c: self.refused(c) == message) if same else self.refused
            core = self._bisect(changes, refuses, message)
            if core is not None:
                found = self.refused(core) or message
                return _Refusal(tuple(sorted(core + self._needed(core, found), key=str)), found)
        return None

    def _bisect(self, changes: list[_Item], refuses: Callable[[list[_Item]], Any], message: str) -> list[_Item] | None:
        hinted = [c for c in changes if _mentioned(message, c[0])]
        if hinted and len(hinted) < len(changes) and refuses(hinted):
            changes = hinted
        core: list[_Item] = []
        rest = list(changes)
        while not core or not refuses(core):
            if not rest:
                return None  # not monotone: nothing smaller explains the refusal
            low, high = 1, len(rest)  # the shortest prefix of `rest` that, with `core`, is refused
            while low < high:
                middle = (low + high) // 2
                if refuses(core + rest[:middle]):
                    high = middle
                else:
                    low = middle + 1
            core.append(rest[low - 1])
            rest = rest[:low - 1]
        return core

    def _needed(self, core: list[_Item], message: str) -> list[_Item]:
        """Factors the message names whose change makes `core` render: the guard needs them changed."""
        inside = {k for k, _ in core}
        needed = []
        for name in [n for n in self.space if n not in inside and _mentioned(message, n)][:3]:
            other = next(level for level in self.space[name] if level != self.defaults[name])
            if self.refused(core + [(name, other)]) is None:
                needed.append((name, self.defaults[name]))
        return needed


class _Rows:
    """Greedy rows over uncovered combinations that contain no forbidden tuple."""

    def __init__(self, space: dict[str, tuple], refusals: list[_Refusal]):
        self.space = space
        self.defaults = {name: levels[0] for name, levels in space.items()}
        self.by_factor: dict[str, list[_Refusal]] = {}
        self.made = 0
        for refusal in refusals:
            self.add(refusal)

    def add(self, refusal: _Refusal) -> None:
        for name, _ in refusal.items:
            self.by_factor.setdefault(name, []).append(refusal)

    def _violated(self, row: dict, refusal: _Refusal) -> bool:
        return all(row.get(k, self.defaults[k]) == v for k, v in refusal.items)

    def place(self, row: dict, items: Sequence[_Item]) -> dict | None:
        """`row` (a partial row) with `items` added, and free factors moved where a forbidden tuple
        needs it; None when that is impossible."""
        if any(k in row and row[k] != v for k, v in items):
            return None
        row = {**row, **dict(items)}
        pending = [k for k, _ in items]
        while pending:
            name = pending.pop()
            for refusal in self.by_factor.get(name, ()):
                if not self._violated(row, refusal):
                    continue
                free = [k for k, v in refusal.items if k not in row]  # at its default: move it
                if not free:
                    return None
                move = free[0]
                row[move] = next(lv for lv in self.space[move] if lv != self.defaults[move])
                pending.append(move)
        return row

    def next_row(self, remaining: list[Interaction]) -> tuple[dict, list[Interaction]]:
        """A row holding `remaining[0]`, every other factor at the level completing the most still
        uncovered combinations (AETG-style)."""
        row = self.place({}, remaining[0])
        if row is None:
            return {}, []
        by_factor: dict[str, list[Interaction]] = {}
        for combination in remaining:
            for name, _ in combination:
                by_factor.setdefault(name, []).append(combination)
        for name in sorted(self.space, key=lambda n: -len(by_factor.get(n, ()))):
            if name in row:
                continue
            levels = self.space[name]
            score = dict.fromkeys(levels, 0)
            for combination in by_factor.get(name, ()):  # the hot loop of planning: kept plain
                level, completes = None, True
                for k, v in combination:
                    if k == name:
                        level = v
                    elif row.get(k) != v:
                        completes = False
                        break
                if completes:
                    score[level] += 1
            # Ties alternate by factor and row (deterministic): always the default would make rows
            # that repeat each other's pairs.
            shift = (self.made + len(row)) % len(levels)
            for level in sorted(levels, key=lambda lv: (-score[lv], (levels.index(lv) - shift) % len(levels))):
                placed = self.place(row, ((name, level),))
                if placed is not None:
                    row = placed
                    break
        self.made += 1
        full = {**self.defaults, **row}
        return full, [c for c in remaining if all(full[k] == v for k, v in c)]


def learn_and_cover(space: dict[str, tuple], strength: int, rendered: Sequence[dict],
                    refused: Sequence[tuple[dict, str]], render: Callable[[list[dict]], list[str | None]],
                    budget: int, batch: int = 2) -> _Coverage:
    """Cover `space` at `strength` around what the chart refuses.

    `rendered`: rows already known to render (the plan's rows, the defaults); `refused`: rows the chart
    refused, with its message; `render(rows)` renders rows and returns, per row, the chart's refusal
    message or None; `budget`: how many rows planning may render (new rows and bisection probes)."""
    result = _Coverage()
    learner = _Learner(space, render, budget)
    rows = _Rows(space, [])

    def learn(row: dict, message: str) -> bool:
        refusal = learner.minimal(row, message)
        if refusal is None or refusal in result.refusals:
            return False
        result.refusals.append(refusal)
        rows.add(refusal)
        return True

    remaining = coverage_gaps(list(rendered), space, strength) if space else []
    checked = [0]  # refusals already applied to `remaining`

    def drop_infeasible(combinations: list[Interaction], every: bool = False) -> list[Interaction]:
        new = result.refusals if every else result.refusals[checked[0]:]
        checked[0] = len(result.refusals)
        kept = []
        for combination in combinations:
            refusal = next((r for r in new if r.within(combination)), None)
            if refusal is None:
                kept.append(combination)
            else:
                result.infeasible.append((combination, refusal))
        return kept

    try:
        for row, message in refused:
            if not any(r.within(list(row.items())) for r in result.refusals):
                learn(row, message)
        while True:
            remaining = drop_infeasible(remaining)
            if not remaining:
                break
            planned, left = [], list(remaining)
            for _ in range(batch):
                if not left:
                    break
                row, covers = rows.next_row(left)
                if not covers:  # no row can hold the first combination: left uncovered, said so
                    result.uncovered.append(left[0])
                    remaining.remove(left[0])
                    left = left[1:]
                    continue
                planned.append((row, covers))
                chosen = set(covers)
                left = [c for c in left if c not in chosen]
            if not planned:
                continue
            known = len(result.refusals)
            messages = learner.render([row for row, _ in planned])
            for (row, covers), message in zip(planned, messages):
                if message is None:
                    result.rows.append(row)
                    chosen = set(covers)
                    remaining = [c for c in remaining if c not in chosen]
                elif any(r.within(list(row.items())) for r in result.refusals[known:]):
                    continue  # planned in the same batch as the row that taught this refusal
                elif not learn(row, message) and result.refusals[known:] == []:
                    # a refusal nothing (new) smaller explains: its first combination is given up, so
                    # planning always ends
                    result.uncovered.append(covers[0])
                    remaining.remove(covers[0])
    except _OutOfBudget:
        result.exhausted = True
        result.uncovered = drop_infeasible(result.uncovered + remaining, every=True)
    result.renders = learner.spent
    return result



def coverage_lines(coverage: _Coverage | None, estimate=None, shown: int = 10) -> list[str]:
    """The --plan lines about planning around refusals: guards learned, combinations refused and
    those left uncovered (listed: the chart's coverage is partial), or, before anything rendered,
    whether the budget may run out."""
    if coverage is None:
        if estimate is not None and estimate.planning and estimate.planning >= estimate.planning_allowance:
            return [f"  budget: planning around the chart's refusals may need more than the {estimate.planning} "
                    f"render(s) its budget ({estimate.limit}) leaves; coverage will then be partial (listed)"]
        return []
    lines = []
    if coverage.refusals:
        lines.append(f"  learned: {len(coverage.refusals)} guard(s) from the chart's refusals ("
                     + "; ".join(r.describe() for r in coverage.refusals[:3])
                     + (" ..." if len(coverage.refusals) > 3 else "") + f"), {len(coverage.infeasible)} "
                     f"combination(s) they refuse, {len(coverage.rows)} row(s) planned around them, "
                     f"{coverage.renders} render(s) spent planning")
    if coverage.uncovered:
        why = "the render budget ran out" if coverage.exhausted else "no row the chart accepts could hold them"
        lines.append(f"  PARTIAL coverage: {len(coverage.uncovered)} combination(s) not covered ({why}):")
        lines += [f"    {', '.join(f'{k}={_show(v)}' for k, v in c)}" for c in coverage.uncovered[:shown]]
        if len(coverage.uncovered) > shown:
            lines.append(f"    ... and {len(coverage.uncovered) - shown} more (chartgate.json: "
                         "charts[].plan.uncovered_combinations)")
    return lines
