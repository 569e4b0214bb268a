"""``thermine run`` and ``thermine fly``: fly the flight software into a run directory,
stop safely on a signal, print the progress and the summary."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from common.errors import ConfigError
from flight.telemetry import jsonable

EXIT_COMPLETE, EXIT_SAFE, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INCOMPLETE = 0, 1, 2, 3, 4
#: 128 + the signal's number, the shell's convention
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}


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
        now_s = run.platform.clock.now_s

        def show(event: str, fields: dict[str, Any]) -> None:
            line = _event_line(event, fields, now_s())
            if line is not None:
                print(line, file=sys.stderr)  # (progress on stderr, results on stdout)

        run.events.listeners.append(show)
        progress = _print_progress
    if not args.quiet and args.cmd == "run":
        print(f"thermine: flying '{inputs.mission.name}' (seed {inputs.mission.seed}) on "
              f"{inputs.hardware.backend} backend -> {out}", file=sys.stderr)
    with _StopOnSignal(run) as stop:
        try:
            summary = run.fly(until_s=getattr(args, "until", None), progress=progress)
        except Exception:  # an internal error: keep the evidence, say where it is
            (out / "error.txt").write_text(traceback.format_exc())
            print(f"thermine: internal error; traceback in {out / 'error.txt'}; the payload "
                  "was safed first (summary.json says how)", file=sys.stderr)
            return EXIT_INTERNAL
        if getattr(args, "plot", False) and len(stop.signals) < 2:
            from ground.plot import plot_run

            plot_run(out)
    if getattr(args, "json", False):  # for scripts: summary.json's content on stdout
        print(json.dumps(jsonable(summary), indent=2, allow_nan=False))
    else:
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


def _floor_text(s: dict[str, Any], g: Any) -> str:
    """``, 1.86x the floor of 4.38 MJ/kg``; when no water left the sample (no floor, so no
    ratio) it says so instead of ``n/ax the floor of n/a``."""
    if s.get("energy_floor_j_per_kg") is None or s.get("energy_to_floor_ratio") is None:
        return ", no floor (no water left the sample)"
    return (f", {g('energy_to_floor_ratio', fmt='.2f')}x the floor of "
            f"{g('energy_floor_j_per_kg', 1e-6, '.2f')} MJ/kg")


def _scoop_lines(s: dict[str, Any]) -> list[str]:
    """One line per scoop: flight's own figures, and in SIL its error against truth."""
    out = []
    for line in s.get("scoops") or []:
        err = line.get("error") or {}

        def e(key: str, err: dict[str, Any] = err) -> str:
            v = err.get(key)
            return "" if v is None else f" ({v * 100:+.2f} %)"

        done = "" if line.get("completed_s") is not None else "  (not complete)"
        per_kg = line.get("payload_j_per_kg")
        out.append(
            f"scoop {line['scoop']:<2}           {line['water_captured_kg'] * 1e3:.3f} g water"
            f"{e('water_captured_kg')}, {line['water_electrolyzed_kg'] * 1e3:.3f} g split"
            f"{e('water_electrolyzed_kg')}, H2 {line['h2_produced_kg'] * 1e3:.4f} g"
            f"{e('h2_produced_kg')}, "
            + ("n/a" if per_kg is None else f"{per_kg / 1e6:.1f} MJ/kg") + " (payload)"
            + done)
    return out


def _safing_line(summary: dict[str, Any]) -> str:
    from flight.safing import SafingReport

    return SafingReport.from_dict(summary["safing"]).line()


def mission_time(t_s: float) -> str:
    """Mission time for a person: seconds under an hour, hours above."""
    return f"{t_s:.1f} s" if t_s < 3600.0 else f"{t_s / 3600:.2f} h"


def _event_line(event: str, fields: dict[str, Any], t_s: float) -> str | None:
    """The console line of an event worth a line (None: not shown), stamped with its
    mission time."""
    t = f"  t={t_s:9.1f} s  "
    if event == "state_change":
        why = f"  ({fields['reason']})" if fields.get("reason") else ""
        return f"{t}{fields['source']} -> {fields['dest']}{why}"
    if event == "fdir_trip":
        return (f"{t}! FDIR {fields.get('monitor')}: {fields.get('detail')} -> "
                f"{fields.get('response')}")
    if event == "command" and not fields.get("accepted"):
        return (f"{t}! {fields.get('name')} ({fields.get('source')}) refused: "
                f"{fields.get('detail')}")
    if event == "sample_loaded":
        return f"{t}scoop {fields['scoop']} loaded"
    if event == "scoop_complete":
        return (f"{t}scoop {fields['scoop']} complete: {fields['water_captured_kg'] * 1e3:.3f} "
                f"g water captured, {fields['h2_produced_kg'] * 1e3:.4f} g H2")
    if event in ("sequence", "sequence_failed"):
        what = fields.get("action") or f"cancelled ({fields.get('reason')})"
        step = f" at step {fields['step']}" if fields.get("step") is not None else ""
        name = "the mission's sequence" if fields.get("id") == 255 else (
            f"sequence {fields.get('id')}")
        return f"{t}{name}: {what}{step}"
    if event == "power_shed":
        return f"{t}! power cap {fields['cap_w']:g} W: {fields['load']} shed"
    return None


def _fixed(v: float | None, fmt: str) -> str:
    """A reading as text (``-`` when missing); a value that rounds to zero shows no
    sign (sensor noise about 0 W is not ``-0.0 W``)."""
    if v is None:
        return "-"
    text = format(v, fmt)
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def _print_progress(now_s: float, state: str, r: dict[str, Any]) -> None:
    def f(key: str, scale: float = 1.0, fmt: str = ".1f") -> str:
        v = r.get(key)
        return _fixed(None if v is None else v * scale, fmt)

    print(f"  t={now_s:9.1f} s  {state:<16} heater {f('heater_temp_k')} K  "
          f"sample {f('sample_temp_k')} K  chamber {f('chamber_pressure_pa', fmt='.3g')} Pa  "
          f"trap {f('trap_temp_k')} K  reservoir {f('reservoir_mass_kg', 1e3, '.2f')} g  "
          f"bus {f('bus_power_w')} W", file=sys.stderr)


def _print_summary(s: dict[str, Any], out: Path) -> None:
    def g(key: str, scale: float = 1.0, fmt: str = ".3f") -> str:
        v = s.get(key)
        return "n/a" if v is None else format(v * scale, fmt)

    state = s["final_state"] + (" (mission complete)" if s["mission_complete"] else "")
    truth = s.get("truth") is not None
    lines = [
        f"final state        {state}",
        f"mission time       {mission_time(s['mission_time_s'])} "
        f"(real-time factor {g('realtime_factor', fmt='.0f')}x)",
        f"water captured     {g('water_captured_kg', 1e3)} g"
        + (f" of {g('ice_initial_kg', 1e3)} g ice (lost {g('water_lost_kg', 1e3, '.4f')} g)"
           if truth else " (flight's own accounting: the plant's truth is the board's)"),
        f"H2 / O2 produced   {g('h2_produced_kg', 1e3, '.4f')} g / "
        f"{g('o2_produced_kg', 1e3, '.4f')} g",
        f"energy per kg      {g('energy_per_kg_water_j', 1e-6, '.2f')} MJ/kg water (heater), "
        f"{g('payload_energy_per_kg_water_j', 1e-6, '.2f')} MJ/kg (whole payload)"
        + (_floor_text(s, g) if truth else ""),
    ]
    lines += _scoop_lines(s)
    if s.get("safe_reason"):
        lines.append(f"SAFE because       {s['safe_reason']}")
    if s.get("end_reason") == "time_limit":
        lines.append(f"ended by           the time limit at {mission_time(s['mission_time_s'])}"
                     " (--until or the mission's max_duration_s), not complete")
    if s.get("end_reason") == "shutdown":
        lines.append("ended by           SHUTDOWN command")
    if s.get("end_reason") == "interrupted":
        lines.append(f"ended by           {s.get('stop_signal')} (operator)")
    if s.get("safing") and not s["safing"]["confirmed"]:
        lines.append(f"payload            {_safing_line(s)}")
    lines.append(f"results in         {out}")
    print("\n".join(lines))


def cmd_fly(args: argparse.Namespace) -> int:
    """``thermine fly``: the flight software as a service. It boots, checks out and waits
    in IDLE; everything after comes from the ground (live telecommands, stored sequences
    uploaded over the uplink, or the mission's own). It runs until a SHUTDOWN command
    (exit 0), a signal (the payload safed first: 130/143) or the mission's
    ``max_duration_s`` (4); telemetry.jsonl, events.jsonl and downlink.bin roll over at
    ``--rotate-mb`` keeping ``--keep`` old files each."""
    from flight.storage import MIB, Rotation
    from ground.dirlock import lock_directory
    from ground.harness.run import Run, load_inputs

    if not args.rotate_mb > 0:
        raise ConfigError("--rotate-mb", f"must be > 0 MiB, got {args.rotate_mb}")
    if not args.rotate_hours >= 0:
        raise ConfigError("--rotate-hours", f"must be >= 0 h, got {args.rotate_hours}")
    try:
        rotation = Rotation(max(1024, int(args.rotate_mb * MIB)), args.keep,
                            args.rotate_hours * 3600.0 or None)
    except ValueError as exc:
        raise ConfigError("--keep", str(exc)) from None
    inputs = load_inputs(args.mission, args.hardware, args.seed)
    out = _run_dir(args, inputs.mission.name)
    old = sorted(p.name for pattern in ("*.jsonl.*", "downlink.bin.*") for p in out.glob(pattern))
    if old:  # (rolled-over files of an aborted session would mix with this one's)
        raise ConfigError(f"--out {out}", f"holds another session's rolled-over files "
                          f"({', '.join(old[:3])}{', ...' if len(old) > 3 else ''}); "
                          "choose another --out")
    created = not out.exists()
    lock = lock_directory(out, "run")
    try:
        try:
            run = Run(inputs, out, ground=args.ground, uplink=args.uplink, speed=args.speed,
                      rotation=rotation, service=True)
        except BaseException:
            lock.release()
            if created:
                shutil.rmtree(out, ignore_errors=True)
            raise
        if not args.quiet:
            print(f"thermine fly: '{inputs.mission.name}' on {inputs.hardware.backend} backend, "
                  f"telemetry to {args.ground}, telecommands from {args.uplink}; files roll "
                  f"over at {args.rotate_mb:g} MiB"
                  + (f" or {args.rotate_hours:g} h" if args.rotate_hours else "")
                  + f", {args.keep} kept -> {out}; SHUTDOWN or Ctrl-C ends it")
            sys.stdout.flush()
        code = _fly(run, args, out)
        # a SHUTDOWN is the service's normal end (in IDLE or in SAFE); an internal error
        # or a signal keeps its own code
        shutdown = run.executive.end_reason == "shutdown"
        return EXIT_COMPLETE if shutdown and code in (EXIT_SAFE, EXIT_INCOMPLETE) else code
    finally:
        lock.release()
