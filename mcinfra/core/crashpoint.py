"""Named points on the create and delete paths where a test can kill the process.

``MCINFRA_CRASH_AT=<point>`` in the environment (read once, at import) or
:func:`arm` makes the process SIGKILL itself when it reaches that point: a real crash at an
exact place, with no cleanup, no ``finally`` and no ``atexit``. Points are
``<kind>.<path>:<step>``, e.g. ``vpc.create:csp-done`` or ``vm.delete:marked``; ``*`` ends a
pattern (``vm.*``). With nothing armed a point costs one comparison. Imports nothing of mcinfra.
"""

from __future__ import annotations

import os
import signal

ENV = "MCINFRA_CRASH_AT"
_armed: str | None = os.environ.get(ENV) or None
#: every point reached since the process started (only recorded while armed, for the tests)
reached: list[str] = []


def arm(point: str | None) -> None:
    """Crash at ``point`` from now on (None: disarm)."""
    global _armed
    _armed = point or None


def crash_point(point: str) -> None:
    if _armed is None:
        return
    reached.append(point)
    if point == _armed or (_armed.endswith("*") and point.startswith(_armed[:-1])):
        os.kill(os.getpid(), signal.SIGKILL)
