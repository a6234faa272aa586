"""The example chart repository (examples/external-repo) is what a user copies: nothing in it refers
to chartgate's checkout (its Makefile, .tools/, policies/ source) or to anything outside the example."""

from __future__ import annotations

import re
from pathlib import Path

from ..conftest import REPO

EXAMPLE = REPO / "examples" / "external-repo"
#: What exists only in chartgate's own checkout, or in no repository at all.
NOT_THERE = ("make tools", "make gate", "make test", ".tools/", "DESIGN.md", "BLUEPRINT.md", "shared/", "/work/",
             "pytest policies", "chartgate.render.toolchain provision")


def test_the_example_repository_refers_only_to_itself():
    problems = []
    for path in sorted(p for p in EXAMPLE.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(EXAMPLE)
        problems += [f"{rel}: {name}" for name in NOT_THERE if name in text]
        # relative paths stay inside: from the file's directory or one above it (a golden file's
        # chart_path is relative to the golden directory)
        bases = [d for d in path.parents if d == EXAMPLE or EXAMPLE in d.parents]
        for target in re.findall(r"(?<![\w.])((?:\.\./)+[\w./-]*)", text):
            if not any(inside(base / target) for base in bases):
                problems.append(f"{rel}: {target}")
    assert not problems, problems


def inside(path: Path) -> bool:
    resolved = path.resolve()
    return resolved.exists() and EXAMPLE.resolve() in (resolved, *resolved.parents)
