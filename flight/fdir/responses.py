"""FDIR responses: the actions, their budgets and cooldowns, and escalation.

Actions (``action:`` of a response in common/dictionary/fdir.yaml):

- ``log``: the ``fdir_response`` event only.
- ``retry``: re-send every actuator command with force; the actuators named in
  ``power_cycle`` are commanded off (0 / False) for one cycle first, then their
  previous (the controllers') value, forced.
- ``switch_sensor``: the controllers and the sequencer see ``substitute`` in place of
  ``sensor`` until the monitor clears (a substitution table the readings go through),
  and the actuators in the response's ``cap`` are held at or below their caps meanwhile:
  a loop closed on a substitute cannot be trusted to keep the plant in its limits, so
  the cap is a power proven safe whatever the substitute reads (docs/fdir.md).
- ``abort_phase``: fire the state chart's ``abort`` trigger.
- ``safe``: go SAFE with the monitor's reason (idempotent, never budget-limited).

Power-cycles, re-sends and substitutions are commands (``POWER_CYCLE``,
``RESEND_COMMANDS``, ``SUBSTITUTE_SENSOR``, source ``fdir``) sent through ``command``,
the one command path, which logs them and calls this responder's :meth:`Responder.handlers`
back; SAFE and abort go through ``go_safe`` and ``fire``, commands too (flight/app.py).

Every automatic action counts against the response's ``budget`` for that monitor. When
the budget is spent, or the monitor is still tripped ``cooldown_s`` after the action
(a ``switch_sensor`` whose substitute still reads is holding, not failing), the response
escalates to its ``escalate_to``. Escalation chains are checked at load to end, so a
fault can never cause an endless loop of automatic actions. Budgets are given back when
the machine leaves SAFE (by RECOVER, a ground decision).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flight.fdir.table import ResponseConfig

#: the commands FDIR's actions send -> their handlers here (commands.yaml's ``handler``)
FDIR_COMMANDS = {"POWER_CYCLE": "power_cycle", "RESEND_COMMANDS": "resend_commands",
                 "SUBSTITUTE_SENSOR": "substitute_sensor"}


@dataclass
class Episode:
    """One monitor's trip, from trip to clear: the response in force and its last action."""

    monitor: str
    reason: str
    response: str | None
    last_action_s: float
    record: dict[str, Any] = field(default_factory=dict)


class Responder:
    """Carries out responses for the engine; owns budgets, substitutions, output shaping.

    ``go_safe(reason)`` enters SAFE; ``fire(trigger, reason)`` fires a state-chart
    trigger and returns whether the state changed; ``emit(event, **fields)`` records;
    ``command(name, args)`` sends a command from source ``fdir`` (default: call the
    handler directly, for tests of FDIR alone).
    """

    def __init__(self, responses: Mapping[str, ResponseConfig],
                 go_safe: Callable[[str], None], fire: Callable[[str, str], bool],
                 emit: Callable[..., None],
                 command: Callable[[str, dict[str, Any]], object] | None = None) -> None:
        self.responses = responses
        self.go_safe = go_safe
        self.fire = fire
        self.emit = emit
        self.command = command or self._call_handler
        #: the episode's (monitor, caps) while its response sends SUBSTITUTE_SENSOR
        self._acting: tuple[str, dict[str, float]] | None = None
        self.used: dict[tuple[str, str], int] = {}
        #: sensor -> (substitute, monitor that asked for it)
        self.substitutions: dict[str, tuple[str, str]] = {}
        #: actuator -> the most it may be commanded while a substitution holds
        self.caps: dict[str, float] = {}
        self._sub_caps: dict[str, dict[str, float]] = {}  # sensor -> its response's caps
        self._power_off: set[str] = set()
        self._force_now = False
        self._force_next = False

    # ---- acting ----------------------------------------------------------------------
    def start(self, ep: Episode, now_s: float, value: Any) -> None:
        """A monitor tripped: carry out its response (or what it escalates to)."""
        assert ep.response is not None
        self._act(ep, ep.response, now_s, value, escalated=False)

    def follow_up(self, ep: Episode, now_s: float, value: Any,
                  readings: Mapping[str, Any]) -> None:
        """A monitor is still tripped: escalate once the cooldown has passed."""
        name = ep.response
        if name is None:
            return
        r = self.responses[name]
        if r.action == "safe" or now_s - ep.last_action_s < r.cooldown_s - 1e-9:
            return
        if r.action == "switch_sensor" and readings.get(r.substitute) is not None:
            return  # the substitute reads: the accommodation holds
        self._escalate(ep, name, now_s, value, f"still tripped {r.cooldown_s:g} s after {name}")

    def _escalate(self, ep: Episode, name: str, now_s: float, value: Any, why: str) -> None:
        nxt = self.responses[name].escalate_to
        self._drop_substitution(ep.monitor)
        if nxt == "none":
            ep.response = None
            return
        self.emit("fdir_escalate", monitor=ep.monitor, value=value, response=name,
                  escalate_to=nxt, why=why, mission_time_s=round(now_s, 6))
        self._act(ep, nxt, now_s, value, escalated=True)

    def _act(self, ep: Episode, name: str, now_s: float, value: Any, escalated: bool) -> None:
        r = self.responses[name]
        key = (ep.monitor, name)
        used = self.used.get(key, 0)
        if r.action != "safe" and r.budget is not None and used >= r.budget:
            self._escalate(ep, name, now_s, value, f"budget of {r.budget} spent")
            return
        self.used[key] = used + 1
        ep.response, ep.last_action_s = name, now_s
        ep.record["response"] = name
        ep.record.setdefault("actions", []).append(name)
        reason = f"{ep.reason} (escalated to {name})" if escalated else ep.reason
        detail: dict[str, Any] = {}
        if r.action == "retry":
            detail["power_cycle"] = list(r.power_cycle)
        elif r.action == "switch_sensor":
            detail.update(sensor=r.sensor, substitute=r.substitute, cap=dict(r.cap or {}))
        left = None if r.budget is None else r.budget - used - 1
        self.emit("fdir_response", monitor=ep.monitor, value=value, response=name,
                  action=r.action, budget_left=left, mission_time_s=round(now_s, 6), **detail)
        refused = False
        if r.action == "retry":
            for actuator in r.power_cycle:
                refused |= self.command("POWER_CYCLE", {"actuator": actuator}) is False
            if not r.power_cycle:
                refused |= self.command("RESEND_COMMANDS", {}) is False
        elif r.action == "switch_sensor":
            self._acting = (ep.monitor, dict(r.cap or {}))
            try:
                refused = self.command("SUBSTITUTE_SENSOR", {
                    "sensor": r.sensor, "substitute": r.substitute}) is False
            finally:
                self._acting = None
        elif r.action == "abort_phase":
            self.fire("abort", reason)
        elif r.action == "safe":
            self.go_safe(reason)
        if refused:  # the command path said no: the action did not happen; escalate now
            self._escalate(ep, name, now_s, value, f"the command of {name} was refused")

    # ---- the commands' handlers (called back by the command path) ---------------------
    def handlers(self) -> dict[str, Callable[..., None]]:
        """Handler name (commands.yaml) -> the method that carries it out."""
        return {"power_cycle": self.power_cycle, "resend_commands": self.resend_commands,
                "substitute_sensor": self.substitute_sensor}

    def _call_handler(self, name: str, args: dict[str, Any]) -> None:
        """Without a command path (FDIR alone, in tests): the command's handler, direct."""
        self.handlers()[FDIR_COMMANDS[name]](**args)

    def power_cycle(self, actuator: str) -> None:
        """Command ``actuator`` off for the next cycle, then its previous value; every
        command is sent (forced) on both cycles."""
        self._power_off.add(actuator)
        self._force_now = True

    def resend_commands(self) -> None:
        """Send every actuator command on the next cycle, changed or not."""
        self._force_now = True

    def substitute_sensor(self, sensor: str, substitute: str) -> None:
        """Read ``substitute`` for ``sensor`` under the acting response's caps.

        Raises:
            ValueError: not sent by an FDIR response (which owns the substitution and
                carries the cap proven safe for it).
        """
        if self._acting is None:
            raise ValueError("only an FDIR switch_sensor response substitutes a sensor "
                             "(its cap is what makes the substitute safe)")
        monitor, caps = self._acting
        self.substitutions[sensor] = (substitute, monitor)
        self._sub_caps[sensor] = caps
        self._update_caps()

    # ---- clearing and budgets --------------------------------------------------------
    def cleared(self, ep: Episode) -> str | None:
        """The monitor cleared: drop its substitution; return the sensor restored, if any."""
        return self._drop_substitution(ep.monitor)

    def _drop_substitution(self, monitor: str) -> str | None:
        for sensor, (_, owner) in list(self.substitutions.items()):
            if owner == monitor:
                del self.substitutions[sensor]
                self._sub_caps.pop(sensor, None)
                self._update_caps()
                return sensor
        return None

    def _update_caps(self) -> None:
        """The caps of every substitution in force (the lowest where two cap one actuator)."""
        caps: dict[str, float] = {}
        for sub_caps in self._sub_caps.values():
            for name, limit in sub_caps.items():
                caps[name] = min(limit, caps.get(name, limit))
        self.caps = caps

    def reset_budgets(self) -> None:
        """Give every budget back (the ground recovered from SAFE)."""
        self.used.clear()

    # ---- what the cycle sees ---------------------------------------------------------
    def substitute(self, readings: dict[str, Any]) -> dict[str, Any]:
        """``readings`` through the substitution table (the same dict when it is empty)."""
        if not self.substitutions:
            return readings
        out = dict(readings)
        for sensor, (sub, _) in self.substitutions.items():
            out[sensor] = readings.get(sub)
        return out

    def shape(self, commands: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """This cycle's actuator commands with the substitutions' caps and power-cycles
        applied, and whether every command must be sent (forced) whether or not it
        changed."""
        out = dict(commands)
        for name, limit in self.caps.items():
            if out[name] > limit:
                out[name] = limit
        force = self._force_now or self._force_next
        if force:
            self._force_now = False
            self._force_next = False
        if self._power_off:
            for name in self._power_off:
                out[name] = False if isinstance(out.get(name), bool) else 0.0
            self._power_off = set()
            self._force_next = True  # then the previous values, forced
        return out, force
