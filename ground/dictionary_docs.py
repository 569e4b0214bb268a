"""The tables of docs/icd.md that the dictionary determines, generated from it.

``python -m ground.dictionary_docs`` rewrites them in place (between the
``<!-- generated: NAME -->`` and ``<!-- end generated -->`` markers); a test fails when
the committed doc differs from what the dictionary gives.
"""

from __future__ import annotations

import re
import struct
import sys
from pathlib import Path

from common.dictionary import DICTIONARY, HK_TYPES, Dictionary

ICD_DOC = Path(__file__).resolve().parents[1] / "docs" / "icd.md"
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


TABLES = {"hk": hk_table, "channels": sensors_table}


def render(text: str, d: Dictionary = DICTIONARY) -> str:
    """``text`` with every generated block replaced by what ``d`` gives.

    Raises:
        KeyError: a block names a table this module does not make.
    """
    return _BLOCK.sub(lambda m: m.group(1) + TABLES[m.group(2)](d) + m.group(4), text)


def main() -> int:
    """Rewrite docs/icd.md's generated tables; prints whether anything changed."""
    old = ICD_DOC.read_text(encoding="utf-8")
    new = render(old)
    if new != old:
        ICD_DOC.write_text(new, encoding="utf-8")
    print(f"{ICD_DOC}: {'rewritten' if new != old else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
