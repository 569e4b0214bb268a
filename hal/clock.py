"""Clocks the HAL hands out. The wall clock lives here and only here.

- :class:`sims.clock.SimClock` (simulated mission time, advanced by the cycle) for SIL
  and lockstep serial runs.
- :class:`WallClock` for the bench: monotonic seconds since it was made, and the only
  place in flight/hal/sims that may sleep.
"""

from __future__ import annotations

import time

#: the one sanctioned wall-clock wait in flight/hal/sims: everything else takes a clock
_WALL_SLEEP = time.sleep  # noqa: TID251


class WallClock:
    """Monotonic wall time [s] since construction, ``speed`` times faster (a bench board
    emulated faster than real time); ``sleep_until`` waits for a deadline.

    Raises:
        ValueError: ``speed`` is not a finite number > 0.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if not 0.0 < speed < float("inf"):
            raise ValueError(f"speed must be finite and > 0, got {speed}")
        self.speed = float(speed)
        self._t0 = time.monotonic()

    def now_s(self) -> float:
        return (time.monotonic() - self._t0) * self.speed

    def sleep_until(self, t_s: float) -> None:
        """Block until ``now_s() >= t_s`` (returns at once if it already is)."""
        delay = t_s - self.now_s()
        if delay > 0:
            _WALL_SLEEP(delay / self.speed)


class ManualClock:
    """A clock tests move by hand (``advance``); ``sleep_until`` jumps to the deadline."""

    def __init__(self, start_s: float = 0.0) -> None:
        self.t_s = start_s

    def now_s(self) -> float:
        return self.t_s

    def advance(self, dt_s: float) -> None:
        self.t_s += dt_s

    def sleep_until(self, t_s: float) -> None:
        self.t_s = max(self.t_s, t_s)
