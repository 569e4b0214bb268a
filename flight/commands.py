"""Commands: the dictionary (commands.yaml), validation, a queue and one entry point.

Every command, whether time-tagged in the mission YAML or sent from the ground, goes
through :meth:`Commander.submit`; it is validated at once (unknown name, missing,
unknown or out-of-range argument -> :class:`CommandError`) and executed in the cycle.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

DICTIONARY_PATH = Path(__file__).with_name("commands.yaml")
_TYPES: dict[str, type] = {"float": float, "int": int, "str": str, "bool": bool}


class CommandError(ValueError):
    """A command was refused before execution; the message names the command and argument."""


def load_dictionary(path: Path = DICTIONARY_PATH) -> dict[str, dict[str, Any]]:
    """The command dictionary as plain data, keyed by command name."""
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def validate(dictionary: Mapping[str, Mapping[str, Any]], name: str,
             args: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``name`` and ``args`` against the dictionary; return the typed arguments.

    Raises:
        CommandError: unknown command, unknown/missing argument, wrong type or range.
    """
    if name not in dictionary:
        raise CommandError(f"unknown command {name!r}; known: {', '.join(sorted(dictionary))}")
    spec = dictionary[name].get("args", {}) or {}
    extra = set(args) - set(spec)
    if extra:
        raise CommandError(f"{name}: unknown argument(s) {', '.join(sorted(extra))}")
    out: dict[str, Any] = {}
    for arg, a in spec.items():
        if arg not in args:
            raise CommandError(f"{name}: missing argument {arg!r} ({a.get('units', '')})")
        value, tp = args[arg], _TYPES[a["type"]]
        if (isinstance(value, bool) != (tp is bool) or isinstance(value, str) != (tp is str)
                or not isinstance(value, (int, float, str))):
            raise CommandError(f"{name}: argument {arg!r} must be {a['type']}, got {value!r}")
        if tp in (int, float):
            if isinstance(value, str):
                raise CommandError(f"{name}: argument {arg!r} must be {a['type']}, got {value!r}")
            value = tp(value)
            if not a.get("min", value) <= value <= a.get("max", value):
                raise CommandError(f"{name}: argument {arg!r}={value} out of range "
                                   f"[{a.get('min')}, {a.get('max')}] {a.get('units', '')}")
        out[arg] = value
    return out


class Commander:
    """The one entry point for commands: validate on submit, execute in the cycle.

    ``fire(trigger, reason)`` fires a state-chart trigger and returns whether the state
    changed; ``handlers`` maps handler names to callables taking the typed arguments.
    """

    def __init__(self, fire: Callable[[str, str], bool],
                 handlers: Mapping[str, Callable[..., None]], emit: Callable[..., None],
                 dictionary: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.dictionary = dictionary or load_dictionary()
        self.fire = fire
        self.handlers = handlers
        self.emit = emit
        self._queue: list[tuple[float, int, str, dict[str, Any], str]] = []
        self._n = 0

    def submit(self, name: str, args: Mapping[str, Any] | None = None, at_s: float = 0.0,
               source: str = "ground") -> None:
        """Queue a validated command to run at mission time ``at_s`` (0: next cycle).

        Raises:
            CommandError: the command or its arguments are invalid (nothing is queued).
        """
        typed = validate(self.dictionary, name, args or {})
        self._n += 1
        heapq.heappush(self._queue, (at_s, self._n, name, typed, source))

    def due(self) -> float | None:
        """Mission time of the next queued command, if any."""
        return self._queue[0][0] if self._queue else None

    def execute_due(self, now_s: float) -> None:
        """Execute every queued command whose time has come, in order."""
        while self._queue and self._queue[0][0] <= now_s:
            _, _, name, args, source = heapq.heappop(self._queue)
            spec = self.dictionary[name]
            if "trigger" in spec:
                ok = self.fire(spec["trigger"], f"{name} command ({source})")
                self.emit("command", name=name, args=args, source=source,
                          accepted=ok, detail=None if ok else "guard or state refused it")
            else:
                try:
                    self.handlers[spec["handler"]](**args)
                except ValueError as exc:
                    self.emit("command", name=name, args=args, source=source,
                              accepted=False, detail=str(exc))
                else:
                    self.emit("command", name=name, args=args, source=source, accepted=True,
                              detail=None)
