"""Symbolic links in chart trees are handled as Helm handles them, minus what Helm gets wrong.

What Helm 3.19 and 4.1 do (checked by the first test below, on both pinned binaries): the chart
loader follows links to files and to directories, reads what they point at wherever that is (it only
logs "found symbolic link in path ... Contents of linked file included and used"), fails on a
dangling link ("error evaluating symlink"), and follows a link loop 40 levels deep before failing
("too many levels of symbolic links").

What chartgate does: discovery follows linked chart directories (a directory seen twice is visited
once); a chart's files are read through links that stay inside the chart directory, so the digest and
the render cache key cover the content behind them; a link that leaves the chart directory, dangles,
or loops is refused with an error naming the link, and the chart is a broken chart: an `error` result
on every policy, never a crash and never a render.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from chartgate.discover.charts import BrokenChart, Chart, discover, _find_chart_dirs, _load_chart_dir
from chartgate.core.errors import InvalidChart
from chartgate.render.helm import TemplateRequest
from chartgate.check.definition import Outcome
from chartgate.render.renderer import Renderer
from chartgate.plan.scenarios import Scenario, ScenarioKind

from .helpers import CONFIGMAP, HELM_VERSIONS, helm, run_small_gate, write_chart

DEFAULT = Scenario("default", ScenarioKind.DEFAULT)


@pytest.mark.parametrize("version", HELM_VERSIONS)
def test_what_helm_itself_does_with_links(version, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "extra.yaml").write_text(CONFIGMAP.format(name="from-outside", value="v"))
    chart = write_chart(tmp_path, "linked", {"cm.yaml": CONFIGMAP.format(name="own", value="v")})
    (chart / "templates" / "extra.yaml").symlink_to(outside / "extra.yaml")
    output = helm(version).template(TemplateRequest(chart), chart="linked", scenario="default")
    assert "name: from-outside" in output.stdout  # Helm reads through a link that leaves the chart

    (chart / "templates" / "gone.yaml").symlink_to(tmp_path / "does-not-exist")
    with pytest.raises(Exception, match="error evaluating symlink"):
        helm(version).template(TemplateRequest(chart), chart="linked", scenario="default")


# -- discovery -------------------------------------------------------------------------------------

def test_discovery_follows_a_linked_chart_directory(tmp_path):
    vendor = write_chart(tmp_path / "vendor", "shared-chart")
    root = tmp_path / "platform"
    (root / "shared").mkdir(parents=True)
    (root / "shared" / "chart").symlink_to(vendor, target_is_directory=True)
    write_chart(root, "own")

    found = discover([root])
    assert sorted(c.name for c in found if isinstance(c, Chart)) == ["own", "shared-chart"]
    assert all(isinstance(c, Chart) for c in found)


def test_discovery_survives_link_loops_and_visits_a_directory_once(tmp_path):
    root = tmp_path / "platform"
    chart = write_chart(root / "team", "app")
    (root / "team" / "back-to-root").symlink_to(root, target_is_directory=True)  # a loop
    (root / "alias").symlink_to(chart, target_is_directory=True)  # the same chart under a second path
    assert _find_chart_dirs(root) == [root / "alias"] or _find_chart_dirs(root) == [chart]
    found = discover([root])
    assert [c.name for c in found] == ["app"] and isinstance(found[0], Chart)


# -- digest and cache key ----------------------------------------------------------------------------

def test_the_cache_key_covers_the_content_behind_a_linked_templates_folder(tmp_path):
    """Re-pointing `templates -> v1` at `v2` changes what Helm renders, so it must change the chart
    digest and the render cache key; otherwise the stale render of v1 is served from the cache."""
    chart = write_chart(tmp_path, "flip")
    (chart / "templates").rmdir()
    for version in ("v1", "v2"):
        (chart / version).mkdir()
        (chart / version / "cm.yaml").write_text(CONFIGMAP.format(name=f"from-{version}", value="v"))
    (chart / "templates").symlink_to("v1", target_is_directory=True)
    cache = tmp_path / "cache"

    first = Renderer(helm(), cache, workers=1).render(_load_chart_dir(chart), DEFAULT)
    assert first.ok and [m.name for m in first.manifests] == ["from-v1"]
    (chart / "templates").unlink()
    (chart / "templates").symlink_to("v2", target_is_directory=True)
    loaded = _load_chart_dir(chart)
    assert "templates/cm.yaml" in loaded.files.files  # the linked folder's content is part of the digest
    second = Renderer(helm(), cache, workers=1).render(loaded, DEFAULT)
    assert second.ok and [m.name for m in second.manifests] == ["from-v2"], "a stale render came from the cache"
    assert not second.cached


def test_a_linked_file_inside_the_chart_is_read_like_helm_reads_it(tmp_path):
    chart = write_chart(tmp_path, "inner", files={"shared/cm.yaml": CONFIGMAP.format(name="shared", value="v")})
    (chart / "templates" / "cm.yaml").symlink_to(Path("..") / "shared" / "cm.yaml")
    loaded = _load_chart_dir(chart)
    assert "name: shared" in loaded.templates["templates/cm.yaml"]
    render = Renderer(helm(), None, workers=1).render(loaded, DEFAULT)
    assert render.ok and [m.name for m in render.manifests] == ["shared"]


# -- links that are refused ------------------------------------------------------------------------

@pytest.mark.parametrize("rel, target, says", [
    ("files/env", "/proc/self/environ", "leaves the chart directory"),
    ("templates/x.yaml", "/etc/passwd", "leaves the chart directory"),
    ("templates", "{outside}", "leaves the chart directory"),
    ("files/next-door", "../../neighbour/values.yaml", "leaves the chart directory"),
    ("templates/gone.yaml", "{tmp}/does-not-exist", "points at nothing (a dangling link)"),
    ("templates/loop", "..", "loops back to"),
    ("templates/self", "self", "is a loop of links"),
])
def test_a_refused_link_is_an_error_naming_the_link(tmp_path, rel, target, says):
    outside = tmp_path / "outside-templates"
    outside.mkdir()
    root = tmp_path / "charts"
    write_chart(root, "neighbour")
    chart = write_chart(root, "linky", {"cm.yaml": CONFIGMAP.format(name="cm", value="v")})
    link = chart / rel
    if link.is_dir():
        for child in link.iterdir():
            child.unlink()
        link.rmdir()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target.format(outside=outside, tmp=tmp_path))

    with pytest.raises(InvalidChart) as excinfo:
        _load_chart_dir(chart)
    message = str(excinfo.value)
    assert message.startswith(f"{link}: symbolic link to ") and says in message, message
    broken = {c.name: c for c in discover([root])}["linky"]
    assert isinstance(broken, BrokenChart) and str(broken.error) == message


def test_a_chart_linking_to_proc_environ_is_an_error_on_every_policy_and_leaks_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("DEPLOY_TOKEN", "tok-canary-1b2c3d4e5f")
    root = tmp_path / "charts"
    chart = write_chart(root, "leaky", {"probe.yaml": 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\n'
                                        'data:\n  env: {{ .Files.Get "files/env" | quote }}\n'})
    (chart / "files").mkdir()
    (chart / "files" / "env").symlink_to("/proc/self/environ")
    write_chart(root, "healthy", {"cm.yaml": CONFIGMAP.format(name="cm", value="v")})

    gate, summary = run_small_gate(tmp_path, root)
    leaky = [r for r in gate.results if r.chart == "leaky"]
    assert {r.policy.id for r in leaky} == {"GOLD-001", "RENDER-001"}
    assert all(f"{chart}/files/env: symbolic link to /proc/self/environ" in r.message
               for r in leaky), [(r.outcome, r.message) for r in leaky]
    assert {r.policy.id: r.outcome for r in leaky} == {"RENDER-001": Outcome.ERROR, "GOLD-001": Outcome.SKIPPED}
    assert {r.outcome for r in gate.results if r.chart == "healthy"} == {Outcome.PASSED}
    assert summary.red
    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()]
    assert not [p for p in written if b"tok-canary-1b2c3d4e5f" in p.read_bytes()]
    report = json.loads((tmp_path / "reports" / "chartgate.json").read_text())
    assert {r["outcome"] for r in report["results"] if r["chart"] == "leaky"} == {"error", "skipped"}


def test_a_fifo_in_a_chart_is_refused_instead_of_blocking_the_run(tmp_path):
    chart = write_chart(tmp_path, "piped")
    os.mkfifo(chart / "templates" / "pipe.yaml")
    with pytest.raises(InvalidChart, match="not a regular file or directory"):
        _load_chart_dir(chart)
