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

from chartgate.errors import InvalidConfig
from chartgate.packs import expand_pack_argument, gate_arguments, installed_packs, pack_nodeid
from chartgate.settings import config_file, policy_sources_for

from ..conftest import REPO
from .external import PYPROJECT, write_external_repository
from .runs import REPORTS, counts, failed_nodeids, judged, pytest_in, report, user_env

PYTHON = sys.executable
WHOLE = "5 failed, 36 passed, 61 skipped, 9 warnings"  # the web chart under the whole gate


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
    assert outcomes["TEAM-001"] == {"failed"}  # the own policy, from gate-checks/ (not `policies/`)
    assert outcomes["RENDER-001"] == {"passed"} and "failed" in outcomes["SEC-002"]  # the built-in pack
    assert outcomes["GOLD-001"] == {"failed"}  # a new chart without goldens
    assert len({p["id"] for p in data["policies"]}) > 40
    assert data["summary"]["gate"] == "failed" and data["summary"]["partial"] is None
    assert counts(first_run.stdout) == WHOLE
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
