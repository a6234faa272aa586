"""Used by every stage: errors, safe YAML, atomic writes, stopping, memos, values; knows no chart."""
