"""Comparing renders, memoising per rendered object, and reading a chart's files.

- `differing_paths(a, b)`, `value_at(body, trail)`, `jsonpath(trail)`: which fields differ between
  two bodies, and how a finding names them.
- `kind_summary(manifests)`: {kind: {apiVersion: count}}, what a golden file records.
- `IdentityMemo(size)`: per-object work done once per distinct rendered body, emptied with the chart.
- `ChartFiles`, `load_file`: a chart's files (directory or .tgz) and a YAML file parsed with errors
  that name the file and line.
"""

from ..charts import ChartFiles
from ..determinism import differing_paths, value_at
from ..dnsnames import jsonpath
from ..manifests import kind_summary
from ..memo import IdentityMemo
from ..yamlio import load_file

__all__ = ["ChartFiles", "IdentityMemo", "differing_paths", "jsonpath", "kind_summary", "load_file", "value_at"]
