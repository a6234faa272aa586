"""Chart profiles: the kinds of chart chartgate recognises, behind one small interface.

A profile says how its charts are recognised (`attach`: read the profile's own files for a chart
found on disk), which chart facts it provides to policies' `Applicability(requires=...)`, what else
a chart builds on and is known by (change selection follows those), and which files belong to the
chart besides its directory. The engine asks this registry, never a profile's module: a second
profile is one `_register(_Profile(...))` away. A chart no profile claims is "generic".

The Blueprint profile (blueprint.yaml beside or in the chart, chartgate.discover.blueprint) is registered here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from chartgate.discover import blueprint as _blueprint

if TYPE_CHECKING:
    from chartgate.discover.charts import Chart

_GENERIC = "generic"  # a chart no profile claims: judged by every rule that names no profile

#: A chart fact: (holds(ctx) -> bool, why_not(ctx) -> str), ctx a ChartContext.
_Requirement = tuple[Callable[[Any], bool], Callable[[Any], str]]


@dataclass(frozen=True)
class _Profile:
    """One kind of chart, as the engine needs to know it."""

    name: str
    # Recognise a chart loaded from `chart_dir` and attach the profile's files to it; True when the
    # chart is of this profile (the first registered profile that claims a chart wins).
    attach: Callable[["Chart", Path], bool]
    # The `skipped` message of a rule declared for this profile on a chart of another: {name} is the chart.
    skipped: str
    # Chart facts this profile provides for `Applicability(requires=...)`.
    requirements: Mapping[str, _Requirement] = field(default_factory=dict)
    # The requirement that means "the chart has the profile's own file": asked for (by `enable` or a
    # chart's `profile` setting) on a chart without it, a configuration error, `missing_file` says what to do.
    file_requirement: str | None = None
    missing_file: str = ""
    # Names of what the chart builds on beyond Chart.yaml dependencies, and other names it is known by.
    builds_on: Callable[["Chart"], Iterable[str]] = lambda chart: ()
    known_as: Callable[["Chart"], Iterable[str]] = lambda chart: ()
    # Files or folders whose change affects the chart, besides its own directory.
    paths: Callable[["Chart"], Iterable[Path]] = lambda chart: ()


_REGISTERED: dict[str, _Profile] = {}


def _register(profile: _Profile) -> _Profile:
    """Add a profile (after those registered before it). Its name must be new."""
    if profile.name in _REGISTERED or profile.name == _GENERIC:
        raise ValueError(f"a chart profile named {profile.name!r} is already registered")
    clash = sorted(set(profile.requirements) & set(requirements()))
    if clash:
        raise ValueError(f"profile {profile.name!r}: requirements {clash} are already provided by another profile")
    _REGISTERED[profile.name] = profile
    return profile


def _unregister(name: str) -> None:
    _REGISTERED.pop(name, None)


def profile_names() -> tuple[str, ...]:
    """Every profile a chart can be judged with: the registered ones, then "generic"."""
    return (*_REGISTERED, _GENERIC)


def profile(name: str) -> _Profile | None:
    return _REGISTERED.get(name)


def requirements() -> dict[str, _Requirement]:
    """The chart facts every registered profile provides."""
    return {name: req for p in _REGISTERED.values() for name, req in p.requirements.items()}


def file_requirement_owner(requirement: str) -> _Profile | None:
    """The profile whose own file `requirement` stands for (e.g. "blueprint-file"), or None."""
    return next((p for p in _REGISTERED.values() if p.file_requirement == requirement), None)


def attach_profile(chart: "Chart", chart_dir: Path) -> None:
    """Give a chart loaded from `chart_dir` its profile (and that profile's files), or leave it generic."""
    for candidate in _REGISTERED.values():
        if candidate.attach(chart, chart_dir):
            chart.profile = candidate.name
            return


def builds_on(chart: "Chart") -> set[str]:
    return {name for p in _REGISTERED.values() for name in p.builds_on(chart)}


def known_as(chart: "Chart") -> set[str]:
    return {name for p in _REGISTERED.values() for name in p.known_as(chart)}


def profile_paths(chart: "Chart") -> list[Path]:
    return [path for p in _REGISTERED.values() for path in p.paths(chart)]


# -- the built-in profile -----------------------------------------------------------------------------


def _config_schema(ctx: Any) -> bool:
    spec = (ctx.chart.blueprint or {}).get("spec") or {}
    return isinstance(spec, dict) and bool(spec.get("configSchema"))


def _blueprint_paths(chart: "Chart") -> list[Path]:
    """blueprint.yaml - or, in the Blueprint folder layout (`platform/<name>/blueprint.yaml` beside
    `platform/<name>/chart/`), the whole Blueprint folder."""
    if chart.blueprint_path is None:
        return []
    path = chart.blueprint_path.resolve()
    return [path.parent if chart.path is not None and path.parent == chart.path.resolve().parent else path]


def _blueprint_name(chart: "Chart") -> list[str]:
    typed = _blueprint.blueprint_of(chart)
    return [typed.name] if typed is not None and typed.name else []


def _blueprint_depends(chart: "Chart") -> tuple[str, ...]:
    typed = _blueprint.blueprint_of(chart)
    return typed.depends_names if typed is not None else ()


_BLUEPRINT = _register(_Profile(
    name="blueprint",
    attach=_blueprint.attach_blueprint,
    skipped="Blueprint-only rule: {name} is judged with the generic profile (no blueprint.yaml, or "
            "profile = \"generic\" in its chart configuration)",
    requirements={
        "blueprint-file": (lambda ctx: ctx.chart.blueprint is not None,
                           lambda ctx: f"the rule reads blueprint.yaml, and {ctx.name} has none"),
        "config-schema": (_config_schema, lambda ctx: "blueprint.yaml declares no spec.configSchema"),
    },
    file_requirement="blueprint-file",
    missing_file="{policy} reads blueprint.yaml, but chart {name} has none, and {asked} asks for it. Add the "
                 "chart's blueprint.yaml (in the chart directory, or beside a chart/ directory), or leave this "
                 "rule out of the chart's enable/profile setting",
    builds_on=_blueprint_depends,
    known_as=_blueprint_name,
    paths=_blueprint_paths,
))
