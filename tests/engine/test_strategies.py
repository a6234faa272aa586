"""Configurations drawn from a blueprint.yaml configSchema: valid, partial, mapped onto values paths,
shrunk to small counterexamples, and refused loudly for schema constructs chartgate cannot honour."""

from __future__ import annotations

import jsonschema
import pytest
import yaml

from chartgate.core.errors import InvalidChart, InvalidConfig
from chartgate.plan.strategies import (INCOMPATIBLE, _PROFILE_ENV, Profile, active_profile, _admits, config_space,
                                       conform, dotted, _number_bounds, smallest_counterexample)

SCHEMA = {
    "type": "object",
    "properties": {
        "overlay": {
            "type": "object",
            "required": ["mode"],
            "properties": {
                "mode": {"type": "string", "enum": ["Raw", "Serverless"], "default": "Raw"},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
                "port": {"type": "integer", "exclusiveMinimum": 1023, "maximum": 65535, "multipleOf": 5},
                "ratio": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                "name": {"type": "string", "minLength": 1, "maxLength": 8},
                "zone": {"type": "string", "pattern": "^eu-[a-z]{2}$"},
                "hosts": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 2},
                "monitor": {"type": "object", "properties": {"enabled": {"type": "boolean", "default": False}}},
            },
        },
        "upstream": {
            "type": "object",
            "x-values-path": "vendored-chart.metrics",
            "properties": {"enabled": {"type": "boolean"}},
        },
    },
}


def draws(schema: dict, examples: int = 30, values: dict | None = None) -> list[tuple]:
    """Distinct configurations the strategy produces (deterministically), by asking for none."""
    space = config_space({"spec": {"configSchema": schema}}, "charts/demo/blueprint.yaml", values)
    seen: list[tuple] = []
    smallest_counterexample(space.configurations, lambda config: seen.append(config) and False,
                            Profile("test", examples))
    return seen


def nested(config: tuple) -> dict:
    """Rebuild the values document the --set-json pairs describe (test keys contain no escaped dots)."""
    values: dict = {}
    for key, value in config:
        *parents, leaf = key.split(".")
        node = values
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return values


def test_every_draw_is_valid_against_the_schema_and_partial():
    configs = draws(SCHEMA)
    assert len(configs) == 30
    schema_in_values_terms = {**SCHEMA, "properties": {"overlay": SCHEMA["properties"]["overlay"]}}
    for config in configs:
        values = nested(config)
        assert "upstream" not in values  # x-values-path moved it
        jsonschema.validate({"overlay": values.get("overlay", {"mode": "Raw"})}, schema_in_values_terms)
        assert values.get("vendored-chart", {"metrics": {}})["metrics"].keys() <= {"enabled"}
    keys = [{k for k, _ in c} for c in configs]
    assert all("overlay.mode" in k for k in keys if any(x.startswith("overlay.") for x in k)), \
        "a required key is drawn whenever its object is"
    assert {"overlay.monitor.enabled", "vendored-chart.metrics.enabled", "overlay.zone"} <= set().union(*keys)
    assert () in configs and any(0 < len(k) < 5 for k in keys)  # partial configurations, down to none


def test_bounds_and_exclusive_bounds_are_respected():
    for config in draws(SCHEMA):
        values = dict(config)
        if "overlay.port" in values:
            assert 1024 <= values["overlay.port"] <= 65535 and values["overlay.port"] % 5 == 0
        if "overlay.ratio" in values:
            assert 0 <= values["overlay.ratio"] < 1


def test_free_strings_read_back_as_the_same_yaml_string():
    schema = {"type": "object", "properties": {"label": {"type": "string"}}}
    labels = [dict(c)["label"] for c in draws(schema, 30) if c]
    assert labels and any(labels)
    assert all(label == "" or yaml.safe_load(label) == label for label in labels)


def test_dotted_escapes_dots_inside_a_key():
    assert dotted(["podAnnotations", "prometheus.io/scrape"]) == r"podAnnotations.prometheus\.io/scrape"


@pytest.mark.parametrize("bad, named", [
    ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, "`oneOf`"),
    ({"type": ["string", "null"]}, "type: ['string', 'null']"),
    ({"type": "string", "format": "hostname"}, "`format`"),
    ({"type": "string", "minimum": 3}, "not a string keyword"),
    ({"description": "no type at all"}, "no `type`"),
    ({"type": "array"}, "without a single `items` schema"),
])
def test_unsupported_constructs_name_the_blueprint_and_the_key(bad, named):
    schema = {"type": "object", "properties": {"overlay": {"type": "object", "properties": {"tricky": bad}}}}
    with pytest.raises(InvalidChart) as raised:
        config_space({"spec": {"configSchema": schema}}, "charts/demo/blueprint.yaml")
    message = str(raised.value)
    assert "charts/demo/blueprint.yaml" in message and "`overlay.tricky`" in message and named in message


def test_a_chart_without_config_schema_has_no_space():
    assert config_space({"spec": {"version": "1.0.0"}}, "blueprint.yaml") is None
    assert config_space(None, "blueprint.yaml") is None


def test_counterexamples_shrink_to_the_boundary_and_keep_required_keys_at_their_default():
    schema = {"type": "object", "required": ["mode"], "properties": {
        "mode": {"type": "string", "enum": ["a", "b", "c"], "default": "b"},
        "start": {"type": "integer", "minimum": 30000, "maximum": 32767},
        "noise": {"type": "boolean"},
    }}
    space = config_space({"spec": {"configSchema": schema}}, "blueprint.yaml")
    found = smallest_counterexample(space.configurations, lambda c: dict(c).get("start", 0) >= 32000,
                                    Profile("test", 50))
    assert found == (("mode", "b"), ("start", 32000))


def test_the_search_renders_no_more_than_its_budget():
    space = config_space({"spec": {"configSchema": SCHEMA}}, "blueprint.yaml")
    calls = []
    assert smallest_counterexample(space.configurations, lambda c: calls.append(c) and False,
                                   Profile("test", 10)) is None
    assert len(calls) == 10
    calls.clear()
    found = smallest_counterexample(space.configurations, lambda c: calls.append(c) or bool(c),
                                    Profile("test", 10), shrink_budget=3)
    assert found and len(calls) <= 13


def test_prefetch_sees_the_search_in_one_batch_and_changes_no_verdict():
    space = config_space({"spec": {"configSchema": SCHEMA}}, "blueprint.yaml")
    batches, judged = [], []

    def violates(config):
        judged.append(config)
        return dict(config).get("overlay.replicas", 0) >= 7

    found = smallest_counterexample(space.configurations, violates, Profile("test", 20), prefetch=batches.append)
    assert batches[0] == [] and len(batches) == 2 and len(batches[1]) == 20  # no boundaries given, then the search
    assert set(map(repr, batches[1])) <= set(map(repr, judged))  # prefetched, then judged once each
    assert len(judged) == len(set(map(repr, judged)))
    assert found == smallest_counterexample(space.configurations, violates, Profile("test", 20))
    assert found == (("overlay.mode", "Raw"), ("overlay.replicas", 7))


def test_profiles_come_from_the_environment():
    assert active_profile({}) == Profile("ci", 12)
    assert active_profile({_PROFILE_ENV: "deep"}).examples == 300
    with pytest.raises(InvalidConfig, match="use one of: ci, deep"):
        active_profile({_PROFILE_ENV: "exhaustive"})
    chosen = Profile("ci", 25).settings
    assert chosen.derandomize and chosen.database is None and chosen.deadline is None


@pytest.mark.parametrize("schema, expected", [
    ({"minimum": 1, "maximum": 5}, (1, 5, False, False)),
    ({"minimum": 1, "exclusiveMinimum": True}, (1, None, True, False)),  # draft 4
    ({"exclusiveMinimum": 0, "exclusiveMaximum": 10}, (0, 10, True, True)),  # draft 6+
    ({"minimum": 5, "exclusiveMinimum": 3}, (5, None, False, False)),  # the tighter bound wins
])
def test_number_bounds(schema, expected):
    assert _number_bounds(schema) == expected


def test_an_invalid_default_is_not_preferred():
    assert not _admits({"type": "integer", "minimum": 10}, 5)
    assert _admits({"type": "string", "pattern": "^a"}, "abc")
    assert not _admits({"type": "integer"}, True)


# -- generated values respect the type of what they replace -----------------------------------------

@pytest.mark.parametrize("current, value, expected", [
    (None, "x", "x"), (None, {"a": 1}, {"a": 1}),  # unset takes anything
    ("", "x", "x"), (3, 5, 5), (1.5, 2, 2), (False, True, True),  # scalars of the same type
    ("", 5, INCOMPATIBLE), (3, True, INCOMPATIBLE), (True, "true", INCOMPATIBLE),
    ({"main": ""}, "x", INCOMPATIBLE), ({"a": 1}, {"b": 2}, {"b": 2}),  # a map only takes a map
    ([{"main": "", "sans": []}], "x", INCOMPATIBLE),  # a list of objects is never a string
    ([{"main": ""}], ["x"], INCOMPATIBLE), ([{"main": ""}], [{"main": "x"}], [{"main": "x"}]),
    (["a.example.com"], "x", ["x"]), ([], "x", ["x"]),  # a list of strings may become a one-item list
    (["a"], ["x", "y"], ["x", "y"]), ([], [{"k": 1}], [{"k": 1}]), ([1, 2], "x", INCOMPATIBLE),
])
def test_conform(current, value, expected):
    assert conform(current, value) == expected


TLS_SCHEMA = {"type": "object", "properties": {
    "tls": {"type": "object", "properties": {"domains": {"type": "string"}, "enabled": {"type": "boolean"}}},
    "routes": {"type": "object", "properties": {"main": {"type": "string"}}},
    "hosts": {"type": "string", "minLength": 1},
    "labels": {"type": "string"},
    "upstream": {"type": "string", "x-values-path": "routes.main"},
}}
TLS_VALUES = {"tls": {"domains": [{"main": "", "sans": []}], "enabled": False},
              "routes": [{"main": "a"}], "hosts": ["web.example.test"], "labels": {"team": "x"}}


def test_generated_values_never_overwrite_lists_of_objects_or_maps():
    space = config_space({"spec": {"configSchema": TLS_SCHEMA}}, "blueprint.yaml", TLS_VALUES)
    assert dict(space.conflicts) == {
        "tls.domains": "the schema draws string, the values hold a list of map",
        "routes": "the schema draws map, the values hold a list of map",
        "labels": "the schema draws string, the values hold map",
        "routes.main": "a parent key holds something other than a mapping",  # below a list (x-values-path)
    }
    configs = draws(TLS_SCHEMA, values=TLS_VALUES)
    drawn = {key for config in configs for key, _ in config}
    assert drawn == {"tls.enabled", "hosts"}
    for config in configs:
        values = dict(config)
        assert isinstance(values.get("tls.enabled", False), bool)
        if "hosts" in values:  # a string schema over a list of strings: a one-item list
            assert isinstance(values["hosts"], list) and len(values["hosts"]) == 1 and values["hosts"][0]


def test_without_values_the_schema_alone_decides():
    space = config_space({"spec": {"configSchema": TLS_SCHEMA}}, "blueprint.yaml")
    assert space.conflicts == ()
    assert "tls.domains" in {key for config in draws(TLS_SCHEMA) for key, _ in config}


def test_a_key_that_is_not_drawn_is_still_checked_for_unsupported_constructs():
    schema = {"type": "object", "properties": {"tls": {"type": "object", "properties": {
        "domains": {"oneOf": [{"type": "string"}]}}}}}
    with pytest.raises(InvalidChart, match="`tls.domains`"):
        config_space({"spec": {"configSchema": schema}}, "blueprint.yaml", {"tls": [{"main": ""}]})


def test_boundaries_are_tried_first_and_a_boundary_counterexample_is_shrunk_to_the_threshold():
    schema = {"type": "object", "properties": {"start": {"type": "integer", "minimum": 30000, "maximum": 32767},
                                               "mode": {"type": "string", "enum": ["a", "b"]}}}
    space = config_space({"spec": {"configSchema": schema}}, "blueprint.yaml")
    assert space.boundaries == ((("start", 32767),), (("start", 30000),))
    judged = []

    def violates(config):
        judged.append(config)
        return dict(config).get("start", 0) >= 32000

    found = smallest_counterexample(space.configurations, violates, Profile("test", 3),
                                    explicit=space.boundaries, bounds=space.bounds)
    assert found == (("start", 32000),)  # the threshold, not the boundary that revealed it
    assert judged[0] == (("start", 32767),)  # the maximum was the first configuration rendered
