"""`chartgate policies` and `chartgate explain ID`: the policy registry of the modules a run would
collect, as a table, JSON, or one policy's full description (rule, rationale, applicability, how to
waive it)."""

from __future__ import annotations

import datetime as dt
import difflib
import inspect
import json
import os
import textwrap
from pathlib import Path

from chartgate.check.catalog import applies_to
from chartgate.check.loader import is_policy_file, load_policy_module
from chartgate.check.definition import Policy, policies_in


def registry(paths: list[Path], shown_from: Path) -> list[tuple[Policy, str]]:
    """(policy, module path as shown) for every policy of the modules under `paths`, in id order."""
    found = []
    for path in paths:
        modules = [path] if path.is_file() else sorted(path.glob("*.py"))
        for module in modules:
            if is_policy_file(module):
                shown = os.path.relpath(module, shown_from) if module.is_relative_to(shown_from) else str(module)
                found += [(p, shown) for p in policies_in(load_policy_module(module))]
    return sorted(found, key=lambda pm: pm[0].id)


def profile(policy: Policy) -> str:
    """The charts the rule is for: its declared profile (`blueprint`: Blueprint-only), or `any`."""
    return policy.profile or "any"


def as_json(entries: list[tuple[Policy, str]]) -> str:
    return json.dumps([{"id": p.id, "severity": p.severity.value, "profile": profile(p), "title": p.title,
                        "applies_to": applies_to(p), "module": module, "rationale": p.rationale,
                        "reference": p.reference} for p, module in entries], indent=2)


def as_table(entries: list[tuple[Policy, str]]) -> str:
    rows = [("ID", "SEVERITY", "PROFILE", "TITLE")] + [(p.id, p.severity.value, profile(p), p.title)
                                                       for p, _ in entries]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}" for a, b, c, d in rows)


def find(entries: list[tuple[Policy, str]], wanted: str) -> tuple[Policy, str] | None:
    return next((pm for pm in entries if pm[0].id.upper() == wanted.upper()), None)


def closest(entries: list[tuple[Policy, str]], wanted: str) -> list[str]:
    """The ids a mistyped one most likely meant: near spellings, else the same family's."""
    ids = [p.id for p, _ in entries]
    wanted = wanted.upper()
    ratio = {i: difflib.SequenceMatcher(None, wanted, i).ratio() for i in ids}
    near = sorted((i for i in ids if ratio[i] >= 0.6), key=lambda i: (-ratio[i], i))[:5]
    if near:
        return near
    family = wanted.split("-", 1)[0]
    return [i for i in ids if i.split("-", 1)[0] == family][:5]


_SEVERITY_EFFECT = {
    "error": "blocks the gate",
    "warning": "reported; blocks only with --fail-on warning",
    "info": "information for the chart's owner; never blocks",
}


def _runs(policy: Policy) -> str:
    if not policy.per_scenario:
        return "once per chart"
    by_profile = policy.applicability.scenarios_by_profile()
    said = [_kinds(kinds) + ("" if profile is None else f" on {profile} charts") for profile, kinds in by_profile.items()]
    return "; ".join(said)


def _kinds(kinds) -> str:
    if kinds == "*":
        return "in every planned scenario"
    return "in scenarios of kind " + ", ".join(getattr(s, "value", s) for s in kinds)


def describe(policy: Policy, module: str, today: dt.date | None = None) -> str:
    from chartgate.check.waivers import unwaivable

    today = today or dt.date.today()
    wrap = lambda text: textwrap.fill(" ".join(text.split()), width=96, initial_indent="  ",  # noqa: E731
                                      subsequent_indent="  ")
    lines = [f"{policy.id}: {policy.title}", "",
             f"severity:   {policy.severity.value} ({_SEVERITY_EFFECT[policy.severity.value]})",
             f"profile:    {profile(policy)}",
             f"applies to: {applies_to(policy)}",
             f"runs:       {_runs(policy)}",
             f"module:     {module}",
             f"reference:  {policy.reference}", "",
             "Rationale:", wrap(policy.rationale)]
    if getattr(policy, "remediation", ""):
        lines += ["", "How to fix it:", wrap(policy.remediation)]
    doc = inspect.getdoc(policy.check)
    if doc:
        lines += ["", "What it checks:", textwrap.indent(doc, "  ")]
    lines.append("")
    if unwaivable(policy):
        lines += ["Waiving: not possible. A chart that does not render is fixed, or left out of the gate with",
                  "`exclude-charts = [\"<chart glob>\"]` under [tool.chartgate]."]
    else:
        expires = today + dt.timedelta(days=90)
        lines += ["Waiving: add an entry to the waivers file (waivers.yaml beside the configuration, or the",
                  "`waivers` setting of [tool.chartgate]). A waiver is a reviewed exception that expires,",
                  "at most max-waiver-days (default 365) ahead:", "",
                  "  waivers:",
                  f"    - policy: {policy.id}",
                  "      chart: my-chart                        # a chart name or glob",
                  "      resource: \"Kind/namespace/name\"        # optional: only this object (globs allowed)",
                  "      reason: \"why this finding is acceptable here\"",
                  "      owner: \"team-or-person\"",
                  f"      expires: {expires.isoformat()}"]
    return "\n".join(lines)
