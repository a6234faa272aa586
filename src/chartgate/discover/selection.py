"""Which discovered charts this run covers: `--changed-since REV` and `--shard I/N`."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from chartgate.discover.profiles import builds_on, known_as, profile_paths
from chartgate.discover.charts import Chart
from chartgate.core.errors import InvalidConfig


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` with 1 <= I <= N."""
    try:
        index, total = (int(part) for part in text.split("/"))
    except ValueError:
        raise InvalidConfig(f"--shard must look like I/N (e.g. 2/4), given: {text!r}") from None
    if not 1 <= index <= total:
        raise InvalidConfig(f"--shard {text}: I must be between 1 and N")
    return index, total


def shard(names: list[str], index: int, total: int, costs: dict[str, float] | None = None) -> set[str]:
    """The charts of shard `index` of `total` (see `assignment`)."""
    return {name for name, where in assignment(names, total, costs).items() if where == index}


def assignment(names: list[str], total: int, costs: dict[str, float] | None = None) -> dict[str, int]:
    """Every chart's shard (1..total), deterministic and complete: each chart in exactly one shard.

    Balanced by cost when earlier runs' per-chart seconds are known (chartgate-timings.json): the
    most expensive chart first, each to the shard with the least work so far (ties: lowest index); a
    chart without a recorded cost counts as the median of the known ones. Without costs: round-robin
    by sorted name. Every shard must see the same costs (a committed file), or charts could be judged
    twice or not at all - the reports record the assignment's digest and `chartgate merge` checks it."""
    names = sorted(set(names))
    known = sorted(c for n, c in (costs or {}).items() if n in names)
    if not known:
        return {name: position % total + 1 for position, name in enumerate(names)}
    median = known[len(known) // 2]
    cost = {name: (costs or {}).get(name, median) for name in names}
    load = [0.0] * total
    placed = {}
    for name in sorted(names, key=lambda n: (-cost[n], n)):
        where = min(range(total), key=lambda i: (load[i], i))
        load[where] += cost[name]
        placed[name] = where + 1
    return placed


def assignment_digest(placed: dict[str, int]) -> str:
    return hashlib.sha256(json.dumps(sorted(placed.items())).encode()).hexdigest()[:16]


def changed_files(repo_dir: Path, rev: str) -> set[Path]:
    """Files changed since `rev` (committed, staged, unstaged and untracked), as absolute paths."""
    def git(*args: str) -> str:
        proc = subprocess.run(["git", "-C", str(repo_dir), *args], capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise InvalidConfig(f"--changed-since {rev}: `git {' '.join(args)}` failed in {repo_dir}: "
                                f"{proc.stderr.strip()}")
        return proc.stdout
    top = Path(git("rev-parse", "--show-toplevel").strip())
    names = set(git("diff", "--name-only", rev, "--").splitlines())
    names |= set(git("ls-files", "--others", "--exclude-standard").splitlines())
    return {(top / name).resolve() for name in names if name}


def _chart_paths(chart: Chart) -> list[Path]:
    """The files and directories whose change affects `chart` on its own: the chart directory
    (vendored dependencies included), its blueprint.yaml, and - in the Blueprint folder layout
    (`platform/<name>/blueprint.yaml` beside `platform/<name>/chart/`) - the whole Blueprint folder.
    Overlays, HelmReleases, platform file, waivers and policy modules are mapped by the gate."""
    roots = [chart.path.resolve()] if chart.path is not None else []
    return roots + profile_paths(chart)


def _affects(chart: Chart, path: Path) -> bool:
    """True when a change to `path` (absolute, resolved) can change `chart`'s verdict on its own."""
    return any(path == root or root in path.parents for root in _chart_paths(chart))


def _needs(chart: Chart) -> set[str]:
    """Names of the charts/Blueprints `chart` builds on: Chart.yaml dependencies and blueprint.yaml
    `spec.depends` (mapping or plain-name form; an alias resolves to its Blueprint)."""
    return {d.name for d in chart.dependencies} | builds_on(chart)


def _dependents(charts: dict[str, Chart]) -> dict[str, set[str]]:
    """chart name -> the charts that build on it (directly). A Blueprint is known by its chart name
    and by its blueprint.yaml metadata.name."""
    known: dict[str, str] = {}
    for name, chart in charts.items():
        known[name] = name
        for other in sorted(known_as(chart)):
            known.setdefault(other, name)
    found: dict[str, set[str]] = {name: set() for name in charts}
    for name, chart in charts.items():
        for needed in _needs(chart):
            if needed in known and known[needed] != name:
                found[known[needed]].add(name)
    return found


def with_dependents(charts: dict[str, Chart], selected: set[str]) -> set[str]:
    """`selected` plus every chart that builds on one of them, transitively."""
    graph = _dependents(charts)
    selected = set(selected)
    frontier = list(selected)
    while frontier:
        for dependent in graph.get(frontier.pop(), ()):
            if dependent not in selected:
                selected.add(dependent)
                frontier.append(dependent)
    return selected


def changed_charts(charts: dict[str, Chart], changed: set[Path]) -> set[str]:
    """Charts with a changed file, plus every chart that depends on one of them (transitively),
    through blueprint.yaml `depends` or a Chart.yaml dependency of the same name."""
    touched = {name for name, chart in charts.items() if any(_affects(chart, path) for path in changed)}
    return with_dependents(charts, touched)
