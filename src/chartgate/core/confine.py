"""Output directories stay where they are configured. The golden and report directories never
follow a link out of their repository, and nothing chartgate writes or deletes goes through one:
a `golden/<chart>` that links elsewhere would otherwise receive golden files, and its `*.yaml`
(files chartgate never wrote) would be deleted as orphans."""

from __future__ import annotations

import os
from pathlib import Path

from chartgate.core.errors import InvalidConfig


def anchor(path: Path) -> Path:
    """The root an output directory belongs to: its nearest ancestor holding .git or pyproject.toml
    (the repository), else its parent. Found lexically, so a link on the way is not followed."""
    path = Path(os.path.abspath(path))
    for candidate in path.parents:
        if (candidate / ".git").exists() or (candidate / "pyproject.toml").is_file():
            return candidate
    return path.parent


def _inside(path: Path, root: Path) -> bool:
    """Whether `path`, every link on its way resolved, is `root` or below it (also resolved)."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def _leaving_link(path: Path, root: Path) -> str:
    """The first link between `root` and `path` that leads out of `root`, as `link -> target`."""
    path, root = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return str(path)
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink() and not _inside(current, root):
            return f"{current} -> {os.readlink(current)}"
    return str(path)


def confine(path: Path, root: Path, what: str) -> None:
    """Refuse `path` (raise InvalidConfig naming the link) when it leads out of `root`."""
    if not _inside(path, root):
        raise InvalidConfig(f"{what} {path} leads out of {root} through the link {_leaving_link(path, root)}; "
                            "chartgate never writes or deletes through a link that leaves it. Replace the link "
                            "with a directory, or configure a directory inside it.")


def check_output_dir(path: Path, what: str) -> None:
    """An output directory (golden, reports) must not lead out of its repository through a link."""
    confine(path, anchor(path), what)
