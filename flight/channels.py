"""What flight reads and commands, as tables derived from the dictionary
(common/dictionary/channels.yaml): telemetry name -> device role and method.

The executive reads every sensor once per cycle into a plain dict of readings and
writes an actuator only when its command changes (the bench link budget depends on it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from common.dictionary import DICTIONARY
from hal.errors import HalError

#: telemetry name -> (device role, port method), in telemetry order (the dictionary's)
SENSORS: dict[str, tuple[str, str]] = DICTIONARY.sensors
#: command name -> (device role, port method)
ACTUATORS: dict[str, tuple[str, str]] = DICTIONARY.actuators
#: every actuator off (heater load switches open): the modes' rest position, SAFE, and
#: what a run leaves the payload in; one entry per ACTUATORS command
SAFE_COMMANDS: dict[str, Any] = DICTIONARY.safe_commands
#: device role -> kind, everything flight needs from a hardware YAML
REQUIRED_DEVICES: dict[str, str] = DICTIONARY.devices


class SensorReader:
    """Reads every sensor into a dict; a failed read gives None and an event once."""

    def __init__(self, devices: Mapping[str, object], emit: Callable[..., None]) -> None:
        self._reads: list[tuple[str, Callable[[], Any]]] = [
            (name, getattr(devices[role], method)) for name, (role, method) in SENSORS.items()
        ]
        self.readings: dict[str, Any] = dict.fromkeys(SENSORS)
        self.failures: dict[str, int] = dict.fromkeys(SENSORS, 0)
        self._emit = emit

    def read_all(self) -> dict[str, Any]:
        r = self.readings
        for name, read in self._reads:
            try:
                r[name] = read()
            except HalError as exc:
                if self.failures[name] == 0:
                    self._emit("sensor_failed", telemetry=name, error=str(exc))
                self.failures[name] += 1
                r[name] = None
        return r


class ActuatorWriter:
    """Writes actuator commands, each only when it changes; never raises."""

    def __init__(self, devices: Mapping[str, object], emit: Callable[..., None]) -> None:
        self._writes = {name: getattr(devices[role], method)
                        for name, (role, method) in ACTUATORS.items()}
        self._last: dict[str, Any] = {}
        self._emit = emit

    def apply(self, commands: Mapping[str, Any], force: bool = False) -> list[str]:
        """Send changed commands (all of them with ``force``); a failed write is an event.

        Returns the names of the commands whose write failed (most cycles: none)."""
        if not force and commands == self._last:
            return []  # nothing changed (most cycles): one comparison of the two tables
        failed: list[str] = []
        for name, write in self._writes.items():
            value = commands[name]
            if not force and self._last.get(name) == value:
                continue
            try:
                write(value)
            except HalError as exc:
                self._emit("actuator_failed", command=name, value=value, error=str(exc))
                self._last.pop(name, None)  # try again next cycle
                failed.append(name)
            else:
                self._last[name] = value
        return failed
