"""Comparing renders, memoising per rendered object, and reading a chart's files.

- `differing_paths(a, b)`, `value_at(body, trail)`, `jsonpath(trail)`: which fields differ between
  two bodies, and how a finding names them.
- `resolve(body, path)`, `trail_of(path)`, `UnresolvedPath`: what a finding's JSONPath names in the
  object it names (read by jsonpath-ng), e.g. to test that a policy's paths point at something.
- `kind_summary(manifests)`: {kind: {apiVersion: count}}, what a golden file records.
- `IdentityMemo(size)`: per-object work done once per distinct rendered body, emptied with the chart.
- `ChartFiles`, `load_file`: a chart's files (directory or .tgz) and a YAML file parsed with errors
  that name the file and line.
"""

from chartgate.discover.charts import ChartFiles
from chartgate.plan.determinism import differing_paths, value_at
from chartgate.core.jsonpaths import UnresolvedPath, jsonpath, resolve, trail_of
from chartgate.parse.manifests import kind_summary
from chartgate.core.memo import IdentityMemo
from chartgate.core.yamlio import load_file

__all__ = ["ChartFiles", "IdentityMemo", "UnresolvedPath", "differing_paths", "jsonpath", "kind_summary", "load_file",
           "resolve", "trail_of", "value_at"]
