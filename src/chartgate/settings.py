"""Layered settings: built-in defaults < `[tool.chartgate]` in pyproject.toml < command-line options.

Paths from pyproject.toml and the defaults are relative to the rootdir; paths given on the command
line are relative to the current directory.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from .errors import InvalidConfig
from .gate import GateConfig
from .render import default_cache_dir

#: key in [tool.chartgate] -> (type, default). Lists are repeatable options on the command line.
SETTINGS: dict[str, tuple[type, Any]] = {
    "chart-roots": (list, ["fixtures/charts"]),
    "overlay-roots": (list, ["fixtures/overlays"]),
    "release-overlays": (list, ["fixtures/clusters/**/*.yaml"]),
    "report-dir": (str, "reports"),
    "golden-dir": (str, "golden"),
    "cache-dir": (str, None),
    "render-timeout": (float, 120.0),
    "platform-config": (str, "platform.yaml"),
    "waivers": (str, "waivers.yaml"),
    "fail-on": (str, "error"),
    "helm-versions": (list, ["4.1.4", "3.18.0"]),
    "strength": (int, 2),
    "exhaustive-threshold": (int, 32),
}
_PATHS = {"report-dir", "golden-dir", "cache-dir", "platform-config", "waivers"}
_PATH_LISTS = {"chart-roots", "overlay-roots", "release-overlays"}
_OPTIONAL_FILES = {"platform-config", "waivers"}  # a missing default file means "none"


def read_table(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidConfig(f"{path}: invalid TOML: {exc}") from None
    table = data.get("tool", {}).get("chartgate", {})
    unknown = set(table) - set(SETTINGS)
    if unknown:
        raise InvalidConfig(f"{path}: unknown [tool.chartgate] keys {sorted(unknown)}; known: {sorted(SETTINGS)}")
    for key, value in table.items():
        kind = SETTINGS[key][0]
        ok = isinstance(value, kind) or (kind is float and isinstance(value, int))
        if not ok or isinstance(value, bool):
            raise InvalidConfig(f"{path}: [tool.chartgate] {key} must be a {kind.__name__}, got {value!r}")
    return table


def resolve(cli: dict[str, Any], root: Path, cwd: Path | None = None) -> dict[str, Any]:
    """Merge the three layers; every path comes out absolute. Missing default files become None."""
    cwd = cwd or Path.cwd()
    table = read_table(root)
    merged: dict[str, Any] = {}
    for key, (_, default) in SETTINGS.items():
        if cli.get(key) is not None:
            value, base, explicit = cli[key], cwd, True
        elif key in table:
            value, base, explicit = table[key], root, True
        else:
            value, base, explicit = default, root, False
        if key in _PATHS and value is not None:
            value = base / value
            if key in _OPTIONAL_FILES and not Path(value).is_file():
                if explicit:
                    raise InvalidConfig(f"{key}: file {value} does not exist")
                value = None
        elif key in _PATH_LISTS:
            value = [str(base / v) for v in value]
        merged[key] = value
    return merged


def gate_config(cli: dict[str, Any], root: Path, *, no_cache: bool = False, update_golden: bool = False,
                changed_since: str | None = None, shard: str | None = None) -> GateConfig:
    s = resolve(cli, root)
    if s["fail-on"] not in ("error", "warning"):
        raise InvalidConfig(f"fail-on must be `error` or `warning`, got {s['fail-on']!r}")
    cache = None if no_cache else (s["cache-dir"] or default_cache_dir())
    return GateConfig(
        chart_roots=tuple(Path(p) for p in s["chart-roots"]),
        overlay_roots=tuple(Path(p) for p in s["overlay-roots"]),
        release_globs=tuple(s["release-overlays"]),
        report_dir=s["report-dir"],
        golden_dir=s["golden-dir"],
        update_golden=update_golden,
        cache_dir=Path(cache) if cache else None,  # None: --no-render-cache
        tools_dir=Path(os.environ.get("CHARTGATE_TOOLS_DIR") or root / ".tools"),
        render_timeout=float(s["render-timeout"]),
        platform_file=s["platform-config"],
        waivers_file=s["waivers"],
        fail_on=s["fail-on"],
        helm_versions=tuple(s["helm-versions"]),
        strength=s["strength"],
        exhaustive_threshold=s["exhaustive-threshold"],
        changed_since=changed_since,
        shard=shard,
    )
