"""Redaction catches secrets in every position they take in real charts, its markers cannot be
reversed offline, it never scrubs ordinary words, and files holding rendered objects are owner-only."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import tarfile

import pytest

from chartgate.report import redact
from chartgate.report.evidence import write_evidence
from chartgate.engine.gate import Gate
from chartgate.check.loader import load_policy_module
from chartgate.check.definition import policies_in
from chartgate.report.redact import Redactor, _is_secret_key, _marker
from chartgate.report.terminal import describe_result, write_summary
from chartgate.render.renderer import Renderer
from chartgate.plan.scenarios import Scenario, ScenarioKind
from chartgate.discover.charts import _load_chart_dir

from ..conftest import gate_config
from .helpers import CONFIGMAP, engine_policies, helm, run_small_gate, write_chart

MARKER = re.compile(r"<redacted [a-z0-9]+:[0-9a-f]{8}>")


def scrubbed(text: str, *secrets: str) -> str:
    out = Redactor().text(text)
    for secret in secrets:
        assert secret not in out, f"{secret!r} survived in {out!r}"
    return out


# -- positions the first version missed ------------------------------------------------------------

@pytest.mark.parametrize("text, secret", [
    ("DB_PASSWORD=hunter2 ./start", "hunter2"),
    ("exec app --client-secret=s3cr3t-v4lue --port=8080", "s3cr3t-v4lue"),
    ("https://api.example.test/v1?token=abcdef123&page=2", "abcdef123"),
    ("Server=db;Database=app;Password=Pa55;User Id=app", "Pa55"),
    ('config.json: {"client_id": "app", "client_secret": "cs-92ab"}', "cs-92ab"),
    ('{\\"api_key\\": \\"ak-77\\", \\"region\\": \\"eu\\"}', "ak-77"),
    ("auth: {password: pw1}", "pw1"),
])
def test_key_value_flag_and_json_forms_are_redacted(text, secret):
    out = scrubbed(text, secret)
    assert MARKER.search(out)


def test_ordinary_flags_and_pairs_stay_readable():
    text = '--port=8080 --log-level=debug {"client_id": "app", "region": "eu"} page=2 secretName=db-creds'
    assert Redactor().text(text) == text


@pytest.mark.parametrize("name", ["DB_PASS", "SMTP_PASS", "ADMIN_PWD", "STRIPE_KEY", "ENCRYPTION_KEY",
                                  "JWT_SIGNING", "JWT_HMAC", "GITHUB_TOKEN", "SIGNING_PASSPHRASE"])
def test_environment_variables_named_like_secrets(name):
    assert _is_secret_key(name)
    container = {"env": [{"name": name, "value": "v"}, {"name": "LOG_LEVEL", "value": "debug"}]}
    out = Redactor().data(container)
    assert MARKER.fullmatch(out["env"][0]["value"]) and out["env"][1]["value"] == "debug"
    assert MARKER.search(Redactor().text(f"{name}=v1"))


@pytest.mark.parametrize("name", ["JWT_SECRET_NAME", "JWT_TTL", "SECRET_KEY_REF", "KEYCLOAK_URL", "BYPASS",
                                  "sort_key", "cacheKey", "key", "PWD"])
def test_names_that_only_resemble_secrets(name):
    assert not _is_secret_key(name)


def test_short_values_of_secret_keys_are_redacted_in_every_secret_position():
    values = {"auth": {"password": "pw", "token": "t1", "apiKey": 12345},
              "env": [{"name": "DB_PASS", "value": "x"}],
              "args": ["--password", "abc", "--port", "80"],
              "config": "password: ab\nuser: admin\n"}
    out = Redactor().data(values)
    assert all(MARKER.fullmatch(str(v)) for v in out["auth"].values())
    assert MARKER.fullmatch(out["env"][0]["value"])
    assert out["args"][0] == "--password" and MARKER.fullmatch(out["args"][1]) and out["args"][3] == "80"
    assert "ab\n" not in out["config"] and "user: admin" in out["config"]
    assert "abc" not in Redactor().text("--password=abc")


def test_references_in_secret_positions_are_not_secrets():
    out = Redactor().data({"env": [{"name": "DB_PASSWORD", "value": "$(PASSWORD_FROM_SECRET)"}],
                           "args": ["--token", "${TOKEN}"]})
    assert out == {"env": [{"name": "DB_PASSWORD", "value": "$(PASSWORD_FROM_SECRET)"}], "args": ["--token", "${TOKEN}"]}


@pytest.mark.parametrize("label", ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY",
                                   "OPENSSH PRIVATE KEY", "PGP PRIVATE KEY BLOCK"])
def test_pem_private_key_blocks_in_any_string(label):
    pem = f"-----BEGIN {label}-----\nMIIEowIBAAKCAQEAkey\n-----END {label}-----"
    escaped = pem.replace("\n", "\\n")  # as inside a JSON string value
    for text in (pem, f"tls.key: |\n  {pem}", f'{{"key": "{escaped}"}}', f"key material follows {pem} done"):
        out = Redactor().text(text)
        assert "MIIEowIBAAKCAQEAkey" not in out and MARKER.search(out), out
    data = Redactor().data({"metadata": {"annotations": {"note": pem}}})
    assert "MIIEowIBAAKCAQEAkey" not in json.dumps(data)


# -- secrets outside the key list: flags, cookies, authorization, docker auths, session keys --------

@pytest.mark.parametrize("text, secret", [
    ("exec app --db-pass hunter2 --port 8080", "hunter2"),
    ("exec app --db-pass=hunter2 --port=8080", "hunter2"),
    ("mysql -u root -p hunter2 -h db", "hunter2"),
    ("app --api-key 'k 123' --verbose", "k 123"),
    ("app --session-key sk-1", "sk-1"),
    ("SESSION_COOKIE=c00kie-v4l ./run", "c00kie-v4l"),
    ("curl -H 'Authorization: Bearer abc' http://svc", "abc"),
    ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ('{"headers": {"Authorization": "token ghp_x"}}', "ghp_x"),
    ("header is Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "eyJhbGciOiJIUzI1NiJ9.e30.sig"),
    ('{"auths": {"registry.example": {"auth": "dXNlcjpwYXNzd29yZA=="}}}', "dXNlcjpwYXNzd29yZA=="),
    ('{\\"auths\\": {\\"r\\": {\\"auth\\": \\"dXNlcjpwdw==\\"}}}', "dXNlcjpwdw=="),
    ("sessionKey: s3ss-k3y", "s3ss-k3y"),
])
def test_flag_cookie_authorization_docker_auth_and_session_key_forms_are_redacted(text, secret):
    out = scrubbed(text, secret)
    assert MARKER.search(out)


def test_flag_pairs_cookies_and_authorization_in_a_container_are_redacted():
    container = {
        "command": ["sh", "-c", "exec app --db-pass s3cr3t-1 -p s3cr3t-2"],
        "args": ["--db-pass", "pw-a", "-p", "pw-b", "--api-key=pw-c", "--port", "8080"],
        "env": [{"name": "ERLANG_COOKIE", "value": "pw-d"}, {"name": "AUTH_HEADER", "value": "Bearer Pw-e0000"},
                {"name": "SESSION_KEY", "value": "pw-f"}, {"name": "LOG_LEVEL", "value": "debug"}],
    }
    out = json.dumps(Redactor().data(container))
    for secret in ("s3cr3t-1", "s3cr3t-2", "pw-a", "pw-b", "pw-c", "pw-d", "Pw-e0000", "pw-f"):
        assert secret not in out, secret
    assert '"--port", "8080"' in out and '"debug"' in out and '"--db-pass", "<redacted' in out
    data = Redactor().data({"auths": {"r.example": {"auth": "dXNlcjpwYXNz"}}, "sessionKey": "x",
                            "headers": {"Authorization": "Bearer q"}})
    assert all(MARKER.fullmatch(v) for v in (data["auths"]["r.example"]["auth"], data["sessionKey"],
                                            data["headers"]["Authorization"]))


def test_flags_that_do_not_name_a_secret_and_paths_to_keys_stay_readable():
    """Precision: a flag names a secret by a secret word or by its last word (`--db-pass`, `--api-key`,
    `--cookie`, `--basic-auth`), so `--key-file`, `--keep-alive`, `--cookie-domain`, `--monkey` and
    `--no-auth` keep their values; a path after `-p` or a `*key` flag says where a key is, and a port
    after `-p` is a port (`memcached -p 11211`)."""
    readable = ["--keep-alive 30", "--key-file /etc/tls/tls.key", "--tls-key /etc/tls/tls.key",
                "mkdir -p /var/run/app", "--cookie-domain example.org", "--auth-mode oidc", "--monkey 3",
                "--no-auth server.js", "--password-file /run/secrets/db", "--port=8080",
                "use a bearer token or Basic authentication", "auth: basic", "auth: ldap",
                "memcached -p 11211; docker run -p 8080:80/tcp"]
    for text in readable:
        assert Redactor().text(text) == text, text
    args = ["--key-file", "/etc/k", "--tls-key", "./certs/tls.key", "--keep-alive", "30", "mkdir", "-p", "/data",
            "memcached", "-p", "11211"]
    assert Redactor().data({"args": args}) == {"args": args}
    assert redact._is_secret_flag("--db-pass") and redact._is_secret_flag("-p") and redact._is_secret_flag("--apiKey")
    assert not any(redact._is_secret_flag(f) for f in ("--keep-alive", "--key-file", "-P", "--no-auth", "--port"))


def test_secrets_outside_the_key_list_reach_no_output(tmp_path):
    """A Deployment with a password flag pair, `-p`, a cookie and a bearer header, and a ConfigMap with
    an Authorization line, a docker config and a session key, all written straight into the templates
    (so no values file teaches them), quoted whole by a policy: no report, bundle or terminal text
    holds one."""
    secrets = {"flag": "Fl4g-Secr3t-v1", "p": "P-flag-Secr3t", "cookie": "C00kie-Secr3t", "bearer": "B34rer-Secr3t",
               "header": "H34der-Secr3t", "docker": base64.b64encode(b"robot:D0cker-Secr3t").decode(),
               "session": "S3ssion-Secr3t"}
    deployment = f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector: {{matchLabels: {{app: app}}}}
  template:
    metadata: {{labels: {{app: app}}}}
    spec:
      containers:
        - name: app
          image: example/app:1
          command: ["sh", "-c", "exec app --db-pass {secrets['flag']}"]
          args: ["-p", "{secrets['p']}", "--port", "8080"]
          env:
            - {{name: ERLANG_COOKIE, value: "{secrets['cookie']}"}}
            - {{name: UPSTREAM_HEADER, value: "Bearer {secrets['bearer']}"}}
"""
    config = f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: proxy
data:
  proxy.conf: |
    upstream api
    Authorization: Bearer {secrets['header']}
  config.json: '{{"auths": {{"registry.example": {{"auth": "{secrets['docker']}"}}}}}}'
  app.yaml: |
    sessionKey: {secrets['session']}
"""
    root = tmp_path / "charts"
    write_chart(root, "leaky", {"deploy.yaml": deployment, "cm.yaml": config})
    module = tmp_path / "quote.py"
    module.write_text(QUOTING_POLICY)
    (tmp_path / "overlays").mkdir()
    policies = engine_policies() + policies_in(load_policy_module(module))
    config_ = gate_config(tmp_path, root, tmp_path / "overlays", cache=tmp_path / "cache", helm_versions=("4.1.4",))
    gate = Gate(config_)
    summary = gate.run(policies)
    quoted = [r for r in gate.results if r.policy.id == "QUOTE-001"]
    assert quoted and all(r.outcome.value == "failed" for r in quoted)
    raw = "\n".join(f.message + (f.excerpt or "") for r in quoted for f in r.findings)
    assert all(s in raw for s in secrets.values())  # the policy really quoted every secret
    outputs = {name: path.read_text() for name, path in summary.reports.items()}
    with tarfile.open(write_evidence(summary, tmp_path / "evidence.tar.gz")) as tar:
        outputs.update({m.name: tar.extractfile(m).read().decode() for m in tar.getmembers() if m.isfile()})
    outputs["terminal"] = "\n".join(describe_result(r, gate.redactor) for r in gate.results)
    lines = []
    recorder = type("Recorder", (), {"section": lambda self, *a, **k: None,
                                      "write_line": lambda self, line, **k: lines.append(line)})()
    write_summary(recorder, summary)
    outputs["summary"] = "\n".join(lines)
    assert {"chartgate.json", "chartgate.md", "chartgate.html", "chartgate.sarif", "junit.xml"} <= set(outputs)
    for label, secret in secrets.items():
        leaks = [name for name, text in outputs.items() if secret in text]
        assert not leaks, f"the {label} secret leaked into {leaks}"
    assert "--port" in outputs["chartgate.json"] and "8080" in outputs["chartgate.json"]


QUOTING_POLICY = """
import json

from chartgate import Applicability, Finding, policy


@policy(id="QUOTE-001", title="Quotes whole objects", receives="scenario", applies_to=Applicability(scenarios="*"),
        reference="tests/reliability",
        rationale="A test policy that puts every object it sees into its messages and excerpts.")
def quotes(ctx):
    for manifest in ctx.render.manifests:
        if manifest.kind in ("Deployment", "ConfigMap"):
            yield Finding.on(manifest, "$", "object is " + json.dumps(manifest.body))  # excerpt: the object
"""


# -- markers -----------------------------------------------------------------------------------------

def test_the_marker_is_not_an_unsalted_hash_of_the_secret():
    for secret in ("hunter22", "pw", "Pl4nted-Passw0rd"):
        assert hashlib.sha256(secret.encode()).hexdigest()[:8] not in _marker(secret)
    assert _marker("hunter22") == _marker("hunter22") != _marker("hunter23")  # equal within a run


_OTHER_RUN = "from chartgate.report.redact import _marker; print(_marker('hunter22'))"


def test_each_run_has_its_own_salt_and_child_processes_of_a_run_share_it():
    env = {k: v for k, v in os.environ.items() if k != "CHARTGATE_REDACTION_SALT"}
    runs = {subprocess.run([sys.executable, "-c", _OTHER_RUN], env=env, capture_output=True, text=True,
                           check=True).stdout.strip() for _ in range(2)}
    assert len(runs) == 2, "two runs produced the same marker for a secret"
    inherited = subprocess.run([sys.executable, "-c", _OTHER_RUN], capture_output=True, text=True,
                               check=True).stdout.strip()  # an xdist worker inherits the environment
    assert inherited == _marker("hunter22")


_PLUGIN_LOADED = "import os, chartgate.plugin; print(os.environ.get('CHARTGATE_REDACTION_SALT', ''))"


def test_the_plugin_draws_the_key_when_it_loads_so_xdist_workers_inherit_it():
    """pytest-xdist starts its workers after the plugins are loaded and before any redaction: the key
    must already be in the controller's environment then, or worker and controller markers differ."""
    env = {k: v for k, v in os.environ.items() if k != "CHARTGATE_REDACTION_SALT"}
    salt = subprocess.run([sys.executable, "-c", _PLUGIN_LOADED], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{32}", salt)


# -- ordinary words ----------------------------------------------------------------------------------

def test_a_learned_secret_is_redacted_where_it_stands_as_a_value_not_inside_names():
    redactor = Redactor()
    redactor.learn_values({"argocd": {"password": "argocd", "adminPassword": "argocd-admin-pw"}})
    redactor.learn_names(["argocd-server"])
    text = ("Deployment/argocd/argocd-server (templates/argocd/server.yaml) host argocd.example.org;\n"
            "password: argocd\nthe admin password is argocd-admin-pw.")
    out = redactor.text(text)
    assert "Deployment/argocd/argocd-server (templates/argocd/server.yaml) host argocd.example.org" in out
    assert "password: argocd" not in out and "argocd-admin-pw" not in out
    assert out.endswith("is " + _marker("argocd-admin-pw") + ".")


def test_a_long_secret_is_not_scrubbed_inside_longer_names_and_hosts():
    redactor = Redactor()
    redactor.learn_values({"db": {"password": "platform"}})
    out = redactor.text("owner platform-team, host platform.example.org, path /srv/platforms/x, value: platform")
    assert "platform-team" in out and "platform.example.org" in out and "/srv/platforms/x" in out
    assert out.endswith(_marker("platform"))


def test_a_secret_equal_to_a_resource_name_is_redacted_only_in_secret_positions():
    redactor = Redactor()
    redactor.learn_values({"auth": {"token": "keycloak-admin"}})
    redactor.learn_names(["keycloak-admin"])
    out = redactor.text("Service/iam/keycloak-admin selects nothing\ntoken: keycloak-admin")
    assert out.startswith("Service/iam/keycloak-admin selects nothing") and "token: keycloak-admin" not in out


def test_a_gate_over_an_argocd_like_chart_keeps_names_readable(tmp_path):
    root = tmp_path / "charts"
    write_chart(root, "argocd", {
        "server.yaml": CONFIGMAP.format(name="argocd-server", value="{{ .Values.server.host }}"),
        "secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: argocd-secret\n"
                       "stringData:\n  admin.password: {{ .Values.configs.password | quote }}\n"},
        values="configs:\n  password: argocd\nserver:\n  host: argocd.example.org\n")
    gate, summary = run_small_gate(tmp_path, root)
    report = (tmp_path / "reports" / "chartgate.json").read_text()
    data = json.loads(report)
    assert [c["name"] for c in data["charts"]] == ["argocd"]
    assert {r["chart"] for r in data["results"]} == {"argocd"}
    assert "<redacted" not in report  # nothing in the report is a secret
    bundle = write_evidence(summary, tmp_path / "evidence.tar.gz")
    with tarfile.open(bundle) as tar:
        [member] = [m for m in tar.getmembers() if m.name.endswith("manifests/argocd/default.yaml")]
        manifests = tar.extractfile(member).read().decode()
    assert "name: argocd-server" in manifests and "key: argocd.example.org" in manifests
    assert "admin.password: argocd" not in manifests and f"admin.password: {_marker('argocd')}" in manifests


# -- file modes --------------------------------------------------------------------------------------

def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_reports_cache_entries_and_the_evidence_bundle_are_owner_only_goldens_are_not(tmp_path):
    root = tmp_path / "charts"
    write_chart(root, "tiny", {"cm.yaml": CONFIGMAP.format(name="cm", value="v")})
    old_umask = os.umask(0o022)
    try:
        gate, summary = run_small_gate(tmp_path, root)
        bundle = write_evidence(summary, tmp_path / "evidence.tar.gz")
    finally:
        os.umask(old_umask)
    reports = sorted((tmp_path / "reports").iterdir())
    entries = sorted((tmp_path / "cache").rglob("*.json"))
    goldens = sorted((tmp_path / "golden").rglob("*.yaml"))
    assert reports and entries and goldens
    for path in [*reports, *entries, bundle]:
        assert _mode(path) == 0o600, f"{path} is {oct(_mode(path))}"
    for directory in {p.parent for p in entries}:
        assert _mode(directory) == 0o700, directory
    for path in goldens:
        assert _mode(path) == 0o644, f"{path} is {oct(_mode(path))}"
    with tarfile.open(bundle) as tar:
        assert any(m.name.endswith("default.yaml") for m in tar.getmembers())


def test_a_render_cache_entry_written_through_the_renderer_is_owner_only(tmp_path):
    chart = _load_chart_dir(write_chart(tmp_path, "c", {"cm.yaml": CONFIGMAP.format(name="cm", value="v")}))
    Renderer(helm(), tmp_path / "cache", workers=1).render(chart, Scenario("default", ScenarioKind.DEFAULT))
    [entry] = (tmp_path / "cache" / "renders").rglob("*.json")
    assert _mode(entry) == 0o600 and _mode(tmp_path / "cache") == 0o700


def test_redact_module_exposes_its_marker_form():
    assert redact._MARKER_PREFIX == "<redacted hmac:" and MARKER.fullmatch(_marker("x"))
