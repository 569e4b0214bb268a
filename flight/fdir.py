"""Minimal FDIR: limit monitors with persistence that send the machine to SAFE.

The monitors are data (the mission YAML's ``limits``). A monitor trips after
``persistence`` consecutive out-of-range samples and stays active while the value is
out of range; RECOVER is refused while any monitor is active.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flight.config import LimitConfig


class LimitMonitors:
    """Check every limit each cycle; ``go_safe(reason)`` is called on a SAFE trip."""

    def __init__(self, limits: Sequence[LimitConfig], go_safe: Callable[[str], None],
                 emit: Callable[..., None]) -> None:
        self.limits = list(limits)
        self.counts = [0] * len(self.limits)
        self.tripped = [False] * len(self.limits)
        self.go_safe = go_safe
        self.emit = emit

    def active(self) -> bool:
        """True while any tripped monitor's value is still out of range."""
        return any(self.tripped)

    def check(self, r: Mapping[str, Any]) -> None:
        for i, lim in enumerate(self.limits):
            v = r.get(lim.telemetry)
            if v is None or v != v:  # no reading: nothing is known, nothing trips or clears
                continue
            bad = (lim.above is not None and v > lim.above) or (
                lim.below is not None and v < lim.below)
            if not bad:
                self.counts[i] = 0
                if self.tripped[i]:
                    self.tripped[i] = False
                    self.emit("fdir_cleared", telemetry=lim.telemetry, value=v)
                continue
            self.counts[i] += 1
            if self.counts[i] == lim.persistence:
                self.tripped[i] = True
                side = f"above {lim.above:g}" if lim.above is not None and v > lim.above \
                    else f"below {lim.below:g}"
                reason = f"limit: {lim.telemetry}={v:.6g} {side}"
                self.emit("fdir_trip", telemetry=lim.telemetry, value=v, limit=side,
                          response=lim.response)
                if lim.response == "SAFE":
                    self.go_safe(reason)
