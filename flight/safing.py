"""Leaving the payload safe at the end of a run, and proving it.

Whatever ends a run (complete, SAFE, the time limit, an operator's signal, a bug), the
last act of the flight software is the same: command every actuator off
(:data:`flight.channels.SAFE_COMMANDS`, forced, each write acknowledged by the device), let one
more cycle of time pass so the board applies it and reports, read every sensor again,
and check the readings against :data:`READBACK`. The result is the ``safing`` block of
summary.json: a bench operator reads there whether the board confirmed it is safe, or
that its state is unknown because the link was dead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: reading -> (the most it may read once every actuator is off, what that proves). The
#: bus carries every load (heaters, cryocooler, stack), so a bus near 0 W means no load
#: is powered; the valve's position switch and the stack current are read directly.
READBACK: dict[str, tuple[float, str]] = {
    "bus_power_w": (1.0, "bus draw below 1 W (no heater, cryocooler or stack powered)"),
    "valve_open": (0.5, "valve closed (position switch)"),
    "stack_current_a": (0.05, "stack current below 0.05 A"),
}


@dataclass
class SafingReport:
    """What the end-of-run safing achieved."""

    #: every SAFE command was sent and acknowledged by its device
    commanded: bool
    #: the readings after one more cycle prove the payload safe
    confirmed: bool
    failed_writes: list[str] = field(default_factory=list)
    readback: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        """``safe`` (confirmed), ``unconfirmed`` (commanded, not proven) or ``unknown``."""
        if self.confirmed:
            return "safe"
        return "unconfirmed" if self.commanded else "unknown"

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "commanded": self.commanded,
                "confirmed": self.confirmed, "failed_writes": self.failed_writes,
                "readback": self.readback, "problems": self.problems}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SafingReport:
        """The report back from :meth:`as_dict` (a summary's ``safing`` block)."""
        return cls(d["commanded"], d["confirmed"], list(d["failed_writes"]),
                   dict(d["readback"]), list(d["problems"]))

    def line(self) -> str:
        """One sentence for the operator."""
        if self.confirmed:
            r = self.readback
            return (f"every actuator off and confirmed (bus {r['bus_power_w']:.2f} W, valve "
                    f"{'open' if r['valve_open'] else 'closed'}, stack "
                    f"{r['stack_current_a']:.3f} A)")
        if self.commanded:
            return "every actuator commanded off, NOT confirmed: " + "; ".join(self.problems)
        return ("payload state UNKNOWN (commands not acknowledged: "
                + ", ".join(self.failed_writes) + "); "
                + "; ".join(self.problems) + "; check the board before touching it")


def check_readback(failed_writes: Sequence[str], readings: Mapping[str, Any]) -> SafingReport:
    """Judge the safing from the writes that failed and the readings one cycle later."""
    problems: list[str] = []
    readback: dict[str, Any] = {}
    for name, (limit, meaning) in READBACK.items():
        value = readings.get(name)
        readback[name] = value
        if value is None:
            problems.append(f"{name} unreadable")
        elif float(value) > limit:
            problems.append(f"{name} = {float(value):g}, expected {meaning}")
    commanded = not failed_writes
    return SafingReport(commanded, commanded and not problems, list(failed_writes),
                        readback, problems)


def safe_the_payload(apply: Callable[[], Sequence[str]], settle: Callable[[], None],
                     read: Callable[[], Mapping[str, Any]]) -> SafingReport:
    """Command everything off (``apply`` returns the names of the writes that failed),
    let one cycle pass (``settle``), read back (``read``). Never raises on a HAL
    failure: a dead link gives a report whose state is ``unknown``.
    """
    failed = list(apply())
    problems: list[str] = []
    try:
        settle()
    except Exception as exc:  # the readback below says what is known
        problems.append(f"the last cycle failed: {type(exc).__name__}: {exc}")
    report = check_readback(failed, read())
    report.problems[:0] = problems
    if problems:
        report.confirmed = False
    return report
