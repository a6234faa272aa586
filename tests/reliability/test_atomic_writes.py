"""Writes that hold results stay atomic under interruption: an evidence bundle or a cache entry whose
write is interrupted leaves the previous file intact and no temporary file behind (golden and report
writes are covered in tests/engine/test_reliability.py)."""

from __future__ import annotations

import errno
import json
import tarfile

import pytest

from chartgate.report import evidence
from chartgate.core import yamlio
from chartgate.discover.charts import _load_chart_dir
from chartgate.report.evidence import write_evidence
from chartgate.render.renderer import Renderer
from chartgate.plan.scenarios import Scenario, ScenarioKind

from .helpers import CONFIGMAP, helm, run_small_gate, write_chart

DEFAULT = Scenario("default", ScenarioKind.DEFAULT)


class Interrupted(BaseException):
    """Stands for SIGINT/SIGTERM arriving in the middle of a write."""


def test_an_interrupted_evidence_bundle_keeps_the_previous_bundle(tmp_path, monkeypatch):
    root = tmp_path / "charts"
    write_chart(root, "tiny", {"cm.yaml": CONFIGMAP.format(name="cm", value="v")})
    gate, summary = run_small_gate(tmp_path, root)
    bundle = write_evidence(summary, tmp_path / "evidence.tar.gz")
    before = bundle.read_bytes()

    added = []

    def add_then_interrupt(self, tarinfo, fileobj=None, **kw):  # a few members land, then the signal
        added.append(tarinfo.name)
        if len(added) > 2:
            raise Interrupted
        return real_addfile(self, tarinfo, fileobj, **kw)

    real_addfile = tarfile.TarFile.addfile
    monkeypatch.setattr(evidence.tarfile.TarFile, "addfile", add_then_interrupt)
    with pytest.raises(Interrupted):
        write_evidence(summary, bundle)
    monkeypatch.undo()

    assert len(added) == 3 and bundle.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith((".evidence", "evidence"))) == [
        "evidence.tar.gz"]
    with tarfile.open(bundle) as tar:  # still a complete, readable bundle
        assert any(m.name.endswith("SHA256SUMS") for m in tar.getmembers())


def test_an_interrupted_cache_write_keeps_the_previous_entry(tmp_path, monkeypatch):
    chart = _load_chart_dir(write_chart(tmp_path, "c", {"cm.yaml": CONFIGMAP.format(name="cm", value="v")}))
    cache = tmp_path / "cache"
    Renderer(helm(), cache, workers=1).render(chart, DEFAULT)
    [entry] = (cache / "renders").rglob("*.json")
    before = entry.read_bytes()

    class HalfWritten:
        def __init__(self, fh):
            self.fh = fh

        def write(self, data):
            self.fh.write(data[: len(data) // 2])
            raise Interrupted

    real_atomic = yamlio.atomic_file

    def interrupted_atomic(path, **kw):
        from contextlib import contextmanager

        @contextmanager
        def wrapper():
            with real_atomic(path, **kw) as fh:
                yield HalfWritten(fh)
        return wrapper()

    monkeypatch.setattr(yamlio, "atomic_file", interrupted_atomic)
    renderer = Renderer(helm(), cache, workers=1)
    renderer._read_cache = staticmethod(lambda path: None)  # render afresh, so the entry is written again
    with pytest.raises(Interrupted):
        renderer.render(chart, DEFAULT)
    monkeypatch.undo()

    assert entry.read_bytes() == before and json.loads(before)["documents"]
    assert [p.name for p in entry.parent.iterdir()] == [entry.name], "a temporary file was left behind"
    again = Renderer(helm(), cache, workers=1).render(chart, DEFAULT)
    assert again.cached and again.ok


def test_a_cache_write_that_fails_midway_keeps_the_old_entry_and_the_render(tmp_path, monkeypatch):
    """ENOSPC while the entry is being written: the render is returned, the previous entry is intact,
    no temporary file is left, and the cache is bypassed for the rest of the run."""
    chart = _load_chart_dir(write_chart(tmp_path, "c", {"cm.yaml": CONFIGMAP.format(name="cm", value="v")}))
    cache = tmp_path / "cache"
    renderer = Renderer(helm(), cache, workers=1)
    renderer.render(chart, DEFAULT)
    [entry] = (cache / "renders").rglob("*.json")
    before = entry.read_bytes()

    real_fdopen = yamlio.os.fdopen

    class Full:  # the disk fills up while the entry is being written
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            self.fh.write(data[:10])
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(yamlio.os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
    again = Renderer(helm(), cache, workers=1)
    again._read_cache = staticmethod(lambda path: None)  # force a fresh render that is written back
    with pytest.warns(UserWarning, match="No space left on device"):
        render = again.render(chart, DEFAULT)
    monkeypatch.undo()
    assert render.ok and [m.name for m in render.manifests] == ["cm"]
    assert entry.read_bytes() == before
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]
