"""Chart profiles sit behind one small interface (chartgate.discover.profiles): a second profile is registered
without touching the engine, discovery gives its charts that profile, and a policy declared for it is
judged there and skipped, with the profile's reason, everywhere else. Real Helm renders the charts."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartgate import Applicability, Finding, policy
from chartgate.discover.charts import _load_chart_dir
from chartgate.check.definition import PolicyDeclarationError
from chartgate.discover.profiles import _Profile, profile_names, _register, _unregister
from chartgate.testing import judge

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\n"


def chart(root: Path, name: str, *, toy: bool) -> Path:
    directory = root / name
    (directory / "templates").mkdir(parents=True)
    (directory / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    (directory / "values.yaml").write_text("{}\n")
    (directory / "templates" / "cm.yaml").write_text(CONFIGMAP)
    if toy:
        (directory / "toy.yaml").write_text("colour: red\n")
    return directory


def attach_toy(loaded, chart_dir: Path) -> bool:
    return (chart_dir / "toy.yaml").is_file()


TOY = _Profile(name="toy", attach=attach_toy, skipped="toy-only rule: {name} is not a toy chart (no toy.yaml)",
              requirements={"toy-file": (lambda ctx: True, lambda ctx: "never")})


@pytest.fixture
def toy_profile():
    _register(TOY)
    try:
        yield TOY
    finally:
        _unregister("toy")


def test_a_second_profile_is_detected_and_a_policy_declared_for_it_applies_only_there(tmp_path, toy_profile):
    assert profile_names() == ("blueprint", "toy", "generic")

    @policy(id="TOY-001", title="toy charts say their colour", rationale="r", reference="r", receives="chart",
            applies_to=Applicability(profile="toy", requires=("toy-file",)))
    def colour(ctx):
        yield Finding("a toy chart", template=f"{ctx.name}/toy.yaml")

    toy, plain = chart(tmp_path, "toy-app", toy=True), chart(tmp_path, "plain", toy=False)
    assert _load_chart_dir(toy).profile == "toy" and _load_chart_dir(plain).profile == "generic"
    assert judge(toy, colour).outcome == "failed"
    skipped = judge(plain, colour)
    assert skipped.outcome == "skipped"
    assert skipped.messages == ["TOY-001: toy-only rule: plain is not a toy chart (no toy.yaml)"]


def test_without_the_registration_the_profile_is_unknown_to_declarations_and_discovery(tmp_path):
    with pytest.raises(PolicyDeclarationError, match="profile='toy' is not a chart profile: one of "
                                                     r"\['blueprint', 'generic'\]"):
        policy(id="TOY-002", title="t", rationale="r", reference="r", receives="chart",
               applies_to=Applicability(profile="toy"))
    assert _load_chart_dir(chart(tmp_path, "toy-app", toy=True)).profile == "generic"


def test_a_profile_name_is_registered_once(toy_profile):
    with pytest.raises(ValueError, match="already registered"):
        _register(TOY)
