"""A configured repository outside chartgate's checkout gates itself with the installed packs and
its own policies: plain `pytest` from the root or from any subdirectory, `pytest <own dir>` in any
argument order - the same whole gate each time; failing node ids paste back; a pack configuration
that would judge something else is refused. (The editable install of this checkout provides the
built-in pack here; test_wheel.py does the same from the built wheel.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chartgate.core.errors import InvalidConfig
from chartgate.packs import expand_pack_argument, gate_arguments, installed_packs, pack_nodeid
from chartgate.settings import config_file, policy_sources_for

from ..conftest import REPO
from .external import PYPROJECT, vendor, write_external_repository
from .runs import REPORTS, counts, failed_nodeids, judged, pytest_in, report, user_env

PYTHON = sys.executable
WHOLE = "17 failed, 140 passed, 243 skipped, 18 warnings"  # web, api and shop under the whole gate


@pytest.fixture(scope="module")
def external(tmp_path_factory) -> tuple[Path, dict]:
    base = tmp_path_factory.mktemp("external")
    return write_external_repository(base / "platform-charts"), user_env(base / "cache")


@pytest.fixture(scope="module")
def first_run(external):
    repo, env = external
    proc = pytest_in(PYTHON, repo, env=env)
    proc.report = report(repo)  # later tests (-k, --co, one node id) rewrite the report file
    return proc


def test_plain_pytest_judges_the_built_in_packs_and_the_own_policies(external, first_run):
    repo, _ = external
    output = first_run.stdout + first_run.stderr
    assert first_run.returncode == pytest.ExitCode.TESTS_FAILED, output[-3000:]
    assert f"rootdir: {repo}" in output and "configfile: pyproject.toml" in output
    data = first_run.report
    outcomes = judged(data)
    assert outcomes["TEAM-001"] == {"failed", "passed"}  # the own policy, from gate-checks/ (not `policies/`)
    assert {r["outcome"] for r in data["results"] if r["policy"] == "TEAM-001" and r["chart"] != "shop"} == {"failed"}
    assert outcomes["RENDER-001"] == {"passed"} and "failed" in outcomes["SEC-002"]  # the built-in pack
    assert outcomes["GOLD-001"] == {"failed"}  # a new chart without goldens: one finding per chart
    assert sorted(d["chart"] for d in data["defects"] if d["policy"] == "GOLD-001") == ["api", "shop", "web"]
    # web's toggle-dependent defect, once, where web's templates live: not again under shop, which
    # vendors web and only explores its toggles
    privileged = [d for d in data["defects"] if d["policy"] == "SEC-001"]
    assert [(d["chart"], d["resource"]) for d in privileged] == [("web", "Deployment/web/web")]
    assert {o["scenario"]: o["inputs"]["values"] for o in privileged[0]["occurrences"]} == {
        "plan.002": {"debug.enabled": True}, "plan.003": {"debug.enabled": True, "serviceAccount.create": False}}
    assert all(d["chart"] != "shop" or d["policy"] == "GOLD-001" for d in data["defects"])
    assert data["summary"]["judged_elsewhere"] == {"shop": {"web": 21}}
    assert data["summary"]["per_chart"]["api"]["failed"] > 0  # api rendered with its ci/ values
    assert len({p["id"] for p in data["policies"]}) > 40
    assert data["summary"]["gate"] == "failed" and data["summary"]["partial"] is None
    assert counts(first_run.stdout) == WHOLE
    # Failure texts link only what resolves here: the own policy's URL, not chartgate's docs/policies.md.
    assert "see: https://example.invalid/handbook#team-label" in first_run.stdout
    assert "see: docs/policies.md" not in first_run.stdout and "why: " in first_run.stdout
    assert not (repo / ".pytest_cache").exists()  # the repository's [tool.pytest.ini_options] addopts
    assert (repo / REPORTS / "junit.xml").is_file() and not (repo / "reports").exists()


@pytest.mark.parametrize("where, args", [
    ("charts/web", ()),  # from a subdirectory: the configuration is found upward
    ("charts", ("../gate-checks",)),
    (".", ("gate-checks",)),  # the own directory: the packs are added
    (".", ("-q", "gate-checks", "-rA")),
])
def test_every_start_gives_the_same_whole_gate(external, first_run, where, args):
    repo, env = external
    proc = pytest_in(PYTHON, repo / where, *args, env=env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == pytest.ExitCode.TESTS_FAILED, output[-3000:]
    assert f"rootdir: {repo}" in output or "-q" in args
    assert counts(proc.stdout) == WHOLE
    assert report(repo)["summary"]["partial"] is None  # reports land beside the configuration file


def test_failing_node_ids_paste_back_from_the_repository_root(external, first_run):
    repo, env = external
    nodeids = failed_nodeids(first_run.stdout)
    own = next(n for n in nodeids if n.startswith("gate-checks/team.py::TEAM-001["))
    builtin = next(n for n in nodeids if n.startswith("chartgate_builtin/golden.py::GOLD-001["))
    for nodeid in (own, builtin):
        proc = pytest_in(PYTHON, repo, nodeid, env=env)
        output = proc.stdout + proc.stderr
        assert proc.returncode == pytest.ExitCode.TESTS_FAILED, output[-3000:]
        assert f"rootdir: {repo}" in output
        assert counts(proc.stdout) == "1 failed" and f"FAILED {nodeid}" in proc.stdout
        partial = report(repo)["summary"]["partial"]  # one check is not the whole gate, and says so
        assert partial and "chartgate_builtin/render.py" in partial["policy_modules"]["not_run"]
    shown = pytest_in(PYTHON, repo / "charts", "-q", env=env)  # below a subdirectory pytest shows ../<id>
    assert f"FAILED ../{builtin}" in shown.stdout, shown.stdout[-3000:]
    again = pytest_in(PYTHON, repo / "charts", f"../{builtin}", env=env)
    assert again.returncode == pytest.ExitCode.TESTS_FAILED and counts(again.stdout) == "1 failed", \
        (again.stdout + again.stderr)[-3000:]


def test_the_repositorys_pytest_options_are_read_in_every_argument_order_or_refused(external, tmp_path):
    repo, env = external
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    honoured = pytest_in(PYTHON, repo, "gate-checks", str(other), "--co", env=env)
    assert f"rootdir: {repo}" in honoured.stdout, honoured.stdout[-2000:] + honoured.stderr
    refused = pytest_in(PYTHON, repo, str(other), "gate-checks", "--co", env=env)
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR
    assert f"pytest read its options from {other / 'pytest.ini'}, not from {repo / 'pyproject.toml'}" in refused.stderr
    assert f"pass `-c {repo / 'pyproject.toml'}`" in refused.stderr


@pytest.mark.parametrize("table, says", [
    ('packs = ["nope"]', "no installed policy pack named 'nope'; installed: ['builtin']"),
    ('policies = "missing"', "policies: directory"),
])
def test_a_pack_configuration_that_cannot_be_honoured_is_refused(tmp_path, table, says):
    repo = write_external_repository(tmp_path / "repo", pyproject=PYPROJECT.replace(
        'policies = "gate-checks"', table if table.startswith("policies") else f'policies = "gate-checks"\n{table}'))
    proc = pytest_in(PYTHON, repo, env=user_env(tmp_path / "cache"))
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout[-2000:]
    assert says in proc.stderr and str(repo / "pyproject.toml") in proc.stderr


def test_an_own_policy_reusing_a_built_in_id_is_refused(tmp_path):
    repo = write_external_repository(tmp_path / "repo")
    team = repo / "gate-checks" / "team.py"
    team.write_text(team.read_text().replace('id="TEAM-001"', 'id="RENDER-001"'))
    proc = pytest_in(PYTHON, repo, env=user_env(tmp_path / "cache"))
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout[-2000:]
    assert "policy id RENDER-001 is defined twice" in proc.stderr and str(team) in proc.stderr


def test_packs_empty_judges_only_the_own_policies_when_said_explicitly(tmp_path):
    repo = write_external_repository(tmp_path / "repo", pyproject=PYPROJECT + "packs = []\n")
    proc = pytest_in(PYTHON, repo, env=user_env(tmp_path / "cache"))
    assert proc.returncode == pytest.ExitCode.TESTS_FAILED, proc.stdout[-2000:]
    assert set(judged(report(repo))) == {"TEAM-001"}


# -- the mechanism, without running pytest ---------------------------------------------------------

def test_the_checkouts_policy_directory_is_the_built_in_pack_and_is_collected_once():
    sources = policy_sources_for(REPO)
    assert [p.name for p in sources.packs] == ["builtin"]
    assert sources.packs[0].directory == sources.own_dir == (REPO / "policies").resolve()  # editable install
    assert sources.directories() == [(REPO / "policies").resolve()]
    assert len(sources.modules()) == len(set(sources.modules())) == len(sources.packs[0].modules)
    # `make gate` (= pytest policies): nothing to add; `pytest tests`: not the gate
    assert gate_arguments(sources, ["policies"], REPO, no_arguments=False) == ["policies"]
    assert gate_arguments(sources, ["tests"], REPO, no_arguments=False) is None


def test_arguments_add_the_rest_of_the_gate_in_any_order_unless_narrowed(tmp_path):
    repo = write_external_repository(tmp_path / "repo")
    sources = policy_sources_for(repo / "charts")  # found upward
    builtin = str(installed_packs()["builtin"].directory)
    own = str((repo / "gate-checks").resolve())
    assert gate_arguments(sources, [], repo, no_arguments=True) == [builtin, own]
    assert gate_arguments(sources, ["gate-checks", "charts"], repo, no_arguments=False) == ["gate-checks", "charts", builtin]
    assert gate_arguments(sources, ["charts", "gate-checks"], repo, no_arguments=False) == ["charts", "gate-checks", builtin]
    assert gate_arguments(sources, [str(repo)], repo, no_arguments=False) == [str(repo), builtin]
    assert gate_arguments(sources, ["gate-checks/team.py"], repo, no_arguments=False) is None  # partial, said so
    assert gate_arguments(sources, ["charts"], repo, no_arguments=False) is None  # no policy module there
    module = installed_packs()["builtin"].modules[0]
    assert pack_nodeid(module, sources.packs) == f"chartgate_builtin/{module.name}"
    packs = sources.packs
    assert expand_pack_argument(f"chartgate_builtin/{module.name}::X[c]", repo, packs) == f"{module}::X[c]"
    assert expand_pack_argument(f"../chartgate_builtin/{module.name}", repo / "charts", packs, repo) == str(module)
    assert expand_pack_argument("gate-checks/team.py::TEAM-001[web]", repo, packs) == "gate-checks/team.py::TEAM-001[web]"
    assert expand_pack_argument("chartgate_builtin/nope.py", repo, packs) == "chartgate_builtin/nope.py"


def test_the_configuration_is_the_nearest_pyproject_holding_the_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.chartgate]\nchart-roots = ['.']\n")
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "sub" / "pyproject.toml").write_text("[project]\nname = 'x'\n")  # no table: not it
    assert config_file(tmp_path / "sub" / "deeper") == tmp_path / "pyproject.toml"
    (tmp_path / "sub" / "pyproject.toml").write_text("[tool.chartgate]\nchart-roots = ['.']\n")
    assert config_file(tmp_path / "sub" / "deeper") == tmp_path / "sub" / "pyproject.toml"
    (tmp_path / "sub" / "pyproject.toml").write_text("[tool.chartgate\n")
    with pytest.raises(InvalidConfig, match="invalid TOML"):
        config_file(tmp_path / "sub" / "deeper")


def test_chartgate_check_judges_the_same_whole_gate_from_a_subdirectory(external, first_run):
    # The packs live outside the repository: `chartgate check` must still read the repository's own
    # configuration (its [tool.pytest.ini_options] included) and judge packs + own policies.
    repo, env = external
    first = first_run.report
    proc = subprocess.run([PYTHON, "-m", "chartgate", "check"], cwd=repo / "charts" / "web", env=env,
                          capture_output=True, text=True, timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output[-3000:]
    assert "configfile: pyproject.toml" in output and counts(proc.stdout) == WHOLE
    assert judged(report(repo)) == judged(first)


# -- exit codes, -n, dependencies, required input ----------------------------------------------------

def check_in(repo: Path, *args: str, env: dict, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "chartgate", "check", *args], cwd=cwd or repo, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("args, code, verdict", [
    (("-k", "SEC-004"), 2, "partial"),  # a selection seeing warnings only: partial, never green
    (("-k", "no-such-check"), 2, "incomplete"),  # nothing selected
    (("-k", "TEAM"), 1, "failed"),  # a selection seeing a blocking finding: red, and says what it left out
    (("-x",), 1, "incomplete"),  # stopped after the first blocking finding
])
def test_the_exit_code_of_a_selection_or_a_stopped_run(external, first_run, args, code, verdict):
    repo, env = external
    proc = check_in(repo, *args, env=env)
    assert proc.returncode == code, (proc.stdout + proc.stderr)[-3000:]
    data = report(repo)
    assert data["summary"]["gate"] == verdict
    if verdict != "incomplete":
        assert data["summary"]["partial"]["reason"].endswith("deselected (-k, -m, --deselect, node ids or --lf)")


def test_the_exit_code_of_a_green_gate_is_0(tmp_path):
    # packs = []: the whole gate is the repository's own policy, which every chart now satisfies
    repo = write_external_repository(tmp_path / "repo", pyproject=PYPROJECT + "packs = []\n", team_label=True)
    proc = check_in(repo, env=user_env(tmp_path / "cache"))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert report(repo)["summary"]["gate"] == "passed" and set(judged(report(repo))) == {"TEAM-001"}


@pytest.mark.parametrize("change, args, says", [
    (None, ("--no-such-option",), "unrecognized arguments: --no-such-option"),
    ('fail-on = "sometimes"', (), "fail-on"),
])
def test_the_exit_code_of_a_usage_or_configuration_error_is_4(tmp_path, change, args, says):
    repo = write_external_repository(tmp_path / "repo", pyproject=PYPROJECT + (f"{change}\n" if change else ""))
    proc = check_in(repo, *args, env=user_env(tmp_path / "cache"))
    assert proc.returncode == 4, (proc.stdout + proc.stderr)[-3000:]
    assert says in proc.stderr and not (repo / REPORTS / "chartgate.json").exists()


def test_the_exit_code_of_an_internal_error_is_3(tmp_path):
    repo = write_external_repository(tmp_path / "repo")
    (repo / "conftest.py").write_text("def pytest_collection_modifyitems(items):\n    raise RuntimeError('a bug')\n")
    proc = check_in(repo, env=user_env(tmp_path / "cache"))
    assert proc.returncode == 3, (proc.stdout + proc.stderr)[-3000:]


def test_chartgate_check_under_xdist_gives_the_same_verdict(external, first_run):
    repo, env = external
    proc = check_in(repo, "-n", "2", env=env)
    assert proc.returncode == first_run.returncode == 1, (proc.stdout + proc.stderr)[-3000:]
    data = report(repo)
    assert data["summary"]["gate"] == "failed" and judged(data) == judged(first_run.report)
    assert data["summary"]["defects"] == first_run.report["summary"]["defects"]


def test_a_required_value_without_its_ci_file_is_one_finding_the_rest_skipped_and_counted(tmp_path):
    repo = write_external_repository(tmp_path / "repo", ci_values=False)
    proc = pytest_in(PYTHON, repo, env=user_env(tmp_path / "cache"))
    assert proc.returncode == 1, (proc.stdout + proc.stderr)[-3000:]
    data = report(repo)
    api = [d for d in data["defects"] if d["chart"] == "api"]
    assert [d["policy"] for d in api] == ["RENDER-001"] and "database.host" in api[0]["message"]
    results = [r for r in data["results"] if r["chart"] == "api"]
    skipped = [r for r in results if r.get("cause") == "render-failed"]
    assert skipped and all("RENDER-001" in r["message"] for r in skipped)
    assert data["summary"]["per_chart"]["api"]["skipped"] >= len(skipped)
    assert {r["policy"] for r in results if r["outcome"] == "failed"} == {"RENDER-001"}


def test_a_vendored_copy_older_than_its_source_is_dep_001_with_the_refresh_command(tmp_path):
    repo = write_external_repository(tmp_path / "repo")
    env = user_env(tmp_path / "cache")
    assert judged_dep(repo, env) == ("passed", [])  # fresh copy, and now a cached result
    service = repo / "charts" / "web" / "templates" / "service.yaml"
    service.write_text(service.read_text() + "# the source moved on\n")
    outcome, findings = judged_dep(repo, env)  # the cached result must not hold: the source changed
    assert outcome == "failed" and len(findings) == 1
    assert "charts/web-0.1.0.tgz is not the current file://../web" in findings[0]["message"]
    assert "templates/service.yaml (changed)" in findings[0]["message"]
    assert f"Run `helm dependency update {repo / 'charts' / 'shop'}`" in findings[0]["message"]
    vendor(repo)  # what that command does
    assert judged_dep(repo, env) == ("passed", [])


def judged_dep(repo: Path, env: dict) -> tuple[str, list]:
    pytest_in(PYTHON, repo, "-k", "DEP-001", env=env)
    result = next(r for r in report(repo)["results"] if r["policy"] == "DEP-001" and r["chart"] == "shop")
    return result["outcome"], result["findings"]
