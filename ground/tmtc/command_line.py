"""Commands typed by an operator: ``NAME [VALUE | ARG=VALUE ...]``, checked against the
command dictionary before anything is sent.

    ARM START_EXTRACTION                  # a lone value fills the only argument
    SET_HEATER_SETPOINT setpoint_k=380
    safe                                  # names and choices in any case

Values are converted by the argument's type (float, int, bool: true/false/1/0/on/off,
str: one of its choices), then validated as the flight side would
(:func:`flight.commands.validate`); a command the flight side takes from other sources
only (``sources:`` without ``ground``) is refused too.
"""

from __future__ import annotations

import difflib
import shlex
from typing import Any

from common.dictionary import DICTIONARY
from flight.commands import CommandError, validate

TABLE: dict[str, dict[str, Any]] = DICTIONARY.command_table
#: the commands the ground may send
GROUND_COMMANDS = tuple(name for name, spec in TABLE.items()
                        if "ground" in spec.get("sources", ["ground"]))
_TRUE, _FALSE = {"true", "1", "on", "yes"}, {"false", "0", "off", "no"}


def parse_command(text: str) -> tuple[str, dict[str, Any]]:
    """``NAME [VALUE | ARG=VALUE ...]`` -> (command name, typed arguments).

    Raises:
        CommandError: saying what is wrong (unknown command or argument, a value of the
            wrong type or out of range, a command the ground may not send).
    """
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise CommandError(f"cannot read {text!r}: {exc}") from None
    if not tokens:
        raise CommandError("no command")
    name = tokens[0].upper()
    if name not in TABLE:
        near = difflib.get_close_matches(name, list(TABLE), n=1)
        hint = f" (did you mean {near[0]}?)" if near else "; 'help' lists them"
        raise CommandError(f"unknown command {tokens[0]!r}{hint}")
    spec = TABLE[name]
    if name not in GROUND_COMMANDS:
        raise CommandError(f"{name} is not accepted from the ground (only from "
                           f"{', '.join(spec.get('sources', []))})")
    arg_specs: dict[str, dict[str, Any]] = spec.get("args") or {}
    positional = [t for t in tokens[1:] if "=" not in t]
    keywords = [t.split("=", 1) for t in tokens[1:] if "=" in t]
    if len(positional) > len(arg_specs) or (positional and keywords):
        raise CommandError(f"{name}: {_usage(name)} (a lone value fills the only "
                           "argument; otherwise ARG=VALUE)" if arg_specs
                           else f"{name} takes no arguments")
    raw: dict[str, str] = dict(zip(arg_specs, positional, strict=False))
    for key, value in keywords:
        key = key.strip().lower()
        if key in raw:
            raise CommandError(f"{name}: argument {key!r} given twice")
        raw[key] = value
    args = {k: _convert(name, k, arg_specs[k], v) if k in arg_specs else v
            for k, v in raw.items()}
    return name, validate(TABLE, name, args)


def _convert(name: str, arg: str, spec: dict[str, Any], value: str) -> Any:
    kind = spec["type"]
    try:
        if kind == "float":
            return float(value)
        if kind == "int":
            return int(value)
    except ValueError:
        raise CommandError(f"{name}: argument {arg!r} must be {kind}, got {value!r}") from None
    if kind == "bool":
        if value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise CommandError(f"{name}: argument {arg!r} must be true or false, got {value!r}")
    for choice in spec.get("choices", []):
        if isinstance(choice, str) and choice.lower() == value.lower():
            return choice
    return value


def _usage(name: str) -> str:
    args = TABLE[name].get("args") or {}
    return " ".join([name, *(f"{a}={s['type'].upper()}" for a, s in args.items())])


def describe(name: str) -> list[str]:
    """Help on one command: usage, each argument (type, units, range or choices), doc."""
    spec = TABLE[name]
    lines = [f"{_usage(name)}  (opcode {spec['opcode']})", f"  {spec.get('doc', '')}"]
    for arg, a in (spec.get("args") or {}).items():
        what = a["type"] + (f" [{a['units']}]" if a.get("units") not in (None, "", "-") else "")
        if "choices" in a:
            what += ": " + " | ".join(map(str, a["choices"]))
        elif "min" in a or "max" in a:
            what += f": {a.get('min', '')} .. {a.get('max', '')}"
        lines.append(f"  {arg}: {what}")
    h = spec.get("hazardous")
    if h is True:
        lines.append(f"  hazardous: send 'ARM {name}' first")
    elif isinstance(h, dict):
        lines.append(f"  hazardous with {h['arg']} above {h['above']:g}: send 'ARM {name}' "
                     "first")
    return lines


def help_lines(topic: str = "") -> list[str]:
    """``help`` (every command the ground may send) or ``help NAME``.

    Raises:
        CommandError: ``topic`` is not a command.
    """
    if topic:
        name = topic.upper()
        if name not in TABLE:
            raise CommandError(f"help: unknown command {topic!r}")
        return describe(name)
    return ["commands: " + ", ".join(_usage(n) for n in GROUND_COMMANDS),
            "help NAME: its arguments; quit: leave the console"]


def complete(prefix: str) -> str:
    """``prefix`` completed to the one command name it starts (else unchanged)."""
    hits = [n for n in GROUND_COMMANDS if n.startswith(prefix.upper())]
    if len(hits) == 1:
        return hits[0] + " "
    common = _common_prefix(hits)
    return common if len(common) > len(prefix) else prefix


def _common_prefix(words: list[str]) -> str:
    if not words:
        return ""
    first, last = min(words), max(words)
    n = 0
    while n < len(first) and first[n] == last[n]:
        n += 1
    return first[:n]
