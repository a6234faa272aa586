"""WEB-001 is proven the way chartgate proves its own policies: a chart that breaks it fails, the
chart as committed passes. `judge` renders with the real Helm, so these run where `chartgate check`
runs."""

from pathlib import Path

from chartgate.testing import judge

REPO = Path(__file__).resolve().parent.parent
WEB = REPO / "charts" / "web"
POLICIES = REPO / "policies" / "web.py"


def test_the_chart_as_committed_passes():
    assert judge(WEB, POLICIES).outcome == "passed"


def test_an_image_from_another_registry_fails():
    judged = judge(WEB, POLICIES, values={"image": {"repository": "docker.io/library/nginx"}})
    assert judged.outcome == "failed"
    [finding] = judged.findings
    assert finding.resource == "Deployment/web/web"
    assert finding.path == "$.spec.template.spec.containers[0].image"
    assert "docker.io/library/nginx:1.27.1, which is not in registry.invalid/" in finding.message


def test_the_exporter_sidecar_fails_until_it_is_mirrored():
    exporter_on = {"metrics": {"exporter": {"enabled": True}}}
    judged = judge(WEB, POLICIES, values=exporter_on)
    assert judged.outcome == "failed"
    assert [f.path for f in judged.findings] == ["$.spec.template.spec.containers[1].image"]
    # Values merge into the chart's defaults as `helm template -f` merges them.
    mirrored = {"metrics": {"exporter": {"enabled": True, "image": "registry.invalid/web-exporter:1.4.0"}}}
    assert judge(WEB, POLICIES, values=mirrored).outcome == "passed"
