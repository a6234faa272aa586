"""Every setting and command-line option in one table: its `[tool.chartgate]` key, type, default,
option and help. `settings` reads types and defaults from it, the plugin registers its options from
it (`pytest --help`), and the README's options table is generated from it (`python -m
chartgate.docgen README.md --write`; a test fails when the README drifts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chartgate.plan.covering import DEFAULT_EXHAUSTIVE_THRESHOLD
from chartgate.plan.estimate import DEFAULT_RENDER_BUDGET
from chartgate.render.toolchain import DEFAULT_HELM_VERSIONS


@dataclass(frozen=True)
class Setting:
    """A `[tool.chartgate]` key, and its command-line option when it has one."""

    key: str
    kind: type
    default: Any
    help: str
    flag: str | None = None  # None: set only in [tool.chartgate]
    metavar: str | None = None
    shown_default: str | None = None  # the default as a person reads it, when the value says little
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flag:
    """A command-line option of one run only (no [tool.chartgate] key)."""

    flag: str
    dest: str
    help: str
    metavar: str | None = None  # None: a switch


SETTINGS_TABLE: tuple[Setting, ...] = (
    Setting("chart-roots", list, [], "directory tree searched for charts (every directory holding a Chart.yaml); "
            "repeatable", "--chart-root", "PATH", "none: set it"),
    Setting("overlay-roots", list, [], "directory with `<chart>/base.yaml` and `<chart>/*-values.yaml` scenario "
            "overlays; repeatable", "--overlay-root", "PATH", "none"),
    Setting("release-overlays", list, [], "glob of Flux HelmRelease files whose releases become scenarios; "
            "repeatable (a glob matching nothing is an error)", "--release-overlay", "GLOB", "none"),
    Setting("report-dir", str, "reports", "where the reports are written", "--report-dir", "DIR", "`reports`"),
    Setting("golden-dir", str, None, "golden kind summaries, `<dir>/<chart>/<scenario>.yaml`", "--golden-dir", "DIR",
            "`golden/` at the root of the repository holding the first chart root"),
    Setting("cache-dir", str, None, "render and result cache", "--cache-dir", "DIR",
            "`$XDG_CACHE_HOME/chartgate`, else `~/.cache/chartgate`"),
    Setting("render-timeout", float, 120.0, "kill a single `helm template` after this many seconds",
            "--render-timeout", "SECONDS"),
    Setting("platform-config", str, "platform.yaml", "platform facts file", "--platform-config", "FILE",
            "`platform.yaml` when present, else built-in defaults"),
    Setting("waivers", str, "waivers.yaml", "waivers file", "--waivers", "FILE", "`waivers.yaml` when present"),
    Setting("max-waiver-days", int, 365, "a waiver expiring further ahead than this is an error"),
    Setting("exclude-charts", list, [], "globs on chart names left out of the gate (listed in every report)",
            shown_default="none"),
    Setting("fail-on", str, "error", "lowest severity whose findings make the gate red", "--fail-on",
            choices=("error", "warning")),
    Setting("helm-versions", list, list(DEFAULT_HELM_VERSIONS), "pinned Helm versions to render with; the first is "
            "primary, the others are compared by HELM-001; repeatable", "--helm-version", "VERSION"),
    Setting("strength", int, 2, "t of the t-wise covering plan over toggles x capabilities (2: pairwise)",
            "--strength", "T"),
    Setting("exhaustive-threshold", int, DEFAULT_EXHAUSTIVE_THRESHOLD, "render every combination when there are at most this many",
            "--exhaustive-threshold", "N"),
    Setting("render-budget", int, DEFAULT_RENDER_BUDGET, "at most this many `helm template` runs per chart, "
            "planning included; what planning could not cover within it is listed and the chart's coverage "
            "is partial", "--render-budget", "N"),
    Setting("timings-file", str, "chartgate-timings.json", "per-chart seconds of earlier runs, which balance "
            "--shard", "--timings-file", "FILE"),
    Setting("judge-test-hooks", bool, False, "the posture rules (SEC-*) also judge `helm test` hook objects, "
            "which run only on `helm test`", "--judge-test-hooks"),
    Setting("baseline-file", str, "chartgate-baseline.json", "the repository's baseline: findings it holds are "
            "reported `baselined` and do not block; used whenever it exists", "--baseline-file", "FILE",
            "`chartgate-baseline.json` beside the configuration file"),
    Setting("fail-on-upstream", bool, True, "whether findings made by vendored subcharts' templates block",
            "--fail-on-upstream", "true|false"),
    Setting("policies", str, "policies", "the repository's own policy modules (any directory name)",
            shown_default="`policies/` beside the configuration file"),
    Setting("packs", list, None, "enabled policy packs, by entry-point name (group `chartgate.policies`)",
            shown_default="every installed pack"),
)

FLAGS: tuple[Flag, ...] = (
    Flag("--update-golden", "chartgate_update_golden", "rewrite drifted or missing golden files and delete "
         "orphaned ones"),
    Flag("--no-render-cache", "chartgate_no_cache", "render everything afresh; do not read or write the caches"),
    Flag("--plan", "chartgate_plan", "print each chart's scenario plan (factors, pruned toggles, size against the "
         "exhaustive size, estimated renders) and exit; it renders only the defaults of charts that ship "
         "`ci/*-values.yaml` (to find those that require input). The estimate counts every render the run makes: "
         "judging, the Helm comparison, determinism re-renders, policy variants (PROP-001's configurations, the "
         "FQDN sentinel renders, CAP-001/CAP-002's renders without an optional API) and planning around "
         "refusals (a guess from the guards the templates hold, capped by the render budget)"),
    Flag("--changed-since", "chartgate_changed_since", "only charts whose files changed since git REV (chart "
         "directory, blueprint.yaml, the Blueprint folder, its cluster overlays, the HelmReleases installing "
         "it), plus the charts that depend on them through `spec.depends` or Chart.yaml dependencies; a changed "
         "platform file, waivers file, configuration or Python file (a policy, chartgate) selects every chart. "
         "A run that leaves charts out is `partial` (exit 2)", "REV"),
    Flag("--shard", "chartgate_shard", "only shard I of N (every chart in exactly one shard, balanced on the "
         "timings file)", "I/N"),
    Flag("--evidence", "chartgate_evidence", "also write an evidence bundle (tar.gz: reports, every rendered "
         "manifest, SHA256SUMS) to PATH", "PATH"),
    Flag("--record-timings", "chartgate_record_timings", "write this run's per-chart seconds into the timings "
         "file (commit it: shards balance on it)"),
    Flag("--write-baseline", "chartgate_write_baseline", "write this run's findings to the baseline file "
         "(refused on a partial or incomplete run)"),
    Flag("--chartgate-config", "chartgate_config", "TOML file with the [tool.chartgate] table (default: the "
         "nearest pyproject.toml holding it, from the directory pytest runs in upward)", "FILE"),
)


def shown_default(setting: Setting) -> str:
    if setting.shown_default is not None:
        return setting.shown_default
    if isinstance(setting.default, bool):
        return f"`{str(setting.default).lower()}`"
    if isinstance(setting.default, list):
        return ", ".join(f"`{v}`" for v in setting.default) or "none"
    return f"`{setting.default}`"


def option_help(setting: Setting) -> str:
    """The `pytest --help` text of a setting's option: what it does, its default and its key."""
    return f"{setting.help} (default: {shown_default(setting)}; [tool.chartgate] {setting.key})".replace("`", "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table() -> str:
    """The README's table of every setting and option."""
    rows = ["| option | `[tool.chartgate]` key | default | meaning |", "|---|---|---|---|"]
    for s in SETTINGS_TABLE:
        option = f"`{s.flag}{' ' + s.metavar if s.metavar else ''}`" if s.flag else "-"
        if s.choices:
            option = f"`{s.flag} {'|'.join(s.choices)}`"
        rows.append(f"| {_cell(option)} | `{s.key}` | {_cell(shown_default(s))} | {_cell(s.help)} |")
    for f in FLAGS:
        option = f"`{f.flag}{' ' + f.metavar if f.metavar else ''}`"
        rows.append(f"| {_cell(option)} | - | - | {_cell(f.help)} |")
    return "\n".join(rows)
