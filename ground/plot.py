"""timeline.png of a run: temperatures, pressures, water, products, power; phases shaded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common.errors import ConfigError
from ground.pyplot import pyplot

_PANELS: list[tuple[str, list[tuple[str, str, float]], str, bool]] = [
    ("temperature [K]", [("heater_temp_k", "heater plate", 1.0),
                         ("sample_temp_k", "sample (bottom)", 1.0),
                         ("trap_temp_k", "cold trap", 1.0)], "", False),
    ("chamber [Pa]", [("chamber_pressure_pa", "chamber pressure", 1.0)], "", True),
    ("water [g]", [("reservoir_mass_kg", "reservoir", 1e3)], "", False),
    ("tanks [kPa]", [("h2_tank_pressure_pa", "H2 tank", 1e-3),
                     ("o2_tank_pressure_pa", "O2 tank", 1e-3)], "", False),
    ("power [W]", [("bus_power_w", "bus draw", 1.0), ("bus_cap_w", "rover cap", 1.0),
                   ("cmd_heater_power_w", "heater cmd", 1.0)], "", False),
]
_COLOURS = {"EXTRACT_HEAT": "#f4a582", "EXTRACT_CAPTURE": "#fddbc7", "EXTRACT_SECURE": "#d1e5f0",
            "TRANSFER": "#92c5de", "ELECTROLYZE": "#b8e186", "SAFE": "#ff6666"}


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def plot_run(run_dir: Path) -> Path:
    """Write ``timeline.png`` into ``run_dir`` and return its path.

    Raises:
        ConfigError: ``run_dir`` has no telemetry.jsonl, or matplotlib is not installed.
    """
    plt = pyplot()
    tm_path = run_dir / "telemetry.jsonl"
    if not tm_path.exists():
        raise ConfigError(str(run_dir), "no telemetry.jsonl here: is it a run directory?")
    rows = _read_jsonl(tm_path)
    phases: list[dict[str, Any]] = []
    if (run_dir / "summary.json").exists():
        phases = json.loads((run_dir / "summary.json").read_text())["phases"]
    t_h = [r["t_s"] / 3600.0 for r in rows]
    fig, axes = plt.subplots(len(_PANELS), 1, figsize=(11, 12), sharex=True)
    end_h = t_h[-1] if t_h else 0.0
    for ax, (label, series, _, log) in zip(axes, _PANELS, strict=True):
        for p in phases:
            colour = _COLOURS.get(p["state"])
            if colour:
                left = p["left_s"] / 3600.0 if p["left_s"] is not None else end_h
                ax.axvspan(p["entered_s"] / 3600.0, left, color=colour, alpha=0.5, lw=0)
        for key, name, scale in series:
            ys = [None if r.get(key) is None else r[key] * scale for r in rows]
            ax.plot(t_h, [float("nan") if y is None else y for y in ys], label=name, lw=1.2)
        if log:
            ax.set_yscale("symlog", linthresh=0.01)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("mission time [h]")
    from matplotlib.patches import Patch  # (installed: pyplot() succeeded)

    handles = [Patch(color=c, alpha=0.5, label=s) for s, c in _COLOURS.items()]
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    out = run_dir / "timeline.png"
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
