"""Text from charts is data, never terminal control or invalid markup.

Chart names, values, resource names, Helm's error messages and `fail` messages can hold ANSI escape
sequences (`\\x1b[31m`), NUL, BEL and other control characters. Raw, they recolour or rewrite a
terminal, and they make junit.xml invalid XML 1.0 (which allows no C0 control but tab, newline and
carriage return). Every such character is shown instead as a visible escape (`\\x1b`, `\\u202e`), so
the reader still sees that the chart contained it:

- C0 controls except tab and newline (a lone carriage return rewrites a terminal line; `\\r\\n`
  becomes `\\n`), DEL and the C1 controls (`\\x9b` is a one-byte CSI on some terminals);
- lone surrogates and U+FFFE/U+FFFF (not characters; invalid in XML, unencodable as UTF-8);
- the bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) that can make displayed
  text read differently from what it is.

The report model is cleaned once (`clean`), so every format and the terminal summary get clean text;
`printable` is for text that reaches the terminal without going through the model.
"""

from __future__ import annotations

import json
import re
from typing import Any

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control/invalid character replaced by a visible escape."""
    if not isinstance(text, str):
        text = str(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


# In compact JSON (ensure_ascii=False) a C0 control shows as `\u00XX` or `\b`/`\f`/`\r`, the rest raw.
# A literal backslash before `b`, `f`, `r` or `u00` also matches: that only costs the slow path.
_UNSAFE_IN_JSON = re.compile(r"\\(?:u00[01][0-9a-fA-F]|u007[fF]|[bfr])|[\x7f-\x9f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]")


def needs_cleaning(node: Any) -> bool:
    """Whether any string in a JSON-able structure holds an unsafe character (one C-speed pass)."""
    try:
        dumped = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return True
    return _UNSAFE_IN_JSON.search(dumped) is not None


def clean(node: Any) -> Any:
    """A JSON-like structure whose strings (keys included) are all `printable`: `node` itself when
    nothing needs changing, else a cleaned copy."""
    if not isinstance(node, (str, dict, list)) or not needs_cleaning(node):
        return node
    return _clean(node)


def _clean(node: Any) -> Any:
    if isinstance(node, str):
        return printable(node)
    if isinstance(node, dict):
        return {printable(k) if isinstance(k, str) else k: _clean(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_clean(item) for item in node]
    return node
