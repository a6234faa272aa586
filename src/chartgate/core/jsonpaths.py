"""JSONPaths as findings write them, and reading them back with jsonpath-ng.

A finding names its offending field by a JSONPath into the object it names: `$.spec.ports[0].port`,
with keys that are not plain identifiers in brackets: `$.data['ca.crt']`, and a list entry by index
or by a filter on its name (`$.dependencies[?(@.name=='redis')]`). `jsonpath(trail)` writes a key
trail; `resolve(body, path)` finds what a path names, `trail_of(path)` and `keys_of(path)` read its
parts - all through jsonpath-ng's (extended) parser, so a path chartgate writes is one any JSONPath
tool reads the same way.

A place inside a document embedded in a string (a ConfigMap value holding JSON or YAML) has no
JSONPath of its own in the object: a finding there names the string holding the document, and its
message names the place inside (`json $.ingressDomain`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jsonpath_ng import Child, Fields, Index, JSONPath, Root
from jsonpath_ng.exceptions import JSONPathError
from jsonpath_ng.ext import parse as _parse_jsonpath
from jsonpath_ng.ext.filter import Filter

Trail = tuple[str | int, ...]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# Identifiers jsonpath-ng's lexer reads as operators (`$.a.where` does not parse): always bracketed.
_RESERVED = frozenset({"where", "wherenot"})
_REQUIRED = object()


class UnresolvedPath(LookupError):
    """A JSONPath that does not parse, or names nothing in the object it is applied to."""


def jsonpath(trail: Trail) -> str:
    """`$.spec.ports[0].port`; keys that are not identifiers are bracketed: `$.data['config.yaml']`."""
    out = "$"
    for part in trail:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part) and part not in _RESERVED:
            out += f".{part}"
        else:  # jsonpath-ng's quoted keys: a backslash escapes the next character
            out += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return out


@lru_cache(maxsize=4096)
def _parse(path: str) -> JSONPath:
    """jsonpath-ng's expression for `path`, which must start at the object's root `$`;
    UnresolvedPath when it is not such a JSONPath."""
    if not path.startswith("$"):
        raise UnresolvedPath(f"{path!r} does not start at the object's root `$`")
    try:
        return _parse_jsonpath(path)
    except JSONPathError as exc:
        raise UnresolvedPath(f"{path!r} is not a JSONPath: {exc}") from None


def _steps(path: str) -> list[JSONPath]:
    """The steps of `path` after `$`, outermost first; UnresolvedPath for anything but a chain of
    single keys, single indexes and filters."""
    steps: list[JSONPath] = []

    def walk(node: JSONPath) -> None:
        if isinstance(node, Child):
            walk(node.left)
            walk(node.right)
        elif isinstance(node, Fields) and len(node.fields) == 1 \
                or isinstance(node, Index) and len(node.indices) == 1 or isinstance(node, Filter):
            # (`$.*` is a Wildcard node, not a key; a key named `*` is written `$['*']`)
            steps.append(node)
        elif not isinstance(node, Root):
            raise UnresolvedPath(f"{path!r} does not name one place ({node})")

    walk(_parse(path))
    return steps


def trail_of(path: str) -> Trail:
    """The keys and list indexes of a path: `$.data['ca.crt']` -> ("data", "ca.crt").

    UnresolvedPath for a path that is not a chain of single keys and indexes (wildcards, slices,
    filters, text that is not a JSONPath)."""
    trail: list[str | int] = []
    for step in _steps(path):
        if isinstance(step, Filter):
            raise UnresolvedPath(f"{path!r} selects list entries by a filter, not by index")
        trail.append(step.fields[0] if isinstance(step, Fields) else step.indices[0])
    return tuple(trail)


def keys_of(path: str) -> list[str]:
    """The mapping keys of a path, outermost first (indexes and filters left out):
    `$.spec.ports[0].port` -> [spec, ports, port]. Empty for text that is not such a JSONPath."""
    try:
        return [step.fields[0] for step in _steps(path) if isinstance(step, Fields)]
    except UnresolvedPath:
        return []


def resolve(body: Any, path: str, default: Any = _REQUIRED) -> Any:
    """The value `path` names in `body` (a rendered object's body, a values mapping), found by jsonpath-ng.

    A finding that a field is missing names the field to add: given a `default`, a path whose last
    key is absent from a mapping the object has resolves to `default`. Anything else that names
    nothing raises UnresolvedPath, naming the deepest part that exists.

    A path names a place in the object, never inside a document embedded in a string: a finding there
    names the string (its message names the place inside, e.g. `json $.ingressDomain`), so the path
    resolves to the string's text.
    """
    expression, steps = _parse(path), _steps(path)
    matches = expression.find(body)
    if matches:
        return matches[0].value
    if default is not _REQUIRED and isinstance(expression, Child) and isinstance(steps[-1], Fields):
        parents = expression.left.find(body)
        if parents and isinstance(parents[0].value, dict):
            return default
    raise UnresolvedPath(f"{path} names nothing in the object ({_deepest(body, expression, steps)})")


def _deepest(body: Any, expression: JSONPath, steps: list[JSONPath]) -> str:
    """Which part of a path that names nothing does exist: `$.spec exists, $.spec.x does not`."""
    depth, missing = len(steps), expression
    while isinstance(missing, Child):  # `missing` is the first `depth` steps
        if missing.left.find(body):
            return f"{_spelled(steps[:depth - 1])} exists, {_spelled(steps[:depth])} does not"
        depth, missing = depth - 1, missing.left
    return f"{_spelled(steps[:1])} does not exist"


def _spelled(steps: list[JSONPath]) -> str:
    return "$" + "".join(jsonpath((step.fields[0],))[1:] if isinstance(step, Fields)
                         else f"[{step.indices[0]}]" if isinstance(step, Index) else str(step) for step in steps)


def up_to_missing(body: Any, path: str) -> str:
    """`path` up to its first key `body` lacks: the field to add, for a finding that something is
    missing (`$.spec.containers[0].resources.limits.memory` is `...resources.limits` when the
    container sets no limits). A path that resolves, that a list index breaks, or that is not a
    chain of keys and indexes is returned as is."""
    try:
        trail = trail_of(path)
    except UnresolvedPath:
        return path
    parent = body
    for depth in range(1, len(trail) + 1):
        found = _parse(jsonpath(trail[:depth])).find(body)
        if not found:
            addable = isinstance(trail[depth - 1], str) and isinstance(parent, dict)
            return jsonpath(trail[:depth]) if addable and depth < len(trail) else path
        parent = found[0].value
    return path
