"""API groups: which ones a plain cluster serves, and the group of an apiVersion.

Whether a custom API is present on the cluster a chart is installed into (a CRD it ships, a
Blueprint it depends on) is `chartgate.lib.presence`.
"""

from chartgate.core.kube import api_group, builtin_groups, is_builtin

__all__ = ["api_group", "builtin_groups", "is_builtin"]
