"""JSONPaths as findings write them, and reading them back with jsonpath-ng.

A finding names its offending field by a JSONPath into the object it names: `$.spec.ports[0].port`,
with keys that are not plain identifiers in brackets: `$.data['ca.crt']`. `jsonpath(trail)` writes a
key trail that way; `trail_of(path)` reads one back and `resolve(body, path)` finds what it names,
both through jsonpath-ng, so a path chartgate writes is one any JSONPath tool reads the same way.

A place inside a document embedded in a string (a ConfigMap value holding JSON or YAML) has no
JSONPath of its own in the object: a finding there names the string holding the document, and its
message names the place inside (`json $.ingressDomain`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jsonpath_ng import Child, Fields, Index, JSONPath, Root
from jsonpath_ng import parse as _parse_jsonpath
from jsonpath_ng.exceptions import JSONPathError

Trail = tuple[str | int, ...]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# Identifiers jsonpath-ng's lexer reads as operators (`$.a.where` does not parse): always bracketed.
_RESERVED = frozenset({"where", "wherenot"})


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
def parse(path: str) -> JSONPath:
    """jsonpath-ng's expression for `path`; UnresolvedPath when it is not a JSONPath."""
    try:
        return _parse_jsonpath(path)
    except JSONPathError as exc:
        raise UnresolvedPath(f"{path!r} is not a JSONPath: {exc}") from None


def trail_of(path: str) -> Trail:
    """The keys and list indexes of a path naming one place: `$.data['ca.crt']` -> ("data", "ca.crt").

    UnresolvedPath for anything else (wildcards, slices, filters, text that is not a JSONPath)."""
    if not path.startswith("$"):
        raise UnresolvedPath(f"{path!r} does not start at the object's root `$`")
    trail: list[str | int] = []

    def walk(node: JSONPath) -> None:
        if isinstance(node, Root):
            return
        if isinstance(node, Child):
            walk(node.left)
            walk(node.right)
        elif isinstance(node, Fields) and len(node.fields) == 1 and node.fields[0] != "*":
            trail.append(node.fields[0])
        elif isinstance(node, Index) and len(node.indices) == 1:
            trail.append(node.indices[0])
        else:
            raise UnresolvedPath(f"{path!r} does not name one place ({node})")

    walk(parse(path))
    return tuple(trail)


_REQUIRED = object()


def resolve(body: Any, path: str, default: Any = _REQUIRED) -> Any:
    """The value `path` names in `body` (a rendered object's body, a values mapping), found by jsonpath-ng.

    A finding that a field is missing names the field to add: given a `default`, a path whose last
    key is absent from a mapping the object has resolves to `default`. Anything else that names
    nothing raises UnresolvedPath, naming the deepest part that exists.

    A path names a place in the object, never inside a document embedded in a string: a finding there
    names the string (its message names the place inside, e.g. `json $.ingressDomain`), so the path
    resolves to the string's text.
    """
    trail = trail_of(path)  # one place, from the root
    matches = parse(path).find(body)
    if matches:
        return matches[0].value
    if default is not _REQUIRED and trail and isinstance(trail[-1], str):
        parent = parse(jsonpath(trail[:-1])).find(body)
        if parent and isinstance(parent[0].value, dict):
            return default
    raise UnresolvedPath(f"{path} names nothing in the object ({_deepest(body, trail)})")


def up_to_missing(body: Any, path: str) -> str:
    """`path` up to its first key `body` lacks: the field to add, for a finding that something is
    missing (`$.spec.containers[0].resources.limits.memory` is `...resources.limits` when the
    container sets no limits). A path that resolves, or that a list index breaks, is returned as is."""
    trail = trail_of(path)
    parent = body
    for depth in range(1, len(trail) + 1):
        found = parse(jsonpath(trail[:depth])).find(body)
        if not found:
            addable = isinstance(trail[depth - 1], str) and isinstance(parent, dict)
            return jsonpath(trail[:depth]) if addable and depth < len(trail) else path
        parent = found[0].value
    return path


def _deepest(body: Any, trail: Trail) -> str:
    for depth in range(len(trail) - 1, 0, -1):
        if parse(jsonpath(trail[:depth])).find(body):
            return f"{jsonpath(trail[:depth])} exists, {jsonpath(trail[:depth + 1])} does not"
    return f"{jsonpath(trail[:1])} does not exist"
