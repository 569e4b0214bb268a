"""Sensitivity of a scoop's extraction to the sample physics (the table in docs/physics.md).

Drives :class:`sims.plant.Plant` directly, with no flight software. The plate is held at
360 K by a proportional controller: heater power = clip(2 W/K x (360 K - plate), 0, 30 W),
set before every step. The valve is open, the cryocooler on, and the plant is stepped every
1 s for 24 h. Everything else is the plant default (sims/params.py). Two samples are run:

* the nominal scoop: the default ``SampleParams``, 0.15 kg, 10.5 mm deep;
* a 42 mm sample: the mass that fills the 0.11 m crucible 42 mm deep at the bulk density
  (~0.599 kg).

Each sample is run at every case: the baseline (granular ice, the default); the bulk
conductivity x0.25 and x4 (``conductivity_scale``); grains of 20 um and 250 um
(``grain_diameter_m``); and the pore_filling and cemented ice textures (``ice_texture``).
The extracted fraction is 1 - (ice in the sample) / (initial ice): the water that left the
sample, whether the trap caught it, it is still in the chamber, or it was lost. For each
run the script reports t50 and t90 (the time to 50 % and 90 % extracted, interpolated
within the step) and the extracted fraction ("yield") at 1 h and at 24 h.

The second table compares the 42 mm sample's dried depth after 16 h (or at the end of a
shorter run) with an analytic quasi-steady front. That front is a one-phase Stefan problem
in its small-Stefan-number limit; the front temperature is set by the vapour's Knudsen
diffusion through the dry layer. The dried depth is measured as
the depth of the top of the first layer (from the top) that still holds more than 0.1 % of
its initial ice, plus the part of that layer already emptied (the fraction of its initial
ice it has lost, clipped to 0..1). The analytic front is
``s = sqrt(2 k_d (T_h - T_f) t / (rho_ib L + sensible))``, with:

* T_h = 360 K (the plate);
* T_f the front temperature, the root of ``k_d (T_h - T_f) = L D_K(T_f) rho_sat(T_f)``
  (heat in through the dry layer = latent heat of the vapour diffusing out; no sensible
  heat);
* k_d the dry conductivity (Hayne et al.'s law at the sample's conductivity depth and
  grain size, times ``conductivity_scale``), averaged over T_f..T_h. That average is exact
  for a steady profile, whose flux is the integral of k dT over s;
* D_K the Knudsen diffusivity with the sample's pore radius (:func:`sims.regolith.pore_radius_m`);
* rho_ib the bulk density of the ice;
* "sensible" the heat that warms the icy regolith and its ice from 40 K to T_f, per
  volume.

The table gives the front with and without the sensible term, as a range. The heat that
warms the dry layer above T_f is neglected in both. The texture does not enter the
estimate. The table also sets the dried fraction of the depth beside the yield at the same
time. Where the yield is lower, vapour carried the difference down and deposited it as ice
below the front.

The script prints both tables to stdout under a short header with the conditions, and
prints progress to stderr. The runs are spread over a pool of ``--workers`` processes
(default 2; a 24 h run takes a few seconds).

Run: ``python benchmarks/physics_sensitivity.py``. Options:

* ``--quick``: 2 h runs of three cases, as a smoke test;
* ``--hours H``: the simulated duration;
* ``--workers N``: the size of the process pool;
* ``--write docs/physics.md``: also replaces the text between the lines
  ``<!-- sensitivity:begin ... -->`` and ``<!-- sensitivity:end -->`` in that file with
  the tables, keeping both marker lines.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import subprocess
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sims import ice, regolith
from sims.params import PlantParams, SampleParams
from sims.plant import Plant

PLATE_SET_K = 360.0  # the plate's set point [K]
GAIN_W_K = 2.0  # the proportional controller's gain [W/K]
MAX_POWER_W = 30.0  # the controller's ceiling (the heater's rating) [W]
STEP_S = 1.0  # one plant step [s]
DEEP_DEPTH_M = 0.042  # the deep sample's depth in the crucible [m]
FRONT_H = 16.0  # when the deep sample's dried depth is compared with the analytic front [h]
YIELD_H = 1.0  # the early yield column [h]
ICY_LAYER = 1e-3  # a layer "holds ice" above this fraction of its initial ice
BEGIN = "<!-- sensitivity:begin"
END = "<!-- sensitivity:end -->"


@dataclass(frozen=True)
class Case:
    """One row of the table: a label and the ``SampleParams`` fields it changes."""

    key: str
    label: str
    overrides: dict[str, Any] = field(default_factory=dict)


CASES = (
    Case("baseline", "baseline (defaults: granular ice, 60 um grains, k x1)"),
    Case("k025", "conductivity x0.25", {"conductivity_scale": 0.25}),
    Case("k4", "conductivity x4", {"conductivity_scale": 4.0}),
    Case("grain20", "grains 20 um", {"grain_diameter_m": 20e-6}),
    Case("grain250", "grains 250 um", {"grain_diameter_m": 250e-6}),
    Case("pore_filling", "texture pore_filling", {"ice_texture": "pore_filling"}),
    Case("cemented", "texture cemented", {"ice_texture": "cemented"}),
)
QUICK_CASES = ("baseline", "k4", "cemented")
SAMPLES = ("scoop", "deep")  # the nominal scoop, the 42 mm sample
SAMPLE_TITLES = {"scoop": "scoop", "deep": "42 mm"}


def sample_params(case: Case, sample: str) -> SampleParams:
    """The ``SampleParams`` of ``case`` for the nominal scoop or the 42 mm sample."""
    p = SampleParams(**case.overrides)
    if sample == "deep":
        area_m2 = math.pi * p.diameter_m**2 / 4.0
        p = dataclasses.replace(p, mass_kg=DEEP_DEPTH_M * p.bulk_density_kg_m3 * area_m2)
    return p


@dataclass
class RunResult:
    """What one run measured (times [h], fractions 0..1, depths [m])."""

    case: str
    sample: str
    mass_kg: float
    depth_m: float
    t50_h: float | None = None
    t90_h: float | None = None
    yield_early: float = math.nan  # extracted at YIELD_H
    yield_end: float = math.nan  # extracted at the end
    front_m: float = math.nan  # dried depth at the front time
    front_temp_k: float = math.nan  # the first icy layer's temperature then
    yield_front: float = math.nan  # extracted at the front time
    lost_fraction: float = 0.0  # water lost to vacuum (leak, relief) / initial ice
    plate_end_k: float = math.nan
    wall_s: float = 0.0


def dried_depth(plant: Plant) -> tuple[float, float]:
    """The sample's dried depth [m] and the temperature [K] of the first layer that still
    holds ice (nan if none does: then the depth is the whole sample's)."""
    s = plant.sample
    n = s.p.layers
    per_layer0 = s.ice_initial_kg / n
    icy = np.flatnonzero(s.ice_kg > ICY_LAYER * per_layer0)
    if icy.size == 0:
        return s.depth_m, math.nan
    i = int(icy[0])
    left = min(float(s.ice_kg[i]) / per_layer0, 1.0)
    return s.dz_m * (i + 1.0 - left), float(s.temp_k[i + 1])


def run(case: Case, sample: str, hours: float, front_h: float) -> RunResult:
    """Heat ``sample`` of ``case`` for ``hours`` under the plate controller."""
    wall0 = time.perf_counter()
    plant = Plant(PlantParams(sample=sample_params(case, sample)))
    s = plant.sample
    out = RunResult(case.key, sample, s.p.mass_kg, s.depth_m)
    u = plant.inputs
    u.valve_open = u.cryocooler_on = True
    ice0 = s.ice_initial_kg
    steps = round(hours * 3600.0 / STEP_S)
    early_step = round(YIELD_H * 3600.0 / STEP_S)
    front_step = round(front_h * 3600.0 / STEP_S)
    prev = 0.0
    for k in range(1, steps + 1):
        power_w = GAIN_W_K * (PLATE_SET_K - s.plate_temp_k)
        u.heater_power_w = min(max(power_w, 0.0), MAX_POWER_W)
        plant.step(STEP_S)
        s = plant.sample
        frac = 1.0 - s.ice_total_kg() / ice0
        for target, name in ((0.5, "t50_h"), (0.9, "t90_h")):
            if getattr(out, name) is None and frac >= target:
                # linear within the step
                t_s = (k - 1 + (target - prev) / (frac - prev)) * STEP_S
                setattr(out, name, t_s / 3600.0)
        if k == early_step:
            out.yield_early = frac
        if k == front_step:
            out.front_m, out.front_temp_k = dried_depth(plant)
            out.yield_front = frac
        prev = frac
    out.yield_end = prev
    out.lost_fraction = plant.lost_kg / ice0
    out.plate_end_k = s.plate_temp_k
    out.wall_s = time.perf_counter() - wall0
    return out


@dataclass
class Front:
    """The analytic quasi-steady front of one case (SI)."""

    front_temp_k: float
    k_dry_w_m_k: float
    rate_m2_s: float  # s^2 / t, without the sensible term
    rate_sensible_m2_s: float  # s^2 / t, with it


def analytic_front(p: SampleParams, hot_k: float = PLATE_SET_K) -> Front:
    """The quasi-steady front of sample ``p`` under a plate at ``hot_k`` (module docstring):
    T_f by bisection of the heat/vapour balance, then s^2 / t with and without the
    sensible heat of the icy regolith from its initial temperature to T_f."""
    terms = regolith.icy_conductivity_terms(
        p.conductivity_depth_m, grain_diameter_m=p.grain_diameter_m, texture=p.ice_texture)
    r_pore = regolith.pore_radius_m(p.grain_diameter_m, p.porosity)

    def k_dry_mean(t_f: float) -> float:
        """k_d averaged over t_f..hot_k (midpoint rule on 400 bins)."""
        edges = np.linspace(t_f, hot_k, 401)
        t = 0.5 * (edges[1:] + edges[:-1])
        return p.conductivity_scale * float(regolith.dry_conductivity_array_w_m_k(t, terms).mean())

    def vapour_heat_w_m(t_f: float) -> float:
        """L D_K rho_sat at t_f [W/m]: the latent heat the diffusing vapour carries (x s)."""
        rho_sat = ice.vapor_density_kg_m3(ice.vapor_pressure_pa(t_f), t_f)
        d_k = ice.knudsen_diffusivity_m2_s(t_f, r_pore, p.porosity, p.tortuosity)
        return float(ice.latent_heat_j_per_kg(t_f)) * float(d_k) * float(rho_sat)

    lo, hi = p.initial_temp_k + 1.0, hot_k  # balance > 0 at lo, < 0 at hi
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if k_dry_mean(mid) * (hot_k - mid) > vapour_heat_w_m(mid):
            lo = mid
        else:
            hi = mid
    t_f = 0.5 * (lo + hi)
    k_d = k_dry_mean(t_f)
    f = p.ice_mass_fraction
    rho_ice = p.bulk_density_kg_m3 * f / (1.0 - f)  # bulk density of the ice
    latent = rho_ice * float(ice.latent_heat_j_per_kg(t_f))
    sensible = (p.bulk_density_kg_m3 * float(regolith.sensible_heat_j_kg(p.initial_temp_k, t_f))
                + rho_ice * float(ice.ice_sensible_heat_j_kg(p.initial_temp_k, t_f)))
    drive = 2.0 * k_d * (hot_k - t_f)
    return Front(t_f, k_d, drive / latent, drive / (latent + sensible))


# ---- the tables ----------------------------------------------------------------------


def _hours(t_h: float | None, hours: float) -> str:
    return f"> {hours:g} h" if t_h is None else f"{t_h:.2f}"


def _pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{100.0 * x:.1f}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def tables(cases: list[Case], results: dict[tuple[str, str], RunResult], hours: float,
           front_h: float, revision: str) -> str:
    """The markdown block: the conditions, the sensitivity table and the front table."""
    scoop = results[cases[0].key, "scoop"]
    deep = results[cases[0].key, "deep"]
    lost = max(r.lost_fraction for r in results.values())
    plate = min(r.plate_end_k for r in results.values())
    lines = [
        f"Plate held at {PLATE_SET_K:g} K by a P controller ({GAIN_W_K:g} W/K, "
        f"0-{MAX_POWER_W:g} W), valve open, cryocooler on, {STEP_S:g} s steps, "
        f"{hours:g} h; every other parameter the plant default (sims/params.py). "
        f"Scoop: the nominal {scoop.mass_kg:.3f} kg ({scoop.depth_m * 1e3:.1f} mm deep); "
        f"42 mm: {deep.mass_kg:.3f} kg ({deep.depth_m * 1e3:.1f} mm deep), both 5.6 wt % "
        f"ice from 40 K. Yield = water that left the sample / initial ice; t50, t90 = time "
        f"to 50 %, 90 % of it [h]. Water lost to vacuum ≤ {100.0 * lost:.2g} % of the ice "
        f"in every run; the plate ends at ≥ {plate:.1f} K (P-control offset). "
        f"Revision {revision}.",
        "",
    ]
    head = ["case"]
    for sample in SAMPLES:
        title = SAMPLE_TITLES[sample]
        head += [f"{title} t50 [h]", f"{title} t90 [h]", f"{title} yield {YIELD_H:g} h [%]",
                 f"{title} yield {hours:g} h [%]"]
    lines += [_row(head), _row(["---"] + ["---:"] * (len(head) - 1))]
    for case in cases:
        cells = [case.label]
        for sample in SAMPLES:
            r = results[case.key, sample]
            cells += [_hours(r.t50_h, hours), _hours(r.t90_h, hours), _pct(r.yield_early),
                      _pct(r.yield_end)]
        lines.append(_row(cells))
    t_s = front_h * 3600.0
    lines += [
        "",
        f"Dried depth of the 42 mm sample after {front_h:g} h: simulated (the top of the "
        f"first layer holding ice, plus the emptied part of it) against the quasi-steady "
        f"front `s = sqrt(2 k_d (T_h - T_f) t / (rho_ib L + sensible))`, T_h = "
        f"{PLATE_SET_K:g} K, T_f from `k_d (T_h - T_f) = L D_K(T_f) rho_sat(T_f)`, k_d the "
        f"dry conductivity averaged over T_f..T_h; the range is with the sensible heat of "
        f"the icy regolith from 40 K to T_f and without it. The texture does not enter it. "
        f"Analytic t90 = time for the front to cross 90 % of the depth. Dried / yield: the "
        f"simulated dried depth and the yield at {front_h:g} h as fractions of the sample; "
        f"a yield below the dried fraction is ice that the vapour carried down and "
        f"deposited below the front.",
        "",
        _row(["case", "simulated [mm]", "analytic [mm]", "dried / yield [%]",
              "front T sim / analytic [K]", "k_d [W/(m K)]", "analytic t90 [h]"]),
        _row(["---"] + ["---:"] * 6),
    ]
    for case in cases:
        r = results[case.key, "deep"]
        fr = analytic_front(sample_params(case, "deep"))
        lo_m, hi_m = math.sqrt(fr.rate_sensible_m2_s * t_s), math.sqrt(fr.rate_m2_s * t_s)
        span = 0.9 * r.depth_m
        t90_lo, t90_hi = span**2 / fr.rate_m2_s / 3600.0, span**2 / fr.rate_sensible_m2_s / 3600.0
        if math.isnan(r.front_m):
            sim = "-"
        elif math.isnan(r.front_temp_k):
            sim = f"all dry ({r.depth_m * 1e3:.1f})"
        else:
            sim = f"{r.front_m * 1e3:.1f}"
        sim_t = "-" if math.isnan(r.front_temp_k) else f"{r.front_temp_k:.0f}"
        ana = f"{lo_m * 1e3:.1f}-{hi_m * 1e3:.1f}"
        if lo_m > r.depth_m:
            ana += " (past the bottom)"
        dried = f"{_pct(r.front_m / r.depth_m)} / {_pct(r.yield_front)}"
        lines.append(_row([case.label, sim, ana, dried, f"{sim_t} / {fr.front_temp_k:.0f}",
                           f"{fr.k_dry_w_m_k:.2e}", f"{t90_lo:.1f}-{t90_hi:.1f}"]))
    return "\n".join(lines) + "\n"


def find_markers(path: Path) -> tuple[list[str], int, int]:
    """The lines of ``path`` and the indices of its begin and end marker lines.

    Raises:
        SystemExit: if either marker is missing, repeated or out of order.
    """
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if line.strip().startswith(BEGIN)]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise SystemExit(
            f"{path}: expected one line starting with '{BEGIN}' followed by one line "
            f"'{END}'; found {len(begins)} begin and {len(ends)} end marker(s)"
            + (" in the wrong order" if begins and ends and ends[0] < begins[0] else ""))
    return lines, begins[0], ends[0]


def write_between_markers(path: Path, block: str) -> None:
    """Replace the lines between the sensitivity markers in ``path`` with ``block``,
    keeping both marker lines (:func:`find_markers` raises if they are not there)."""
    lines, i, j = find_markers(path)
    path.write_text("".join(lines[:i + 1]) + block + "\n" + "".join(lines[j:]),
                    encoding="utf-8")


def git_revision() -> str:
    """``git rev-parse --short HEAD`` of this checkout, or "unknown"."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=Path(__file__).resolve().parent, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=None,
                    help="simulated duration [h] (default 24; 2 with --quick)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--quick", action="store_true",
                    help=f"smoke test: 2 h, cases {', '.join(QUICK_CASES)}")
    ap.add_argument("--write", type=Path, metavar="PATH",
                    help="replace the text between the sensitivity markers in PATH")
    args = ap.parse_args(argv)
    hours = args.hours if args.hours is not None else (2.0 if args.quick else 24.0)
    if not hours > 0.0 or args.workers < 1:
        ap.error("--hours must be > 0 and --workers >= 1")
    if args.write is not None and not args.write.is_file():
        ap.error(f"--write: no such file {args.write}")
    if args.write is not None:
        find_markers(args.write)  # fail before the runs, not after
    cases = [c for c in CASES if not args.quick or c.key in QUICK_CASES]
    front_h = min(FRONT_H, hours)
    jobs = [(c, s) for c in cases for s in SAMPLES]
    wall0 = time.perf_counter()
    results: dict[tuple[str, str], RunResult] = {}

    def done(r: RunResult) -> None:
        results[r.case, r.sample] = r
        print(f"[{len(results):2d}/{len(jobs)}] {r.case:12s} {SAMPLE_TITLES[r.sample]:5s} "
              f"yield {100 * r.yield_end:5.1f} % ({r.wall_s:.1f} s; "
              f"{time.perf_counter() - wall0:.0f} s elapsed)", file=sys.stderr, flush=True)

    print(f"{len(jobs)} runs of {hours:g} h on {args.workers} worker(s)", file=sys.stderr)
    if args.workers == 1:
        for c, s in jobs:
            done(run(c, s, hours, front_h))
    else:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            futures: list[Future[RunResult]] = [
                pool.submit(run, c, s, hours, front_h) for c, s in jobs]
            for fut in as_completed(futures):
                done(fut.result())
    wall_s = time.perf_counter() - wall0
    block = tables(cases, results, hours, front_h, git_revision())
    print(block)
    print(f"Wall time {wall_s:.0f} s ({len(jobs)} runs on {args.workers} worker(s)).")
    if args.write is not None:
        write_between_markers(args.write, block)
        print(f"wrote the tables into {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
