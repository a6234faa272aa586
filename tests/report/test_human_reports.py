"""chartgate.md and chartgate.html: the matrix, the findings with everything needed to fix or
reproduce them, waivers, provenance; everything escaped; nothing loaded from outside the page."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from chartgate.report.html import render_html
from chartgate.report.markdown import render_markdown
from chartgate.report.matrix import build_matrix


def test_matrix_cell_aggregates_scenarios_and_the_worst_outcome_wins(failing_report):
    matrix = build_matrix(failing_report)
    assert matrix.charts == ["bp-broken", "bp-stunner"]
    waived = matrix.cell("bp-stunner", "OBS-005")
    assert waived.outcome == "waived" and waived.counts["waived"] == 1 and waived.counts["passed"] >= 1
    assert matrix.cell("bp-stunner", "OBS-002").outcome == "failed"
    assert matrix.cell("bp-stunner", "GOLD-001").outcome == "passed"
    assert matrix.cell("bp-stunner", "GOLD-001").total == sum(
        r["chart"] == "bp-stunner" and r["policy"] == "GOLD-001" for r in failing_report["results"])
    assert matrix.cell("bp-broken", "OBS-001").outcome == "error"


def test_markdown_report(failing_run, failing_report):
    md = Path(failing_run.summary.reports["chartgate.md"]).read_text()
    assert md.startswith("# chartgate report: gate failed")
    for fact in (failing_report["helm"]["sha256"], failing_report["charts"][-1]["digest"], "1.30", "1.33"):
        assert fact in md
    assert "| **bp-stunner** |" in md and "❌ failed" in md and "⚠️ waived" in md and "💥 error" in md
    hpa = md[md.index("### ❌ OBS-002 on bp-stunner (default)"):]
    hpa = hpa[:hpa.index("\n### ")]
    assert "resource `HorizontalPodAutoscaler/bp-stunner/bp-stunner-bp-stunner`" in hpa
    assert "template `bp-stunner/templates/hpa.yaml`" in hpa and "JSONPath `$`" in hpa
    assert "  ```yaml\n  apiVersion: autoscaling/v2\n  kind: HorizontalPodAutoscaler\n" in hpa
    assert "advertised API versions: none (bare cluster)" in hpa
    assert "```sh\n" in hpa and "helm template bp-stunner" in hpa.replace("/helm template", "helm template")
    assert "Waived: explicit-off differs while the HPA default is being fixed \\<see ticket & notes\\>" in md
    assert "owner platform-team, expires 2099-12-31" in md


def test_markdown_escapes_table_cells_and_code(failing_report):
    report = copy.deepcopy(failing_report)
    report["charts"][-1]["version"] = "1.0.0 | `evil`"
    md = render_markdown(report)
    assert "`` 1.0.0 \\| `evil` ``" in md


class _Page(HTMLParser):
    """Collects tags, attributes with URLs, and the text of the page."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [value for name, value in attrs if name in ("src", "href", "srcset", "action") and value]

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


def test_html_matrix_and_findings(page, failing_report):
    cell = re.search(r'<td class="cell o-waived" data-outcome="waived" title="OBS-005 on bp-stunner: ([^"]+)">', page)
    assert cell and "1 waived" in cell.group(1)
    assert page.count('data-outcome="error"') == 7
    assert 'href="#r-obs-002-bp-stunner-default"' in page and 'id="r-obs-002-bp-stunner-default"' in page
    article = page[page.index('id="r-obs-002-bp-stunner-default"'):]
    article = article[:article.index("</article>")]
    for needle in ("HorizontalPodAutoscaler/bp-stunner/bp-stunner-bp-stunner", "bp-stunner/templates/hpa.yaml",
                   "<dt>JSONPath</dt>", "kind: HorizontalPodAutoscaler", "none (bare cluster)", "base.yaml",
                   "template bp-stunner", "severity error"):
        assert needle in article, needle
    waived = page[page.index('id="r-obs-005-bp-stunner-'):]
    assert "HPA default is being fixed &lt;see ticket &amp; notes&gt;" in waived[:waived.index("</article>")]
    for fact in (failing_report["helm"]["sha256"], failing_report["git_commit"] or "not a git checkout",
                 failing_report["policies"][0]["module_sha256"], failing_report["charts"][-1]["digest"]):
        assert fact in page


def test_html_escapes_everything(failing_report):
    report = copy.deepcopy(failing_report)
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    failed = next(r for r in report["results"] if r["outcome"] == "failed")
    failed["findings"][0].update(message=hostile, excerpt=hostile, resource=hostile)
    failed["chart"] = report["charts"][-1]["name"] = '"><b>chart</b>'
    report["policies"][0]["title"] = hostile
    page = render_html(report)
    parsed = _Page()
    parsed.feed(page)
    assert {"script", "img", "b"}.isdisjoint(parsed.tags)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
