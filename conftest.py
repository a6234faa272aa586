"""This repository's own suite: chartgate is installed (editable) and loaded through its pytest11
entry point, so nothing needs wiring here beyond the shared fixtures in tests/conftest.py."""
