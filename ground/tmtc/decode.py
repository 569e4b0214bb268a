"""``thermine decode``: a downlink file (downlink.bin, or a ``thermine ground --record``
file) as JSON lines or CSV.

    thermine decode runs/X/downlink.bin                  # every packet, JSON lines
    thermine decode runs/X/downlink.bin --only HK,EVENT  # some packets only
    thermine decode runs/X/downlink.bin --csv --out hk.csv

JSON lines: one object per telemetry packet, ``{"packet": "HK" | "LINK" | "OPS" |
"EVENT" | "VERIFY", ...}``; an HK line holds the fields of a telemetry.jsonl row, an OPS
line flight's own figures (accounting, power cap, sequence progress), an EVENT line
``t_s, event, severity`` and the event's fields, a VERIFY line ``t_s, tc_seq, opcode,
command, stage, reason``. CSV: the housekeeping only, one row per HK packet, the columns
in dictionary order (t_s, state, sensors, cmd_*), then the LINK diagnostics and the OPS
figures of the same time when the file has any. Empty cells are failed readings (or
figures flight did not have).

A malformed packet ends the decoding with exit code 2 and names the packet (its index
from 0) and its byte offset; what came before it has been written.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from common.errors import ConfigError
from flight.tmtc.layout import HK, LINK, OPS
from ground.tmtc import standalone
from ground.tmtc.packets import TM_APIDS, PacketError, Record, decode_stream, read_stream

EXIT_OK, EXIT_BAD_INPUT = 0, 2
HK_COLUMNS = ["t_s", *(f.name for f in HK.fields)]
LINK_COLUMNS = [f.name for f in LINK.fields]
OPS_COLUMNS = [f.name for f in OPS.fields]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``decode`` to the ``thermine`` sub-commands; returns its parser."""
    p = subparsers.add_parser("decode", help="decode a downlink file (downlink.bin) to "
                              "JSON lines or CSV", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    _arguments(p)
    return p


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="downlink.bin of a run, or a --record file")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--jsonl", action="store_true", help="JSON lines, every packet (default)")
    fmt.add_argument("--csv", action="store_true", help="CSV of the housekeeping packets")
    p.add_argument("--only", metavar="KIND[,KIND]",
                   help=f"JSON lines of these packets only ({', '.join(TM_APIDS)})")
    p.add_argument("--out", type=Path, metavar="FILE", help="write here (default stdout)")


def run(args: argparse.Namespace) -> int:
    """Decode ``args.file`` to ``args.out`` (or stdout); returns the exit code (0).

    Raises:
        ConfigError: the file cannot be read or written, a bad ``--only``; PacketError (a
            ConfigError) naming the first malformed packet, after the records before it
            were written.
    """
    only = _kinds(args.only)
    if args.csv and only is not None and only != {"HK"}:
        raise ConfigError("--only", "--csv writes the housekeeping (HK) only")
    data = read_stream(args.file)
    records: list[Record] = []
    error: PacketError | None = None
    try:
        for r in decode_stream(data, str(args.file)):
            records.append(r)
    except PacketError as exc:
        error = exc
    try:
        if args.out is None:
            _write(sys.stdout, records, args.csv, only)
            sys.stdout.flush()
        else:
            with open(args.out, "w", encoding="utf-8", newline="") as f:
                _write(f, records, args.csv, only)
    except BrokenPipeError:  # `thermine decode ... | head`: the reader has enough
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        raise ConfigError(f"--out {args.out}", f"cannot write it: {exc.strerror or exc}") \
            from None
    if error is not None:
        raise error
    return EXIT_OK


def _kinds(only: str | None) -> set[str] | None:
    if only is None:
        return None
    kinds = {k.strip().upper() for k in only.split(",") if k.strip()}
    bad = kinds - set(TM_APIDS)
    if bad or not kinds:
        raise ConfigError("--only", f"{only!r}: expected packet kinds among "
                          f"{', '.join(TM_APIDS)}")
    return kinds


def _write(out: IO[str], records: list[Record], as_csv: bool, only: set[str] | None) -> None:
    if as_csv:
        write_csv(out, records)
    else:
        write_jsonl(out, (r for r in records if only is None or r.kind in only))


def write_jsonl(out: IO[str], records: Iterable[Record]) -> None:
    """One JSON object per record: ``{"packet": kind, **data}``."""
    for r in records:
        out.write(json.dumps({"packet": r.kind, **r.data}, separators=(",", ":")) + "\n")


def write_csv(out: IO[str], records: list[Record]) -> None:
    """The HK records as CSV (header in dictionary order), each with the LINK and the OPS
    record of the same time when the stream has such packets (None: an empty cell)."""
    kinds = {r.kind for r in records}
    columns = (HK_COLUMNS + (LINK_COLUMNS if "LINK" in kinds else [])
               + (OPS_COLUMNS if "OPS" in kinds else []))
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    rows: list[dict[str, Any]] = []
    for r in records:
        if r.kind == "HK":
            rows.append(dict(r.data))
        elif r.kind in ("LINK", "OPS") and rows and rows[-1]["t_s"] == r.t_s:
            rows[-1].update((k, v) for k, v in r.data.items() if k != "t_s")
    for row in rows:
        w.writerow(["" if row.get(c) is None else row[c] for c in columns])


def main(argv: list[str] | None = None) -> int:
    """``python -m ground.tmtc.decode FILE ...``: as ``thermine decode``."""
    return standalone("thermine decode", __doc__, _arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
