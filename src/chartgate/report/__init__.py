"""Reports: one report model (a JSON-able dict built once from the run record, secrets already redacted, control
characters neutralised, results grouped into defects), rendered to each output format. Every file
is written atomically. `chartgate merge` renders a merged model through the same formats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from chartgate.core.confine import check_output_dir
from chartgate.core.yamlio import write_atomic
from chartgate.report.html import render_html_output
from chartgate.report.junit import render_junit
from chartgate.report.markdown import render_markdown_output
from chartgate.report.model import build_report
from chartgate.report.sarif import build_sarif, truncation_note

if TYPE_CHECKING:
    from chartgate.report.record import RunRecord


def _json(report: dict) -> tuple[str, list[str]]:
    return json.dumps(report, indent=2, sort_keys=False) + "\n", []


def _sarif(report: dict) -> tuple[str, list[str]]:
    sarif = build_sarif(report)
    note = truncation_note(sarif)
    return json.dumps(sarif, separators=(",", ":")) + "\n", [note] if note else []


def _plain(render: Callable[[dict], str]) -> Callable[[dict], tuple[str, list[str]]]:
    return lambda report: (render(report), [])


#: file name -> renderer(report dict) -> (text, notes for the terminal: what a bounded format left out).
_FORMATS: dict[str, Callable[[dict], tuple[str, list[str]]]] = {
    "chartgate.json": _json,
    "junit.xml": _plain(render_junit),
    "chartgate.md": render_markdown_output,
    "chartgate.html": render_html_output,
    "chartgate.sarif": _sarif,
}


class _Written(dict):
    """file name -> path of each report written, plus what the terminal summary needs: the report
    model itself (`report`) and what bounded formats left out (`notes`)."""

    def __init__(self, paths: dict[str, Path], report: dict, notes: list[str]):
        super().__init__(paths)
        self.report = report
        self.notes = notes


def write_report_files(report: dict, out_dir: Path) -> _Written:
    out_dir = Path(out_dir)
    check_output_dir(out_dir, "report directory")  # never written through a link out of the repository
    paths, notes = {}, []
    for filename, render in _FORMATS.items():
        text, file_notes = render(report)
        path = out_dir / filename
        write_atomic(path, text)
        paths[filename] = path
        notes += file_notes
    return _Written(paths, report, notes)


def write_reports(record: "RunRecord") -> _Written:
    """Every report of a run, from its record (the one input of every writer)."""
    return write_report_files(build_report(record), record.report_dir)
