"""Redaction: what counts as secret, how each layer (structure, text patterns, learned literals) works,
and that it leaves ordinary chart data alone."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from chartgate.report.redact import Redactor, _is_secret_key, _marker

MARKER = re.compile(r"<redacted hmac:[0-9a-f]{8}>")


def test_marker_is_fixed_prefix_plus_short_keyed_hash():
    assert MARKER.fullmatch(_marker("hunter22"))
    assert _marker("hunter22") == _marker("hunter22") != _marker("hunter23")


@pytest.mark.parametrize("key", ["password", "dbPassword", "DB_PASSWORD", "auth.password", "apiKey", "api_key",
                                 "api-key", "token", "clientSecret", "privateKey", "secret", "credentials",
                                 "connectionString", "passwd", "accessKey"])
def test_secret_looking_keys(key):
    assert _is_secret_key(key)


@pytest.mark.parametrize("key", ["secretName", "existingSecret", "SECRET_NAME", "secretKeyRef", "tokenFile",
                                 "serviceMonitor.enabled", "secret.enabled", "automountServiceAccountToken",
                                 "name", "port", "udpPortRange", 3, None])
def test_references_and_switches_are_not_secret(key):
    assert not _is_secret_key(key)


def test_secret_object_data_and_string_data_are_redacted_whatever_the_key_names():
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
            "data": {"blob": base64.b64encode(b"opaque-value").decode()}, "stringData": {"config": "x=1"}}
    out = Redactor().data(body)
    assert out["metadata"] == {"name": "db"}
    assert all(MARKER.fullmatch(v) for v in [*out["data"].values(), *out["stringData"].values()])
    assert body["data"]["blob"] != out["data"]["blob"]  # the input is not modified


def test_values_under_secret_keys_env_entries_and_lists():
    values = {"db": {"password": "pw-123456", "passwordSecretName": "db-creds", "port": 5432},
              "auth": {"tokens": ["t-aaaaaa", "t-bbbbbb"], "token": {"enabled": True}},
              "env": [{"name": "API_KEY", "value": "k-999999"}, {"name": "LOG_LEVEL", "value": "debug"}]}
    out = Redactor().data(values)
    assert MARKER.fullmatch(out["db"]["password"])
    assert out["db"]["passwordSecretName"] == "db-creds" and out["db"]["port"] == 5432
    assert all(MARKER.fullmatch(t) for t in out["auth"]["tokens"])
    assert out["auth"]["token"] == {"enabled": True}  # a switch under a secret-looking key is no secret
    assert MARKER.fullmatch(out["env"][0]["value"]) and out["env"][1]["value"] == "debug"


def test_text_patterns():
    redactor = Redactor()
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
    text = (f"url: postgres://app:s3cr3t-pw@db:5432/app\npassword: hunter22\n  - apiKey: 'abc-123-def'\n"
            f"enabled: true\ntoken: true\n{pem}\nhelm template x --set-json db.password=\"hunter22\" --set a.b=1")
    out = redactor.text(text)
    for secret in ("s3cr3t-pw", "hunter22", "abc-123-def", "MIIEowIBAAKCAQEA"):
        assert secret not in out
    assert "postgres://app:<redacted hmac:" in out and "@db:5432/app" in out  # user and host stay readable
    assert "enabled: true\ntoken: true" in out and "--set a.b=1" in out
    assert out.count(_marker("hunter22")) == 2  # the same value gets the same marker in both places


def test_learned_literals_are_scrubbed_from_free_text_in_every_form():
    redactor = Redactor()
    redactor.learn_values({"planted": {"password": "Pl4nted-Passw0rd"}, "name": "visible-name"})
    redactor.learn_manifest({"apiVersion": "v1", "kind": "Secret",
                             "data": {"cfg": base64.b64encode(b"token: tok-abcdef\n").decode()}})
    out = redactor.text("helm said: Pl4nted-Passw0rd is wrong; visible-name; config had tok-abcdef")
    assert "Pl4nted-Passw0rd" not in out and "tok-abcdef" not in out and "visible-name" in out


def test_short_and_boolean_looking_values_are_not_learned_as_literals():
    redactor = Redactor()
    redactor.learn_values({"password": "true", "token": "abc", "secret": 12})
    assert redactor.text("true abc 12 port 12") == "true abc 12 port 12"


def test_yaml_excerpt_is_redacted_as_structure_and_keeps_its_truncation_note():
    excerpt = "apiVersion: v1\nkind: Secret\ndata:\n  blob: b3BhcXVl\n# ... 4 more lines"
    out = Redactor().yaml_text(excerpt)
    assert "b3BhcXVl" not in out and out.endswith("# ... 4 more lines") and "kind: Secret" in out
    assert Redactor().yaml_text("not: [valid") == "not: [valid"


def test_redaction_is_a_no_op_on_the_good_fixture_charts(good_run):
    """The fixture charts hold no secrets: redaction must not touch a single value of their report
    (over-redaction would hide resource names and paths an author needs)."""
    report = Path(good_run.summary.reports["chartgate.json"]).read_text()
    assert "<redacted" not in report
    assert json.loads(report)["results"]
