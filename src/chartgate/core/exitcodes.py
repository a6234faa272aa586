"""The exit status of every chartgate front end - `pytest` with the plugin, `chartgate check`,
`chartgate merge` - in one place, so CI can branch on it the same way whichever it calls:

    0  green: the whole gate judged, nothing blocking (`passed`)
    1  blocking findings (`failed`): an error result, a finding at `--fail-on` severity, an orphaned
       golden file, an expired waiver - also when the run stopped early after one (`-x`)
    2  not the whole gate, nothing blocking seen: `partial` (-k, some modules, --changed-since) or
       `incomplete` (interrupted, --co, nothing selected)
    3  internal error: a chartgate (or pytest) bug, pytest's INTERNALERROR
    4  usage or configuration error: a bad [tool.chartgate], an unknown option, a missing chart root,
       shards that cannot be merged - nothing judged

pytest's own ExitCode numbers line up (OK, TESTS_FAILED, INTERRUPTED, INTERNAL_ERROR, USAGE_ERROR),
so the plugin only has to map pytest's remaining statuses (NO_TESTS_COLLECTED) onto the verdict.
"""

from __future__ import annotations

from enum import IntEnum

import pytest


class Exit(IntEnum):
    GREEN = 0
    BLOCKING = 1
    NOT_WHOLE = 2
    INTERNAL = 3
    USAGE = 4


# The scheme relies on pytest numbering its own outcomes the same way; a pytest that did not would
# make `pytest` and `chartgate check` disagree, so fail loudly at import instead.
assert (Exit.GREEN, Exit.BLOCKING, Exit.NOT_WHOLE, Exit.INTERNAL, Exit.USAGE) == (
    pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.INTERRUPTED,
    pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR)


def for_verdict(verdict: str, blocking: bool) -> Exit:
    """The status of a judged gate: its verdict (`passed`, `failed`, `partial`, `incomplete`) and
    whether anything blocking was seen (a partial or incomplete run can have seen a blocking finding)."""
    if blocking or verdict == "failed":
        return Exit.BLOCKING
    return Exit.GREEN if verdict == "passed" else Exit.NOT_WHOLE


def for_session(pytest_status: int, verdict: str, blocking: bool) -> Exit:
    """The status of a pytest session that ran the gate. pytest's usage and internal errors stand;
    a failed item that is not a policy check (a test module collected beside the policies) stays a
    failure; otherwise the gate's verdict decides (NO_TESTS_COLLECTED included: an empty shard is
    green, a -k that selected nothing is incomplete)."""
    if pytest_status in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        return Exit(int(pytest_status))
    if pytest_status == pytest.ExitCode.TESTS_FAILED:
        return Exit.BLOCKING
    return for_verdict(verdict, blocking)
