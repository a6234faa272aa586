"""Stopping a run at once: after SIGINT/SIGTERM, `-x` or a crashed worker nothing new is rendered or
planned, and the Helm processes already running are killed.

Each gate owns a `StopSwitch`; its Helm objects register every process they start with it and check
it before starting one. `request` flips the switch and kills the registered processes; the signal
handler flips every live switch of the process (`stop_all`), so it reaches renders made in threads
(the prefetch, the render pool) as well as the main thread's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import weakref
from contextlib import contextmanager

_SWITCHES: "weakref.WeakSet[StopSwitch]" = weakref.WeakSet()


class Stopped(KeyboardInterrupt):
    """Raised instead of starting a Helm process (or for one killed by the stop) once the run stops.

    A KeyboardInterrupt on purpose: no `except Exception` (the engine's totality guards, a policy's
    own) can turn it into a result, and pytest ends the session as interrupted."""


class StopSwitch:
    """Whether this gate is stopping, and the Helm processes it must kill when it does."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self._running: dict[int, subprocess.Popen] = {}
        _SWITCHES.add(self)

    @property
    def requested(self) -> bool:
        return self.reason is not None

    def check(self) -> None:
        """Raise Stopped when the run is stopping: called before any Helm process is started."""
        if self.reason is not None:
            raise Stopped(self.reason)

    def request(self, reason: str) -> None:
        """Stop: nothing new starts, and what runs is killed. Safe in a signal handler (no lock: it
        may interrupt a thread holding one)."""
        if self.reason is None:
            self.reason = reason
        for proc in list(self._running.values()):  # a copy: threads add and remove meanwhile
            _kill(proc)

    @contextmanager
    def watching(self, proc: subprocess.Popen):
        """Register a started process for the duration of the block; killed if the block is left by
        an exception (an interrupt in the main thread) or if the stop came while it started."""
        self._running[proc.pid] = proc
        try:
            if self.reason is not None:  # stopped between `check` and the registration
                _kill(proc)
            yield proc
        except BaseException:
            _kill(proc)
            proc.wait()
            raise
        finally:
            self._running.pop(proc.pid, None)


def _kill(proc: subprocess.Popen) -> None:
    """Kill the process and its group (Helm runs in a session of its own; see helm.py)."""
    if proc.returncode is not None:
        return  # reaped: its pid may belong to someone else by now
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def stop_all(reason: str) -> None:
    """Stop every gate of this process (a signal stops the whole run)."""
    for switch in list(_SWITCHES):
        switch.request(reason)
