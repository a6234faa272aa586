"""The package's shape, held by a test: a module's pipeline stage is its folder (`chartgate/plan/...`
is the plan stage; `chartgate.lib`, the policy helpers, belongs to check; the modules at the top level
are the front ends). Every module imports only from its own stage or earlier ones, and no import
circle exists - function-level imports included, so a circle cannot hide inside a function. (Imports
under `if TYPE_CHECKING:` are annotations only.)

The stages, earliest first: what each hands to the next is described in docs/architecture.md."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import chartgate

PACKAGE = Path(chartgate.__file__).parent

STAGES = ("core", "parse", "discover", "plan", "render", "check", "compare", "report", "engine", "front")

#: the folders that are not a stage of their own: folder -> its stage.
HELPERS = {"lib": "check"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)] = path
    return found


def _folders() -> list[str]:
    return sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file())


def _stage(module: str) -> str:
    """A module's stage is its folder; a module at the top level is a front end."""
    if (PACKAGE / f"{module}.py").is_file() and "." not in module:
        return "front"
    folder = module.split(".")[0]
    return HELPERS.get(folder, folder)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(n) for n in ast.walk(node))
    return hidden


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the chartgate modules it imports at run time (module level or inside a function)."""
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        hidden = _type_checking_nodes(tree)
        package = name.split(".") if path.name == "__init__.py" and name != "__init__" else name.split(".")[:-1]
        for node in ast.walk(tree):
            if id(node) in hidden or not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            if isinstance(node, ast.Import):
                targets = [a.name.removeprefix("chartgate.") for a in node.names if a.name.startswith("chartgate.")]
            elif node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                module = ".".join([*base, *([node.module] if node.module else [])])
                targets = [f"{module}.{a.name}".strip(".") for a in node.names]
            elif (node.module or "").startswith("chartgate"):
                module = node.module.removeprefix("chartgate").lstrip(".")
                targets = [f"{module}.{a.name}".strip(".") for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    edges[name].add(target)
    return edges


def test_each_stage_is_a_folder_and_each_folder_a_stage():
    folders = _folders()
    strays = [f for f in folders if f not in STAGES and f not in HELPERS]
    assert not strays, f"a folder of chartgate that is not a pipeline stage (STAGES) or helpers (HELPERS): {strays}"
    missing = [s for s in STAGES if s != "front" and s not in folders]
    assert not missing, f"stages without their folder: {missing}"


def test_imports_follow_the_stage_order():
    wrong = [f"{source} ({_stage(source)}) imports {target} ({_stage(target)})"
             for source, targets in _imports(_modules()).items() for target in sorted(targets)
             if STAGES.index(_stage(target)) > STAGES.index(_stage(source))]
    assert not wrong, "imports against the stage order:\n" + "\n".join(sorted(wrong))


def test_no_import_circle():
    edges = _imports(_modules())
    circles, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                circles.append(" -> ".join(trail[trail.index(target):] + [node, target]) if target in trail
                               else f"{node} -> {target}")
            elif target not in state:
                visit(target, trail + [node])
        state[node] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [])
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_the_checker_sees_a_planted_circle_a_backwards_import_and_a_stray_folder(tmp_path, monkeypatch):
    # The rules above must be able to fail: a package whose core imports its engine is caught twice,
    # and a folder that is no stage is caught too.
    package = tmp_path / "chartgate"
    for folder in ("", *(s for s in STAGES if s != "front"), "lib"):
        (package / folder).mkdir(exist_ok=True)
        (package / folder / "__init__.py").write_text("")
    (package / "core" / "errors.py").write_text("def f():\n    from chartgate.engine.gate import g\n")
    (package / "engine" / "gate.py").write_text("from chartgate.core.errors import f\n")
    (package / "lib" / "rules.py").write_text("from chartgate.core import errors\n")
    (package / "plugin.py").write_text("from chartgate.engine import gate\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "PACKAGE", package)
    edges = _imports(_modules())
    assert edges["core.errors"] == {"engine.gate"} and edges["engine.gate"] == {"core.errors"}
    assert edges["lib.rules"] == {"core.errors"} and edges["plugin"] == {"engine.gate"}
    assert [_stage(m) for m in ("core.errors", "engine", "lib.rules", "plugin", "__init__")] == [
        "core", "engine", "check", "front", "front"]
    test_each_stage_is_a_folder_and_each_folder_a_stage()  # the planted package has the right folders
    try:
        test_imports_follow_the_stage_order()
    except AssertionError as exc:
        assert "core.errors (core) imports engine.gate (engine)" in str(exc)
        assert "plugin" not in str(exc) and "lib.rules" not in str(exc)
    else:
        raise AssertionError("a backwards import was not caught")
    try:
        test_no_import_circle()
    except AssertionError as exc:
        assert "core.errors -> engine.gate" in str(exc) or "engine.gate -> core.errors" in str(exc)
    else:
        raise AssertionError("a circle was not caught")
    (package / "record").mkdir()
    (package / "record" / "__init__.py").write_text("")
    try:
        test_each_stage_is_a_folder_and_each_folder_a_stage()
    except AssertionError as exc:
        assert "['record']" in str(exc)
    else:
        raise AssertionError("a folder that is no stage was not caught")


def test_import_chartgate_loads_only_what_is_used_and_policy_is_the_decorator():
    import subprocess
    import sys
    probe = ("import sys, chartgate\n"
             "print(sorted(m for m in sys.modules if m.startswith('chartgate')))\n"
             "import chartgate.check.definition, chartgate.lib.rules\n"
             "print(callable(chartgate.policy) and chartgate.policy.__module__ == 'chartgate.check.definition')\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.splitlines() == ["['chartgate']", "True"], out.stdout + out.stderr


def test_no_module_imports_a_private_name_of_another(tmp_path):
    """An underscore name is its module's own: another module that needs it needs a public name."""
    def private_imports(modules: dict[str, Path]) -> list[str]:
        found = []
        for name, path in modules.items():
            package = name.split(".") if path.name == "__init__.py" and name != "__init__" else name.split(".")[:-1]
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ImportFrom):
                    continue
                if node.level:
                    base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                    source = ".".join([*base, *([node.module] if node.module else [])])
                elif (node.module or "").startswith("chartgate"):
                    source = node.module.removeprefix("chartgate").lstrip(".")
                else:
                    continue
                found += [f"{name} imports {alias.name} from " + f"chartgate.{source}".rstrip(".")
                          for alias in node.names if alias.name.startswith("_") and not alias.name.endswith("__")]
        return sorted(found)

    assert private_imports(_modules()) == []
    # The scan can fail: a planted package whose module imports another's underscore name is caught.
    (tmp_path / "kube.py").write_text("def _hidden():\n    pass\n")
    (tmp_path / "schemas.py").write_text("def f():\n    from .kube import _hidden, __doc__\n")
    planted = {"kube": tmp_path / "kube.py", "schemas": tmp_path / "schemas.py"}
    assert private_imports(planted) == ["schemas imports _hidden from chartgate.kube"]  # the planted flat package
