"""Which values paths a chart's templates can read, found statically (nothing is rendered).

A values path that no template of the chart (nor of the subchart it belongs to) can read cannot
change the render: a toggle there is not worth a render, and a `--set` on it can be dropped from a
render request. The scan is conservative - it may call a path referenced that is not, never the
reverse:
- `.Values.a.b` / `$.Values.a.b` reads `a.b` and everything under it (`with`, `range`, `toYaml` of a
  parent, a variable bound to it: all stay under the prefix);
- `index .Values "a" "b"` and `get .Values "a"` read `a.b` / `a`;
- `.Values` used whole (`toYaml .Values`, `include "x" .Values`, `tpl ... .`, `.Values | ...`) reads
  every path of that chart's scope, so nothing there is pruned;
- a subchart's reads are scoped under its values key (alias or name), except `.Values.global...`,
  which the umbrella's `global` feeds;
- Chart.yaml `condition:` paths of dependencies are read by Helm itself;
- every text file of a chart counts (templates, helpers, files/ read with `.Files.Get | tpl`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from .charts import Chart

Path_ = tuple[str, ...]

# Every `.Values` counts, whatever precedes it: `.Values`, `$.Values`, `$root.Values` all read values.
_DOTTED = re.compile(r"\.Values((?:\.[A-Za-z_][\w-]*)*)(?![\w-])")
_INDEX = re.compile(r"\b(?:index|get)\s+\(?\s*\$?\w*\.Values((?:\.[A-Za-z_][\w-]*)*)\s*\)?((?:\s+\"[^\"]*\")+)")
_QUOTED = re.compile(r"\"([^\"]*)\"")
_BINARY_SUFFIXES = (".tgz", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".gz", ".zip", ".tar")


@dataclass
class References:
    """Values paths read by a chart tree, in the umbrella's values coordinates."""

    paths: set[Path_] = field(default_factory=set)
    whole: set[Path_] = field(default_factory=set)  # scopes read as a whole (`.Values` of a (sub)chart)

    def reads(self, path: Iterable[str]) -> bool:
        """Can some template observe the value at `path` (or anything under it)?"""
        path = tuple(path)
        if any(path[:len(scope)] == scope for scope in self.whole):
            return True
        return any(path[:len(ref)] == ref or ref[:len(path)] == path for ref in self._prefixes_of(path))

    def _prefixes_of(self, path: Path_) -> Iterable[Path_]:
        # A reference is relevant when it is a prefix of the path or lies under it.
        return (ref for ref in self._by_first.get(path[0] if path else "", ()))

    @cached_property
    def _by_first(self) -> dict[str, list[Path_]]:
        index: dict[str, list[Path_]] = {}
        for ref in self.paths:
            index.setdefault(ref[0], []).append(ref)
        return index


def template_references(text: str) -> tuple[set[Path_], bool]:
    """(paths read, whether `.Values` is used whole) in one template's text."""
    paths: set[Path_] = set()
    consumed: set[int] = set()
    for match in _INDEX.finditer(text):
        base = tuple(p for p in match.group(1).split(".") if p)
        keys = tuple(_QUOTED.findall(match.group(2)))
        paths.add(base + keys)
        consumed.add(text.find(".Values", match.start()))
    whole = False
    for match in _DOTTED.finditer(text):
        start = match.start()
        path = tuple(p for p in match.group(1).split(".") if p)
        if path:
            paths.add(path)
        elif start not in consumed:
            whole = True
    return paths, whole


def _text_files(chart: "Chart") -> Iterable[str]:
    for rel, data in chart.files.files.items():
        if rel.startswith("charts/") or rel.endswith(_BINARY_SUFFIXES) or b".Values" not in data:
            continue
        yield data.decode("utf-8", errors="replace")


def chart_references(chart: "Chart", scope: Path_ = (), only=None) -> References:
    """Every values path `chart` and its vendored subcharts read, as paths of the umbrella's values
    (`scope` is the chart's own values key chain inside the umbrella). `only(text)` limits the scan
    to the files it accepts (e.g. templates that can render monitoring objects)."""
    found = References()
    for text in _text_files(chart):
        if only is not None and not only(text):
            continue
        paths, whole = template_references(text)
        if whole:
            found.whole.add(scope)
        for path in paths:
            found.paths.add(path if path[:1] == ("global",) and scope else scope + path)
            if path[:1] == ("global",) and scope:
                found.paths.add(scope + path)
    for dep in chart.dependencies if only is None else ():
        for condition in filter(None, (c.strip() for c in dep.condition.split(","))):
            found.paths.add(scope + tuple(condition.split(".")))
    for key, sub in chart.subcharts.items():
        inner = chart_references(sub, scope + (key,), only)
        found.paths |= inner.paths
        found.whole |= inner.whole
    return found
