"""chartgate.md and chartgate.html: the summary by chart (charts x policy families, expandable to
policies) and by family first, then the top findings with everything needed to fix or reproduce
them, the rest collapsed; waivers, provenance; everything escaped; nothing loaded from outside."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from chartgate.report.html import _render_html
from chartgate.report.markdown import _render_markdown
from chartgate.report.matrix import build_matrix, family_cell, families, repeat_groups


def _defect(report, policy, chart="bp-stunner"):
    return next(d for d in report["defects"] if d["policy"] == policy and d["chart"] == chart)


def test_matrix_cell_aggregates_scenarios_and_the_worst_outcome_wins(failing_report):
    matrix = build_matrix(failing_report)
    assert matrix.charts == ["bp-broken", "bp-stunner"]
    partly = matrix.cell("bp-stunner", "RPT-001")
    assert partly.outcome == "failed" and partly.counts["waived"] == 1 and partly.counts["failed"] >= 10
    assert matrix.cell("bp-stunner", "RPT-003").outcome == "waived"
    assert matrix.cell("bp-stunner", "GOLD-001").outcome == "passed"
    assert matrix.cell("bp-stunner", "GOLD-001").total == sum(
        r["chart"] == "bp-stunner" and r["policy"] == "GOLD-001" for r in failing_report["results"])
    # one cause, one finding: the chart that cannot be loaded is one RENDER-001 error, the rest skipped
    assert matrix.cell("bp-broken", "RENDER-001").outcome == "error"
    assert matrix.cell("bp-broken", "RPT-001").outcome == "skipped"


def test_family_cells_aggregate_their_policies(failing_report):
    matrix = build_matrix(failing_report)
    grouped = families(matrix)
    assert list(grouped) == ["GOLD", "RENDER", "RPT"]
    rpt = family_cell(matrix, "bp-stunner", grouped["RPT"])
    # RPT-002 is a warning-severity policy below --fail-on error: a warning cell, not a failed one
    assert rpt.outcome == "failed" and rpt.count("failed") == 1 and rpt.count("warning") == 1
    assert rpt.count("waived") == 1
    assert rpt.summary() == "1 failed, 1 warning, 1 waived"
    assert family_cell(matrix, "bp-broken", grouped["RENDER"]).outcome == "error"
    assert family_cell(matrix, "bp-broken", grouped["RPT"]).outcome == "skipped"


def test_repeats_across_policies_are_collapsed_for_display(failing_report):
    groups = repeat_groups(failing_report["defects"])
    broken = [g for g in groups if g[0]["chart"] == "bp-broken"]
    assert len(broken) == 1 and {d["policy"] for d in broken[0]} == {"RENDER-001"}  # reported once
    # Several policies reporting the same finding on one chart are one display group naming each.
    same = [{**broken[0][0], "policy": pid, "id": f"d-{pid}"} for pid in ("RPT-001", "RPT-002", "RPT-003")]
    [group] = repeat_groups(same)
    assert [d["policy"] for d in group] == ["RPT-001", "RPT-002", "RPT-003"]


def test_markdown_report(failing_run, failing_report):
    md = Path(failing_run.summary.reports["chartgate.md"]).read_text()
    assert md.startswith("# chartgate report: gate failed")
    for fact in (failing_report["helm"]["sha256"], failing_report["charts"][-1]["digest"], "1.30", "1.33"):
        assert fact in md
    # summary first: charts as rows, families as columns, non-passing policies named and linked
    assert md.index("## Summary by chart") < md.index("## Summary by policy family") < md.index("## Top findings")
    assert "| chart | defects | `GOLD` | `RENDER` | `RPT` |" in md
    hpa = _defect(failing_report, "RPT-001")
    row = next(line for line in md.splitlines() if line.startswith("| **bp-stunner** |"))
    assert f"[❌ RPT-001](#{hpa['id']})" in row and "⚠️ RPT-003" in row
    assert "🔸 RPT-002" in row and "❌ RPT-002" not in row  # a warning below --fail-on is not shown as failed
    # one finding for the defect seen in every scenario that renders the HPA
    section = md[md.index(f'<a id="{hpa["id"]}"></a>'):]
    section = section[:section.index("\n### ", section.index("### ") + 4)]
    assert md.count("### ❌ RPT-001 on bp-stunner") == 1
    assert "resource `HorizontalPodAutoscaler/bp-stunner/bp-stunner-bp-stunner`" in section
    assert "template `bp-stunner/templates/hpa.yaml`" in section and "JSONPath `$.spec.maxReplicas`" in section
    assert "line `15`" in section and "```yaml\nmaxReplicas: 3\n```" in section
    assert f"Seen in {len(hpa['occurrences'])} scenarios: `capabilities` (waived), `ci.all-overlays`" in section
    assert "advertised API versions:" in section and "```sh\n" in section and "template" in section
    # the fully waived defect shows its waiver
    assert "Waived: upstream Services are reviewed upstream \\<see ticket & notes\\>" in md
    assert "owner platform-team, expires 2027-06-30" in md
    # the broken chart: one error, by its render check; its other checks are skipped with that cause
    assert md.count("chart could not be loaded") == 1 and "### 💥 RENDER-001 on bp-broken: error" in md


def test_markdown_escapes_table_cells_and_code(failing_report):
    report = copy.deepcopy(failing_report)
    report["charts"][-1]["version"] = "1.0.0 | `evil`"
    md = _render_markdown(report)
    assert "`` 1.0.0 \\| `evil` ``" in md


class _Page(HTMLParser):
    """Collects tags, attributes with URLs, ids, and the text of the page."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.ids: set[str] = set()
        self.policies: list[tuple[str, str]] = []  # (policy, outcome) of the matrix's policy items
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.urls += [value for name, value in attrs.items() if name in ("src", "href", "srcset", "action") and value]
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "li" and "data-policy" in attrs:
            self.policies.append((attrs["data-policy"], attrs["data-outcome"]))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def page(failing_run) -> str:
    return Path(failing_run.summary.reports["chartgate.html"]).read_text()


def test_html_is_self_contained(page):
    parsed = _Page()
    parsed.feed(page)
    assert "script" not in parsed.tags and "link" not in parsed.tags and "img" not in parsed.tags
    assert all(url.startswith("#") for url in parsed.urls), [u for u in parsed.urls if not u.startswith("#")]
    assert "url(" not in page and "@import" not in page


def test_every_link_on_the_page_has_a_target(page):
    parsed = _Page()
    parsed.feed(page)
    assert {url[1:] for url in parsed.urls} <= parsed.ids


def test_html_matrix_and_findings(page, failing_report):
    parsed = _Page()
    parsed.feed(page)
    assert parsed.policies.count(("RENDER-001", "error")) == 1 and len([p for p in parsed.policies if p[1] == "error"]) == 1
    assert parsed.policies.count(("RPT-001", "skipped")) == 1  # the broken chart's other checks: skipped
    assert ("RPT-003", "waived") in parsed.policies and ("RPT-001", "failed") in parsed.policies
    cell = re.search(r'<td class="cell o-failed" data-outcome="failed" data-family="RPT" title="RPT on bp-stunner: ([^"]+)">',
                     page)
    assert cell and cell.group(1) == "1 failed, 1 warning, 1 waived"
    hpa = _defect(failing_report, "RPT-001")
    assert f'href="#{hpa["id"]}"' in page and f'id="{hpa["id"]}"' in page
    assert page.count(f'id="{hpa["id"]}"') == 1
    article = page[page.index(f'id="{hpa["id"]}"'):]
    article = article[:article.index("</article>")]
    for needle in ("HorizontalPodAutoscaler/bp-stunner/bp-stunner-bp-stunner", "bp-stunner/templates/hpa.yaml",
                   "<dt>JSONPath</dt>", "maxReplicas: 3", f"Seen in {len(hpa['occurrences'])} scenarios",
                   'title="waived">capabilities</code>', "template", "severity error"):
        assert needle in article, needle
    waived = page[page.index(f'id="{_defect(failing_report, "RPT-003")["id"]}"'):]
    assert "upstream Services are reviewed upstream &lt;see ticket &amp; notes&gt;" in waived[:waived.index("</article>")]
    for fact in (failing_report["helm"]["sha256"], failing_report["git_commit"] or "not a git checkout",
                 failing_report["policies"][0]["module_sha256"], failing_report["charts"][-1]["digest"]):
        assert fact in page


def test_html_escapes_everything(failing_report):
    report = copy.deepcopy(failing_report)
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    failed = next(d for d in report["defects"] if d["outcome"] == "failed")
    failed.update(message=hostile, excerpt=hostile, resource=hostile)
    failed["chart"] = report["charts"][-1]["name"] = '"><b>chart</b>'
    report["policies"][0]["title"] = hostile
    page = _render_html(report)
    parsed = _Page()
    parsed.feed(page)
    assert {"script", "img", "b"}.isdisjoint(parsed.tags)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_junit_counts_only_blocking_findings_as_failures(failing_run, failing_report):
    """A warning below --fail-on is a passed testcase carrying its finding (CI widgets must not show it
    as a failed test); blocking findings stay failures."""
    from xml.etree import ElementTree as ET
    suite = ET.parse(failing_run.summary.reports["junit.xml"]).getroot()
    blocking = [r for r in failing_report["results"] if r["outcome"] == "failed" and r["severity"] == "error"]
    warned = [r for r in failing_report["results"] if r["outcome"] == "failed" and r["severity"] == "warning"]
    assert blocking and warned
    assert suite.get("failures") == str(len(blocking))
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    for r in warned:
        case = cases[f"{r['policy']}[{r['chart']}:{r['scenario']}]" if r["scenario"] else f"{r['policy']}[{r['chart']}]"]
        assert case.find("failure") is None and case.find("error") is None and case.find("skipped") is None
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert props["chartgate.outcome"] == "warning"
        assert r["findings"][0]["message"] in props["chartgate.finding.1"]
        assert case.find("system-out").text.startswith("warning (not blocking below --fail-on error)")
    for r in blocking:
        case = cases[f"{r['policy']}[{r['chart']}:{r['scenario']}]" if r["scenario"] else f"{r['policy']}[{r['chart']}]"]
        assert case.find("failure") is not None


def test_headers_count_blocking_and_warning_defects_apart(failing_run, failing_report):
    counts = failing_report["summary"]["defects"]
    assert counts["warning"] >= 1 and counts["blocking"] >= 1
    md = Path(failing_run.summary.reports["chartgate.md"]).read_text()
    assert f"| Blocking | **{counts['blocking']:,} blocking**, {counts['warning']:,} warning" in md
    html = Path(failing_run.summary.reports["chartgate.html"]).read_text()
    assert f"{counts['blocking']:,} blocking, {counts['warning']:,} warning" in html
