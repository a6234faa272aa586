"""The evidence bundle and the provenance every report carries."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

import pytest
import yaml

from chartgate.report import evidence
from chartgate.report.evidence import _BUNDLE_ROOT, write_evidence


@pytest.fixture(scope="module")
def bundle(failing_run, tmp_path_factory) -> Path:
    return write_evidence(failing_run.summary, tmp_path_factory.mktemp("evidence") / "ev.tar.gz")


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name.removeprefix(f"{_BUNDLE_ROOT}/"): tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_bundle_holds_reports_every_rendered_manifest_and_checksums(bundle, failing_run):
    files = _members(bundle)
    for report in failing_run.summary.reports.values():
        assert files[f"reports/{Path(report).name}"] == Path(report).read_bytes()
    gate = failing_run.gate
    planned = {f"manifests/bp-stunner/{s.name}.yaml" for s in gate.plans["bp-stunner"]}
    assert planned <= set(files)
    default = list(yaml.safe_load_all(files["manifests/bp-stunner/default.yaml"]))
    kinds = {doc["kind"] for doc in default}
    assert kinds == gate.renderer.rendered(gate.charts["bp-stunner"], gate.plans["bp-stunner"][0]).kinds()
    assert b"# Source: bp-stunner/templates/hpa.yaml" in files["manifests/bp-stunner/default.yaml"]

    sums = dict(reversed(line.split("  ", 1)) for line in files.pop("SHA256SUMS").decode().splitlines())
    assert sums == {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def test_a_directory_gets_the_default_file_name(failing_run, tmp_path):
    path = write_evidence(failing_run.summary, tmp_path)
    assert path == tmp_path / evidence._DEFAULT_NAME and tarfile.is_tarfile(path)


def test_an_interrupted_write_keeps_the_previous_bundle(failing_run, tmp_path, monkeypatch):
    path = tmp_path / "ev.tar.gz"
    write_evidence(failing_run.summary, path)
    before = path.read_bytes()

    def explode(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tarfile.TarFile, "addfile", explode)  # interrupted half-way through the archive
    with pytest.raises(KeyboardInterrupt):
        write_evidence(failing_run.summary, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ev.tar.gz"]  # no temporary file left behind


def test_report_provenance(failing_report):
    assert failing_report["tool"]["name"] == "chartgate" and failing_report["tool"]["version"]
    helm = failing_report["helm"]
    assert helm["version"].startswith("v") and len(helm["sha256"]) == 64
    assert failing_report["kubernetes_versions"] == ["1.30", "1.33"]
    assert failing_report["generated_at"] and failing_report["started_at"] and failing_report["working_dir"]
    assert "git_commit" in failing_report  # None when the charts are not in a git checkout
    assert all(len(p["module_sha256"]) == 64 for p in failing_report["policies"])
    chart = next(c for c in failing_report["charts"] if c["name"] == "bp-stunner")
    assert len(chart["digest"]) == 64
    digests = [d for s in chart["scenarios"] for d in s["values_digests"].values()]
    assert digests and all(len(d) == 64 for d in digests)
