"""Every third-party package the engine or the built-in pack imports is a declared dependency: a
non-editable install gets exactly the declared ones, so an undeclared import would fail only there."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from ..conftest import REPO


def imported_top_level_names() -> dict[str, str]:
    """import name -> a file importing it, over src/ and policies/ (absolute imports only)."""
    found: dict[str, str] = {}
    for path in sorted([*(REPO / "src").rglob("*.py"), *(REPO / "policies").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(REPO)))
    return found


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_imported_package_is_declared():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {normalised(re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0]) for d in project["dependencies"]}
    optional = {normalised(re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0])
                for extra in project.get("optional-dependencies", {}).values() for d in extra}
    distributions = packages_distributions()
    missing = []
    for name, where in imported_top_level_names().items():
        if name in sys.stdlib_module_names or name in ("chartgate", "chartgate_builtin", "__future__"):
            continue
        owners = {normalised(d) for d in distributions.get(name, [name])}
        if not owners & (declared | optional):
            missing.append(f"{name} (imported by {where}; distribution {sorted(owners)})")
    assert not missing, f"imported but not declared in pyproject.toml [project] dependencies: {missing}"
