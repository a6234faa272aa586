"""The run record is the writers' one input: no writer module imports the Gate (not even for a type),
none takes a gate, the record holds no Gate or Renderer, and the record cannot be changed."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import subprocess
import sys
from pathlib import Path
from types import MappingProxyType

import pytest

import chartgate
from chartgate.engine.gate import Gate
from chartgate.report.record import GateSummary, RunRecord
from chartgate.render.renderer import Renderer

SRC = Path(chartgate.__file__).parent
# The record, every format, the evidence bundle, the terminal summary, and redaction (what a redactor
# learns is handed to it as plain data: the gate owns the run's one redactor and teaches it).
WRITERS = sorted((SRC / "report").glob("*.py"))


def _module(path: Path) -> str:
    return "chartgate." + ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path, module: str | None = None) -> list[str]:
    """Every module an import statement of the file names, resolved to absolute names (any depth:
    a function-level or TYPE_CHECKING import counts too)."""
    module = module or _module(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[:len(base) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.append(module)
            names += [f"{module}.{alias.name}" for alias in node.names]
    return names


@pytest.mark.parametrize("path", WRITERS, ids=lambda p: _module(p))
def test_no_writer_imports_the_gate(path):
    assert "chartgate.engine.gate" not in _imports(path), f"{_module(path)} imports chartgate.engine.gate"


def test_importing_the_writers_does_not_load_the_gate():
    modules = [_module(p) for p in WRITERS]
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint('chartgate.engine.gate' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_import_check_sees_a_gate_import(tmp_path):
    """The checker is not blind: relative, absolute and function-level imports of the gate are seen."""
    assert {"chartgate.report.record", "chartgate.report.defects"} <= set(_imports(SRC / "report" / "model.py"))
    for text in ("from ..engine.gate import Gate\n", "import chartgate.engine.gate\n",
                 "def f():\n    from ..engine import gate\n", "from typing import TYPE_CHECKING\n"
                 "if TYPE_CHECKING:\n    from chartgate.engine.gate import GateConfig\n"):
        probe = tmp_path / "probe.py"
        probe.write_text(text)
        assert "chartgate.engine.gate" in _imports(probe, "chartgate.report.probe"), text


@pytest.mark.parametrize("path", WRITERS, ids=lambda p: _module(p))
def test_no_writer_function_takes_a_gate(path):
    module = importlib.import_module(_module(path))
    for name, function in inspect.getmembers(module, inspect.isfunction):
        if function.__module__ != module.__name__:
            continue
        for parameter in inspect.signature(function).parameters.values():
            assert parameter.name != "gate", f"{module.__name__}.{name} takes a gate"
            assert "Gate" not in str(parameter.annotation).replace("GateSummary", ""), \
                f"{module.__name__}.{name}({parameter.name}) is annotated with the Gate"


def _values(record: RunRecord):
    for f in dataclasses.fields(record):
        yield getattr(record, f.name)


def test_the_record_holds_neither_gate_nor_renderer(failing_run):
    summary = failing_run.summary
    assert isinstance(summary, GateSummary) and isinstance(summary.record, RunRecord)
    assert not any(isinstance(v, (Gate, Renderer)) for v in vars(summary).values())
    seen = list(_values(summary.record))
    assert not any(isinstance(v, (Gate, Renderer)) for v in seen)
    # The manifests accessor is a closure over what the bundle needs, never over the gate.
    walk = summary.record.manifests._walk
    cells = [c.cell_contents for c in (walk.__closure__ or ())]
    assert not any(isinstance(c, Gate) for c in cells)


def test_the_record_is_immutable(failing_run):
    record = failing_run.summary.record
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.incomplete = "changed"
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.golden.orphans = ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.baseline.refused = "no"
    with pytest.raises(TypeError):
        record.provenance["git_commit"] = "0" * 40
    with pytest.raises(TypeError):
        record.charts[0]["name"] = "renamed"
    assert isinstance(record.results, tuple) and isinstance(record.blocking, tuple)
    assert isinstance(record.plans, MappingProxyType)


def test_the_summary_is_the_records_view(failing_run):
    summary, record = failing_run.summary, failing_run.summary.record
    assert summary.verdict == record.verdict == failing_run.summary.reports.report["summary"]["gate"]
    assert summary.blocking == list(record.blocking) and summary.red is record.red
    assert sorted(map(id, record.results)) == sorted(map(id, failing_run.gate.results))


def test_one_redactor_a_run_handed_down(failing_run):
    """The gate owns the run's one redactor and the record carries that very object to every writer;
    nothing in the package looks a redactor up by gate (the weak map `redactor_for` kept is gone)."""
    assert failing_run.summary.record.redactor is failing_run.gate.redactor
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "redactor_for" not in text and "_GATE_REDACTORS" not in text, path


def test_blocking_seen_is_the_red_rule_without_incomplete(failing_run):
    """The plugin's and `chartgate check`'s exit status read `blocking_seen`; `red` adds `incomplete`."""
    record = failing_run.summary.record
    assert record.blocking_seen is bool(record.blocking or record.golden.orphans or record.waivers.expired
                                        or record.unreported_render_failures)
    assert record.red is bool(record.incomplete or record.blocking_seen)
    assert record.blocking_seen  # the failing run saw a blocking result
