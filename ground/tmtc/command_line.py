"""Commands typed by an operator: ``NAME [VALUE | ARG=VALUE ...]``, checked against the
command dictionary before anything is sent.

    ARM START_EXTRACTION                  # a lone value fills the only argument
    SET_HEATER_SETPOINT setpoint_k=380
    safe                                  # names and choices in any case

Values are converted by the argument's type (float, int, bool: true/false/1/0/on/off,
str: one of its choices, bytes: hex digits), then validated as the flight side would
(:func:`flight.commands.validate`); a command the flight side takes from other sources
only (``sources:`` without ``ground``) is refused too.

A stored sequence goes up with ``upload FILE [SLOT]`` (slot 1 by default,
:func:`parse_upload`): the file is checked here as flight will check it, then sent as
SEQ_UPLOAD chunks of at most 200 bytes and a SEQ_LOAD; SEQ_UPLOAD is not typed by hand.
"""

from __future__ import annotations

import difflib
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.dictionary import DICTIONARY
from common.errors import ConfigError
from flight.commands import CommandError, validate

TABLE: dict[str, dict[str, Any]] = DICTIONARY.command_table
#: the commands the ground may send
GROUND_COMMANDS = tuple(name for name, spec in TABLE.items()
                        if "ground" in spec.get("sources", ["ground"]))
#: what the operator types: the ground's commands but those with a bytes argument
#: (SEQ_UPLOAD goes by ``upload``)
TYPED_COMMANDS = tuple(name for name in GROUND_COMMANDS
                       if all(a["type"] != "bytes" for a in (TABLE[name].get("args") or {})
                              .values()))
_TRUE, _FALSE = {"true", "1", "on", "yes"}, {"false", "0", "off", "no"}
UPLOAD_COMMAND, LOAD_COMMAND = "SEQ_UPLOAD", "SEQ_LOAD"
UPLOAD_USAGE = "upload FILE [SLOT]"
#: the cycle [s] a sequence file is checked against (the flight default, 10 Hz)
CHECK_CYCLE_S = 0.1


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
    if name == UPLOAD_COMMAND:
        raise CommandError(f"{name} is not typed by hand: '{UPLOAD_USAGE}' checks a sequence "
                           f"file and sends it in {name} chunks, then {LOAD_COMMAND}")
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
    if kind == "bytes":
        try:
            return bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            raise CommandError(f"{name}: argument {arg!r} must be hex digits, got "
                               f"{value!r}") from None
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


@dataclass(frozen=True)
class Upload:
    """A sequence file ready to go: its telecommands (the SEQ_UPLOAD chunks, then
    SEQ_LOAD), the slot and the file's size [bytes]."""

    path: Path
    slot: int
    size: int
    commands: list[tuple[str, dict[str, Any]]]

    @property
    def chunks(self) -> int:
        return len(self.commands) - 1

    def line(self) -> str:
        """The one line that says what goes up."""
        return (f"UPLOAD {self.path}: {self.size} bytes in {self.chunks} {UPLOAD_COMMAND} "
                f"chunk(s) to slot {self.slot}, then {LOAD_COMMAND} {self.slot}")


def _chunk_size() -> int:
    return int(TABLE[UPLOAD_COMMAND]["args"]["data"]["size"])


def parse_upload(text: str) -> Upload:
    """``upload FILE [SLOT]`` -> the file checked and cut into telecommands.

    The file is read as bytes and checked with
    :func:`flight.sequences.schema.parse_sequence_text` (cycle :data:`CHECK_CYCLE_S`) as
    flight's SEQ_LOAD will; then cut into SEQ_UPLOAD chunks of at most 200 bytes
    (``offset``: the bytes before it; ``length``: the chunk's; ``data``: zero-padded on the
    wire), followed by SEQ_LOAD of the slot.

    Raises:
        CommandError: bad usage or slot, a file that cannot be read, is empty or too big
            for the offsets, or fails the check (the check's message, naming the step and
            key).
    """
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise CommandError(f"cannot read {text!r}: {exc}") from None
    if not 2 <= len(words) <= 3:
        raise CommandError(f"usage: {UPLOAD_USAGE} (slot 1 by default)")
    path = Path(words[1])
    slot_spec = TABLE[LOAD_COMMAND]["args"]["seq_id"]
    try:
        slot = int(words[2]) if len(words) == 3 else 1
    except ValueError:
        raise CommandError(f"SLOT must be an integer, got {words[2]!r}") from None
    if not slot_spec["min"] <= slot <= slot_spec["max"]:
        raise CommandError(f"slot {slot} out of range [{slot_spec['min']:g}, "
                           f"{slot_spec['max']:g}]")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    size, offset_max = _chunk_size(), TABLE[UPLOAD_COMMAND]["args"]["offset"]["max"]
    if not data:
        raise CommandError(f"{path} is empty")
    most = (int(offset_max) // size + 1) * size  # the last chunk's offset fits its u16
    if len(data) > most:
        raise CommandError(f"{path} is {len(data)} bytes; an upload takes at most {most}")
    try:  # (imported here: the console runs without the stored-sequence module)
        from flight.sequences.schema import parse_sequence_text
    except ImportError as exc:
        raise CommandError(f"cannot check {path}: {exc}") from None
    try:
        parse_sequence_text(data, str(path), cycle_s=CHECK_CYCLE_S)
    except (ConfigError, ValueError) as exc:  # SequenceError is a ConfigError
        raise CommandError(str(exc)) from None
    commands: list[tuple[str, dict[str, Any]]] = []
    for offset in range(0, len(data), size):
        chunk = data[offset:offset + size]
        args = {"seq_id": slot, "offset": offset, "length": len(chunk), "data": chunk}
        commands.append((UPLOAD_COMMAND, validate(TABLE, UPLOAD_COMMAND, args)))
    commands.append((LOAD_COMMAND, validate(TABLE, LOAD_COMMAND, {"seq_id": slot})))
    return Upload(path, slot, len(data), commands)


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
    if name == UPLOAD_COMMAND:
        lines.append(f"  not typed: '{UPLOAD_USAGE}' sends a sequence file in chunks")
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
    if topic.lower() == "upload":
        return upload_help()
    if topic:
        name = topic.upper()
        if name not in TABLE:
            raise CommandError(f"help: unknown command {topic!r}")
        return describe(name)
    return ["commands: " + ", ".join(_usage(n) for n in TYPED_COMMANDS),
            f"{UPLOAD_USAGE}: check a sequence file and send it ({UPLOAD_COMMAND} chunks, "
            f"then {LOAD_COMMAND}; slot 1 by default)",
            "help NAME: its arguments; quit: leave the console"]


def upload_help() -> list[str]:
    """``help upload``."""
    return [f"{UPLOAD_USAGE}  (slot 1 by default)",
            f"  checks the sequence file here as flight will, then sends it as "
            f"{UPLOAD_COMMAND} chunks of at most {_chunk_size()} bytes, each once the one "
            f"before completed, then {LOAD_COMMAND} SLOT; start it with SEQ_START SLOT"]


def complete(prefix: str) -> str:
    """``prefix`` completed to the one command name it starts (else unchanged)."""
    hits = [n for n in TYPED_COMMANDS if n.startswith(prefix.upper())]
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
