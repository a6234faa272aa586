"""Safe YAML loading with file/line errors and a cap on alias expansion, plus deterministic dumping
and atomic, permission-aware file writes.

Every way a YAML file can be unusable ends as one `InvalidYaml` naming the file and line: a syntax
error, bytes that are not UTF-8, a value that looks typed but cannot be built (`2024-02-30`, an
impossible date; `!!int x`), or an alias bomb. Nothing a chart author writes reaches the user as a
traceback.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
import tempfile
from pathlib import Path
from typing import Any

import yaml

from chartgate.core.errors import InvalidYaml


class _CheckedConstruction:
    """Turn a scalar that cannot be built into a YAML error at its line, not a bare ValueError.

    PyYAML builds `2024-02-30` (an impossible date), `!!int x` or `!!float x` by calling Python
    constructors that raise ValueError/OverflowError without any position.
    """

    def construct_object(self, node, deep=False):  # noqa: D401 - pyyaml hook
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, OverflowError) as exc:
            value = node.value if isinstance(node, yaml.ScalarNode) else node.tag
            if node.tag == "tag:yaml.org,2002:timestamp":
                problem = (f"{value!r} reads as a date but is not a valid one ({exc}); write a real date, "
                           f"or quote it if it is meant as a string")
            else:
                problem = f"{value!r} cannot be read as {node.tag.rsplit(':', 1)[-1]} ({exc})"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None


try:  # the C loader is ~10x faster on large renders
    _BaseLoader = yaml.CSafeLoader

    class _CheckedLoader(_CheckedConstruction, yaml.CSafeLoader):
        pass
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseLoader = yaml.SafeLoader

    class _CheckedLoader(_CheckedConstruction, yaml.SafeLoader):
        pass

#: What PyYAML raises, without a position, for a typed scalar it cannot build (`2024-02-30`).
_UNBUILDABLE = (ValueError, TypeError, OverflowError)


def load_checked(text: str, loader, *, multi: bool = False) -> Any:
    """yaml.load(_all) with the fast loader; only when a value cannot be built, load again with the
    checking constructor, which raises a YAML error at the value's line (the fast path stays fast)."""
    try:
        return list(yaml.load_all(text, Loader=loader)) if multi else yaml.load(text, Loader=loader)
    except _UNBUILDABLE:
        checked = loader if issubclass(loader, _CheckedConstruction) else _CheckedLoader
        return list(yaml.load_all(text, Loader=checked)) if multi else yaml.load(text, Loader=checked)

#: An alias bomb ("billion laughs") is cheap to parse but explodes when walked (merged, copied,
#: serialised): a few dozen aliases can stand for billions of nodes. Real values files use a handful
#: of anchors, so a document is rejected when its aliases are too many or expand to too many nodes.
_MAX_ALIASES = 1000
_MAX_ALIAS_EXPANSION = 100_000


class _AliasBomb(yaml.MarkedYAMLError):
    pass


class _CountingLoader(_CheckedConstruction, yaml.SafeLoader):
    """Pure-Python safe loader that bounds alias expansion (the C loader cannot be instrumented).

    Each composed node's expanded size (the nodes a walk would visit) is recorded; an alias adds
    the size of the node it refers to.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._aliases = 0
        self._expansion = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent, index):  # noqa: D401 - pyyaml hook
        if not self.check_event(yaml.AliasEvent):
            node = super().compose_node(parent, index)
            self._sizes[id(node)] = self._size(node)
            return node
        mark = self.peek_event().start_mark
        node = super().compose_node(parent, index)
        size = self._sizes.get(id(node))
        self._aliases += 1
        self._expansion += size or 0
        if size is None:  # the anchored node is still being composed: it contains itself
            problem = "a recursive YAML alias (a node that contains itself)"
        elif self._aliases > _MAX_ALIASES or self._expansion > _MAX_ALIAS_EXPANSION:
            problem = (f"YAML aliases expand to more than {_MAX_ALIAS_EXPANSION} nodes "
                       f"({self._aliases} aliases): this looks like an alias bomb (\"billion laughs\")")
        else:
            return node
        raise _AliasBomb(problem=f"{problem}; refusing to load it. Write the repeated values out "
                         "or use fewer anchors", problem_mark=mark)

    def _size(self, node) -> int:
        if isinstance(node, yaml.MappingNode):
            return 1 + sum(self._sizes.get(id(k), 1) + self._sizes.get(id(v), 1) for k, v in node.value)
        if isinstance(node, yaml.SequenceNode):
            return 1 + sum(self._sizes.get(id(v), 1) for v in node.value)
        return 1


def loader_for(text: str):
    """The fast C loader, or the alias-bounding loader when the text can contain aliases at all."""
    return _CountingLoader if "&" in text and "*" in text else _BaseLoader


def _describe(exc: yaml.YAMLError) -> tuple[int | None, str]:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        # pyyaml's own str() repeats "<unicode string>" marks; keep just what went wrong.
        detail = "; ".join(part for part in (exc.context, exc.problem) if part)
        if mark is not None:
            detail += f" (column {mark.column + 1})"
        return line, detail
    return line, str(exc).replace("\n", " ")


def load_text(text: str, source: str, *, multi: bool = False) -> Any:
    """Parse YAML text; `source` names the file in error messages."""
    loader = loader_for(text)
    try:
        return load_checked(text, loader, multi=multi)
    except yaml.YAMLError as exc:
        line, detail = _describe(exc)
        where = f"{source}:{line}" if line else source
        raise InvalidYaml(f"{where}: invalid YAML: {detail}. Fix the file at that line and re-run.") from None
    except RecursionError:
        raise InvalidYaml(f"{source}: invalid YAML: nested too deeply to be read. Flatten the file and "
                          "re-run.") from None


def decode_utf8(data: bytes, source: str) -> str:
    """`data` as text; bytes that are not UTF-8 are an InvalidYaml naming the file, line and column
    (Helm refuses such files too, and a replacement character would silently change a value)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InvalidYaml(f"{source}:{line}: not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} "
                          "cannot be decoded. Save the file as UTF-8 and re-run.") from None


def read_text(path: Path, *, what: str = "YAML file") -> str:
    """A UTF-8 text file; unreadable or undecodable files are an InvalidYaml naming the file (and line)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidYaml(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    return decode_utf8(data, str(path))


def load_file(path: Path, *, what: str = "YAML file") -> Any:
    """Parse one YAML file; a syntax error raises InvalidYaml naming the file and line (`what` says what it is)."""
    return load_text(read_text(path, what=what), str(path))


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):  # golden/report YAML must never use anchors
        return True


def dump(data: Any) -> str:
    """Deterministic YAML: sorted keys, no aliases, fixed indent, block style."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=True, default_flow_style=False, indent=2,
                     allow_unicode=True, width=100)


def _shared_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


#: Files that hold rendered objects or findings (reports, the render cache, the evidence bundle):
#: readable by their owner only, since a chart can render anything, secrets included.
PRIVATE_FILE_MODE = 0o600
#: Files meant to be committed and shared (golden files): an ordinary file, 0666 less the umask.
SHARED_FILE_MODE = _shared_file_mode()


def private_dirs(directory: Path, below: Path) -> None:
    """Create `directory` and every missing parent up to `below` owner-only (0700) - and `below` with
    its own parents first, when missing (a machine without ~/.cache still gets its cache)."""
    directory, below = Path(directory), Path(below)
    below.mkdir(mode=0o700, parents=True, exist_ok=True)
    missing = []
    while directory != below and not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)


@contextmanager
def atomic_file(path: Path, *, mode: int = PRIVATE_FILE_MODE, durable: bool = True):
    """A binary file handle whose content replaces `path` only when the block completes.

    Written to a temporary file in the same directory, fsynced, then renamed over the target: a
    crash or interrupt leaves either the old file or the new one, never half of either. The file
    gets `mode` (owner-only by default; pass SHARED_FILE_MODE for files meant to be committed).
    `durable=False` skips the fsync (cache entries: a process interrupt still leaves the old or the
    new file; only a power loss could leave a torn one, which the cache's shape check rejects).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)  # before the rename: the content is never visible with wider permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_atomic(path: Path, data: str | bytes, *, mode: int = PRIVATE_FILE_MODE, durable: bool = True) -> None:
    """Replace `path` with `data` atomically, with permissions `mode` (see `atomic_file`)."""
    with atomic_file(path, mode=mode, durable=durable) as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
