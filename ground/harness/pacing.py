"""Paced SIL (``thermine run --speed N``): after each cycle, wait until the wall clock,
N times faster, has caught up with mission time; count the cycles that were late."""

from __future__ import annotations

import math

from common.clock import WallClock
from common.errors import ConfigError


class Pacer:
    """Follows the wall clock ``speed`` times faster from the first cycle it is asked
    about; ``overruns`` counts cycles that ended a whole cycle past their time,
    ``max_late_s`` is the latest [s of wall time].

    Raises:
        ConfigError: ``speed`` is not a finite number > 0.
    """

    def __init__(self, speed: float, dt_s: float) -> None:
        if not (speed > 0 and math.isfinite(speed)):
            raise ConfigError("--speed", f"{speed}: expected a finite pace > 0 (1: real time)")
        self.speed = float(speed)
        self.dt_s = dt_s
        self.overruns = 0
        self.max_late_s = 0.0
        self._wall: WallClock | None = None
        self._from_s = 0.0

    def wait(self, now_s: float) -> None:
        """The cycle at mission time ``now_s`` [s] has run: wait for the next one's time."""
        if self._wall is None:  # (started here, not at construction: setup is not late)
            self._wall, self._from_s = WallClock(self.speed), now_s
        due_s = now_s - self._from_s + self.dt_s
        late_s = (self._wall.now_s() - due_s) / self.speed
        if late_s > 0.0:
            self.max_late_s = max(self.max_late_s, late_s)
            self.overruns += late_s > self.dt_s / self.speed
        self._wall.sleep_until(due_s)

    def as_dict(self) -> dict[str, float]:
        return {"speed": self.speed, "overruns": self.overruns,
                "max_late_s": round(self.max_late_s, 6)}
