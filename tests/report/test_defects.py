"""One finding per defect: results stay per (policy, chart, scenario); the grouped view lists each
defect once with every scenario it occurs in."""

from __future__ import annotations

from chartgate.report.defects import defect_counts, group_defects, _normalise_message, _scenario_pattern


def _result(scenario, outcome="failed", findings=(), **extra):
    return {"policy": "P-001", "title": "t", "chart": "c", "scenario": scenario, "outcome": outcome,
            "severity": extra.pop("severity", "error"), "findings": list(findings),
            "command": f"helm template c --scenario {scenario}", "scenario_inputs": {"set": {"s": scenario}}, **extra}


def _finding(message, resource="Deployment/ns/web", path="$.spec.replicas"):
    return {"resource": resource, "template": "c/templates/web.yaml", "path": path, "message": message,
            "excerpt": "replicas: 3"}


def _report(results, scenarios=("default", "on.metrics.enabled", "off.metrics.enabled", "plan.001")):
    return {"charts": [{"name": "c", "scenarios": [{"name": s} for s in scenarios]}], "results": results,
            "summary": {"fail_on": "error"}}


def test_a_defect_in_many_scenarios_is_one_defect_listing_them():
    results = [_result(s, findings=[_finding(f"web has 3 replicas in scenario {s}; set 1.")])
               for s in ("default", "on.metrics.enabled", "plan.001")]
    [defect] = group_defects(_report(results))
    assert [o["scenario"] for o in defect["occurrences"]] == ["default", "on.metrics.enabled", "plan.001"]
    assert defect["message"] == "web has 3 replicas in scenario default; set 1."
    assert defect["occurrences"][1]["message"] == "web has 3 replicas in scenario on.metrics.enabled; set 1."
    assert "message" not in defect["occurrences"][0]
    assert defect["occurrences"][2]["command"] == "helm template c --scenario plan.001"
    assert defect["occurrences"][2]["inputs"] == {"set": {"s": "plan.001"}}
    assert defect["outcome"] == "failed" and defect["blocking"] and defect["excerpt"] == "replicas: 3"
    assert defect["id"].startswith("d-") and len(defect["id"]) == 18


def test_different_resources_paths_or_messages_are_different_defects():
    results = [_result("default", findings=[_finding("a"), _finding("a", resource="Deployment/ns/api"),
                                            _finding("a", path="$.spec.template"), _finding("b")])]
    assert len(group_defects(_report(results))) == 4


def test_the_scenario_name_is_removed_only_as_a_whole_name():
    pattern = _scenario_pattern(["default", "on.metrics.enabled"])
    assert _normalise_message("off in default.", pattern) == "off in <scenario>."
    assert _normalise_message("defaults to true; xdefault; on.metrics.enabled-2", pattern) == \
        "defaults to true; xdefault; on.metrics.enabled-2"
    assert _normalise_message("no golden file golden/c/on.metrics.enabled.yaml", pattern) == \
        "no golden file golden/c/<scenario>.yaml"
    assert _normalise_message("the  default\nrender", pattern) == "the <scenario> render"


def test_mixed_outcomes_show_the_worst_and_waivers_per_occurrence():
    waiver = {"reason": "accepted", "owner": "o", "expires": "2099-01-01"}
    results = [_result("default", findings=[_finding("x")]),
               _result("plan.001", outcome="waived", findings=[_finding("x")], waiver=waiver)]
    [defect] = group_defects(_report(results))
    assert defect["outcome"] == "failed" and [o["outcome"] for o in defect["occurrences"]] == ["failed", "waived"]
    assert defect["occurrences"][1]["waiver"] == waiver
    [waived] = group_defects(_report(results[1:]))
    assert waived["outcome"] == "waived" and not waived["blocking"]


def test_errors_group_on_their_message_and_always_block():
    results = [_result(s, outcome="error", message=f"KeyError: 'spec' while checking c [{s}]")
               for s in ("default", "plan.001")]
    [defect] = group_defects(_report(results))
    assert defect["outcome"] == "error" and defect["blocking"] and len(defect["occurrences"]) == 2
    assert defect["resource"] == defect["path"] == ""


def test_a_warning_blocks_only_with_fail_on_warning():
    report = _report([_result("default", severity="warning", findings=[_finding("w")])])
    assert not group_defects(report)[0]["blocking"]
    report["summary"]["fail_on"] = "warning"
    assert group_defects(report)[0]["blocking"]


def test_chart_level_results_and_passing_ones():
    results = [_result(None, findings=[_finding("chart-level")]), _result("default", outcome="passed"),
               _result("plan.001", outcome="skipped")]
    [defect] = group_defects(_report(results))
    assert defect["occurrences"][0]["scenario"] is None
    assert defect_counts([defect]) == {"total": 1, "failed": 1, "error": 0, "waived": 0, "blocking": 1, "warning": 0,
                                       "occurrences": 1, "baselined": 0, "upstream": 0}


def test_the_order_is_blocking_first(failing_report):
    blocking = [d["blocking"] for d in failing_report["defects"]]
    assert blocking == sorted(blocking, reverse=True) and not blocking[-1]
    assert len({d["id"] for d in failing_report["defects"]}) == len(failing_report["defects"])
    results = sum(r["outcome"] in ("failed", "waived", "error") for r in failing_report["results"])
    assert failing_report["summary"]["defects"]["occurrences"] >= results > len(failing_report["defects"])


def test_a_findings_cause_key_groups_whatever_the_path_or_message():
    results = [_result("default", findings=[{**_finding("api has no sa (ServiceAccounts: a)", path="$.subjects[0]"),
                                             "key": "subject api"}]),
               _result("plan.001", findings=[{**_finding("api has no sa (ServiceAccounts: a, b)",
                                                         path="$.subjects[1]"), "key": "subject api"}]),
               _result("plan.001", findings=[{**_finding("web has no sa"), "key": "subject web"}])]
    defects = group_defects(_report(results))
    assert sorted(len(d["occurrences"]) for d in defects) == [1, 2]


def test_one_cause_reported_by_two_policies_is_one_defect_naming_both():
    default = dict(_finding("`ingress.domain` defaults to 'apps.acme.org'", resource="", path="$.ingress.domain"),
                   cause="a domain as a default")
    fallback = dict(default, message="without an FQDN the chart falls back to the default 'apps.acme.org'")
    other_path = dict(default, path="$.gateway.domain")
    results = [_result(None, findings=[default, other_path]),
               {**_result(None, findings=[fallback]), "policy": "P-003"}]
    second, first = group_defects(_report(results))  # ordered by path: $.gateway before $.ingress
    assert first["policies"] == ["P-001", "P-003"] and first["path"] == "$.ingress.domain"
    assert [(o["policy"], o["scenario"]) for o in first["occurrences"]] == [("P-001", None), ("P-003", None)]
    assert first["occurrences"][1]["message"].startswith("without an FQDN")
    assert second["policies"] == ["P-001"] and second["path"] == "$.gateway.domain"
