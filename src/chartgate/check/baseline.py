"""Baselines: today's findings, accepted as they stand, so that only new findings block.

`chartgate baseline` (pytest `--write-baseline`) writes every finding of the run by a stable
fingerprint to the repository's baseline file (`baseline-file`, default `chartgate-baseline.json`
beside the configuration file). Whenever the file exists, a run marks findings matching an entry
`baselined`: reported apart, never blocking. Entries that match nothing any more are reported so the
file shrinks; they never make the gate red.

A fingerprint is what stays the same from one run to the next for the same defect: the policy, the
chart, the resource with the release name and namespace replaced by `<release>`/`<namespace>`, the
template, the JSONPath and the finding's key or cause (the release name made `<release>` there too).
No message (it may quote a value), no scenario (scenario numbering changes when toggles do), no time;
a field holding a secret value the run learned (see redact.py) is written `<redacted>`.

What is never baselined: results that are not failures (errors say the gate could not judge),
waived results (a waiver is a reviewed, expiring exception and stays one), and the policies no waiver
covers either (the render policy: a chart that does not render is not a finding to live with).

The file, sorted and one entry per finding so that a review sees what changed:

    {"version": 1, "created_at": "2026-12-05T14:00:00+00:00",
     "entries": [{"policy": "SEC-001", "chart": "web", "resource": "Deployment/<namespace>/<release>-web",
                  "template": "web/templates/deployment.yaml", "path": "$.spec...", "key": "..."}]}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from chartgate.core.errors import InvalidConfig
from chartgate.check.definition import Finding, Outcome, Result
from chartgate.check.waivers import unwaivable

_FORMAT_VERSION = 1
_FIELDS = ("policy", "chart", "resource", "template", "path", "key")
REFRESH = "run `chartgate baseline` (pytest --write-baseline) to shrink it"


def _without_release(text: str, release: str) -> str:
    """The release name, as a whole word, made `<release>` (object names are derived from it)."""
    if not release:
        return text
    return re.sub(r"(?<![A-Za-z0-9])" + re.escape(release) + r"(?![A-Za-z0-9])", "<release>", text)


def _normalise_resource(resource: str, release: str, namespace: str | None) -> str:
    """`Kind/namespace/name` with the scenario's release name and namespace made placeholders."""
    parts = resource.split("/", 2)
    if len(parts) != 3:
        return resource
    kind, ns, name = parts
    if namespace and ns == namespace:
        ns = "<namespace>"
    return f"{kind}/{ns}/{_without_release(name, release)}"


def fingerprint(policy_id: str, chart: str, finding: Finding, release: str, namespace: str | None,
                scrub: Callable[[str], str] = lambda text: text) -> str:
    """The finding's baseline entry, as canonical JSON (the finding carries it across xdist workers).
    `scrub` replaces a field that holds a secret the run learned (the file is committed)."""
    entry = {"policy": policy_id, "chart": chart,
             "resource": scrub(_normalise_resource(finding.resource, release, namespace)),
             "template": scrub(finding.template), "path": scrub(finding.path),
             "key": scrub(_without_release(finding.key or finding.cause, release))}
    return json.dumps(entry, sort_keys=True, separators=(",", ":"))


def _baselinable(result: Result) -> bool:
    return result.outcome in (Outcome.FAILED, Outcome.BASELINED) and not unwaivable(result.policy)


def baseline_refusal(baseline_file: Path | None, incomplete: str | None, *, partial: bool) -> str | None:
    """Why a run must not write the baseline: a partial (--shard, --changed-since) or incomplete run
    would shrink it."""
    if baseline_file is None:
        return "no baseline file is configured (`baseline-file` under [tool.chartgate])"
    if incomplete:
        return f"the run is incomplete ({incomplete}); the baseline was not written"
    if partial:
        return ("--shard and --changed-since judge part of the gate; a baseline is written from a run "
                "over every chart, or it would lose the entries of the charts left out")
    return None


def load_baseline(path: Path) -> set[str]:
    """The fingerprints of `path`; an InvalidConfig naming the file and the entry when it is malformed."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidConfig(f"{path}: the baseline file cannot be read ({exc}); fix it, or delete it and run "
                            "`chartgate baseline` to write it afresh") from None
    except json.JSONDecodeError as exc:
        raise InvalidConfig(f"{path}:{exc.lineno}: the baseline file is not valid JSON ({exc.msg}); fix it, or "
                            "delete it and run `chartgate baseline` to write it afresh") from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise InvalidConfig(f"{path}: a baseline file is a JSON object with an `entries` list (written by "
                            "`chartgate baseline`)")
    if data.get("version") != _FORMAT_VERSION:
        raise InvalidConfig(f"{path}: baseline version {data.get('version')!r} is not {_FORMAT_VERSION}; "
                            "run `chartgate baseline` to write it afresh")
    found = set()
    for i, entry in enumerate(data["entries"]):
        if not isinstance(entry, dict) or set(entry) != set(_FIELDS) \
                or not all(isinstance(entry[k], str) for k in _FIELDS) or not entry["policy"] or not entry["chart"]:
            raise InvalidConfig(f"{path}: entries[{i}] must be an object with exactly the string keys "
                                f"{', '.join(_FIELDS)} (policy and chart not empty), got {json.dumps(entry)[:200]}")
        found.add(json.dumps({k: entry[k] for k in _FIELDS}, sort_keys=True, separators=(",", ":")))
    return found


def write_baseline(path: Path, fingerprints: set[str]) -> int:
    """Write the baseline atomically, sorted, one entry per line; the number of entries."""
    from chartgate.core.yamlio import write_atomic
    entries = sorted((json.loads(f) for f in fingerprints), key=lambda e: tuple(e[k] for k in _FIELDS))
    lines = ",\n".join("    " + json.dumps({k: e[k] for k in _FIELDS}) for e in entries)
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    text = (f'{{\n  "version": {_FORMAT_VERSION},\n  "created_at": {json.dumps(created)},\n'
            f'  "entries": [\n{lines}\n  ]\n}}\n' if entries else
            f'{{\n  "version": {_FORMAT_VERSION},\n  "created_at": {json.dumps(created)},\n  "entries": []\n}}\n')
    write_atomic(Path(path), text, mode=0o644)
    return len(entries)


@dataclass
class BaselineBook:
    """Marks a result's findings that the baseline holds. `accept_all`: the run writes a new baseline,
    so every baselinable finding is accepted as it stands (the run's verdict is the new baseline's)."""

    entries: set[str]
    accept_all: bool = False

    def apply(self, result: Result, release: str, namespace: str | None,
              scrub: Callable[[str], str] = lambda text: text) -> Result:
        if not _baselinable(result) or not result.findings:
            return result
        marked = []
        for finding in result.findings:
            fp = fingerprint(result.policy.id, result.chart, finding, release, namespace, scrub)
            marked.append(replace(finding, fingerprint=fp, baselined=self.accept_all or fp in self.entries))
        result.findings = marked
        if all(f.baselined for f in marked):
            result.outcome = Outcome.BASELINED
        elif result.outcome is Outcome.BASELINED:  # from a cache of an earlier baseline: judged anew
            result.outcome = Outcome.FAILED
        return result


def fingerprints_of(results: list[Result]) -> set[str]:
    """Every fingerprint the run's baselinable results carry: what a new baseline holds."""
    return {f.fingerprint for r in results if _baselinable(r) for f in r.findings if f.fingerprint}


def stale_entries(entries: set[str], results: list[Result]) -> list[dict]:
    """Entries no finding of this run matched, among the (policy, chart) pairs the run judged: on a
    partial run, an entry for a chart it did not judge is not stale."""
    seen = {f.fingerprint for r in results for f in r.findings if f.fingerprint}
    judged = {(r.policy.id, r.chart) for r in results if r.outcome not in (Outcome.SKIPPED, Outcome.ERROR)}
    stale = []
    for fp in sorted(entries - seen):
        entry = json.loads(fp)
        if (entry["policy"], entry["chart"]) in judged:
            stale.append(entry)
    return stale
