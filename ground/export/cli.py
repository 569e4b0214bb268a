"""thermine dictionary export: the dictionary for the ground tools.

    thermine dictionary export [--xtce FILE] [--cosmos DIR] [--json FILE]

--xtce: XTCE 1.2 for Yamcs (and any XTCE decoder); --cosmos: an OpenC3 COSMOS plugin
directory (plugin.txt, targets/THERMINE/); --json: the dictionary and the packet
layouts as one JSON document (scripts, Open MCT). At least one is needed.

Exit codes: 0 written; 2 bad arguments or a file that cannot be written.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from common.errors import ConfigError

EXIT_OK = 0


def add_parser(subparsers: Any) -> None:
    """Add ``dictionary`` (with its sub-command ``export``) to the ``thermine`` parser."""
    p = subparsers.add_parser("dictionary", help="export the dictionary for ground tools "
                              "(XTCE for Yamcs, an OpenC3 COSMOS target, JSON)",
                              description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="dictionary_cmd", metavar="export", required=True)
    e = sub.add_parser("export", help="write XTCE, a COSMOS target and/or JSON",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("--xtce", type=Path, metavar="FILE", help="XTCE 1.2 (Yamcs' mission database)")
    e.add_argument("--cosmos", type=Path, metavar="DIR",
                   help="OpenC3 COSMOS plugin directory: plugin.txt and targets/THERMINE/")
    e.add_argument("--json", type=Path, metavar="FILE",
                   help="the dictionary and the packet layouts as JSON")


def run(args: argparse.Namespace) -> int:
    """Carry out ``thermine dictionary export``; prints each path written.

    Raises:
        ConfigError: no output asked for, a path that cannot be written (naming the
            option and the path), or a dictionary the exports cannot lay out.
    """
    if getattr(args, "dictionary_cmd", None) != "export":
        raise ConfigError("dictionary", "expected the sub-command 'export'")
    if not (args.xtce or args.cosmos or args.json):
        raise ConfigError("dictionary export", "nothing to write: give one or more of "
                          "--xtce FILE, --cosmos DIR, --json FILE")
    if args.xtce:
        from ground.export.xtce import write_xtce

        print(f"XTCE 1.2     {write_xtce(args.xtce)}")
    if args.cosmos:
        from ground.export.cosmos import write_cosmos

        print(f"COSMOS       {write_cosmos(args.cosmos)}")
    if args.json:
        from ground.export.json_dict import write_json

        print(f"JSON         {write_json(args.json)}")
    return EXIT_OK
