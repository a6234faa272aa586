"""The policy catalogue, generated from the policies' own metadata, so the README cannot drift.

    python -m chartgate.check.catalog POLICY_DIR README.md           # check: exit 1 and a diff if it drifted
    python -m chartgate.check.catalog POLICY_DIR README.md --write   # rewrite the table between the markers

The table lives between `<!-- policy-table:start -->` and `<!-- policy-table:end -->`.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Iterable

from chartgate.check.loader import is_policy_file, load_policy_module
from chartgate.check.definition import Policy, policies_in

_START, _END = "<!-- policy-table:start -->", "<!-- policy-table:end -->"


def _policies_with_modules(policy_dir: Path) -> list[tuple[Policy, str]]:
    found = []
    for path in sorted(Path(policy_dir).glob("*.py")):
        if is_policy_file(path):
            found += [(p, f"policies/{path.name}") for p in policies_in(load_policy_module(path))]
    return sorted(found, key=lambda pm: pm[0].id)


def applies_to(policy: Policy) -> str:
    """Who the rule judges, from its declared applicability."""
    where = {"blueprint": "Blueprint charts", "generic": "generic charts"}.get(policy.profile, "every chart")
    if policy.requires:
        where += " with " + ", ".join(policy.requires)
    if policy.kinds:
        where += "; renders with " + "/".join(policy.kinds)
    return where


def _policy_table(entries: Iterable[tuple[Policy, str]]) -> str:
    rows = ["| id | severity | applies to | module | rule |", "|---|---|---|---|---|"]
    for policy, module in entries:
        reference = policy.reference
        link = f"[{policy.id}]({reference})" if reference.startswith("docs/") else f"`{policy.id}`"
        rows.append(f"| {link} | {policy.severity.value} | {applies_to(policy)} | `{module}` | {policy.title} |")
    return "\n".join(rows)


def _replace_table(text: str, table: str) -> str:
    if _START not in text or _END not in text:
        raise ValueError(f"the README has no {_START} ... {_END} markers")
    head, rest = text.split(_START, 1)
    _, tail = rest.split(_END, 1)
    return f"{head}{_START}\n{table}\n{_END}{tail}"


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check or rewrite the README's policy table.")
    parser.add_argument("policy_dir", type=Path)
    parser.add_argument("readme", type=Path)
    parser.add_argument("--write", action="store_true", help="rewrite the table instead of checking it")
    args = parser.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    wanted = _replace_table(text, _policy_table(_policies_with_modules(args.policy_dir)))
    if wanted == text:
        return 0
    if args.write:
        args.readme.write_text(wanted, encoding="utf-8")
        return 0
    sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), wanted.splitlines(True),
                                               str(args.readme), "generated"))
    print(f"\n{args.readme}: the policy table drifted from the policies' metadata; run "
          f"`python -m chartgate.check.catalog {args.policy_dir} {args.readme} --write`", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(_main())
