"""Helm's error messages are kept whole, its warnings apart, and a chart's own `fail`/`required`
(ChartFailed) is told apart precisely from every other render error, on Helm 3.19 and 4.1."""

from __future__ import annotations

import pytest

from chartgate.core.errors import ChartFailed, RenderError
from chartgate.render.helm import TemplateRequest
from chartgate.render.renderer import Renderer
from chartgate.plan.scenarios import Scenario, ScenarioKind
from chartgate.discover.charts import _load_chart_dir

from .helpers import HELM_VERSIONS, helm, write_chart

MULTI_LINE_FAIL = '{{ fail "kube-prometheus-stack needs a target:\\n  set prometheus.enabled=true,\\n  or disable the ServiceMonitor" }}\n'
REQUIRED = '{{ required "image.tag is required:\\n  set it in values.yaml" .Values.image.tag }}\n'


def failure(version: str, tmp_path, template: str, *, name: str = "fail.yaml") -> RenderError:
    chart = write_chart(tmp_path / version, "msg", {name: template}, values="image: {}\n")
    with pytest.raises(RenderError) as excinfo:
        helm(version).template(TemplateRequest(chart), chart="msg", scenario="default")
    return excinfo.value


@pytest.mark.parametrize("version", HELM_VERSIONS)
def test_a_multi_line_fail_message_is_kept_whole(version, tmp_path):
    error = failure(version, tmp_path, MULTI_LINE_FAIL)
    assert isinstance(error, ChartFailed)
    assert error.helm_message.startswith("execution error at (msg/templates/fail.yaml:1:3): ")
    assert error.chart_message == ("kube-prometheus-stack needs a target:\n  set prometheus.enabled=true,\n"
                                   "  or disable the ServiceMonitor")
    assert error.location == "msg/templates/fail.yaml:1:3"
    assert "Use --debug flag" not in error.helm_message
    assert "or disable the ServiceMonitor" in str(error)


@pytest.mark.parametrize("version", HELM_VERSIONS)
def test_required_is_a_chart_failure_with_its_whole_message(version, tmp_path):
    error = failure(version, tmp_path, REQUIRED)
    assert isinstance(error, ChartFailed)
    assert error.chart_message == "image.tag is required:\n  set it in values.yaml"


@pytest.mark.parametrize("version", HELM_VERSIONS)
@pytest.mark.parametrize("template, says", [
    ("{{ .Values.nope.deeper }}\n", "nil pointer evaluating interface {}.deeper"),
    ("{{ index .Values.image 0 }}\n", "error calling index"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  bad: [unclosed\n", "YAML parse error"),
    ("{{ include \"missing\" . }}\n", "no template \"missing\""),
])
def test_other_render_errors_are_not_chart_failures(version, tmp_path, template, says):
    """Helm 4 spreads a nil-pointer error over three lines; all of it is kept. A template called
    fail.yaml, or a message containing the word "fail", does not make an error a ChartFailed."""
    error = failure(version, tmp_path, template)
    assert type(error) is RenderError, (type(error), error.helm_message)
    assert says in error.helm_message and "msg/templates/fail.yaml" in error.helm_message
    assert "Use --debug flag" not in error.helm_message


@pytest.mark.parametrize("version", HELM_VERSIONS)
def test_a_fail_message_that_itself_contains_error_lines_stays_one_message(version, tmp_path):
    error = failure(version, tmp_path, '{{ fail "Error: the chart says no\\nError: twice" }}\n')
    assert isinstance(error, ChartFailed) and error.chart_message == "Error: the chart says no\nError: twice"


def test_warnings_stay_separate_from_the_error(tmp_path):
    """A fake Helm that logs a warning, then fails: the warning is not part of the message."""
    script = tmp_path / "helm"
    script.write_text("#!/bin/sh\nif [ \"$1\" = version ]; then echo v4.1.4; exit 0; fi\n"
                      "echo 'coalesce.go:298: warning: skipped value for x: Not a table.' >&2\n"
                      "printf 'Error: execution error at (c/templates/a.yaml:1:3): line one\\nline two\\n\\n"
                      "Use --debug flag to render out invalid YAML\\n' >&2\nexit 1\n")
    script.chmod(0o755)
    from chartgate.render.helm import Helm
    from chartgate.render.toolchain import locate
    fake = Helm(locate(tmp_path, env={"HELM_BIN": str(script)}))
    with pytest.raises(ChartFailed) as excinfo:
        fake.template(TemplateRequest(tmp_path), chart="c", scenario="default")
    assert excinfo.value.helm_message == "execution error at (c/templates/a.yaml:1:3): line one\nline two"
    assert excinfo.value.chart_message == "line one\nline two"


def test_a_whole_message_survives_the_render_cache(tmp_path):
    chart = _load_chart_dir(write_chart(tmp_path, "msg", {"fail.yaml": MULTI_LINE_FAIL}))
    scenario = Scenario("default", ScenarioKind.DEFAULT)
    Renderer(helm(), tmp_path / "cache", workers=1).render(chart, scenario)
    cached = Renderer(helm(), tmp_path / "cache", workers=1).render(chart, scenario)
    assert cached.cached and isinstance(cached.error, ChartFailed)
    assert cached.error.chart_message.endswith("or disable the ServiceMonitor")
