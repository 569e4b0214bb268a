"""The command dictionary's schema (``commands.yaml``): one row per command with its
opcode, its arguments (type, range or choices, units, on-the-wire encoding), the
sources that may send it and whether it is hazardous.

The rows are validated here at load, through the one schema mechanism
(:mod:`common.schema`); the command path (:mod:`flight.commands`) works on the plain
view :func:`command_table` gives, the telecommand decoder on the rows themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.errors import ConfigError
from common.schema import load, param, read_yaml

#: argument type -> the encodings it may have on the wire (the first is the default)
ARG_ENCODINGS: dict[str, tuple[str, ...]] = {
    "float": ("f32", "f64"),
    "int": ("i32", "u8", "u16", "u32"),
    "bool": ("u8",),
    "str": ("u8",),  # a string argument is one of its choices, sent as the choice's index
    "bytes": ("bytes",),  # raw bytes: exactly `size` on the wire (zero-padded)
}
SOURCES = ("ground", "mission", "sequence", "fdir")
#: where ``choices_from`` may take an argument's choices
CHOICE_SOURCES = ("sensors", "actuators")


@dataclass(frozen=True)
class Arg:
    type: str = param(choices=tuple(ARG_ENCODINGS), doc="float, int, bool, str or bytes")
    units: str = param("-", doc="SI unit of the value")
    min: float | None = param(None, doc="lowest value accepted (numbers)")
    max: float | None = param(None, doc="highest value accepted (numbers)")
    choices: list[Any] = param([], doc="the values accepted (a str argument needs them)")
    choices_from: str = param("", choices=("", *CHOICE_SOURCES),
                              doc="take the choices from the channel dictionary's names")
    encoding: str = param("", doc="on the wire: f32, f64, i32, u8, u16, u32, bytes (default "
                          "by type)")
    size: int = param(0, 0, 4096, "bytes: the fixed number of bytes on the wire (a shorter "
                      "value is zero-padded; an argument before it gives the real length)")
    doc: str = param("", doc="what it means")


@dataclass(frozen=True)
class Command:
    opcode: int = param(lo=1, hi=0xFFFF, doc="the telecommand's opcode (unique)")
    doc: str = param("", doc="what it does")
    trigger: str = param("", doc="the state-chart trigger it fires")
    handler: str = param("", doc="the flight handler it calls")
    hazardous: Any = param(False, doc="true, or {arg: NAME, above: X}: needs an ARM first")
    arm_window_s: float = param(30.0, 1e-3, 86400.0, "how long an ARM of it stays valid")
    sources: list[str] = param(list(SOURCES), doc="who may send it")
    states: list[str] = param([], doc="a handler command: the states it is accepted in "
                              "(a parent state stands for its children; empty: any)")
    args: dict[str, Arg] = param({}, doc="its arguments, in wire order")


def load_commands(path: Path, channel_names: dict[str, list[str]]) -> dict[str, Command]:
    """Read and validate ``commands.yaml``; ``channel_names`` resolves ``choices_from``.

    Raises:
        ConfigError: naming the file and command of the first problem (an opcode used
            twice, neither or both of trigger and handler, an unknown source, a str
            argument without choices, an encoding its type cannot have).
    """
    raw = read_yaml(path)
    rows: dict[str, Command] = {}
    opcodes: dict[int, str] = {}
    for name, row in raw.items():
        at = f"{path}: {name}"
        cmd = load(Command, row, at)
        if bool(cmd.trigger) == bool(cmd.handler):
            raise ConfigError(at, "needs exactly one of trigger and handler")
        if cmd.trigger and cmd.states:
            raise ConfigError(f"{at}.states", "a trigger's states are the chart's (its "
                              "transitions' sources); only a handler command lists them")
        if cmd.opcode in opcodes:
            raise ConfigError(f"{at}.opcode", f"{cmd.opcode} is {opcodes[cmd.opcode]}'s too")
        opcodes[cmd.opcode] = name
        for s in cmd.sources:
            if s not in SOURCES:
                raise ConfigError(f"{at}.sources", f"{s!r} is not one of {', '.join(SOURCES)}")
        args = {}
        for arg_name, a in cmd.args.items():
            args[arg_name] = _check_arg(f"{at}.args.{arg_name}", a, channel_names)
        h = cmd.hazardous
        if isinstance(h, dict) and args.get(str(h.get("arg")), Arg(type="str")).type not in (
                "float", "int"):
            raise ConfigError(f"{at}.hazardous", f"{h.get('arg')!r} must name a number "
                              "argument")
        rows[name] = Command(**{**cmd.__dict__, "args": args})
    return rows


#: the values an integer encoding holds
INT_RANGES = {"u8": (0, 0xFF), "u16": (0, 0xFFFF), "u32": (0, 0xFFFFFFFF),
              "i32": (-(2 ** 31), 2 ** 31 - 1)}


def _check_arg(at: str, a: Arg, channel_names: dict[str, list[str]]) -> Arg:
    choices = list(a.choices)
    if a.choices_from:
        if choices:
            raise ConfigError(at, "choices or choices_from, not both")
        choices = list(channel_names[a.choices_from])
    if a.type == "str" and not choices:
        raise ConfigError(at, "a str argument needs choices (it is sent as their index)")
    if len(choices) > 255:
        raise ConfigError(f"{at}.choices", "at most 255 choices")
    encoding = a.encoding or ARG_ENCODINGS[a.type][0]
    if encoding not in ARG_ENCODINGS[a.type]:
        raise ConfigError(f"{at}.encoding", f"{encoding!r}: a {a.type} argument is one of "
                          f"{', '.join(ARG_ENCODINGS[a.type])}")
    if (a.type == "bytes") != (a.size > 0):
        raise ConfigError(f"{at}.size", "a bytes argument needs size > 0, and only it has one")
    if a.min is not None and a.max is not None and not a.min <= a.max:
        raise ConfigError(at, f"min {a.min} must not be above max {a.max}")
    if a.type == "int":
        lo, hi = INT_RANGES[encoding]
        if a.min is None or a.max is None or a.min < lo or a.max > hi:
            raise ConfigError(at, f"an int argument needs min and max within its encoding "
                              f"{encoding} ({lo} .. {hi})")
    return Arg(**{**a.__dict__, "choices": choices, "encoding": encoding})


def command_table(commands: dict[str, Command]) -> dict[str, dict[str, Any]]:
    """The plain view the command path works on: name -> {doc, trigger | handler,
    hazardous, arm_window_s, sources, opcode, args: {name: {type, units, min, max,
    choices}}} (absent keys are not set)."""
    out: dict[str, dict[str, Any]] = {}
    for name, c in commands.items():
        row: dict[str, Any] = {"doc": c.doc, "opcode": c.opcode, "sources": list(c.sources),
                               "arm_window_s": c.arm_window_s}
        row["trigger" if c.trigger else "handler"] = c.trigger or c.handler
        if c.hazardous is not False:
            row["hazardous"] = c.hazardous
        if c.states:
            row["states"] = list(c.states)
        if c.args:
            row["args"] = {n: {k: v for k, v in (("type", a.type), ("units", a.units),
                                                 ("min", a.min), ("max", a.max),
                                                 ("choices", a.choices or None),
                                                 ("size", a.size or None))
                               if v is not None} for n, a in c.args.items()}
        out[name] = row
    return out
