"""Which discovered charts this run covers: `--changed-since REV` and `--shard I/N`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .charts import Chart
from .errors import InvalidConfig


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` with 1 <= I <= N."""
    try:
        index, total = (int(part) for part in text.split("/"))
    except ValueError:
        raise InvalidConfig(f"--shard must look like I/N (e.g. 2/4), given: {text!r}") from None
    if not 1 <= index <= total:
        raise InvalidConfig(f"--shard {text}: I must be between 1 and N")
    return index, total


def shard(names: list[str], index: int, total: int) -> set[str]:
    """Deterministic split by sorted name, round-robin: every chart lands in exactly one shard."""
    return {name for position, name in enumerate(sorted(names)) if position % total == index - 1}


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


def _owns(chart: Chart, path: Path) -> bool:
    roots = [chart.path.resolve()]
    if chart.blueprint_path is not None:
        roots.append(chart.blueprint_path.resolve())
    return any(path == root or root in path.parents for root in roots)


def changed_charts(charts: dict[str, Chart], changed: set[Path]) -> set[str]:
    """Charts with a changed file, plus every chart that depends on one of them (transitively),
    through blueprint.yaml `depends` or a Chart.yaml dependency of the same name."""
    selected = {name for name, chart in charts.items() if any(_owns(chart, p) for p in changed)}
    dependents: dict[str, set[str]] = {name: set() for name in charts}
    for name, chart in charts.items():
        needs = {d.name for d in chart.dependencies}
        needs |= set(((chart.blueprint or {}).get("spec") or {}).get("depends") or [])
        for other in needs & set(charts):
            dependents[other].add(name)
    frontier = list(selected)
    while frontier:
        for dependent in dependents.get(frontier.pop(), ()):
            if dependent not in selected:
                selected.add(dependent)
                frontier.append(dependent)
    return selected
