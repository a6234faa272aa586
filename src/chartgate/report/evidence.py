"""The evidence bundle (`--evidence PATH`): one tar.gz an auditor can file.

    chartgate-evidence/
      reports/chartgate.json, chartgate.md, chartgate.html, chartgate.sarif, junit.xml
      manifests/<chart>/<scenario>.yaml          every rendered manifest, secrets redacted
      manifests/<chart>/<scenario>.error.txt     a render that failed, with Helm's message
      manifests/<chart>/variants/<name>.yaml     ad-hoc variants a policy rendered (differential checks)
      SHA256SUMS                                 `sha256sum -c` compatible, over every other file

Manifests are re-serialised from the parsed objects (each keeps its `# Source:` comment) after
redaction, so no Secret value reaches the bundle. Members are sorted with a fixed owner and mode;
the archive is written to a temporary file and renamed, so an interrupted run never leaves half a
bundle (nor destroys the previous one). The bundle holds rendered objects, so it is written
owner-only (0600), like the reports and the render cache.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from chartgate.report.redact import Redactor
from chartgate.plan.scenarios import safe_name
from chartgate.core.yamlio import PRIVATE_FILE_MODE, atomic_file

if TYPE_CHECKING:
    from chartgate.report.record import GateSummary
    from chartgate.render.renderer import Render

_BUNDLE_ROOT = "chartgate-evidence"
_DEFAULT_NAME = "chartgate-evidence.tar.gz"


_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml: ~10x faster on large renders


def _manifest_text(render: "Render", redactor: Redactor) -> str:
    """A render as multi-document YAML, redacted, each object under its `# Source:` template."""
    docs = []
    for manifest in render.manifests:
        body = yaml.dump(redactor.data(manifest.body), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         width=100, allow_unicode=True)
        docs.append(f"---\n# Source: {redactor.text(manifest.source)}\n{body}")
    return "".join(docs)


def _bundle_files(summary: "GateSummary") -> dict[str, bytes]:
    """{path inside the bundle: content}, without SHA256SUMS: the report files written from the run
    record, and the record's rendered manifests redacted by the record's redactor."""
    files: dict[str, bytes] = {}
    for name, path in sorted(summary.reports.items()):
        path = Path(path)
        if path.is_file():
            files[f"reports/{safe_name(path.name)}"] = path.read_bytes()
    record = summary.record
    for stem, render in record.manifests:
        _add_render(files, stem, render, record.redactor)
    return files


def _add_render(files: dict[str, bytes], stem: str, render: "Render", redactor: Redactor) -> None:
    if render.error is not None:
        files[f"{stem}.error.txt"] = (redactor.text(f"{render.command}\n\n{render.error}") + "\n").encode()
    else:
        files[f"{stem}.yaml"] = _manifest_text(render, redactor).encode()


def _sha256sums(files: dict[str, bytes]) -> bytes:
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())).encode()


def write_evidence(summary: "GateSummary", path: Path) -> Path:
    """Write the bundle to `path` (a directory gets `chartgate-evidence.tar.gz` inside); return its path."""
    path = Path(path)
    if path.is_dir():
        path = path / _DEFAULT_NAME
    files = _bundle_files(summary)
    files["SHA256SUMS"] = _sha256sums(files)
    mtime = int(datetime.now(timezone.utc).timestamp())
    with atomic_file(path, mode=PRIVATE_FILE_MODE) as raw:
        # gzip's own header carries no name or time, so equal inputs give equal bytes.
        with gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) as gz, \
                tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, data in sorted(files.items()):
                info = tarfile.TarInfo(f"{_BUNDLE_ROOT}/{name}")
                info.size, info.mtime, info.mode = len(data), mtime, 0o644
                tar.addfile(info, io.BytesIO(data))
    return path
