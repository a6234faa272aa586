"""`chartgate check` (and `plan`, `baseline`): the gate run in-process through pytest, exactly as
`pytest` would run it in the repository, so both give the same verdict, reports and exit status.

The repository is the directory of the configuration: `--config FILE`, else the nearest
pyproject.toml holding a `[tool.chartgate]` table, from the current directory upward. The run
happens in that directory (rootdir and invocation directory), so node ids, report paths and relative
option values read as they would for `pytest` started there.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

from chartgate.core.errors import InvalidConfig
from chartgate.core.exitcodes import Exit
from chartgate.packs import policy_sources
from chartgate.settings import policy_sources_for

CONFIG_NAME = "pyproject.toml"


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.chartgate] table, from `start` upward."""
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_NAME
        if candidate.is_file() and _has_chartgate_table(candidate):
            return candidate
    return None


def _has_chartgate_table(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidConfig(f"{path}: not a readable TOML file ({exc}); fix it or pass --config FILE") from None
    return isinstance(data.get("tool"), dict) and "chartgate" in data["tool"]


def config_for(explicit: str | None, cwd: Path) -> Path:
    """The configuration file a command works on (absolute); InvalidConfig when there is none."""
    if explicit:
        path = (cwd / explicit).resolve()
        if not path.is_file():
            raise InvalidConfig(f"--config: file {path} does not exist")
        return path
    found = find_config(cwd.resolve())
    if found is None:
        raise InvalidConfig(f"no [tool.chartgate] table in {CONFIG_NAME} of {cwd} or any directory above it; "
                            "add one (e.g. `chart-roots = [\"charts\"]`) or pass --config FILE")
    return found


def policy_paths(root: Path, config_file: Path | None = None) -> list[Path]:
    """The policy directories a whole-gate run collects in the repository at `root`: the enabled
    packs' (setting `packs`, default every installed pack) and the repository's own (setting
    `policies`) - chartgate.packs decides, as it does for plain `pytest`. The one place the command
    asks; `chartgate policies`/`explain` read the same modules."""
    sources = policy_sources_for(root, config_file)
    if sources is None:  # outside a configured repository: every installed pack, and ./policies if any
        sources = policy_sources(root / "policies", None)
    return sources.directories()


def _pytest_args(config_file: Path, paths: list[Path], options: list[str]) -> list[str]:
    """pytest's command line for a run: the policy modules (PATHs given, else the whole gate's),
    the repository as rootdir, its configuration, then the user's options untouched."""
    root = config_file.parent
    modules = paths or policy_paths(root, config_file)
    # `-c`: the pack directories live outside the repository, so pytest's own search (from the paths'
    # common ancestor) would not find the repository's configuration.
    return [*(str(p) for p in modules), "-c", str(config_file), "--rootdir", str(root),
            "--chartgate-config", str(config_file), *options]


def split_arguments(argv: list[str]) -> tuple[str | None, list[str], list[str]]:
    """(--config value, PATHs, pytest options). PATHs are the leading arguments that are not options;
    everything from the first option on goes to pytest unchanged (except --config)."""
    config, paths, options = None, [], []
    rest = list(argv)
    while rest and not rest[0].startswith("-"):
        paths.append(rest.pop(0))
    while rest:
        arg = rest.pop(0)
        if arg == "--config":
            if not rest:
                raise InvalidConfig("--config needs a FILE")
            config = rest.pop(0)
        elif arg.startswith("--config="):
            config = arg.split("=", 1)[1]
        else:
            options.append(arg)
    return config, paths, options


def run_check(argv: list[str], command: str = "check", forced: tuple[str, ...] = ()) -> int:
    """Run the gate; returns its exit status (chartgate.core.exitcodes). `forced`: options the command
    itself adds (`--plan` for `chartgate plan`), put before the user's."""
    import pytest

    cwd = Path.cwd()
    try:
        explicit, raw_paths, options = split_arguments(argv)
        config_file = config_for(explicit, cwd)
        paths = [(cwd / p).resolve() for p in raw_paths]  # given from where the user stands
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise InvalidConfig(f"no such policy module or directory: {', '.join(missing)}")
        args = _pytest_args(config_file, paths, [*forced, *options])
    except InvalidConfig as exc:
        print(f"chartgate {command}: {exc}", file=sys.stderr)
        return Exit.USAGE
    os.chdir(config_file.parent)  # as `pytest` started in the repository
    try:
        status = int(pytest.main(args))
    finally:
        os.chdir(cwd)
    if status == pytest.ExitCode.NO_TESTS_COLLECTED:  # no policy module at all: nothing was a gate run
        print(f"chartgate {command}: no policy module was collected from "
              f"{', '.join(str(p) for p in paths or policy_paths(config_file.parent, config_file))}", file=sys.stderr)
        return Exit.USAGE
    return status


def plugin_options() -> set[str] | None:
    """The command-line options the chartgate plugin defines, or None when they cannot be listed."""
    import pytest

    from chartgate import plugin
    try:
        parser = pytest.Parser(_ispytest=True)
        plugin.pytest_addoption(parser)
        groups = [parser._anonymous, *parser._groups]  # noqa: SLF001 - pytest has no public listing
        return {name for group in groups for option in group.options for name in option.names()}
    except Exception:  # noqa: BLE001 - a pytest that changed its internals: let pytest decide instead
        return None


def run_baseline(argv: list[str]) -> int:
    """`chartgate baseline`: a whole-gate run that writes today's findings as the baseline."""
    options = plugin_options()
    if options is not None and "--write-baseline" not in options:
        print("chartgate baseline: this chartgate has no baseline support (its pytest plugin defines no "
              "--write-baseline option); nothing was run", file=sys.stderr)
        return Exit.USAGE
    return run_check(argv, command="baseline", forced=("--write-baseline",))
