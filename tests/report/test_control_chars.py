"""Control characters from a chart (ANSI escapes, NUL, BEL in values, resource names and a `fail`
message that Helm echoes raw) never reach the terminal raw and never make a report invalid: junit.xml
parses as XML 1.0, chartgate.json and chartgate.sarif as JSON, and no report file holds one raw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from chartgate.check.loader import load_policy_module
from chartgate.check.definition import policies_in
from chartgate.report.safe import clean, printable
from chartgate.report.terminal import describe_result, write_summary

from ..conftest import REPO, gate_config, run_gate

EVIL = "\x1b[31m", "\x00", "\x07"
# Invisible ones too: a right-to-left override, a zero-width space, an Arabic letter mark, a byte-order mark.
INVISIBLE = "\u202e", "\u200b", "\u061c", "\ufeff"
RAW = [b"\x1b", b"\x00", b"\x07"] + [c.encode() for c in INVISIBLE]

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: ctl\nversion: 0.1.0\n",
    # YAML escapes: \e is ESC, \0 NUL, \a BEL
    "values.yaml": 'evil: "\\e[31mred\\0nul\\abel\\u202ertl\\u200bzw\\u061cal\\ufeffbom"\nboom: false\n',
    "templates/cm.yaml": ('{{- if .Values.boom }}{{ fail (printf "boom: %s" .Values.evil) }}{{ end }}\n'
                          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                          '  name: {{ printf "cm-%s" .Values.evil | quote }}\n'
                          "data:\n  note: {{ .Values.evil | quote }}\n"),
}
POLICY = '''
from chartgate import Applicability, Finding, policy


@policy(id="CTL-001", title="ConfigMaps are flagged with their name", receives="scenario",
        applies_to=Applicability(scenarios="*"),
        rationale="A test policy whose message repeats what the chart put in a resource name.",
        reference="tests/report/test_control_chars.py")
def named(ctx):
    for manifest in ctx.render.of_kind("ConfigMap"):
        yield Finding.on(manifest, "$.metadata.name", "ConfigMap named " + manifest.body["metadata"]["name"])
'''


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ctl")
    for rel, text in CHART.items():
        path = root / "charts" / "ctl" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "overlays" / "ctl").mkdir(parents=True)
    (root / "overlays" / "ctl" / "boom-values.yaml").write_text("boom: true\n")  # the `fail` scenario
    (root / "policies").mkdir()
    (root / "policies" / "ctl_names.py").write_text(POLICY)
    return root


@pytest.fixture(scope="module")
def run(tree, render_cache):
    policies = policies_in(load_policy_module(REPO / "policies" / "render.py"))
    policies += policies_in(load_policy_module(tree / "policies" / "ctl_names.py"))
    config = gate_config(tree / "out", tree / "charts", tree / "overlays", cache=render_cache,
                         helm_versions=("4.1.4",))
    return run_gate(config, policies)


def test_the_chart_really_carries_control_characters(run):
    """The test is only worth something if the raw characters reach chartgate."""
    findings = [f for r in run.gate.results for f in r.findings]
    assert any("\x1b[31m" in f.resource for f in findings)
    assert any("\x1b[31m" in f.message and "\x00" in f.message for f in findings if "boom" in f.message)
    assert any(all(c in f.message for c in INVISIBLE) for f in findings if "boom" in f.message)


def test_reports_are_valid_and_hold_no_raw_control_character(run):
    reports = run.summary.reports
    for name in ("chartgate.json", "junit.xml", "chartgate.md", "chartgate.html", "chartgate.sarif"):
        data = Path(reports[name]).read_bytes()
        assert not [c for c in RAW if c in data], name
    ET.fromstring(Path(reports["junit.xml"]).read_bytes())  # XML 1.0: no C0 control but tab/newline/CR
    report = json.loads(Path(reports["chartgate.json"]).read_text())
    json.loads(Path(reports["chartgate.sarif"]).read_text())
    names = [d["resource"] for d in report["defects"] if d["policy"] == "CTL-001"]
    assert names and all("\\x1b[31m" in n and "\\x00" in n and "\\x07" in n for n in names)  # visible, not lost
    boom = [d for d in report["defects"] if d["policy"] == "RENDER-001"]
    assert boom and "boom: \\x1b[31mred\\x00nul\\x07bel\\u202ertl\\u200bzw\\u061cal\\ufeffbom" in boom[0]["message"]


def test_terminal_text_holds_no_raw_control_character(run):
    for result in run.gate.results:
        text = describe_result(result)
        assert not any(c in text for c in ("\x1b", "\x00", "\x07", *INVISIBLE)), text

    class Recorder:
        def __init__(self):
            self.lines = []

        def section(self, title, **kw):
            self.lines.append(title)

        def write_line(self, line, **kw):
            self.lines.append(line)

    tr = Recorder()
    write_summary(tr, run.summary)
    out = "\n".join(tr.lines)
    assert "CTL-001" in out and "RENDER-001" in out
    assert not any(c in out for c in ("\x1b", "\x00", "\x07", *INVISIBLE)), out


def test_a_pytest_run_prints_no_raw_control_character(tree, render_cache, tmp_path):
    """End to end: the failure texts, warnings and summary pytest prints for this chart."""
    args = [sys.executable, "-m", "pytest", str(REPO / "policies" / "render.py"), str(tree / "policies"),
            "--chart-root", str(tree / "charts"), "--overlay-root", str(tree / "overlays"),
            "--golden-dir", str(tmp_path / "golden"), "--report-dir", str(tmp_path / "reports"),
            "--platform-config", str(REPO / "platform.yaml"), "--cache-dir", str(render_cache),
            "--helm-version", "4.1.4", "-p", "no:randomly", "-p", "no:cacheprovider", "-rA", "--color=no"]
    env = {**os.environ, "CHARTGATE_TOOLS_DIR": str(REPO / ".tools")}
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out.decode(errors="replace")[-3000:]
    assert b"RENDER-001" in out and b"CTL-001" in out
    assert b"\\x1b[31m" in out  # shown as a visible escape
    assert not [c for c in RAW if c in out], out.decode(errors="replace")[-3000:]


@pytest.mark.parametrize("raw, shown", [
    ("\x1b[31mred", "\\x1b[31mred"), ("a\x00b", "a\\x00b"), ("bell\x07", "bell\\x07"), ("x\ry", "x\\x0dy"),
    ("crlf\r\n", "crlf\n"), ("del\x7f", "del\\x7f"), ("csi\x9b", "csi\\x9b"), ("lone\udc80", "lone\\udc80"),
    ("rtl\u202eevil", "rtl\\u202eevil"), ("tab\tnewline\n", "tab\tnewline\n"), ("ünïcode ✓", "ünïcode ✓"),
    ("zero\u200bwidth", "zero\\u200bwidth"), ("lrm\u200e", "lrm\\u200e"), ("alm\u061c", "alm\\u061c"),
    ("line\u2028sep\u2029", "line\\u2028sep\\u2029"), ("\ufeffbom", "\\ufeffbom"), ("shy\u00ad", "shy\\xad"),
    ("tag\U000e0041", "tag\\U000e0041"), ("ok \u00e9\u4e2d\U0001f600", "ok \u00e9\u4e2d\U0001f600"),
])
def test_printable(raw, shown):
    assert printable(raw) == shown


def test_every_format_character_and_line_separator_is_escaped_and_found_in_json():
    """Bidirectional, zero-width and every other format character (Unicode category Cf) of this
    Python's Unicode database, plus U+2028/U+2029: shown as escapes by the one filter, and found by the
    fast check `clean` uses for the report model."""
    import unicodedata
    unsafe = [chr(c) for c in range(0x80, 0x110000)
              if unicodedata.category(chr(c)) == "Cf" or c in (0x2028, 0x2029)]
    assert len(unsafe) > 150
    for char in unsafe:
        assert char not in printable(f"a{char}b"), hex(ord(char))
        assert clean({"k": f"a{char}b"}) != {"k": f"a{char}b"}, hex(ord(char))


def test_clean_copies_only_when_needed():
    plain = {"a": ["b", {"c": 1, "d": None, "e": True}]}
    assert clean(plain) is plain
    assert clean({"k\x1b": ["v\x00", 2]}) == {"k\\x1b": ["v\\x00", 2]}
    assert clean({"path": "C:\\bin"}) == {"path": "C:\\bin"}  # a literal backslash is not a control character


def test_node_ids_hold_no_raw_control_character(tmp_path):
    """A chart whose name carries an escape sequence: pytest's node ids (printed by -v, --collect-only
    and the short summary) show it escaped."""
    chart = tmp_path / "charts" / "evil"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text('apiVersion: v2\nname: "evil\\e[31mname"\nversion: 0.1.0\n')
    (chart / "templates" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    args = [sys.executable, "-m", "pytest", str(REPO / "policies" / "render.py"), "--collect-only", "-q",
            "--chart-root", str(tmp_path / "charts"), "--golden-dir", str(tmp_path / "golden"),
            "--report-dir", str(tmp_path / "reports"), "--platform-config", str(REPO / "platform.yaml"),
            "--helm-version", "4.1.4", "-p", "no:randomly", "-p", "no:cacheprovider", "--color=no"]
    env = {**os.environ, "CHARTGATE_TOOLS_DIR": str(REPO / ".tools")}
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert b"RENDER-001[evil\\x1b[31mname:default]" in out, out.decode(errors="replace")[-2000:]
    assert b"\x1b" not in out
