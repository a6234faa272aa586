"""Hypothesis strategies for the configurations a Blueprint's `spec.configSchema` declares valid.

The configSchema mirrors the chart's values, so a property's path is its values path (a property
may say otherwise with `x-values-path: some.dotted.path`, absolute from the values root). A drawn
configuration is partial, like a real cluster overlay: any subset of the declared keys, nested,
always including `required` ones. It comes out as (dotted values path, JSON value) pairs, ready for
`Scenario.set_values` (Helm's `--set-json`).

Only a JSON-Schema subset is understood; anything else raises InvalidChart naming the
blueprint.yaml and the key, because silently ignoring a constraint would draw invalid
configurations and report the chart for the schema's vagueness.

Generated values respect the types of the values they replace (`conform`): given the chart's
values, a drawn value only replaces a scalar of the same type, a mapping with a mapping, a list
with a list of the same kind of items (a scalar may become a one-item list of scalars). A list of
objects (`tls.domains: [{main, sans}]`) or a mapping is never overwritten with a string; a key whose
schema type can never fit the value there is not drawn at all (`ConfigSpace.conflicts` says which).
FQDN-002's sentinel goes through the same rule.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import yaml
from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from chartgate.core.errors import InvalidChart, InvalidConfig
from chartgate.core.values import current_value  # noqa: F401 (also imported from here by policies)

# Kubernetes integer fields are int32: an integer without a bound is drawn from that range, not
# from numbers Helm would silently wrap (it reads --set-json numbers as float64).
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
# A string without `pattern` is drawn from plain tokens that YAML reads back as the same string:
# the property judges the chart's logic, not the quoting of free text (`true`, `1e3`, `a: b`).
_TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-."
_TOKEN_MAX_LENGTH = 24
_ARRAY_EXTRA_ITEMS = 3  # arrays are drawn with at most minItems + 3 items

_ANNOTATIONS = {"title", "description", "default", "examples", "$comment", "$schema", "$id", "deprecated",
                "readOnly", "writeOnly"}
_KEYWORDS = {
    "object": {"properties", "required", "additionalProperties"},
    "integer": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"},
    "number": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"},
    "string": {"minLength", "maxLength", "pattern"},
    "boolean": set(),
    "array": {"items", "minItems", "maxItems", "uniqueItems"},
}
_SUPPORTED = ("type (" + ", ".join(_KEYWORDS) + "), enum, const, default, minimum/maximum, "
             "exclusiveMinimum/exclusiveMaximum, multipleOf (integers), minLength/maxLength, pattern, "
             "properties, required, items, minItems/maxItems, x-values-path")


def dotted(path: Iterable[str]) -> str:
    """A values path as Helm's --set syntax spells it: dots inside a key are escaped."""
    return ".".join(re.sub(r"([.\[\],=\\])", r"\\\1", part) for part in path)


# -- type-respecting injection --------------------------------------------------------------------


class _Incompatible:
    def __repr__(self) -> str:
        return "INCOMPATIBLE"


#: What `conform` returns when a generated value cannot replace the current one without changing its type.
INCOMPATIBLE: Any = _Incompatible()
_SCALAR_KINDS = frozenset({"boolean", "number", "string"})


def _kind_of(value: Any) -> str:
    """`null`, `boolean`, `number`, `string`, `map` or `list` (booleans are not numbers)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def _accepted_kinds(current: Any) -> frozenset[str]:
    """The kinds of value that may replace `current`: anything when unset; a scalar of its type; a
    mapping for a mapping; a list for a list, or a scalar of the list's item type (made a one-item list)."""
    kind = _kind_of(current)
    if kind == "null":
        return frozenset({"null", "boolean", "number", "string", "map", "list"})
    if kind != "list":
        return frozenset({kind})
    items = {_kind_of(item) for item in current}
    if not items:
        return frozenset({"list"}) | _SCALAR_KINDS
    return frozenset({"list"}) | (frozenset(items) if len(items) == 1 and items <= _SCALAR_KINDS else frozenset())


def conform(current: Any, value: Any) -> Any:
    """`value` shaped to replace `current` without changing its type, or INCOMPATIBLE.

    Unset takes anything; a scalar only a scalar of its type; a mapping only a mapping (Helm merges
    it in); a list only a list whose items are of the kinds the current items are (any list when it is
    empty), or a scalar of its items' type, which becomes a one-item list (`[sentinel]` for a list of
    host names). A list of objects or a mapping is never overwritten with a string."""
    kind, current_kind = _kind_of(value), _kind_of(current)
    if kind not in _accepted_kinds(current):
        return INCOMPATIBLE
    if current_kind != "list":
        return value
    if kind != "list":
        return [value]
    wanted = {_kind_of(item) for item in current}
    if wanted and not {_kind_of(item) for item in value} <= wanted:
        return INCOMPATIBLE
    return value


@dataclass(frozen=True)
class ConfigSpace:
    """The valid configurations of one chart, as a strategy, plus the values paths they can touch."""

    source: str  # the blueprint.yaml it came from, for messages
    configurations: st.SearchStrategy  # of ((dotted values path, value), ...) in schema order
    paths: tuple[str, ...]  # every dotted values path the schema declares (objects and leaves)
    # (dotted values path, why) for each key that is never drawn because its schema type cannot
    # replace what the chart's values hold there (e.g. a string schema over a list of objects).
    conflicts: tuple[tuple[str, str], ...] = ()
    # Boundary configurations, tried before any random draw: each bounded integer/number key at its
    # maximum, then at its minimum, alone (keys under an object with `required` keys are left to the
    # random draws, which always include what is required).
    boundaries: tuple[tuple[tuple[str, Any], ...], ...] = ()
    bounds: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # key -> (low, high) of those keys


def config_space(blueprint: dict | None, source: str, values: dict | None = None) -> ConfigSpace | None:
    """The chart's configuration space, or None when its blueprint declares no configSchema.

    With `values` (the chart's effective default values), every drawn value respects the type of the
    value it replaces (see `conform`)."""
    schema = ((blueprint or {}).get("spec") or {}).get("configSchema")
    if schema is None:
        return None
    compiler = _SchemaCompiler(source, values)
    if not isinstance(schema, dict) or _type_of(schema) != "object":
        raise InvalidChart(f"{source}: spec.configSchema must be an object schema (`type: object` with "
                           "`properties`) that mirrors values.yaml")
    strategy = compiler.pairs(schema, (), "")
    boundaries = ([((key, high),) for key, _, high in compiler.bounds if high is not None]
                  + [((key, low),) for key, low, _ in compiler.bounds if low is not None])
    return ConfigSpace(source, strategy.map(tuple), tuple(compiler.paths), tuple(compiler.conflicts),
                       tuple(dict.fromkeys(boundaries)), {key: (low, high) for key, low, high in compiler.bounds})


def _type_of(schema: dict) -> str | None:
    declared = schema.get("type")
    if declared is None and "properties" in schema:
        return "object"
    return declared


def _schema_kinds(schema: dict) -> frozenset[str]:
    """The kinds of value a (supported) schema can draw."""
    if "const" in schema:
        return frozenset({_kind_of(schema["const"])})
    if isinstance(schema.get("enum"), list):
        return frozenset(_kind_of(v) for v in schema["enum"])
    kind = _type_of(schema)
    return frozenset({{"integer": "number", "object": "map", "array": "list"}.get(str(kind), str(kind))})


class _SchemaCompiler:
    def __init__(self, source: str, values: dict | None = None):
        self.source = source
        self.values = values
        self.paths: list[str] = []
        self.conflicts: list[tuple[str, str]] = []
        self.bounds: list[tuple[str, Any, Any]] = []  # (dotted values path, low, high) of free bounded leaves

    def conflict(self, schema: dict, values_path: tuple[str, ...]) -> str | None:
        """Why no value drawn from `schema` may replace what the chart's values hold at `values_path`."""
        if self.values is None:
            return None
        reachable, current = current_value(self.values, values_path)
        if not reachable:
            return "a parent key holds something other than a mapping"
        kinds = _schema_kinds(schema)
        if kinds & _accepted_kinds(current):
            return None
        shown = _kind_of(current) if _kind_of(current) != "list" else \
            "a list of " + "/".join(sorted({_kind_of(i) for i in current}))
        return f"the schema draws {'/'.join(sorted(kinds))}, the values hold {shown}"

    def unsupported(self, where: str, what: str) -> InvalidChart:
        return InvalidChart(
            f"{self.source}: {f'configSchema key `{where}`' if where else 'spec.configSchema'} uses {what}, "
            "which chartgate cannot draw "
            f"configurations from. Supported: {_SUPPORTED}. Rewrite that key with these keywords "
            "(e.g. an enum instead of oneOf), or drop the constraint chartgate cannot honour.")

    def check_keywords(self, schema: dict, kind: str, where: str) -> None:
        allowed = _ANNOTATIONS | {"type", "enum", "const"} | _KEYWORDS[kind]
        for keyword in schema:
            if keyword not in allowed and not str(keyword).startswith("x-"):
                raise self.unsupported(where, f"`{keyword}`" + (f" (not a {kind} keyword)"
                                                                 if keyword in _ALL_KNOWN else ""))

    # -- objects become lists of (values path, value) pairs -------------------------------------
    def pairs(self, schema: dict, values_path: tuple[str, ...], where: str, free: bool = True) -> st.SearchStrategy:
        self.check_keywords(schema, "object", where)
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        free = free and not required
        if not isinstance(properties, dict):
            raise self.unsupported(where, "`properties` that is not a mapping")
        missing = required - set(properties)
        if missing:
            raise self.unsupported(where, f"`required` keys without a schema ({', '.join(sorted(missing))})")
        children: dict[str, st.SearchStrategy] = {}
        for name, child in properties.items():
            child_where = f"{where}.{name}" if where else str(name)
            if not isinstance(child, dict):
                raise self.unsupported(child_where, "a schema that is not a mapping")
            child_path = self.values_path(child, values_path + (str(name),), child_where)
            self.paths.append(dotted(child_path))
            why = self.conflict(child, child_path)
            if why:
                self.conflicts.append((dotted(child_path), why))
                self.check_subtree(child, child_where, required=name in required)
                continue
            if _type_of(child) == "object" and "enum" not in child and "const" not in child:
                children[name] = self.pairs(child, child_path, child_where, free)
            else:
                key = dotted(child_path)
                leaf = self.value(child, child_where, prefer_default=name in required)
                if free and _type_of(child) in ("integer", "number") and not {"enum", "const"} & set(child) \
                        and ("minimum" in child or "maximum" in child):
                    low, high = _integer_bounds(child) if _type_of(child) == "integer" else (
                        child.get("minimum"), child.get("maximum"))
                    self.bounds.append((key, low if "minimum" in child else None,
                                        high if "maximum" in child else None))
                if self.values is None:
                    children[name] = leaf.map(lambda v, key=key: [(key, v)])
                else:
                    current = current_value(self.values, child_path)[1]
                    children[name] = leaf.map(lambda v, key=key, current=current: _pair(key, current, v))
        mandatory = {k: s for k, s in children.items() if k in required}
        optional = {k: s for k, s in children.items() if k not in required}
        order = list(children)
        return st.fixed_dictionaries(mandatory, optional=optional).map(
            lambda drawn: [pair for k in order if k in drawn for pair in drawn[k]])

    def check_subtree(self, schema: dict, where: str, *, required: bool) -> None:
        """A key that is not drawn is still compiled, so an unsupported construct is reported alike."""
        if _type_of(schema) == "object" and "enum" not in schema and "const" not in schema:
            _SchemaCompiler(self.source).pairs(schema, (), where)
        else:
            self.value(schema, where, prefer_default=required)

    def values_path(self, schema: dict, default: tuple[str, ...], where: str) -> tuple[str, ...]:
        override = schema.get("x-values-path")
        if override is None:
            return default
        if not isinstance(override, str) or not override.strip(".") or ".." in override:
            raise self.unsupported(where, f"`x-values-path: {override!r}` (expected a dotted values path "
                                          "such as `upstream.metrics.enabled`)")
        return tuple(override.split("."))

    # -- leaves (and array items) become whole JSON values ---------------------------------------
    def value(self, schema: dict, where: str, *, prefer_default: bool = False) -> st.SearchStrategy:
        unknown = [k for k in schema if k not in _ALL_KNOWN and not str(k).startswith("x-")]
        if unknown:  # e.g. oneOf, $ref, format: name it rather than complain about a missing type
            raise self.unsupported(where, f"`{unknown[0]}`")
        if "const" in schema:
            base = st.just(schema["const"])
        elif "enum" in schema:
            if not isinstance(schema["enum"], list) or not schema["enum"]:
                raise self.unsupported(where, "an empty or non-list `enum`")
            base = st.sampled_from(schema["enum"])
        else:
            kind = _type_of(schema)
            if not isinstance(kind, str) or kind not in _KEYWORDS:
                raise self.unsupported(where, f"`type: {kind!r}`" if kind is not None else "no `type`")
            if kind == "object":
                self.check_keywords(schema, kind, where)
            base = getattr(self, f"_{kind}")(schema, where)
        # An optional key shrinks by being left out (the chart's default); a required one shrinks to
        # its declared default, as shrinking prefers the first branch of `|`.
        if prefer_default and "default" in schema and _admits(schema, schema["default"]):
            return st.just(schema["default"]) | base
        return base

    def _boolean(self, schema: dict, where: str) -> st.SearchStrategy:
        self.check_keywords(schema, "boolean", where)
        return st.booleans()

    def _integer(self, schema: dict, where: str) -> st.SearchStrategy:
        self.check_keywords(schema, "integer", where)
        low, high = _integer_bounds(schema)
        step = schema.get("multipleOf", 1)
        if not isinstance(step, int) or isinstance(step, bool) or step < 1:
            raise self.unsupported(where, f"`multipleOf: {step!r}` (integers need a positive integer)")
        first, last = math.ceil(low / step), math.floor(high / step)
        if first > last:
            raise self.unsupported(where, f"bounds that admit no integer ({low}..{high}, multipleOf {step})")
        return st.integers(first, last).map(lambda n: n * step)

    def _number(self, schema: dict, where: str) -> st.SearchStrategy:
        self.check_keywords(schema, "number", where)
        low, high, exclude_low, exclude_high = _number_bounds(schema)
        return st.floats(low, high, exclude_min=exclude_low, exclude_max=exclude_high, allow_nan=False,
                         allow_infinity=False, allow_subnormal=False)

    def _string(self, schema: dict, where: str) -> st.SearchStrategy:
        self.check_keywords(schema, "string", where)
        shortest = int(schema.get("minLength", 0))
        longest = int(schema.get("maxLength", max(shortest, _TOKEN_MAX_LENGTH)))
        if "pattern" in schema:
            try:
                strings = st.from_regex(re.compile(schema["pattern"]), fullmatch=True)
            except re.error as exc:
                raise self.unsupported(where, f"`pattern` that does not compile ({exc})") from None
            return strings.filter(lambda s: shortest <= len(s) <= longest)
        tokens = st.text(_TOKEN_ALPHABET, min_size=shortest, max_size=min(longest, max(shortest, _TOKEN_MAX_LENGTH)))
        return tokens.filter(lambda s: s == "" or _reads_back(s))

    def _array(self, schema: dict, where: str) -> st.SearchStrategy:
        self.check_keywords(schema, "array", where)
        items = schema.get("items")
        if not isinstance(items, dict):
            raise self.unsupported(where, "an array without a single `items` schema")
        if "x-values-path" in items:
            raise self.unsupported(f"{where}[]", "`x-values-path` inside array items")
        fewest = int(schema.get("minItems", 0))
        most = min(int(schema.get("maxItems", fewest + _ARRAY_EXTRA_ITEMS)), fewest + _ARRAY_EXTRA_ITEMS)
        unique = {"unique_by": repr} if schema.get("uniqueItems") else {}
        return st.lists(self.value(items, f"{where}[]"), min_size=fewest, max_size=most, **unique)

    def _object(self, schema: dict, where: str) -> st.SearchStrategy:
        """An object inside an array item (or with an enum): a whole, partial dict."""
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        drawn = {name: self.value(child, f"{where}.{name}", prefer_default=name in required)
                 for name, child in properties.items()}
        return st.fixed_dictionaries({k: s for k, s in drawn.items() if k in required},
                                     optional={k: s for k, s in drawn.items() if k not in required})


_ALL_KNOWN = set().union(*_KEYWORDS.values()) | _ANNOTATIONS | {"type", "enum", "const"}


def _pair(key: str, current: Any, value: Any) -> list[tuple[str, Any]]:
    """The --set-json pair for a drawn value, shaped like the value it replaces; none when it cannot be."""
    shaped = conform(current, value)
    return [] if shaped is INCOMPATIBLE else [(key, shaped)]


def _reads_back(text: str) -> bool:
    try:
        return yaml.safe_load(text) == text
    except yaml.YAMLError:
        return False


def _integer_bounds(schema: dict) -> tuple[int, int]:
    low, high, exclude_low, exclude_high = _number_bounds(schema)
    low = _INT32_MIN if low is None else (math.floor(low) + 1 if exclude_low else math.ceil(low))
    high = _INT32_MAX if high is None else (math.ceil(high) - 1 if exclude_high else math.floor(high))
    return low, high


def _number_bounds(schema: dict) -> tuple[float | None, float | None, bool, bool]:
    """(minimum, maximum, exclude_min, exclude_max), for draft-4 (boolean) and later (numeric) exclusives."""
    low, high = schema.get("minimum"), schema.get("maximum")
    exclude_low = exclude_high = False
    for keyword, is_low in (("exclusiveMinimum", True), ("exclusiveMaximum", False)):
        bound = schema.get(keyword)
        if bound is None or bound is False:
            continue
        if bound is True:  # draft 4: qualifies minimum/maximum
            exclude_low, exclude_high = (True, exclude_high) if is_low else (exclude_low, True)
            continue
        current = low if is_low else high
        # draft 6+: a bound of its own; the tighter of the two wins
        if is_low and (current is None or bound >= current):
            low, exclude_low = bound, True
        elif not is_low and (current is None or bound <= current):
            high, exclude_high = bound, True
    return low, high, exclude_low, exclude_high


def _admits(schema: dict, value: Any) -> bool:
    """Whether a leaf value satisfies the schema's own constraints (used to vet `default`)."""
    if "const" in schema:
        return value == schema["const"]
    if "enum" in schema:
        return value in schema["enum"]
    kind = _type_of(schema)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if kind == "integer":
            low, high = _integer_bounds(schema)
            return isinstance(value, int) and low <= value <= high and value % schema.get("multipleOf", 1) == 0
        low, high, exclude_low, exclude_high = _number_bounds(schema)
        return ((low is None or value > low or (value == low and not exclude_low))
                and (high is None or value < high or (value == high and not exclude_high)))
    if kind == "string":
        if not isinstance(value, str):
            return False
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
            return False
        return "pattern" not in schema or re.search(schema["pattern"], value) is not None  # JSON Schema: search
    if kind == "array":
        return isinstance(value, list)
    return isinstance(value, dict) if kind == "object" else False


# -- running a property deterministically ---------------------------------------------------------

_PROFILE_ENV = "CHARTGATE_HYPOTHESIS_PROFILE"
_PROFILES = {"ci": 12, "deep": 300}  # profile -> distinct configurations tried per chart (boundaries first)
_SHRINK_RENDERS = 100  # at most this many more distinct configurations are tried while shrinking
_DRAWS_PER_EXAMPLE = 2  # Hypothesis repeats small examples early on; repeats are free (memoised)


@dataclass(frozen=True)
class Profile:
    name: str
    examples: int  # distinct configurations evaluated before giving up

    @property
    def settings(self) -> settings:
        # derandomize + no database: the same examples on every machine and every run (CI-stable,
        # and the render cache stays warm). Renders are slow by Hypothesis' standards: no deadline.
        return settings(max_examples=self.examples * _DRAWS_PER_EXAMPLE, derandomize=True, database=None,
                        deadline=None, suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
                        phases=(Phase.explicit, Phase.generate, Phase.shrink))


def active_profile(environ: dict | None = None) -> Profile:
    """The profile named by $CHARTGATE_HYPOTHESIS_PROFILE: `ci` (default, 12 configurations) or `deep` (300)."""
    name = (environ if environ is not None else os.environ).get(_PROFILE_ENV, "").strip() or "ci"
    if name not in _PROFILES:
        raise InvalidConfig(f"{_PROFILE_ENV}={name!r} is not a chartgate Hypothesis profile; "
                            f"use one of: {', '.join(_PROFILES)}")
    return Profile(name, _PROFILES[name])


def smallest_counterexample(configurations: st.SearchStrategy, violates: Callable[[Any], bool],
                            profile: Profile, *, shrink_budget: int = _SHRINK_RENDERS,
                            prefetch: Callable[[list], None] | None = None,
                            explicit: Sequence[Any] = (), bounds: dict | None = None) -> Any | None:
    """The simplest configuration for which `violates` is true, or None if none is found.

    `violates` runs on at most `profile.examples` distinct configurations while searching and
    `shrink_budget` more while shrinking; verdicts are memoised, so Hypothesis' repeats and replays
    cost nothing. A configuration past the budget is reported as passing, which ends the search (or
    the shrinking, keeping the smallest counterexample found so far) without another evaluation.

    With `prefetch`, the search's configurations are drawn first and handed over in one batch (to
    render them in parallel); Hypothesis runs a second time only to shrink a counterexample. The
    derandomised search draws the same configurations both times, so nothing is evaluated twice.
    """
    verdicts: dict[str, bool] = {}

    def memoised(config: Any) -> bool:
        key = repr(config)
        if key not in verdicts:
            budget = profile.examples + (shrink_budget if any(verdicts.values()) else 0)
            if len(verdicts) >= budget:
                return False
            verdicts[key] = bool(violates(config))
        return verdicts[key]

    explicit = list(explicit)[:profile.examples]  # boundaries first: a one-key configuration is already minimal
    if prefetch is not None:
        prefetch(explicit)
    for config in explicit:
        if memoised(config):
            return _shrink_boundary(config, bounds or {}, memoised, profile)
    if prefetch is not None:
        planned = search_configurations(configurations, profile, limit=profile.examples - len(explicit))
        prefetch(planned)
        if not any([memoised(config) for config in planned]):
            return None
    try:
        return find(configurations, memoised, settings=profile.settings)
    except NoSuchExample:
        return None


def _shrink_boundary(config: tuple, bounds: dict, violates: Callable[[Any], bool], profile: Profile) -> tuple:
    """A one-key boundary counterexample shrunk to the smallest value of that key that still fails
    (toward its other bound): `start = 32000`, not the `32767` that found it."""
    (key, value), = config
    low, high = bounds.get(key, (None, None))
    if not isinstance(value, int) or isinstance(value, bool) or low is None or high is None:
        return config
    start, end = (low, value) if value == high else (value, high)
    values = st.integers(start, end) if value == high else st.integers(start, end).map(lambda v: end - (v - start))
    try:
        return find(values.map(lambda v: ((key, v),)), violates, settings=profile.settings)
    except NoSuchExample:
        return config


def search_configurations(configurations: st.SearchStrategy, profile: Profile, limit: int | None = None) -> list:
    """The distinct configurations a search with this profile tries when nothing fails, in order."""
    drawn: dict[str, Any] = {}
    limit = profile.examples if limit is None else limit

    def record(config: Any) -> bool:
        if len(drawn) < limit:
            drawn.setdefault(repr(config), config)
        return False

    try:
        find(configurations, record, settings=profile.settings)
    except NoSuchExample:
        pass
    return list(drawn.values())
