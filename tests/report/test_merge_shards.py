"""Three real `pytest policies --shard i/3` runs merged with `python -m chartgate merge` give the
report one unsharded run gives, apart from timestamps and shard metadata - findings, defects with
their files and lines, waivers (used in one shard, unused in another), verdict and all.

The chart tree: bp-knative and bp-kserve as bundled, bp-stunner with its HPA toggle on by default (a
mutant), an empty golden directory (GOLD-001 fails the same way in every run), and waivers for
charts that land in different shards."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import CHARTS, MUTANTS, OVERLAYS, REPO, build_mutant
from .test_merge import normalised

WAIVERS = """\
waivers:
  - policy: GOLD-001
    chart: bp-kserve
    reason: "golden files for bp-kserve are being reviewed"
    owner: platform-team
    expires: {expires}
  - policy: OBS-001
    chart: bp-knative
    reason: "matches nothing: reported unused, once"
    owner: platform-team
    expires: {expires}
""".format(
    expires=dt.date.today() + dt.timedelta(days=90))  # the gate runs in a subprocess, on today's date


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sharded")
    build_mutant(MUTANTS / "obs-toggle-defaults-true.yaml", root)  # charts/bp-stunner, overlays/bp-stunner
    for name in ("bp-knative", "bp-kserve"):
        shutil.copytree(CHARTS / name, root / "charts" / name)
        if (OVERLAYS / name).is_dir():
            shutil.copytree(OVERLAYS / name, root / "overlays" / name)
    (root / "golden").mkdir()
    (root / "waivers.yaml").write_text(WAIVERS)
    # One snapshot of the policy modules for every run: each report records their sha256, and a
    # module that changed between the shard runs must (and would) make the merge refuse them.
    shutil.copytree(REPO / "policies", root / "policies", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _gate(tree: Path, report_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "pytest", "policies", "-p", "no:randomly", "-p", "no:cacheprovider",
            "-q", "--chart-root", "charts", "--overlay-root", "overlays", "--golden-dir", "golden",
            "--waivers", "waivers.yaml", "--platform-config", str(REPO / "platform.yaml"),
            "--cache-dir", str(tree / "cache"), "--helm-version", "4.1.4", "--report-dir", str(report_dir), *extra]
    env = {**os.environ, "CHARTGATE_TOOLS_DIR": str(REPO / ".tools")}
    return subprocess.run(args, cwd=tree, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def runs(tree) -> dict:
    shards = []
    for i in (1, 2, 3):
        proc = _gate(tree, tree / "reports" / f"shard-{i}", "--shard", f"{i}/3")
        assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
        shards.append(tree / "reports" / f"shard-{i}")
    whole = _gate(tree, tree / "reports" / "whole")
    assert whole.returncode == 1, whole.stdout[-3000:] + whole.stderr[-3000:]
    merge = subprocess.run([sys.executable, "-m", "chartgate", "merge", *map(str, shards),
                            "--out", str(tree / "reports" / "merged")], cwd=tree, capture_output=True, text=True,
                           timeout=300)
    return {"shards": shards, "merge": merge, "whole_output": whole.stdout, "whole": json.loads((tree / "reports/whole/chartgate.json").read_text()),
            "merged": json.loads((tree / "reports/merged/chartgate.json").read_text())}


def test_each_shard_records_its_shard_and_holds_one_chart(runs):
    seen = []
    for i, directory in enumerate(runs["shards"], start=1):
        report = json.loads((directory / "chartgate.json").read_text())
        assert {k: report["shard"][k] for k in ("index", "total")} == {"index": i, "total": 3}
        assert report["shard"]["assignment"]  # every shard split the charts the same way
        seen += [c["name"] for c in report["charts"]]
    assert sorted(seen) == ["bp-knative", "bp-kserve", "bp-stunner"]
    assert runs["whole"]["shard"] is None


def test_the_merged_report_equals_the_unsharded_one(runs):
    merged, whole = runs["merged"], runs["whole"]
    assert runs["merge"].returncode == 1, runs["merge"].stderr  # red, like the unsharded run
    assert merged["results"] and merged["defects"] and len(merged["results"]) == len(whole["results"])
    assert any(d["outcome"] == "waived" for d in merged["defects"]) and merged["summary"]["gate"] == "failed"
    assert [w["chart"] for w in merged["waivers"]["unused"]] == ["bp-knative"]
    assert any(d.get("line") for d in merged["defects"])  # lines located by the shards survive the merge
    for key in set(normalised(whole)) | set(normalised(merged)):
        assert merged.get(key) == whole.get(key), key
    assert [m["index"] for m in merged["merged_from"]] == [1, 2, 3]


def test_the_merged_sarif_and_junit_equal_the_unsharded_ones(runs, tree):
    def sarif(name):
        run = json.loads((tree / "reports" / name / "chartgate.sarif").read_text())["runs"][0]
        run["invocations"][0].pop("startTimeUtc"), run["invocations"][0].pop("endTimeUtc")
        run["properties"].pop("shard")
        return run

    assert sarif("merged") == sarif("whole")
    junit = {name: (tree / "reports" / name / "junit.xml").read_text().split("<testcase", 1)[1]
             for name in ("merged", "whole")}
    assert junit["merged"] == junit["whole"]


def test_pytest_and_chartgate_counts_agree(runs):
    """pytest's closing line and chartgate's account of it name the same numbers."""
    out = runs["whole_output"]
    closing = out.strip().splitlines()[-1]
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (failed|passed|skipped)", closing)}
    line = next(l for l in out.splitlines() if l.startswith("pytest counts chartgate's items as "))
    assert line.startswith(f"pytest counts chartgate's items as {counts['failed']} failed = chartgate: ")
    assert f"; {counts['passed']} passed = " in line and f"; {counts['skipped']} skipped = " in line
    totals = runs["whole"]["summary"]["totals"]
    assert f"= chartgate: {totals['failed']} failed + {totals['error']} error;" in line
