"""The ``thermine`` command line: run, plot, states, checkout, emulate, campaign, bench,
dictionary export, decode, ground (console, replay).

Exit codes: 0 mission complete; 1 ended in SAFE; 2 bad input or an operator error
(config, arguments, a port or run directory in use, the board's time mode); 3 internal
error (a bug); 4 stopped before completion (``--until`` or the mission's
``max_duration_s``) without SAFE; 130 stopped by SIGINT (Ctrl-C), 143 by SIGTERM, the
payload safed first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from common.errors import ConfigError
from hal.errors import HalError

EXIT_COMPLETE, EXIT_SAFE, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INCOMPLETE = 0, 1, 2, 3, 4
#: 128 + the signal's number, the shell's convention
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}
DEFAULT_MISSION = Path("configs/missions/nominal.yaml")
DEFAULT_HARDWARE = Path("configs/hardware/sim.yaml")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="thermine", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
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
    r.add_argument("--quiet", action="store_true", help="print only the summary")
    r.add_argument("--ground", metavar="udp://HOST:PORT",
                   help="also send every TM packet there (Yamcs: udp://127.0.0.1:10015)")
    r.add_argument("--uplink", metavar="udp://HOST:PORT",
                   help="take telecommands from this UDP address (Yamcs: "
                   "udp://127.0.0.1:10025; binds 127.0.0.1 unless HOST says otherwise); "
                   "in SAFE the run then waits for the ground")
    r.add_argument("--speed", type=float, metavar="N",
                   help="SIL: follow the wall clock N times faster (1: real time); "
                   "default as fast as possible")
    pl = sub.add_parser("plot", help="draw timeline.png of a run directory")
    pl.add_argument("run_dir", type=Path)
    sub.add_parser("states", help="print the mission state chart as a Mermaid diagram")
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
    b.add_argument("--mission", type=Path, default=DEFAULT_MISSION)
    b.add_argument("--hardware", type=Path, default=DEFAULT_HARDWARE)
    b.add_argument("--steps", type=int, default=20000, help="plant steps to time")
    b.add_argument("--flights", type=int, default=5,
                   help="fly the mission this many times; the best is the figure, the median "
                   "and the slowest are printed too (>= 1)")
    b.add_argument("--campaign", type=Path, default=Path("configs/campaigns/single-faults.yaml"),
                   help="campaign whose first --campaign-runs runs are timed")
    b.add_argument("--campaign-runs", type=int, default=100,
                   help="runs of the campaign benchmark with 1 and 2 workers (0: skip)")
    b.add_argument("--no-downlink-cost", action="store_true",
                   help="do not fly the mission again without the downlink to compare")
    b.add_argument("--uplink-rate", type=float, default=1000.0, metavar="TC_PER_S",
                   help="telecommands per second flooded into a paced run for 10 s (0: skip)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``thermine`` console script; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad arguments, 0 on --help
        return int(exc.code or 0)
    try:
        if args.cmd == "run":
            return cmd_run(args)
        if args.cmd == "plot":
            from ground.plot import plot_run

            print(plot_run(args.run_dir))
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
    except KeyboardInterrupt:  # before a run started (loading, connecting): nothing commanded
        print("thermine: interrupted before anything was commanded", file=sys.stderr)
        return EXIT_SIGNAL[signal.SIGINT]
    except Exception:  # a bug, not bad input: say so plainly, with the evidence
        traceback.print_exc()
        print("thermine: internal error (a bug: please report it with the lines above)",
              file=sys.stderr)
        return EXIT_INTERNAL


def _run_dir(args: argparse.Namespace, mission_name: str) -> Path:
    if args.out is not None:
        if args.out.exists() and not args.out.is_dir():
            raise ConfigError(f"--out {args.out}", "is a file, not a directory; choose "
                              "another --out")
        if (args.out / "summary.json").exists():
            raise ConfigError(f"--out {args.out}", "already holds a finished run; choose "
                              "another --out")
        return args.out
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    base = Path("runs") / f"{stamp}-{mission_name}"
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


class _StopOnSignal:
    """SIGINT and SIGTERM end the run safely: the first asks the run to stop after the
    cycle in progress (then it safes the payload, reads back, writes the summary); any
    later one is noted and skips only what follows the summary (the plot), never the
    safing. The previous handlers are restored on exit."""

    def __init__(self, run: Any) -> None:
        self.run = run
        self.signals: list[int] = []
        self._old: dict[int, Any] = {}

    def _handle(self, signum: int, frame: object) -> None:
        self.signals.append(signum)
        if len(self.signals) == 1:
            self.run.request_stop(signal.Signals(signum).name)

    def __enter__(self) -> _StopOnSignal:
        for sig in EXIT_SIGNAL:
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)

    @property
    def first(self) -> int | None:
        return self.signals[0] if self.signals else None


def cmd_run(args: argparse.Namespace) -> int:
    """``thermine run``: validate, lock the run directory, fly, safe, summarise."""
    from ground.dirlock import lock_directory
    from ground.harness.run import Run, load_inputs

    if args.until is not None and not args.until > 0:
        raise ConfigError("--until", f"must be > 0 s, got {args.until}")
    inputs = load_inputs(args.mission, args.hardware, args.seed, args.faults)
    out = _run_dir(args, inputs.mission.name)
    created = not out.exists()
    lock = lock_directory(out, "run")
    try:
        try:
            run = Run(inputs, out, ground=args.ground, uplink=args.uplink, speed=args.speed)
        except BaseException:  # nothing flew: leave no half-made run directory behind
            lock.release()
            if created:
                shutil.rmtree(out, ignore_errors=True)
            raise
        return _fly(run, args, out)
    finally:
        lock.release()


def _fly(run: Any, args: argparse.Namespace, out: Path) -> int:
    inputs = run.inputs
    progress = None
    if not args.quiet:
        print(f"thermine: flying '{inputs.mission.name}' (seed {inputs.mission.seed}) on "
              f"{inputs.hardware.backend} backend -> {out}")
        run.events.listeners.append(_print_event)
        progress = _print_progress
    with _StopOnSignal(run) as stop:
        try:
            summary = run.fly(until_s=args.until, progress=progress)
        except Exception:  # an internal error: keep the evidence, say where it is
            (out / "error.txt").write_text(traceback.format_exc())
            print(f"thermine: internal error; traceback in {out / 'error.txt'}; the payload "
                  "was safed first (summary.json says how)", file=sys.stderr)
            return EXIT_INTERNAL
        if args.plot and len(stop.signals) < 2:
            from ground.plot import plot_run

            plot_run(out)
    _print_summary(summary, out)
    if stop.first is not None:
        sig = signal.Signals(stop.first)
        name = sig.name
        print(f"thermine: interrupted by {name} at t={summary['mission_time_s']:.1f} s in "
              f"{summary['final_state']}; {_safing_line(summary)}; summary in "
              f"{out / 'summary.json'}", file=sys.stderr)
        return EXIT_SIGNAL[sig]
    if summary["mission_complete"]:
        return EXIT_COMPLETE
    return EXIT_SAFE if summary["final_state"] == "SAFE" else EXIT_INCOMPLETE


def _safing_line(summary: dict[str, Any]) -> str:
    from flight.safing import SafingReport

    return SafingReport.from_dict(summary["safing"]).line()


def _print_event(event: str, fields: dict[str, Any]) -> None:
    if event == "state_change":
        why = f"  ({fields['reason']})" if fields.get("reason") else ""
        print(f"  {fields['source']:>16} -> {fields['dest']:<16}{why}")
    elif event.startswith("fdir_trip") or (event == "command" and not fields.get("accepted")):
        print(f"  ! {event}: {fields}")


def _print_progress(now_s: float, state: str, r: dict[str, Any]) -> None:
    def f(key: str, scale: float = 1.0, fmt: str = ".1f") -> str:
        v = r.get(key)
        return "-" if v is None else format(v * scale, fmt)

    print(f"  t={now_s / 3600:6.2f} h  {state:<16} heater {f('heater_temp_k')} K  "
          f"sample {f('sample_temp_k')} K  chamber {f('chamber_pressure_pa', fmt='.3g')} Pa  "
          f"trap {f('trap_temp_k')} K  reservoir {f('reservoir_mass_kg', 1e3, '.2f')} g  "
          f"bus {f('bus_power_w')} W")


def _print_summary(s: dict[str, Any], out: Path) -> None:
    def g(key: str, scale: float = 1.0, fmt: str = ".3f") -> str:
        v = s.get(key)
        return "n/a" if v is None else format(v * scale, fmt)

    state = s["final_state"] + (" (mission complete)" if s["mission_complete"] else "")
    lines = [
        f"final state        {state}",
        f"mission time       {s['mission_time_s'] / 3600:.2f} h "
        f"(real-time factor {g('realtime_factor', fmt='.0f')}x)",
        f"water captured     {g('water_captured_kg', 1e3)} g of {g('ice_initial_kg', 1e3)} g ice "
        f"(lost {g('water_lost_kg', 1e3, '.4f')} g)",
        f"H2 / O2 produced   {g('h2_produced_kg', 1e3, '.4f')} g / "
        f"{g('o2_produced_kg', 1e3, '.4f')} g",
        f"energy per kg      {g('energy_per_kg_water_j', 1e-6, '.2f')} MJ/kg water (heater), "
        f"{g('energy_to_floor_ratio', fmt='.2f')}x the floor of "
        f"{g('energy_floor_j_per_kg', 1e-6, '.2f')} MJ/kg",
    ]
    if s.get("safe_reason"):
        lines.append(f"SAFE because       {s['safe_reason']}")
    if s.get("end_reason") == "interrupted":
        lines.append(f"ended by           {s.get('stop_signal')} (operator)")
    if s.get("safing") and not s["safing"]["confirmed"]:
        lines.append(f"payload            {_safing_line(s)}")
    lines.append(f"results in         {out}")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
