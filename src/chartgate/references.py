"""Which values paths a chart's templates can read, found statically (nothing is rendered).

A values path that no template of the chart (nor of the subchart it belongs to) can read cannot
change the render: a toggle there is not worth a render, and a `--set` on it can be dropped from a
render request. The scan is conservative - it may call a path referenced that is not, never the
reverse:
- `.Values.a.b` / `$.Values.a.b` reads `a.b` and everything under it (`with`, `range`, `toYaml` of a
  parent, a variable bound to it: all stay under the prefix);
- `index .Values "a" "b"` and `get .Values "a"` read `a.b` / `a`;
- `.Values` used whole (`toYaml .Values`, `include "x" .Values`, `.Values | ...`) reads every path of
  that chart's scope (and `global`), so nothing there is pruned;
- a subchart's reads are scoped under its values key (alias or name), except `.Values.global...`,
  which the umbrella's `global` feeds;
- what a `define` reads counts for every chart of the tree: any chart may `include` it with its own
  root context (a library subchart's helper reads the umbrella's values);
- Chart.yaml `condition:` paths of dependencies are read by Helm itself;
- every text file of a chart counts (templates, helpers, files/).

Values can also be reached in ways no static scan follows. When a template does any of these, the
scan gives up on the whole chart tree: every value counts as read (nothing is pruned, every toggle
is worth a render), and `References.unresolved` says where and why (`--plan` prints it):
- `Values` named as data rather than as the `.Values` field (`index . "Values"`, `get $ "Values"`);
- the root context (`.` where it is the root, `$`, a variable bound to either) handed whole to
  anything but `include`/`template` - `toYaml $`, `dict "context" $`, `index . (printf ...)` - whose
  callee the scan cannot read;
- `tpl`, which renders text the chart receives at render time (values) as a template;
- `.Subcharts`, which reaches a subchart's values from its parent.
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
    unresolved: list[str] = field(default_factory=list)  # "<file> <why>" of reads the scan cannot follow
    shared: set[Path_] = field(default_factory=set)  # paths read inside `define`s (any chart may include them)

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


# -- reads the scan cannot follow -----------------------------------------------------------------

_ACTION = re.compile(r"\{\{-?(.*?)-?\}\}", re.S)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`' + r"|'(?:[^'\\]|\\.)*'")
_VALUES_BY_NAME = re.compile(r"(?<![\w.])Values\b")
_TPL = re.compile(r"(?<![\w.$])tpl\b")
_SUBCHARTS = re.compile(r"\.Subcharts\b")
_BARE_DOT = re.compile(r"(?<![\w.)\]$])\.(?!\w)")
_BARE_DOLLAR = re.compile(r"\$(?![\w.])")
_ALIAS = re.compile(r"\A\s*\$(\w+)\s*:?=\s*[.$]\s*\Z")
_CALLEE = re.compile(r"\b(?:include|template)\s+S\s+\Z")  # after string literals became `S`
_CALL_END = re.compile(r"\s*(?:\)|\||\Z)")


def _dot_is_root(stack: list[str]) -> bool:
    """Inside `with`/`range`, `.` is a value; at the top of a file or in a `define`, it may be the root."""
    for kind in reversed(stack):
        if kind != "if":
            return kind != "value"
    return True


def unresolved_reads(text: str) -> str | None:
    """Why the values read by `text` (a template) cannot be found statically, or None when they can."""
    stack: list[str] = []
    aliases: set[str] = set()
    for match in _ACTION.finditer(text):
        raw = match.group(1).strip()
        if raw.startswith("/*"):
            continue
        if _VALUES_BY_NAME.search(raw):
            return f"names `Values` as data (`{{{{ {_short(raw)} }}}}`), not as the `.Values` field"
        if _TPL.search(raw):
            return (f"calls `tpl` (`{{{{ {_short(raw)} }}}}`), which renders text it receives at render time "
                    "as a template")
        if _SUBCHARTS.search(raw):
            return f"reads a subchart through `.Subcharts` (`{{{{ {_short(raw)} }}}}`)"
        code = _STRING.sub("S", raw)
        alias = _ALIAS.match(code)
        if alias and (code.rstrip().endswith("$") or _dot_is_root(stack)):
            aliases.add(alias.group(1))
            continue
        bare = [m.start() for m in _BARE_DOLLAR.finditer(code)]
        bare += [m.start() for name in aliases for m in re.finditer(rf"\${name}(?![\w.])", code)]
        if _dot_is_root(stack):
            bare += [m.start() for m in _BARE_DOT.finditer(code)]
        for at in bare:
            end = re.compile(r"[.$]\w*").match(code, at).end()
            if not (_CALLEE.search(code[:at]) and _CALL_END.match(code, end)):
                return (f"hands the root context whole to `{{{{ {_short(raw)} }}}}`, which may read any value "
                        "(only `include`/`template` of a named template can be followed)")
        keyword = code.split(None, 1)[0] if code else ""
        if keyword in ("define", "block"):
            stack.append("define")
        elif keyword in ("with", "range"):
            stack.append("value")
        elif keyword == "if":
            stack.append("if")
        elif keyword == "end" and stack:
            stack.pop()
    return None


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _defines(text: str) -> Iterable[str]:
    """The bodies of the `define`/`block` sections of a template file."""
    depth, start = 0, None
    for match in _ACTION.finditer(text):
        code = _STRING.sub("S", match.group(1).strip())
        keyword = code.split(None, 1)[0] if code else ""
        if keyword in ("define", "block", "with", "range", "if"):
            if keyword in ("define", "block") and depth == 0:
                start = match.end()
            depth += 1
        elif keyword == "end" and depth:
            depth -= 1
            if depth == 0 and start is not None:
                yield text[start:match.start()]
                start = None


def _text_files(chart: "Chart") -> Iterable[tuple[str, str]]:
    for rel, data in chart.files.files.items():
        if rel.startswith("charts/") or rel.endswith(_BINARY_SUFFIXES) or b"{{" not in data and b".Values" not in data:
            continue
        yield rel, data.decode("utf-8", errors="replace")


def chart_references(chart: "Chart", scope: Path_ = (), only=None) -> References:
    """Every values path `chart` and its vendored subcharts read, as paths of the umbrella's values
    (`scope` is the chart's own values key chain inside the umbrella). `only(text)` limits the scan
    to the files it accepts (e.g. templates that can render monitoring objects)."""
    found = References()
    shared: set[Path_] = set()  # read inside a `define`: by whichever chart includes it
    for rel, text in _text_files(chart):
        if only is not None and not only(text):
            continue
        why = unresolved_reads(text) if rel.startswith("templates/") else None
        if why:
            found.unresolved.append(f"{chart.origin}/{rel} {why}")
        paths, whole = template_references(text)
        if whole:
            found.whole.add(scope)
            if scope:
                found.whole.add(("global",))
        for path in paths:
            found.paths.add(path if path[:1] == ("global",) and scope else scope + path)
            if path[:1] == ("global",) and scope:
                found.paths.add(scope + path)
        for body in _defines(text):
            inner, inner_whole = template_references(body)
            shared |= inner
            if inner_whole:
                found.whole.add(())
    for dep in chart.dependencies if only is None else ():
        for condition in filter(None, (c.strip() for c in dep.condition.split(","))):
            found.paths.add(scope + tuple(condition.split(".")))
    for key, sub in chart.subcharts.items():
        inner = chart_references(sub, scope + (key,), only)
        found.paths |= inner.paths
        found.whole |= inner.whole
        found.unresolved += inner.unresolved
        shared |= inner.shared
    found.shared = shared
    if not scope:  # the whole tree is known: helpers count for every chart, and unresolved reads for all
        for chart_scope in _scopes(chart):
            found.paths |= {chart_scope + path for path in shared}
        if found.unresolved:
            found.whole.add(())
    return found


def _scopes(chart: "Chart", scope: Path_ = ()) -> Iterable[Path_]:
    yield scope
    for key, sub in chart.subcharts.items():
        yield from _scopes(sub, scope + (key,))
