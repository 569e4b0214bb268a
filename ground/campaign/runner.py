"""One campaign run: a pure function of its :class:`~ground.campaign.spec.RunSpec`.

:func:`run_one` flies the mission in a private temporary directory, judges the summary
against the case's expectations and the campaign's criteria, and returns the results
line plus (for the runs whose files are kept) the run's files as bytes, so the same
function works in a local process and on a Dask worker on another machine. It never
raises: an exception in the run, or the per-run wall-time limit, becomes an ``error`` /
``timeout`` record with the traceback.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ground.campaign.spec import NOMINAL, RunSpec

if TYPE_CHECKING:
    from ground.harness.run import Inputs

#: the run's files a kept run brings back (telemetry is the large one)
RUN_FILES = ("summary.json", "events.jsonl", "telemetry.jsonl", "timeline.png")


class RunTimeout(Exception):
    """The run passed its wall-time limit (raised from the progress callback)."""


def judge(spec: RunSpec, summary: dict[str, Any]) -> tuple[str, list[str], dict[str, Any]]:
    """Outcome (``pass``/``fail``) and the reasons for a fail; plus the detection fields
    of the results line (injected_at_s, detected, detection_latency_s,
    detection_bound_s, monitor, response)."""
    reasons: list[str] = []
    crit, expect = spec.criteria, spec.expect
    violations = summary.get("violations") or []
    if len(violations) > crit["max_violations"]:
        worst = ", ".join(f"{v['invariant']} at {v['at_s']:.1f} s" for v in violations[:3])
        reasons.append(f"{len(violations)} safety violation(s): {worst}")
    det: dict[str, Any] = {"injected_at_s": None, "detected": None,
                           "detection_latency_s": None,
                           "detection_bound_s": expect.get("detect_within_s"),
                           "monitor": None, "response": None}
    state = summary.get("final_state")
    if spec.fault == NOMINAL:
        if crit["nominal_must_complete"] and not summary.get("mission_complete"):
            reasons.append(f"fault-free run did not complete: ended in {state} "
                           f"({summary.get('end_reason')}; {summary.get('safe_reason') or ''})")
        trips = summary.get("fdir_records") or []
        if crit["nominal_no_trip"] and trips:
            first = trips[0]
            reasons.append(f"false alarm: {first.get('monitor')} tripped at "
                           f"{first.get('tripped_at_s', float('nan')):.1f} s in a fault-free run")
        return ("fail" if reasons else "pass"), reasons, det
    faults = summary.get("faults") or []
    injected = [f for f in faults if f.get("injected_at_s") is not None]
    if not injected:
        if expect["injected"]:
            reasons.append("not injected: its trigger never came")
    else:
        first = min(injected, key=lambda f: f["injected_at_s"])
        det["injected_at_s"] = first["injected_at_s"]
        caught = [f for f in injected if f.get("detected_at_s") is not None]
        det["detected"] = bool(caught)
        if caught:
            f = min(caught, key=lambda f: f["detected_at_s"])
            det["detection_latency_s"] = f["detected_at_s"] - first["injected_at_s"]
            det["monitor"], det["response"] = f.get("monitor"), f.get("response")
        bound = expect.get("detect_within_s")
        if bound is not None:
            if not caught:
                reasons.append(f"not detected within {bound:g} s (injected at "
                               f"{first['injected_at_s']:.1f} s, trigger {spec.trigger})")
            elif det["detection_latency_s"] > bound:
                reasons.append(f"detected {det['detection_latency_s']:.1f} s after injection "
                               f"by {det['monitor']}, bound {bound:g} s")
    if expect.get("end_state") and state not in expect["end_state"]:
        reasons.append(f"ended in {state} ({summary.get('end_reason')}), expected "
                       f"{' or '.join(expect['end_state'])}")
    if expect.get("complete") is not None and bool(summary.get("mission_complete")) != \
            expect["complete"]:
        want = "complete" if expect["complete"] else "not complete"
        reasons.append(f"mission expected to {want}; ended in {state}")
    return ("fail" if reasons else "pass"), reasons, det


@functools.lru_cache(maxsize=4)
def _base_inputs(mission: str, hardware: str) -> Inputs:
    """The campaign's mission and hardware, parsed once per worker process (the campaign
    hashed them before any run, and inputs are immutable dataclasses)."""
    from ground.harness.run import load_inputs

    return load_inputs(mission, hardware)


def _fly(spec: RunSpec, run_dir: Path, deadline: float) -> dict[str, Any]:
    from ground.campaign.dispersions import apply
    from ground.harness.run import Run, with_plan

    inputs = _base_inputs(spec.mission, spec.hardware)
    inputs = dataclasses.replace(inputs, mission=dataclasses.replace(inputs.mission,
                                                                     seed=spec.seed))
    if spec.dispersions:
        inputs = apply(inputs, spec.dispersions)
    if spec.plan is not None:
        inputs = with_plan(inputs, spec.plan, spec.plan_where)

    def watchdog(now_s: float, state: str, readings: dict[str, Any]) -> None:
        if time.perf_counter() > deadline:
            raise RunTimeout(f"wall-time limit of {spec.time_limit_s:g} s passed at mission "
                             f"time {now_s:.0f} s in {state}")

    run = Run(inputs, run_dir)
    return run.fly(progress=watchdog)


def blank_record(spec: RunSpec) -> dict[str, Any]:
    """A results line for ``spec`` before it ran: outcome ``error``, every field present."""
    return {
        "run_id": spec.run_id, "index": spec.index, "seed": spec.seed, "fault": spec.fault,
        "fault_spec": spec.plan["faults"][0] if spec.plan and spec.plan.get("faults")
        else None,
        "trigger": spec.trigger, "expect": dict(spec.expect),
        "dispersions": dict(spec.dispersions),
        "outcome": "error", "reasons": [], "final_state": None, "mission_complete": None,
        "end_reason": None, "injected_at_s": None, "detected": None, "detection_latency_s": None,
        "detection_bound_s": spec.expect.get("detect_within_s"), "monitor": None,
        "response": None, "violations": [], "mission_time_s": None, "wall_time_s": 0.0,
        "worker_rss_mb": None, "telemetry_sha256": None, "run_dir": None, "error": None}


def run_one(spec: RunSpec, plot: bool = True) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Fly ``spec``; return its results line and the files of a kept run (else ``{}``).

    ``plot``: draw timeline.png for a kept run. Never raises for a failing run.
    """
    t0 = time.perf_counter()
    record = blank_record(spec)
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="thermine-run-") as tmp:
        run_dir = Path(tmp) / spec.run_id
        try:
            summary = _fly(spec, run_dir, t0 + spec.time_limit_s)
            outcome, reasons, det = judge(spec, summary)
            record.update(det)
            record.update(outcome=outcome, reasons=reasons,
                          final_state=summary["final_state"],
                          mission_complete=summary["mission_complete"],
                          end_reason=summary.get("end_reason"),
                          violations=summary.get("violations") or [],
                          mission_time_s=summary["mission_time_s"])
        except RunTimeout as exc:
            record.update(outcome="timeout", reasons=[str(exc)], error=traceback.format_exc())
        except Exception as exc:  # noqa: BLE001 - a run's bug must not stop the campaign
            record.update(outcome="error", reasons=[f"{type(exc).__name__}: {exc}"],
                          error=traceback.format_exc())
        tel = run_dir / "telemetry.jsonl"
        if tel.exists():
            record["telemetry_sha256"] = hashlib.sha256(tel.read_bytes()).hexdigest()
        keep = spec.keep == "all" or (spec.keep == "failures" and record["outcome"] != "pass")
        if keep and run_dir.exists():
            if plot and tel.exists():
                try:
                    from ground.plot import plot_run

                    plot_run(run_dir)
                except Exception as exc:  # noqa: BLE001 - a plot is a convenience
                    print(f"thermine: no timeline for {spec.run_id}: {exc}", file=sys.stderr)
            files = {n: (run_dir / n).read_bytes() for n in RUN_FILES if (run_dir / n).exists()}
            record["run_dir"] = f"runs/{spec.run_id}"
    record["wall_time_s"] = time.perf_counter() - t0
    record["worker_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return record, files


def spec_from_dict(d: dict[str, Any]) -> RunSpec:
    """A :class:`RunSpec` from its ``dataclasses.asdict`` form."""
    return RunSpec(**{f.name: d[f.name] for f in dataclasses.fields(RunSpec)})
