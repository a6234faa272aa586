"""t-wise covering arrays: few rows in which every combination of levels of every t factors appears.

Pure functions, no randomness: the same factors (same names, same order, same levels) always give the
same rows. The construction is IPOG (In-Parameter-Order-General; Lei, Kacker, Kuhn, Okun, Lawrence,
"IPOG: A General Strategy for T-Way Software Testing", 2007):

1. order the factors by level count, largest first (ties keep their given order);
2. start with every combination of the first t factors;
3. add the remaining factors one at a time: *horizontal growth* gives each existing row the level of
   the new factor that covers the most still-missing t-tuples, then *vertical growth* places each
   tuple still missing into a row whose free ("don't care") cells allow it, or into a new row.

Cells still free at the end take the factor's first level (for toggles: their default, by the
planner's convention). When the full product is small (<= `exhaustive_threshold`) the full product is
returned instead: cheaper to reason about and no weaker.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Hashable, Mapping, Sequence

_Row = dict[str, Any]
#: A t-tuple of (factor name, level) pairs, in factor order.
Interaction = tuple[tuple[str, Any], ...]

DEFAULT_STRENGTH = 2
DEFAULT_EXHAUSTIVE_THRESHOLD = 32  # render every combination up to this many (setting exhaustive-threshold)

_FREE = -1  # a "don't care" cell during construction


def exhaustive_size(factors: Mapping[str, Sequence[Hashable]]) -> int:
    """Rows in the full product of the factors' levels (1 for no factors: the single empty row)."""
    return math.prod(len(levels) for levels in factors.values())


def is_exhaustive(factors: Mapping[str, Sequence[Hashable]], strength: int, threshold: int) -> bool:
    """Whether `covering_array` returns the full product for these arguments."""
    return exhaustive_size(factors) <= threshold or len(factors) <= strength


def _validate(factors: Mapping[str, Sequence[Hashable]], strength: int) -> None:
    if strength < 1:
        raise ValueError(f"covering strength must be >= 1, given {strength}")
    for name, levels in factors.items():
        if len(levels) == 0:
            raise ValueError(f"factor {name!r} has no levels; give it at least one")
        # `in`/`==` semantics: 1 and True are the same level, as they would be for a dict key.
        if len(set(levels)) != len(levels):
            raise ValueError(f"factor {name!r} lists a level twice: {list(levels)!r}")


def covering_array(factors: Mapping[str, Sequence[Hashable]], strength: int = DEFAULT_STRENGTH, *,
                   exhaustive_threshold: int = DEFAULT_EXHAUSTIVE_THRESHOLD) -> list[_Row]:
    """Rows ({factor: level}) covering every t-way combination of levels, t = `strength`.

    Exhaustive (the full product, in itertools.product order) when the product has at most
    `exhaustive_threshold` rows or when there are no more than t factors; IPOG otherwise.
    """
    _validate(factors, strength)
    names = list(factors)
    if is_exhaustive(factors, strength, exhaustive_threshold):
        return [dict(zip(names, combo)) for combo in itertools.product(*(factors[n] for n in names))]
    order = sorted(range(len(names)), key=lambda i: -len(factors[names[i]]))  # stable: ties keep order
    sizes = [len(factors[names[i]]) for i in order]
    column = {factor: col for col, factor in enumerate(order)}
    # Back to the caller's factor order; a cell left free takes the factor's first level.
    return [{name: factors[name][max(row[column[i]], 0)] for i, name in enumerate(names)}
            for row in _ipog(sizes, strength)]


def _ipog(sizes: list[int], t: int) -> list[list[int]]:
    """IPOG over level indices; column c has sizes[c] levels. Returns rows of indices (_FREE allowed)."""
    rows = [list(combo) for combo in itertools.product(*(range(n) for n in sizes[:t]))]
    for new in range(t, len(sizes)):
        missing = _tuples_with(new, sizes, t)
        _grow_horizontally(rows, sizes[new], missing)
        _grow_vertically(rows, new, missing)
    return rows


#: Still-uncovered t-tuples that involve the column being added: for each choice of t-1 earlier
#: columns, the set of (their levels..., new column's level). Emptied entries are deleted.
_Missing = dict[tuple[int, ...], set[tuple[int, ...]]]


def _tuples_with(new: int, sizes: list[int], t: int) -> _Missing:
    return {others: set(itertools.product(*(range(sizes[c]) for c in (*others, new))))
            for others in itertools.combinations(range(new), t - 1)}


def _grow_horizontally(rows: list[list[int]], levels: int, missing: _Missing) -> None:
    for row in rows:
        # The row's part of each candidate tuple is fixed; only the new column's level varies.
        candidates = [(others, prefix) for others in missing
                      if _FREE not in (prefix := tuple(row[c] for c in others))]
        best_level, best_hits = 0, []
        for level in range(levels):
            hits = [(others, key) for others, prefix in candidates
                    if (key := prefix + (level,)) in missing[others]]
            if len(hits) > len(best_hits):  # strict: ties keep the lowest level, for determinism
                best_level, best_hits = level, hits
        row.append(best_level)
        for others, key in best_hits:
            missing[others].discard(key)
            if not missing[others]:
                del missing[others]


def _grow_vertically(rows: list[list[int]], new: int, missing: _Missing) -> None:
    extra_start = len(rows)
    for others, levels in sorted((o, lv) for o, found in missing.items() for lv in found):
        cols = (*others, new)
        # Rows added here come first: they are the ones with free cells to fill.
        for row in itertools.chain(rows[extra_start:], rows[:extra_start]):
            if all(row[c] in (_FREE, v) for c, v in zip(cols, levels)):
                break
        else:
            row = [_FREE] * (new + 1)
            rows.append(row)
        for c, v in zip(cols, levels):
            row[c] = v


def coverage_gaps(rows: Sequence[Mapping[str, Any]], factors: Mapping[str, Sequence[Hashable]],
                  strength: int = DEFAULT_STRENGTH) -> list[Interaction]:
    """Every t-way combination of levels that no row contains (empty: the rows cover strength t).

    A row missing a factor, or holding a value outside the factor's levels, covers nothing for it.
    """
    _validate(factors, strength)
    names = list(factors)
    t = min(strength, len(names))
    gaps: list[Interaction] = []
    for group in itertools.combinations(names, t):
        seen = {tuple(row.get(n, _Absent) for n in group) for row in rows}
        for levels in itertools.product(*(factors[n] for n in group)):
            if levels not in seen:
                gaps.append(tuple(zip(group, levels)))
    return gaps


class _Absent:
    """Stands in for a factor a row does not set (never equal to a level)."""
