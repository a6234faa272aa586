"""The engine knows no policy id: the render and golden policies declare what they are (`role=`), and
everything the engine does for them - report a chart that does not render, refuse a waiver for that,
judge it whatever the per-chart configuration disables, find the golden orphans - follows the role.

A policy pack that declares the roles under other ids gets exactly the built-in behaviour."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

import chartgate
from chartgate import Applicability
from chartgate.check.definition import PolicyDeclarationError, policy
from chartgate.core.errors import InvalidConfig
from chartgate.engine.gate import Gate, GateConfig

from ..conftest import REPO
from .test_plugin import CONFIGMAP, add_chart, repo, run  # noqa: F401 - `repo` is a fixture

PACKAGE = Path(chartgate.__file__).parent
POLICY_ID = re.compile(r"\b[A-Z][A-Z0-9]*-\d{3}\b")
#: Where an id may stand in engine code, and why: the shape of an id shown by example in an error
#: message or a command's help, and the options table's help, which tells a user which built-in check
#: a setting feeds (the README's options table is generated from it).
ALLOWED = {("cli.py", "SEC-001"), ("check/waivers.py", "SEC-001"), ("check/definition.py", "NET-101"),
           ("options.py", "HELM-001"), ("options.py", "PROP-001"), ("options.py", "CAP-001"),
           ("options.py", "CAP-002")}


def _ids_in_code(path: Path) -> list[tuple[int, str]]:
    """Policy ids in the module's string constants (f-strings included), docstrings and comments not."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, found) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            for found in POLICY_ID.findall(node.value)]


def test_no_engine_module_names_a_policy_id():
    named = [f"{path.relative_to(PACKAGE)}:{line}: {found}" for path in sorted(PACKAGE.rglob("*.py"))
             for line, found in _ids_in_code(path) if (str(path.relative_to(PACKAGE)), found) not in ALLOWED]
    assert not named, "the engine names policies by id (declare a role instead):\n" + "\n".join(named)


def test_the_id_scan_sees_an_id_in_code_but_not_in_a_docstring(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""About RENDER-001."""\n# GOLD-001\nX = f"see {0} and RENDER-001"\n')
    assert _ids_in_code(module) == [(3, "RENDER-001")]


def test_a_role_is_one_of_the_known_ones():
    with pytest.raises(PolicyDeclarationError, match=r"WEB-001: role='renders' is not one of \['render', 'golden'\]"):
        policy(id="WEB-001", title="t", rationale="r", reference="r", receives="chart", role="renders")(lambda ctx: [])


def test_two_policies_declaring_one_role_is_a_configuration_error(tmp_path):
    def declare(policy_id):
        return policy(id=policy_id, title="t", rationale="r", reference="r", receives="scenario",
                      applies_to=Applicability(scenarios="*"), role="render")(lambda ctx: [])
    gate = Gate(GateConfig(chart_roots=(tmp_path,), cache_dir=None))
    with pytest.raises(InvalidConfig, match="policies BUILD-001 .* and BUILD-002 .* both declare role='render'"):
        gate.planned_checks([declare("BUILD-001"), declare("BUILD-002")])


@pytest.fixture
def renamed(repo: Path) -> Path:  # noqa: F811
    """The repository's render and golden policies under other ids (same modules, other names)."""
    for name, old, new in (("render.py", "RENDER-001", "BUILD-007"), ("golden.py", "GOLD-001", "KINDS-042")):
        (repo / "policies" / name).unlink()
        text = (REPO / "policies" / name).read_text().replace(f'id="{old}"', f'id="{new}"')
        assert f'id="{new}"' in text
        (repo / "policies" / f"renamed_{name}").write_text(text)
    add_chart(repo, "broken", {"cm.yaml": '{{ fail "this chart never renders" }}\n'})
    return repo


def test_a_renamed_render_policy_reports_render_failures_whatever_the_configuration(pytester, renamed):
    (renamed / "pyproject.toml").write_text('[tool.chartgate]\nchart-roots = ["charts"]\noverlay-roots = ["overlays"]\n'
                                            'packs = []\n\n[tool.chartgate.charts."*"]\ndisable = ["BUILD-*"]\n')
    result = pytester.runpytest("policies", "--cache-dir", "cache", "--helm-version", "4.1.4", "-p", "no:cacheprovider",
                                "--update-golden")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    report = json.loads((renamed / "reports" / "chartgate.json").read_text())
    broken = {(r["policy"], r["scenario"]): r for r in report["results"] if r["chart"] == "broken"}
    assert broken[("BUILD-007", "default")]["outcome"] == "failed"  # judged though the configuration disables it
    golden = [r for (p, _), r in broken.items() if p == "KINDS-042"]
    assert golden and all(r["outcome"] == "skipped" and r["message"] == "scenario did not render, see BUILD-007"
                          for r in golden)
    assert report["summary"]["gate"] == "failed" and report["summary"]["unreported_render_failures"] == []
    assert {p["id"]: p.get("role") for p in report["policies"]} == {"BUILD-007": "render", "KINDS-042": "golden"}


def test_a_renamed_render_policy_cannot_be_waived(pytester, renamed):
    (renamed / "waivers.yaml").write_text("waivers:\n  - policy: BUILD\n    chart: broken\n    reason: accepted\n"
                                          "    owner: platform-team\n    expires: 2027-01-01\n")
    result = run(pytester, "--waivers", "waivers.yaml", "--update-golden")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()[-3000:]
    output = result.stdout.str() + result.stderr.str()
    assert "waivers.yaml:2: waivers[0].policy: policy 'BUILD' covers BUILD-007, which cannot be waived" in output


def test_a_deselected_renamed_render_policy_is_named_where_the_gate_says_why_it_is_red(pytester, renamed):
    result = run(pytester, "--update-golden", "-k", "KINDS")
    assert result.ret != pytest.ExitCode.OK
    report = json.loads((renamed / "reports" / "chartgate.json").read_text())
    assert ["broken", "default"] in report["summary"]["unreported_render_failures"]
    assert all(r["message"] == "scenario did not render, see BUILD-007"
               for r in report["results"] if r["chart"] == "broken")


def test_golden_orphans_follow_the_renamed_golden_policy(pytester, renamed):
    run(pytester, "--update-golden")
    stale = renamed / "golden" / "tiny" / "gone.yaml"
    stale.write_text((renamed / "golden" / "tiny" / "default.yaml").read_text())
    result = run(pytester)
    report = json.loads((renamed / "reports" / "chartgate.json").read_text())
    assert report["golden"]["orphans"] == [str(stale)], result.stdout.str()[-3000:]
