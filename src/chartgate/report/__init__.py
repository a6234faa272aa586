"""Reports: one report model (a JSON-able dict built once, secrets already redacted), rendered to
each output format. Every file is written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..yamlio import write_atomic
from .html import render_html
from .junit import render_junit
from .markdown import render_markdown
from .model import build_report
from .sarif import render_sarif

if TYPE_CHECKING:
    from ..gate import Gate, GateSummary

#: file name -> renderer(report dict) -> text. Optional formats register here too.
FORMATS = {
    "chartgate.json": lambda report: json.dumps(report, indent=2, sort_keys=False) + "\n",
    "junit.xml": render_junit,
    "chartgate.md": render_markdown,
    "chartgate.html": render_html,
    "chartgate.sarif": render_sarif,
}


def write_reports(gate: "Gate", summary: "GateSummary") -> dict[str, Path]:
    report = build_report(gate, summary)
    out_dir = Path(gate.config.report_dir)
    written = {}
    for filename, render in FORMATS.items():
        path = out_dir / filename
        write_atomic(path, render(report))
        written[filename] = path
    return written
