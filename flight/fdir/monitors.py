"""FDIR monitor kinds: each turns one sample of the inputs into a verdict.

Inputs are one dict per cycle: the readings (None when the read failed), the actuator
commands of the last cycle as ``cmd_<name>`` and the platform diagnostics (``link_*``).
:meth:`Monitor.evaluate` gives ``(bad, value)``: ``bad`` True (out of bounds this
sample), False (within bounds: a tripped monitor clears) or None (nothing is known:
neither counts nor clears); :meth:`Monitor.detail` then says it in words (only asked for
on a trip or a clear: this runs every cycle). Persistence, trips and responses are the
engine's business (:mod:`flight.fdir.engine`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from typing import Any

from flight.fdir.table import MonitorConfig

Verdict = tuple[bool | None, Any]
_EPS_S = 1e-9
_UNKNOWN: Verdict = (None, None)
_sqrt = math.sqrt
_NAN = math.nan  # a bound that is not there: every comparison with it is False
#: what :meth:`Monitor.sample` returns when the monitor did not trip
NO_TRIP: Any = object()


def _bound(x: float | None) -> float:
    """A limit for the hot path: None becomes NaN (``v > NaN`` is never true)."""
    return _NAN if x is None else float(x)


def number(v: Any) -> float | None:
    """A reading as a float (booleans are 0/1); None for no reading or NaN."""
    if v is None:
        return None
    f = float(v)
    return None if f != f else f


class _Window:
    """Samples ``(t_s, value)`` covering at least the last ``span_s`` seconds."""

    def __init__(self, span_s: float) -> None:
        self.span_s = span_s
        self.samples: deque[tuple[float, float]] = deque()

    def add(self, t_s: float, v: float) -> None:
        s = self.samples
        s.append((t_s, v))
        while len(s) >= 2 and s[1][0] <= t_s - self.span_s + _EPS_S:
            s.popleft()

    def full(self, t_s: float) -> bool:
        """True when the oldest sample is at least ``span_s`` old."""
        return bool(self.samples) and self.samples[0][0] <= t_s - self.span_s + _EPS_S

    def oldest(self) -> tuple[float, float]:
        return self.samples[0]

    def clear(self) -> None:
        self.samples.clear()


class Monitor:
    """Base: the config, the engine's persistence count and the ``when`` conditions."""

    def __init__(self, cfg: MonitorConfig) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self.telemetry = cfg.telemetry
        self.persistence = cfg.persistence
        self.count = 0  # consecutive bad samples (kept by the engine)
        self.idle = True  # nothing to forget: reset since it last evaluated
        self.when = tuple((c.telemetry, c.above, c.below) for c in cfg.when)
        #: ``when`` for the hot path: (telemetry, above, below), NaN for a missing bound
        self.when_checks = tuple((n, _bound(a), _bound(b)) for n, a, b in self.when)

    def conditions(self, inputs: Mapping[str, Any]) -> bool | None:
        """Whether every ``when`` condition holds (None: an input is unknown)."""
        unknown = False
        for name, above, below in self.when_checks:
            v = inputs.get(name)
            if v is None or v != v:
                unknown = True
            elif v <= above or v >= below:
                return False
        return None if unknown else True

    def sample(self, now_s: float, inputs: Mapping[str, Any]) -> Any:
        """One cycle of an untripped monitor: its conditions, its verdict and its
        persistence count; the value to trip with, or :data:`NO_TRIP`. (A tripped one is
        the engine's business: it follows up, escalates and clears.)"""
        if self.when_checks:
            cond = self.conditions(inputs)
            if cond is not True:
                if cond is False and not self.idle:  # forget, as the engine's _rest does
                    self.reset()
                    self.count = 0
                    self.idle = True
                return NO_TRIP
        self.idle = False
        bad, value = self.evaluate(now_s, inputs)
        if bad:
            self.count += 1
            if self.count >= self.persistence:
                return value
        elif bad is False:
            self.count = 0
        return NO_TRIP

    def evaluate(self, now_s: float, inputs: Mapping[str, Any]) -> Verdict:
        raise NotImplementedError

    def detail(self, now_s: float, value: Any) -> str:
        """The last verdict in words (for events and SAFE reasons)."""
        return f"{self.telemetry}={value}"

    def reset(self) -> None:
        """Forget history (the monitor was disabled, or its condition stopped holding)."""


class LimitMonitor(Monitor):
    """Bad while ``telemetry`` is above ``above`` or below ``below`` (at the limit: good)."""

    def __init__(self, cfg: MonitorConfig) -> None:
        super().__init__(cfg)
        self.above = cfg.above
        self.below = cfg.below
        self.hi, self.lo = _bound(cfg.above), _bound(cfg.below)  # NaN: no bound

    def evaluate(self, now_s: float, inputs: Mapping[str, Any]) -> Verdict:
        v = inputs.get(self.telemetry)
        if v is None or v != v:
            return _UNKNOWN
        return v > self.hi or v < self.lo, v

    def detail(self, now_s: float, value: Any) -> str:
        if value is None:
            return f"{self.telemetry} unknown"
        if self.above is not None and value > self.above:
            return f"{self.telemetry}={value:.6g} above {self.above:g}"
        if self.below is not None and value < self.below:
            return f"{self.telemetry}={value:.6g} below {self.below:g}"
        return f"{self.telemetry}={value:.6g} in range"


class StaleMonitor(Monitor):
    """Bad once ``telemetry`` has had no fresh reading (None) for ``stale_s`` seconds."""

    def __init__(self, cfg: MonitorConfig) -> None:
        super().__init__(cfg)
        self.stale_s = float(cfg.stale_s or 0.0)
        self.fresh_s: float | None = None

    def reset(self) -> None:
        self.fresh_s = None

    def evaluate(self, now_s: float, inputs: Mapping[str, Any]) -> Verdict:
        v = inputs.get(self.telemetry)
        if v is not None and v == v:
            self.fresh_s = now_s
            return False, v
        if self.fresh_s is None:  # stale since the monitor started watching
            self.fresh_s = now_s
        if now_s - self.fresh_s >= self.stale_s - _EPS_S:
            return True, None
        return _UNKNOWN

    def detail(self, now_s: float, value: Any) -> str:
        if value is not None:
            return f"{self.telemetry} fresh again"
        return f"{self.telemetry} stale for {now_s - (self.fresh_s or now_s):.1f} s"


class _WindowedMonitor(Monitor):
    """A monitor over the last ``window_s`` of one value (``telemetry``)."""

    def __init__(self, cfg: MonitorConfig) -> None:
        super().__init__(cfg)
        self.window = _Window(float(cfg.window_s or 0.0))

    def reset(self) -> None:
        self.window.clear()

    def _push(self, now_s: float, inputs: Mapping[str, Any]) -> float | None:
        """Add this cycle's value to the window; None when it is unknown."""
        v = number(inputs.get(self.telemetry))
        if v is not None:
            self.window.add(now_s, v)
        return v


class RateMonitor(_WindowedMonitor):
    """Bad when ``telemetry`` changes faster than ``rate_above`` per second, measured over
    the last ``window_s`` (rising, falling or either way)."""

    def __init__(self, cfg: MonitorConfig) -> None:
        super().__init__(cfg)
        self.limit = float(cfg.rate_above or 0.0)
        self.sign = {"rising": 1.0, "falling": -1.0, "either": 0.0}[cfg.direction]

    def evaluate(self, now_s: float, inputs: Mapping[str, Any]) -> Verdict:
        v = inputs.get(self.telemetry)
        if v is None or v != v:
            return _UNKNOWN
        v = float(v)
        w = self.window  # _Window.add and .full, inlined (this runs every cycle)
        s = w.samples
        s.append((now_s, v))
        start_s = now_s - w.span_s + _EPS_S
        while len(s) >= 2 and s[1][0] <= start_s:
            s.popleft()
        t0, v0 = s[0]
        if t0 > start_s:  # not a full window yet
            return _UNKNOWN
        rate = (v - v0) / (now_s - t0) if now_s > t0 else 0.0
        signed = abs(rate) if self.sign == 0.0 else rate * self.sign
        return signed > self.limit, rate

    def detail(self, now_s: float, value: Any) -> str:
        c = self.cfg
        if value is None:
            return f"{self.telemetry} unknown"
        word = "rising" if value >= 0 else "falling"
        return (f"{self.telemetry} {word} at {abs(value):.4g}/s over {c.window_s:g} s "
                f"(limit {self.limit:g}/s {c.direction})")


class CrosscheckMonitor(Monitor):
    """Once the ``when`` conditions have held for ``for_s``, bad while ``expect`` fails.

    The engine resets it whenever a condition stops holding, so its first sample marks
    the start of the condition.
    """

    def __init__(self, cfg: MonitorConfig) -> None:
        super().__init__(cfg)
        assert cfg.expect is not None  # checked at load
        self.expect = cfg.expect
        self.for_s = float(cfg.for_s or 0.0)
        self.since_s: float | None = None
        self.window = _Window(self.for_s)
        e = self.expect
        self.trend = e.rises_by is not None or e.falls_by is not None
        # the expectation's fields, looked up once (evaluate runs every cycle)
        self._expect = (e.telemetry, e.below, e.above, e.rises_by, float(e.falls_by or 0.0))
        self.held_s = self.for_s - _EPS_S  # conditions held this long: the verdict counts
        #: an expectation of a bound: (bad at or above, bad at or below), NaN for none;
        #: None for a trend or a fraction (the engine inlines the bounds)
        self.bounds: tuple[float, float] | None = None
        if e.below is not None:
            self.bounds = (float(e.below), _NAN)
        elif e.above is not None:
            self.bounds = (_NAN, float(e.above))

    def reset(self) -> None:
        self.since_s = None
        self.window.clear()

    def evaluate(self, now_s: float, inputs: Mapping[str, Any]) -> Verdict:
        name, below, above, rises_by, falls_by = self._expect
        since_s = self.since_s
        if since_s is None:
            self.since_s = since_s = now_s
        v = inputs.get(name)
        if v is None or v != v:
            return _UNKNOWN
        v = float(v)
        if self.trend:
            self.window.add(now_s, v)
        if now_s - since_s < self.held_s:
            return _UNKNOWN
        if below is not None:
            return v >= below, v
        if above is not None:
            return v <= above, v
        if self.trend:
            v0 = self.window.samples[0][1]
            if rises_by is not None:
                return v - v0 < rises_by, v - v0
            return v0 - v < falls_by, v0 - v
        e = self.expect
        ref = number(inputs.get(e.fraction_of or ""))
        if ref is None:
            return _UNKNOWN
        return v < e.min_fraction * ref, v

    def detail(self, now_s: float, value: Any) -> str:
        e = self.expect
        if value is None:
            return f"{e.telemetry} unknown"
        when = " and ".join(f"{n}" + (f" above {a:g}" if a is not None else "")
                            + (f" below {b:g}" if b is not None else "")
                            for n, a, b in self.when)
        if e.below is not None:
            want = f"{e.telemetry}={value:.6g}, expected below {e.below:g}"
        elif e.above is not None:
            want = f"{e.telemetry}={value:.6g}, expected above {e.above:g}"
        elif e.rises_by is not None:
            want = f"{e.telemetry} rose {value:.4g}, expected >= {e.rises_by:g}"
        elif e.falls_by is not None:
            want = f"{e.telemetry} fell {value:.4g}, expected >= {e.falls_by:g}"
        else:
            want = (f"{e.telemetry}={value:.4g}, expected >= {e.min_fraction:g} x "
                    f"{e.fraction_of}")
        return f"{want} with {when} for {self.for_s:g} s"


class NoiseMonitor(Monitor):
    """Bad when the noise of ``telemetry`` over ``window_s`` is above ``sigma_above`` (gone
    noisy) or below ``sigma_below`` (frozen: a live sensor shows its own noise). The noise
    is the deviation of successive differences over sqrt 2 (von Neumann): white noise s
    reads s, a smooth ramp (a warm plate on a fresh 40 K scoop, ~2 K/s) almost nothing,
    where the readings' own deviation reads it as noise; O(1) a cycle."""

    def __init__(self, cfg: MonitorConfig) -> None:
        super().__init__(cfg)
        self.span_s = float(cfg.window_s or 0.0)
        self.limit = float(cfg.sigma_above) if cfg.sigma_above else math.inf
        self.floor = float(cfg.sigma_below or 0.0)
        self.reset()

    def reset(self) -> None:
        self.samples: deque[tuple[float, float]] = deque()
        self.last: float | None = None
        self.first_s: float | None = None
        self.s1 = self.s2 = 0.0

    def evaluate(self, now_s: float, inputs: Mapping[str, Any]) -> Verdict:
        v = inputs.get(self.telemetry)
        if v is None or v != v:
            return _UNKNOWN
        last, self.last = self.last, float(v)
        if last is None:
            self.first_s = now_s
            return _UNKNOWN
        d = self.last - last
        s = self.samples
        s.append((now_s, d))
        s1 = self.s1 + d
        s2 = self.s2 + d * d
        start_s = now_s - self.span_s + _EPS_S
        n = len(s)
        while n >= 3 and s[1][0] <= start_s:
            old = s.popleft()[1]
            s1 -= old
            s2 -= old * old
            n -= 1
        self.s1 = s1
        self.s2 = s2
        if n < 2 or self.first_s is None or self.first_s > start_s:
            return _UNKNOWN
        var = (s2 - s1 * s1 / n) / (n - 1) / 2.0
        sigma = _sqrt(var) if var > 0.0 else 0.0  # (rounding: a steady signal)
        return sigma > self.limit or sigma < self.floor, sigma

    def detail(self, now_s: float, value: Any) -> str:
        if value is None:
            return f"{self.telemetry} unknown"
        bound = (f"limit {self.limit:g}" if value > self.limit
                 else f"frozen: below {self.floor:g}")
        return (f"{self.telemetry} noise {value:.4g} (1 sigma, from successive differences) "
                f"over {self.cfg.window_s:g} s ({bound})")


class LinkMonitor(_WindowedMonitor):
    """Bad when the ``counter`` diagnostic grew by more than ``max_count`` in ``window_s``.
    Unknown (never trips) on a platform without that counter, e.g. SIL."""

    def __init__(self, cfg: MonitorConfig) -> None:
        super().__init__(cfg)
        self.telemetry = cfg.counter
        self.limit = int(cfg.max_count or 0)

    def evaluate(self, now_s: float, inputs: Mapping[str, Any]) -> Verdict:
        if inputs.get(self.telemetry) is None:  # no such counter (SIL): nothing known
            return _UNKNOWN
        v = self._push(now_s, inputs)
        if v is None:
            return _UNKNOWN
        grew = v - self.window.oldest()[1]
        return grew > self.limit, grew

    def detail(self, now_s: float, value: Any) -> str:
        return (f"{self.telemetry} +{value:g} in {self.cfg.window_s:g} s "
                f"(limit {self.limit})")


_KINDS: dict[str, type[Monitor]] = {
    "limit": LimitMonitor, "stale": StaleMonitor, "rate": RateMonitor, "noise": NoiseMonitor,
    "crosscheck": CrosscheckMonitor, "link": LinkMonitor,
}


def build(cfg: MonitorConfig) -> Monitor:
    """The monitor of ``cfg.kind``."""
    return _KINDS[cfg.kind](cfg)
