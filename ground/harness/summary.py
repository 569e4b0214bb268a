"""summary.json: what a run achieved (SI units).

The yields are flight's own accounting (:mod:`flight.accounting`), on every backend: the
run's totals at the top level and one line per scoop under ``scoops``. In SIL the plant's
truth stands beside each estimate (``truth``) with the estimate's relative error
(``error``); the figures only the plant can know (the ice loaded, what sublimated or was
lost, the energy floor, the balances) are truth alone, and null on the bench.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flight.accounting import ENERGY_KEYS
from flight.sequencer import Sequencer

Truth = Mapping[str, float]

#: each estimate's truth, read off a plant truth snapshot (cumulative: a scoop's truth
#: is the difference of two snapshots)
TRUTH_OF: dict[str, Callable[[Truth], float]] = {
    # every kilogram that reached the trap: still ice on it, melted, or split since
    "water_captured_kg": lambda t: t["trap_ice_kg"] + t["reservoir_kg"] + t["electrolyzed_kg"],
    "water_electrolyzed_kg": lambda t: t["electrolyzed_kg"],
    "h2_produced_kg": lambda t: t["h2_kg"],
    "o2_produced_kg": lambda t: t["o2_kg"],
    # the ideal-gas cross-check sees what is in the tank: produced less leaked
    "h2_tank_kg": lambda t: t["h2_kg"] - t["h2_leaked_kg"],
    "o2_tank_kg": lambda t: t["o2_kg"],
    "energy_bus_j": lambda t: t["bus_energy_j"],
    "energy_heater_j": lambda t: t["heater_energy_j"],
    "energy_cryocooler_j": lambda t: t["cryocooler_energy_j"],
    "energy_trap_heater_j": lambda t: t["trap_heater_energy_j"],
    "energy_electrolyzer_j": lambda t: t["electrolysis_energy_j"],
    "energy_avionics_j": lambda t: 0.0,  # the plant models no avionics load
}


def truth_between(start: Truth, end: Truth) -> dict[str, float]:
    """Every estimate's truth over the interval between two snapshots."""
    return {k: f(end) - f(start) for k, f in TRUTH_OF.items()}


def relative_errors(estimate: Mapping[str, Any], truth: Mapping[str, float]
                    ) -> dict[str, float | None]:
    """(estimate - truth) / truth per key (None where the truth is 0 or either is
    missing)."""
    out: dict[str, float | None] = {}
    for k, t in truth.items():
        e = estimate.get(k)
        out[k] = None if e is None or e != e or not t else (e - t) / t
    return out


def _flat(line: Mapping[str, Any]) -> dict[str, Any]:
    """A yield line with its energies at the top level (the keys of TRUTH_OF)."""
    d = {k: v for k, v in line.items() if k != "energy_j"}
    d.update(line.get("energy_j", {}))
    return d


def scoop_lines(accounting: Mapping[str, Any],
                truths: Sequence[tuple[Truth, Truth | None]] | None,
                final: Truth | None) -> list[dict[str, Any]]:
    """The yield lines, each with its truth and error when ``truths`` (per scoop: the
    snapshot when it was loaded and when it completed; None: still running at the end,
    so ``final``) are given."""
    lines = []
    for i, line in enumerate(accounting["scoops"]):
        d = _flat(line)
        if truths is not None and i < len(truths) and final is not None:
            start, end = truths[i]
            truth = truth_between(start, end if end is not None else final)
            d["truth"] = truth
            d["error"] = relative_errors(d, truth)
            captured = truth["water_captured_kg"]
            d["truth"]["heater_j_per_kg"] = (truth["energy_heater_j"] / captured
                                            if captured > 0.0 else None)
            d["truth"]["payload_j_per_kg"] = (truth["energy_bus_j"] / captured
                                             if captured > 0.0 else None)
        lines.append(d)
    return lines


def build_summary(seq: Sequencer, truth: dict[str, float] | None, seed: int,
                  mission_time_s: float, wall_time_s: float,
                  accounting: Mapping[str, Any] | None = None,
                  start_truth: Truth | None = None) -> dict[str, Any]:
    """The summary's keys are fixed by the ICD of run outputs (README, 'Outputs').

    ``truth``: the plant's at the end (SIL; None on the bench), ``start_truth`` at the
    start; ``accounting``: flight's own (:meth:`flight.accounting.Accountant.summary`).
    """
    t = truth or {}
    acc = _flat(accounting["totals"]) if accounting is not None else {}

    def get(key: str) -> float | None:
        return t.get(key)

    sublimated = None
    if truth is not None:
        sublimated = t["ice_initial_kg"] - t["sample_ice_kg"] - t.get("spent_ice_kg", 0.0)
    captured = acc.get("water_captured_kg")
    heater_j = acc.get("energy_heater_j")
    bus_j = acc.get("energy_bus_j")
    per_kg = heater_j / captured if heater_j is not None and captured else None
    floor_per_kg = None
    if truth is not None and sublimated:  # the floor of the water that left the sample
        floor_per_kg = t["energy_floor_j"] / sublimated
    out: dict[str, Any] = {
        "final_state": seq.state,
        "mission_complete": seq.complete,
        "mission_time_s": mission_time_s,
        "wall_time_s": wall_time_s,
        "realtime_factor": mission_time_s / wall_time_s if wall_time_s > 0 else None,
        "seed": seed,
        "scoops_loaded": acc.get("scoop"),
        "ice_initial_kg": get("ice_initial_kg"),
        "water_left_sample_kg": sublimated,
        "water_sublimated_gross_kg": get("sublimated_gross_kg"),
        "water_captured_kg": captured,
        "water_lost_kg": get("lost_kg"),
        "water_electrolyzed_kg": acc.get("water_electrolyzed_kg"),
        "h2_produced_kg": acc.get("h2_produced_kg"),
        "o2_produced_kg": acc.get("o2_produced_kg"),
        "h2_tank_kg": acc.get("h2_tank_kg"),
        "o2_tank_kg": acc.get("o2_tank_kg"),
        "heater_energy_j": heater_j,
        "electrolysis_energy_j": acc.get("energy_electrolyzer_j"),
        "energy_j": {k: acc.get(k) for k in ENERGY_KEYS},
        "electrolysis_charge_c": get("electrolysis_charge_c"),
        "energy_per_kg_water_j": per_kg,
        "payload_energy_per_kg_water_j": bus_j / captured if bus_j is not None and captured
        else None,
        "energy_floor_j_per_kg": floor_per_kg,
        "energy_to_floor_ratio": per_kg / floor_per_kg if per_kg and floor_per_kg else None,
        "energy_balance_error_j": get("energy_balance_error_j"),
        "mass_balance_error_kg": get("mass_balance_error_kg"),
        # (mission times to the microsecond: 19345.6, not 19345.600000000002)
        "phases": [{"state": p.state, "entered_s": round(p.entered_s, 6),
                    "left_s": None if p.left_s is None else round(p.left_s, 6)}
                   for p in seq.phases],
        "faults": [],
        "safe_reason": seq.safe_reason if seq.state == "SAFE" else None,
    }
    if truth is not None and start_truth is not None and accounting is not None:
        run_truth = truth_between(start_truth, truth)
        out["truth"] = run_truth
        out["estimate_error"] = relative_errors(acc, run_truth)
    else:
        out["truth"] = None
        out["estimate_error"] = None
    return out
