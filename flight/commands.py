"""Commands: the dictionary's commands, validation, a queue and one entry point.

Every command, whether time-tagged in the mission YAML or sent from the ground, goes
through :meth:`Commander.submit`; it is validated at once (unknown name, missing,
unknown or out-of-range argument -> :class:`CommandError`) and executed in the cycle.

Hazardous commands (``hazardous:`` in the dictionary) need ARM then FIRE: ``ARM
{command: NAME}`` arms NAME for ``arm_window_s`` (default :data:`ARM_WINDOW_S`); the
command itself is the FIRE and uses the arm up. Unarmed or expired, it is refused with
a ``command`` event (``accepted: false``) whose ``detail`` says why. ARM is recorded as
an ``arm`` event, dropped arms as ``disarm``.
"""

from __future__ import annotations

import copy
import heapq
import math
from collections.abc import Callable, Mapping
from typing import Any

from common.dictionary import DICTIONARY
from common.errors import ConfigError
from flight.sequencer import SEP

_TYPES: dict[str, type] = {"float": float, "int": int, "str": str, "bool": bool,
                           "bytes": bytes}
#: default time [s] an ARM stays valid
ARM_WINDOW_S = 30.0
ARM_COMMAND = "ARM"
#: called with whether a queued command was executed (accepted by the command path)
Done = Callable[[bool], None]


class CommandError(ValueError):
    """A command was refused before execution; the message names the command and argument."""


def load_dictionary() -> dict[str, dict[str, Any]]:
    """The command dictionary in force (common/dictionary/commands.yaml, validated at
    load) as plain data keyed by command name, its hazardous markings checked; a copy
    the caller may change.

    Raises:
        ConfigError: a ``hazardous`` entry is malformed, or ARM's choices are not
            exactly the hazardous commands.
    """
    dictionary = copy.deepcopy(DICTIONARY.command_table)
    check_dictionary(dictionary, str(DICTIONARY.source / "commands.yaml"))
    return dictionary


def check_dictionary(dictionary: Mapping[str, Mapping[str, Any]], where: str = "") -> None:
    """Check the hazardous-command markings of a dictionary (see :func:`load_dictionary`)."""
    hazardous = []
    for name, spec in dictionary.items():
        h = spec.get("hazardous", False)
        window = spec.get("arm_window_s", ARM_WINDOW_S)
        if isinstance(window, bool) or not isinstance(window, int | float) or not window > 0:
            raise ConfigError(f"{where}: {name}.arm_window_s", f"must be > 0 s, got {window!r}")
        if h is False:
            continue
        hazardous.append(name)
        if h is True:
            continue
        args = spec.get("args") or {}
        if (not isinstance(h, dict) or set(h) != {"arg", "above"} or h["arg"] not in args
                or not isinstance(h["above"], int | float)):
            raise ConfigError(f"{where}: {name}.hazardous", "expected true or {arg: NAME, "
                              f"above: NUMBER}} naming one of the arguments, got {h!r}")
    if ARM_COMMAND in dictionary:
        choices = dictionary[ARM_COMMAND]["args"]["command"].get("choices", [])
        if sorted(choices) != sorted(hazardous):
            raise ConfigError(f"{where}: {ARM_COMMAND}.args.command.choices", "must list the "
                              f"hazardous commands {sorted(hazardous)}, got {choices}")


def is_hazardous(spec: Mapping[str, Any], args: Mapping[str, Any]) -> bool:
    """Whether a command with these (typed) arguments needs an ARM."""
    h = spec.get("hazardous", False)
    if isinstance(h, dict):
        return float(args[h["arg"]]) > float(h["above"])
    return bool(h)


def validate(dictionary: Mapping[str, Mapping[str, Any]], name: str,
             args: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``name`` and ``args`` against the dictionary; return the typed arguments.

    A ``bytes`` argument takes bytes (or a bytearray, returned as bytes) of at most its
    ``size``; nothing else passes as bytes, and bytes pass as nothing else.

    Raises:
        CommandError: unknown command, unknown/missing argument, wrong type or range,
            bytes longer than the argument's size.
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
        if tp is bytes:
            out[arg] = _bytes_arg(name, arg, a, value)
            continue
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
        if "choices" in a and value not in a["choices"]:
            raise CommandError(f"{name}: argument {arg!r}={value!r} is not one of "
                               f"{', '.join(map(str, a['choices']))}")
        out[arg] = value
    return out


def _bytes_arg(name: str, arg: str, a: Mapping[str, Any], value: Any) -> bytes:
    """A ``bytes`` argument's value, checked: bytes of at most ``a["size"]``.

    Raises:
        CommandError: not bytes, or longer than its size.
    """
    if not isinstance(value, bytes | bytearray):
        raise CommandError(f"{name}: argument {arg!r} must be bytes, got {value!r}")
    size = int(a.get("size") or 0)
    if len(value) > size:
        raise CommandError(f"{name}: argument {arg!r} is {len(value)} bytes, at most {size}")
    return bytes(value)


def check_source(dictionary: Mapping[str, Mapping[str, Any]], name: str, source: str) -> None:
    """Whether ``source`` may send ``name`` (its ``sources:``).

    Raises:
        CommandError: it may not (naming who may).
    """
    sources = dictionary[name].get("sources")
    if sources is not None and source not in sources:
        raise CommandError(f"{name} is not accepted from {source} (only {', '.join(sources)})")


def in_state(state: str, name: str) -> bool:
    """Whether leaf ``state`` is ``name`` or one of its children (``name`` a parent)."""
    return state == name or state.startswith(name + SEP)


def check_state(name: str, states: list[str], state: str) -> None:
    """Whether a handler command listing ``states`` (a parent covers its children) may
    run in ``state``.

    Raises:
        CommandError: it may not (naming the states it needs).
    """
    if not any(in_state(state, s) for s in states):
        raise CommandError(f"{name} is accepted only in {', '.join(states)}; the "
                           f"payload is in {state}")


class Commander:
    """The one entry point for commands: validate on submit, execute in the cycle.

    ``fire(trigger, reason)`` fires a state-chart trigger and returns whether the state
    changed; ``handlers`` maps handler names to callables taking the typed arguments.
    ``require_arm``: hazardous commands need an ARM first. The flight stack
    (:class:`flight.app.FlightSoftware`) always sets it; False only for unit tests of the
    queue.
    """

    def __init__(self, fire: Callable[[str, str], bool],
                 handlers: Mapping[str, Callable[..., None]], emit: Callable[..., None],
                 dictionary: Mapping[str, Mapping[str, Any]] | None = None,
                 require_arm: bool = False,
                 state: Callable[[], str] | None = None) -> None:
        self.dictionary = dictionary or load_dictionary()
        #: the mission state now (a handler command's ``states:`` are checked against it)
        self.state = state
        self.fire = fire
        self.handlers = handlers
        self.emit = emit
        self.require_arm = require_arm
        #: (armed command, the source that armed it) -> (armed at, expires at) [s]: an arm
        #: is good only for a FIRE from the same source (a ground TC cannot use up, or
        #: ride on, an arm the mission's commands made)
        self.armed: dict[tuple[str, str], tuple[float, float]] = {}
        self._queue: list[tuple[float, int, str, dict[str, Any], str, Done | None]] = []
        self._n = 0

    def submit(self, name: str, args: Mapping[str, Any] | None = None, at_s: float = 0.0,
               source: str = "ground", on_done: Done | None = None) -> None:
        """Queue a validated command to run at mission time ``at_s`` (0: next cycle);
        ``on_done(executed)`` is called when it has run (a telecommand's verification).

        Raises:
            CommandError: the command or its arguments are invalid (nothing is queued).
        """
        typed = validate(self.dictionary, name, args or {})
        self._n += 1
        heapq.heappush(self._queue, (at_s, self._n, name, typed, source, on_done))

    def due(self) -> float | None:
        """Mission time of the next queued command, if any."""
        return self._queue[0][0] if self._queue else None

    def execute_due(self, now_s: float) -> None:
        """Execute every queued command whose time has come, in order."""
        while self._queue and self._queue[0][0] <= now_s:
            _, _, name, args, source, on_done = heapq.heappop(self._queue)
            ok = self._execute(name, args, source, now_s)
            if on_done is not None:
                on_done(ok)

    def execute_now(self, name: str, source: str, reason: str | None = None,
                    args: Mapping[str, Any] | None = None, now_s: float = math.nan) -> bool:
        """Execute a command at once, in this cycle (FDIR's responses: source ``fdir``;
        a stored sequence's steps: ``sequence``), logged like every other; ``reason`` is
        the state change's reason (a SAFE reason), ``now_s`` the mission time (an ARM's
        window counts from it). Returns whether it was accepted.

        Raises:
            CommandError: the command or its arguments are invalid (nothing is done).
        """
        typed = validate(self.dictionary, name, args or {})
        return self._execute(name, typed, source, now_s, reason)

    def _execute(self, name: str, args: dict[str, Any], source: str, now_s: float,
                 reason: str | None = None) -> bool:
        spec = self.dictionary[name]
        try:
            check_source(self.dictionary, name, source)
        except CommandError as exc:
            self.emit("command", name=name, args=args, source=source, accepted=False,
                      detail=str(exc))
            return False
        if name == ARM_COMMAND:
            self._arm(args["command"], now_s, source)
            return True
        armed = None
        if self.require_arm and is_hazardous(spec, args):
            armed_s, refusal = self._use_arm(name, now_s, source)
            if refusal:
                self.emit("command", name=name, args=args, source=source,
                          accepted=False, detail=refusal)
                return False
            armed = f"armed at {armed_s:g} s"
        if "trigger" in spec:
            ok = self.fire(spec["trigger"], reason or f"{name} command ({source})")
            self.emit("command", name=name, args=args, source=source, accepted=ok,
                      detail=armed if ok else "guard or state refused it")
            return ok
        try:
            if "states" in spec and self.state is not None:
                check_state(name, spec["states"], self.state())
            self.handlers[spec["handler"]](**args)
        except ValueError as exc:
            self.emit("command", name=name, args=args, source=source,
                      accepted=False, detail=str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 a handler's bug must not stop the cycle
            self.emit("command", name=name, args=args, source=source, accepted=False,
                      detail=f"internal error in {spec['handler']}: "
                      f"{type(exc).__name__}: {exc}")
            return False
        self.emit("command", name=name, args=args, source=source, accepted=True,
                  detail=armed)
        return True

    # ---- ARM / FIRE ------------------------------------------------------------------
    def _arm(self, command: str, now_s: float, source: str) -> None:
        window_s = float(self.dictionary[command].get("arm_window_s", ARM_WINDOW_S))
        self.armed[(command, source)] = (now_s, now_s + window_s)
        self.emit("arm", name=ARM_COMMAND, command=command, source=source, accepted=True,
                  expires_at_s=now_s + window_s)

    def _use_arm(self, name: str, now_s: float, source: str) -> tuple[float, str | None]:
        """Use up ``source``'s arm of ``name``: (armed at [s], None) if it was valid, else
        (nan, why the command is refused)."""
        window_s = float(self.dictionary[name].get("arm_window_s", ARM_WINDOW_S))
        arm = self.armed.pop((name, source), None)
        if arm is None:
            return math.nan, (f"not armed: {name} is hazardous; send ARM {{command: {name}}} "
                              f"from {source} at most {window_s:g} s before")
        armed_s, expires_s = arm
        if now_s > expires_s + 1e-9:
            return armed_s, (f"arm expired: armed at {armed_s:g} s, window {window_s:g} s, "
                             f"now {now_s:g} s")
        return armed_s, None

    def disarm_all(self, reason: str) -> None:
        """Drop every arm (e.g. on entering SAFE); a ``disarm`` event if there were any."""
        if self.armed:
            self.emit("disarm", commands=sorted({name for name, _ in self.armed}),
                      reason=reason)
            self.armed.clear()
