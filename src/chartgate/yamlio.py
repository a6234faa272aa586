"""Safe YAML loading with file/line errors and a cap on alias expansion, plus deterministic dumping."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from .errors import InvalidYaml

try:  # the C loader is ~10x faster on large renders
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseLoader = yaml.SafeLoader

#: An alias bomb ("billion laughs") is cheap to parse but explodes when walked; real values files
#: use a handful of anchors. Documents with more alias references than this are rejected.
MAX_ALIASES = 1000


class _CountingLoader(yaml.SafeLoader):
    """Pure-Python safe loader that counts alias nodes (the C loader cannot be instrumented)."""

    def compose_node(self, parent, index):  # noqa: D401 - pyyaml hook
        if self.check_event(yaml.AliasEvent):
            self._aliases = getattr(self, "_aliases", 0) + 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise yaml.YAMLError(
                    f"more than {MAX_ALIASES} YAML aliases (line {mark.line + 1}): "
                    "refusing to expand what looks like an alias bomb"
                )
        return super().compose_node(parent, index)


def _describe(exc: yaml.YAMLError) -> tuple[int | None, str]:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    return line, str(exc).replace("\n", " ")


def load_text(text: str, source: str, *, multi: bool = False) -> Any:
    """Parse YAML text; `source` names the file in error messages."""
    loader = _CountingLoader if "*" in text else _BaseLoader
    try:
        if multi:
            return list(yaml.load_all(text, Loader=loader))
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        line, detail = _describe(exc)
        where = f"{source}:{line}" if line else source
        raise InvalidYaml(f"{where}: invalid YAML: {detail}") from None


def load_file(path: Path, *, what: str = "YAML file") -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidYaml(f"{path}: cannot read {what}: {exc.strerror}") from None
    return load_text(text, str(path))


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):  # golden/report YAML must never use anchors
        return True


def dump(data: Any) -> str:
    """Deterministic YAML: sorted keys, no aliases, fixed indent, block style."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=True, default_flow_style=False, indent=2,
                     allow_unicode=True, width=100)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write via a temporary file in the same directory and rename it over the target.

    A crash or interrupt leaves either the old file or the new one, never half of either.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
