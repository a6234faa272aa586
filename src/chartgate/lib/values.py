"""Values paths: reading a value at a path, spelling a path, and the values a chart's user supplies.

A values path is a tuple of keys (`Path_`): `("ingress", "hosts")`. `dotted(path)` spells it as
Helm's `--set` does for a key holding a dot; `set_syntax(path)` escapes every character `--set`
treats specially.
"""

from ..strategies import dotted as set_syntax
from ..values import Path_, dotted, get_path, mentions_values_key, supplied_strings, supplied_values

__all__ = ["Path_", "dotted", "get_path", "mentions_values_key", "set_syntax", "supplied_strings",
           "supplied_values"]
