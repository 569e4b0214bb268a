"""The tables of docs/icd.md and docs/tmtc.md that the dictionary determines, generated
from it.

``python -m ground.dictionary_docs`` rewrites them in place (between the
``<!-- generated: NAME -->`` and ``<!-- end generated -->`` markers); a test fails when
a committed doc differs from what the dictionary gives.
"""

from __future__ import annotations

import re
import struct
import sys
from pathlib import Path

from common.dictionary import DICTIONARY, HK_TYPES, Dictionary

ICD_DOC = Path(__file__).resolve().parents[1] / "docs" / "icd.md"
TMTC_DOC = ICD_DOC.with_name("tmtc.md")
DOCS = (ICD_DOC, TMTC_DOC)
_BLOCK = re.compile(r"(<!-- generated: (\w+) -->\n)(.*?)(<!-- end generated -->)", re.S)


def hk_table(d: Dictionary = DICTIONARY) -> str:
    """Section 5: every housekeeping field with its offset, encoding, unit and range."""
    rows = ["| offset | field | type | scale | unit | range | what |",
            "|---|---|---|---|---|---|---|"]
    offset = 0
    for c in d.hk_fields:
        hk = c.hk
        assert hk is not None
        rows.append(f"| {offset} | {c.name} | {hk.type} | {hk.scale:g} | {c.unit} | "
                    f"{hk.min:g} .. {hk.max:g} | {c.doc} |")
        offset += struct.calcsize(">" + HK_TYPES[hk.type])
    rows.append("")
    rows.append(f"{offset} bytes in all.")
    return "\n".join(rows) + "\n"


def sensors_table(d: Dictionary = DICTIONARY) -> str:
    """The channels flight reads and commands, with their devices (telemetry order)."""
    rows = ["| telemetry | unit | device role | kind | method | checkout range |",
            "|---|---|---|---|---|---|"]
    for c in (*d.channels.sensors, *d.channels.actuators):
        dev = c.device
        assert dev is not None
        name = c.name if dev.read else f"cmd_{c.name}"
        rng = f"{c.plausible[0]:g} .. {c.plausible[1]:g}" if c.plausible else f"SAFE: {c.safe}"
        rows.append(f"| {name} | {c.unit} | {dev.role} | {dev.kind} | "
                    f"{dev.read or dev.write} | {rng} |")
    return "\n".join(rows) + "\n"


def packets_table(d: Dictionary = DICTIONARY) -> str:
    """Every packet of the ground link with its APID."""
    rows = ["| packet | APID | type | what |", "|---|---|---|---|"]
    rows += [f"| {p.name} | {p.apid:#05x} | {p.type.upper()} | {p.doc} |"
             for p in d.channels.packets]
    return "\n".join(rows) + "\n"


def tm_table(d: Dictionary = DICTIONARY) -> str:
    """The HK, LINK and OPS packets' user data, byte by byte."""
    from flight.tmtc.layout import CODES, hk_layout, link_layout, ops_layout

    rows = ["| packet | offset | field | type | unit |", "|---|---|---|---|---|"]
    for layout in (hk_layout(d), link_layout(d), ops_layout(d)):
        offset = 0
        for f in layout.fields:
            rows.append(f"| {layout.name} | {offset} | {f.name} | {f.type} | {f.unit} |")
            offset += struct.calcsize(">" + CODES[f.type])
    return "\n".join(rows) + "\n"


def states_line(d: Dictionary = DICTIONARY) -> str:
    """The HK packet's state enumeration (the chart beside the dictionary)."""
    from flight.sequencer import leaf_states, load_chart

    chart = load_chart(d.source / "statechart.yaml")
    return ", ".join(f"{name} {i}" for i, name in enumerate(leaf_states(chart))) + "\n"


def commands_table(d: Dictionary = DICTIONARY) -> str:
    """Every command: opcode, arguments with their encodings and ranges, who may send it."""
    rows = ["| opcode | command | arguments (wire order) | hazardous | sources | what |",
            "|---|---|---|---|---|---|"]
    for name, c in d.commands.items():
        args = []
        for arg, a in c.args.items():
            if a.encoding == "bytes":
                args.append(f"{arg}: {a.size} bytes (zero-padded)")
                continue
            rng = (" \\| ".join(map(str, a.choices)) if a.choices
                   else f"{a.min:g} .. {a.max:g} {a.units}" if a.min is not None
                   and a.max is not None else a.units)
            args.append(f"{arg}: {a.encoding} ({rng})")
        hazardous = ("yes" if c.hazardous is True else "no" if not c.hazardous
                     else f"{c.hazardous['arg']} > {c.hazardous['above']:g}")
        rows.append(f"| {c.opcode} | {name} | {'; '.join(args) or '-'} | {hazardous} | "
                    f"{', '.join(c.sources)} | {' '.join(c.doc.split())} |")
    return "\n".join(rows) + "\n"


def events_table(d: Dictionary = DICTIONARY) -> str:
    """Every event with its id in EVENT packets."""
    rows = ["| id | event | severity | fields |", "|---|---|---|---|"]
    rows += [f"| {i} | {name} | {e.severity} | {', '.join(e.fields) or '-'} |"
             for i, (name, e) in enumerate(d.events.items(), start=1)]
    return "\n".join(rows) + "\n"


TABLES = {"hk": hk_table, "channels": sensors_table, "packets": packets_table,
          "tm": tm_table, "states": states_line, "commands": commands_table, "events": events_table}


def render(text: str, d: Dictionary = DICTIONARY) -> str:
    """``text`` with every generated block replaced by what ``d`` gives.

    Raises:
        KeyError: a block names a table this module does not make.
    """
    return _BLOCK.sub(lambda m: m.group(1) + TABLES[m.group(2)](d) + m.group(4), text)


def main() -> int:
    """Rewrite the docs' generated tables; prints whether anything changed."""
    for doc in DOCS:
        old = doc.read_text(encoding="utf-8")
        new = render(old)
        if new != old:
            doc.write_text(new, encoding="utf-8")
        print(f"{doc}: {'rewritten' if new != old else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
