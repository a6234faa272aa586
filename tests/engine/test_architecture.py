"""The package's shape, held by a test: every module belongs to one pipeline stage, imports only
from its own stage or earlier ones, and no import circle exists - function-level imports included,
so a circle cannot hide inside a function. (Imports under `if TYPE_CHECKING:` are annotations only.)

The stages, earliest first: what each hands to the next is described in docs/architecture.md."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import chartgate

PACKAGE = Path(chartgate.__file__).parent

STAGES = ("core", "parse", "discover", "plan", "render", "check", "compare", "report", "engine", "front")

#: module (relative to chartgate) -> stage. A new module must be placed here.
STAGE_OF = {
    # core: errors, files, stopping, memory - no knowledge of charts
    "errors": "core", "yamlio": "core", "confine": "core", "stop": "core", "memo": "core",
    "timings": "core", "kube": "core", "values": "core", "exitcodes": "core", "helmignore": "core",
    "jsonpaths": "core",
    # parse: rendered documents and the names inside them
    "manifests": "parse", "dnsnames": "parse",
    # discover: charts, their configuration, the platform, the releases and which charts a run covers
    "charts": "discover", "chartconfig": "discover", "blueprint": "discover", "platform": "discover",
    "selection": "discover", "capabilities": "discover", "profiles": "discover",
    # plan: toggles, scenarios and the covering plan, its cost
    "toggles": "plan", "references": "plan", "nesting": "plan", "scenarios": "plan", "strategies": "plan",
    "covering": "plan", "planner": "plan", "refusals": "plan", "estimate": "plan", "determinism": "plan",
    "releases": "plan",  # Flux HelmReleases become scenarios
    "planning": "plan",  # each chart's plan, re-planned around the rows it refuses (renders through a given renderer)
    # render: Helm and the render cache
    "helm": "render", "toolchain": "render", "render": "render",
    "scheduler": "render",  # when charts are rendered: ahead of judging, within a memory bound
    # check: policies, what they receive, their helpers, waivers, baselines, cached results
    "definition": "check", "applicability": "check", "context": "check", "loader": "check", "catalog": "check",
    "waivers": "check", "provenance": "check", "baseline": "check", "ownership": "check",
    "resultcache": "check", "verdict": "check", "lib": "check",
    "judging": "check",  # one check judged, whatever it raises
    "resultstore": "check",  # the run's results against the result cache
    # compare: golden kind summaries
    "golden": "compare",
    # report: the report dict and every format; redaction; what part of the gate a run judged
    "report": "report", "record": "report", "redact": "report", "evidence": "report", "terminal": "report", "partial": "report",
    # engine: the session that runs the stages
    "gate": "engine", "recorder": "engine",  # the recorder reads the finished gate into the run record
    "discovery": "engine",  # which charts a run covers: --changed-since asks which charts a HelmRelease installs
    # front ends: the pytest plugin, the command, settings, packs, the author's tools
    "plugin": "front", "cli": "front", "runner": "front", "settings": "front", "explain": "front",
    "docgen": "front", "testing": "front", "packs": "front", "options": "front", "__init__": "front", "__main__": "front",
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)] = path
    return found


def _stage(module: str) -> str:
    return STAGE_OF[module.split(".")[0]]


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


def test_every_module_has_a_stage():
    unplaced = sorted(m for m in _modules() if m.split(".")[0] not in STAGE_OF)
    assert not unplaced, f"place these modules in a stage (STAGE_OF): {unplaced}"


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


def test_the_checker_sees_a_planted_circle_and_a_backwards_import(tmp_path, monkeypatch):
    # The two rules above must be able to fail: a package whose core imports its engine is caught twice.
    package = tmp_path / "chartgate"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "errors.py").write_text("def f():\n    from .gate import g\n")
    (package / "gate.py").write_text("from .errors import f\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "PACKAGE", package)
    edges = _imports(_modules())
    assert edges["errors"] == {"gate"} and edges["gate"] == {"errors"}
    try:
        test_imports_follow_the_stage_order()
    except AssertionError as exc:
        assert "errors (core) imports gate (engine)" in str(exc)
    else:
        raise AssertionError("a backwards import was not caught")
    try:
        test_no_import_circle()
    except AssertionError as exc:
        assert "errors -> gate" in str(exc) or "gate -> errors" in str(exc)
    else:
        raise AssertionError("a circle was not caught")


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
    assert private_imports(planted) == ["schemas imports _hidden from chartgate.core.kube"]
