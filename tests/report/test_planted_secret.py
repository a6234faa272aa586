"""A planted secret never reaches any output: not the reports (JSON, Markdown, HTML, SARIF, the gate's
JUnit and pytest's own --junitxml), not the evidence bundle, not the terminal.

The chart is a copy of bp-stunner with a Secret whose `data` (base64) and `stringData` (a connection
string with credentials) come from a values file that also holds `password: <known>`. A policy then
does the worst it can: it excerpts the whole Secret, quotes its values in messages and excerpts the
values file. The gate runs as a real `pytest` process with `--evidence`.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from ..conftest import REPO, build_mutant

PASSWORD = "Pl4nted-Passw0rd-7f3a"
DB_PASSWORD = "Db-S3cret-91c2e"
API_TOKEN = "tok_planted_5b8d9e"

SPEC = {
    "description": "bp-stunner plus a Secret fed from a planted values file",
    "base": "bp-stunner",
    "files": {"templates/planted-secret.yaml": """\
{{- if .Values.planted }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-planted
type: Opaque
data:
  blob: {{ .Values.planted.password | b64enc | quote }}
stringData:
  connection: {{ .Values.planted.dsn | quote }}
  settings.yaml: |
    apiToken: {{ .Values.planted.apiToken }}
{{- end }}
"""},
    "overlay_files": {"planted-values.yaml": f"""\
planted:
  password: {PASSWORD}
  dsn: postgres://app:{DB_PASSWORD}@db.internal:5432/app
  apiToken: {API_TOKEN}
"""},
}

POLICY_MODULE = '''\
import base64
from pathlib import Path

from chartgate import Applicability, Finding, policy


@policy(id="PLANT-001", title="Reports never show secret values", rationale="A policy that quotes secrets.",
        reference="tests/report/test_planted_secret.py", receives="scenario",
        applies_to=Applicability(scenarios=("overlay.planted",)))
def quotes_secrets(ctx):
    for secret in ctx.render.of_kind("Secret"):
        blob = secret.body["data"]["blob"]
        yield Finding.on(secret, "$.data.blob", f"blob is {blob}, i.e. {base64.b64decode(blob).decode()}; "
                         f"stringData is {secret.body['stringData']}")
    planted = Path(ctx.scenario.values_files[-1])
    yield Finding(f"the values file says: {planted.read_text()}", template="bp-stunner/values.yaml",
                  path="$.planted.password", excerpt=planted.read_text())
'''


def _planted_forms() -> dict[str, str]:
    forms = {"password": PASSWORD, "db password": DB_PASSWORD, "api token": API_TOKEN,
             "password, base64": base64.b64encode(PASSWORD.encode()).decode()}
    return forms


def _bundle_texts(path: Path) -> dict[str, str]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read().decode("utf-8", errors="replace")
                for m in tar.getmembers() if m.isfile()}


@pytest.mark.parametrize("mode", ["serial", "xdist"])
def test_planted_secret_never_appears_in_any_output(tmp_path, mode):
    # Under -n (without --evidence) the controller never renders: it learns the secrets from its workers.
    extra = ["-n", "2"] if mode == "xdist" else []
    spec_path = tmp_path / "planted.yaml"
    spec_path.write_text(yaml.safe_dump(SPEC))
    chart_root, overlay_root, _ = build_mutant(spec_path, tmp_path / "tree")
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "planted.py").write_text(POLICY_MODULE)
    reports, evidence, pytest_junit = tmp_path / "reports", tmp_path / "evidence.tar.gz", tmp_path / "pytest-junit.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["CHARTGATE_TOOLS_DIR"] = str(REPO / ".tools")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "policies", "-p", "no:randomly", "-p", "no:cacheprovider", "-rA",
         "--chart-root", str(chart_root), "--overlay-root", str(overlay_root), "--report-dir", str(reports),
         "--platform-config", str(REPO / "platform.yaml"), "--helm-version", "4.1.4",
         "--cache-dir", str(tmp_path / "cache"), "--junitxml", str(pytest_junit), *extra,
         *(["--evidence", str(evidence)] if mode == "serial" else [])],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    terminal = proc.stdout + proc.stderr

    # The run really did surface the secret-bearing findings (otherwise absence proves nothing).
    assert proc.returncode == 1, terminal
    assert "PLANT-001" in terminal and "<redacted hmac:" in terminal, terminal
    outputs = {f"terminal": terminal, "pytest --junitxml": pytest_junit.read_text()}
    for name in ("chartgate.json", "chartgate.md", "chartgate.html", "chartgate.sarif", "junit.xml"):
        outputs[name] = (reports / name).read_text()
    if mode == "serial":
        bundle = _bundle_texts(evidence)
        assert any(name.endswith("overlay.planted.yaml") for name in bundle), sorted(bundle)
        outputs.update({f"bundle:{name}": text for name, text in bundle.items()})
        assert "kind: Secret" in bundle["chartgate-evidence/manifests/bp-stunner/overlay.planted.yaml"]

    for label, secret in _planted_forms().items():
        leaks = [name for name, text in outputs.items() if secret in text]
        assert not leaks, f"the planted {label} leaked into: {leaks}"
    # Redacted, not dropped: the findings still point at the Secret, with a marker in the value's place.
    assert "Secret/bp-stunner/bp-stunner-planted" in outputs["chartgate.md"]
    assert outputs["chartgate.json"].count("<redacted hmac:") >= 4
