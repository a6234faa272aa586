"""Where in the chart's own files a finding points: the file a `# Source:` path names and, when it can
be found without guessing, the line.

A line is claimed only when the JSONPath's chain of mapping keys ends on exactly one line of the file,
each key nested inside the previous one (intermediate levels may be skipped: `toYaml`/`include`
output and list items are not in the file). Template directives, comments and blank lines are
ignored, so YAML-shaped Helm templates work as well as plain YAML.

Each file is read and indexed once (one pass over its lines: every key line with the chain of keys
it is nested in), and each (file, key chain) is looked up once, so locating N findings costs
O(file sizes + N), not O(file size x N).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from chartgate.core.jsonpaths import keys_of

_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<dashes>(?:- +)*)(?P<quote>[\"']?)(?P<key>[^\s\"':#{}][^\"':]*?)(?P=quote) *:(?:\s|$)")


def _jsonpath_keys(path: str) -> list[str]:
    """The mapping keys of a JSONPath, outermost first: `$.spec.ports[0].port` -> [spec, ports, port].

    The path is read by jsonpath-ng (`chartgate.core.jsonpaths.keys_of`): list indexes and filters are
    left out (a list item is not a key in the file); text that is not a JSONPath has no keys, so no line."""
    return keys_of(path or "")


class _KeyIndex:
    """Every key line of one YAML(-shaped) file with the keys of the blocks it is nested in."""

    def __init__(self, text: str):
        #: key -> [(1-based line, keys of the enclosing blocks, outermost first)]
        self.by_key: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        self._memo: dict[tuple[str, ...], int | None] = {}
        stack: list[tuple[int, str]] = []  # open blocks: (indent their content starts at, key)
        for number, raw in enumerate(text.splitlines(), start=1):
            content = raw.lstrip(" ")
            if not content.strip() or content.startswith(("#", "{{")):
                continue
            indent = len(raw) - len(content)
            is_item = content.startswith("- ") or content.rstrip() == "-"
            # A line leaves every open block whose content starts deeper, or at its own indent unless it
            # is a compact `- item` (which still belongs to the parent key). Blocks nest, so pop from the top.
            while stack and (indent < stack[-1][0] or (indent == stack[-1][0] and not is_item)):
                stack.pop()
            match = _KEY_LINE.match(raw)
            if match:
                key = match["key"]
                self.by_key.setdefault(key, []).append((number, tuple(k for _, k in stack)))
                stack.append((len(match["indent"]) + len(match["dashes"]), key))

    def line(self, keys: list[str] | tuple[str, ...]) -> int | None:
        """The line where the nested chain of `keys` ends, if exactly one such line exists."""
        keys = tuple(keys)
        if not keys:
            return None
        if keys not in self._memo:
            ends = {number for number, parents in self.by_key.get(keys[-1], ())
                    if _is_subsequence(keys[:-1], parents)}
            self._memo[keys] = ends.pop() if len(ends) == 1 else None
        return self._memo[keys]


def _is_subsequence(wanted: tuple[str, ...], chain: tuple[str, ...]) -> bool:
    it = iter(chain)
    return all(any(key == candidate for candidate in it) for key in wanted)


def _find_key_line(text: str, keys: list[str]) -> int | None:
    """The 1-based line where the nested chain of `keys` ends in `text`, if exactly one exists.

    A chain that cannot be followed (keys produced by `toYaml`, say) or that ends on several lines gives None.
    """
    return _KeyIndex(text).line(keys) if keys else None


@dataclass
class _Locator:
    """Maps a finding's template (a `# Source:` path or chart file) to a file and, when found, a line."""

    charts: dict[str, Path]  # chart name -> chart directory
    root: Path  # paths are reported relative to this directory (the run's working directory)
    _indexes: dict[Path, _KeyIndex | None] = field(default_factory=dict)

    @classmethod
    def for_report(cls, report: dict) -> "_Locator":
        charts = {c["name"]: Path(c["path"]) for c in report.get("charts", []) if c.get("path")}
        return cls(charts, Path(report.get("working_dir") or os.getcwd()))

    def file_for(self, chart: str, template: str) -> Path | None:
        chart_dir = self.charts.get(chart)
        if chart_dir is None:
            return None
        parts = PurePosixPath(template or "").parts
        if len(parts) >= 2:  # `<chart name>/templates/x.yaml`, `<chart name>/charts/<sub>/templates/x.yaml`
            candidate = chart_dir.joinpath(*parts[1:])
            if candidate.is_file():
                return candidate
        if template:  # a file of its own: a golden file, an overlay (absolute or relative to the root)
            candidate = Path(template) if Path(template).is_absolute() else self.root / template
            if candidate.is_file():
                return candidate
        return chart_dir / "Chart.yaml"  # chart-level finding, or a file only inside a packaged subchart

    def index(self, path: Path) -> _KeyIndex | None:
        if path not in self._indexes:
            try:
                self._indexes[path] = _KeyIndex(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                self._indexes[path] = None
        return self._indexes[path]

    def line_for(self, path: Path, finding: dict) -> int | None:
        if finding.get("line"):
            return int(finding["line"])
        keys = _jsonpath_keys(finding.get("path") or "")
        if not keys or path.name == "Chart.yaml":
            return None
        index = self.index(path)
        if index is None:
            return None
        line = index.line(keys)
        if line is None and path.name == "values.yaml" and path.parent.parent.name == "charts" \
                and keys[0] == path.parent.name:
            line = index.line(keys[1:])  # umbrella path `$.<sub>.x` in the subchart's own values
        return line

    def relative(self, path: Path) -> str:
        """`path` relative to the root (POSIX), or an absolute `file://` URI when it lies outside."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.resolve().as_uri()


def attach_locations(report: dict) -> None:
    """Give every defect of `report` its `file` (relative to the working directory, or a `file://` URI)
    and `line` (or None). Done once, where the charts are on disk, so that the SARIF renderer and
    `chartgate merge` need no chart files."""
    locator = _Locator.for_report(report)
    for defect in report.get("defects", []):
        path = locator.file_for(defect["chart"], defect.get("template") or "")
        if path is None:
            defect["file"], defect["line"] = None, defect.get("line")
            continue
        defect["file"] = locator.relative(path)
        defect["line"] = locator.line_for(path, defect)
