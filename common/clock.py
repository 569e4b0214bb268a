"""The clocks: one for stepped mission time, one for the wall. The wall clock lives here
and only here (flight, hal and sims take a clock; they never read the wall directly).

- :class:`SteppedClock`: mission time that advances only when the cycle says so
  (``advance``): SIL, lockstep serial runs, tests. Deterministic by construction.
- :class:`WallClock`: monotonic wall time since construction, optionally ``speed`` times
  faster (a bench board emulated faster than real time); the only place that may sleep.
"""

from __future__ import annotations

import math
import time
from typing import Protocol, runtime_checkable

#: the one sanctioned wall-clock wait in flight/hal/sims: everything else takes a clock
_WALL_SLEEP = time.sleep  # noqa: TID251


@runtime_checkable
class Clock(Protocol):
    """Mission time [s]; every layer takes one of these, never the wall clock."""

    def now_s(self) -> float:
        """Current time [s]."""
        ...


class SteppedClock:
    """Mission time in seconds, advanced explicitly by :meth:`advance`.

    Raises:
        ValueError: a negative start.
    """

    def __init__(self, start_s: float = 0.0) -> None:
        if start_s < 0:
            raise ValueError(f"start_s must be >= 0, got {start_s}")
        self._ticks = 0
        self._dt_s = 0.0
        self._start_s = float(start_s)
        self._now_s = float(start_s)

    def now_s(self) -> float:
        """Current mission time [s]."""
        return self._now_s

    def advance(self, dt_s: float) -> float:
        """Advance mission time by ``dt_s`` seconds and return the new time.

        Raises:
            ValueError: if ``dt_s`` is not a finite number > 0.
        """
        if not 0 < dt_s < math.inf:
            raise ValueError(f"dt_s must be finite and > 0, got {dt_s}")
        # Count ticks of a fixed dt so that 10 Hz for hours does not accumulate rounding.
        if dt_s != self._dt_s:
            self._start_s = self._now_s
            self._ticks = 0
            self._dt_s = dt_s
        self._ticks += 1
        self._now_s = self._start_s + self._ticks * dt_s
        return self._now_s

    def sleep_until(self, t_s: float) -> None:
        """Jump to ``t_s`` if it is later (a test standing in for a wall-clock wait)."""
        if t_s > self._now_s:
            self.advance(t_s - self._now_s)


class WallClock:
    """Monotonic wall time [s] since construction, ``speed`` times faster; ``sleep_until``
    waits for a deadline.

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
