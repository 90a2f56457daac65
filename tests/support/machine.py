"""How busy this machine is, for tests that print a speed and hold a loose ceiling on it."""

from __future__ import annotations

import os

# Past three runnable processes per core, wall-clock times measure the queue for a core, not the code under test.
BUSY_LOAD_PER_CORE = 3.0


def load_per_core() -> float:
    """The one-minute load average divided by the number of cores."""
    return os.getloadavg()[0] / (os.cpu_count() or 1)


def too_busy_to_time() -> bool:
    """Whether wall-clock ceilings would measure other work rather than ours."""
    return load_per_core() > BUSY_LOAD_PER_CORE
