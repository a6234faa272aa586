"""Helm values as plain data: coalescing (umbrella over subchart defaults) and dotted paths."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

from chartgate.core.yamlio import load_file

Path_ = tuple[str, ...]


def merge(base: Any, override: Any) -> Any:
    """Helm-style coalesce: mappings merge key by key, override wins, an explicit null deletes.

    The result shares the subtrees of `base` that `override` does not touch (values are read-only
    data everywhere in chartgate): a scenario's `--set` of one toggle copies the mappings on that
    toggle's path, not the chart's whole values tree - on charts with large upstream values that
    copy dominated planning, rendering and reports."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return copy.deepcopy(override)
    result = dict(base)
    for key, value in override.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def dotted(path: Path_) -> str:
    """Path as Helm writes it on the command line (`a.b\\.c` for a key containing a dot)."""
    return ".".join(part.replace(".", "\\.") for part in path)


def split_dotted(text: str) -> Path_:
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return tuple(parts)


_MISSING = object()


def get_path(data: Any, path: Path_, default: Any = _MISSING) -> Any:
    """The value at a values path; `default` where the path does not exist (KeyError without one)."""
    node = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            if default is _MISSING:
                raise KeyError(dotted(path))
            return default
        node = node[part]
    return node


def _set_path(data: dict, path: Path_, value: Any) -> dict:
    """Return a copy of `data` with `path` set to `value` (intermediate mappings are created); the
    mappings off the path are shared with `data`."""
    result = dict(data)
    node = result
    for part in path[:-1]:
        child = node.get(part)
        node[part] = dict(child) if isinstance(child, dict) else {}
        node = node[part]
    node[path[-1]] = copy.deepcopy(value)
    return result


def iter_leaves(data: Any, prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every non-mapping value with its path (lists are leaves)."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from iter_leaves(value, prefix + (str(key),))
    else:
        yield prefix, data


def with_files(values: dict, files: Iterable[Path]) -> dict:
    """`values` with each values file merged on top, in order (as `helm template -f a -f b`)."""
    for path in files:
        loaded = load_file(Path(path), what="values file")
        if loaded:
            values = merge(values, loaded)
    return values


def with_set(values: dict, dotted_path: str, value: Any) -> dict:
    """`values` after `--set-json dotted_path=value`: a mapping merges into what is there, anything
    else replaces it."""
    return merge(values, _set_path({}, split_dotted(dotted_path), value))


def _values_key_names(values: Any, extra: Iterable[str] = ()) -> set[str]:
    """Names a helpful error message may use for a values key: full dotted paths and last parts."""
    paths = set(extra)

    def walk(node: Any, prefix: Path_) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                paths.add(dotted(prefix + (str(key),)))
                walk(child, prefix + (str(key),))

    walk(values, ())
    return {name for path in paths for name in (path, path.rsplit(".", 1)[-1]) if len(name) >= 3}


def mentions_values_key(message: str, values: Any) -> bool:
    """Does `message` name a key of `values` (as `a.b.c` or its last part `c`)?"""
    import re
    words = set(re.findall(r"[\w.-]+", message)) | set(re.findall(r"\w+", message))
    return bool(words & _values_key_names(values))


def current_value(values: Any, path: Iterable[str]) -> tuple[bool, Any]:
    """(reachable, value at `path`): unreachable when a parent on the way is not a mapping (a list of
    objects, a string), so nothing may be set below it."""
    node = values
    for part in path:
        if node is None:
            return True, None
        if not isinstance(node, dict):
            return False, None
        node = node.get(part)
    return True, node


# --- what a scenario's input supplied ---------------------------------------------------------------
#
# A value that came in with the scenario (a ci/ or overlay values file, the cluster overlay, a
# HelmRelease's values, `extraObjects` a user wrote there) is the input's, not the chart's: a policy
# about what the chart hardcodes (domains, labels) must not report it. Any policy can ask.


def supplied_values(scenario) -> list[Any]:
    """The data the scenario supplies on top of the chart's defaults: each values file's content and
    each `--set` value, in order. Files are read once (by path and modification time)."""
    found = []
    for path in scenario.values_files:
        try:
            stat = Path(path).stat()
        except OSError:
            continue
        loaded = _load_values_file(str(path), stat.st_mtime_ns, stat.st_size)
        if loaded is not None:
            found.append(loaded)
    found.extend(value for _, value in scenario.set_values)
    return found


@lru_cache(maxsize=256)
def _load_values_file(path: str, mtime_ns: int, size: int) -> Any:
    try:
        return load_file(Path(path), what="values file")
    except Exception:  # noqa: BLE001 - an unreadable file supplies nothing; its render reports it
        return None


def supplied_strings(scenario) -> frozenset[str]:
    """Every string (mapping keys included) the scenario's input supplied, e.g. to tell a label or a
    host name the input wrote from one the chart's templates hardcode."""
    strings: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                strings.add(str(key))
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, str):
            strings.add(node)

    for data in supplied_values(scenario):
        walk(data)
    return frozenset(strings)
