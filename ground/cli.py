"""The ``thermine`` command line: run, fly, plot, states, checkout, emulate, campaign, bench,
dictionary export, decode, ground (console, replay).

Exit codes: 0 mission complete; 1 ended in SAFE; 2 bad input or an operator error
(config, arguments, a port or run directory in use, the board's time mode); 3 internal
error (a bug); 4 stopped before completion (``--until`` or the mission's
``max_duration_s``) without SAFE; 130 stopped by SIGINT (Ctrl-C), 143 by SIGTERM, the
payload safed first; 141 the reader of its output went away (``| head``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from pathlib import Path

from common.errors import ConfigError
from ground.harness.ground_link import DEFAULT_TC_PORT, DEFAULT_TM_PORT
from ground.run_cli import (
    EXIT_BAD_INPUT,
    EXIT_COMPLETE,
    EXIT_INTERNAL,
    EXIT_SIGNAL,
    cmd_fly,
    cmd_run,
)
from hal.errors import HalError

#: the reader of stdout closed it (128 + SIGPIPE, as a shell reports it)
EXIT_BROKEN_PIPE = 141

DEFAULT_MISSION = Path("configs/missions/nominal.yaml")
DEFAULT_HARDWARE = Path("configs/hardware/sim.yaml")
DEFAULT_SERVICE = Path("configs/missions/service.yaml")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="thermine", description=(__doc__ or "").replace("``", ""),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    r = sub.add_parser("run", help="fly a mission (SIL by default)")
    r.add_argument("mission", nargs="?", type=Path, default=DEFAULT_MISSION,
                   help=f"mission YAML (default {DEFAULT_MISSION})")
    r.add_argument("--hardware", type=Path, default=DEFAULT_HARDWARE,
                   help=f"hardware YAML (default {DEFAULT_HARDWARE})")
    r.add_argument("--out", type=Path, help="run directory (default runs/<UTC time>-<mission>)")
    r.add_argument("--seed", type=int, help="override the mission's seed")
    r.add_argument("--until", type=float, metavar="SECONDS", help="stop at this mission time")
    r.add_argument("--plot", action="store_true", help="also write timeline.png")
    r.add_argument("--faults", type=Path, metavar="PLAN",
                   help="inject the faults of this plan (configs/faults/*.yaml)")
    r.add_argument("--quiet", action="store_true",
                   help="no progress (state changes, events, hourly readings) on stderr")
    r.add_argument("--json", action="store_true",
                   help="print the summary as JSON on stdout (summary.json's content)")
    r.add_argument("--ground", metavar="udp://HOST:PORT",
                   help="also send every TM packet there (Yamcs: udp://127.0.0.1:10015)")
    r.add_argument("--uplink", metavar="udp://HOST:PORT",
                   help="take telecommands from this UDP address (Yamcs: "
                   "udp://127.0.0.1:10025; binds 127.0.0.1 unless HOST says otherwise); "
                   "in SAFE the run then waits for the ground")
    r.add_argument("--speed", type=float, metavar="N",
                   help="SIL: follow the wall clock N times faster (1: real time); "
                   "default as fast as possible")
    f = sub.add_parser("fly", help="the flight software as a service: waits in IDLE for "
                       "the ground's telecommands and stored sequences until SHUTDOWN")
    f.add_argument("--mission", type=Path, default=DEFAULT_SERVICE,
                   help=f"mission YAML: configuration, and in SIL the samples of the scoops "
                   f"(default {DEFAULT_SERVICE})")
    f.add_argument("--hardware", type=Path, default=DEFAULT_HARDWARE,
                   help=f"hardware YAML (default {DEFAULT_HARDWARE}; "
                   "configs/hardware/bench-emulator.yaml for the board emulator)")
    f.add_argument("--ground", default=f"udp://127.0.0.1:{DEFAULT_TM_PORT}",
                   metavar="udp://HOST:PORT", help="send every TM packet there "
                   "(default %(default)s: thermine ground's --tm)")
    f.add_argument("--uplink", default=f"udp://127.0.0.1:{DEFAULT_TC_PORT}",
                   metavar="udp://HOST:PORT", help="take telecommands from there "
                   "(default %(default)s: thermine ground's --tc)")
    f.add_argument("--out", type=Path, help="run directory (default runs/<UTC time>-<mission>)")
    f.add_argument("--seed", type=int, help="override the mission's seed")
    f.add_argument("--speed", type=float, metavar="N",
                   help="SIL: N times the wall clock (default 1: real time)")
    f.add_argument("--rotate-mb", type=float, default=64.0, metavar="MIB",
                   help="roll telemetry.jsonl, events.jsonl and downlink.bin over at this "
                   "size (default %(default)s MiB)")
    f.add_argument("--rotate-hours", type=float, default=24.0, metavar="H",
                   help="... or once a file spans this much mission time (default "
                   "%(default)s h; 0: by size only)")
    f.add_argument("--keep", type=int, default=8,
                   help="old files kept per stream (default %(default)s: at most "
                   "(keep+1) x rotate-mb on disk each)")
    f.add_argument("--quiet", action="store_true", help="print only the summary")
    pl = sub.add_parser("plot", help="draw timeline.png of a run directory (--html: an "
                        "interactive timeline.html)")
    pl.add_argument("run_dir", type=Path, help="a run directory (it holds telemetry.jsonl)")
    pl.add_argument("--html", action="store_true",
                    help="write timeline.html instead: zoom, pan, hover values with units; "
                    "one self-contained file (plotly.js inlined, opens offline)")
    pl.add_argument("--mission", type=Path, metavar="YAML",
                    help="the mission YAML whose FDIR limits and setpoints to draw (default: "
                    "configs/missions/<the run's mission name>.yaml, else the shipped FDIR "
                    "table's limits and no setpoint)")
    sub.add_parser("states", help="print the mission state chart as a Mermaid diagram "
                   "(render it at mermaid.live, or with npx @mermaid-js/mermaid-cli)")
    c = sub.add_parser("checkout", help="ping, read and move every device: PASS/FAIL table")
    c.add_argument("--hardware", type=Path, default=DEFAULT_HARDWARE,
                   help=f"hardware YAML (default {DEFAULT_HARDWARE})")
    e = sub.add_parser("emulate", help="serve the payload-board emulator on a pty or TCP port")
    where = e.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve a pseudo-terminal (default)")
    where.add_argument("--tcp", type=int, metavar="PORT", help="serve TCP on 127.0.0.1:PORT")
    timing = e.add_mutually_exclusive_group()
    timing.add_argument("--lockstep", action="store_true",
                        help="the plant advances only on TIME_SYNC from the flight side")
    timing.add_argument("--speed", type=float, default=1.0,
                        help="real time, N times faster (default 1; 0.01..655.35): the "
                        "flight side reads the speed at session start and follows it")
    e.add_argument("--watchdog-s", type=float, default=2.0, metavar="SECONDS",
                   help="turn every actuator off after this long without a TC from the "
                   "flight side (link-loss watchdog, wall time; default 2)")
    e.add_argument("--mission", type=Path, default=Path("configs/missions/quick.yaml"),
                   help="mission YAML whose sample the board's plant holds")
    e.add_argument("--hardware", type=Path, default=DEFAULT_HARDWARE,
                   help="sim hardware YAML for the plant and sensor noise")
    e.add_argument("--seed", type=int, help="seed of the sensor noise")
    from ground.campaign.cli import add_parser as add_campaign

    add_campaign(sub)
    from ground.export.cli import add_parser as add_dictionary

    add_dictionary(sub)
    from ground.tmtc.console import add_parser as add_ground
    from ground.tmtc.decode import add_parser as add_decode

    add_decode(sub)
    add_ground(sub)
    b = sub.add_parser("bench", help="measure the plant and the nominal mission's speed")
    b.add_argument("--mission", type=Path, default=DEFAULT_MISSION,
                   help="mission flown for the real-time factor (default %(default)s)")
    b.add_argument("--hardware", type=Path, default=DEFAULT_HARDWARE,
                   help="hardware YAML of the plant step and the flights (default "
                   "%(default)s)")
    b.add_argument("--steps", type=int, default=20000, help="plant steps to time")
    b.add_argument("--flights", type=int, default=5,
                   help="fly the mission this many times; the best is the figure, the median "
                   "and the slowest are printed too (>= 1)")
    b.add_argument("--campaign", type=Path, default=Path("configs/campaigns/single-faults.yaml"),
                   help="campaign whose first --campaign-runs runs are timed")
    b.add_argument("--campaign-runs", type=int, default=100,
                   help="runs of the campaign benchmark with 1 and 2 workers (0: skip)")
    b.add_argument("--scoops-mission", type=Path,
                   default=Path("configs/missions/five-scoops.yaml"),
                   help="several-scoop mission flown for its real-time factor and accounting")
    b.add_argument("--scoop-flights", type=int, default=3,
                   help="fly it this many times (0: skip; default %(default)s)")
    b.add_argument("--no-downlink-cost", action="store_true",
                   help="do not fly the mission again without the downlink to compare")
    b.add_argument("--uplink-rate", type=float, default=1000.0, metavar="TC_PER_S",
                   help="telecommands per second flooded into a paced run for 10 s (0: skip)")
    return p


def _version() -> str:
    """The installed package's version (and the source tree's when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("thermine")
    except PackageNotFoundError:
        return "(not installed)"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``thermine`` console script; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad arguments, 0 on --help
        return int(exc.code or 0)
    if args.cmd is None:  # bare `thermine`: what it can do, not an argparse complaint
        parser.print_help(sys.stderr)
        print("\nthermine: choose a COMMAND (thermine COMMAND --help says more)",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.cmd == "run":
            return cmd_run(args)
        if args.cmd == "fly":
            return cmd_fly(args)
        if args.cmd == "plot":
            if args.html:
                from ground.plot_html import plot_html

                print(plot_html(args.run_dir, args.mission))
            else:
                from ground.plot import plot_run

                print(plot_run(args.run_dir, args.mission))
            return EXIT_COMPLETE
        if args.cmd == "states":
            from ground.states_diagram import mermaid

            print(mermaid())
            return EXIT_COMPLETE
        if args.cmd == "checkout":
            from ground.checkout import checkout

            return checkout(args.hardware)
        if args.cmd == "emulate":
            from ground.gse.emulator_cli import run_emulator

            return run_emulator(args.mission, args.hardware,
                                "tcp" if args.tcp is not None else "pty",
                                args.tcp or 0, args.lockstep, args.speed, args.seed,
                                watchdog_s=args.watchdog_s)
        if args.cmd == "decode":
            from ground.tmtc.decode import run as decode_run

            return decode_run(args)
        if args.cmd == "ground":
            from ground.tmtc.console import run as ground_run

            return ground_run(args)
        if args.cmd == "dictionary":
            from ground.export.cli import run as dictionary_run

            return dictionary_run(args)
        if args.cmd == "campaign":
            from ground.campaign.cli import main as campaign_main

            return campaign_main(args)
        from ground.perf.bench import bench

        if args.flights < 1:
            raise ConfigError("--flights", f"must be >= 1, got {args.flights}")
        bench(args.mission, args.hardware, args.steps, flights=args.flights,
              downlink_cost=not args.no_downlink_cost)
        if args.scoop_flights > 0:
            from ground.perf.scoops import bench_scoops

            bench_scoops(args.scoops_mission, args.hardware, args.scoop_flights)
        if args.uplink_rate > 0:
            from ground.perf.uplink import bench_uplink

            bench_uplink(args.uplink_rate)
        if args.campaign_runs > 0:
            from ground.perf.campaign import bench_campaign

            bench_campaign(args.campaign, args.campaign_runs)
        return EXIT_COMPLETE
    except (ConfigError, FileNotFoundError) as exc:
        print(f"thermine: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except HalError as exc:  # the hardware is not there or not answering
        print(f"thermine: hardware error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # stdout's reader went away (`thermine decode ... | head`)
        devnull = os.open(os.devnull, os.O_WRONLY)  # (so the exit's flush does not fail)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:  # before a run started (loading, connecting): nothing commanded
        print("thermine: interrupted before anything was commanded", file=sys.stderr)
        return EXIT_SIGNAL[signal.SIGINT]
    except Exception:  # a bug, not bad input: say so plainly, with the evidence
        traceback.print_exc()
        print("thermine: internal error (a bug: please report it with the lines above)",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
