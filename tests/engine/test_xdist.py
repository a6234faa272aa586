"""`pytest -n 2` (pytest-xdist): workers evaluate, the controller writes one complete report."""

from __future__ import annotations

import json
import subprocess
import sys

from ..conftest import REPO


def _gate(tmp_path, name: str, *extra: str) -> dict:
    report_dir = tmp_path / name
    cmd = [sys.executable, "-m", "pytest", "policies", "-q", "-p", "no:randomly", "-k", "bp-stunner and OBS",
           "--report-dir", str(report_dir), "--cache-dir", str(tmp_path / "cache"), *extra]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]  # -k: partial, nothing blocking
    return json.loads((report_dir / "chartgate.json").read_text())


def _rows(report: dict) -> list[tuple]:
    return sorted((r["policy"], r["chart"], r["scenario"] or "", r["outcome"]) for r in report["results"])


def test_xdist_run_reports_exactly_what_a_serial_run_reports(tmp_path):
    serial = _gate(tmp_path, "serial")
    parallel = _gate(tmp_path, "parallel", "-n", "2")
    assert _rows(parallel) == _rows(serial)
    assert len(_rows(parallel)) > 5
    assert parallel["summary"]["gate"] == "partial"  # -k: what the workers deselected reaches the controller
    assert parallel["summary"]["partial"] == serial["summary"]["partial"]
    assert parallel["summary"]["partial"]["checks"]["deselected"] > 0
    assert {p["id"] for p in parallel["policies"]} == {p["id"] for p in serial["policies"]}
    assert all(p["module_sha256"] for p in parallel["policies"])
