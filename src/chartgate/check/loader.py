"""Load policy modules from files, outside pytest (scripts, benchmarks, the engine's own tests)."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

from chartgate.check.definition import Policy, policies_in


def load_policy_module(path: Path):
    name = f"chartgate_policies.{Path(path).stem}"
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return sys.modules[name]
    held = getattr(sys.modules.get(name), "__file__", None)
    if held and Path(held).resolve().parent != Path(path).resolve().parent:
        # Another pack's module of the same name (a repository's own `render.py` beside the built-in
        # one): both stay loaded, each under its own name, so each keeps its policies and its sha256.
        name += "_" + hashlib.sha1(str(Path(path).resolve().parent).encode()).hexdigest()[:8]
        if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
            return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def is_policy_file(path: Path) -> bool:
    return path.suffix == ".py" and not path.name.startswith(("_", "conftest", "test_"))


def load_policies(policy_dir: Path) -> list[Policy]:
    found: list[Policy] = []
    for path in sorted(Path(policy_dir).glob("*.py")):
        if is_policy_file(path):
            found.extend(policies_in(load_policy_module(path)))
    return found
