"""Running pytest as a user would in a repository outside chartgate's checkout, and reading what it
wrote."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from ..conftest import REPO

#: The report directory the external repository configures (relative to its pyproject.toml).
REPORTS = Path("out") / "gate-reports"


def user_env(cache: Path) -> dict[str, str]:
    """The environment of a user's run: the Helm binaries already provisioned in this checkout's
    .tools/ (chartgate's CHARTGATE_TOOLS_DIR), an own render cache, nothing of this session's pytest."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("HELM_BIN", "PYTEST_ADDOPTS", "PYTEST_PLUGINS") and not k.startswith("PYTEST_XDIST")}
    return {**env, "CHARTGATE_TOOLS_DIR": str(REPO / ".tools"), "XDG_CACHE_HOME": str(cache)}


def seeded_user_env(cache: Path) -> dict[str, str]:
    """The environment of a user's run on a machine whose user cache already holds the pinned Helm
    binaries (as a CI cache restores them): `chartgate tools install` then finds them, checks their
    sha256 and downloads nothing. No CHARTGATE_TOOLS_DIR: Helm is found where that command put it."""
    tools = cache / "chartgate" / "tools"
    for binary in (REPO / ".tools").glob("helm-v*/helm"):
        target = tools / binary.parent.name / "helm"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(binary, target)
    env = user_env(cache)
    del env["CHARTGATE_TOOLS_DIR"]
    return env


def pytest_in(python: str | Path, cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-m", "pytest", "-p", "no:randomly", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


def report(repo: Path) -> dict:
    return json.loads((repo / REPORTS / "chartgate.json").read_text(encoding="utf-8"))


def judged(data: dict) -> dict[str, set[str]]:
    """policy id -> the outcomes its results had."""
    outcomes: dict[str, set[str]] = {}
    for result in data["results"]:
        outcomes.setdefault(result["policy"], set()).add(result["outcome"])
    return outcomes


def failed_nodeids(output: str) -> list[str]:
    return re.findall(r"^FAILED (\S+::\S+)", output, flags=re.MULTILINE)


def counts(output: str) -> str:
    """pytest's last line, without its duration: `5 failed, 36 passed, 61 skipped, 9 warnings`."""
    last = output.strip().splitlines()[-1]
    return re.sub(r"\s+in [0-9.]+s.*", "", last.strip("= "))
