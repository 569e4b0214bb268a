"""The simulated mission clock: time advances only when the cycle says so."""

from __future__ import annotations

import math


class SimClock:
    """Mission time in seconds, advanced explicitly by :meth:`advance`.

    Deterministic by construction: it never looks at the wall clock.
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
            ValueError: if ``dt_s`` is not positive.
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
