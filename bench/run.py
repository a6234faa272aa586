"""chartgate benchmarks: print figures, assert nothing.

  (a) the whole gate over the fixture charts, cold render cache vs warm;
  (b) the cold run's wall time against the bare sum of the same `helm template` runs, replayed
      one after another with nothing else around them;
  (c) a generated monorepo of Blueprint charts (bench/monorepo.py): renders planned and executed,
      wall time, peak memory;
  (d) the seed's bash procedure (default-off, opt-in, explicit-off x 3 charts, `helm template | grep`)
      against chartgate doing the same checks (`-k OBS`).

Every gate run is a subprocess (`python -m pytest policies ...`) with its own render cache, report
and golden directories under a temporary directory, so the repository is left untouched. Peak memory
is the subprocess tree's largest resident set (wait4 rusage: the process or any child it waited for).

    python bench/run.py [--charts 50] [--skip a,b,c,d] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
sys.path.insert(0, str(BENCH))

from monorepo import DEFAULT_CHARTS, generate  # noqa: E402

PYTHON = sys.executable
FIXTURE_CHARTS = REPO / "fixtures" / "charts"
FIXTURE_OVERLAYS = REPO / "fixtures" / "overlays"


@dataclass
class RunResult:
    command: list[str]
    seconds: float
    max_rss_mb: float
    returncode: int
    tail: str
    report: dict | None
    helm_log: list[dict]
    cpu_seconds: float = 0.0  # user + sys of the whole process tree (pytest and every helm it ran)

    @property
    def renders_executed(self) -> int:
        return len(self.helm_log)


def gate_env(work: Path, **extra: str) -> dict[str, str]:
    """The caller's environment, but with a bytecode cache (outside the repository).

    Without one (PYTHONDONTWRITEBYTECODE=1) every run re-compiles and re-assert-rewrites the
    engine and the policies: seconds of fixed cost that a developer's machine or CI does not pay.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPYCACHEPREFIX=str(work / "pycache"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(BENCH), os.environ.get("PYTHONPATH")])), **extra)
    return env


def warm_bytecode(work: Path) -> None:
    """Collect the policies over an empty chart root once: compiles everything, renders nothing."""
    empty = work / "empty-root"
    empty.mkdir(exist_ok=True)
    subprocess.run([PYTHON, "-m", "pytest", "policies", "-q", "--collect-only", "-p", "no:randomly",
                    "--chart-root", str(empty), "--report-dir", str(work / "report-warmup")],
                   cwd=REPO, env=gate_env(work), capture_output=True)


def run_gate(args: list[str], work: Path, label: str) -> RunResult:
    """`python -m pytest policies -q <args>` as a subprocess, recording each Helm run it pays for."""
    report_dir = work / f"report-{label}"
    helm_log = work / f"helm-{label}.jsonl"
    command = [PYTHON, "-m", "pytest", "policies", "-q", "-p", "no:randomly", "-p", "helm_recorder",
               "--report-dir", str(report_dir), *args]
    env = gate_env(work, CHARTGATE_BENCH_HELM_LOG=str(helm_log))
    started = time.perf_counter()
    with open(work / f"output-{label}.txt", "w") as out:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    tail = (work / f"output-{label}.txt").read_text(errors="replace").strip().splitlines()[-1:]
    report_file = report_dir / "chartgate.json"
    report = json.loads(report_file.read_text()) if report_file.is_file() else None
    log = [json.loads(line) for line in helm_log.read_text().splitlines()] if helm_log.is_file() else []
    return RunResult(command, seconds, usage.ru_maxrss / 1024, proc.returncode, "".join(tail), report, log,
                     usage.ru_utime + usage.ru_stime)


def isolated_helm_env(home: Path) -> dict[str, str]:
    """Like chartgate's renders: private Helm dirs, no kubeconfig, no network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBE"))}
    env.update(HELM_CONFIG_HOME=str(home / "config"), HELM_CACHE_HOME=str(home / "cache"),
               HELM_DATA_HOME=str(home / "data"), KUBECONFIG=str(home / "no-kubeconfig"),
               HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="")
    return env


def replay_bare(helm_log: list[dict], work: Path) -> float:
    """Run each logged `helm template` again, sequentially; return the summed wall time."""
    env = isolated_helm_env(work / "helm-home")
    total = 0.0
    for entry in helm_log:
        started = time.perf_counter()
        subprocess.run(entry["argv"], cwd=REPO, env=env, capture_output=True, text=True)
        total += time.perf_counter() - started
    return total


# -- (d) the seed's procedure ---------------------------------------------------------------------

#: Per fixture chart: the overlay ServiceMonitor toggle tests/observability-toggle.sh exercises.
SEED_TOGGLES = {
    "bp-stunner": "stunnerOverlay.serviceMonitor.enabled",
    "bp-knative": "knativeOverlay.serviceMonitor.enabled",
    "bp-kserve": "kserveOverlay.serviceMonitor.enabled",
}

SEED_SCRIPT = r"""set -euo pipefail
helm="$1"; charts="$2"; overlays="$3"; shift 3
for spec in "$@"; do
  chart="${spec%%=*}"; toggle="${spec#*=}"
  base=(-f "$overlays/$chart/base.yaml")
  # 1. default-off: no monitoring.coreos.com object in the default render
  if "$helm" template "$chart" "$charts/$chart" "${base[@]}" | grep -q '^apiVersion: monitoring.coreos.com'; then
    echo "FAIL $chart default-off"; exit 1; fi
  # 2. opt-in: toggle on + Prometheus Operator CRDs advertised => a ServiceMonitor
  "$helm" template "$chart" "$charts/$chart" "${base[@]}" --set "$toggle=true" \
      --api-versions monitoring.coreos.com/v1 | grep -q '^kind: ServiceMonitor' || { echo "FAIL $chart opt-in"; exit 1; }
  # 3. explicit-off: toggle false => clean again
  if "$helm" template "$chart" "$charts/$chart" "${base[@]}" --set "$toggle=false" \
      --api-versions monitoring.coreos.com/v1 | grep -q '^kind: ServiceMonitor'; then
    echo "FAIL $chart explicit-off"; exit 1; fi
done
echo "all 9 cases green"
"""


def run_seed_procedure(helm: Path, work: Path) -> tuple[float, str]:
    script = work / "observability-toggle.sh"
    script.write_text(SEED_SCRIPT)
    specs = [f"{chart}={toggle}" for chart, toggle in SEED_TOGGLES.items()]
    started = time.perf_counter()
    proc = subprocess.run(["bash", str(script), str(helm), str(FIXTURE_CHARTS), str(FIXTURE_OVERLAYS), *specs],
                          env=isolated_helm_env(work / "seed-home"), capture_output=True, text=True)
    return time.perf_counter() - started, (proc.stdout + proc.stderr).strip().splitlines()[-1]


# -- the table --------------------------------------------------------------------------------------

def count_results(run: RunResult) -> str:
    if not run.report:
        return "no report"
    outcomes: dict[str, int] = {}
    for r in run.report.get("results", []):
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items()))


def planned_renders(run: RunResult) -> int | None:
    """Distinct scenario requests the gate planned (declared + combined), from the JSON report."""
    if not run.report:
        return None
    inputs = {(r["chart"], json.dumps(r.get("scenario_inputs"), sort_keys=True))
              for r in run.report.get("results", []) if r.get("scenario") and r.get("scenario_inputs")}
    return len(inputs) or None


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("meets" if ok else "MISSES")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="chartgate benchmarks (figures only, no assertions)")
    parser.add_argument("--charts", type=int, default=DEFAULT_CHARTS, help="monorepo size for (c)")
    parser.add_argument("--skip", default="", help="comma-separated benchmarks to skip, e.g. c,d")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (printed) for inspection")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    work = Path(tempfile.mkdtemp(prefix="chartgate-bench-"))
    rows: list[tuple[str, str, str]] = []  # (figure, value, target)

    def out(line: str = "") -> None:
        print(line, flush=True)

    out(f"chartgate bench: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, work dir {work}")
    helm = REPO / ".tools" / "helm-v4.1.4" / "helm"
    try:
        warm_bytecode(work)
        cold = None
        if "a" not in skip or "b" not in skip:
            cache = work / "cache-fixtures"
            cold = run_gate(["--cache-dir", str(cache)], work, "cold")
            out(f"(a) cold: {cold.seconds:.1f}s, {cold.renders_executed} helm runs, exit {cold.returncode}: {cold.tail}")
            warm = run_gate(["--cache-dir", str(cache)], work, "warm")
            out(f"(a) warm: {warm.seconds:.1f}s, {warm.renders_executed} helm runs, exit {warm.returncode}: {warm.tail}")
            ratio = warm.seconds / cold.seconds
            rows += [("(a) fixture suite, cold cache", f"{cold.seconds:.1f} s wall, {cold.cpu_seconds:.1f} s CPU "
                      f"({cold.renders_executed} renders)", ""),
                     ("(a) fixture suite, warm cache", f"{warm.seconds:.1f} s wall, {warm.cpu_seconds:.1f} s CPU "
                      f"({warm.renders_executed} renders)", ""),
                     ("(a) warm / cold", f"{100 * ratio:.0f} %", f"<= 20 %: {verdict(ratio <= 0.20)}")]
        if "b" not in skip and cold is not None:
            bare = replay_bare(cold.helm_log, work)
            ratio = cold.seconds / bare if bare else float("nan")
            in_run = sum(e["seconds"] or 0 for e in cold.helm_log)
            out(f"(b) {len(cold.helm_log)} helm runs replayed bare, sequentially: {bare:.1f}s "
                f"(same runs inside the gate, summed: {in_run:.1f}s)")
            rows += [("(b) bare helm template sum (sequential)", f"{bare:.1f} s", ""),
                     ("(b) cold suite / bare helm", f"{ratio:.2f} x (overhead {100 * (ratio - 1):+.0f} %)",
                      f"overhead <= 30 %: {verdict(ratio <= 1.30)}")]
        if "c" not in skip:
            mono = work / "monorepo"
            generate(mono, args.charts)
            (work / "no-overlays").mkdir()
            run = run_gate(["--chart-root", str(mono), "--overlay-root", str(work / "no-overlays"),
                            "--golden-dir", str(work / "golden-monorepo"), "--update-golden",
                            "--cache-dir", str(work / "cache-monorepo")], work, "monorepo")
            planned = planned_renders(run)
            out(f"(c) {args.charts} charts: {run.seconds:.1f}s, exit {run.returncode}: {run.tail}")
            out(f"(c) results: {count_results(run)}")
            stats = (run.report or {}).get("render_stats", {})
            rows += [(f"(c) monorepo of {args.charts} charts, wall", f"{run.seconds:.1f} s",
                      f"< 120 s on 2 cores: {verdict(run.seconds < 120)}"),
                     ("(c) CPU (pytest + helm), / 2 cores", f"{run.cpu_seconds:.1f} s, {run.cpu_seconds / 2:.1f} s", ""),
                     ("(c) renders planned (distinct scenarios)", str(planned), ""),
                     ("(c) renders executed (helm runs)", f"{run.renders_executed} "
                      f"(primary renderer: {stats.get('renders', '?')}, cache hits {stats.get('cache_hits', '?')}, "
                      f"memo hits {stats.get('memo_hits', '?')})", ""),
                     ("(c) peak memory (largest process)", f"{run.max_rss_mb:.0f} MB", "")]
        if "d" not in skip:
            seed_seconds, seed_tail = run_seed_procedure(helm, work)
            out(f"(d) seed bash procedure: {seed_seconds:.2f}s: {seed_tail}")
            obs_cold = run_gate(["-k", "OBS", "--cache-dir", str(work / "cache-obs")], work, "obs-cold")
            obs_warm = run_gate(["-k", "OBS", "--cache-dir", str(work / "cache-obs")], work, "obs-warm")
            out(f"(d) chartgate -k OBS: cold {obs_cold.seconds:.1f}s ({obs_cold.tail}), warm {obs_warm.seconds:.1f}s")
            rows += [("(d) seed bash: 3 cases x 3 charts", f"{seed_seconds:.2f} s (9 helm runs)", ""),
                     ("(d) chartgate -k OBS / seed bash, cold", f"{obs_cold.seconds / seed_seconds:.1f} x", ""),
                     ("(d) chartgate -k OBS, cold", f"{obs_cold.seconds:.1f} s ({obs_cold.renders_executed} renders, "
                      f"{count_results(obs_cold)})", ""),
                     ("(d) chartgate -k OBS, warm", f"{obs_warm.seconds:.1f} s", "")]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    out()
    widths = [max(len(r[i]) for r in rows) for i in range(3)] if rows else [0, 0, 0]
    for figure, value, target in rows:
        out(f"{figure.ljust(widths[0])}  {value.ljust(widths[1])}  {target}".rstrip())
    out(f"load average at end: {os.getloadavg()[0]:.1f}" + (f"; work dir kept: {work}" if args.keep else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
