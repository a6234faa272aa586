"""Stopping is immediate: after SIGTERM (a CI timeout) or SIGINT (Ctrl-C) nothing new is rendered or
planned, the Helm processes running are killed, and the incomplete, red report is written within
seconds from what was judged. Each test runs the real plugin in a subprocess over a generated chart
whose planning is slow (many `fail` guards, so infeasible re-planning renders a lot)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chartgate.engine.gate import Gate
from chartgate.core.stop import Stopped

from ..conftest import gate_config
from .helpers import engine_policies, plugin_repo, write_chart

TOGGLES = 24
#: Seconds of Helm CPU per render: planning this chart takes minutes, so a signal finds it planning.
SLOW = '{{- $s := "" }}{{- range $i := until 200000 }}{{- $s = sha256sum (printf "%s%d" $s $i) }}{{- end }}\n'


def guarded_chart(root: Path, name: str = "guarded") -> Path:
    """TOGGLES switches, each pair of neighbours refused by the chart's own `fail`: most pairwise plan
    rows are refused, and every combination only they covered gets a row of its own."""
    values = "".join(f"f{i}:\n  enabled: false\n" for i in range(TOGGLES))
    guards = "".join(f'{{{{- if and .Values.f{i}.enabled .Values.f{(i + 1) % TOGGLES}.enabled }}}}'
                     f'{{{{ fail "f{i} and f{(i + 1) % TOGGLES} exclude each other" }}}}{{{{- end }}}}\n'
                     for i in range(TOGGLES))
    objects = "".join(f'{{{{- if .Values.f{i}.enabled }}}}\n---\napiVersion: v1\nkind: ConfigMap\n'
                      f'metadata:\n  name: f{i}\ndata:\n  k: v\n{{{{- end }}}}\n' for i in range(TOGGLES))
    return write_chart(root, name, {"guarded.yaml": SLOW + guards + objects}, values=values)


def helm_processes(marker: str) -> list[int]:
    """Live processes whose command line mentions `marker` (a chart path): the Helm renders of it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and "helm" in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture
def slow_repo(pytester: pytest.Pytester, monkeypatch) -> Path:
    root = plugin_repo(pytester, monkeypatch)
    guarded_chart(root / "charts")
    (root / "reports").mkdir()
    (root / "reports" / "chartgate.json").write_text('{"summary": {"gate": "passed"}}')  # a stale green
    return root


def start_gate(repo: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, "-m", "pytest", "policies", "--chart-root", str(repo / "charts"),
                             "--cache-dir", str(repo / "cache"), "--helm-version", "4.1.4",
                             "-p", "no:cacheprovider", *args],
                            cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=_interruptible)


def _interruptible() -> None:
    """The gate runs as a foreground command would, with Ctrl-C's default action. A test session
    started in the background by a shell without job control (`cmd &`, nohup) inherits SIGINT ignored,
    and chartgate leaves an ignored signal ignored - the gate would then never see the SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_until_planning_renders(proc: subprocess.Popen, marker: str) -> None:
    """Until the infeasible re-planning is rendering (a Helm process of the guarded chart runs, and
    some of its renders are cached: the plan rows were rendered and refused)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        if helm_processes(marker) and len(list(Path(marker, "..", "..", "cache").glob("renders/*/*.json"))) >= 8:
            return
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"the gate never started re-planning: {proc.communicate()[0][-3000:]}")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_planning_ends_the_run_within_seconds_incomplete_and_red(slow_repo, signum):
    marker = str(slow_repo / "charts" / "guarded")
    proc = start_gate(slow_repo)
    wait_until_planning_renders(proc, marker)
    sent = time.monotonic()
    proc.send_signal(signum)
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    took = time.monotonic() - sent
    assert took < 10, f"the run went on for {took:.1f}s after the signal:\n{out[-3000:]}"
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out[-3000:]
    assert not helm_processes(marker), "Helm processes outlived the run"
    data = json.loads((slow_repo / "reports" / "chartgate.json").read_text())
    assert data["summary"]["gate"] == "incomplete", out[-3000:]
    assert data["summary"]["incomplete"].startswith("interrupted while planning")
    assert data["summary"]["not_judged"] == ["guarded", "tiny"]
    [guarded] = [c for c in data["charts"] if c["name"] == "guarded"]
    assert guarded["judged"] is False and guarded["scenarios"] == [] and guarded["plan"] == {}  # none computed
    assert "RED (incomplete)" in out


def test_a_stopped_gate_starts_no_helm_process_and_plans_nothing(tmp_path):
    guarded_chart(tmp_path / "charts")
    (tmp_path / "overlays").mkdir()
    gate = Gate(gate_config(tmp_path, tmp_path / "charts", tmp_path / "overlays", cache=tmp_path / "cache"))
    gate.helm  # a usable Helm
    gate.stop.request("stopped early (-x)")
    with pytest.raises(Stopped):
        gate.planned_checks(engine_policies())
    assert not (tmp_path / "cache" / "renders").exists()  # nothing was rendered
    summary = gate.finish("stopped early (-x)")
    data = summary.reports.report
    assert data["summary"]["gate"] == "incomplete" and data["summary"]["not_judged"] == ["guarded"]
    assert data["charts"][0]["plan"] == {} and "render_stats" in data


def test_sigterm_to_an_xdist_controller_stops_its_workers_and_their_helm_processes(slow_repo):
    marker = str(slow_repo / "charts" / "guarded")
    proc = start_gate(slow_repo, "-n", "2")
    wait_until_planning_renders(proc, marker)
    report = slow_repo / "reports" / "chartgate.json"
    proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    while (helm_processes(marker) or "incomplete" not in report.read_text()) and time.monotonic() < sent + 10:
        time.sleep(0.1)
    left, written = helm_processes(marker), "incomplete" in report.read_text()
    try:  # pytest-xdist gives its workers up to 10s to come down before it kills them
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert not left, "the workers' Helm processes outlived the signal by 10s"
    assert written, f"no incomplete report 10s after the signal:\n{out[-3000:]}"
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out[-3000:]
    data = json.loads((slow_repo / "reports" / "chartgate.json").read_text())
    assert data["summary"]["gate"] == "incomplete", out[-3000:]
    assert data["summary"]["incomplete"].startswith("interrupted while planning")
    assert data["summary"]["not_judged"] == ["guarded", "tiny"]


def test_stopping_at_the_first_failure_drops_the_next_charts_renders(slow_repo):
    """-x: the chart rendered ahead of the failing one (the prefetch) is not rendered to the end."""
    write_chart(slow_repo / "charts", "a-broken", {"cm.yaml": '{{ fail "a-broken: set x" }}\n'})
    values = "".join(f"t{i}:\n  enabled: false\n" for i in range(12))
    objects = "".join(f'{{{{- if .Values.t{i}.enabled }}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n'
                      f'  name: t{i}\n{{{{- end }}}}\n' for i in range(12))
    write_chart(slow_repo / "charts", "b-slow", {"cm.yaml": SLOW.replace("200000", "400000") + objects},
                values=values)
    (slow_repo / "charts" / "guarded").rename(slow_repo / "guarded-elsewhere")  # not this test's subject
    proc = start_gate(slow_repo, "-x", "-p", "no:randomly")
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == pytest.ExitCode.TESTS_FAILED, out[-3000:]
    data = json.loads((slow_repo / "reports" / "chartgate.json").read_text())
    assert data["summary"]["gate"] == "incomplete" and "b-slow" in data["summary"]["not_judged"]
    [slow] = [c for c in data["charts"] if c["name"] == "b-slow"]
    rendered = [p for p in (slow_repo / "cache" / "renders").glob("*/*.json") if '"error"' not in p.read_text()]
    assert len(slow["scenarios"]) >= 12 and len(rendered) < len(slow["scenarios"]) // 2, (len(rendered), out[-2000:])
    assert not helm_processes(str(slow_repo / "charts" / "b-slow"))
