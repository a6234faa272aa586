"""`.helmignore` as Helm applies it, so that a chart's files (and its digest) are what Helm loads.

Helm reads `.helmignore` from the chart's root only (a subchart's own `.helmignore` is not read when
its parent is rendered) and applies it to every path of the tree, `charts/` included, then adds its
one default rule, `templates/.?*`. A rule is Go's `filepath.Match` pattern (`*` and `?` never match
`/`, `[^...]` negates a class, `\\` escapes), matched against:
- the path from the chart root, when the rule starts with `/` (the `/` removed) or contains a `/`;
- the file or directory name alone, otherwise.
A trailing `/` limits a rule to directories; an ignored directory is not entered. `**` is refused
and so is a malformed pattern (Helm fails to load the chart on either). A `!rule` is applied the way
Helm applies it, which is not the way git does: a path the negated rule does NOT match is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from chartgate.core.errors import InvalidChart

HELMIGNORE = ".helmignore"
_DEFAULT_RULES = ("templates/.?*",)


def _go_glob(pattern: str) -> re.Pattern:
    """Go's filepath.Match pattern as a regular expression (ValueError when Go would refuse it)."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\":
            if i + 1 == len(pattern):
                raise ValueError("a trailing backslash escapes nothing")
            i += 1
            out.append(re.escape(pattern[i]))
        elif char == "[":  # [^a-z\]]: a class, `^` negates it, `\\` escapes; never empty
            i += 1
            parts = ["["]
            if pattern[i:i + 1] == "^":
                parts.append("^")
                i += 1
            start = i
            while i < len(pattern) and pattern[i] != "]":
                if pattern[i] == "\\":
                    i += 1
                    if i == len(pattern):
                        break
                parts.append("-" if pattern[i] == "-" and pattern[i - 1] != "\\" else re.escape(pattern[i]))
                i += 1
            if i >= len(pattern):
                raise ValueError("an unclosed character class")
            if i == start:
                raise ValueError("an empty character class")
            out.append("".join(parts) + ("/]" if parts[1:2] == ["^"] else "]"))  # never matches a `/`
        else:
            out.append(re.escape(char))
        i += 1
    try:
        return re.compile("".join(out), re.S)
    except re.error as exc:  # e.g. a range whose ends are reversed
        raise ValueError(str(exc)) from None


@dataclass(frozen=True)
class _Rule:
    regex: re.Pattern
    negate: bool
    directories_only: bool
    whole_path: bool  # matched against the path from the chart root, else against the name alone

    def matches(self, path: str) -> bool:
        return self.regex.fullmatch(path if self.whole_path else path.rsplit("/", 1)[-1]) is not None


def _rule(text: str) -> _Rule:
    negate = text.startswith("!")
    body = text[1:] if negate else text
    directories_only = body.endswith("/")
    body = body.rstrip("/") if directories_only else body
    whole_path = "/" in body
    return _Rule(_go_glob(body.lstrip("/") if body.startswith("/") else body), negate, directories_only, whole_path)


@dataclass(frozen=True)
class _IgnoreRules:
    rules: tuple[_Rule, ...]

    def ignores(self, path: str, is_dir: bool) -> bool:
        """Does Helm leave `path` (relative, `/`-separated) out of the chart?"""
        for rule in self.rules:
            if rule.negate:
                if rule.directories_only and not is_dir:
                    return True
                if not rule.matches(path):
                    return True
                continue
            if rule.directories_only and not is_dir:
                continue
            if rule.matches(path):
                return True
        return False


def parse_helmignore(text: str, origin: str) -> _IgnoreRules:
    """The rules of a `.helmignore` file (its text), Helm's default rule last. `origin` names the file
    in errors."""
    rules = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "**" in line:
            raise InvalidChart(f"{origin}:{number}: `{line}`: Helm does not support `**` in .helmignore and "
                               "refuses to load the chart. Use `*` per directory level, or a rule without a `/` "
                               "(it matches the name at any depth).")
        try:
            _go_glob(line)
            rules.append(_rule(line))
        except ValueError as exc:
            raise InvalidChart(f"{origin}:{number}: `{line}` is not a valid pattern ({exc}); Helm refuses to "
                               "load the chart with it. Fix or remove the line.") from None
    return _IgnoreRules(tuple(rules) + tuple(_rule(r) for r in _DEFAULT_RULES))


def no_rules() -> _IgnoreRules:
    return _IgnoreRules(tuple(_rule(r) for r in _DEFAULT_RULES))


_IgnoreTest = Callable[[str, bool], bool]
