"""Discover: the charts, their settings, the platform, what a run covers; hands `Chart` to plan."""
