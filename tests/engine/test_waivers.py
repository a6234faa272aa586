"""Waivers: a covered failure becomes `waived` with its reason; expired waivers turn the gate red;
unused waivers are reported; malformed files name the file and line."""

from __future__ import annotations

import datetime as dt

import pytest

from chartgate.errors import InvalidWaiver
from chartgate.gate import Gate
from chartgate.policy import Outcome
from chartgate.waivers import load_waivers

from ..conftest import MUTANTS, build_mutant, gate_config, run_gate

TODAY = dt.date(2026, 11, 28)


def _obs(policies):
    return [p for p in policies if p.id.startswith("OBS-")]


@pytest.fixture
def hpa_default_true(tmp_path):
    return build_mutant(MUTANTS / "obs-toggle-defaults-true.yaml", tmp_path)


def _write(tmp_path, text):
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    return path


WAIVE_ALL = """\
waivers:
{entries}
"""


def _entry(policy, expires="2027-01-31", chart="bp-stunner", **extra):
    lines = [f"  - policy: {policy}", f"    chart: {chart}", "    reason: accepted while the HPA is trialled",
             "    owner: platform-team", f"    expires: {expires}"]
    lines += [f"    {k}: {v!r}" for k, v in extra.items()]
    return "\n".join(lines)


@pytest.fixture
def servicemonitor_without_toggle(tmp_path):
    return build_mutant(MUTANTS / "obs-servicemonitor-without-toggle.yaml", tmp_path)


def test_live_waivers_turn_failures_into_waived(tmp_path, hpa_default_true, policies, render_cache):
    chart_root, overlay_root, _ = hpa_default_true
    waivers = _write(tmp_path, WAIVE_ALL.format(entries=_entry("OBS-*")))  # a policy glob
    run = run_gate(gate_config(tmp_path, chart_root, overlay_root, cache=render_cache, waivers_file=waivers,
                               today=TODAY), _obs(policies))
    waived = [r for r in run.gate.results if r.outcome is Outcome.WAIVED]
    assert {r.policy.id for r in waived} == {"OBS-001"}
    assert all(r.waiver["reason"] == "accepted while the HPA is trialled" for r in waived)
    assert not run.summary.red
    assert run.summary.unused_waivers == []


def test_expired_waiver_fails_the_gate_and_says_so(tmp_path, hpa_default_true, policies, render_cache):
    chart_root, overlay_root, _ = hpa_default_true
    waivers = _write(tmp_path, WAIVE_ALL.format(entries=_entry("OBS-001", expires="2026-11-27")))
    run = run_gate(gate_config(tmp_path, chart_root, overlay_root, cache=render_cache, waivers_file=waivers,
                               today=TODAY), _obs(policies))
    [obs1] = run.results_for("OBS-001")
    assert obs1.outcome is Outcome.FAILED
    assert "expired on 2026-11-27" in obs1.message
    assert run.summary.red
    assert [w.policy for w in run.summary.expired_waivers] == ["OBS-001"]


def test_resource_selector_limits_what_a_waiver_covers(tmp_path, servicemonitor_without_toggle, policies,
                                                      render_cache):
    chart_root, overlay_root, _ = servicemonitor_without_toggle
    waivers = _write(tmp_path, WAIVE_ALL.format(entries=_entry("OBS-005", resource="NetworkPolicy/*/*")))
    run = run_gate(gate_config(tmp_path, chart_root, overlay_root, cache=render_cache, waivers_file=waivers,
                               today=TODAY), _obs(policies))
    failed = [r for r in run.results_for("OBS-005") if r.outcome is Outcome.FAILED]
    assert failed  # the ServiceMonitor finding is not covered by a NetworkPolicy selector
    assert [w.policy for w in run.summary.unused_waivers] == ["OBS-005"]


def test_unused_waiver_is_reported_but_partial_runs_do_not_false_alarm(tmp_path, policies, render_cache):
    from ..conftest import CHARTS
    entries = "\n".join([_entry("OBS-001", chart="bp-kserve"), _entry("NO-SUCH-POLICY", chart="bp-kserve"),
                         _entry("GOLD-001", chart="bp-kserve")])
    waivers = _write(tmp_path, WAIVE_ALL.format(entries=entries))
    gate = Gate(gate_config(tmp_path, CHARTS, cache=render_cache, waivers_file=waivers, today=TODAY))
    checks = gate.planned_checks(policies)  # everything is collected ...
    for check in checks:
        if check.policy.id == "OBS-001":  # ... but only OBS-001 is selected (like `-k OBS-001`)
            gate.evaluate(check)
    unused = sorted(w.policy for w in gate.finish().unused_waivers)
    # OBS-001 ran on bp-kserve and passed: unused. The unknown id is always reported. GOLD-001 did not
    # run in this (partial) session, so its waiver is not judged.
    assert unused == ["NO-SUCH-POLICY", "OBS-001"]


@pytest.mark.parametrize("text, needle", [
    ("waivers:\n  - policy: OBS-001\n    chart: x\n    reason: r\n    owner: o\n", "waivers.yaml:2: waivers[0] is missing expires"),
    ("waivers:\n  - policy: OBS-001\n    chart: x\n    reason: r\n    owner: o\n    expires: soon\n",
     "expires must be a date"),
    ("waivers:\n  - policy: OBS-001\n    chart: [unclosed\n", "waivers.yaml:4: invalid YAML"),
    ("- just a list\n", "expected a mapping with a `waivers:` list"),
    ("waivers:\n  - policy: OBS-001\n    chart: x\n    reason: r\n    owner: o\n    expires: 2027-01-01\n    typo: 1\n",
     "unknown keys ['typo']"),
])
def test_malformed_waivers_name_file_and_line(tmp_path, text, needle):
    path = _write(tmp_path, text)
    with pytest.raises(InvalidWaiver) as info:
        load_waivers(path)
    assert needle in str(info.value)
    assert str(path) in str(info.value)
