"""--shard splits charts deterministically with no overlap; --changed-since picks changed charts and
their dependents."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from chartgate.charts import discover
from chartgate.errors import InvalidConfig
from chartgate.selection import changed_charts, changed_files, parse_shard, shard

from ..conftest import CHARTS


def test_shards_partition_the_charts():
    names = [f"chart-{i:02d}" for i in range(53)]
    shards = [shard(names, i, 4) for i in range(1, 5)]
    assert set().union(*shards) == set(names)
    assert sum(len(s) for s in shards) == len(names)  # no chart in two shards
    assert shards == [shard(list(reversed(names)), i, 4) for i in range(1, 5)]  # order-independent


@pytest.mark.parametrize("text", ["0/3", "4/3", "a/b", "1"])
def test_bad_shard_is_a_clear_error(text):
    with pytest.raises(InvalidConfig, match="--shard"):
        parse_shard(text)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True)


def test_changed_since_selects_changed_charts_and_their_dependents(tmp_path):
    import shutil
    shutil.copytree(CHARTS, tmp_path / "charts")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "add", ".")
    _git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base")
    charts = {c.name: c for c in discover([tmp_path / "charts"])}
    assert changed_charts(charts, changed_files(tmp_path, "HEAD")) == set()

    hpa = tmp_path / "charts" / "bp-knative" / "templates" / "hpa.yaml"
    hpa.write_text(hpa.read_text() + "\n")
    # bp-kserve declares bp-knative in blueprint.yaml `depends`, so it is re-checked too.
    assert changed_charts(charts, changed_files(tmp_path, "HEAD")) == {"bp-knative", "bp-kserve"}


def test_changed_since_unknown_revision_is_a_clear_error(tmp_path):
    _git(tmp_path, "init", "-q")
    with pytest.raises(InvalidConfig, match="--changed-since no-such-rev"):
        changed_files(tmp_path, "no-such-rev")
