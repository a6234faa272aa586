"""Find DNS names in rendered objects and values, including inside strings that embed a document.

ConfigMap data and annotations often carry a whole JSON, YAML, TOML or INI document in one string;
a domain hidden in there is as hardcoded as one in a plain field. Each string is parsed as such a
document when it is one (so the finding can name the inner key), and scanned as text otherwise.

This module only *finds* names and says where they are. Deciding which names are acceptable (the
sentinel FQDN, cluster-local names, API groups, ...) is the policy's business; the small DNS facts it
needs (`is_cluster_local`, `is_within`) live here so every policy uses the same definitions.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from dataclasses import dataclass
from typing import Any, Iterator

from .errors import InvalidYaml
from .yamlio import load_text

Trail = tuple[str | int, ...]

# A DNS name as it appears in configuration: lowercase labels joined by dots, ending in a label that
# starts with a letter (so versions `1.21.1`, IP addresses and durations `1.5s` are not names).
# Upper-case tokens (`Knative.Serving`, Java class names) are prose or code, not hostnames.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_TLD = r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
_NAME = re.compile(
    rf"(?<![\w.-])"  # not the middle of a longer token (an e-mail domain after `@` counts)
    rf"(?:\*\.)?"  # a wildcard `*.example.com` names example.com
    rf"((?:{_LABEL}\.)+{_TLD})"
    rf"\.?"  # an absolute name's trailing dot
    rf"(?![\w@-]|\.\w)"  # not followed by more of the token, nor an e-mail's `@` (the local part)
)

# File names look like names (`config.yaml`); these extensions are never top-level domains in practice.
FILE_EXTENSIONS = frozenset({
    "cfg", "conf", "crt", "csr", "css", "csv", "env", "gz", "htm", "html", "ini", "jar", "js", "json",
    "key", "lock", "log", "md", "pem", "pid", "properties", "py", "sh", "so", "sock", "sql", "tar", "tgz",
    "tmpl", "toml", "tpl", "ts", "txt", "xml", "yaml", "yml",
})

CLUSTER_LOCAL_SUFFIXES = (".svc", ".cluster.local")

#: How deep documents embedded in documents are followed (a JSON string inside YAML inside a ConfigMap).
MAX_EMBEDDING_DEPTH = 4


@dataclass(frozen=True)
class Occurrence:
    """One DNS name found in a document."""

    name: str  # lower-case, without a leading `*.` or a trailing dot
    trail: Trail  # keys/indexes of the field holding it, in the outer document
    inner: tuple[tuple[str, Trail], ...] = ()  # (format, trail) for each embedded document entered
    in_key: bool = False  # the name is (in) a mapping key, not a value
    text: str = ""  # the key or string it was found in

    @property
    def path(self) -> str:
        return jsonpath(self.trail)

    @property
    def inner_path(self) -> str:
        """Where inside the embedded document(s), e.g. `json $.ingressDomain`; empty when not embedded."""
        return " -> ".join(f"{fmt} {jsonpath(trail)}" for fmt, trail in self.inner)

    @property
    def key(self) -> str | int | None:
        """The mapping key (or list index) that holds the name, in the innermost document."""
        trail = self.inner[-1][1] if self.inner else self.trail
        return trail[-1] if trail else None

    def keys(self) -> tuple[str, ...]:
        """Every mapping key on the way to the name, outer document first (list indexes dropped)."""
        trails = (self.trail,) + tuple(t for _, t in self.inner)
        return tuple(part for trail in trails for part in trail if isinstance(part, str))


def jsonpath(trail: Trail) -> str:
    """`$.spec.ports[0].port`; keys that are not identifiers are bracketed: `$.data['config.yaml']`."""
    out = "$"
    for part in trail:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f".{part}"
        else:
            out += "[" + json.dumps(part).replace('"', "'") + "]"
    return out


def names_in_text(text: str) -> list[str]:
    """DNS-name-shaped tokens in free text (URLs, host:port, e-mail domains, bare names)."""
    found = []
    for match in _NAME.finditer(text):
        name = match.group(1)
        if name.rpartition(".")[2] not in FILE_EXTENSIONS:
            found.append(name)
    return found


def parse_embedded(text: str) -> tuple[str, Any] | None:
    """(format, data) when `text` is a JSON, YAML, TOML or INI document holding a mapping or list."""
    stripped = text.strip()
    if not stripped:
        return None
    if stripped[0] in "{[":
        try:
            data = json.loads(stripped)
        except ValueError:
            pass
        else:
            if isinstance(data, (dict, list)):
                return "json", data
    if "\n" not in stripped:
        return None  # one-line strings are scanned as text: they rarely hold a document
    try:
        data = load_text(stripped, "embedded document")
    except InvalidYaml:
        pass
    else:
        if isinstance(data, (dict, list)) and data:
            return "yaml", data
    try:
        data = tomllib.loads(stripped)
    except (tomllib.TOMLDecodeError, ValueError):
        pass
    else:
        if data:
            return "toml", data
    return _parse_ini(stripped)


def _parse_ini(text: str) -> tuple[str, Any] | None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    if not text.lstrip().startswith("["):
        text = "[" + configparser.DEFAULTSECT + "]\n" + text  # key=value lines without a section
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    data = {section: dict(parser.items(section, raw=True)) for section in parser.sections()}
    defaults = dict(parser.defaults())
    if defaults:
        data[configparser.DEFAULTSECT] = defaults
    return ("ini", data) if any(data.values()) else None


def find_names(data: Any, trail: Trail = ()) -> Iterator[Occurrence]:
    """Every DNS name in `data` (keys and values), following embedded documents."""
    yield from _walk(data, trail, (), 0)


def _walk(data: Any, trail: Trail, inner: tuple, depth: int) -> Iterator[Occurrence]:
    here = inner[-1][1] if inner else trail

    def at(part):  # extend the trail of the innermost document
        if inner:
            return trail, inner[:-1] + ((inner[-1][0], here + (part,)),)
        return trail + (part,), inner

    if isinstance(data, dict):
        for key, value in data.items():
            key_trail, key_inner = at(str(key))
            for name in names_in_text(str(key)):
                yield Occurrence(name, key_trail, key_inner, in_key=True, text=str(key))
            yield from _walk(value, key_trail, key_inner, depth)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _walk(item, *at(index), depth)
    elif isinstance(data, str):
        embedded = parse_embedded(data) if depth < MAX_EMBEDDING_DEPTH else None
        if embedded is not None:
            fmt, document = embedded
            yield from _walk(document, trail, inner + ((fmt, ()),), depth + 1)
        else:
            for name in names_in_text(data):
                yield Occurrence(name, trail, inner, text=data)


def is_within(name: str, domain: str) -> bool:
    """`name` is `domain` or a name under it (`a.b.example.com` is within `example.com`)."""
    name, domain = name.lower().rstrip("."), domain.lower().rstrip(".").removeprefix("*.")
    return bool(domain) and (name == domain or name.endswith("." + domain))


def is_cluster_local(name: str) -> bool:
    """Resolvable only inside the cluster: `*.svc`, `*.cluster.local` (and `cluster.local` itself)."""
    name = name.lower().rstrip(".")
    return name == "cluster.local" or name.endswith(CLUSTER_LOCAL_SUFFIXES)
