"""summary.json: what a run achieved, from plant truth where there is one (SI units)."""

from __future__ import annotations

from typing import Any

from flight.sequencer import Sequencer


def build_summary(seq: Sequencer, truth: dict[str, float] | None, seed: int,
                  mission_time_s: float, wall_time_s: float) -> dict[str, Any]:
    """The summary's keys are fixed by the ICD of run outputs (README, 'Outputs')."""
    t = truth or {}

    def get(key: str) -> float | None:
        return t.get(key)

    captured = None
    if truth is not None:
        captured = t["trap_ice_kg"] + t["reservoir_kg"] + t["electrolyzed_kg"]
    sublimated = None
    if truth is not None:
        sublimated = t["ice_initial_kg"] - t["sample_ice_kg"]
    heater_j = get("heater_energy_j")
    per_kg = heater_j / captured if heater_j is not None and captured else None
    floor_per_kg = None
    if truth is not None and t["sublimated_gross_kg"] > 0.0:
        floor_per_kg = t["energy_floor_j"] / t["sublimated_gross_kg"]
    return {
        "final_state": seq.state,
        "mission_complete": seq.complete,
        "mission_time_s": mission_time_s,
        "wall_time_s": wall_time_s,
        "realtime_factor": mission_time_s / wall_time_s if wall_time_s > 0 else None,
        "seed": seed,
        "ice_initial_kg": get("ice_initial_kg"),
        "water_sublimated_kg": sublimated,
        "water_captured_kg": captured,
        "water_lost_kg": get("lost_kg"),
        "water_electrolyzed_kg": get("electrolyzed_kg"),
        "h2_produced_kg": get("h2_kg"),
        "o2_produced_kg": get("o2_kg"),
        "heater_energy_j": heater_j,
        "electrolysis_energy_j": get("electrolysis_energy_j"),
        "electrolysis_charge_c": get("electrolysis_charge_c"),
        "energy_per_kg_water_j": per_kg,
        "energy_floor_j_per_kg": floor_per_kg,
        "energy_to_floor_ratio": per_kg / floor_per_kg if per_kg and floor_per_kg else None,
        "energy_balance_error_j": get("energy_balance_error_j"),
        "mass_balance_error_kg": get("mass_balance_error_kg"),
        "phases": [{"state": p.state, "entered_s": p.entered_s, "left_s": p.left_s}
                   for p in seq.phases],
        "faults": [],
        "safe_reason": seq.safe_reason if seq.state == "SAFE" else None,
    }
