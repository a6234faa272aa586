"""Fields a chart computes differently on every render (random passwords, generated certificates,
timestamps): found by rendering a scenario twice with the same Helm and comparing, so comparisons
between renders (Helm 3 against Helm 4) can leave them out instead of reporting noise.

Rendering twice costs a Helm run, so it is done only for charts whose templates call a function that
can produce a different value each time (SPRIG_NONDETERMINISTIC); any other chart renders the same
bytes every time."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .charts import Chart
    from .render import Render

SPRIG_NONDETERMINISTIC = re.compile(
    r"\b(randAlphaNum|randAlpha|randNumeric|randAscii|randBytes|randInt|uuidv4|genCA|genCAWithKey|genPrivateKey|"
    r"genSelfSignedCert|genSelfSignedCertWithKey|genSignedCert|genSignedCertWithKey|htpasswd|shuffle|now|"
    r"unixEpoch)\b")
MASK = "<nondeterministic>"


def may_be_nondeterministic(chart: "Chart") -> bool:
    return any(SPRIG_NONDETERMINISTIC.search(text) for text in chart.all_templates().values())


@dataclass(frozen=True)
class Nondeterminism:
    """What differed between two renders of the same inputs."""

    fields: dict[tuple, tuple[str, ...]] = field(default_factory=dict)  # object identity -> JSONPaths
    objects: frozenset[tuple] = frozenset()  # identities rendered only once (a random name)
    sources: dict[tuple, str] = field(default_factory=dict)  # identity -> resource id, for messages

    def __bool__(self) -> bool:
        return bool(self.fields or self.objects)

    def masked(self, manifest) -> dict:
        """The object's body with its nondeterministic fields replaced by a fixed marker."""
        paths = self.fields.get(manifest.identity())
        if not paths:
            return manifest.body
        body = copy.deepcopy(manifest.body)
        for path in paths:
            _replace(body, _parts(path))
        return body


def compare(first: "Render", second: "Render") -> Nondeterminism:
    one = {m.identity(): m for m in first.manifests}
    two = {m.identity(): m for m in second.manifests}
    fields = {key: tuple(sorted(set(differing_paths(one[key].body, two[key].body))))
              for key in one.keys() & two.keys()}
    fields = {key: paths for key, paths in fields.items() if paths}
    objects = frozenset(one.keys() ^ two.keys())
    sources = {key: (one.get(key) or two.get(key)).resource_id for key in set(fields) | objects}
    return Nondeterminism(fields, objects, sources)


def differing_paths(a: Any, b: Any, path: str = "$") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in a.keys() | b.keys():
            if key not in a or key not in b:
                found.append(f"{path}.{key}")
            else:
                found += differing_paths(a[key], b[key], f"{path}.{key}")
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [p for i, (x, y) in enumerate(zip(a, b)) for p in differing_paths(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def _parts(path: str) -> list:
    return [m.group(1) if m.group(1) is not None else int(m.group(2)) for m in _PART.finditer(path[1:])]


def _replace(node: Any, parts: list) -> None:
    for part in parts[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return
    try:
        node[parts[-1]] = MASK
    except (KeyError, IndexError, TypeError):
        pass
