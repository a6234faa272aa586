"""DNS names in values and rendered objects, and what kind of name each is.

`find_names(data)` walks a document (and documents embedded in its strings: YAML, JSON, INI, TOML,
properties) and yields every `Occurrence` of a DNS name; `is_cluster_local`, `has_public_suffix`,
`is_reverse_dns` and `is_within` classify a name. `fqdn_inputs(chart)` lists the values keys that
carry the cluster's domain.
"""

from chartgate.parse.dnsnames import (FQDN_WORDS, HOST_WORDS, Occurrence, config_schema, find_names, fqdn_inputs,
                                      has_public_suffix, is_cluster_local, is_reverse_dns, is_within, jsonpath,
                                      key_words, list_items_read, names_key, schema_properties)

__all__ = ["FQDN_WORDS", "HOST_WORDS", "Occurrence", "config_schema", "find_names", "fqdn_inputs",
           "has_public_suffix", "is_cluster_local", "is_reverse_dns", "is_within", "jsonpath", "key_words",
           "list_items_read", "names_key", "schema_properties"]
