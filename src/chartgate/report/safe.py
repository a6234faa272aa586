"""Text from charts is data, never terminal control or invalid markup.

Chart names, values, resource names, Helm's error messages and `fail` messages can hold ANSI escape
sequences (`\\x1b[31m`), NUL, BEL and other control characters. Raw, they recolour or rewrite a
terminal, and they make junit.xml invalid XML 1.0 (which allows no C0 control but tab, newline and
carriage return). Every such character is shown instead as a visible escape (`\\x1b`, `\\u202e`), so
the reader still sees that the chart contained it:

- C0 controls except tab and newline (a lone carriage return rewrites a terminal line; `\\r\\n`
  becomes `\\n`), DEL and the C1 controls (`\\x9b` is a one-byte CSI on some terminals);
- lone surrogates and U+FFFE/U+FFFF (not characters; invalid in XML, unencodable as UTF-8);
- every Unicode format character (category Cf): the bidirectional marks, embeddings, overrides and
  isolates (U+061C, U+200E/U+200F, U+202A-U+202E, U+2066-U+2069) that make displayed text read
  differently from what it is, the zero-width characters (U+200B-U+200D, U+2060, U+FEFF) that hide
  text or make two names look equal, the soft hyphen, the tag characters ...; and the line and
  paragraph separators U+2028/U+2029, which end a line in some viewers but not in others.
  Invisible by design, so never shown raw: an emoji joined with U+200D shows its joiner as `\\u200d`.

The report model is cleaned once (`clean`), so every format and the terminal summary get clean text;
`printable` is for text that reaches the terminal without going through the model.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Every unsafe character above except C0, as a regex class body. Format characters (Cf) are listed
#: as of the Unicode database of Python 3.11 (a test checks the list against `unicodedata`).
_UNSAFE_ABOVE_C0 = ("\x7f-\x9f\ud800-\udfff\ufffe\uffff\u2028\u2029"
                    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
                    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
                    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f{_UNSAFE_ABOVE_C0}]")


def _escape(match: re.Match) -> str:
    code = ord(match.group(0))
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """`text` with every control/invalid character replaced by a visible escape."""
    if not isinstance(text, str):
        text = str(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


# In compact JSON (ensure_ascii=False) a C0 control shows as `\u00XX` or `\b`/`\f`/`\r`, the rest raw.
# A literal backslash before `b`, `f`, `r` or `u00` also matches: that only costs the slow path.
_UNSAFE_IN_JSON = re.compile(r"\\(?:u00[01][0-9a-fA-F]|u007[fF]|[bfr])|" f"[{_UNSAFE_ABOVE_C0}]")


def _needs_cleaning(node: Any) -> bool:
    """Whether any string in a JSON-able structure holds an unsafe character (one C-speed pass)."""
    try:
        dumped = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return True
    return _UNSAFE_IN_JSON.search(dumped) is not None


def clean(node: Any) -> Any:
    """A JSON-like structure whose strings (keys included) are all `printable`: `node` itself when
    nothing needs changing, else a cleaned copy."""
    if not isinstance(node, (str, dict, list)) or not _needs_cleaning(node):
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
