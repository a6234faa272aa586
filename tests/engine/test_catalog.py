"""The README's policy table is generated from the policies' metadata and every reference points at a
section of docs/policies.md that exists: documentation that cannot drift from the code."""

from __future__ import annotations

import re

from chartgate.check.catalog import _END, _START, _policies_with_modules, _policy_table

from ..conftest import REPO


def test_the_readme_policy_table_matches_the_policies_metadata():
    readme = (REPO / "README.md").read_text()
    current = readme.split(_START, 1)[1].split(_END, 1)[0].strip()
    assert current == _policy_table(_policies_with_modules(REPO / "policies")), (
        "README.md's policy table drifted: run `python -m chartgate.check.catalog policies README.md --write`")


def test_every_policy_reference_is_a_section_of_docs_policies_md():
    docs = (REPO / "docs" / "policies.md").read_text()
    anchors = set(re.findall(r"\{#([a-z0-9-]+)\}", docs)) | {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).strip().replace(" ", "-") for h in re.findall(r"^#+ (.+)$", docs, re.M)}
    for policy, module in _policies_with_modules(REPO / "policies"):
        path, _, anchor = policy.reference.partition("#")
        assert path == "docs/policies.md", f"{policy.id} ({module}): reference {policy.reference!r}"
        assert anchor in anchors, f"{policy.id}: docs/policies.md has no section #{anchor}"
