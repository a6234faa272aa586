"""Find DNS names in rendered objects and values, including inside strings that embed a document.

ConfigMap data and annotations often carry a whole JSON, YAML, TOML or INI document in one string;
a domain hidden in there is as hardcoded as one in a plain field. Each string is parsed as such a
document when it is one (so the finding can name the inner key), and scanned as text otherwise.

This module *finds* DNS-name-shaped tokens and says where they are and how they are written (a URL's
host, `host:port`, a mailbox's domain, a qualified name `<domain>/<name>`, or bare). Deciding which
names are hardcoded domains is the policy's business; the DNS facts every policy must agree on live
here: the Public Suffix List (`has_public_suffix`, from the `publicsuffixlist` package's bundled
snapshot, never fetched at run time), cluster-local names, reverse-DNS identifiers, and which values
keys are a chart's FQDN inputs.
"""

from __future__ import annotations

import configparser
import importlib.metadata
import json
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator

from chartgate.core.errors import InvalidYaml
from chartgate.core.jsonpaths import Trail, jsonpath  # how a finding names a field: `$.data['config.yaml']`
from chartgate.core.values import current_value
from chartgate.core.yamlio import load_text

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

# File names look like names (`config.yaml`, `app.py`). Some of these extensions are real top-level
# domains (.py, .sh, .md, .properties, .zip ...): in configuration they name files, not hosts.
_FILE_EXTENSIONS = frozenset({
    "bak", "bash", "cc", "cfg", "conf", "crt", "csr", "css", "csv", "db", "env", "gz", "htm", "html", "ini",
    "j2", "jar", "java", "jinja", "js", "json", "jsonnet", "key", "lock", "log", "lua", "map", "md", "mk",
    "pem", "pid", "pl", "properties", "proto", "pub", "py", "rb", "rego", "rs", "service", "sh", "so",
    "sock", "sql", "tar", "target", "tf", "tgz", "tmpl", "toml", "tpl", "ts", "txt", "xml", "yaml", "yml",
    "zip",
})

_CLUSTER_LOCAL_SUFFIXES = (".svc", ".cluster.local")
# The API server's in-cluster names (`kubernetes`, `kubernetes.default`, `kubernetes.default.svc` ...).
_CLUSTER_LOCAL_NAMES = frozenset({"cluster.local", "kubernetes.default"})
# First labels of reverse-DNS identifiers (`com.example.app`, `io.k8s.api`, `org.apache.kafka`):
# generic top-level domains that are practically never the first label of a host name (unlike
# `app.`, `dev.` or country codes such as `de.wikipedia.org`).
_REVERSE_DNS_ROOTS = frozenset({"com", "org", "net", "io", "edu", "gov"})
# Characters that end a token around a name in free text (`--flag=a.example.com,b.example.com`).
_TOKEN_BREAK = set(" \t\r\n'\"`,;()<>[]{}|=")
# Whole-line comments in embedded text (shell, nginx, INI, properties): documentation, not configuration.
_COMMENT_LINE = re.compile(r"^\s*(?:#|//|;)")

#: How deep documents embedded in documents are followed (a JSON string inside YAML inside a ConfigMap).
_MAX_EMBEDDING_DEPTH = 4


@dataclass(frozen=True)
class Occurrence:
    """One DNS name found in a document."""

    name: str  # lower-case, without a leading `*.` or a trailing dot
    trail: Trail  # keys/indexes of the field holding it, in the outer document
    inner: tuple[tuple[str, Trail], ...] = ()  # (format, trail) for each embedded document entered
    in_key: bool = False  # the name is (in) a mapping key, not a value
    text: str = ""  # the key or string it was found in
    before: str = ""  # the rest of its token before the name (`https://`, `admin@`, `--flag=` is cut)
    after: str = ""  # the rest of its token after the name (`:8443/x`, `/ingress-nginx`); `=` when the
    # name is the key of a `key=value` assignment (`spring.application.name=shop`)

    @property
    def form(self) -> str:
        """How the name is written: `url` (a URL's host), `mailbox` (an e-mail or `user@host`),
        `host-port`, `qualified` (`<domain>/<name>` without a scheme: a label key, controller name,
        provisioner, image ...), `assignment` (the key of `key=value`) or `bare`."""
        if self.after == "=" and not self.before:
            return "assignment"
        if self.before.endswith("//"):
            return "url"
        if self.before.endswith("@"):
            return "mailbox"
        if re.match(r":\d", self.after):
            return "host-port"
        if self.after.startswith("/"):
            return "qualified"
        return "bare"

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


def _names_in_text(text: str) -> list[str]:
    """DNS-name-shaped tokens in free text (URLs, host:port, e-mail domains, bare names)."""
    return [name for name, _, _ in _matches_in_text(text)]


def _matches_in_text(text: str) -> list[tuple[str, str, str]]:
    """(name, token text before it, token text after it) for each DNS-name-shaped token in `text`.

    File names (`config.yaml`, `app.py`) are left out."""
    found = []
    for match in _NAME.finditer(text):
        name = match.group(1)
        if name.rpartition(".")[2] in _FILE_EXTENSIONS:
            continue
        start, end = match.start(), match.end()
        while start > 0 and text[start - 1] not in _TOKEN_BREAK:
            start -= 1
        while end < len(text) and text[end] not in _TOKEN_BREAK:
            end += 1
        before, after = text[start:match.start()], text[match.end():end]
        if not after and text[end:end + 1] == "=":
            after = "="
        found.append((name.lower(), before, after))
    return found


def _parse_embedded(text: str) -> tuple[str, Any] | None:
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
            for name, before, after in _matches_in_text(str(key)):
                yield Occurrence(name, key_trail, key_inner, in_key=True, text=str(key), before=before, after=after)
            yield from _walk(value, key_trail, key_inner, depth)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _walk(item, *at(index), depth)
    elif isinstance(data, str):
        embedded = _parse_embedded(data) if depth < _MAX_EMBEDDING_DEPTH else None
        if embedded is not None:
            fmt, document = embedded
            yield from _walk(document, trail, inner + ((fmt, ()),), depth + 1)
        else:
            for line in data.splitlines() or [data]:
                if "\n" in data and _COMMENT_LINE.match(line):
                    continue  # a comment line of an embedded script or config file
                for name, before, after in _matches_in_text(line):
                    yield Occurrence(name, trail, inner, text=data, before=before, after=after)


def is_within(name: str, domain: str) -> bool:
    """`name` is `domain` or a name under it (`a.b.example.com` is within `example.com`)."""
    name, domain = name.lower().rstrip("."), domain.lower().rstrip(".").removeprefix("*.")
    return bool(domain) and (name == domain or name.endswith("." + domain))


def is_cluster_local(name: str) -> bool:
    """Resolvable only inside the cluster: `*.svc`, `*.cluster.local` (and `cluster.local` itself),
    `kubernetes.default`."""
    name = name.lower().rstrip(".")
    return name in _CLUSTER_LOCAL_NAMES or name.endswith(_CLUSTER_LOCAL_SUFFIXES)


# --- the Public Suffix List ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _suffix_list():
    """The ICANN section of the Public Suffix List bundled with `publicsuffixlist` (read from the
    installed package, never fetched). Unknown top-level labels are *not* public suffixes."""
    from publicsuffixlist import PublicSuffixList
    return PublicSuffixList(accept_unknown=False, only_icann=True)


@lru_cache(maxsize=4096)
def _public_suffix(name: str) -> str | None:
    """The public suffix `name` is registered under (`co.uk` for `www.example.co.uk`), or None when
    its last label is no public suffix (`.local`, `.internal`, `.invalid`, `.svc`, `.cpu` ...) or
    `name` is a public suffix itself (`co.uk`, `in-addr.arpa`): then it has no registrable part."""
    name = name.lower().rstrip(".")
    if not name or "." not in name:
        return None
    suffix = _suffix_list().publicsuffix(name)
    return suffix if suffix and suffix != name else None


def has_public_suffix(name: str) -> bool:
    """`name` could be a host on the internet: it ends in a real public suffix, under which it has a
    registrable label."""
    return _public_suffix(name) is not None


def is_reverse_dns(name: str) -> bool:
    """A reverse-DNS identifier or one inside a dotted key: `com.example.app`, `io.k8s.api`,
    `logging.level.com.acme.shop` (a Java logger). A generic top-level domain stands as a label
    outside the name's public suffix, and from there on, reversed, the labels form a name under a public
    suffix. `www.example.com.au` is not one (`com.au` is its public suffix)."""
    labels = name.lower().rstrip(".").split(".")
    suffix = _public_suffix(name)
    head = labels[:len(labels) - len(suffix.split("."))] if suffix else labels
    for index, label in enumerate(head):
        if label in _REVERSE_DNS_ROOTS and len(labels) - index >= 2:
            return has_public_suffix(".".join(reversed(labels[index:])))
    return False


def _suffix_list_provenance() -> dict[str, str]:
    """Which Public Suffix List decided what a real domain is, for the report's provenance:
    `{"package": "publicsuffixlist", "version": "1.1.2.20261023", "list_version": "2026-10-22_..."}`."""
    from publicsuffixlist import PSLFILE
    listed = ""
    try:
        with open(PSLFILE, encoding="utf-8") as source:
            for line in source:
                if line.startswith("// VERSION:"):
                    listed = line.split(":", 1)[1].strip()
                    break
                if line.startswith("// ===BEGIN"):
                    break
    except OSError:
        pass
    return {"package": "publicsuffixlist", "version": importlib.metadata.version("publicsuffixlist"),
            "list_version": listed}


# --- a chart's FQDN inputs --------------------------------------------------------------------------

FQDN_WORDS = frozenset({"fqdn", "domain", "domains"})  # keys that carry the cluster's domain
HOST_WORDS = frozenset({"host", "hosts", "hostname", "hostnames"})  # keys that name a host
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def key_words(key: Any) -> list[str]:
    """`sovereignFqdn` -> ["sovereign", "fqdn"]; `ingress-domain` -> ["ingress", "domain"]."""
    return [w.lower() for w in _WORDS.findall(str(key))]


def names_key(key: Any, words: frozenset[str] | set[str]) -> bool:
    """The key's last word is one of `words` (`baseDomain` names a domain, `domainSuffixEnabled` not)."""
    found = key_words(key)
    return bool(found) and found[-1] in words


def schema_properties(schema: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict]]:
    """Every (values path, property schema) of a blueprint configSchema."""
    if not isinstance(schema, dict):
        return
    for key, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict):
            yield prefix + (str(key),), sub
            yield from schema_properties(sub, prefix + (str(key),))


def config_schema(chart) -> dict:
    """The chart's blueprint.yaml `spec.configSchema` (an empty dict when it has none)."""
    spec = (chart.blueprint or {}).get("spec") or {}
    schema = spec.get("configSchema") if isinstance(spec, dict) else None
    return schema if isinstance(schema, dict) else {}


def _holds_names(value: Any) -> bool:
    """A value a domain can replace: unset, a string, or a list of strings (possibly empty)."""
    if value is None or isinstance(value, str):
        return True
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def fqdn_inputs(chart) -> list[tuple[str, ...]]:
    """Values paths whose key says it is the cluster's FQDN or domain (values.yaml or configSchema) and
    that hold a name: unset, a string or a list of strings. A key such as `tls.domains` holding a list
    of objects (`[{main, sans}]`) or a mapping is a structure, not an FQDN input; so is an empty or
    unset list whose items a template reads fields off (`{{ range $d := ... }}{{ $d.main }}`)."""
    found = set()
    for path, value in _leaves_and_lists(chart.effective_values):
        if path and names_key(path[-1], FQDN_WORDS) and _holds_names(value) and not (
                not value and list_items_read(chart, path) == "fields"):
            found.add(path)
    for path, prop in schema_properties(config_schema(chart)):
        if not names_key(path[-1], FQDN_WORDS) or prop.get("type", "string") not in ("string", "array"):
            continue
        items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        if prop.get("type") == "array" and items.get("type", "string") != "string":
            continue
        reachable, value = current_value(chart.effective_values, path)
        if reachable and _holds_names(value) and not (not value and list_items_read(chart, path) == "fields"):
            found.add(path)
    return sorted(found)


def _leaves_and_lists(data: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, dict):
                yield from _leaves_and_lists(value, prefix + (str(key),))
            else:
                yield prefix + (str(key),), value


# --- how templates read a list ----------------------------------------------------------------------
#
# A generated value must have the shape the templates read, not only the type of the default: `[]`
# says nothing about its items, but `{{ range $d := .Values.tls.domains }}{{ $d.main }}` reads fields
# off them, so a list of strings there breaks the render. The scan is static and conservative: a
# `range` counts when its expression ends in the list's key chain, whatever it starts from (`.Values`,
# a variable bound to a parent such as `range $name, $port := .Values.ports`, or `.` inside `with`).

_ACTION = re.compile(r"{{-?\s*(.*?)\s*-?}}", re.DOTALL)
_RANGE = re.compile(r"range\s+(?:(\$\w*)\s*(?:,\s*(\$\w*))?\s*:=\s*)?\(?\s*(\$?\w*(?:\.[\w-]+)+)")
_OPENS = re.compile(r"(?:if|range|with|define|block)\b")
_DOT_FIELD = re.compile(r"(?<![\w$)\]\"'])\.[A-Za-z_]\w*")


def _range_reads(text: str) -> Iterator[tuple[tuple[str, ...], bool, bool]]:
    """(key chain, from `.Values`, whether the body reads fields off an item) per `range` in `text`."""
    actions = [a for a in _ACTION.findall(text) if not a.startswith("/*")]
    for index, action in enumerate(actions):
        match = _RANGE.match(action)
        if not match:
            continue
        key, item, expression = match.groups()
        item = item or key  # `range $i, $d := ...` binds the item to $d; `range $d := ...` too
        head, *chain = expression.split(".")
        from_values = chain[:1] == ["Values"] and head in ("", "$")
        chain = chain[1:] if from_values else chain
        body, blocks = [], []  # the body's actions where `.` is the item; the open blocks inside
        for inner in actions[index + 1:]:
            if inner == "end" or inner.startswith("end "):
                if not blocks:
                    break
                blocks.pop()
                continue
            if item or not any(b in ("range", "with", "define", "block") for b in blocks):
                body.append(inner)  # a nested range/with rebinds `.` inside its body, not in its head
            if _OPENS.match(inner):
                blocks.append(inner.split(None, 1)[0])
        if item:
            fields = any(re.search(re.escape(item) + r"\.[A-Za-z_]|\b(?:index|get)\s+" + re.escape(item) + r"\s+\"",
                                   line) for line in body)
        else:
            fields = any(_DOT_FIELD.search(line.split(None, 1)[1] if _OPENS.match(line) else line)
                         for line in body if line.strip() not in (".", "else"))
        if chain:
            yield tuple(chain), from_values, fields


def _scoped_templates(chart, scope: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    for text in (getattr(chart, "templates", None) or {}).values():
        yield scope, text
    for key, sub in (getattr(chart, "subcharts", None) or {}).items():
        if sub is not None:
            yield from _scoped_templates(sub, scope + (key,))


def list_items_read(chart, path: tuple[str, ...]) -> str | None:
    """How the templates read the items of the list at `path`: "fields" when some `range` over it
    reads a field off an item, "items" when it is ranged over and its items used whole, None when
    no `range` over it is found. Scanned once per chart."""
    reads = chart.__dict__.get("_range_reads")
    if reads is None:
        reads = chart.__dict__["_range_reads"] = [(scope,) + read for scope, text in _scoped_templates(chart)
                                                  for read in _range_reads(text)]
    found = None
    for scope, chain, from_values, fields in reads:
        relative = path[len(scope):] if path[:len(scope)] == scope else path if path[:1] == ("global",) else None
        if relative is None or not (chain == relative if from_values else relative[-len(chain):] == chain):
            continue
        if fields:
            return "fields"
        found = "items"
    return found
