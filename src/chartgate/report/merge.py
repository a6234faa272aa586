"""`chartgate merge`: combine the reports of a sharded run into one report with one verdict.

Each shard (`pytest policies --shard I/N --report-dir DIR`) writes its own report directory whose
chartgate.json records `"shard": {"index": I, "total": N}`. Merging checks that the shards belong
together before it writes anything; each of these is an error naming the directories, never a green
merge:

- a directory without a readable chartgate.json, or with one that was not written by a shard;
- shards of different N, the same shard twice, a shard missing;
- different chartgate versions, Helm versions or binaries, git commits, Kubernetes versions,
  platform facts, --fail-on, policy modules (same policy id, different sha256), or chart-to-shard
  assignments (shards balanced on different timings files);
- the same chart in two shards.

The merged report is what one unsharded run would have written, apart from timestamps and the shard
metadata (`shard` is null and `merged_from` lists the shards): results, charts and policies are the
union, in the same order; defects are regrouped from the merged results (each chart lives in one
shard, so every defect keeps the file and line its shard located); unused waivers are re-judged
over the whole run; the baseline notes are the shards' together (baselined findings added up, the
entries no longer matched listed from every shard: each chart, and so each entry, is judged in one
shard). The verdict is the worst of the shards': any `incomplete` shard makes the merge
`incomplete`, any `failed` one `failed` - both red - and any `partial` one (a shard run with `-k`,
say) `partial`. Sharding itself leaves nothing out of a full set: the merge of complete shards is
the whole gate.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from datetime import datetime, timezone
from pathlib import Path

from chartgate.core.errors import ChartgateError
from chartgate.report.partial import merge_partial
from chartgate.report.model import VERDICTS, finalise

_REPORT_FILE = "chartgate.json"
_VERDICT_RANK = {"passed": 0, "partial": 1, "failed": 2, "incomplete": 3}


class MergeError(ChartgateError):
    """Raised when shard reports cannot be merged into one verdict (each problem names its directories)."""


def _load(directory: Path) -> dict:
    path = Path(directory) / _REPORT_FILE
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MergeError(f"{directory}: no {_REPORT_FILE} (did this shard run? each shard must write its own "
                         "--report-dir)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MergeError(f"{path}: not a readable chartgate report ({exc})") from None
    if not isinstance(report, dict) or report.get("tool", {}).get("name") != "chartgate" \
            or not isinstance(report.get("results"), list) or "summary" not in report:
        raise MergeError(f"{path}: not a chartgate report")
    return report


def _same(shards: list[tuple[Path, dict]], what: str, get) -> list[str]:
    values: dict[str, list[str]] = {}
    for directory, report in shards:
        values.setdefault(json.dumps(get(report), sort_keys=True), []).append(str(directory))
    if len(values) <= 1:
        return []
    listed = "; ".join(f"{json.loads(v)!r} in {', '.join(dirs)}" for v, dirs in values.items())
    return [f"different {what}: {listed}"]


def _check_shards(shards: list[tuple[Path, dict]]) -> list[tuple[Path, dict]]:
    """The shards sorted by index; raises MergeError listing every reason they do not belong together."""
    problems = []
    for directory, report in shards:
        shard = report.get("shard")
        if not (isinstance(shard, dict) and isinstance(shard.get("index"), int) and isinstance(shard.get("total"), int)):
            problems.append(f"{directory}: not a shard report (its run had no --shard I/N)")
    if problems:
        raise MergeError("; ".join(problems))
    totals: dict[int, list[str]] = {}
    for directory, report in shards:
        totals.setdefault(report["shard"]["total"], []).append(str(directory))
    if len(totals) > 1:
        problems.append("shards of different N: " + "; ".join(f"N={n} in {', '.join(d)}" for n, d in sorted(totals.items())))
    else:
        total = next(iter(totals))
        seen: dict[int, list[str]] = {}
        for directory, report in shards:
            seen.setdefault(report["shard"]["index"], []).append(str(directory))
        for index, dirs in sorted(seen.items()):
            if len(dirs) > 1:
                problems.append(f"shard {index}/{total} given twice: {', '.join(dirs)}")
            if not 1 <= index <= total:
                problems.append(f"shard {index}/{total} is out of range: {', '.join(dirs)}")
        missing = sorted(set(range(1, total + 1)) - set(seen))
        if missing:
            problems.append(f"missing shard{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(f'{i}/{total}' for i in missing)} (given: "
                            f"{', '.join(str(d) for d, _ in shards)})")
    problems += _same(shards, "chartgate versions", lambda r: r["tool"].get("version"))
    problems += _same(shards, "Helm versions", lambda r: (r.get("helm") or {}).get("version"))
    problems += _same(shards, "Helm binaries (sha256)", lambda r: (r.get("helm") or {}).get("sha256"))
    problems += _same(shards, "git commits", lambda r: r.get("git_commit"))
    problems += _same(shards, "Kubernetes versions", lambda r: r.get("kubernetes_versions"))
    problems += _same(shards, "platform facts", lambda r: r.get("platform"))
    problems += _same(shards, "--fail-on", lambda r: r["summary"].get("fail_on"))
    problems += _same(shards, "fail-on-upstream", lambda r: r["summary"].get("fail_on_upstream", True))
    problems += _same(shards, "baselines (each shard must read the same baseline file)",
                      lambda r: {k: (r["summary"].get("baseline") or {}).get(k) for k in ("used", "entries")})
    problems += _same(shards, "chart-to-shard assignments (each shard must balance on the same "
                      "chartgate-timings.json)", lambda r: r["shard"].get("assignment"))
    modules: dict[str, dict[str, list[str]]] = {}
    for directory, report in shards:
        for policy in report.get("policies", []):
            modules.setdefault(policy["id"], {}).setdefault(policy.get("module_sha256", ""), []).append(str(directory))
    for policy_id, hashes in sorted(modules.items()):
        if len(hashes) > 1:
            problems.append(f"policy {policy_id} comes from different modules: " +
                            "; ".join(f"sha256 {h[:12] or '-'} in {', '.join(d)}" for h, d in hashes.items()))
    owners: dict[str, list[str]] = {}
    for directory, report in shards:
        for chart in [c["name"] for c in report.get("charts", [])] + [b["name"] for b in report.get("broken_charts", [])]:
            owners.setdefault(chart, []).append(str(directory))
    for chart, dirs in sorted(owners.items()):
        if len(dirs) > 1:
            problems.append(f"chart {chart} is in more than one shard: {', '.join(dirs)}")
    if problems:
        raise MergeError("; ".join(problems))
    return sorted(shards, key=lambda s: s[1]["shard"]["index"])


def _key(data) -> str:
    return json.dumps(data, sort_keys=True)


def _union(lists) -> list:
    seen, out = set(), []
    for items in lists:
        for item in items:
            if _key(item) not in seen:
                seen.add(_key(item))
                out.append(item)
    return out


def _unused_waivers(reports: list[dict], results: list[dict], charts: set[str], policy_ids: set[str]) -> list[dict]:
    """Live waivers that matched nothing in the whole run. A shard's `unused` list is exact for the
    waivers it judged by running their policy on a chart they name; any other shard's silence says nothing."""
    entries = reports[0]["waivers"].get("entries") or []
    expired = {_key(w) for r in reports for w in r["waivers"].get("expired") or []}
    used = {_key(r["waiver"]) for r in results if r.get("waiver")}
    for report in reports:
        unused_here = {_key(w) for w in report["waivers"].get("unused") or []}
        ran = {(r["policy"], r["chart"]) for r in report["results"]}
        for waiver in entries:
            judged_here = any(p == waiver["policy"] and fnmatch.fnmatchcase(c, waiver["chart"]) for p, c in ran)
            if judged_here and _key(waiver) not in unused_here:
                used.add(_key(waiver))
    ran_all = {(r["policy"], r["chart"]) for r in results}
    unused = []
    for waiver in entries:
        if _key(waiver) in expired or _key(waiver) in used:
            continue
        unknown = waiver["policy"] not in policy_ids or not any(fnmatch.fnmatchcase(c, waiver["chart"]) for c in charts)
        if unknown or any(p == waiver["policy"] and fnmatch.fnmatchcase(c, waiver["chart"]) for p, c in ran_all):
            unused.append(waiver)
    return unused


def _combine(values: list):
    """An unknown field: kept when every shard agrees, lists concatenated, numeric mappings added up,
    anything else kept per shard."""
    if all(_key(v) == _key(values[0]) for v in values):
        return copy.deepcopy(values[0])
    if all(isinstance(v, list) for v in values):
        return [item for v in values for item in v]
    if all(isinstance(v, dict) for v in values) and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for v in values for x in v.values()):
        return _sum(values)
    return {"per_shard": copy.deepcopy(values)}


def _sum(mappings: list[dict]) -> dict:
    summed: dict = {}
    for mapping in mappings:
        for k, x in mapping.items():
            if isinstance(x, (int, float)) and not isinstance(x, bool):
                summed[k] = summed.get(k, 0) + x
    return summed


_KNOWN = {"tool", "helm", "generated_at", "started_at", "git_commit", "shard", "working_dir", "python",
          "kubernetes_versions", "platform", "chart_roots", "charts", "broken_charts", "policies", "results",
          "golden", "waivers", "summary", "defects", "render_stats", "merged_from", "timings"}
_KNOWN_SUMMARY = {"gate", "incomplete", "partial", "unreported_render_failures", "fail_on", "totals", "per_chart", "defects",
                  "baseline", "fail_on_upstream", "judged_elsewhere", "partial_coverage", "not_judged"}


def _baseline(reports: list[dict]) -> dict | None:
    """The baseline notes of the whole run (summary.baseline, see report.model): every shard read the
    same baseline file, judged its own charts against it and listed the entries nothing of its charts
    matched any more - an entry names its chart, and a chart is judged in one shard, so the stale
    entries of the run are the shards' together, and so are the baselined findings."""
    from chartgate.check.baseline import REFRESH
    notes = [rep["summary"].get("baseline") for rep in reports]
    if not any(notes):
        return None
    notes = [n or {} for n in notes]
    stale = sorted(_union(n.get("stale") or [] for n in notes), key=lambda e: json.dumps(e, sort_keys=True,
                                                                                          separators=(",", ":")))
    written = [n["written"] for n in notes if n.get("written")]  # a shard never writes one: it is partial
    refused = list(dict.fromkeys(n["refused"] for n in notes if n.get("refused")))
    merged = {"file": next((n["file"] for n in notes if n.get("file")), None),
              "used": any(n.get("used") for n in notes),
              "entries": max(n.get("entries") or 0 for n in notes),
              "baselined_findings": sum(n.get("baselined_findings") or 0 for n in notes),
              "stale": stale,
              "written": written[0] if written else None,
              "refused": "; ".join(refused) or None}
    if stale:
        merged["note"] = f"{len(stale)} baseline entries no longer match; {REFRESH}"
    return merged


def merge_reports(directories: list[Path]) -> dict:
    """The merged report model of the shard report directories (raises MergeError)."""
    if not directories:
        raise MergeError("no shard report directories given")
    shards = _check_shards([(Path(d), _load(Path(d))) for d in directories])
    reports = [r for _, r in shards]
    first = reports[0]
    results = sorted((r for rep in reports for r in rep["results"]),
                     key=lambda r: (r["chart"], r["policy"], r["scenario"] or ""))
    charts = sorted((c for rep in reports for c in rep.get("charts", [])), key=lambda c: c["name"])
    policies = sorted({p["id"]: p for rep in reports for p in rep.get("policies", [])}.values(), key=lambda p: p["id"])
    verdict = max((rep["summary"]["gate"] if rep["summary"]["gate"] in VERDICTS else "failed" for rep in reports),
                  key=_VERDICT_RANK.__getitem__)
    incomplete = "; ".join(f"shard {rep['shard']['index']}/{rep['shard']['total']} ({d}): {rep['summary']['incomplete']}"
                           for d, rep in shards if rep["summary"].get("incomplete")) or None
    totals: dict[str, int] = {}
    for rep in reports:
        for outcome, n in rep["summary"].get("totals", {}).items():
            totals[outcome] = totals.get(outcome, 0) + n
    summary = {
        "gate": verdict,
        "incomplete": incomplete,
        "partial": merge_partial([(f"shard {rep['shard']['index']}/{rep['shard']['total']}", rep["summary"].get("partial"))
                                  for rep in reports]),
        "unreported_render_failures": sorted(_union(rep["summary"].get("unreported_render_failures") or []
                                                    for rep in reports), key=_key),
        "fail_on": first["summary"].get("fail_on", "error"),
        "totals": totals,
        "per_chart": dict(sorted((k, v) for rep in reports for k, v in rep["summary"].get("per_chart", {}).items())),
    }
    baseline = _baseline(reports)
    if baseline is not None:
        summary["baseline"] = baseline
    if any("fail_on_upstream" in rep["summary"] for rep in reports):  # the same in every shard (checked)
        summary["fail_on_upstream"] = first["summary"].get("fail_on_upstream", True)
    # Per chart, and each chart is judged in one shard: the run's are the shards' together.
    for key in ("judged_elsewhere", "partial_coverage"):
        if any(key in rep["summary"] for rep in reports):
            summary[key] = dict(sorted((chart, value) for rep in reports
                                       for chart, value in (rep["summary"].get(key) or {}).items()))
    if any("not_judged" in rep["summary"] for rep in reports):
        summary["not_judged"] = sorted({name for rep in reports for name in rep["summary"].get("not_judged") or []})
    for key in sorted({k for rep in reports for k in rep["summary"]} - _KNOWN_SUMMARY):
        summary[key] = _combine([rep["summary"].get(key) for rep in reports])
    merged = {
        "tool": first["tool"],
        "helm": first["helm"],
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "started_at": min(rep.get("started_at") or rep["generated_at"] for rep in reports),
        "git_commit": first.get("git_commit"),
        "shard": None,
        "working_dir": first.get("working_dir"),
        "python": first.get("python"),
        "kubernetes_versions": first.get("kubernetes_versions", []),
        "platform": first.get("platform"),
        "chart_roots": list(dict.fromkeys(root for rep in reports for root in rep.get("chart_roots", []))),
        "charts": charts,
        "broken_charts": sorted((b for rep in reports for b in rep.get("broken_charts", [])), key=lambda b: b["name"]),
        "policies": policies,
        "results": results,
        "golden": {
            "dir": first.get("golden", {}).get("dir"),
            **{k: sorted({p for rep in reports for p in rep.get("golden", {}).get(k, [])})
               for k in ("updated", "orphans", "removed")},
        },
        "waivers": {
            "file": first.get("waivers", {}).get("file"),
            "entries": first.get("waivers", {}).get("entries", []),
            "expired": _union(rep.get("waivers", {}).get("expired") or [] for rep in reports),
            "unused": _unused_waivers(reports, results, {c["name"] for c in charts}, {p["id"] for p in policies}),
        },
        "summary": summary,
    }
    if any("render_stats" in rep for rep in reports):
        merged["render_stats"] = _sum([rep.get("render_stats") or {} for rep in reports])
    for key in sorted({k for rep in reports for k in rep} - _KNOWN):
        merged[key] = _combine([rep.get(key) for rep in reports])
    # Each shard's phases stay its own; the per-chart seconds are one table (the next run's
    # chartgate-timings.json: shards balance on it).
    merged["timings"] = {"chart_seconds": dict(sorted({name: seconds for rep in reports
                                                       for name, seconds in ((rep.get("timings") or {})
                                                                             .get("chart_seconds") or {}).items()}
                                                      .items())),
                         "per_shard": [rep.get("timings") for rep in reports]}
    merged["merged_from"] = [{"dir": str(d), "index": rep["shard"]["index"], "total": rep["shard"]["total"],
                              "gate": rep["summary"]["gate"], "generated_at": rep["generated_at"]}
                             for d, rep in shards]
    merged = finalise(merged, locate=False)
    located = {d["id"]: d for rep in reports for d in rep.get("defects", [])}
    for defect in merged["defects"]:
        shard_defect = located.get(defect["id"], {})
        defect["file"] = shard_defect.get("file")
        defect["line"] = shard_defect.get("line", defect.get("line"))
    return merged
