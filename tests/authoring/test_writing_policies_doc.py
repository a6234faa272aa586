"""docs/writing-policies.md cannot rot: its code is the example repository's files (which
test_external_repo.py runs and gates), its API reference is generated from the public API's
docstrings, and no document links outside the repository."""

from __future__ import annotations

import re

from chartgate.docgen import INCLUDE, api_reference, main

from ..conftest import REPO

GUIDE = REPO / "docs" / "writing-policies.md"


def test_the_generated_parts_match_the_code(capsys):
    assert main([str(GUIDE)]) == 0, (
        capsys.readouterr().out[-3000:] + "\ndocs/writing-policies.md drifted: run "
        "`python -m chartgate.docgen docs/writing-policies.md --write`")


def test_every_python_block_is_a_file_a_test_runs():
    text = GUIDE.read_text()
    included = {m.group(2): m.group(4) for m in INCLUDE.finditer(text)}
    assert set(included) >= {"../examples/external-repo/policies/web.py",
                             "../examples/external-repo/tests/test_web_policy.py",
                             "../examples/external-repo/waivers.yaml"}
    outside = INCLUDE.sub("", text)
    assert "```python" not in outside, "a Python block in the guide that no test runs: include it from a file"


def test_the_api_reference_covers_what_a_policy_author_reads():
    text = api_reference(["chartgate", "chartgate.testing", "chartgate.not_there?"])
    for needle in ("#### function `policy(*, id: str", "`Finding.on(manifest: Manifest, path: str, message: str",
                   "- `.of_kind(*kinds: str) -> list[Manifest]`: The render's objects of these kinds",
                   "- `body: dict[str, Any]`", "#### function `judge(chart: str | Path, policies: Any",
                   "- `Severity.WARNING` = `'warning'`: reported; blocks only with --fail-on warning"):
        assert needle in text, needle
    assert "not_there" not in text  # an optional module that does not exist is left out


LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_no_document_links_outside_the_repository():
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = doc.read_text()
        for target in LINK.findall(text):
            assert not re.match(r"[a-z]+:", target), f"{doc.name}: {target} leaves the repository"
            path = target.split("#", 1)[0]
            if path:
                resolved = (doc.parent / path).resolve()
                assert resolved.exists() and REPO in (resolved, *resolved.parents), f"{doc.name}: {target}"
        for name in ("DESIGN.md", "BLUEPRINT.md", "shared/"):
            assert name not in text, f"{doc.name} refers to {name}, which is not in the repository"


def test_the_readme_options_table_is_generated_from_the_one_settings_table():
    # Settings, defaults and help live in chartgate.options; the README's table must say the same.
    readme = REPO / "README.md"
    assert "<!-- options:" in readme.read_text(encoding="utf-8")
    assert main([str(readme)]) == 0, "run `python -m chartgate.docgen README.md --write`"
