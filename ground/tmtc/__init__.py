"""The ground's side of the CCSDS link: decode downlink.bin (``thermine decode``), a live
console that watches telemetry and sends telecommands (``thermine ground``), and a
replay of a recorded downlink to a UDP port (``thermine ground replay``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from common.errors import ConfigError

EXIT_BAD_INPUT = 2


def standalone(prog: str, doc: str | None, add_arguments: Callable[[argparse.ArgumentParser], None],
               run: Callable[[argparse.Namespace], int], argv: list[str] | None) -> int:
    """``python -m ground.tmtc.<module> ...`` as the matching ``thermine`` sub-command: parse
    ``argv`` with ``add_arguments``, call ``run``; a ConfigError is one line and exit 2."""
    p = argparse.ArgumentParser(prog=prog, description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    try:
        args = p.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return run(args)
    except ConfigError as exc:
        print(f"thermine: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
