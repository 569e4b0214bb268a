"""The CCSDS packet layouts of the ground link, derived from the dictionary (docs/tmtc.md).

Every packet is a CCSDS space packet (CCSDS 133.0-B-2): the 6-byte primary header
(:mod:`spacepackets`), then for telemetry a 6-byte secondary header holding mission time
as CCSDS CUC 4+2 without P-field (coarse: u32 whole seconds, fine: u16 in 1/65536 s),
then the user data, big-endian. A telecommand has no secondary header; its user data is
the opcode (u16), the arguments in dictionary order, each in its encoding, and a CRC-16
(CCITT-FALSE, ``binascii.crc_hqx(packet, 0xFFFF)``) over everything before it.

User data by APID (``packets:`` of common/dictionary/channels.yaml):

- HK: state (u8, the index of the leaf state in :data:`STATES`), every sensor, then every
  actuator command, in dictionary order, each in its ``tm`` type (a failed reading: NaN,
  or 0xFF for a u8).
- LINK: every diagnostics row in order (only on a platform that reports them).
- OPS: every derived row in order (what flight computes itself: the payload's accounting,
  the power cap in force, the stored sequence's progress), with each HK sample when the
  flight software has them; ``seq_status`` is the index of :data:`SEQ_STATUSES`.
- EVENT: event id (u16, :data:`EVENT_IDS`), severity (u8: 0 info, 1 warning), text length
  (u16), the event's fields as compact JSON (UTF-8, sorted keys).
- VERIFY: the telecommand's APID (u16) and sequence count (u16), its opcode (u16, 0 when
  it could not be read), the stage (u8, :data:`STAGES`) and a reason code (u8,
  :data:`REASONS`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from common.dictionary import DICTIONARY, Dictionary
from flight.sequencer import leaf_states, load_chart

#: struct codes of the encodings (big-endian)
CODES = {"u8": "B", "u16": "H", "u32": "I", "i32": "i", "f32": "f", "f64": "d"}
PRIMARY_HEADER_LEN = 6
SECONDARY_HEADER_LEN = 6
CRC_LEN = 2
#: CUC fine time: 1/65536 s
FINE_PER_S = 65536

#: verification stages
STAGES = {"accepted": 0, "rejected": 1, "completed": 2, "failed": 3}
#: reason codes of a verification (0: none)
REASONS = {
    "ok": 0,
    "malformed": 1,          # not a CCSDS TC packet, or its length field lies
    "crc": 2,                # the CRC does not match
    "wrong_apid": 3,         # not the TC APID
    "unknown_opcode": 4,
    "bad_length": 5,         # the arguments do not fill the packet exactly
    "bad_argument": 6,       # out of range, not a choice, not finite
    "refused": 7,            # the command path refused it (not armed, guard, state)
    "dropped": 8,            # more TCs in a cycle than the uplink takes
    "source": 9,             # the command is not accepted from the ground (sources:)
}


@dataclass(frozen=True)
class Field:
    """One value of a telemetry packet: its telemetry name, encoding and unit."""

    name: str
    type: str
    unit: str


@dataclass(frozen=True)
class TmLayout:
    """A fixed-layout telemetry packet: its APID and fields after the secondary header."""

    name: str
    apid: int
    fields: tuple[Field, ...]

    @property
    def fmt(self) -> str:
        return ">" + "".join(CODES[f.type] for f in self.fields)

    @property
    def size(self) -> int:
        """User data bytes (after the secondary header)."""
        return struct.calcsize(self.fmt)


def states(chart: dict[str, object] | None = None) -> tuple[str, ...]:
    """Leaf states in chart order: the HK packet's state enumeration."""
    return tuple(leaf_states(chart or load_chart()))


def hk_layout(d: Dictionary = DICTIONARY) -> TmLayout:
    """The HK packet: state, then every sensor and every actuator command."""
    fields = [Field("state", "u8", "-")]
    fields += [Field(c.name, c.tm_type, c.unit) for c in d.channels.sensors]
    fields += [Field(f"cmd_{c.name}", c.tm_type, c.unit) for c in d.channels.actuators]
    return TmLayout("HK", d.apids["HK"], tuple(fields))


def link_layout(d: Dictionary = DICTIONARY) -> TmLayout:
    """The LINK packet: the platform's diagnostics."""
    return TmLayout("LINK", d.apids["LINK"],
                    tuple(Field(c.name, c.tm_type, c.unit) for c in d.channels.diagnostics))


def ops_layout(d: Dictionary = DICTIONARY) -> TmLayout:
    """The OPS packet: every derived row (accounting, power cap, sequence progress).

    Raises:
        KeyError: the dictionary's ``packets:`` has no OPS row.
    """
    return TmLayout("OPS", d.apids["OPS"],
                    tuple(Field(c.name, c.tm_type, c.unit) for c in d.channels.derived))


STATES: tuple[str, ...] = states()
HK = hk_layout()
LINK = link_layout()
OPS = ops_layout()
#: the OPS packet's ``seq_status`` values, by index (channels.yaml, the row's doc)
SEQ_STATUSES: tuple[str, ...] = ("none", "running", "waiting", "paused")
APID_EVENT = DICTIONARY.apids["EVENT"]
APID_VERIFY = DICTIONARY.apids["VERIFY"]
APID_TC = DICTIONARY.apids["TC"]
#: event name -> id (1-based, events.yaml order)
EVENT_IDS: dict[str, int] = {name: i + 1 for i, name in enumerate(DICTIONARY.events)}
SEVERITIES = {"info": 0, "warning": 1}
EVENT_HEAD = struct.Struct(">HBH")     # id, severity, text length
VERIFY_DATA = struct.Struct(">HHHBB")  # tc apid, tc seq, opcode, stage, reason
#: opcode -> command name
OPCODES: dict[int, str] = {c.opcode: name for name, c in DICTIONARY.commands.items()}


def cuc(t_s: float) -> bytes:
    """Mission time [s] as CUC 4+2 (no P-field); negative times are 0. (By hand:
    spacepackets has CDS time codes but no CUC.)"""
    ticks = max(0, round(t_s * FINE_PER_S))
    return struct.pack(">IH", (ticks >> 16) & 0xFFFFFFFF, ticks & 0xFFFF)


def from_cuc(data: bytes) -> float:
    """CUC 4+2 -> mission time [s] (resolution 1/65536 s)."""
    coarse, fine = struct.unpack(">IH", data[:SECONDARY_HEADER_LEN])
    return float(coarse + fine / FINE_PER_S)
