"""chartgate benchmarks (`make bench`): print a table, write bench/results.json, assert nothing.

Parts (select with --only / --skip, comma-separated):

  fixtures    the gate over fixtures/charts, cold render cache then warm; the same Helm runs
              replayed bare, one at a time, for the CPU they cost without chartgate
  plan        `--plan` over the realistic monorepo: scenarios and estimated renders per chart
  realistic   the gate over a realistic generated monorepo (bench/monorepo.py: ~50 Blueprints sized
              like real upstream charts, the guard-heavy bp-warden, one composite of ten, ~100 Flux
              HelmReleases), cold then warm; each chart's Helm runs beside `--plan`'s estimate
  guarded     bp-warden alone (126 guarded feature switches, 66 fail/required guards, MB-sized CRDs):
              `--plan`, then the gate cold and warm
  mainstream  generic charts shaped like popular public charts (bench/mainstream.py, incl. a real
              `helm create` chart): chartgate and checkov on the same charts
  seed        the seed's bash procedure (default-off / opt-in / explicit-off x 3 fixture charts)
              against chartgate doing those checks (`-k OBS`)

Every gate run is a subprocess (`python -m pytest policies ...`) with its own render cache, report
and golden directories under a work directory, so the repository is left untouched. Per run it
records wall time, CPU (user+sys of the whole process tree: pytest and every helm it waited for),
peak RSS (wait4 rusage: the largest single process; plus the largest sum over the live process tree,
sampled every 0.5 s), the Helm runs it paid for and their CPU (bench/helm_recorder.py), and the
engine's per-phase `timings` from reports/chartgate.json when the engine writes them. `--timeout S`
stops a gate run after S seconds and reports how far it got.

checkov is installed from PyPI into its own virtualenv under the cache directory (never .venv);
when that is impossible the row says "skipped: <why>" and the bench goes on.

    python bench/run.py [--charts 50] [--scale 1] [--timeout 3600] [--only realistic,plan] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
sys.path.insert(0, str(BENCH))

from monorepo import DEFAULT_CHARTS, describe, generate, guarded_blueprint, write_blueprint  # noqa: E402

PYTHON = sys.executable
HELM = REPO / ".tools" / "helm-v4.1.4" / "helm"
FIXTURE_CHARTS = REPO / "fixtures" / "charts"
FIXTURE_OVERLAYS = REPO / "fixtures" / "overlays"
PARTS = ("fixtures", "plan", "realistic", "guarded", "mainstream", "seed")
#: Where gate runs start (cwd: policies/, pyproject.toml, platform.yaml, fixtures/). The checkout itself,
#: or with --snapshot a copy of it taken when the bench starts (see snapshot()).
GATE_ROOT = REPO
SNAPSHOT_PATHS = ("src", "policies", "fixtures", "golden", "conftest.py", "pyproject.toml", "platform.yaml",
                  "waivers.yaml")
CHECKOV_VERSION = "3.3.30"  # the version issue 11 compared against; the newest 3.x is taken if it is gone
PHASES = ("discover", "plan", "render", "parse", "check", "report")

# Targets of issue 10 item 3.
TARGET_COLD_S = 300.0
TARGET_WARM_RATIO = 0.15
TARGET_RSS_MB = 1024.0
TARGET_FIXTURE_OVERHEAD = 1.3
# Targets of issue 19.
TARGET_GUARDED_COLD_S = 60.0
TARGET_ESTIMATE = 0.15  # --plan's estimate within 15% of the Helm runs, per chart


def out(line: str = "") -> None:
    print(line, flush=True)


# -- running a process tree and measuring it ---------------------------------------------------------


def tree_rss_mb(root: int) -> float:
    """Sum of the resident sets of `root` and all its descendants (from /proc), in MB.

    A child caught between fork and exec (Python starts each Helm with vfork) still runs its parent's
    program in its parent's address space (or a copy-on-write image of it): /proc shows it with its
    parent's name, size and resident set, yet it holds no memory of its own. Counting it would add a
    phantom copy of the parent to whichever sample happens to catch one of the ~2,000 spawns; it is
    counted once, as the parent."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    image: dict[int, tuple[bytes, bytes]] = {}  # program name and virtual size
    parent: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        name, fields = stat[stat.find(b"(") + 1:stat.rfind(b")")], stat.rsplit(b")", 1)[1].split()
        pid = int(entry.name)
        parent[pid] = int(fields[1])  # field 4: ppid
        children.setdefault(parent[pid], []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")  # field 24: rss in pages
        image[pid] = (name, fields[20])  # field 2: comm; field 23: vsize
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid == root or image.get(pid) != image.get(parent.get(pid)):  # not a pre-exec copy of its parent
            total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / 2**20


@dataclass
class Measured:
    command: list[str]
    wall: float
    cpu: float  # user + sys of the process and every descendant it waited for
    max_rss_mb: float  # largest single process (rusage)
    tree_rss_mb: float  # largest sampled sum over the live process tree
    returncode: int | None  # None: stopped by the timeout
    timed_out: bool
    output: str

    def tail(self, lines: int = 1) -> str:
        return "\n".join(self.output.strip().splitlines()[-lines:])


def measure(command: list[str], *, cwd: Path, env: dict, timeout: float | None, output: Path) -> Measured:
    """Run `command` in its own session; kill the whole session after `timeout` seconds."""
    started = time.perf_counter()
    peak_tree = 0.0
    with open(output, "w") as fh:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            try:
                peak_tree = max(peak_tree, tree_rss_mb(proc.pid))
            except OSError:
                pass
            if timeout is not None and time.perf_counter() - started > timeout:
                timed_out = True
                os.killpg(proc.pid, signal.SIGTERM)
                time.sleep(3)
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.5)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(command, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                    max(peak_tree, usage.ru_maxrss / 1024), None if timed_out else proc.returncode, timed_out,
                    output.read_text(errors="replace"))


# -- the gate ----------------------------------------------------------------------------------------


def gate_env(work: Path, **extra: str) -> dict[str, str]:
    """The caller's environment plus a bytecode cache outside the repository and bench/ on PYTHONPATH
    (and, with --snapshot, the snapshot's src/ and built-in pack ahead of the editable install)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    src = [str(GATE_ROOT / "src"), str(GATE_ROOT / "packs")] if GATE_ROOT != REPO else []
    env.update(PYTHONPYCACHEPREFIX=str(work / "pycache"),
               PYTHONPATH=os.pathsep.join(filter(None, [*src, str(BENCH), os.environ.get("PYTHONPATH")])), **extra)
    return env


def snapshot(work: Path) -> Path:
    """Copy the engine, policies and fixtures as they are now, so a long run measures one consistent tree
    even while others edit the checkout (modules imported late, e.g. the report writers, would
    otherwise come from a newer tree than the rest)."""
    root = work / "snapshot"
    for name in SNAPSHOT_PATHS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
        elif source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    if not (root / ".tools").exists():
        (root / ".tools").symlink_to(REPO / ".tools")
    # The built-in pack is the package `chartgate_builtin` (the editable install maps it to the
    # checkout's policies/): the snapshot's copy must be that pack, or its ids would be defined twice.
    (root / "packs").mkdir(exist_ok=True)
    if not (root / "packs" / "chartgate_builtin").exists():
        (root / "packs" / "chartgate_builtin").symlink_to(root / "policies")
    return root


def warm_bytecode(work: Path) -> None:
    """Collect the policies over an empty chart root once: compiles everything, renders nothing."""
    empty = work / "empty-root"
    empty.mkdir(exist_ok=True)
    subprocess.run([PYTHON, "-m", "pytest", "policies", "-q", "--collect-only", "-p", "no:randomly",
                    "--chart-root", str(empty), "--report-dir", str(work / "report-warmup")],
                   cwd=GATE_ROOT, env=gate_env(work), capture_output=True)


@dataclass
class GateRun:
    label: str
    measured: Measured
    report: dict | None
    helm_log: list[dict]
    progress: str  # the last pytest progress marker seen, e.g. "27%"

    @property
    def helm_runs(self) -> int:
        return len(self.helm_log)

    @property
    def helm_cpu(self) -> float | None:
        """CPU of the helm processes the run paid for (recorded per process); None if not recorded."""
        values = [e.get("cpu") for e in self.helm_log]
        return sum(v for v in values if v is not None) if values and None not in values else (
            0.0 if not values else None)

    @property
    def timings(self) -> dict | None:
        return (self.report or {}).get("timings") or None

    def outcomes(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in (self.report or {}).get("results", []):
            counts[result["outcome"]] = counts.get(result["outcome"], 0) + 1
        return dict(sorted(counts.items()))

    def status(self) -> str:
        m = self.measured
        if m.timed_out:
            return f"did not finish in {m.wall:.0f} s (stopped at {self.progress or '?'} of the items, " \
                   f"{self.helm_runs} helm runs so far)"
        return f"exit {m.returncode}: {m.tail()}"

    def summary(self) -> dict:
        return {"label": self.label, "command": self.measured.command, "wall_s": round(self.measured.wall, 2),
                "cpu_s": round(self.measured.cpu, 2), "max_rss_mb": round(self.measured.max_rss_mb, 1),
                "tree_rss_mb": round(self.measured.tree_rss_mb, 1), "returncode": self.measured.returncode,
                "timed_out": self.measured.timed_out, "progress": self.progress, "helm_runs": self.helm_runs,
                "helm_cpu_s": None if self.helm_cpu is None else round(self.helm_cpu, 2),
                "helm_wall_s": round(sum(e.get("seconds") or 0 for e in self.helm_log), 2),
                "outcomes": self.outcomes(), "render_stats": (self.report or {}).get("render_stats"),
                "timings": self.timings, "tail": self.measured.tail(3)}


_PROGRESS = re.compile(r"\[\s*(\d+%)\]")


def run_gate(args: list[str], work: Path, label: str, timeout: float | None) -> GateRun:
    """`python -m pytest policies -q <args>` with its own report dir, recording each Helm run it pays for."""
    report_dir = work / f"report-{label}"
    helm_log = work / f"helm-{label}.jsonl"
    helm_log.unlink(missing_ok=True)
    command = [PYTHON, "-m", "pytest", "policies", "-q", "-p", "no:randomly", "-p", "helm_recorder",
               "--report-dir", str(report_dir), *args]
    env = gate_env(work, CHARTGATE_BENCH_HELM_LOG=str(helm_log))
    measured = measure(command, cwd=GATE_ROOT, env=env, timeout=timeout, output=work / f"output-{label}.txt")
    report_file = report_dir / "chartgate.json"
    report = None
    if report_file.is_file() and not measured.timed_out:
        try:
            report = json.loads(report_file.read_text())
        except ValueError:
            report = None
    log = []
    if helm_log.is_file():
        for line in helm_log.read_text().splitlines():
            try:
                log.append(json.loads(line))
            except ValueError:
                pass  # a line cut short by the timeout
    marks = _PROGRESS.findall(measured.output)
    return GateRun(label, measured, report, log, marks[-1] if marks else "")


def isolated_helm_env(home: Path) -> dict[str, str]:
    """Like chartgate's renders: private Helm dirs, no kubeconfig, no network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBE"))}
    env.update(HELM_CONFIG_HOME=str(home / "config"), HELM_CACHE_HOME=str(home / "cache"),
               HELM_DATA_HOME=str(home / "data"), KUBECONFIG=str(home / "no-kubeconfig"),
               HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="")
    return env


def replay_bare(helm_log: list[dict], work: Path) -> dict:
    """Run each logged `helm template` again, one after another; sum wall and CPU (wait4 per process)."""
    env = isolated_helm_env(work / "helm-home")
    wall = cpu = 0.0
    for entry in helm_log:
        started = time.perf_counter()
        proc = subprocess.Popen(entry["argv"], cwd=GATE_ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(proc.pid, 0)
        wall += time.perf_counter() - started
        cpu += usage.ru_utime + usage.ru_stime
    return {"runs": len(helm_log), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}


# -- reporting -----------------------------------------------------------------------------------------


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def add(self, figure: str, value: str, target: str = "") -> None:
        self.rows.append((figure, value, target))

    def print(self) -> None:
        if not self.rows:
            return
        widths = [max(len(r[i]) for r in self.rows) for i in range(2)]
        for figure, value, target in self.rows:
            out(f"{figure.ljust(widths[0])}  {value.ljust(widths[1])}  {target}".rstrip())


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "MISSED")


def fmt(value: float | None, unit: str = "s", digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f} {unit}".rstrip()


def run_figures(run: GateRun) -> str:
    m = run.measured
    helm = f", helm CPU {run.helm_cpu:.1f} s" if run.helm_cpu is not None else ""
    text = (f"{m.wall:.1f} s wall, {m.cpu:.1f} s CPU, {run.helm_runs} helm runs{helm}, "
            f"peak RSS {m.max_rss_mb:.0f} MB (tree {m.tree_rss_mb:.0f} MB)")
    return text + (" - TIMED OUT" if m.timed_out else "")


def phase_rows(table: Table, run) -> None:
    """Per phase wall / CPU / renders / RSS from the engine's `timings` (n/a when it writes none).

    Accepts the check families nested (`"check": {"OBS": {...}}`) or flat (`"check:OBS": {...}`)."""
    timings = run.timings
    phases = dict((timings or {}).get("phases") or {})
    rss = (timings or {}).get("peak_rss_mb")
    stats = (run.report or {}).get("render_stats") or {} if hasattr(run, "report") else {}
    families = {k.split(":", 1)[1]: v for k, v in phases.items() if k.startswith("check:")}
    if isinstance(phases.get("check"), dict) and all(isinstance(v, dict) for v in phases["check"].values()) \
            and not {"wall", "cpu"} & set(phases["check"]):
        families.update(phases.pop("check"))

    def cell(data: dict | None) -> str:
        if not data:
            return "n/a"
        parts = [f"wall {fmt(data.get('wall'))}", f"CPU {fmt(data.get('cpu'))}"]
        if "helm_cpu" in data:
            parts.append(f"helm CPU {fmt(data.get('helm_cpu'))}")
        if "renders" in data:
            parts.append(f"{data['renders']} renders")
        return ", ".join(parts)

    for phase in PHASES:
        if phase == "check" and families:
            for family, data in sorted(families.items()):
                table.add(f"    {run.label}: check {family}", cell(data))
            continue
        data = phases.get(phase)
        if phase == "render" and data is not None and "renders" not in data and stats.get("renders") is not None:
            data = {**data, "renders": stats["renders"]}
        if phase == "parse" and data is None and stats.get("parse_seconds") is not None:
            table.add(f"    {run.label}: parse", f"{stats['parse_seconds']:.1f} s (render_stats.parse_seconds)")
            continue
        table.add(f"    {run.label}: {phase}", cell(data))
    if (timings or {}).get("total"):
        table.add(f"    {run.label}: total (engine)", cell(timings["total"]))
    table.add(f"    {run.label}: peak RSS (engine)", fmt(rss, "MB", 0))


# -- parts ---------------------------------------------------------------------------------------------


def part_fixtures(work: Path, args, table: Table, results: dict) -> None:
    cache = work / "cache-fixtures"
    cold = run_gate(["--cache-dir", str(cache)], work, "fixtures-cold", args.timeout)
    out(f"fixtures cold: {run_figures(cold)}; {cold.status()}")
    warm = run_gate(["--cache-dir", str(cache)], work, "fixtures-warm", args.timeout)
    out(f"fixtures warm: {run_figures(warm)}; {warm.status()}")
    bare = replay_bare(cold.helm_log, work)
    out(f"fixtures bare helm replay: {bare['runs']} runs, {bare['wall_s']} s wall, {bare['cpu_s']} s CPU")
    ratio = cold.measured.cpu / bare["cpu_s"] if bare["cpu_s"] else None
    table.add("fixtures: cold", run_figures(cold))
    table.add("fixtures: warm", run_figures(warm))
    table.add("fixtures: bare `helm template` of the same renders",
              f"{bare['cpu_s']:.1f} s CPU, {bare['wall_s']:.1f} s wall ({bare['runs']} runs, sequential)")
    table.add("fixtures: cold CPU / bare helm CPU", fmt(ratio, "x", 2),
              f"<= {TARGET_FIXTURE_OVERHEAD}x: {verdict(None if ratio is None else ratio <= TARGET_FIXTURE_OVERHEAD)}")
    phase_rows(table, cold)
    results["fixtures"] = {"cold": cold.summary(), "warm": warm.summary(), "bare_helm": bare,
                           "cold_cpu_over_bare_helm_cpu": ratio}
    met = None if ratio is None else ratio <= TARGET_FIXTURE_OVERHEAD
    note = ""
    if met is False and cold.helm_cpu is not None:
        # Say what the overhead is made of: the warm run pays chartgate's fixed cost (start-up, collection,
        # pytest's per-item protocol, reports) and renders nothing.
        own = cold.measured.cpu - cold.helm_cpu
        items = sum(cold.outcomes().values())
        note = (f"chartgate's own CPU {own:.1f} s, of which {warm.measured.cpu:.1f} s is paid by the warm run too "
                f"(start-up, collection, pytest's protocol for {items} items, reports); see README Performance")
        table.add("fixtures: why the ratio is missed", note)
    results["targets"].append({"target": "fixtures: cold CPU / bare helm CPU <= 1.3x", "measured": ratio,
                               "met": met, "note": note})


def monorepo_args(mono: Path, work: Path) -> list[str]:
    (work / "no-overlays").mkdir(exist_ok=True)
    return ["--chart-root", str(mono / "platform"), "--chart-root", str(mono / "products"),
            "--overlay-root", str(work / "no-overlays"), "--release-overlay", str(mono / "clusters" / "**" / "*.yaml")]


_PLAN_LINE = re.compile(r"^(\S+): .*?(\d+) of (\d+) combinations.*?(\d+) factors")
_PLAN_SCEN = re.compile(r"scenarios: (\d+) declared \+ (\d+) combined; estimated renders: (\d+)")


def parse_plan(text: str) -> dict[str, dict]:
    charts: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        head = _PLAN_LINE.match(line)
        if head:
            current = head.group(1)
            charts[current] = {"rows": int(head.group(2)), "factors": int(head.group(4))}
            continue
        scen = _PLAN_SCEN.search(line)
        if scen and current:
            charts[current].update(declared=int(scen.group(1)), combined=int(scen.group(2)),
                                   estimated_renders=int(scen.group(3)))
            current = None
    return charts


def plan_estimates(gate_args: list[str], work: Path, label: str, timeout: float | None) -> tuple[dict, "Measured"]:
    """`--plan`'s per-chart figures (parse_plan) for a gate command line, and how long it took."""
    command = [PYTHON, "-m", "pytest", "policies", "-q", "-p", "no:randomly", "--plan",
               "--report-dir", str(work / f"report-{label}"), *gate_args]
    measured = measure(command, cwd=GATE_ROOT, env=gate_env(work), timeout=timeout, output=work / f"output-{label}.txt")
    return parse_plan(measured.output), measured


def helm_runs_per_chart(run: GateRun) -> dict[str, int]:
    """Helm runs per chart, from the recorder's argv (`... -- RELEASE CHART_DIR`) and the report's paths."""
    names = {str(Path(c["path"]).resolve()): c["name"] for c in (run.report or {}).get("charts", [])}
    counts: dict[str, int] = {}
    for entry in run.helm_log:
        name = names.get(str(Path(entry["argv"][-1]).resolve()), entry["argv"][-1])
        counts[name] = counts.get(name, 0) + 1
    return counts


def estimate_rows(table: Table, label: str, estimates: dict[str, dict], run: GateRun) -> dict:
    """`--plan`'s estimate beside the Helm runs, per chart; the largest deviation against the target."""
    actual = helm_runs_per_chart(run)
    rows = {name: {"estimated": c.get("estimated_renders"), "actual": actual.get(name, 0)}
            for name, c in estimates.items()}
    deviations = {n: abs(r["estimated"] - r["actual"]) / r["actual"] for n, r in rows.items()
                  if r["actual"] and r["estimated"] is not None}
    worst = max(deviations, key=deviations.get) if deviations else None
    total_e = sum(r["estimated"] or 0 for r in rows.values())
    total_a = sum(r["actual"] for r in rows.values())
    within = sum(d <= TARGET_ESTIMATE for d in deviations.values())
    table.add(f"{label}: --plan estimate vs Helm runs",
              f"{total_e} estimated, {total_a} run; {within} of {len(deviations)} charts within "
              f"{100 * TARGET_ESTIMATE:.0f}%" + (f", worst {worst} {100 * deviations[worst]:.0f}% "
                                                 f"({rows[worst]['estimated']} vs {rows[worst]['actual']})" if worst else ""),
              f"every chart within {100 * TARGET_ESTIMATE:.0f}%: {verdict(within == len(deviations) if deviations else None)}")
    return {"charts": rows, "within": within, "of": len(deviations), "worst": worst}


def part_guarded(work: Path, args, table: Table, results: dict) -> None:
    """bp-warden alone: --plan, then cold and warm."""
    root = work / "guarded"
    if not (root / "platform").is_dir():
        bp = guarded_blueprint(root, args.scale)
        write_blueprint(bp, seed=1000 + bp.index)
    (work / "no-overlays").mkdir(exist_ok=True)
    gate = ["--chart-root", str(root / "platform"), "--overlay-root", str(work / "no-overlays"),
            "--golden-dir", str(work / "golden-guarded"), "--cache-dir", str(work / "cache-guarded")]
    estimates, planned = plan_estimates(gate, work, "guarded-plan", args.timeout)
    cold = run_gate([*gate, "--update-golden"], work, "guarded-cold", args.timeout)
    warm = run_gate(gate, work, "guarded-warm", args.timeout) if not cold.measured.timed_out else None
    out(f"guarded: --plan {planned.wall:.1f} s; cold {run_figures(cold)}; {cold.status()}")
    table.add("guarded: --plan", f"{planned.wall:.1f} s, {sum(c.get('estimated_renders', 0) for c in estimates.values())} "
                                 "estimated renders")
    m = cold.measured
    table.add("guarded: cold", run_figures(cold) if not m.timed_out else cold.status(),
              f"<= {TARGET_GUARDED_COLD_S:.0f} s: {verdict(not m.timed_out and m.wall <= TARGET_GUARDED_COLD_S)}")
    if warm is not None:
        table.add("guarded: warm", run_figures(warm), f"{100 * warm.measured.wall / m.wall:.0f} % of cold")
    plan = next(iter(((cold.report or {}).get("charts") or [{}])), {}).get("plan", {})
    table.add("guarded: plan", f"{plan.get('factors')} factors, {len(plan.get('learned_refusals') or [])} guards "
                               f"learned, {len(plan.get('infeasible_combinations') or [])} combinations refused, "
                               f"coverage {plan.get('coverage')}, renders {plan.get('renders')}")
    compared = estimate_rows(table, "guarded", estimates, cold)
    results["guarded"] = {"plan": {"wall_s": round(planned.wall, 2), "charts": estimates}, "cold": cold.summary(),
                          "warm": warm.summary() if warm else None, "estimate_vs_actual": compared,
                          "coverage": {k: plan.get(k) for k in ("coverage", "renders", "budget_exhausted")}}
    results["targets"] += [
        {"target": "guard-heavy chart alone cold <= 60 s", "measured": m.wall,
         "met": (not m.timed_out) and m.wall <= TARGET_GUARDED_COLD_S},
        {"target": "guarded: --plan estimate within 15%", "measured": compared["worst"],
         "met": compared["within"] == compared["of"] if compared["of"] else None},
    ]


def part_plan(mono: Path, work: Path, args, table: Table, results: dict) -> None:
    command = [PYTHON, "-m", "pytest", "policies", "-q", "-p", "no:randomly", "--plan",
               "--report-dir", str(work / "report-plan"), *monorepo_args(mono, work)]
    measured = measure(command, cwd=GATE_ROOT, env=gate_env(work), timeout=args.timeout,
                       output=work / "output-plan.txt")
    charts = parse_plan(measured.output)
    total = sum(c.get("estimated_renders", 0) for c in charts.values())
    out(f"plan: {len(charts)} charts, {sum(c.get('declared', 0) for c in charts.values())} declared + "
        f"{sum(c.get('combined', 0) for c in charts.values())} combined scenarios, {total} estimated renders "
        f"({measured.wall:.1f} s)")
    shape = {f"bp-{Path(r['chart']).parent.name}": r for r in describe(mono, HELM)}
    out(f"  {'chart':16} {'objects':>7} {'render':>9} {'bools':>5} {'toggles':>7} {'CRD schema':>10} "
        f"{'factors':>7} {'declared':>8} {'combined':>8} {'renders':>7}")
    for name, c in sorted(charts.items()):
        r = shape.get(name, {})
        c["shape"] = r
        out(f"  {name:16} {r.get('objects', '?'):>7} {r.get('render_bytes', 0) / 1024:>7.0f}KB {r.get('booleans', '?'):>5} "
            f"{r.get('toggles', '?'):>7} {r.get('largest_crd_schema_bytes', 0) / 1024:>8.0f}KB {c.get('factors', '?'):>7} "
            f"{c.get('declared', '?'):>8} {c.get('combined', '?'):>8} {c.get('estimated_renders', '?'):>7}")
    table.add("realistic: --plan (scenarios per chart in results.json)",
              f"{len(charts)} charts, {total} estimated renders, {measured.wall:.1f} s to plan")
    results["plan"] = {"wall_s": round(measured.wall, 2), "cpu_s": round(measured.cpu, 2), "charts": charts,
                       "estimated_renders": total}


def part_realistic(mono: Path, work: Path, args, table: Table, results: dict) -> None:
    gate = monorepo_args(mono, work) + ["--golden-dir", str(work / "golden-realistic"),
                                        "--cache-dir", str(work / "cache-realistic")]
    cold = run_gate([*gate, "--update-golden"], work, "realistic-cold", args.timeout)
    out(f"realistic cold: {run_figures(cold)}; {cold.status()}")
    out(f"realistic cold results: {cold.outcomes() or 'no report'}")
    warm = None
    if not cold.measured.timed_out:
        warm = run_gate(gate, work, "realistic-warm", args.timeout)
        out(f"realistic warm: {run_figures(warm)}; {warm.status()}")
    m = cold.measured
    table.add("realistic: cold", run_figures(cold) if not m.timed_out else cold.status(),
              f"<= {TARGET_COLD_S:.0f} s: {verdict(False if m.timed_out else m.wall <= TARGET_COLD_S)}")
    ratio = None
    if warm is not None:
        ratio = warm.measured.wall / m.wall
        table.add("realistic: warm", run_figures(warm))
        table.add("realistic: warm / cold (wall)", f"{100 * ratio:.0f} %",
                  f"<= {100 * TARGET_WARM_RATIO:.0f} %: {verdict(ratio <= TARGET_WARM_RATIO)}")
    rss = m.tree_rss_mb
    table.add("realistic: peak RSS, cold (process tree)", f"{rss:.0f} MB (largest process {m.max_rss_mb:.0f} MB)",
              f"<= {TARGET_RSS_MB:.0f} MB: {verdict(rss <= TARGET_RSS_MB)}")
    per_render = None
    helm_cpu = cold.helm_cpu
    engine = cold.timings or {}
    for source in ((engine.get("phases") or {}).get("render") or {}, engine.get("total") or {}):
        if source.get("helm_cpu") is not None:
            helm_cpu = source["helm_cpu"]  # the engine's own account of its Helm CPU, when it keeps one
            break
    if helm_cpu and cold.helm_runs:
        own = (m.cpu - helm_cpu) / cold.helm_runs
        per_helm = helm_cpu / cold.helm_runs
        per_render = own / per_helm
        table.add("realistic: per render, chartgate's own CPU vs helm CPU",
                  f"{own:.2f} s vs {per_helm:.2f} s ({per_render:.2f}x; {cold.helm_runs} helm runs)",
                  f"<= 1x: {verdict(per_render <= 1)}" + (" (partial run)" if m.timed_out else ""))
    outcomes = cold.outcomes()
    if outcomes:
        table.add("realistic: results (cold)", ", ".join(f"{n} {k}" for k, n in outcomes.items()))
    phase_rows(table, cold)
    compared = None
    if (results.get("plan") or {}).get("charts") and not m.timed_out:
        compared = estimate_rows(table, "realistic", results["plan"]["charts"], cold)
        results["targets"].append({"target": "realistic: --plan estimate within 15% on every chart",
                                   "measured": compared["worst"], "met": compared["within"] == compared["of"]})
    results["realistic"] = {"cold": cold.summary(), "warm": warm.summary() if warm else None,
                            "estimate_vs_actual": compared}
    results["targets"] += [
        {"target": "realistic cold <= 300 s", "measured": m.wall, "met": (not m.timed_out) and m.wall <= TARGET_COLD_S,
         "note": cold.status() if m.timed_out else ""},
        {"target": "realistic warm <= 15% of cold", "measured": ratio,
         "met": None if ratio is None else ratio <= TARGET_WARM_RATIO},
        {"target": "realistic peak RSS <= 1 GB", "measured": rss, "met": rss <= TARGET_RSS_MB},
        {"target": "per render: chartgate CPU <= helm CPU", "measured": per_render,
         "met": None if per_render is None else per_render <= 1},
    ]


# -- checkov ---------------------------------------------------------------------------------------------


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "chartgate-bench"


def install_checkov(timeout: float) -> tuple[Path | None, str]:
    """checkov in its own virtualenv under the cache dir; (path to the checkov script, version or why not)."""
    venv = cache_root() / "checkov-venv"
    exe = venv / "bin" / "checkov"
    if exe.is_file():
        version = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
        if version.returncode == 0:
            return exe, version.stdout.strip()
    shutil.rmtree(venv, ignore_errors=True)
    try:
        subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        proc = subprocess.run([*pip, f"checkov=={CHECKOV_VERSION}"], capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode != 0:  # the pinned version may be gone: take the newest 3.x
            proc = subprocess.run([*pip, "checkov>=3,<4"], capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            return None, f"pip install checkov failed: {lines[-1] if lines else 'no output'}"
    except subprocess.TimeoutExpired:
        return None, f"installing checkov took longer than {timeout:.0f} s"
    except (OSError, subprocess.CalledProcessError) as exc:
        return None, f"could not create a virtualenv for checkov: {exc}"
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
    if version.returncode != 0:
        return None, f"checkov installed but does not run: {version.stderr.strip()[-200:]}"
    return exe, version.stdout.strip()


def checkov_counts(text: str) -> dict:
    """passed/failed/skipped/parsing errors from checkov's JSON output (one report or a list of them)."""
    start = text.find("[") if text.lstrip().startswith("[") else text.find("{")
    try:
        data = json.loads(text[start:]) if start >= 0 else None
    except ValueError:
        return {}
    reports = data if isinstance(data, list) else [data] if data else []
    counts = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resources": 0}
    for report in reports:
        summary = report.get("summary") or {}
        for key in counts:
            counts[key] += int(summary.get(key, 0) or 0)
        counts["resources"] = counts["resources"]  # summary has "resource_count" in newer versions
        counts["resources"] += int(summary.get("resource_count", 0) or 0)
    return counts


def part_mainstream(work: Path, args, table: Table, results: dict) -> None:
    from mainstream import write_mainstream_charts  # noqa: PLC0415

    charts_dir = work / "mainstream"
    charts = write_mainstream_charts(charts_dir, HELM)
    names = ", ".join(c.name for c in charts)
    out(f"mainstream charts: {names}")
    entry: dict = {"charts": [c.name for c in charts]}
    # chartgate on the same charts (generic profile: no blueprint.yaml)
    (work / "no-overlays").mkdir(exist_ok=True)
    (work / "no-releases").mkdir(exist_ok=True)  # a glob must match a file: one without any HelmRelease
    (work / "no-releases" / "none.yaml").write_text("# no HelmRelease installs these charts\n")
    gate = run_gate(["--chart-root", str(charts_dir), "--overlay-root", str(work / "no-overlays"),
                     "--release-overlay", str(work / "no-releases" / "*.yaml"),
                     "--golden-dir", str(work / "golden-mainstream"), "--update-golden",
                     "--cache-dir", str(work / "cache-mainstream")], work, "mainstream", args.timeout)
    out(f"mainstream chartgate: {run_figures(gate)}; {gate.status()}; results {gate.outcomes()}")
    report_bytes = sum(p.stat().st_size for p in (work / "report-mainstream").glob("*") if p.is_file())
    table.add(f"mainstream ({len(charts)} charts): chartgate, cold", run_figures(gate))
    table.add("mainstream: chartgate results",
              (", ".join(f"{n} {k}" for k, n in gate.outcomes().items()) or "no report")
              + f"; reports {report_bytes / 2**20:.1f} MB")
    entry["chartgate"] = gate.summary() | {"report_bytes": report_bytes}
    # checkov
    if args.no_checkov:
        reason = "--no-checkov"
        exe = None
    else:
        started = time.perf_counter()
        exe, reason = install_checkov(args.checkov_install_timeout)
        out(f"checkov: {'installed ' + reason if exe else 'skipped: ' + reason} ({time.perf_counter() - started:.0f} s)")
    if exe is None:
        table.add("mainstream: checkov", f"skipped: {reason}")
        entry["checkov"] = {"skipped": reason}
    else:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBE"))}
        env.update(isolated_helm_env(work / "checkov-helm-home"))
        env["PATH"] = os.pathsep.join([str(HELM.parent), str(exe.parent), env.get("PATH", "")])
        env["BC_SKIP_MAPPING"] = "TRUE"  # no download of the Bridgecrew mapping at start-up
        env["CHECKOV_RUN_SCA_PACKAGE_SCAN_V2"] = "false"
        # warm-up: the first run compiles checkov's bytecode; time the second one, as chartgate's is
        command = [str(exe), "-d", str(charts_dir), "--framework", "helm", "--quiet", "--compact", "-o", "json",
                   "--skip-download"]
        measure(command, cwd=work, env=env, timeout=args.timeout, output=work / "output-checkov-warmup.txt")
        measured = measure(command, cwd=work, env=env, timeout=args.timeout, output=work / "output-checkov.txt")
        counts = checkov_counts(measured.output)
        figures = (f"{measured.wall:.1f} s wall, {measured.cpu:.1f} s CPU, peak RSS {measured.max_rss_mb:.0f} MB "
                   f"(tree {measured.tree_rss_mb:.0f} MB)")
        out(f"checkov {reason}: {figures}; exit {measured.returncode}; {counts or measured.tail(3)}")
        table.add(f"mainstream: checkov {reason}", figures + (" - TIMED OUT" if measured.timed_out else ""))
        table.add("mainstream: checkov results",
                  ", ".join(f"{n} {k}" for k, n in counts.items()) if counts else f"unparsed: {measured.tail()}")
        entry["checkov"] = {"version": reason, "command": command, "wall_s": round(measured.wall, 2),
                            "cpu_s": round(measured.cpu, 2), "max_rss_mb": round(measured.max_rss_mb, 1),
                            "tree_rss_mb": round(measured.tree_rss_mb, 1), "returncode": measured.returncode,
                            "timed_out": measured.timed_out, "counts": counts}
    results["mainstream"] = entry


# -- the seed's procedure ---------------------------------------------------------------------------------

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


def part_seed(work: Path, args, table: Table, results: dict) -> None:
    script = work / "observability-toggle.sh"
    script.write_text(SEED_SCRIPT)
    specs = [f"{chart}={toggle}" for chart, toggle in SEED_TOGGLES.items()]
    seed = measure(["bash", str(script), str(HELM), str(FIXTURE_CHARTS), str(FIXTURE_OVERLAYS), *specs],
                   cwd=work, env=isolated_helm_env(work / "seed-home"), timeout=args.timeout,
                   output=work / "output-seed.txt")
    obs_cold = run_gate(["-k", "OBS", "--cache-dir", str(work / "cache-obs")], work, "obs-cold", args.timeout)
    obs_warm = run_gate(["-k", "OBS", "--cache-dir", str(work / "cache-obs")], work, "obs-warm", args.timeout)
    out(f"seed bash: {seed.wall:.2f} s wall, {seed.cpu:.2f} s CPU: {seed.tail()}")
    out(f"chartgate -k OBS: cold {run_figures(obs_cold)}; warm {run_figures(obs_warm)}")
    table.add("seed: bash, 3 cases x 3 charts (9 helm runs)", f"{seed.wall:.2f} s wall, {seed.cpu:.2f} s CPU")
    table.add("seed: chartgate -k OBS, cold", run_figures(obs_cold))
    table.add("seed: chartgate -k OBS, warm", run_figures(obs_warm))
    results["seed"] = {"bash_wall_s": round(seed.wall, 3), "bash_cpu_s": round(seed.cpu, 3),
                       "obs_cold": obs_cold.summary(), "obs_warm": obs_warm.summary()}


# -- main ------------------------------------------------------------------------------------------------


def git_state() -> dict:
    def git(*a: str) -> str:
        proc = subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True)
        return proc.stdout.strip()
    return {"commit": git("rev-parse", "HEAD"), "dirty_files": len(git("status", "--porcelain").splitlines())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="chartgate benchmarks (figures only, no assertions)")
    parser.add_argument("--charts", type=int, default=DEFAULT_CHARTS, help="platform Blueprints in the realistic monorepo")
    parser.add_argument("--scale", type=float, default=1.0, help="size factor of the generated charts (1 = realistic)")
    parser.add_argument("--only", default="", help=f"comma-separated parts to run ({', '.join(PARTS)})")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="stop each gate run after this many seconds and report how far it got "
                             "(default 3600; 0: no limit)")
    parser.add_argument("--results", type=Path, default=BENCH / "results.json", help="where to write the JSON")
    parser.add_argument("--work", type=Path, default=None, help="work directory (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (printed) for inspection")
    parser.add_argument("--snapshot", action="store_true",
                        help="run the gate from a copy of src/, policies/ and fixtures/ taken at the start "
                             "(a consistent tree while others edit the checkout)")
    parser.add_argument("--no-checkov", action="store_true", help="do not install or run checkov")
    parser.add_argument("--checkov-install-timeout", type=float, default=900.0)
    args = parser.parse_args(argv)
    args.timeout = args.timeout or None
    only = set(filter(None, args.only.split(","))) or set(PARTS)
    skip = set(filter(None, args.skip.split(",")))
    unknown = (only | skip) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    parts = [p for p in PARTS if p in only and p not in skip]

    work = args.work or Path(tempfile.mkdtemp(prefix="chartgate-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    keep = args.keep or args.work is not None
    table = Table()
    results: dict = {"generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "machine": {"cpus": os.cpu_count(), "load_average_start": os.getloadavg(),
                                 "python": platform.python_version()},
                     "git": git_state(), "arguments": {k: str(v) for k, v in vars(args).items()},
                     "parts": parts, "targets": []}
    out(f"chartgate bench: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, parts {', '.join(parts)}, "
        f"work dir {work}")
    global GATE_ROOT
    if args.snapshot:
        GATE_ROOT = snapshot(work)
        results["snapshot"] = str(GATE_ROOT)
    try:
        warm_bytecode(work)
        if "fixtures" in parts:
            part_fixtures(work, args, table, results)
        mono = work / "monorepo"
        if {"plan", "realistic"} & set(parts):
            started = time.perf_counter()
            if not (mono / "platform").is_dir():
                generate(mono, args.charts, args.scale, guarded=True)
            out(f"realistic monorepo: {args.charts} platform Blueprints + composite, scale {args.scale:g}, "
                f"written in {time.perf_counter() - started:.1f} s")
            results["monorepo"] = {"charts": args.charts, "scale": args.scale}
        if "plan" in parts:
            part_plan(mono, work, args, table, results)
        if "realistic" in parts:
            part_realistic(mono, work, args, table, results)
        if "guarded" in parts:
            part_guarded(work, args, table, results)
        if "mainstream" in parts:
            part_mainstream(work, args, table, results)
        if "seed" in parts:
            part_seed(work, args, table, results)
    finally:
        results["machine"]["load_average_end"] = os.getloadavg()
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(results, indent=2, default=str) + "\n")
        if not keep:
            shutil.rmtree(work, ignore_errors=True)

    out()
    table.print()
    out()
    for target in results["targets"]:
        out(f"target: {target['target']}: {verdict(target['met'])}")
    out(f"load average at end: {os.getloadavg()[0]:.1f}; results: {args.results}"
        + (f"; work dir kept: {work}" if keep else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
