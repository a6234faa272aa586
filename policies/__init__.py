"""chartgate's built-in policy pack.

This directory is the pack's source; the wheel ships it as the importable package
`chartgate_builtin` (see setup.py), registered under the entry-point group `chartgate.policies`,
so an installed chartgate finds it the same way it finds any other pack.
"""
