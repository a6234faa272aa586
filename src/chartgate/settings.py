"""Layered settings: built-in defaults < `[tool.chartgate]` < command-line options.

The table is read from the nearest pyproject.toml holding `[tool.chartgate]`, from the directory
pytest is invoked from upward (or from the file given with `--chartgate-config`), never from
chartgate's own checkout: running chartgate anywhere inside another repository gates that
repository. Paths in the table are relative to the file; paths on the command line are relative to
the current directory.

A chart tree's own settings (overlay roots, HelmRelease globs, golden directory) only apply to that
tree: when `--chart-root` on the command line replaces the table's chart roots, they are not taken
from the table, and the golden directory defaults to `golden/` at the root of the repository that
holds the first chart root.
"""

from __future__ import annotations

import glob
import os
import tomllib
from pathlib import Path
from typing import Any

from chartgate.discover.chartconfig import parse_chart_settings
from chartgate.core.errors import InvalidConfig
from chartgate.engine.gate import GateConfig
from chartgate.options import SETTINGS_TABLE
from chartgate.packs import PolicySources, policy_sources
from chartgate.render.renderer import default_cache_dir

#: key in [tool.chartgate] -> (type, default), from the one table of settings (chartgate.options).
#: Lists are repeatable options on the command line.
SETTINGS: dict[str, tuple[type, Any]] = {s.key: (s.kind, s.default) for s in SETTINGS_TABLE}
TABLE_ONLY = {"charts"}  # [tool.chartgate.charts."<glob>"]: per-chart settings (chartgate.discover.chartconfig)
_PATHS = {"report-dir", "golden-dir", "cache-dir", "platform-config", "waivers", "timings-file", "baseline-file",
          "policies"}
_PATH_LISTS = {"chart-roots", "overlay-roots"}
_GLOB_LISTS = {"release-overlays"}
_OPTIONAL_FILES = {"platform-config", "waivers"}  # a missing default file means "none"
_TREE_SETTINGS = {"overlay-roots", "release-overlays", "golden-dir", "exclude-charts"}  # describe the table's chart tree


def config_file(invocation_dir: Path, explicit: str | Path | None = None) -> Path | None:
    """The TOML file holding [tool.chartgate]: `--chartgate-config FILE`, else the nearest
    pyproject.toml holding the table, from the invocation directory upward (None when there is none),
    so a run started anywhere inside the repository reads the same file."""
    if explicit:
        path = Path(explicit)
        path = path if path.is_absolute() else invocation_dir / path
        if not path.is_file():
            raise InvalidConfig(f"--chartgate-config: file {path} does not exist")
        return path
    for directory in (invocation_dir, *invocation_dir.resolve().parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and "chartgate" in tool_tables(candidate):
            return candidate
    return None


def tool_tables(path: Path) -> dict[str, Any]:
    """The `[tool.*]` tables of a pyproject.toml; InvalidConfig naming the file when it is not TOML."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidConfig(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidConfig(f"{path}: invalid TOML: {exc}") from None
    return data.get("tool", {}) if isinstance(data.get("tool"), dict) else {}


def read_table(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    table = tool_tables(path).get("chartgate", {})
    unknown = set(table) - set(SETTINGS) - TABLE_ONLY
    if unknown:
        raise InvalidConfig(f"{path}: unknown [tool.chartgate] keys {sorted(unknown)}; "
                            f"known: {sorted(set(SETTINGS) | TABLE_ONLY)}")
    for key, value in table.items():
        if key in TABLE_ONLY:
            continue
        kind = SETTINGS[key][0]
        ok = isinstance(value, kind) or (kind is float and isinstance(value, int))
        if not ok or (isinstance(value, bool) and kind is not bool):
            raise InvalidConfig(f"{path}: [tool.chartgate] {key} must be a {kind.__name__}, got {value!r}")
        if kind is list and not all(isinstance(v, str) for v in value):
            raise InvalidConfig(f"{path}: [tool.chartgate] {key} must be a list of strings, got {value!r}")
    return table


def repository_root(path: Path) -> Path:
    """The nearest ancestor (or itself) holding .git or pyproject.toml; else the path's parent."""
    path = path.resolve()
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists() or (candidate / "pyproject.toml").is_file():
            return candidate
    return path.parent


def resolve(cli: dict[str, Any], config: Path | None, cwd: Path | None = None) -> dict[str, Any]:
    """Merge the three layers; every path comes out absolute. Missing default files become None."""
    cwd = cwd or Path.cwd()
    table = read_table(config)
    base = config.parent if config is not None else cwd
    own_tree = cli.get("chart-roots") is None  # the table's chart roots are in effect
    merged: dict[str, Any] = {}
    for key, (_, default) in SETTINGS.items():
        if cli.get(key) is not None:
            value, where, explicit = cli[key], cwd, True
        elif key in table and (own_tree or key not in _TREE_SETTINGS):
            value, where, explicit = table[key], base, True
        else:
            value, where, explicit = default, base, False
        if key in _PATHS and value is not None:
            value = where / value
            if key in _OPTIONAL_FILES and not Path(value).is_file():
                if explicit:
                    raise InvalidConfig(f"{key}: file {value} does not exist")
                value = None
        elif key in _PATH_LISTS:
            value = [str(where / v) for v in value]
        elif key in _GLOB_LISTS:
            value = [str(where / v) for v in value]
            if explicit:
                for pattern in value:
                    if not any(Path(p).is_file() for p in glob.glob(pattern, recursive=True)):
                        raise InvalidConfig(f"{key}: the glob {pattern!r} matches no file; fix the pattern "
                                            "or remove it")
        merged[key] = value
    if not merged["chart-roots"]:
        raise InvalidConfig(
            f"no chart root: pass --chart-root PATH or set `chart-roots` under [tool.chartgate] in "
            f"{config or cwd / 'pyproject.toml'} (chartgate reads the pyproject.toml of the directory it "
            "runs from, or --chartgate-config FILE)")
    if merged["golden-dir"] is None:
        merged["golden-dir"] = repository_root(Path(merged["chart-roots"][0])) / "golden"
    merged["charts"] = parse_chart_settings(table.get("charts") or {}, str(config) if config else "")
    merged["config-file"] = config
    return merged


def policy_sources_for(invocation_dir: Path, explicit: str | Path | None = None) -> PolicySources | None:
    """The policy sources of the repository whose configuration governs this run: its enabled packs
    and its own `policies` directory (relative to the configuration file). None when no
    [tool.chartgate] governs the run: then pytest judges the policy modules it is given, nothing more."""
    path = config_file(invocation_dir, explicit)
    if path is None:
        return None
    table = read_table(path)
    own = table.get("policies")
    return policy_sources(path.parent / (own if own is not None else SETTINGS["policies"][1]),
                          table.get("packs"), own_dir_explicit=own is not None, where=str(path))


def default_tools_dir(invocation_dir: Path, config_dir: Path | None = None) -> Path | None:
    """CHARTGATE_TOOLS_DIR, else `.tools` beside the configuration file or in the invocation directory,
    else chartgate's own checkout's (an editable install); None otherwise - the user cache directory
    is searched after it anyway."""
    if os.environ.get("CHARTGATE_TOOLS_DIR"):
        return Path(os.environ["CHARTGATE_TOOLS_DIR"])
    for local in ([config_dir / ".tools"] if config_dir else []) + [invocation_dir / ".tools"]:
        if local.is_dir():
            return local
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / ".tools").is_dir():
        return checkout / ".tools"
    return None


def gate_config(cli: dict[str, Any], invocation_dir: Path, *, config_path: str | Path | None = None,
                no_cache: bool = False, update_golden: bool = False, changed_since: str | None = None,
                shard: str | None = None, record_timings: bool = False, plan_only: bool = False,
                write_baseline: bool = False) -> GateConfig:
    s = resolve(cli, config_file(invocation_dir, config_path), cwd=invocation_dir)
    if s["fail-on"] not in ("error", "warning"):
        raise InvalidConfig(f"fail-on must be `error` or `warning`, got {s['fail-on']!r}")
    if s["max-waiver-days"] < 1:
        raise InvalidConfig(f"max-waiver-days must be at least 1, got {s['max-waiver-days']!r}")
    for root in s["chart-roots"]:
        if not Path(root).is_dir():
            raise InvalidConfig(f"--chart-root must be a directory, given: {root}")
    cache = None if no_cache else (s["cache-dir"] or default_cache_dir())
    return GateConfig(
        chart_roots=tuple(Path(p) for p in s["chart-roots"]),
        overlay_roots=tuple(Path(p) for p in s["overlay-roots"]),
        release_globs=tuple(s["release-overlays"]),
        report_dir=s["report-dir"],
        golden_dir=s["golden-dir"],
        update_golden=update_golden,
        cache_dir=Path(cache) if cache else None,  # None: --no-render-cache
        tools_dir=default_tools_dir(invocation_dir, s["config-file"].parent if s["config-file"] else None),
        render_timeout=float(s["render-timeout"]),
        platform_file=s["platform-config"],
        waivers_file=s["waivers"],
        max_waiver_days=s["max-waiver-days"],
        exclude_charts=tuple(s["exclude-charts"]),
        fail_on=s["fail-on"],
        helm_versions=tuple(s["helm-versions"]),
        strength=s["strength"],
        exhaustive_threshold=s["exhaustive-threshold"],
        render_budget=s["render-budget"],
        changed_since=changed_since,
        shard=shard,
        chart_settings=s["charts"],
        config_file=s["config-file"],
        timings_file=s["timings-file"],
        record_timings=record_timings,
        plan_only=plan_only,
        judge_test_hooks=s["judge-test-hooks"],
        baseline_file=s["baseline-file"],
        write_baseline=write_baseline,
        fail_on_upstream=s["fail-on-upstream"],
    )
