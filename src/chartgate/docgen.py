"""Generate the parts of a Markdown guide that must not drift from the code:

    python -m chartgate.docgen docs/writing-policies.md           # check: print the drift, exit 1
    python -m chartgate.docgen docs/writing-policies.md --write   # rewrite the generated parts

Three kinds of markers, each closed by its end marker:

    <!-- include: ../examples/external-repo/policies/web.py python -->  ...  <!-- end include -->
        the file (relative to the Markdown file) as a fenced code block, so the guide shows the code
        a test runs;
    <!-- api: chartgate chartgate.testing chartgate.lib? -->  ...  <!-- end api -->
        an API reference of each module's `__all__`, from docstrings, signatures and the comments on
        dataclass fields and enum members. A module name ending in `?` is documented when it exists;
    <!-- options: ... -->  ...  <!-- end options -->
        the table of every setting and command-line option (chartgate.options; the README's).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import enum
import importlib
import importlib.util
import inspect
import re
import sys
from functools import cached_property
from pathlib import Path

INCLUDE = re.compile(r"(<!-- include: (\S+)(?: (\w+))? -->\n)(.*?)(<!-- end include -->)", re.S)
API = re.compile(r"(<!-- api: ([^>]+?) -->\n)(.*?)(<!-- end api -->)", re.S)
OPTIONS = re.compile(r"(<!-- options:[^>]*-->\n)(.*?)(<!-- end options -->)", re.S)
_FIELD = re.compile(r"^    (\w+): (.+?)(?:\s+#\s*(.*))?$")
_MEMBER = re.compile(r"^    ([A-Z_][A-Z0-9_]*) = (.+?)(?:\s+#\s*(.*))?$")
_COMMENT = re.compile(r"^    #\s?(.*)$")


def fenced(text: str, lang: str = "") -> str:
    fence = "````" if "```" in text else "```"
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}\n"


def render_includes(text: str, base: Path) -> str:
    def include(match: re.Match) -> str:
        path = base / match.group(2)
        if not path.is_file():
            raise SystemExit(f"{match.group(0).splitlines()[0]}: {path} does not exist")
        return match.group(1) + fenced(path.read_text(encoding="utf-8"), match.group(3) or "") + match.group(5)
    return INCLUDE.sub(include, text)


class _Shown:
    """Shows as the given text in a signature (annotations are strings under `from __future__ import
    annotations`; an enum default reads better as `Severity.ERROR`)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _shown(value):
    if isinstance(value, enum.Enum):
        return _Shown(f"{type(value).__name__}.{value.name}")
    if isinstance(value, str):
        return _Shown(value[1:-1] if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"" else value)
    return value


def _signature(obj) -> str:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"
    empty = inspect.Parameter.empty
    params = [p.replace(annotation=_shown(p.annotation) if p.annotation is not empty else empty,
                        default=_Shown(repr(p.default)) if type(p.default) is str else _shown(p.default)
                        if p.default is not empty else empty)
              for p in sig.parameters.values()]
    returns = sig.return_annotation
    if inspect.isclass(obj) or returns is None:
        returns = empty  # a constructor's `-> None` says nothing
    sig = sig.replace(parameters=params, return_annotation=_shown(returns) if returns is not empty else empty)
    # A sentinel default (`object()`) prints its address, which changes every run: name it instead.
    return re.sub(r"<object object at 0x[0-9a-f]+>", "<required>", str(sig))


def _doc(obj) -> str:
    return inspect.cleandoc(obj.__doc__) if obj.__doc__ else ""


def _own_doc(cls) -> str:
    """A class's own docstring (not a dataclass's generated one, nor a base class's)."""
    doc = cls.__dict__.get("__doc__") or ""
    return "" if doc.startswith(f"{cls.__name__}(") else inspect.cleandoc(doc)


def _source_notes(cls, pattern: re.Pattern) -> dict[str, tuple[str, str]]:
    """name -> (what follows the `=` or `:`, the comment on the line or on the lines just above)."""
    try:
        lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):
        return {}
    notes, comments = {}, []
    for line in lines[1:]:
        comment, found = _COMMENT.match(line), pattern.match(line)
        if comment:
            comments.append(comment.group(1))
        elif found:
            notes[found.group(1)] = (found.group(2), found.group(3) or " ".join(comments))
            comments = []
        else:
            comments = []
    return notes


def _members(cls) -> list[str]:
    lines = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (property, cached_property)):
            target, shown = value.fget if isinstance(value, property) else value.func, f"`.{name}`"
        elif isinstance(value, (classmethod, staticmethod)):
            target, shown = value.__func__, f"`{cls.__name__}.{name}{_signature(getattr(cls, name))}`"
        elif inspect.isfunction(value):
            target, shown = value, f"`.{name}{_signature(value)}`".replace("(self, ", "(").replace("(self)", "()")
        else:
            continue
        summary = " ".join(_doc(target).split())
        lines.append(f"- {shown}" + (f": {summary}" if summary else ""))
    return lines


def document(name: str, obj) -> str:
    parts = []
    if inspect.isclass(obj):
        kind = "exception" if issubclass(obj, BaseException) else "enum" if issubclass(obj, enum.Enum) else "class"
        shown = f"{name}{_signature(obj)}" if dataclasses.is_dataclass(obj) else name
        parts.append(f"#### {kind} `{shown}`\n")
        if _own_doc(obj):
            parts.append(_own_doc(obj) + "\n")
        if issubclass(obj, enum.Enum):
            notes = _source_notes(obj, _MEMBER)
            parts.append("\n".join(f"- `{name}.{m.name}` = `{m.value!r}`"
                                   + (f": {notes[m.name][1]}" if notes.get(m.name, ("", ""))[1] else "")
                                   for m in obj) + "\n")
        elif dataclasses.is_dataclass(obj):
            notes = _source_notes(obj, _FIELD)
            fields = [f for f in dataclasses.fields(obj) if not f.name.startswith("_")]
            parts.append("Fields:\n\n" + "\n".join(
                f"- `{f.name}: {notes.get(f.name, (str(f.type), ''))[0].split(' = ')[0]}`"
                + (f": {notes[f.name][1]}" if notes.get(f.name, ("", ""))[1] else "") for f in fields) + "\n")
        members = [] if issubclass(obj, (BaseException, enum.Enum)) else _members(obj)
        if members:
            parts.append("Members:\n\n" + "\n".join(members) + "\n")
    elif callable(obj):
        parts.append(f"#### function `{name}{_signature(obj)}`\n")
        if _doc(obj):
            parts.append(_doc(obj) + "\n")
    return "\n".join(parts)


def _is_submodule(package: str, member: str) -> bool:
    return importlib.util.find_spec(f"{package}.{member}") is not None


def api_reference(modules: list[str]) -> str:
    sections = []
    for spec in modules:
        name = spec.rstrip("?")
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if spec.endswith("?") and exc.name == name:
                continue  # optional, and not there (yet)
            raise
        public = [n for n in getattr(module, "__all__", ()) if not n.startswith("_")]
        if hasattr(module, "__path__") and public and all(_is_submodule(name, n) for n in public):
            # a package of helper modules (chartgate.lib): one section per module, in its order
            sections.append(f"### `{name}`\n\n{_doc(module).split(chr(10) * 2)[0]}\n")
            sections.append(api_reference([f"{name}.{n}" for n in public]))
            continue
        intro = _doc(module).split("\n\n")[0]
        body = [f"### `{name}`\n", intro + "\n" if intro else ""]
        for member in sorted(public, key=str.lower):
            value = getattr(module, member)
            text = document(member, value)
            if text:
                body.append(text)
        sections.append("\n".join(part for part in body if part))
    return "\n".join(sections)


def render_api(text: str) -> str:
    return API.sub(lambda m: m.group(1) + "\n" + api_reference(m.group(2).split()) + "\n" + m.group(4), text)


def render_options(text: str) -> str:
    """The table of every setting and option (chartgate.options), where a document asks for it."""
    from chartgate.options import markdown_table
    return OPTIONS.sub(lambda m: m.group(1) + markdown_table() + "\n" + m.group(3), text)


def generate(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return render_options(render_api(render_includes(text, path.parent)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check or rewrite the generated parts of a Markdown guide.")
    parser.add_argument("markdown", type=Path, nargs="+")
    parser.add_argument("--write", action="store_true", help="rewrite the generated parts instead of checking")
    args = parser.parse_args(argv)
    drifted = 0
    for path in args.markdown:
        text, wanted = path.read_text(encoding="utf-8"), generate(path)
        if text == wanted:
            continue
        if args.write:
            path.write_text(wanted, encoding="utf-8")
            print(f"rewrote {path}")
            continue
        drifted += 1
        sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), wanted.splitlines(True),
                                                   str(path), f"{path} (generated)"))
    if drifted and not args.write:
        print(f"generated parts drifted: run `python -m chartgate.docgen "
              f"{' '.join(str(p) for p in args.markdown)} --write`", file=sys.stderr)
    return 1 if drifted else 0


if __name__ == "__main__":
    raise SystemExit(main())
