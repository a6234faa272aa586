"""The package's shape, held by a test: a module's pipeline stage is its folder (`chartgate/plan/...`
is the plan stage; `chartgate.lib`, the policy helpers, belongs to check; the modules at the top level
are the front ends). Every module imports only from its own stage or earlier ones, and no import
circle exists - function-level imports included, so a circle cannot hide inside a function. (Imports
under `if TYPE_CHECKING:` are annotations only.)

A stage module's interface is what other modules use: every other module-level name of it is
underscore-private (`_name`), unless PUBLIC_WITHOUT_USERS says why a user relies on it.

The stages, earliest first: what each hands to the next is described in docs/architecture.md."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import chartgate

PACKAGE = Path(chartgate.__file__).parent

STAGES = ("core", "parse", "discover", "plan", "render", "check", "compare", "report", "engine", "front")

#: the folders that are not a stage of their own: folder -> its stage.
HELPERS = {"lib": "check"}

#: the built-in policy pack: its modules use the engine's names too.
POLICIES = Path(__file__).resolve().parents[2] / "policies"

#: Names of stage modules that no module of chartgate or policies/ uses, kept public because a user
#: relies on them: name -> why. Keep it short: everything else unused elsewhere is `_private`.
PUBLIC_WITHOUT_USERS = {
    "chartgate.render.renderer.RenderCacheWarning":
        "a warning category: the README names it, a user filters it with -W or filterwarnings",
    "chartgate.core.stop.Stopped":
        "what a stopped run raises: pytest prints its name as the interrupted session's last line",
    "chartgate.discover.platform.Platform":
        "the type of ChartContext.platform, the platform facts policies read: the policy API reference names it",
    # types in the signatures of chartgate.lib functions: the policy API reference shows them
    "chartgate.discover.blueprint.Blueprint": "what chartgate.lib.blueprint.blueprint_of returns",
    "chartgate.plan.strategies.ConfigSpace": "what chartgate.lib.configspace.config_space returns",
    "chartgate.plan.strategies.Profile": "what chartgate.lib.configspace.active_profile returns",
    "chartgate.plan.determinism.Trail": "the key-trail type of chartgate.lib.renders.differing_paths and value_at",
}


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


def _defined_names(tree: ast.Module) -> set[str]:
    """The module-level names a module binds itself: def, class, assignment (imports are not its own)."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(child.name)
            elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                names.add(child.id)
            elif not isinstance(child, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                visit(child)

    visit(tree)
    return names


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    base = _dotted(node.value) if isinstance(node, ast.Attribute) else None
    return f"{base}.{node.attr}" if base else None


def _uses(path: Path, name: str, modules: dict[str, Path]) -> tuple[set[tuple[str, str]], list[str]]:
    """What a file uses of chartgate's modules: (module, name) by import or `module.name` (through any
    alias), and its string constants (a lazy-import map or a getattr names a thing by string)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name.split(".") if path.name == "__init__.py" and name != "__init__" else name.split(".")[:-1]
    found, aliases, strings = set(), {}, []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = (node.module or "").removeprefix("chartgate").lstrip(".")
            for alias in node.names:
                found.add((source, alias.name))
                aliases[alias.asname or alias.name] = f"{source}.{alias.name}".strip(".")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append(node.value)
    for node in ast.walk(tree):
        chain = _dotted(node.value) if isinstance(node, ast.Attribute) else None
        if chain:
            head, _, rest = chain.partition(".")
            target = ".".join(filter(None, [aliases.get(head, head), rest])).removeprefix("chartgate").lstrip(".")
            if target in modules:
                found.add((target, node.attr))
    return found, strings


def _public_names_no_other_module_uses(modules: dict[str, Path], policies: Path) -> dict[str, set[str]]:
    stage_modules = {m: p for m, p in modules.items() if _stage(m) in STAGES[:-1] and m.split(".")[0] not in HELPERS}
    users = {**modules, **{f"policies.{p.stem}": p for p in sorted(policies.rglob("*.py"))}}
    uses = {name: _uses(path, name, modules) for name, path in users.items()}
    unused = {}
    for module, path in stage_modules.items():
        names = {n for n in _defined_names(ast.parse(path.read_text(encoding="utf-8"))) if not n.startswith("_")}
        for user, (found, strings) in uses.items():
            if user != module:
                cited = re.compile(rf"(?<![\w.])(?:chartgate\.)?{re.escape(module)}[.:](\w+)")
                said = {s for s in strings if s in names} | {m for s in strings for m in cited.findall(s)}
                names -= {n for m, n in found if m == module} | said
        if names:
            unused[module] = names
    return unused


def test_stage_internals_are_private():
    """A stage module's names that no other module of chartgate or policies/ uses are `_private`:
    what is public is the module's interface (tests may still use private names: they test internals)."""
    unused = _public_names_no_other_module_uses(_modules(), POLICIES)
    excused = {f"chartgate.{m}.{n}" for m, names in unused.items() for n in names} & set(PUBLIC_WITHOUT_USERS)
    stale = sorted(set(PUBLIC_WITHOUT_USERS) - excused)
    wrong = [f"chartgate.{module}: {name} (make it _{name})" for module, names in sorted(unused.items())
             for name in sorted(names) if f"chartgate.{module}.{name}" not in excused]
    assert not wrong, ("public names no other module of chartgate or policies/ uses; make them private or, if "
                       "a user relies on one, add it to PUBLIC_WITHOUT_USERS with the reason:\n" + "\n".join(wrong))
    assert not stale, f"PUBLIC_WITHOUT_USERS names what is gone or used by a module now: {stale}"


def test_the_privacy_rule_catches_a_planted_public_internal(tmp_path, monkeypatch):
    # A planted package: plan/a.py's names are used by import, by `module.name`, by a string map and
    # by a policy - all but `lonely`, which only its own module uses; `Warned` is excused.
    package, policies = tmp_path / "chartgate", tmp_path / "policies"
    for folder in ("", "plan", "engine", "lib"):
        (package / folder).mkdir(parents=True, exist_ok=True)
        (package / folder / "__init__.py").write_text("")
    policies.mkdir()
    (package / "plan" / "a.py").write_text(
        "import re\nUSED, ATTRIBUTE, BY_STRING, FOR_POLICY, _PRIVATE = 1, 2, 3, 4, 5\n"
        "def lonely():\n    return USED\nclass Warned(UserWarning):\n    pass\n"
        "if True:\n    NESTED = lonely()\n")
    (package / "engine" / "b.py").write_text(
        "from chartgate.plan.a import USED\nfrom chartgate.plan import a as stage_a\n"
        "def _f():\n    return stage_a.ATTRIBUTE, stage_a.NESTED\n")
    (package / "__init__.py").write_text('_EXPORTS = {"BY_STRING": "plan.a"}\n')
    (package / "lib" / "rules.py").write_text("import chartgate.plan.a\nre = chartgate.plan.a.re\n")
    (policies / "pack.py").write_text("from chartgate.plan.a import FOR_POLICY\n")
    this = __import__(__name__, fromlist=["x"])
    monkeypatch.setattr(this, "PACKAGE", package)
    monkeypatch.setattr(this, "POLICIES", policies)
    assert _public_names_no_other_module_uses(_modules(), policies) == {"plan.a": {"lonely", "Warned"}}
    monkeypatch.setattr(this, "PUBLIC_WITHOUT_USERS", {"chartgate.plan.a.Warned": "a warning category",
                                                       "chartgate.plan.a.USED": "stale: engine.b imports it"})
    message = _failure_of(test_stage_internals_are_private)
    assert "chartgate.plan.a: lonely (make it _lonely)" in message and "Warned" not in message
    (package / "plan" / "a.py").write_text((package / "plan" / "a.py").read_text().replace("lonely", "_lonely"))
    message = _failure_of(test_stage_internals_are_private)  # a stale exception
    assert "['chartgate.plan.a.USED']" in message and "lonely" not in message


def _failure_of(check) -> str:
    try:
        check()
    except AssertionError as exc:
        return str(exc)
    raise AssertionError(f"{check.__name__} passed on a planted violation")
