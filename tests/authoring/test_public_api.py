"""The public policy API: policy modules import only `chartgate` and the `chartgate.lib` modules,
every helper there is documented, per-chart state goes through `ChartContext.memo`, helpers know
the running policy, and `remediation` is said once per rule."""

from __future__ import annotations

import ast
import importlib
import inspect

import pytest

import chartgate
import chartgate.lib
from chartgate import ChartContext, ChartgateError, Finding, Severity, policy, running_policy
from chartgate.check.loader import load_policies
from chartgate.check.definition import Outcome, PolicyDeclarationError, Result
from chartgate.report.terminal import describe_result

from ..conftest import REPO

PUBLIC_MODULES = {"chartgate", *(f"chartgate.lib.{name}" for name in chartgate.lib.MODULES)}


def import_violations(source: str) -> list[str]:
    """Every import of chartgate in `source` that is not a public name of a public module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names
                      if a.name.split(".")[0] == "chartgate" and a.name not in PUBLIC_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "chartgate":
            if node.module not in PUBLIC_MODULES and node.module != "chartgate.lib":
                found.append(f"from {node.module} import ...: an internal module")
                continue
            public = set(getattr(importlib.import_module(node.module), "__all__", ()))
            found += [f"from {node.module} import {a.name}" for a in node.names
                      if a.name.startswith("_") or a.name not in public]
    return found


def test_policy_modules_import_only_public_names():
    modules = sorted((REPO / "policies").glob("*.py"))
    assert modules
    broken = {path.name: import_violations(path.read_text()) for path in modules}
    assert {name: v for name, v in broken.items() if v} == {}


@pytest.mark.parametrize("source", [
    "from chartgate.podspec import chart_view",  # an internal module
    "from chartgate.core.values import dotted",
    "from chartgate.lib.podspec import _mapping",  # a private name of a public module
    "from chartgate.lib.schemas import _definitions",
    "from chartgate import Gate",  # not in __all__
    "import chartgate.core.kube",
    "def check(ctx):\n    from chartgate.core.memo import IdentityMemo\n",  # hidden in a function
])
def test_the_import_rule_catches_private_imports(source):
    assert import_violations(source)


def test_public_imports_pass_the_rule():
    assert import_violations("from chartgate import Finding, policy\nfrom chartgate.lib.rules import Violation\n"
                             "from chartgate.lib import podspec\nimport chartgate\n") == []


def own_doc(obj) -> str:
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    if inspect.isclass(obj) and doc and doc.startswith(f"{obj.__name__}("):
        return ""  # the signature a dataclass writes when the class says nothing
    return (doc or "").strip()


@pytest.mark.parametrize("name", chartgate.lib.MODULES)
def test_every_lib_helper_is_documented(name):
    module = importlib.import_module(f"chartgate.lib.{name}")
    assert (module.__doc__ or "").strip(), f"chartgate.lib.{name} has no module docstring"
    assert module.__all__, name
    undocumented = [item for item in module.__all__ if not item.startswith("_")
                    for obj in [getattr(module, item)]
                    if (inspect.isclass(obj) or inspect.isfunction(obj) or hasattr(obj, "__wrapped__"))
                    and not own_doc(obj)]
    assert undocumented == [], f"chartgate.lib.{name}: no docstring on {undocumented}"


def test_the_top_level_api_is_documented():
    undocumented = [name for name in chartgate.__all__ if name != "__version__"
                    for obj in [getattr(chartgate, name)]
                    if (inspect.isclass(obj) or inspect.isfunction(obj)) and not own_doc(obj)]
    assert undocumented == []


def test_no_policy_keeps_state_in_the_context_dict():
    for path in sorted((REPO / "policies").glob("*.py")):
        tree = ast.parse(path.read_text())
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "__dict__"], path.name


def test_memo_computes_once_per_chart_and_is_released_with_it():
    ctx = ChartContext(chart=None, scenarios=[], renderer=None)
    calls = []

    def compute():
        calls.append(1)
        return {"computed": len(calls)}

    first = ctx.memo(("EX-001", "index"), compute)
    assert ctx.memo(("EX-001", "index"), compute) is first and len(calls) == 1
    assert ctx.memo(("EX-002", "index"), compute) == {"computed": 2}  # another key, another value
    ctx.release()
    assert ctx.memo(("EX-001", "index"), compute) == {"computed": 3}  # released with the chart's renders
    other = ChartContext(chart=None, scenarios=[], renderer=None)
    assert other.memo(("EX-001", "index"), compute) == {"computed": 4}  # per chart, never shared


@policy(id="RUN-001", title="names itself", receives="chart", rationale="r", reference="r",
        severity=Severity.WARNING, remediation="Do   the\n    right thing.")
def names_itself(ctx):
    yield Finding(f"{running_policy().id} first", template="values.yaml")
    yield Finding(f"{running_policy().id} after a step", template="values.yaml")


@policy(id="RUN-002", title="returns a list", receives="chart", rationale="r", reference="r")
def returns_a_list(ctx):
    return [Finding(running_policy().id, template="values.yaml")]


def test_helpers_know_the_running_policy_in_every_step_of_the_check():
    assert [f.message for f in names_itself.check(None)] == ["RUN-001 first", "RUN-001 after a step"]
    assert [f.message for f in returns_a_list.check(None)] == ["RUN-002"]
    steps = names_itself.check(None)
    next(steps)
    with pytest.raises(ChartgateError, match="outside a policy's check"):
        running_policy()  # between two steps, no policy runs


def test_remediation_is_said_once_for_the_rule():
    assert names_itself.remediation == "Do the right thing."
    assert names_itself.metadata()["remediation"] == "Do the right thing."
    assert "remediation" not in returns_a_list.metadata()  # none declared: reports show no Fix line
    result = Result(names_itself, "demo", None, Outcome.FAILED, list(names_itself.check(None)))
    assert "fix: Do the right thing." in describe_result(result)
    with pytest.raises(PolicyDeclarationError, match="remediation"):
        policy(id="RUN-003", title="t", receives="chart", rationale="r", reference="r", remediation=["a list"])


def test_every_security_policy_declares_its_remediation():
    security = [p for p in load_policies(REPO / "policies") if p.family == "SEC"]
    assert len(security) == 20
    assert [p.id for p in security if not p.remediation] == []


def test_the_engine_does_not_import_the_policy_helpers():
    """chartgate.lib builds on the engine, never the other way round (no import circle)."""
    package = REPO / "src" / "chartgate"
    found = []
    for path in sorted(package.rglob("*.py")):
        if "lib" in path.relative_to(package).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                target = "." * node.level + (node.module or "")
                names = [a.name for a in node.names]
                if target.lstrip(".").split(".")[0] == "lib" and node.level or (node.module or "").startswith(
                        "chartgate.lib") or (node.level and not node.module and "lib" in names):
                    found.append(f"{path.relative_to(package)}: from {target} import {', '.join(names)}")
    assert found == []
