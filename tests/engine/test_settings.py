"""Settings layer: defaults < [tool.chartgate] < command line; bad entries are named."""

from __future__ import annotations

import pytest

from chartgate.errors import InvalidConfig
from chartgate.settings import resolve


def _project(tmp_path, table: str = ""):
    (tmp_path / "pyproject.toml").write_text(f"[tool.chartgate]\n{table}")
    return tmp_path


def test_defaults_are_relative_to_the_rootdir(tmp_path):
    s = resolve({}, _project(tmp_path), cwd=tmp_path / "elsewhere")
    assert s["chart-roots"] == [str(tmp_path / "fixtures/charts")]
    assert s["platform-config"] is None  # no platform.yaml there: none, not an error
    assert s["helm-versions"] == ["4.1.4", "3.18.0"]


def test_pyproject_then_command_line(tmp_path):
    root = _project(tmp_path, 'chart-roots = ["platform", "products"]\nstrength = 3\n')
    s = resolve({"strength": 2}, root, cwd=tmp_path / "cwd")
    assert s["chart-roots"] == [str(root / "platform"), str(root / "products")]
    assert s["strength"] == 2
    s = resolve({"chart-roots": ["x"]}, root, cwd=tmp_path / "cwd")
    assert s["chart-roots"] == [str(tmp_path / "cwd" / "x")]


@pytest.mark.parametrize("table, needle", [
    ("strenght = 3\n", "unknown [tool.chartgate] keys ['strenght']"),
    ('strength = "3"\n', "strength must be a int"),
    ('waivers = "missing.yaml"\n', "waivers: file"),
])
def test_bad_settings_are_named(tmp_path, table, needle):
    with pytest.raises(InvalidConfig) as info:
        resolve({}, _project(tmp_path, table), cwd=tmp_path)
    assert needle in str(info.value)
