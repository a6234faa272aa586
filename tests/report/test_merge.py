"""`chartgate merge`: shard reports combine into the report one run would have written, with one
verdict; shards that do not belong together are an error naming the directories, never a green merge."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from chartgate.cli import main
from chartgate.report import write_report_files
from chartgate.report.merge import MergeError, merge_reports
from chartgate.report.model import finalise
from chartgate.discover.selection import shard

from .synthetic import synthetic_report

VOLATILE = ("generated_at", "started_at", "shard", "merged_from", "render_stats", "timings")


def normalised(report: dict) -> dict:
    """A report without what legitimately differs between a merge and one unsharded run."""
    return {k: v for k, v in report.items() if k not in VOLATILE}


def _per_chart(results):
    counts = {}
    for r in results:
        row = counts.setdefault(r["chart"], {o: 0 for o in ("passed", "failed", "waived", "skipped", "error")})
        row[r["outcome"]] += 1
    return dict(sorted(counts.items()))


def _raw(tree: Path) -> dict:
    report = synthetic_report(tree, charts=7, policies=6, scenarios=4, fail_ratio=0.4, error_ratio=0.1)
    report["summary"]["per_chart"] = _per_chart(report["results"])
    report["summary"]["incomplete"] = None
    report["summary"]["partial"] = None
    report["summary"]["unreported_render_failures"] = []
    report["render_stats"] = {"renders": 10, "cache_hits": 2}
    return report


def split(raw: dict, total: int) -> list[dict]:
    """What `--shard I/N` runs write: the same run restricted to each shard's charts."""
    names = [c["name"] for c in raw["charts"]]
    shards = []
    for index in range(1, total + 1):
        mine = shard(sorted(names), index, total)
        part = copy.deepcopy(raw)
        part["shard"] = {"index": index, "total": total}
        part["charts"] = [c for c in part["charts"] if c["name"] in mine]
        part["results"] = [r for r in part["results"] if r["chart"] in mine]
        part["summary"]["totals"] = {o: sum(r["outcome"] == o for r in part["results"])
                                     for o in ("passed", "failed", "waived", "skipped", "error")}
        part["summary"]["per_chart"] = _per_chart(part["results"])
        part["summary"]["gate"] = "failed" if any(r["outcome"] in ("failed", "error") for r in part["results"]) \
            else "passed"
        shards.append(part)
    return shards


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> dict:
    return _raw(tmp_path_factory.mktemp("tree"))


@pytest.fixture
def shard_dirs(raw, tmp_path) -> list[Path]:
    dirs = []
    for part in split(raw, 3):
        directory = tmp_path / f"shard-{part['shard']['index']}"
        write_report_files(finalise(part), directory)
        dirs.append(directory)
    return dirs


def test_the_merge_equals_the_unsharded_report(raw, shard_dirs):
    whole = finalise(copy.deepcopy(raw))
    merged = merge_reports(list(reversed(shard_dirs)))  # any order
    assert normalised(json.loads(json.dumps(merged))) == normalised(json.loads(json.dumps(whole)))
    assert merged["shard"] is None and [m["index"] for m in merged["merged_from"]] == [1, 2, 3]
    assert merged["render_stats"] == {"renders": 30, "cache_hits": 6}  # summed over the shards
    assert merged["summary"]["gate"] == "failed"


def _rewrite(directory: Path, change) -> None:
    path = directory / "chartgate.json"
    report = json.loads(path.read_text())
    change(report)
    path.write_text(json.dumps(report))


def test_a_missing_shard_is_an_error_naming_the_directories(shard_dirs):
    with pytest.raises(MergeError, match=r"missing shard 2/3 \(given: .*shard-1, .*shard-3\)"):
        merge_reports([shard_dirs[0], shard_dirs[2]])


def test_a_shard_given_twice_is_an_error(shard_dirs, tmp_path):
    copy_dir = tmp_path / "copy-of-2"
    copy_dir.mkdir()
    (copy_dir / "chartgate.json").write_bytes((shard_dirs[1] / "chartgate.json").read_bytes())
    with pytest.raises(MergeError, match=r"shard 2/3 given twice: .*shard-2, .*copy-of-2") as info:
        merge_reports(shard_dirs + [copy_dir])
    assert "in more than one shard" in str(info.value)  # and so are its charts


def test_shards_of_different_n_are_an_error(shard_dirs):
    _rewrite(shard_dirs[2], lambda r: r["shard"].update(total=4))
    with pytest.raises(MergeError, match=r"shards of different N: N=3 in .*shard-1, .*shard-2; N=4 in .*shard-3"):
        merge_reports(shard_dirs)


@pytest.mark.parametrize("what, change", [
    ("Helm versions", lambda r: r["helm"].update(version="v3.19.0")),
    ("git commits", lambda r: r.update(git_commit="0" * 40)),
    ("chartgate versions", lambda r: r["tool"].update(version="9.9.9")),
    ("--fail-on", lambda r: r["summary"].update(fail_on="warning")),
    ("fail-on-upstream", lambda r: r["summary"].update(fail_on_upstream=False)),
    ("comes from different modules", lambda r: r["policies"][0].update(module_sha256="b" * 64)),
])
def test_shards_of_different_runs_are_an_error(shard_dirs, what, change):
    _rewrite(shard_dirs[1], change)
    with pytest.raises(MergeError, match=what) as info:
        merge_reports(shard_dirs)
    assert "shard-2" in str(info.value)


def test_a_report_without_shard_metadata_is_refused(shard_dirs):
    _rewrite(shard_dirs[0], lambda r: r.update(shard=None))
    with pytest.raises(MergeError, match=r"shard-1: not a shard report"):
        merge_reports(shard_dirs)


def test_a_directory_without_a_report_is_an_error(shard_dirs, tmp_path):
    (shard_dirs[1] / "chartgate.json").unlink()
    with pytest.raises(MergeError, match=r"shard-2: no chartgate.json"):
        merge_reports(shard_dirs)


@pytest.mark.parametrize("gates, expected", [
    (("passed", "passed", "passed"), "passed"),
    (("passed", "failed", "passed"), "failed"),
    (("passed", "incomplete", "passed"), "incomplete"),
    (("failed", "incomplete", "passed"), "incomplete"),
])
def test_the_verdict_is_the_worst_shard_verdict(shard_dirs, gates, expected):
    for directory, gate in zip(shard_dirs, gates):
        reason = "interrupted (KeyboardInterrupt)" if gate == "incomplete" else None
        _rewrite(directory, lambda r, g=gate, why=reason: r["summary"].update(gate=g, incomplete=why))
    merged = merge_reports(shard_dirs)
    assert merged["summary"]["gate"] == expected
    if expected == "incomplete":
        assert merged["summary"]["incomplete"].startswith("shard 2/3 (")


def test_unused_waivers_are_judged_over_the_whole_run(shard_dirs, raw):
    """A waiver is reported unused by a shard without its chart; the shard with the chart used it."""
    failed = next(r for r in raw["results"] if r["outcome"] == "failed")
    used = {"policy": failed["policy"], "chart": failed["chart"], "resource": "*", "scenario": failed["scenario"],
            "reason": "r", "owner": "o", "expires": "2099-01-01", "source": "waivers.yaml:2"}
    idle = {**used, "scenario": "no-such-scenario", "source": "waivers.yaml:8"}
    for directory in shard_dirs:
        def change(report):
            mine = any(c["name"] == failed["chart"] for c in report["charts"])
            for r in report["results"]:
                if (r["policy"], r["chart"], r["scenario"]) == (used["policy"], used["chart"], used["scenario"]):
                    r.update(outcome="waived", waiver=used)
            report["waivers"].update(entries=[used, idle], unused=[idle] if mine else [used, idle])
        _rewrite(directory, change)
    assert merge_reports(shard_dirs)["waivers"]["unused"] == [idle]


def test_cli_merge_writes_every_format_and_exits_with_the_verdict(shard_dirs, tmp_path, capsys):
    out = tmp_path / "merged"
    assert main(["merge", *map(str, shard_dirs), "--out", str(out)]) == 1  # the synthetic run is red
    assert sorted(p.name for p in out.iterdir()) == ["chartgate.html", "chartgate.json", "chartgate.md",
                                                     "chartgate.sarif", "junit.xml"]
    printed = capsys.readouterr().out
    assert "merged 3 shards (1/3 failed, 2/3 failed, 3/3 failed)" in printed and "gate: RED (failed)" in printed
    assert json.loads((out / "chartgate.json").read_text())["summary"]["gate"] == "failed"
    assert "merged from" in (out / "chartgate.html").read_text()


def test_cli_merge_of_green_shards_exits_0(shard_dirs, tmp_path):
    for directory in shard_dirs:
        _rewrite(directory, lambda r: r["summary"].update(gate="passed"))
    assert main(["merge", *map(str, shard_dirs), "--out", str(tmp_path / "merged")]) == 0


def test_the_merge_of_every_shard_is_the_whole_gate_not_partial(shard_dirs, tmp_path):
    for directory in shard_dirs:
        _rewrite(directory, lambda r: r["summary"].update(gate="passed"))
    merged = merge_reports(shard_dirs)
    assert merged["summary"]["gate"] == "passed" and merged["summary"]["partial"] is None


def test_a_shard_that_deselected_checks_makes_the_merge_partial_not_green(shard_dirs, tmp_path, capsys):
    deselected = {"reason": "2 of 9 checks deselected (-k, -m, --deselect, node ids or --lf)",
                  "checks": {"collected": 9, "selected": 7, "deselected": 2},
                  "deselected": ["policies/a.py::A-001[x]", "policies/a.py::A-001[y]"],
                  "policy_modules": {"run": ["policies/a.py"], "not_run": []},
                  "charts": {"discovered": 7, "left_out": []}, "changed_since": None}
    for index, directory in enumerate(shard_dirs):
        _rewrite(directory, lambda r: r["summary"].update(gate="partial" if index == 1 else "passed",
                                                          partial=deselected if index == 1 else None))
    assert main(["merge", *map(str, shard_dirs), "--out", str(tmp_path / "merged")]) == 2  # not green, not red
    merged = json.loads((tmp_path / "merged" / "chartgate.json").read_text())["summary"]
    assert merged["gate"] == "partial"
    assert merged["partial"]["reason"].startswith("shard 2/3: 2 of 9 checks deselected")
    assert merged["partial"]["checks"] == {"collected": 9, "selected": 7, "deselected": 2}
    assert "gate: PARTIAL, not green (partial)" in capsys.readouterr().out


def test_cli_merge_error_exits_4_and_writes_nothing(shard_dirs, tmp_path, capsys):
    out = tmp_path / "merged"
    assert main(["merge", str(shard_dirs[0]), "--out", str(out)]) == 4
    assert not out.exists()
    assert "cannot merge: missing shards 2/3, 3/3" in capsys.readouterr().err
    assert main(["merge", *map(str, shard_dirs), "--out", str(shard_dirs[0])]) == 4  # would overwrite a shard


def test_python_dash_m_chartgate_merge(shard_dirs, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "chartgate", "merge", *map(str, shard_dirs[:2]),
                           "--out", str(tmp_path / "m")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4 and "missing shard 3/3" in proc.stderr


def test_cli_merge_never_writes_through_an_out_link_that_leaves_the_repository(shard_dirs, tmp_path,
                                                                              tmp_path_factory, capsys):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "pyproject.toml").write_text("")
    (tmp_path / "repo" / "reports").symlink_to(elsewhere, target_is_directory=True)
    assert main(["merge", *map(str, shard_dirs), "--out", str(tmp_path / "repo" / "reports")]) == 4
    assert list(elsewhere.iterdir()) == []
    assert f"{tmp_path / 'repo' / 'reports'} -> {elsewhere}" in capsys.readouterr().err


def _baseline_notes(report: dict, stale: list[dict], entries: int) -> dict:
    """summary.baseline as a run over `report`'s charts writes it (report.model): the baselined findings
    it saw and the entries of its charts that nothing matched any more."""
    charts = {c["name"] for c in report["charts"]}
    mine = [e for e in stale if e["chart"] in charts]
    notes = {"file": "/repo/chartgate-baseline.json", "used": True, "entries": entries,
             "baselined_findings": sum(bool(f.get("baselined")) for r in report["results"] for f in r["findings"]),
             "stale": mine, "written": None, "refused": None}
    if mine:
        notes["note"] = f"{len(mine)} baseline entries no longer match; run `chartgate baseline` (pytest --write-baseline) to shrink it"
    return notes


def test_the_merged_baseline_notes_are_the_unsharded_runs(raw, tmp_path):
    """Stale entries come from the shard that judged their chart, baselined findings add up: the merged
    summary.baseline (and the notes the reports print from it) equal one unsharded run's."""
    raw = copy.deepcopy(raw)
    for i, finding in enumerate(f for r in raw["results"] for f in r["findings"]):
        finding["baselined"] = i % 3 == 0
    names = sorted(c["name"] for c in raw["charts"])
    stale = [{"policy": "SEC-001", "chart": name, "resource": "Deployment/<namespace>/<release>-gone",
              "template": f"{name}/templates/gone.yaml", "path": "$.spec", "key": "gone"} for name in names[::2]]
    stale.sort(key=lambda e: json.dumps(e, sort_keys=True, separators=(",", ":")))
    raw["summary"]["baseline"] = _baseline_notes(raw, stale, entries=40)
    dirs = []
    for part in split(raw, 3):
        part["summary"]["baseline"] = _baseline_notes(part, stale, entries=40)
        assert len(part["summary"]["baseline"]["stale"]) < len(stale)  # each shard knows only its own
        directory = tmp_path / f"shard-{part['shard']['index']}"
        write_report_files(finalise(part), directory)
        dirs.append(directory)
    merged = merge_reports(dirs)
    whole = json.loads(json.dumps(finalise(copy.deepcopy(raw))))
    assert merged["summary"]["baseline"] == whole["summary"]["baseline"]
    assert merged["summary"]["baseline"]["baselined_findings"] > 0 and len(merged["summary"]["baseline"]["stale"]) > 1
    from chartgate.report.baselined import baseline_notes
    assert baseline_notes(merged) == baseline_notes(whole)
    assert normalised(json.loads(json.dumps(merged))) == normalised(whole)
    # shards that read different baseline files do not belong together
    _rewrite(dirs[1], lambda r: r["summary"]["baseline"].update(entries=39))
    with pytest.raises(MergeError, match=r"different baselines \(each shard must read the same baseline file\)"):
        merge_reports(dirs)


def test_per_chart_summary_notes_are_the_shards_together(raw, tmp_path):
    """`judged_elsewhere` (umbrella -> the dependency chart its findings were judged in), the charts
    whose covering plan is partial and the charts not judged are per chart, and a chart lives in one
    shard: the merge holds every shard's, and the reports print them (they once came out as a
    `per_shard` list, which the notes could not read)."""
    raw = copy.deepcopy(raw)
    names = sorted(c["name"] for c in raw["charts"])
    raw["summary"]["fail_on_upstream"] = True
    raw["summary"]["judged_elsewhere"] = {name: {"dep-chart": i + 1} for i, name in enumerate(names[:3])}
    raw["summary"]["partial_coverage"] = {name: 7 for name in names[1:4]}
    raw["summary"]["not_judged"] = []
    dirs = []
    for part in split(raw, 3):
        mine = {c["name"] for c in part["charts"]}
        for key in ("judged_elsewhere", "partial_coverage"):
            part["summary"][key] = {k: v for k, v in raw["summary"][key].items() if k in mine}
        directory = tmp_path / f"shard-{part['shard']['index']}"
        write_report_files(finalise(part), directory)
        dirs.append(directory)
    assert len({json.dumps(json.loads((d / "chartgate.json").read_text())["summary"]["judged_elsewhere"])
                for d in dirs}) > 1  # the shards differ
    merged = merge_reports(dirs)
    whole = json.loads(json.dumps(finalise(copy.deepcopy(raw))))
    for key in ("judged_elsewhere", "partial_coverage", "not_judged", "fail_on_upstream"):
        assert merged["summary"][key] == whole["summary"][key], key
    from chartgate.report.baselined import baseline_notes
    assert baseline_notes(merged) == baseline_notes(whole)
    assert sum("judged in chart dep-chart" in n for n in baseline_notes(merged)) == 3
    write_report_files(merged, tmp_path / "merged")  # every format renders the merged notes
    assert "judged in chart dep-chart" in (tmp_path / "merged" / "chartgate.md").read_text()
