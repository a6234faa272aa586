"""Policy packs: what policy modules a run judges.

A pack is an installed package of policy modules registered under the entry-point group
`chartgate.policies` (name -> importable package, or a single module). chartgate's own built-in
pack registers there too, so a third-party pack is found exactly the same way. A repository adds
its own policy modules from the directory its `policies` setting names.

The modules of a run are the enabled packs' (setting `packs`: a list of entry-point names; default
every installed pack) plus the repository's own - each file once, by resolved path: in chartgate's
own checkout the `policies/` directory IS the built-in pack's source (an editable install), and it
must not be judged twice.

Nothing here imports a policy module; only the module files are listed (pytest loads them).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Iterable

from chartgate.core.errors import InvalidConfig
from chartgate.check.loader import is_policy_file

GROUP = "chartgate.policies"


@dataclass(frozen=True)
class Pack:
    name: str  # the entry-point name, as the `packs` setting lists it
    target: str  # the importable package (or module) it names
    directory: Path  # resolved; where its modules live
    modules: tuple[Path, ...]  # resolved policy module files


@dataclass(frozen=True)
class PolicySources:
    """Every place a run's policy modules come from."""

    packs: tuple[Pack, ...]
    own_dir: Path | None  # the repository's own policy directory (resolved), None when it has none

    def own_modules(self) -> list[Path]:
        if self.own_dir is None:
            return []
        return sorted(p.resolve() for p in self.own_dir.glob("*.py") if is_policy_file(p))

    def modules(self) -> list[Path]:
        """Every policy module file of the run (resolved, each once): the packs', then the own."""
        seen: dict[Path, None] = {}
        for pack in self.packs:
            seen.update(dict.fromkeys(pack.modules))
        seen.update(dict.fromkeys(self.own_modules()))
        return list(seen)

    def directories(self) -> list[Path]:
        """The directories to collect, each once (the own directory may be a pack's source)."""
        dirs = [p.directory for p in self.packs if p.modules]
        if self.own_dir is not None and self.own_dir not in dirs:
            dirs.append(self.own_dir)
        return dirs

    def is_module(self, path: Path) -> bool:
        return path.resolve() in set(self.modules())


def _pack_of(entry) -> Pack:
    """The pack an entry point names, located without importing it."""
    target = entry.value.split(":")[0].strip()
    try:
        spec = importlib.util.find_spec(target)
    except (ImportError, ValueError) as exc:
        spec, why = None, str(exc)
    else:
        why = "not importable"
    if spec is None:
        raise InvalidConfig(f"policy pack {entry.name!r} (entry point {GROUP}) names {target!r}, which is "
                            f"{why}; reinstall the distribution that provides it, or leave it out of `packs`")
    if spec.submodule_search_locations:  # a package: every policy module in its directory
        directory = Path(next(iter(spec.submodule_search_locations))).resolve()
        modules = tuple(sorted(p.resolve() for p in directory.glob("*.py") if is_policy_file(p)))
    else:  # a single module
        module = Path(spec.origin).resolve()
        directory, modules = module.parent, (module,)
    return Pack(entry.name, target, directory, modules)


def installed_packs() -> dict[str, Pack]:
    """Every installed pack, by name (an installation registering a name twice keeps the first)."""
    packs: dict[str, Pack] = {}
    for entry in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        packs.setdefault(entry.name, _pack_of(entry))
    return packs


def enabled_packs(names: list[str] | None, where: str = "[tool.chartgate] packs") -> tuple[Pack, ...]:
    """The packs a run enables: `names` (None: every installed pack; [] only when said explicitly)."""
    installed = installed_packs()
    if names is None:
        return tuple(installed.values())
    unknown = [n for n in names if n not in installed]
    if unknown:
        raise InvalidConfig(f"{where}: no installed policy pack named {', '.join(map(repr, unknown))}; "
                            f"installed: {sorted(installed) or 'none'} (packs register under the "
                            f"entry-point group {GROUP})")
    return tuple(installed[n] for n in dict.fromkeys(names))


def policy_sources(own_dir: Path | None, packs: list[str] | None, *, own_dir_explicit: bool = False,
                   where: str = "[tool.chartgate]") -> PolicySources:
    """The policy sources of a run: the enabled packs plus the repository's own directory (a default
    directory that does not exist means none; a configured one must exist)."""
    if own_dir is not None and not own_dir.is_dir():
        if own_dir_explicit:
            raise InvalidConfig(f"{where} policies: directory {own_dir} does not exist; create it or point "
                                "`policies` at the directory holding the repository's own policy modules")
        own_dir = None
    return PolicySources(enabled_packs(packs, f"{where} packs"), own_dir.resolve() if own_dir else None)


def gate_arguments(sources: PolicySources, args: list[str], here: Path, *,
                   no_arguments: bool) -> list[str] | None:
    """pytest's arguments that make a session judge the whole gate, or None to leave them as given.

    No path given (plain `pytest`, from any directory): the gate's directories. A directory given that
    holds a gate directory (`pytest my-checks`, `pytest .`): the gate directories it does not hold
    are added, in any argument order. A single module or node id given (`pytest x.py::ID[chart]`):
    left as given - the run is partial and its reports say which modules were not run. Arguments
    with no policy module (e.g. `pytest tests`): left as given; no gate."""
    gate_dirs = sources.directories()
    if no_arguments:
        return [str(d) for d in gate_dirs]
    covered: set[Path] = set()
    for arg in args:
        path = Path(arg.split("::")[0])
        path = (path if path.is_absolute() else here / path).resolve()
        whole = path.is_dir() and "::" not in arg
        for directory in gate_dirs:
            if whole and directory.is_relative_to(path):
                covered.add(directory)
            elif path.is_relative_to(directory):
                return None  # narrowed to part of the gate
    if not covered:
        return None
    return [*args, *(str(d) for d in gate_dirs if d not in covered)]


# -- node ids: an installed pack's module is named `<package>/<file>` (e.g. chartgate_builtin/render.py)
# rather than by a site-packages path, and pytest is given the file again when that name is pasted.

def pack_nodeid(path: Path, packs: Iterable[Pack]) -> str | None:
    """The node id of an installed pack's module: `<package>/<file>`; None when no pack holds it."""
    resolved = path.resolve()
    for pack in packs:
        if resolved in pack.modules:
            if pack.directory == resolved.parent and len(pack.modules) == 1 and pack.target.split(".")[-1] == resolved.stem:
                return f"{pack.target}.py"  # a single-module pack
            return f"{pack.target}/{resolved.relative_to(pack.directory).as_posix()}"
    return None


def expand_pack_argument(arg: str, here: Path, packs: Iterable[Pack], rootdir: Path | None = None) -> str:
    """A pasted pack node id (`chartgate_builtin/render.py::RENDER-001[web:default]`, or as pytest shows
    it below a subdirectory, `../chartgate_builtin/...`) as the path of the module; any other argument
    unchanged (a path that exists where pytest runs wins)."""
    name, sep, rest = arg.partition("::")
    if not name or (here / name).exists() or Path(name).is_absolute():
        return arg
    names = {name}
    if rootdir is not None:  # pytest prints node ids relative to the directory it runs in
        names.add(Path(os.path.relpath(os.path.normpath(here / name), rootdir)).as_posix())
    for pack in packs:
        for module in pack.modules:
            if pack_nodeid(module, [pack]) in names:
                return f"{module}{sep}{rest}"
    return arg


def policy_modules(sources: PolicySources) -> list[Path]:
    """The policy module files of a run (for front ends that list or load them: CLI, catalogue)."""
    return sources.modules()
