"""Fields a chart computes differently on every render (random passwords, generated certificates,
timestamps): found by rendering a scenario twice with the same Helm and comparing, so comparisons
between renders (Helm 3 against Helm 4) can leave them out instead of reporting noise.

Rendering twice costs a Helm run, so it is done only for charts whose templates call a function that
can produce a different value each time (_SPRIG_NONDETERMINISTIC); any other chart renders the same
bytes every time.

Fields are kept as key trails (`("data", "ca.crt")`), never as parsed JSONPath text: a key with a dot
in it is one key. `masked` is the one masking function both HELM-001 and HELM-002 rely on.

A template that reads the existing object with `lookup` and generates a value only when there is none
keeps that value across upgrades: under `helm template` (no cluster) it differs on every render, but
it is not regenerated on `helm upgrade` (`kept`)."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chartgate.parse.dnsnames import jsonpath  # `$.data['ca.crt']`, `$.spec.containers[0].image`

if TYPE_CHECKING:
    from chartgate.discover.charts import Chart
    from chartgate.render.renderer import Render

_SPRIG_NONDETERMINISTIC = re.compile(
    r"\b(randAlphaNum|randAlpha|randNumeric|randAscii|randBytes|randInt|uuidv4|genCA|genCAWithKey|genPrivateKey|"
    r"genSelfSignedCert|genSelfSignedCertWithKey|genSignedCert|genSignedCertWithKey|htpasswd|shuffle|now|"
    r"unixEpoch)\b")
_MASK = "<nondeterministic>"
_DEFINE = re.compile(r"\{\{-?\s*define\s+\"([^\"]+)\"")
_INCLUDE = re.compile(r"\b(?:include|template)\s+\(?\s*\"([^\"]+)\"")
_LOOKUP = re.compile(r"\blookup\s+\"")

Trail = tuple  # mapping keys and list indexes from the object's root


def may_be_nondeterministic(chart: "Chart") -> bool:
    return any(_SPRIG_NONDETERMINISTIC.search(text) for text in chart.all_templates().values())


@dataclass(frozen=True)
class Nondeterminism:
    """What differed between two renders of the same inputs."""

    fields: dict[tuple, tuple[Trail, ...]] = field(default_factory=dict)  # object identity -> key trails
    objects: frozenset[tuple] = frozenset()  # identities rendered only once (a random name)
    sources: dict[tuple, str] = field(default_factory=dict)  # identity -> resource id, for messages
    kept: frozenset[tuple] = frozenset()  # identities whose template keeps its values with `lookup`

    def __bool__(self) -> bool:
        return bool(self.fields or self.objects)

    def masked(self, manifest) -> dict:
        """The object's body with its nondeterministic fields replaced by a fixed marker."""
        paths = self.fields.get(manifest.identity())
        if not paths:
            return manifest.body
        body = copy.deepcopy(manifest.body)
        for trail in paths:
            _replace(body, trail)
        return body


def compare(first: "Render", second: "Render", kept_sources: frozenset[str] = frozenset()) -> Nondeterminism:
    one = {m.identity(): m for m in first.manifests}
    two = {m.identity(): m for m in second.manifests}
    fields = {key: tuple(sorted(set(differing_paths(one[key].body, two[key].body)), key=jsonpath))
              for key in one.keys() & two.keys()}
    fields = {key: paths for key, paths in fields.items() if paths}
    objects = frozenset(one.keys() ^ two.keys())
    sources = {key: (one.get(key) or two.get(key)).resource_id for key in set(fields) | objects}
    kept = frozenset(key for key in set(fields) | objects if (one.get(key) or two.get(key)).source in kept_sources)
    return Nondeterminism(fields, objects, sources, kept)


def differing_paths(a: Any, b: Any, trail: Trail = ()) -> list[Trail]:
    """Key trails of the leaves that differ (a key on one side only, or a list of another length,
    differs as a whole)."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in a.keys() | b.keys():
            if key not in a or key not in b:
                found.append(trail + (key,))
            else:
                found += differing_paths(a[key], b[key], trail + (key,))
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [p for i, (x, y) in enumerate(zip(a, b)) for p in differing_paths(x, y, trail + (i,))]
    return [] if a == b else [trail]


def value_at(body: Any, trail: Trail, missing: Any = None) -> Any:
    """The value at a key trail of a body (`missing` where the trail does not lead anywhere)."""
    for part in trail:
        try:
            body = body[part]
        except (KeyError, IndexError, TypeError):
            return missing
    return body


def kept_with_lookup(templates: dict[str, str]) -> frozenset[str]:
    """Templates (`# Source:` paths) that call `lookup`, directly or through the helpers they include:
    their generated values are read back from the cluster on upgrade, not regenerated."""
    defines: dict[str, str] = {}
    for text in templates.values():
        starts = list(_DEFINE.finditer(text))
        for match, after in zip(starts, starts[1:] + [None]):
            defines[match.group(1)] = text[match.end():after.start() if after else len(text)]

    def reaches_lookup(text: str, seen: set[str]) -> bool:
        if _LOOKUP.search(text):
            return True
        for name in _INCLUDE.findall(text):
            if name in defines and name not in seen:
                seen.add(name)
                if reaches_lookup(defines[name], seen):
                    return True
        return False

    return frozenset(source for source, text in templates.items()
                     if not source.rsplit("/", 1)[-1].startswith("_") and reaches_lookup(text, set()))


def _replace(node: Any, parts: Trail) -> None:
    for part in parts[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return
    try:
        node[parts[-1]] = _MASK
    except (KeyError, IndexError, TypeError):
        pass
