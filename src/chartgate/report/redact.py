"""Keep secret values out of every report, log and evidence bundle.

A secret is replaced by a fixed marker plus a short keyed hash of the value, `<redacted hmac:1a2b3c4d>`:
the value is gone, yet two findings (or two reports of the same run) that show the same marker are
provably about the same value. The hash is an HMAC-SHA256 under a random key drawn once per run (and
shared with pytest-xdist workers), so a marker cannot be reversed by hashing guesses offline - a bare
sha256 prefix of a short password can - and markers are only comparable within one run.

Three layers, because no single one is enough:
- structure: a `Secret`'s `data`/`stringData` values, values under secret-looking keys
  (`password`, `token`, `apiKey`, `DB_PASS`, `JWT_SIGNING`, `sessionKey`, `*_COOKIE`,
  `Authorization`, ...), a docker-config `auth` (base64 `user:password`), `env` entries whose name
  looks secret, and the argument after a flag that names a secret (`["--db-pass", "x"]`, `-p x`);
- text patterns: PEM private-key blocks, `scheme://user:password@host` credentials, `Authorization:`
  values and `Bearer`/`Basic` credentials, `key: value` lines, `key=value` / `--flag=value` /
  `--flag value` / `--set key=value` arguments, JSON `"key": "value"` and YAML flow `{key: value}`
  pairs whose key or flag looks secret, whatever the length of the value;
- literals: secret values learned from the charts' values, the scenarios' values files and `--set`
  inputs, and the rendered Secrets, scrubbed wherever they stand as a token in free text (a policy
  message that quotes one, a Helm error that echoes it, a base64 copy in an excerpt).

The literal layer never scrubs ordinary words: a literal is scrubbed only as a whole token (never
inside a longer name, path or host name), and only when it is at least _MIN_LITERAL_LENGTH long and not
the name of a chart, release, namespace or rendered resource. Such a value (`password: argocd`) is
still redacted in every secret position above, just not in `argocd-server` or `argocd.example.org`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from functools import lru_cache
from typing import Any, Iterable

from chartgate.core.yamlio import load_text


_MARKER_PREFIX = "<redacted hmac:"
_MARKER = re.compile(r"<redacted [a-z0-9]+:[0-9a-f]{8}>")

#: The run's redaction key, hex. Set by the first chartgate process of a run and inherited by the
#: processes it starts (pytest-xdist workers), so one secret has one marker in a whole run.
_SALT_ENV = "CHARTGATE_REDACTION_SALT"


def _run_salt() -> bytes:
    value = os.environ.get(_SALT_ENV, "")
    if not re.fullmatch(r"[0-9a-f]{32,128}", value):
        value = secrets.token_hex(16)
        os.environ[_SALT_ENV] = value
    return bytes.fromhex(value)


_SALT = _run_salt()

#: Fragments of a (normalised: lower case, no `-`/`_`) key name that mark its value as secret.
_SECRET_WORDS = ("password", "passwd", "passphrase", "secret", "token", "apikey", "privatekey",
                 "accesskey", "credential", "connectionstring", "clientsecret")
#: Environment-variable names (UPPER_SNAKE) that name a secret without a secret word:
#: `DB_PASS`, `SMTP_PWD`, `STRIPE_KEY`, `JWT_SIGNING` ...
_ENV_SECRET = re.compile(r"(?:[A-Z0-9_]*_(?:PASS|PWD|KEY|PASSPHRASE|COOKIE|AUTH)|JWT_[A-Z0-9_]+)")
#: Endings of a (normalised) key that name a secret value: `sessionKey`, `ERLANG_COOKIE`,
#: `proxyAuthorization` - but not `cookieDomain`, `sortKey` or `keyFile`.
_SECRET_ENDINGS = ("cookie", "sessionkey", "signingkey", "encryptionkey", "masterkey", "authorization")
#: Keys that contain a secret word but hold a reference or a switch, not the secret itself
#: (`secretName`, `existingSecret`, `tokenFile`, `secretKeyRef`, `secret.enabled` ...).
_REFERENCE_SUFFIXES = ("name", "names", "ref", "refs", "file", "path", "enabled", "mode", "class", "type",
                       "mountpath", "ttl", "expiry", "expiration", "length", "namespace", "annotations",
                       "labels", "selector")
_REFERENCE_PREFIXES = ("existing", "use", "create", "enable", "automount")

#: Learned literals shorter than this are never scrubbed from free text: a short value ("admin",
#: "argocd") is an ordinary word in names, paths and hosts. The structure and pattern layers still
#: redact it, whatever its length, wherever it stands in a secret position.
_MIN_LITERAL_LENGTH = 8
#: Report fields that hold YAML text (a finding's excerpt), redacted as structure when they parse.
_YAML_TEXT_KEYS = frozenset({"excerpt"})
_NOT_SECRET_WORDS = frozenset({"true", "false", "null", "none", "changeme", "required", "optional"})
#: Values in a secret position that are a reference, not a secret: `$(DB_PASSWORD)`, `${TOKEN}`.
_REFERENCE_VALUE = re.compile(r"\$\(\w+\)|\$\{\w+\}|\$\w+")

_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----.*?(?:-----END (?P=label)-----|\Z)", re.DOTALL)
# scheme://user:password@host -> keep the user and host, hide the password.
_URL_CREDENTIALS = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"<>]*:)(?P<secret>[^\s@/'\"<>]+)(?=@)")
# `password: hunter2` or `"apiKey": "abc"` on a line of YAML/JSON-ish text.
_KEY_VALUE_LINE = re.compile(r"""(?m)^(?P<head>[ \t]*(?:-[ \t]+)?["']?(?P<key>[\w.\-]+)["']?[ \t]*:[ \t]+)"""
                             r"""(?P<secret>[^\s#{\[|>&*!][^\n]*?)(?P<tail>[ \t]*,?[ \t]*)$""")
# `--set db.password=hunter2`, `--set-json 'a.token="x"'`
_SET_ARGUMENT = re.compile(r"""(?P<head>--set(?:-json|-string|-literal)?[ =]['"]?(?P<key>[\w.\-\[\]]+)=)"""
                           r"""(?P<secret>[^\s'"]+|"[^"]*"|'[^']*')""")
# `DB_PASSWORD=hunter2`, `--client-secret=abc`, `?token=abc&x=1`, `Password=abc;User Id=x`
_ASSIGNMENT = re.compile(r"""(?P<head>(?<![\w.\-\\])(?P<dashes>-{0,2})(?P<key>[A-Za-z_][\w.\-]*)=)"""
                         r"""(?P<secret>"[^"\n]*"|'[^'\n]*'|[^\s&;,'"<>]+)""")
# `"client_secret": "abc"` anywhere (inline JSON), also escaped inside another JSON string.
_JSON_PAIR = re.compile(r"""(?P<head>(?P<q>\\?["'])(?P<key>[\w.\-]+)(?P=q)[ \t]*:[ \t]*)"""
                        r"""(?P<secret>(?P=q)(?:(?!(?P=q)).)*(?P=q)|[^\s,}\]"'\\]+)""")

# `app --db-pass hunter2`, `mysql -p 'pw'`: a flag and its value in a command line.
_FLAG_PAIR = re.compile(r"""(?P<head>(?<![\w.\-/\\])(?P<flag>--?[A-Za-z][\w.\-]*)[ \t]+)"""
                        r"""(?P<secret>"[^"\n]*"|'[^'\n]*'|(?![-"'])[^\s"'<>;|&]+)""")
# `{"name": "ERLANG_COOKIE", "value": "x"}`, `{name: DB_PASS, value: x}`: an env entry inline (name first,
# as Kubernetes and sorted dumps write it); the secret-looking key is the name.
_ENV_ENTRY = re.compile(r"""(?P<head>(?P<q>\\?["']|)name(?P=q)[ \t]*:[ \t]*(?P<q2>\\?["']|)(?P<key>[A-Za-z_][\w.\-]*)(?P=q2)"""
                        r"""[ \t]*,[ \t]*(?P=q)value(?P=q)[ \t]*:[ \t]*)"""
                        r"""(?P<secret>\\"(?:(?!\\").)*\\"|"[^"\n]*"|'[^'\n]*'|[^\s,}\]"'\\]+)""")
# `["-p", "x"]`, `['--db-pass', 'x']`: a flag and its value as items of an inline JSON/YAML list.
_FLAG_ITEMS = re.compile(r"""(?P<head>(?P<q>\\?["'])(?P<flag>--?[A-Za-z][\w.\-]*)(?P=q)[ \t]*,[ \t]*(?P<q2>\\?["']))"""
                         r"""(?P<secret>(?:(?!(?P=q2))[^\n])*)(?=(?P=q2))""")
# `Authorization: Bearer x`, `"authorization": "Basic x"`, `-H 'Proxy-Authorization: token x'`: the
# credentials after an authorization header or key, whatever they look like.
_AUTHORIZATION = re.compile(r"""(?P<head>\b(?i:(?:proxy-)?authorization)(?:\\?["'])?[ \t]*[:=][ \t]*(?:\\?["'])?"""
                            r"""(?:(?i:bearer|basic|token|negotiate)[ \t]+)?)(?P<secret>[^\s"'<>,;\\]+)""")
# `Bearer eyJhbGci...` / `Basic dXNlcjpwYXNz` anywhere: credentials after an auth scheme, when they
# look like credentials (digits, inner capitals or token punctuation), so "a bearer token" stays prose.
_SCHEME_CREDENTIALS = re.compile(r"""(?P<head>\b(?i:bearer|basic)[ \t]+)(?P<secret>[A-Za-z0-9\-._~+/]{8,}=*)(?![\w\-.~+/=])""")
# `{user: app, password: pw1}`: a YAML flow mapping inline.
_FLOW_PAIR = re.compile(r"""(?P<head>[{,][ \t]*(?P<key>[\w.\-]+)[ \t]*:[ \t]+)"""
                        r"""(?P<secret>"[^"\n]*"|'[^'\n]*'|[^\s,}\]"']+)""")


def _marker(value: Any) -> str:
    """The fixed marker for `value`: _MARKER_PREFIX + 8 hex digits of HMAC-SHA256(run key, value) + `>`."""
    digest = hmac.new(_SALT, str(value).encode("utf-8", errors="replace"), hashlib.sha256).hexdigest()[:8]
    return f"{_MARKER_PREFIX}{digest}>"


def _is_marker(text: Any) -> bool:
    return isinstance(text, str) and bool(_MARKER.fullmatch(text.strip().strip("'\"")))


def _normalise(key: str) -> str:
    last = str(key).rsplit(".", 1)[-1]  # dotted values paths: judge the leaf
    return re.sub(r"[-_\s\[\]0-9]", "", last).lower()


@lru_cache(maxsize=4096)  # the same few hundred keys recur in every manifest
def _is_secret_key(key: Any) -> bool:
    """Does a mapping key (or dotted values path, or environment variable name) name a secret value
    rather than a reference to one?"""
    if not isinstance(key, str):
        return False
    name = _normalise(key)
    leaf = key.rsplit(".", 1)[-1].strip().lstrip("-")
    if not (any(word in name for word in _SECRET_WORDS) or name.endswith(_SECRET_ENDINGS)
            or _ENV_SECRET.fullmatch(leaf)):
        return False
    return not (name.endswith(_REFERENCE_SUFFIXES) or name.startswith(_REFERENCE_PREFIXES))


#: The last word of a flag that names a secret: `--db-pass`, `--api-key`, `--basic-auth`, `--cookie`.
#: The last word, so `--key-file`, `--key-size`, `--cookie-domain` and `--auth-mode` stay readable.
_FLAG_SECRET_WORDS = frozenset({"pass", "passwd", "pwd", "key", "cookie", "auth", "authorization"})
#: A switch that turns something off takes no value: `--no-auth server.js`.
_FLAG_NEGATIONS = frozenset({"no", "skip", "disable", "without"})
_FLAG = re.compile(r"--?[A-Za-z][\w.\-]*")
# `/etc/tls/tls.key`, `./certs/key.pem`, `~/.ssh/id`: where a key is, not the key.
_PATH = re.compile(r"(?:/|\./|\.\./|~/)[\w.\-/]*")
# `memcached -p 11211`, `psql -p 5432`, `-p 8080:80/tcp`: `-p` is a port as often as a password.
_PORTS = re.compile(r"\d{1,5}(?::\d{1,5})*(?:/(?:tcp|udp|sctp))?")


def _words(name: str) -> list[str]:
    """`db-pass` -> [db, pass]; `apiKey` -> [api, key]."""
    return [w.lower() for w in re.split(r"[-_.]+|(?<=[a-z0-9])(?=[A-Z])", name) if w]


def _is_secret_flag(flag: Any) -> bool:
    """Does a command-line flag name a secret, so that its value is one (`--db-pass X`,
    `--api-key=X`, `-p X`)? A secret-looking key name (`--client-secret`, `--token`) or a last word
    that names one (`pass`, `pwd`, `key`, `cookie`, `auth`); never a negated switch (`--no-auth`)."""
    return isinstance(flag, str) and _secret_flag_name(flag)


@lru_cache(maxsize=4096)
def _secret_flag_name(flag: str) -> bool:
    if not _FLAG.fullmatch(flag):
        return False
    if flag == "-p":  # mysql, redis-cli, ...: the password
        return True
    name = flag.lstrip("-")
    words = _words(name)
    if len(name) < 2 or not words or words[0] in _FLAG_NEGATIONS:
        return False
    return _is_secret_key(name) or words[-1] in _FLAG_SECRET_WORDS


def _flag_value_is_secret(flag: str, value: Any) -> bool:
    """The value after a secret flag is the secret - except a path after `-p` or a `*key` flag
    (`mkdir -p /data`, `--tls-key /etc/tls/tls.key`), which says where a key is, not what it is,
    and a port number after `-p` (`memcached -p 11211`)."""
    value = _plain(str(value)) if _is_scalar_secret(value) else ""
    if _hides_nothing(value) or value.startswith("-"):
        return False
    if flag == "-p" and _PORTS.fullmatch(value):
        return False
    if _PATH.fullmatch(value) and (flag == "-p" or _words(flag.lstrip("-"))[-1] == "key"):
        return False
    return True


def _is_basic_credential(value: Any) -> bool:
    """base64 of `user:password`, as in a docker config's `"auth"`."""
    if not isinstance(value, str) or len(value) < 4:
        return False
    try:
        decoded = base64.b64decode(_plain(value), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    user, colon, password = decoded.partition(":")
    return bool(colon and password) and decoded.isprintable()


def _secret_position(key: Any, value: Any = None) -> bool:
    """Is `value`, under mapping key `key`, a secret? The key says so, or it is a docker-config
    `auth` holding base64 `user:password` (`auth: basic` is a setting, not a credential)."""
    return _is_secret_key(key) or (isinstance(key, str) and key.lower() == "auth" and _is_basic_credential(value))


def _is_scalar_secret(value: Any) -> bool:
    """Booleans and nulls carry no secret (`token.enabled: true`, `password: null`)."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) and value != ""


def _plain(text: str) -> str:
    return text.strip().strip("'\"")


def _hides_nothing(value: str) -> bool:
    """A value in a secret position that is no secret: empty, a switch, a reference, already redacted."""
    return (value.lower() in ("true", "false", "null", "~", "") or _is_marker(value)
            or bool(_REFERENCE_VALUE.fullmatch(value)))


class Redactor:
    """Redacts structured data and free text; `learn*` teaches it literal values to scrub."""

    def __init__(self, literals: Iterable[str] = ()):
        self._literals: set[str] = set()
        self._names: set[str] = set()
        self._pattern: re.Pattern | None = None
        for literal in literals:
            self.learn_literal(literal)

    # -- learning -------------------------------------------------------------------------------
    def learn_literal(self, value: Any) -> None:
        text = str(value).strip()
        if len(text) >= _MIN_LITERAL_LENGTH and text.lower() not in _NOT_SECRET_WORDS and not _is_marker(text):
            self._literals.add(text)
            self._pattern = None

    def learn_names(self, names: Iterable[Any]) -> None:
        """Names (charts, releases, namespaces, rendered resources) that are never scrubbed as literals:
        a secret equal to a name is redacted only in secret positions, so the name stays readable."""
        for name in names:
            if isinstance(name, str) and name:
                self._names.add(name.lower())
                self._pattern = None

    def export(self) -> dict[str, list[str]]:
        """What this redactor learned, for another process's redactor (an xdist worker's for the
        controller's, which never sees the worker's renders)."""
        return {"literals": sorted(self._literals), "names": sorted(self._names)}

    def absorb(self, learned: dict[str, list[str]]) -> None:
        for literal in learned.get("literals", ()):
            self.learn_literal(literal)
        self.learn_names(learned.get("names", ()))

    def learn_values(self, values: Any) -> None:
        """Remember the secret values of a values tree (or any structure)."""
        for value in self._secret_scalars(values, inherited=False):
            self.learn_literal(value)

    def learn_manifest(self, body: dict) -> None:
        """Remember a rendered Secret's values, raw and (for `data`) base64-decoded, and the secrets in
        the files a ConfigMap or Secret holds (`sessionKey: x` in an app.yaml): quoted elsewhere as one
        JSON string, such a file no longer has lines for the text patterns to find them by."""
        if not _is_secret_object(body):
            self.learn_values(body)
            data = body.get("data")
            for value in (data.values() if isinstance(data, dict) else ()):
                if isinstance(value, str):
                    self._learn_file(value)
            return
        string_data = body.get("stringData")
        for value in (string_data.values() if isinstance(string_data, dict) else ()):
            if _is_scalar_secret(value):
                self.learn_literal(value)
                self._learn_file(str(value))
        data = body.get("data")
        for value in (data.values() if isinstance(data, dict) else ()):
            if not isinstance(value, str):
                continue
            self.learn_literal(value)
            try:
                decoded = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                continue
            self.learn_literal(decoded)
            self._learn_file(decoded)

    def _learn_file(self, text: str) -> None:
        """The secrets of a config file's text: `key: value` lines, JSON pairs, `key=value`
        assignments and authorization values in secret positions."""
        for line in text.splitlines():
            match = _KEY_VALUE_LINE.match(line)
            if match and _secret_position(match["key"], _plain(match["secret"])):
                self.learn_literal(_plain(match["secret"]))
        for pattern in (_JSON_PAIR, _ASSIGNMENT):
            for match in pattern.finditer(text):
                value = _plain(match["secret"])
                if not match.groupdict().get("dashes") and _secret_position(match["key"], value):
                    self.learn_literal(value)
        for match in _AUTHORIZATION.finditer(text):
            self.learn_literal(match["secret"])

    def _secret_scalars(self, node: Any, inherited: bool) -> Iterable[Any]:
        if isinstance(node, dict):
            if _is_secret_object(node):
                for part in ("data", "stringData"):
                    yield from ((node.get(part) or {}).values() if isinstance(node.get(part), dict) else ())
            if _is_secret_env(node):
                yield node["value"]
            for key, value in node.items():
                yield from self._secret_scalars(value, _secret_position(key, value))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                yield from self._secret_scalars(item, inherited or _follows_secret_flag(node, i))
        elif inherited and _is_scalar_secret(node):
            yield node

    # -- redacting ------------------------------------------------------------------------------
    def text(self, text: str) -> str:
        """Free text: key material, URL and authorization credentials, secret `key: value` lines,
        `key=value`, `--flag value` and JSON pairs, learned literals."""
        if not text:
            return text
        text = _PEM_PRIVATE_KEY.sub(lambda m: _marker(m.group(0)), text)
        text = _URL_CREDENTIALS.sub(lambda m: m["head"] + _marker(m["secret"]), text)
        text = _AUTHORIZATION.sub(self._credentials, text)
        text = _SCHEME_CREDENTIALS.sub(self._credentials, text)
        text = _KEY_VALUE_LINE.sub(self._key_value, text)
        text = _SET_ARGUMENT.sub(self._pair, text)
        text = _ASSIGNMENT.sub(self._pair, text)
        text = _FLAG_PAIR.sub(self._flag_pair, text)
        text = _FLAG_ITEMS.sub(self._flag_pair, text)
        text = _ENV_ENTRY.sub(self._pair, text)
        text = _JSON_PAIR.sub(self._pair, text)
        text = _FLOW_PAIR.sub(self._pair, text)
        pattern = self._literal_pattern()
        if pattern is not None:
            text = pattern.sub(lambda m: _marker(m.group(0)), text)
        return text

    def _literal_pattern(self) -> re.Pattern | None:
        if self._pattern is None:
            literals = [v for v in self._literals if v.lower() not in self._names]
            if not literals:
                return None
            # Longest first, so a value never leaks a longer one's tail. A literal counts only as a
            # whole token: not inside a longer identifier, path segment or host name (a `.` or `-`
            # joined to more letters continues the token; a sentence's final `.` does not).
            ordered = "|".join(re.escape(v) for v in sorted(literals, key=len, reverse=True))
            self._pattern = re.compile(rf"(?<![\w-])(?<![\w][.])(?:{ordered})(?![\w-])(?![.][\w])")
        return self._pattern

    @staticmethod
    def _key_value(match: re.Match) -> str:
        value = _plain(match["secret"])
        if not _secret_position(match["key"], value) or _hides_nothing(value) or _MARKER_PREFIX in value:
            return match.group(0)
        return f"{match['head']}{_marker(value)}{match['tail']}"

    @staticmethod
    def _credentials(match: re.Match) -> str:
        secret = match["secret"]
        if match.re is _SCHEME_CREDENTIALS and not _looks_like_credentials(secret):
            return match.group(0)
        if _hides_nothing(secret):
            return match.group(0)
        return f"{match['head']}{_marker(secret)}"

    @staticmethod
    def _flag_pair(match: re.Match) -> str:
        if not _is_secret_flag(match["flag"]) or not _flag_value_is_secret(match["flag"], match["secret"]):
            return match.group(0)
        secret = match["secret"]
        quote = secret[:1] if secret[:1] in "\"'" else ""
        return f"{match['head']}{quote}{_marker(_plain(secret))}{quote}"

    @staticmethod
    def _pair(match: re.Match) -> str:
        value = _plain(match["secret"].replace('\\"', '"'))
        dashes = match.groupdict().get("dashes")
        secret = (_is_secret_flag(dashes + match["key"]) and _flag_value_is_secret(dashes + match["key"], value)
                  if dashes else _secret_position(match["key"], value))
        if not secret or _hides_nothing(value) or _MARKER_PREFIX in value:
            return match.group(0)
        secret = match["secret"]
        quote = secret[:2] if secret.startswith('\\"') else secret[:1] if secret[:1] in "\"'" else ""
        return f"{match['head']}{quote}{_marker(value)}{quote}"

    def data(self, node: Any, *, secret: bool = False) -> Any:
        """A redacted copy of a JSON/YAML-like structure; every string also goes through `text`."""
        if isinstance(node, dict):
            out = {}
            secret_object = _is_secret_object(node)
            secret_env = _is_secret_env(node)
            for key, value in node.items():
                if secret_object and key in ("data", "stringData") and isinstance(value, dict):
                    out[key] = {k: _marker(v) if v not in (None, "") else v for k, v in value.items()}
                elif secret_env and key == "value":
                    out[key] = value if _hides_nothing(str(value)) else _marker(value)
                elif key in _YAML_TEXT_KEYS and isinstance(value, str):
                    out[key] = self.yaml_text(value)
                else:
                    out[key] = self.data(value, secret=_secret_position(key, value))
            return out
        if isinstance(node, list):
            return [self.data(item, secret=secret or _follows_secret_flag(node, i)) for i, item in enumerate(node)]
        if secret and _is_scalar_secret(node) and not _hides_nothing(str(node)):
            return _marker(node)
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


def _follows_secret_flag(items: list, index: int) -> bool:
    """`["--db-pass", "x"]`, `["-p", "x"]`: the argument after a flag that names a secret is the secret."""
    if index == 0:
        return False
    previous = items[index - 1]
    return _is_secret_flag(previous) and _flag_value_is_secret(previous, items[index])


def _looks_like_credentials(text: str) -> bool:
    """`eyJhbGciOi...`, `dXNlcjpwYXNz`, `abc123`: a digit, a capital after the first letter or token
    punctuation - not an English word after "bearer"/"basic" in prose."""
    return (any(c.isdigit() for c in text) or any(c.isupper() for c in text[1:])
            or any(c in "+/=~._" for c in text) or len(text) >= 20)


def _is_secret_object(body: dict) -> bool:
    return body.get("kind") == "Secret" and "apiVersion" in body


def _is_secret_env(node: dict) -> bool:
    """An env entry `{name: DB_PASSWORD, value: ...}`: the secret-looking key is the `name`."""
    return (isinstance(node.get("name"), str) and "value" in node and _is_scalar_secret(node["value"])
            and _is_secret_key(node["name"]))


# -- what a run's redactor learns ------------------------------------------------------------------
def learn_inputs(redactor: Redactor, charts: Iterable, scenarios: Iterable, broken: Iterable[str] = ()) -> None:
    """Teach a redactor a run's inputs: the secret values of the charts' values, of the scenarios'
    values files and `--set` inputs, and every name (charts, subcharts, releases, namespaces) that
    must stay readable. The engine's gate owns the run's one redactor and calls this as it discovers
    and plans; renders teach it themselves as they are made (`learn_render`)."""
    names: set[str] = set(broken)
    for chart in charts:
        names.update(sub.name for sub in chart.walk())
        names.update(chart.subcharts)
        redactor.learn_values(chart.values)
        redactor.learn_values(chart.effective_values)
    for scenario in scenarios:
        names.update(n for n in (scenario.release, scenario.namespace) if n)
        for path in scenario.values_files:
            redactor.learn_values(_load_quietly(path))
        redactor.learn_values({key: value for key, value in scenario.set_values})
    redactor.learn_names(names)


def chart_secrets(renderer, chart: str) -> dict:
    """What the chart's renders held by `renderer` teach a redactor, exported (the result cache keeps
    it, so a warm run that loads no render still redacts)."""
    learned = Redactor()
    for render in renderer.renders():
        if render.chart == chart:
            learn_render(learned, render)
    return learned.export()


def learn_render(redactor: Redactor, render) -> None:
    """Teach a redactor a render's Secret and ConfigMap values, and its object names."""
    names = set()
    for manifest in render.manifests:
        meta = manifest.body.get("metadata")
        if isinstance(meta, dict):
            names.update(n for n in (meta.get("name"), meta.get("namespace")) if isinstance(n, str))
        if manifest.kind == "Secret" or manifest.kind == "ConfigMap":
            redactor.learn_manifest(manifest.body)
    redactor.learn_names(names)


def _load_quietly(path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return load_text(fh.read(), str(path))
    except Exception:  # an unreadable values file is reported by the render; nothing to learn here
        return None
