"""Stored sequences: what a validated sequence is (:class:`Sequence` of :class:`Step`),
the error a rejected file raises, and the format's limits (:mod:`flight.sequences.schema`
parses files into these; :mod:`flight.sequences.engine` runs them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common.errors import ConfigError

ON_REFUSED = ("cancel", "continue")
ON_TIMEOUT = ("cancel", "continue", "safe")
#: the most steps a sequence has
MAX_STEPS = 250
#: the command source of a stored sequence's commands (the mission's own: ``mission``)
SOURCE = "sequence"


class SequenceError(ConfigError):
    """A sequence file is wrong; ``str()`` reads ``<where>: steps[3].command: message``.

    ``step`` is the index of the step at fault (None: the file as a whole), ``key`` the
    key path within it (``args``, ``wait_until.telemetry``; "" when none applies),
    ``message`` the text after the path.
    """

    def __init__(self, where: str, message: str, step: int | None = None, key: str = "",
                 steps_name: str = "steps") -> None:
        path = key if step is None else f"{steps_name}[{step}]" + (f".{key}" if key else "")
        super().__init__(f"{where}: {path}" if path else where, message)
        self.source = where
        self.step = step
        self.key = key
        self.message = message


@dataclass(frozen=True)
class Condition:
    """What a wait step waits for: the state in ``states`` (the leaves ``state`` names),
    or reading ``telemetry`` above ``above`` / below ``below`` (None or NaN never holds)."""

    state: str | None = None
    states: frozenset[str] = frozenset()
    telemetry: str | None = None
    above: float | None = None
    below: float | None = None

    def holds(self, state: str, readings: Mapping[str, Any]) -> bool:
        """Whether the condition holds on this cycle's state and readings."""
        if self.telemetry is None:
            return state in self.states
        value = readings.get(self.telemetry)
        if value is None:
            return False
        x = float(value)
        if self.above is not None:
            return x > self.above  # (NaN compares False)
        return self.below is not None and x < self.below

    def describe(self) -> str:
        """The condition in words (``state IDLE``, ``trap_temp_k below 130``)."""
        if self.telemetry is None:
            return f"state {self.state}"
        return (f"{self.telemetry} above {self.above:g}" if self.above is not None
                else f"{self.telemetry} below {self.below:g}")


@dataclass(frozen=True)
class Step:
    """One step: a command (``command``, typed ``args``, read-only) or a wait (``wait``,
    ``timeout_s`` [s], ``on_timeout``); due at ``at_s`` (mission time [s]) if set, else
    ``after_s`` [s] after the previous step ended."""

    index: int
    command: str | None
    args: Mapping[str, Any]
    at_s: float | None
    after_s: float
    wait: Condition | None
    timeout_s: float | None
    on_timeout: str
    comment: str


@dataclass(frozen=True)
class Sequence:
    """A validated sequence; ``duration_s`` is its worst case [s] (every wait times out)."""

    name: str
    start_state: str
    on_refused: str
    steps: tuple[Step, ...]
    duration_s: float
