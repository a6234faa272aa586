"""Human-readable reports stay readable and small on a large run: the chart x family matrix has one
row per chart and one column per family (policies inside the cells), excerpts are capped, and past a
byte budget findings lose their details, then their rows - each cut stated in the file and returned
for the terminal."""

from __future__ import annotations

import re

import pytest

from chartgate.report import matrix
from chartgate.report.html import render_html_output
from chartgate.report.markdown import render_markdown_output
from chartgate.report.model import finalise

from .synthetic import FAMILIES, synthetic_report


@pytest.fixture(scope="module")
def wide(tmp_path_factory) -> dict:
    """50 charts x 40 policies (14 families), 2 scenarios each."""
    return finalise(synthetic_report(tmp_path_factory.mktemp("wide"), charts=50, policies=40, scenarios=2))


@pytest.fixture(scope="module")
def deep(tmp_path_factory) -> dict:
    return finalise(synthetic_report(tmp_path_factory.mktemp("deep"), charts=8, policies=12, scenarios=6,
                                     fail_ratio=0.7, error_ratio=0.1))


def test_the_matrix_has_charts_as_rows_and_families_as_columns(wide):
    page, notes = render_html_output(wide)
    table = page[page.index('<table class="matrix">'):]
    table = table[:table.index("</table>")]
    head = table[:table.index("</thead>")]
    assert len(re.findall(r"<th[ >]", head)) == 2 + len(FAMILIES)  # chart, defects, one per family
    assert table.count('<th scope="row" class="chart">') == 50
    assert table.count("<details>") == 50 * len(FAMILIES)  # each cell expands to its policies
    assert len(re.findall(r'<li class="o-\w+" data-policy=', table)) == 50 * 40
    assert len(page.encode()) < 5_000_000


def test_the_markdown_matrix_has_one_column_per_family(wide):
    md, _ = render_markdown_output(wide)
    header = next(line for line in md.splitlines() if line.startswith("| chart | defects |"))
    assert header.count("|") == 3 + len(FAMILIES)
    assert sum(line.startswith("| **chart-") for line in md.splitlines()) == 50


def test_excerpts_and_scenario_lists_are_capped(deep):
    defect = next(d for d in deep["defects"] if d["excerpt"])
    defect["excerpt"] = "\n".join(f"key{i}: {'x' * 30}" for i in range(500))
    defect["occurrences"] = defect["occurrences"] * 30
    page, _ = render_html_output(deep)
    assert "# ... 470 more lines (see chartgate.json)" in page
    assert f"and {len(defect['occurrences']) - matrix.SCENARIOS_SHOWN:,} more (every one, with its command" in page


def test_past_the_budget_details_then_rows_are_cut_and_said(deep, monkeypatch):
    full, notes = render_html_output(deep)
    assert notes == [] and "page size budget" not in full
    monkeypatch.setattr(matrix, "_BUDGET_BYTES", 90_000)
    page, notes = render_html_output(deep)
    assert len(page.encode()) < len(full.encode()) / 2
    assert any("shown as one-line rows without details" in n for n in notes)
    assert any("not shown at all (page size budget reached)" in n for n in notes)
    cuts = page[page.index('<section id="cuts">'):page.index("</section>", page.index('<section id="cuts">'))]
    assert "chartgate.json has every result, defect and scenario" in cuts
    assert page.index('<section id="cuts">') < page.index('<section id="matrix">')  # said at the top
    md, md_notes = render_markdown_output(deep)
    assert any("not listed at all" in n for n in md_notes) and "**Left out of this file:**" in md
    assert len(md.encode()) < matrix._BUDGET_BYTES * 1.5


def test_every_matrix_link_has_a_target_even_when_cut(deep, monkeypatch):
    monkeypatch.setattr(matrix, "_BUDGET_BYTES", 60_000)
    page, _ = render_html_output(deep)
    ids = set(re.findall(r'id="([^"]+)"', page))
    assert set(re.findall(r'href="#([^"]+)"', page)) <= ids
