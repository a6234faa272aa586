"""Golden kind summaries: paths stay inside the golden directory whatever the names, an interrupted
update leaves the previous file intact, and orphans are found only among what the run covered."""

from __future__ import annotations

import os

import pytest

from chartgate.core import yamlio
from chartgate.compare.golden import GoldenStore, _describe_diff

HOSTILE_NAMES = ["../evil", "../../etc/passwd", "a/b", "a b", "a_b", "..", ".", "", "/abs", "x\\y", "名前"]


@pytest.mark.parametrize("chart", HOSTILE_NAMES)
@pytest.mark.parametrize("scenario", ["default", "../up", "on.a/b"])
def test_golden_paths_stay_inside_the_golden_dir(tmp_path, chart, scenario):
    root = tmp_path / "golden"
    path = GoldenStore(root).path_for(chart, scenario)
    assert path.resolve().parent.parent == root.resolve()
    assert path.suffix == ".yaml" and not path.name.startswith(".")


def test_distinct_names_never_share_a_golden_file(tmp_path):
    store = GoldenStore(tmp_path)
    paths = {store.path_for(name, "default") for name in HOSTILE_NAMES}
    assert len(paths) == len(HOSTILE_NAMES)


def test_update_writes_inside_the_root_for_a_hostile_chart_name(tmp_path):
    root = tmp_path / "deep" / "golden"
    store = GoldenStore(root, update=True)
    assert store.check("../../escaped", "default", {"ConfigMap": {"v1": 1}}) == []
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == store.written and root.resolve() in written[0].resolve().parents


def test_drift_is_described_per_kind(tmp_path):
    store = GoldenStore(tmp_path, update=True)
    store.check("c", "default", {"ConfigMap": {"v1": 1}, "Service": {"v1": 1}})
    drift = GoldenStore(tmp_path).check("c", "default", {"ConfigMap": {"v1": 2}, "Deployment": {"apps/v1": 1}})
    assert drift == ["~ ConfigMap v1: 1 -> 2", "+ Deployment apps/v1: 1  (rendered, not in the golden file)",
                     "- Service v1: 1  (in the golden file, no longer rendered)"]
    assert _describe_diff({}, {}) == []


def test_a_completely_different_summary_is_still_itemised():
    """deepdiff alone would report only that the whole root changed."""
    assert _describe_diff({"ConfigMap": {"v1": 1}}, {"Secret": {"v1": 1}}) == [
        "- ConfigMap v1: 1  (in the golden file, no longer rendered)",
        "+ Secret v1: 1  (rendered, not in the golden file)"]


def test_missing_golden_says_how_to_create_it(tmp_path):
    [line] = GoldenStore(tmp_path).check("c", "default", {"ConfigMap": {"v1": 1}})
    assert "no golden file" in line and "--update-golden" in line


def test_a_file_that_is_not_a_golden_says_to_recreate_it(tmp_path):
    store = GoldenStore(tmp_path)
    path = store.path_for("c", "default")
    path.parent.mkdir(parents=True)
    path.write_text("- just a list\n")
    with pytest.raises(Exception, match=r"not a chartgate golden file.*--update-golden"):
        store.check("c", "default", {})


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, OSError])
def test_an_interrupted_update_leaves_the_previous_golden_intact(tmp_path, monkeypatch, interrupt):
    store = GoldenStore(tmp_path, update=True)
    store.check("c", "default", {"ConfigMap": {"v1": 1}})
    path = store.path_for("c", "default")
    before = path.read_bytes()

    def replace_interrupted(src, dst):
        raise interrupt("interrupted between writing the temp file and renaming it")

    monkeypatch.setattr(yamlio.os, "replace", replace_interrupted)
    with pytest.raises(interrupt):
        GoldenStore(tmp_path, update=True).check("c", "default", {"ConfigMap": {"v1": 5}})
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name], "a temporary file was left behind"


def test_orphans_only_among_charts_the_run_covered(tmp_path):
    store = GoldenStore(tmp_path, update=True)
    charts = tmp_path / "charts"
    for chart, scenario in [("a", "default"), ("a", "gone"), ("b", "default"), ("old", "default")]:
        store.check(chart, scenario, {"ConfigMap": {"v1": 1}}, chart_path=charts / chart)
    planned = {"a": {"default"}, "b": {"default"}}
    # A partial run (only chart a) sees a's orphan, and nothing about b or the removed chart.
    assert GoldenStore(tmp_path).orphans(planned, {"a"}, full_run=False, chart_roots=(charts,)) == [
        store.path_for("a", "gone")]
    # A full run also sees the directory of a chart that no longer exists under its chart roots.
    assert GoldenStore(tmp_path).orphans(planned, {"a", "b"}, full_run=True, chart_roots=(charts,)) == [
        store.path_for("a", "gone"), store.path_for("old", "default")]


def test_orphans_of_a_hostile_chart_name_are_matched_by_its_safe_name(tmp_path):
    store = GoldenStore(tmp_path, update=True)
    store.check("a/b", "default", {"ConfigMap": {"v1": 1}})
    assert GoldenStore(tmp_path).orphans({"a/b": {"default"}}, {"a/b"}, full_run=True) == []


def test_the_header_names_a_command_every_repository_has_and_earlier_files_stay_chartgates(tmp_path):
    from chartgate.compare.golden import _EARLIER_HEADERS, _HEADER
    store = GoldenStore(tmp_path / "golden", update=True)
    store.check("web", "default", {"ConfigMap": {"v1": 1}})
    written = store.written[0].read_text(encoding="utf-8")
    assert written.startswith(_HEADER) and "Regenerate with: chartgate check --update-golden" in _HEADER
    assert "pytest policies" not in written  # a path that exists only in chartgate's own checkout
    earlier = store.written[0].with_name("capabilities.yaml")  # written before the header changed
    earlier.write_text(_EARLIER_HEADERS[0] + "chart: web\nkinds: {}\nscenario: capabilities\n", encoding="utf-8")
    assert GoldenStore(tmp_path / "golden").is_ours(earlier) and store.is_ours(store.written[0])
