"""Locating Helm: a missing or tampered binary is refused with a message that says what to do,
and a tampered binary is refused *before* anything executes it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from chartgate.core.errors import HelmChecksumMismatch, HelmNotFound
from chartgate.render.toolchain import DEFAULT_HELM_VERSION, HELM_RELEASES, locate, _provisioned_path, _sha256_file

from ..conftest import REPO

TOOLS = REPO / ".tools"


def test_the_provisioned_binary_is_found_and_verified():
    location = locate(TOOLS, env={})
    assert location.pinned_version == DEFAULT_HELM_VERSION
    assert location.sha256 == HELM_RELEASES[DEFAULT_HELM_VERSION].sha256


def test_helm_bin_pointing_nowhere_names_the_variable_and_the_fix(tmp_path):
    missing = tmp_path / "no-such-helm"
    with pytest.raises(HelmNotFound) as excinfo:
        locate(TOOLS, env={"HELM_BIN": str(missing)})
    message = str(excinfo.value)
    assert "HELM_BIN" in message and str(missing) in message
    assert "does not name an existing file" in message and "unset it" in message


def test_helm_bin_that_is_not_executable_is_refused(tmp_path):
    not_executable = tmp_path / "helm"
    not_executable.write_text("#!/bin/sh\n")
    not_executable.chmod(0o644)
    with pytest.raises(HelmNotFound, match="is not executable"):
        locate(TOOLS, env={"HELM_BIN": str(not_executable)})


def test_unprovisioned_tools_dir_says_how_to_provision(tmp_path):
    with pytest.raises(HelmNotFound) as excinfo:
        locate(tmp_path / ".tools", env={})
    message = str(excinfo.value)
    assert str(_provisioned_path(tmp_path / ".tools", DEFAULT_HELM_VERSION)) in message
    # The command named exists wherever chartgate is installed (not this checkout's `make tools`).
    assert "chartgate tools install" in message and "HELM_BIN" in message and "make tools" not in message


def test_unknown_pinned_version_lists_the_known_ones():
    with pytest.raises(HelmNotFound) as excinfo:
        locate(TOOLS, "2.17.0", env={})
    assert "2.17.0" in str(excinfo.value) and DEFAULT_HELM_VERSION in str(excinfo.value)


def test_tampered_binary_is_refused_before_it_is_executed(tmp_path):
    """The 'binary' is a script that would leave a marker if anything ran it."""
    marker = tmp_path / "executed"
    tools = tmp_path / ".tools"
    target = _provisioned_path(tools, DEFAULT_HELM_VERSION)
    target.parent.mkdir(parents=True)
    target.write_text(f"#!/bin/sh\ntouch {marker}\necho v{DEFAULT_HELM_VERSION}\n")
    target.chmod(0o755)

    with pytest.raises(HelmChecksumMismatch) as excinfo:
        locate(tools, env={})

    assert not marker.exists(), "locate() executed a binary whose checksum does not match"
    message = str(excinfo.value)
    assert str(target) in message and HELM_RELEASES[DEFAULT_HELM_VERSION].sha256 in message
    assert "chartgate tools install" in message and "not executed" in message


def test_a_one_byte_change_to_the_real_binary_is_detected(tmp_path):
    tools = tmp_path / ".tools"
    target = _provisioned_path(tools, DEFAULT_HELM_VERSION)
    target.parent.mkdir(parents=True)
    shutil.copy2(_provisioned_path(TOOLS, DEFAULT_HELM_VERSION), target)
    with open(target, "r+b") as fh:  # flip one byte in the middle of the file
        fh.seek(os.path.getsize(target) // 2)
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(HelmChecksumMismatch, match="was modified or corrupted"):
        locate(tools, env={})
    assert _sha256_file(target) != HELM_RELEASES[DEFAULT_HELM_VERSION].sha256


def test_helm_bin_overrides_the_pinned_binary_without_a_checksum(tmp_path):
    """An explicit user choice is honoured (and recorded as unpinned), never silently replaced."""
    fake = tmp_path / "helm"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    location = locate(TOOLS, env={"HELM_BIN": str(fake)})
    assert location.path == Path(fake).resolve() and location.pinned_version is None


# -- found where a user has it: the user cache directory, or a Helm of the same major on PATH ------

def _linked_tools(root: Path, version: str = DEFAULT_HELM_VERSION) -> Path:
    """A tools directory holding the pinned binary (a link to this checkout's: no 60 MB copy)."""
    target = _provisioned_path(root, version)
    target.parent.mkdir(parents=True)
    target.symlink_to(_provisioned_path(TOOLS, version))
    return root


def test_the_pinned_binary_is_found_in_the_user_cache_directory(tmp_path):
    _linked_tools(tmp_path / "xdg" / "chartgate" / "tools")
    location = locate(tmp_path / "repo" / ".tools", env={"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert location.pinned_version == DEFAULT_HELM_VERSION and location.source == "pinned"
    location = locate(None, env={"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert location.sha256 == HELM_RELEASES[DEFAULT_HELM_VERSION].sha256


def test_helm_on_path_is_used_when_its_major_version_matches(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "helm").symlink_to(_provisioned_path(TOOLS, DEFAULT_HELM_VERSION))  # a Helm 4 on PATH
    location = locate(tmp_path / "none", DEFAULT_HELM_VERSION, env={"PATH": str(bin_dir)})
    assert location.source == "PATH" and location.pinned_version is None
    assert location.sha256 == HELM_RELEASES[DEFAULT_HELM_VERSION].sha256  # recorded in provenance
    reference = next(v for v in HELM_RELEASES if v.split(".")[0] != DEFAULT_HELM_VERSION.split(".")[0])
    with pytest.raises(HelmNotFound) as excinfo:  # a Helm 4 does not stand in for the Helm 3 reference
        locate(tmp_path / "none", reference, env={"PATH": str(bin_dir)})
    assert f"Helm {reference} is not installed" in str(excinfo.value)
    assert "chartgate tools install" in str(excinfo.value)


def test_tools_where_names_each_binary_or_what_is_missing(tmp_path, capsys):
    from chartgate.cli import main
    env_before = dict(os.environ)
    try:
        os.environ.pop("HELM_BIN", None)
        os.environ["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
        os.environ["PATH"] = str(tmp_path / "empty-bin")
        assert main(["tools", "where", "--tools-dir", str(TOOLS)]) == 0
        out = capsys.readouterr().out
        assert all(f"helm {v}: {_provisioned_path(TOOLS, v).resolve()}" in out for v in HELM_RELEASES)
        assert main(["tools", "where", "--tools-dir", str(tmp_path / "empty")]) == 1
        assert "missing - Helm" in capsys.readouterr().out
    finally:
        os.environ.clear()
        os.environ.update(env_before)
