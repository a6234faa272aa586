"""Settings layer: defaults < [tool.chartgate] of the invocation directory < command line; bad entries
are named; a chart tree's own settings never apply to another tree."""

from __future__ import annotations

import pytest

from chartgate.core.errors import InvalidConfig
from chartgate.settings import config_file, resolve


def _project(tmp_path, table: str = ""):
    (tmp_path / "pyproject.toml").write_text(f"[tool.chartgate]\n{table}")
    return tmp_path / "pyproject.toml"


def test_table_paths_are_relative_to_the_file(tmp_path):
    (tmp_path / "charts").mkdir()
    s = resolve({}, _project(tmp_path, 'chart-roots = ["charts"]\n'), cwd=tmp_path / "elsewhere")
    assert s["chart-roots"] == [str(tmp_path / "charts")]
    assert s["platform-config"] is None  # no platform.yaml there: none, not an error
    assert s["helm-versions"] == ["4.1.4", "3.19.0"]
    assert s["golden-dir"] == tmp_path / "golden"


def test_pyproject_then_command_line(tmp_path):
    config = _project(tmp_path, 'chart-roots = ["platform", "products"]\nstrength = 3\n')
    s = resolve({"strength": 2}, config, cwd=tmp_path / "cwd")
    assert s["chart-roots"] == [str(tmp_path / "platform"), str(tmp_path / "products")]
    assert s["strength"] == 2
    s = resolve({"chart-roots": ["x"]}, config, cwd=tmp_path / "cwd")
    assert s["chart-roots"] == [str(tmp_path / "cwd" / "x")]


def test_no_chart_root_anywhere_is_an_error_that_says_where_to_set_it(tmp_path):
    with pytest.raises(InvalidConfig, match="no chart root: pass --chart-root PATH or set `chart-roots`"):
        resolve({}, None, cwd=tmp_path)


def test_a_tree_s_overlays_releases_and_goldens_do_not_follow_another_chart_root(tmp_path):
    (tmp_path / "fixtures" / "clusters").mkdir(parents=True)
    (tmp_path / "fixtures" / "clusters" / "hr.yaml").write_text("kind: HelmRelease\n")
    config = _project(tmp_path, 'chart-roots = ["fixtures/charts"]\noverlay-roots = ["fixtures/overlays"]\n'
                                'release-overlays = ["fixtures/clusters/*.yaml"]\ngolden-dir = "golden"\n')
    other = tmp_path / "other-repo"
    (other / ".git").mkdir(parents=True)
    (other / "platform").mkdir()
    s = resolve({"chart-roots": [str(other / "platform")]}, config, cwd=tmp_path)
    assert s["overlay-roots"] == [] and s["release-overlays"] == []
    assert s["golden-dir"] == other / "golden"  # beside the other tree, never the fixtures' goldens
    own = resolve({}, config, cwd=tmp_path)
    assert own["overlay-roots"] == [str(tmp_path / "fixtures/overlays")]
    assert own["golden-dir"] == tmp_path / "golden"


def test_the_invocation_directory_decides_unless_a_config_file_is_given(tmp_path):
    assert config_file(tmp_path) is None
    _project(tmp_path)
    assert config_file(tmp_path) == tmp_path / "pyproject.toml"
    other = tmp_path / "team.toml"
    other.write_text("[tool.chartgate]\n")
    assert config_file(tmp_path, "team.toml") == other
    with pytest.raises(InvalidConfig, match="--chartgate-config: file .*missing.toml does not exist"):
        config_file(tmp_path, "missing.toml")


def test_a_release_glob_matching_nothing_is_an_error(tmp_path):
    config = _project(tmp_path, 'chart-roots = ["c"]\nrelease-overlays = ["clusters/**/*.yaml"]\n')
    with pytest.raises(InvalidConfig, match="the glob .*clusters/\\*\\*/\\*.yaml' matches no file"):
        resolve({}, config, cwd=tmp_path)


@pytest.mark.parametrize("table, needle", [
    ("strenght = 3\n", "unknown [tool.chartgate] keys ['strenght']"),
    ('strength = "3"\n', "strength must be a int"),
    ('chart-roots = ["c"]\nwaivers = "missing.yaml"\n', "waivers: file"),
    ('chart-roots = ["c"]\n[tool.chartgate.charts."bp-*"]\nprofile = "weird"\n', "profile must be one of"),
])
def test_bad_settings_are_named(tmp_path, table, needle):
    with pytest.raises(InvalidConfig) as info:
        resolve({}, _project(tmp_path, table), cwd=tmp_path)
    assert needle in str(info.value)


def test_judge_test_hooks_is_a_boolean_setting_off_by_default(tmp_path):
    from chartgate.settings import gate_config
    (tmp_path / "charts").mkdir()
    assert gate_config({}, tmp_path, config_path=_project(tmp_path, 'chart-roots = ["charts"]\n')).judge_test_hooks is False
    on = _project(tmp_path, 'chart-roots = ["charts"]\njudge-test-hooks = true\n')
    assert gate_config({}, tmp_path, config_path=on).judge_test_hooks is True
    assert gate_config({"judge-test-hooks": True}, tmp_path, config_path=_project(
        tmp_path, 'chart-roots = ["charts"]\n')).judge_test_hooks is True  # --judge-test-hooks
    with pytest.raises(InvalidConfig, match="judge-test-hooks must be a bool"):
        resolve({}, _project(tmp_path, 'chart-roots = ["charts"]\njudge-test-hooks = "yes"\n'), cwd=tmp_path)
    with pytest.raises(InvalidConfig, match="strength must be a int"):  # a bool is still no number
        resolve({}, _project(tmp_path, 'chart-roots = ["charts"]\nstrength = true\n'), cwd=tmp_path)


def test_every_setting_and_option_comes_from_the_one_table(pytestconfig):
    # One table (chartgate.options): settings' types and defaults, the plugin's options and their help.
    from chartgate.options import FLAGS, SETTINGS_TABLE, option_help
    from chartgate.settings import SETTINGS

    assert SETTINGS == {s.key: (s.kind, s.default) for s in SETTINGS_TABLE}
    for setting in SETTINGS_TABLE:
        if setting.flag:
            assert pytestconfig.getoption(setting.key, default="absent") != "absent", setting.flag
            assert setting.key in option_help(setting)
    for flag in FLAGS:
        assert pytestconfig.getoption(flag.dest, default="absent") != "absent", flag.flag
