"""A Blueprint chart's own files: its blueprint.yaml (typed) and the upstream charts it wraps.

`blueprint_of(chart)` is None for a chart without blueprint.yaml; `blueprint_file_label(chart)` is
how a finding names that file; `upstream_statements(values)` reads values.yaml
`catalystBlueprint.upstream` as (JSONPath, `Upstream`) pairs.
"""

from chartgate.discover.blueprint import Upstream, blueprint_file_label, blueprint_of, upstream_statements

__all__ = ["Upstream", "blueprint_file_label", "blueprint_of", "upstream_statements"]
