"""Waivers: a covered failure becomes `waived` with its reason; expired waivers turn the gate red;
unused waivers are reported; malformed files name the file and line."""

from __future__ import annotations

import datetime as dt

import pytest

from chartgate import Applicability
from chartgate.core.errors import InvalidWaiver
from chartgate.engine.gate import Gate
from chartgate.check.definition import Outcome
from chartgate.check.waivers import load_waivers

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


# -- a waiver is a reviewed exception: never too wide, never for RENDER-001, never for long -------------

@pytest.mark.parametrize("policy, chart, expires, line, key, says", [
    ('"*"', '"*"', "2027-01-31", 2, "policy", "must name one policy id (`SEC-001`) or one family"),
    ('"*-001"', "bp-stunner", "2027-01-31", 2, "policy", "a pattern across families"),
    ('"O*"', "bp-stunner", "2027-01-31", 2, "policy", "must name one policy id"),
    ('"SEC-*"', '"*"', "2027-01-31", 3, "chart", "is a family and chart '*' matches every chart"),
    ("OBS", '"[a-z]*"', "2027-01-31", 3, "chart", "matches every chart"),
    ("RENDER-001", "bp-stunner", "2027-01-31", 2, "policy", "covers RENDER-001, which cannot be waived"),
    ('"RENDER-*"', "bp-stunner", "2027-01-31", 2, "policy", "Fix the chart, or exclude it with `exclude-charts`"),
    ("RENDER", "bp-stunner", "2027-01-31", 2, "policy", "covers RENDER-001"),
    ("OBS-001", "bp-stunner", "9999-12-31", 6, "expires", "9999-12-31 is more than 365 days ahead"),
    ("OBS-001", "bp-stunner", "2027-11-29", 6, "expires", "set an expiry by 2027-11-28"),
])
def test_waivers_too_wide_unwaivable_or_too_long_name_file_line_and_key(tmp_path, policy, chart, expires, line, key,
                                                                         says):
    path = _write(tmp_path, f"waivers:\n  - policy: {policy}\n    chart: {chart}\n    reason: r\n    owner: o\n"
                            f"    expires: {expires}\n")
    with pytest.raises(InvalidWaiver) as info:  # the run tells which policy is unwaivable (role="render")
        load_waivers(path, TODAY, unwaivable_ids=("RENDER-001",))
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: waivers[0].{key}") and says in message, message


@pytest.mark.parametrize("policy, chart", [("OBS-001", '"*"'), ('"SEC-*"', '"bp-*"'), ("OBS", "bp-stunner"),
                                           ('"OBS-00[12]"', "bp-stunner"), ("NO-SUCH-POLICY", '"*"')])
def test_one_policy_everywhere_or_one_family_on_named_charts_is_a_waiver(tmp_path, policy, chart):
    path = _write(tmp_path, f"waivers:\n  - policy: {policy}\n    chart: {chart}\n    reason: r\n    owner: o\n"
                            f"    expires: 2027-11-28\n")  # exactly 365 days after TODAY
    [waiver] = load_waivers(path, TODAY)
    assert waiver.policy == policy.strip('"')


def test_the_longest_expiry_is_a_setting(tmp_path):
    path = _write(tmp_path, WAIVE_ALL.format(entries=_entry("OBS-001", expires="2027-01-31")))
    assert load_waivers(path, TODAY, max_days=64)
    with pytest.raises(InvalidWaiver, match="more than 63 days ahead"):
        load_waivers(path, TODAY, max_days=63)
    (tmp_path / "pyproject.toml").write_text('[tool.chartgate]\nchart-roots = ["."]\nmax-waiver-days = 63\n'
                                             'exclude-charts = ["legacy-*"]\n')
    from chartgate.settings import gate_config as settings_gate_config
    config = settings_gate_config({}, tmp_path)
    assert config.max_waiver_days == 63 and config.exclude_charts == ("legacy-*",)
    (tmp_path / "pyproject.toml").write_text('[tool.chartgate]\nchart-roots = ["."]\nmax-waiver-days = 0\n')
    with pytest.raises(Exception, match="max-waiver-days must be at least 1"):
        settings_gate_config({}, tmp_path)


def test_a_render_failure_is_never_waived_even_by_a_waiver_built_in_code():
    from chartgate.check.definition import Finding, Result, Severity, policy as declare
    from chartgate.check.waivers import Waiver, WaiverBook

    @declare(id="RENDER-001", title="t", rationale="r", reference="r", severity=Severity.ERROR, receives="scenario", applies_to=Applicability(scenarios="*"), role="render")
    def renders(ctx):
        return []

    result = Result(renders, "bp-stunner", "default", Outcome.FAILED, [Finding("helm template failed")])
    book = WaiverBook([Waiver("RENDER-001", "bp-stunner", "r", "o", dt.date(2027, 1, 1))], today=TODAY)
    assert book.apply(result).outcome is Outcome.FAILED


def test_render_001_is_judged_whatever_the_per_chart_configuration_disables():
    from chartgate.discover.chartconfig import parse_chart_settings, settings_for

    entries = parse_chart_settings({"bp-*": {"disable": ["RENDER-*", "SEC-*"]}, "bp-stunner": {"enable": ["OBS"]}},
                                   "pyproject.toml")
    for chart in ("bp-knative", "bp-stunner"):
        settings = settings_for(chart, entries)
        assert settings.disabled_reason("RENDER-001", always_judged=True) is None  # the render policy
        assert settings.disabled_reason("SEC-001") is not None
