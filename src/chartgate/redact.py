"""Keep secret values out of every report, log and evidence bundle.

A secret is replaced by a fixed marker plus a short hash of the value, `<redacted sha256:1a2b3c4d>`:
the value is gone, yet two reports (or two findings) that show the same marker are provably about
the same value, and a value that changes between runs shows a different marker.

Three layers, because no single one is enough:
- structure: a `Secret`'s `data`/`stringData` values, values under secret-looking keys
  (`password`, `token`, `apiKey`, ...) and `env` entries whose name looks secret;
- text patterns: PEM private-key blocks, `scheme://user:password@host` credentials, `key: value`
  lines and `--set key=value` arguments whose key looks secret;
- literals: every secret value learned from the charts' values, the scenarios' values files and
  `--set` inputs, and the rendered Secrets, is scrubbed wherever it appears in free text (a policy
  message that quotes it, a Helm error that echoes it, a base64 copy in an excerpt).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import weakref
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable

from .yamlio import load_text

if TYPE_CHECKING:
    from .gate import Gate

MARKER_PREFIX = "<redacted sha256:"

#: Fragments of a (normalised: lower case, no `-`/`_`) key name that mark its value as secret.
_SECRET_WORDS = ("password", "passwd", "passphrase", "secret", "token", "apikey", "privatekey",
                 "accesskey", "credential", "connectionstring", "clientsecret")
#: Keys that contain a secret word but hold a reference or a switch, not the secret itself
#: (`secretName`, `existingSecret`, `tokenFile`, `secretKeyRef`, `secret.enabled` ...).
_REFERENCE_SUFFIXES = ("name", "names", "ref", "refs", "file", "path", "enabled", "mode", "class", "type",
                       "mountpath", "ttl", "expiry", "expiration", "length", "namespace", "annotations",
                       "labels", "selector")
_REFERENCE_PREFIXES = ("existing", "use", "create", "enable", "automount")

#: Literals shorter than this, or these words, are never scrubbed from free text: replacing every
#: "true" or "admin" in a report would destroy it, and structure/patterns still catch them in place.
MIN_LITERAL_LENGTH = 6
#: Report fields that hold YAML text (a finding's excerpt), redacted as structure when they parse.
YAML_TEXT_KEYS = frozenset({"excerpt"})
_NOT_SECRET_WORDS = frozenset({"true", "false", "null", "none", "changeme", "required", "optional"})

_PEM_PRIVATE_KEY = re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|\Z)",
                              re.DOTALL)
# scheme://user:password@host -> keep the user and host, hide the password.
_URL_CREDENTIALS = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"<>]*:)(?P<secret>[^\s@/'\"<>]+)(?=@)")
# `password: hunter2` or `"apiKey": "abc"` on a line of YAML/JSON-ish text.
_KEY_VALUE_LINE = re.compile(r"""(?m)^(?P<head>[ \t]*(?:-[ \t]+)?["']?(?P<key>[\w.\-]+)["']?[ \t]*:[ \t]+)"""
                             r"""(?P<secret>[^\s#{\[|>&*!][^\n]*?)(?P<tail>[ \t]*,?[ \t]*)$""")
# `--set db.password=hunter2`, `--set-json 'a.token="x"'`
_SET_ARGUMENT = re.compile(r"""(?P<head>--set(?:-json|-string|-literal)?[ =]['"]?(?P<key>[\w.\-\[\]]+)=)"""
                           r"""(?P<secret>[^\s'"]+|"[^"]*"|'[^']*')""")


def marker(value: Any) -> str:
    """The fixed marker for `value`: `<redacted sha256:` + first 8 hex digits of its sha256 + `>`."""
    digest = hashlib.sha256(str(value).encode("utf-8", errors="replace")).hexdigest()[:8]
    return f"{MARKER_PREFIX}{digest}>"


def _normalise(key: str) -> str:
    last = str(key).rsplit(".", 1)[-1]  # dotted values paths: judge the leaf
    return re.sub(r"[-_\s\[\]0-9]", "", last).lower()


@lru_cache(maxsize=4096)  # the same few hundred keys recur in every manifest
def is_secret_key(key: Any) -> bool:
    """Does a mapping key (or dotted values path) name a secret value rather than a reference to one?"""
    if not isinstance(key, str):
        return False
    name = _normalise(key)
    if not any(word in name for word in _SECRET_WORDS):
        return False
    return not (name.endswith(_REFERENCE_SUFFIXES) or name.startswith(_REFERENCE_PREFIXES))


def _is_scalar_secret(value: Any) -> bool:
    """Booleans and nulls carry no secret (`token.enabled: true`, `password: null`)."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) and value != ""


def _plain(text: str) -> str:
    return text.strip().strip("'\"")


class Redactor:
    """Redacts structured data and free text; `learn*` teaches it literal values to scrub."""

    def __init__(self, literals: Iterable[str] = ()):
        self._literals: set[str] = set()
        self._pattern: re.Pattern | None = None
        for literal in literals:
            self.learn_literal(literal)

    # -- learning -------------------------------------------------------------------------------
    def learn_literal(self, value: Any) -> None:
        text = str(value).strip()
        if len(text) >= MIN_LITERAL_LENGTH and text.lower() not in _NOT_SECRET_WORDS \
                and not text.startswith(MARKER_PREFIX):
            self._literals.add(text)
            self._pattern = None

    def learn_values(self, values: Any) -> None:
        """Remember the secret values of a values tree (or any structure)."""
        for value in self._secret_scalars(values, inherited=False):
            self.learn_literal(value)

    def learn_manifest(self, body: dict) -> None:
        """Remember a rendered Secret's values, raw and (for `data`) base64-decoded."""
        if not _is_secret_object(body):
            self.learn_values(body)
            return
        for value in (body.get("stringData") or {}).values():
            if _is_scalar_secret(value):
                self.learn_literal(value)
        for value in (body.get("data") or {}).values():
            if not isinstance(value, str):
                continue
            self.learn_literal(value)
            try:
                decoded = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                continue
            self.learn_literal(decoded)
            for line in decoded.splitlines():  # a secret file: each `key: value` line may hold one
                match = _KEY_VALUE_LINE.match(line)
                if match and is_secret_key(match["key"]):
                    self.learn_literal(_plain(match["secret"]))

    def _secret_scalars(self, node: Any, inherited: bool) -> Iterable[Any]:
        if isinstance(node, dict):
            if _is_secret_object(node):
                for part in ("data", "stringData"):
                    yield from ((node.get(part) or {}).values() if isinstance(node.get(part), dict) else ())
            if _is_secret_env(node):
                yield node["value"]
            for key, value in node.items():
                yield from self._secret_scalars(value, is_secret_key(key))
        elif isinstance(node, list):
            for item in node:
                yield from self._secret_scalars(item, inherited)
        elif inherited and _is_scalar_secret(node):
            yield node

    # -- redacting ------------------------------------------------------------------------------
    def text(self, text: str) -> str:
        """Free text: key material, URL credentials, secret `key: value` lines, learned literals."""
        if not text:
            return text
        text = _PEM_PRIVATE_KEY.sub(lambda m: marker(m.group(0)), text)
        text = _URL_CREDENTIALS.sub(lambda m: m["head"] + marker(m["secret"]), text)
        text = _KEY_VALUE_LINE.sub(self._key_value, text)
        text = _SET_ARGUMENT.sub(self._set_argument, text)
        if self._literals:
            if self._pattern is None:  # longest first, so a value never leaks a longer one's tail
                ordered = sorted(self._literals, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
            text = self._pattern.sub(lambda m: marker(m.group(0)), text)
        return text

    @staticmethod
    def _key_value(match: re.Match) -> str:
        value = _plain(match["secret"])
        if not is_secret_key(match["key"]) or value.startswith(MARKER_PREFIX) \
                or value.lower() in ("true", "false", "null", "~", ""):
            return match.group(0)
        return f"{match['head']}{marker(value)}{match['tail']}"

    @staticmethod
    def _set_argument(match: re.Match) -> str:
        if not is_secret_key(match["key"]):
            return match.group(0)
        return f"{match['head']}{marker(_plain(match['secret']))}"

    def data(self, node: Any, *, secret: bool = False) -> Any:
        """A redacted copy of a JSON/YAML-like structure; every string also goes through `text`."""
        if isinstance(node, dict):
            out = {}
            secret_object = _is_secret_object(node)
            secret_env = _is_secret_env(node)
            for key, value in node.items():
                if secret_object and key in ("data", "stringData") and isinstance(value, dict):
                    out[key] = {k: marker(v) if v not in (None, "") else v for k, v in value.items()}
                elif secret_env and key == "value":
                    out[key] = marker(value)
                elif key in YAML_TEXT_KEYS and isinstance(value, str):
                    out[key] = self.yaml_text(value)
                else:
                    out[key] = self.data(value, secret=is_secret_key(key))
            return out
        if isinstance(node, list):
            return [self.data(item, secret=secret) for item in node]
        if secret and _is_scalar_secret(node) and not str(node).startswith(MARKER_PREFIX):
            return marker(node)
        if isinstance(node, str):
            return self.text(node)
        return node

    def yaml_text(self, text: str) -> str:
        """A YAML excerpt: redact it as structure when it parses (a Secret's data keys look harmless
        as text), then as text. Truncation comments (`# ... 3 more lines`) are kept."""
        if not text:
            return text
        try:
            parsed = load_text(text, "excerpt")
        except Exception:  # not YAML (or truncated mid-structure): text patterns and literals only
            return self.text(text)
        if isinstance(parsed, (dict, list)) and self.data(parsed) != parsed:
            import yaml
            trailer = [line for line in text.splitlines() if line.startswith("# ... ")]
            dumped = yaml.safe_dump(self.data(parsed), sort_keys=False, default_flow_style=False, width=100)
            text = "\n".join(dumped.splitlines() + trailer)
        return self.text(text)


def _is_secret_object(body: dict) -> bool:
    return body.get("kind") == "Secret" and "apiVersion" in body


def _is_secret_env(node: dict) -> bool:
    """An env entry `{name: DB_PASSWORD, value: ...}`: the secret-looking key is the `name`."""
    return (isinstance(node.get("name"), str) and "value" in node and _is_scalar_secret(node["value"])
            and is_secret_key(node["name"]))


# -- the gate's redactor -----------------------------------------------------------------------------
_GATE_REDACTORS: "weakref.WeakKeyDictionary[Gate, tuple[int, Redactor]]" = weakref.WeakKeyDictionary()


def redactor_for(gate: "Gate") -> Redactor:
    """A redactor that knows every secret value this gate has seen so far: the charts' values, the
    scenarios' values files and `--set` inputs, and the Secrets of every render. Rebuilt when more
    renders have happened since it was last built."""
    renders = gate.renderer.renders() if "renderer" in gate.__dict__ else []
    cached = _GATE_REDACTORS.get(gate)
    if cached is not None and cached[0] == len(renders):
        return cached[1]
    redactor = Redactor()
    for name, chart in gate.charts.items():
        redactor.learn_values(chart.values)
        redactor.learn_values(chart.effective_values)
        for scenario in gate.plans.get(name, []):
            for path in scenario.values_files:
                redactor.learn_values(_load_quietly(path))
            redactor.learn_values({key: value for key, value in scenario.set_values})
    for render in renders:
        for manifest in render.manifests:
            if manifest.kind == "Secret" or manifest.kind == "ConfigMap":
                redactor.learn_manifest(manifest.body)
    _GATE_REDACTORS[gate] = (len(renders), redactor)
    return redactor


def _load_quietly(path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return load_text(fh.read(), str(path))
    except Exception:  # an unreadable values file is reported by the render; nothing to learn here
        return None
