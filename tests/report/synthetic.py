"""A large synthetic report (charts x policies x scenarios, with findings), to measure and bound the
report formats without rendering anything: chart directories with realistic templates are written
to disk (SARIF line lookup reads them) and the report dict is built in the shape `build_report`
produces before `finalise`.

    python tests/report/synthetic.py [--charts 50 --policies 40 --scenarios 30] [--out DIR]

prints sizes and write times of every format (with the chartgate on PYTHONPATH, so the same script
measures another checkout's report code too).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import zlib
from pathlib import Path

FAMILIES = ("CAP", "FQDN", "GOLD", "HELM", "HYG", "ING", "NET", "OBS", "PROP", "RENDER", "SCH", "UMB", "WIR", "SEC")


def _template(name: str, containers: int = 12) -> str:
    lines = ["{{- if .Values.enabled }}", "apiVersion: apps/v1", "kind: Deployment", "metadata:",
             f"  name: {{{{ include \"{name}.fullname\" . }}}}", "  labels:",
             f"    {{{{- include \"{name}.labels\" . | nindent 4 }}}}", "spec:", "  replicas: 1", "  template:",
             "    metadata:", "      labels:", "        app: x", "    spec:", "      containers:"]
    for i in range(containers):
        lines += [f"        - name: c{i}", f"          image: \"repo/c{i}:{{{{ .Values.tag }}}}\"",
                  "          ports:", "            - name: http", "              containerPort: 8080",
                  "          resources:", "            limits:", "              memory: 128Mi",
                  "          securityContext:", "            runAsNonRoot: true", "            privileged: false",
                  "          env:", "            - name: A", "              value: b"]
    lines.append("{{- end }}")
    return "\n".join(lines) + "\n"


def synthetic_report(root: Path, *, charts: int = 50, policies: int = 40, scenarios: int = 30,
                     fail_ratio: float = 0.25, error_ratio: float = 0.03, findings: int = 2,
                     seed: int = 7) -> dict:
    rng = random.Random(seed)
    root = Path(root)
    policy_ids = [f"{FAMILIES[i % len(FAMILIES)]}-{100 + i:03d}" for i in range(policies)]
    scenario_names = ["default", "capabilities"] + [f"on.feature{i}.enabled" for i in range(scenarios - 2)]
    chart_entries, results = [], []
    for c in range(charts):
        name = f"chart-{c:02d}"
        chart_dir = root / "charts" / name
        (chart_dir / "templates").mkdir(parents=True, exist_ok=True)
        (chart_dir / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 1.0.{c}\n")
        for t in range(8):
            (chart_dir / "templates" / f"deploy{t}.yaml").write_text(_template(name))
        chart_entries.append({
            "name": name, "path": str(chart_dir), "version": f"1.0.{c}", "digest": f"{c:064x}",
            "scenarios": [{"name": s, "kind": "toggle", "description": "", "values_files": [f"overlays/{name}/base.yaml"],
                           "set": {s.removeprefix("on."): True} if s.startswith("on.") else {},
                           "api_versions": ["monitoring.coreos.com/v1"], "kube_version": "1.33",
                           "values_digests": {f"overlays/{name}/base.yaml": f"{c:064x}"}, "command": "helm template",
                           "helm_warnings": []} for s in scenario_names]})
        for pid in policy_ids:
            roll = rng.random()
            outcome = "failed" if roll < fail_ratio else "error" if roll < fail_ratio + error_ratio else "passed"
            for s in scenario_names:
                inputs = {"values_files": [f"overlays/{name}/base.yaml"], "set": {}, "api_versions": [],
                          "kube_version": "1.33"}
                command = (f"/work/.tools/helm-v4.1.4/helm template {name} charts/{name} --namespace {name} "
                           f"-f overlays/{name}/base.yaml --set-json '{s}=true' --api-versions monitoring.coreos.com/v1 "
                           "--kube-version 1.33")
                result = {"policy": pid, "title": f"Policy {pid} holds", "chart": name, "scenario": s,
                          "outcome": outcome if outcome != "passed" else ("skipped" if rng.random() < 0.3 else "passed"),
                          "severity": "warning" if pid.startswith("SCH") else "error", "findings": [],
                          "command": command, "scenario_inputs": inputs}
                if outcome == "failed":
                    for f in range(findings):
                        container = zlib.crc32(f"{pid}/{f}".encode()) % 12  # stable across runs (str hash is salted)
                        result["findings"].append({
                            "resource": f"Deployment/{name}/{name}-deploy{f}",
                            "template": f"{name}/templates/deploy{f % 8}.yaml",
                            "path": f"$.spec.template.spec.containers[{container}].securityContext.privileged",
                            # every other message names the scenario: it must still group
                            "message": (f"container c{container} of Deployment/{name}/{name}-deploy{f} is privileged "
                                        f"in scenario {s}; set securityContext.privileged: false."
                                        if f % 2 else f"container c{container} runs privileged; set "
                                        "securityContext.privileged: false or add a waiver with a reason."),
                            "excerpt": "\n".join(f"line{i}: value-{i}" for i in range(14)) + "\n# ... 40 more lines"})
                elif outcome == "error":
                    result["message"] = f"{pid} raised KeyError: 'spec' while checking {name} [{s}]\nTraceback ..."
                results.append(result)
    results.sort(key=lambda r: (r["chart"], r["policy"], r["scenario"] or ""))
    totals = {o: sum(r["outcome"] == o for r in results) for o in ("passed", "failed", "waived", "skipped", "error")}
    return {
        "tool": {"name": "chartgate", "version": "0.1.0"},
        "helm": {"version": "v4.1.4", "path": "/work/.tools/helm-v4.1.4/helm", "sha256": "0" * 64},
        "generated_at": "2026-12-01T00:00:00+00:00", "started_at": "2026-12-01T00:00:00+00:00",
        "git_commit": "f" * 40, "shard": None, "working_dir": str(root), "python": "3.11",
        "kubernetes_versions": ["1.30", "1.33"], "platform": {}, "chart_roots": [str(root / "charts")],
        "charts": chart_entries, "broken_charts": [],
        "policies": [{"id": pid, "title": f"Policy {pid} holds", "severity": "warning" if pid.startswith("SCH") else "error",
                      "rationale": "Because.", "reference": "docs/policies.md", "family": pid.split("-")[0],
                      "module": f"policies.{pid.split('-')[0].lower()}", "module_sha256": "a" * 64}
                     for pid in policy_ids],
        "results": results,
        "golden": {"dir": "golden", "updated": [], "orphans": [], "removed": []},
        "waivers": {"file": None, "entries": [], "expired": [], "unused": []},
        "summary": {"gate": "failed", "fail_on": "error", "totals": totals, "per_chart": {}},
    }


def measure(report: dict, out: Path) -> dict:
    """Render every format of the report with the importable chartgate; sizes (bytes) and seconds."""
    from chartgate import report as reports
    figures = {}
    start = time.perf_counter()
    try:
        from chartgate.report.model import finalise
    except ImportError:  # report code without the grouped view
        finalise = None
    if finalise is not None:
        report = finalise(report)
    figures["finalise_s"] = round(time.perf_counter() - start, 2)
    out.mkdir(parents=True, exist_ok=True)
    for name, render in reports._FORMATS.items():
        start = time.perf_counter()
        produced = render(report)
        text = produced[0] if isinstance(produced, tuple) else produced
        (out / name).write_text(text, encoding="utf-8")
        figures[name] = {"bytes": len(text.encode("utf-8")), "seconds": round(time.perf_counter() - start, 2)}
    sarif = json.loads((out / "chartgate.sarif").read_text())
    figures["sarif_results"] = len(sarif["runs"][0]["results"])
    figures["results"] = len(report["results"])
    figures["defects"] = len(report.get("defects", []))
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--charts", type=int, default=50)
    parser.add_argument("--policies", type=int, default=40)
    parser.add_argument("--scenarios", type=int, default=30)
    parser.add_argument("--findings", type=int, default=2, help="findings per failing result (distinct resources)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/chartgate-synthetic"))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    report = synthetic_report(args.out / "tree", charts=args.charts, policies=args.policies, scenarios=args.scenarios,
                              findings=args.findings)
    print(f"built {len(report['results']):,} results in {time.perf_counter() - start:.1f}s", file=sys.stderr)
    print(json.dumps(measure(report, args.out / "reports"), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
