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
- Helm itself reads dependencies' `condition:` paths and `tags`, every value of a chart with a
  `values.schema.json` (it validates them) and of a subchart whose values a dependency imports
  (`import-values`);
- every text file of a chart counts (templates, helpers, files/).

Values can also be reached in ways no static scan follows. When a template does any of these, the
scan gives up on the whole chart tree: every value counts as read (nothing is pruned, every toggle
is worth a render), and `References.unresolved` says where and why (`--plan` prints it):
- `Values` named as data rather than as the `.Values` field (`index . "Values"`, `get $ "Values"`);
- the root context (`.` where it is the root, `$`, a variable bound to either, a dict key that
  carries it) handed whole to anything but a named template - `toYaml $`, `index . (printf ...)`,
  `$d := dict "root" $` - whose use the scan cannot read. Handing it to `include`/`template`, directly
  or in a `dict` built in the call (`include "x" (dict "root" .)`), is followed: the named template is
  scanned too, with the dict's key (`.root`) treated as the root;
- `tpl`, which renders text the chart receives at render time (values) as a template;
- `.Subcharts`, which reaches a subchart's values from its parent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from chartgate.discover.charts import Chart

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


def _template_references(text: str) -> tuple[set[Path_], bool]:
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
_ASSIGNMENT = re.compile(r"\A\s*\$(\w+)\s*:?=\s*")
# Where the root context may go: as the context of a named template of the tree (every one is
# scanned; the name a literal or computed, `include (print $.Template.BasePath "/cm.yaml") .`), or as
# a value of a `dict` built right there for it (`include "x.image" (dict "root" . "image" .i)`), whose
# key then carries the root inside the named template. String literals are `S<n>` by then.
_NAMED = r"\b(?:include|template)\s+(?:S\d+|\([^()]*\))\s+"
_CONTEXT = re.compile(_NAMED + r"\Z")
_CONTEXT_END = re.compile(r"\s*(?:\)|\||\Z)")
_DICT_VALUE = re.compile(_NAMED + r"\(\s*dict\b[^()]*\sS(\d+)\s+\Z")


def _dot_is_root(stack: list[str]) -> bool:
    """Inside `with`/`range`, `.` is a value; at the top of a file or in a `define`, it may be the root."""
    for kind in reversed(stack):
        if kind != "if":
            return kind != "value"
    return True


def _root_uses(text: str, carriers: frozenset[str]):
    """(action text, code, start, end, strings) of every place the root context is used whole: a bare
    `$`, a bare `.` where it may be the root, a variable bound to either, and a field that carries the
    root (`.root` of `dict "root" .`) used whole. `code` is the action with its string literals
    replaced by `S<n>` (`strings[n]` is the literal)."""
    stack: list[str] = []
    aliases: set[str] = set()
    alias_use = None  # a variable bound to the root, used whole
    carried = re.compile(r"[$\w.]*\.(?:%s)(?![\w.])" % "|".join(map(re.escape, sorted(carriers)))) \
        if carriers else None
    for match in _ACTION.finditer(text):
        raw = match.group(1).strip()
        if raw.startswith("/*"):
            continue
        dot_is_root = _dot_is_root(stack)
        if not (_BARE_DOLLAR.search(raw) or alias_use is not None and alias_use.search(raw)
                or dot_is_root and _BARE_DOT.search(raw) or carried is not None and carried.search(raw)):
            _track_scope(stack, raw)  # the common case, `{{ .Values.a | quote }}`: no root used whole
            continue
        strings: list[str] = []
        code = _STRING.sub(lambda m: f"S{strings.append(m.group(0)[1:-1]) or len(strings) - 1}", raw)
        spans = [(m.start(), m.end()) for m in _BARE_DOLLAR.finditer(code)]
        if alias_use is not None:
            spans += [(m.start(), m.end()) for m in alias_use.finditer(code)]
        if dot_is_root:
            spans += [(m.start(), m.end()) for m in _BARE_DOT.finditer(code)]
        if carried is not None:
            spans += [(m.start(), m.end()) for m in carried.finditer(code) if ".Values" not in m.group(0)]
        assignment = _ASSIGNMENT.match(code)
        if assignment and len(spans) == 1 and spans[0] == (assignment.end(), len(code.rstrip())):
            aliases.add(assignment.group(1))  # `$root := .`: a name for the root, followed from here on
            alias_use = re.compile(r"\$(?:%s)(?![\w.])" % "|".join(sorted(aliases)))
        else:
            for start, end in sorted(spans):
                yield raw, code, start, end, strings
        _track_scope(stack, code)


def _track_scope(stack: list[str], action: str) -> None:
    """What `.` is after `action`: blocks push their kind, `end` pops one."""
    keyword = action.split(None, 1)[0] if action else ""
    if keyword in ("define", "block"):
        stack.append("define")
    elif keyword in ("with", "range"):
        stack.append("value")
    elif keyword == "if":
        stack.append("if")
    elif keyword == "end" and stack:
        stack.pop()


def _root_carriers(text: str, carriers: frozenset[str] = frozenset()) -> set[str]:
    """Keys of `dict`s that hand the root context to a named template in `text`."""
    found = set()
    for _, code, start, _, strings in _root_uses(text, carriers):
        key = _DICT_VALUE.search(code[:start])
        if key:
            found.add(strings[int(key.group(1))])
    return found


def _unresolved_reads(text: str, carriers: frozenset[str] = frozenset()) -> str | None:
    """Why the values read by `text` (a template) cannot be found statically, or None when they can.
    `carriers`: the dict keys that hand the root context to named templates anywhere in the tree."""
    by_name = _VALUES_BY_NAME.search(text) or _TPL.search(text) or _SUBCHARTS.search(text)
    for match in _ACTION.finditer(text) if by_name else ():  # the text as a whole first: the common case
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
    for raw, code, start, end, _ in _root_uses(text, carriers):
        prefix = code[:start]
        if not (_CONTEXT.search(prefix) and _CONTEXT_END.match(code, end) or _DICT_VALUE.search(prefix)):
            return (f"hands the root context whole to `{{{{ {_short(raw)} }}}}`, which may read any value "
                    "(only `include`/`template` of a named template can be followed)")
    return None


def _tree_carriers(texts: list[str]) -> frozenset[str]:
    """Every dict key that carries the root context into a named template, across a chart tree's
    templates (a carried root can be handed on in another dict: followed to a fixed point)."""
    carriers: frozenset[str] = frozenset()
    while True:
        found = carriers.union(*(_root_carriers(text, carriers) for text in texts))
        if found == carriers:
            return carriers
        carriers = frozenset(found)


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


def chart_references(chart: "Chart", scope: Path_ = (), only=None, unfollowed: dict | None = None) -> References:
    """Every values path `chart` and its vendored subcharts read, as paths of the umbrella's values
    (`scope` is the chart's own values key chain inside the umbrella). `only(text)` limits the scan
    to the files it accepts (e.g. templates that can render monitoring objects)."""
    found = References()
    unfollowed = _unfollowed(chart) if unfollowed is None else unfollowed
    shared: set[Path_] = set()  # read inside a `define`: by whichever chart includes it
    for rel, (text, scan) in _file_scans(chart).items():
        if only is not None and not only(text):
            continue
        why = unfollowed.get((chart.origin, rel))
        if why:
            found.unresolved.append(f"{chart.origin}/{rel} {why}")
        if scan.whole:
            found.whole.add(scope)
            if scope:
                found.whole.add(("global",))
        for path in scan.paths:
            found.paths.add(path if path[:1] == ("global",) and scope else scope + path)
            if path[:1] == ("global",) and scope:
                found.paths.add(scope + path)
        shared |= scan.shared
        if scan.shared_whole:
            found.whole.add(())
    for dep in chart.dependencies if only is None else ():
        for condition in filter(None, (c.strip() for c in dep.condition.split(","))):
            found.paths.add(scope + tuple(condition.split(".")))
    if only is None:
        _read_by_helm(chart, scope, found)
    for key, sub in chart.subcharts.items():
        inner = chart_references(sub, scope + (key,), only, unfollowed)
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


@dataclass(frozen=True)
class _FileScan:
    paths: set[Path_]
    whole: bool
    shared: set[Path_]  # read inside its `define`s
    shared_whole: bool


def _file_scans(chart: "Chart") -> dict[str, tuple[str, _FileScan]]:
    """{file: (text, what it reads)} of one chart's own text files, scanned once per chart."""
    known = chart.__dict__.get("_file_scans")
    if known is None:
        known = {}
        for rel, text in _text_files(chart):
            paths, whole = _template_references(text)
            shared, shared_whole = set(), False
            for body in _defines(text):
                inner, inner_whole = _template_references(body)
                shared |= inner
                shared_whole = shared_whole or inner_whole
            known[rel] = (text, _FileScan(paths, whole, shared, shared_whole))
        chart.__dict__["_file_scans"] = known
    return known


def _unfollowed(chart: "Chart") -> dict[tuple[str, str], str]:
    """{(chart origin, template): why} of the templates of a chart tree whose reads the scan cannot
    follow. Computed once per chart (planning and rendering both ask; the scan walks every action)."""
    known = chart.__dict__.get("_unfollowed_reads")
    if known is None:
        templates = [(sub.origin, rel, text) for sub in _charts_of(chart)
                     for rel, (text, _) in _file_scans(sub).items() if rel.startswith("templates/")]
        carriers = _tree_carriers([text for _, _, text in templates])
        known = {(origin, rel): why for origin, rel, text in templates
                 for why in [_unresolved_reads(text, carriers)] if why}
        chart.__dict__["_unfollowed_reads"] = known
    return known


def _read_by_helm(chart: "Chart", scope: Path_, found: References) -> None:
    """Values Helm itself reads before any template runs: a `values.schema.json` validates every value
    of its chart (a `--set` it refuses fails the render, read or not); a dependency's `tags` switch it
    on or off; `import-values` copies a subchart's values into its parent's."""
    if "values.schema.json" in chart.files.files:
        found.whole.add(scope)
        if scope:
            found.whole.add(("global",))
    raw = chart.chart_yaml.get("dependencies")
    if chart.dependencies_file != "Chart.yaml":
        raw = (chart.files.yaml(chart.dependencies_file, required=False) or {}).get("dependencies")
    for entry in raw if isinstance(raw, list) else ():
        if not isinstance(entry, dict):
            continue
        tags = entry.get("tags")
        for tag in tags if isinstance(tags, list) else ():
            found.paths.update({("tags", str(tag)), scope + ("tags", str(tag))})
        if entry.get("import-values"):
            found.whole.add(scope + (str(entry.get("alias") or entry.get("name")),))


def _charts_of(chart: "Chart") -> Iterable["Chart"]:
    yield chart
    for sub in chart.subcharts.values():
        yield from _charts_of(sub)


def _scopes(chart: "Chart", scope: Path_ = ()) -> Iterable[Path_]:
    yield scope
    for key, sub in chart.subcharts.items():
        yield from _scopes(sub, scope + (key,))
