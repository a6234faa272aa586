"""Helm runs isolated from the caller: a minimal allow-listed environment (no CI token reaches a render,
not even through a chart file linked to /proc/self/environ), and hostile release names or namespaces
can never act as Helm flags, on Helm 3.19 and Helm 4.1 alike.

Facts about Helm these tests rely on (checked here against the pinned binaries, not assumed):
- templates cannot read environment variables: Helm removes sprig's `env` and `expandenv`;
- `.Files.Get` reads what a symlinked chart file points at (Helm follows links and only logs it);
- both versions accept `helm template [flags] -- RELEASE CHART`, and refuse a release name that
  starts with `--` once it stands after `--`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chartgate.render import helm as helm_module
from chartgate.discover.charts import _load_chart_dir
from chartgate.core.errors import InvalidConfig, RenderError
from chartgate.render.helm import TemplateRequest
from chartgate.plan.releases import release_scenarios

from .helpers import CONFIGMAP, HELM_VERSIONS, helm, write_chart

CANARY = "ci-token-canary-7d1f0b"
ENV_PROBE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: env-probe
data:
  environ: {{ .Files.Get "files/env" | quote }}
"""


@pytest.fixture
def hostile_environment(monkeypatch, tmp_path):
    """What a CI job's environment holds: tokens, cloud credentials, the user's kube and Helm settings."""
    for key in ("GITHUB_TOKEN", "CI_JOB_TOKEN", "AWS_SECRET_ACCESS_KEY", "VAULT_TOKEN", "NPM_TOKEN"):
        monkeypatch.setenv(key, CANARY)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    monkeypatch.setenv("HELM_KUBECONTEXT", "production")
    monkeypatch.setenv("HELM_PLUGINS", str(tmp_path / "user-plugins"))
    monkeypatch.setenv("HELM_REGISTRY_CONFIG", str(tmp_path / "registry.json"))
    monkeypatch.setenv("HELM_POST_RENDERER", str(tmp_path / "evil.sh"))
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    monkeypatch.setenv("LANG", "C.UTF-8")


def test_the_helm_environment_is_an_allow_list(hostile_environment, tmp_path):
    env = helm("4.1.4").env
    assert CANARY not in "".join(env.values())
    allowed = set(helm_module._PASSED_THROUGH) | {"HOME", "TMPDIR", "TZ", "KUBECONFIG", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
                                     "http_proxy", "https_proxy", "no_proxy"}
    assert {k for k in env if not k.startswith("HELM_")} <= allowed
    assert set(env) >= {"PATH", "HOME", "HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME", "HELM_PLUGINS"}
    assert env["LANG"] == "C.UTF-8" and env["TZ"] == "UTC"
    for key, value in env.items():  # every path Helm may use is private, none is the user's
        if key.startswith("HELM_") and key != "HELM_NO_PLUGINS" or key in ("HOME", "TMPDIR", "KUBECONFIG"):
            assert not value.startswith(str(tmp_path)), key
    assert "HELM_KUBECONTEXT" not in env and "HELM_POST_RENDERER" not in env
    assert not os.path.exists(env["KUBECONFIG"])
    assert env["HTTPS_PROXY"] == env["https_proxy"] == "http://127.0.0.1:9"


def test_helm_environment_takes_nothing_it_does_not_name(tmp_path):
    source = {"PATH": "/bin", "LC_ALL": "C", "SECRET": "x", "HELM_DRIVER": "sql", "SSH_AUTH_SOCK": "/s",
              "HOME": "/root", "XDG_CONFIG_HOME": "/root/.config", "DOCKER_CONFIG": "/root/.docker"}
    env = helm_module._helm_environment(tmp_path, source)
    assert {k: env[k] for k in source if k in env} == {"PATH": "/bin", "LC_ALL": "C", "HOME": str(tmp_path / "home")}


@pytest.mark.parametrize("version", HELM_VERSIONS)
def test_a_chart_file_linked_to_proc_environ_carries_no_host_variable_into_a_render(
        version, hostile_environment, tmp_path):
    """Even if a chart got past chartgate's link check (see test_symlinks.py), what Helm would read from
    its own environment holds only the allow-list: no token, no credential."""
    chart = write_chart(tmp_path, "leaky", {"probe.yaml": ENV_PROBE})
    (chart / "files").mkdir()
    (chart / "files" / "env").symlink_to("/proc/self/environ")
    output = helm(version).template(TemplateRequest(chart, release="leaky"), chart="leaky", scenario="default")
    assert "HELM_CONFIG_HOME" in output.stdout  # the probe did read Helm's environment...
    assert CANARY not in output.stdout  # ...which holds none of the caller's secrets
    assert "production" not in output.stdout and "AWS_SECRET_ACCESS_KEY" not in output.stdout


@pytest.mark.parametrize("function", ["env", "expandenv"])
def test_templates_cannot_read_environment_variables_at_all(function, tmp_path):
    """Helm's own guarantee, checked on both versions: sprig's env functions are not defined."""
    chart = write_chart(tmp_path, "env-fn", {"cm.yaml": f'data: {{{{ {function} "GITHUB_TOKEN" }}}}\n'})
    for version in HELM_VERSIONS:
        with pytest.raises(RenderError, match=f'function "{function}" not defined'):
            helm(version).template(TemplateRequest(chart), chart="env-fn", scenario="default")


def test_renders_do_not_depend_on_the_callers_time_zone(hostile_environment, tmp_path):
    chart = write_chart(tmp_path, "clock", {"cm.yaml": CONFIGMAP.format(
        name="clock", value='{{ now | date "MST" | quote }}')})
    output = helm("4.1.4").template(TemplateRequest(chart), chart="clock", scenario="default")
    assert 'key: "UTC"' in output.stdout, output.stdout


def test_helm_version_runs_in_the_same_isolated_environment(tmp_path, monkeypatch):
    """Every Helm call, not only `template`: a fake Helm prints the environment it was given."""
    script = tmp_path / "helm"
    log = tmp_path / "env.log"
    script.write_text(f'#!/bin/sh\nenv > {log}\necho v4.1.4\n')
    script.chmod(0o755)
    monkeypatch.setenv("GITHUB_TOKEN", CANARY)
    from chartgate.render.helm import Helm
    from chartgate.render.toolchain import locate
    fake = Helm(locate(tmp_path, env={"HELM_BIN": str(script)}))
    assert fake.version == "v4.1.4"
    seen = log.read_text()
    assert CANARY not in seen and "GITHUB_TOKEN" not in seen and "HELM_CONFIG_HOME=" in seen


# -- flag injection ------------------------------------------------------------------------------------

EVIL_SCRIPT = "#!/bin/sh\ntouch {marker}\ncat\n"


@pytest.fixture
def evil(tmp_path) -> tuple[Path, Path, Path]:
    """A post-renderer that leaves a marker when run, and a directory --output-dir would write into."""
    marker = tmp_path / "post-renderer-ran"
    script = tmp_path / "x.sh"
    script.write_text(EVIL_SCRIPT.format(marker=marker))
    script.chmod(0o755)
    return script, marker, tmp_path / "written-by-helm"


@pytest.mark.parametrize("version", HELM_VERSIONS)
@pytest.mark.parametrize("field", ["release", "namespace"])
def test_a_hostile_release_name_or_namespace_never_acts_as_a_helm_flag(version, field, evil, tmp_path):
    """`releaseName: --post-renderer=./x.sh` ran a program under Helm 3 and `--output-dir=...` wrote
    files under Helm 4 when the release name was the first positional argument. After `--` Helm reads
    it as a (refused) release name; a namespace is always a flag's value."""
    script, marker, out_dir = evil
    chart = write_chart(tmp_path, "victim", {"cm.yaml": CONFIGMAP.format(name="cm", value="v")})
    for hostile in (f"--post-renderer={script}", f"--output-dir={out_dir}"):
        request = TemplateRequest(chart, **{field: hostile})
        try:
            helm(version).template(request, chart="victim", scenario="default")
        except RenderError as exc:
            assert field == "release" and "invalid release name" in exc.helm_message
        assert not marker.exists(), f"Helm {version} ran the post-renderer given as {field}"
        assert not out_dir.exists(), f"Helm {version} wrote files for the --output-dir given as {field}"


@pytest.mark.parametrize("version", HELM_VERSIONS)
def test_both_helm_versions_accept_positional_arguments_after_a_double_dash(version, tmp_path):
    chart = write_chart(tmp_path, "plain", {"cm.yaml": CONFIGMAP.format(name="{{ .Release.Name }}", value="v")})
    request = TemplateRequest(chart, release="my-release", namespace="team-a")
    argv = request.args()
    assert argv[-3:] == ["--", "my-release", str(chart)]
    output = helm(version).template(request, chart="plain", scenario="default")
    assert "name: my-release" in output.stdout


HELM_RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: flux-system
spec:
  releaseName: {release}
  targetNamespace: {namespace}
  chart:
    spec:
      chart: victim
"""


@pytest.mark.parametrize("field, release, namespace, name, line, says", [
    ("release", "--post-renderer=./x.sh", "apps", "victim", 7, "spec.releaseName '--post-renderer=./x.sh'"),
    ("release", "--output-dir=/tmp/x", "apps", "victim", 7, "not a valid Helm release name"),
    ("release", "a" * 54, "apps", "victim", 7, "54 characters long; Helm release names have at most 53"),
    ("release", "Upper_Case", "apps", "victim", 7, "not a valid Helm release name"),
    ("namespace", "ok", "--output-dir=/tmp/x", "victim", 8, "spec.targetNamespace '--output-dir=/tmp/x'"),
    ("namespace", "ok", "a.b", "victim", 8, "not a valid namespace"),
    ("name", "ok", "apps", "'--set=x'", 4, "metadata.name '--set=x' is not a valid Kubernetes object name"),
])
def test_helmrelease_names_are_validated_with_an_error_naming_the_file_and_line(
        tmp_path, field, release, namespace, name, line, says):
    chart = _load_chart_dir(write_chart(tmp_path / "charts", "victim"))
    hr = tmp_path / "clusters" / "prod" / "victim.yaml"
    hr.parent.mkdir(parents=True)
    hr.write_text(HELM_RELEASE.format(name=name, release=release, namespace=namespace))
    with pytest.raises(InvalidConfig) as excinfo:
        release_scenarios(chart, [hr])
    message = str(excinfo.value)
    assert message.startswith(f"{hr}:{line}: HelmRelease ") and says in message, message


def test_metadata_name_is_validated_as_the_release_name_when_release_name_is_unset(tmp_path):
    chart = _load_chart_dir(write_chart(tmp_path / "charts", "victim"))
    hr = tmp_path / "hr.yaml"
    hr.write_text(HELM_RELEASE.format(name="x" * 60, release="''", namespace="apps"))
    with pytest.raises(InvalidConfig, match=r"hr.yaml:4: .*metadata.name \(the release name.*at most 53"):
        release_scenarios(chart, [hr])


def test_valid_helmrelease_names_still_become_scenarios(tmp_path):
    chart = _load_chart_dir(write_chart(tmp_path / "charts", "victim"))
    hr = tmp_path / "hr.yaml"
    hr.write_text(HELM_RELEASE.format(name="victim", release="victim.v2", namespace="apps-1"))
    [scenario] = release_scenarios(chart, [hr])
    assert (scenario.release, scenario.namespace) == ("victim.v2", "apps-1")
