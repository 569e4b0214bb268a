"""Monte-Carlo dispersions: which parameters a campaign may vary, drawing, applying.

A dispersion names its parameter as ``sample.<key>`` (the scoop: the mission's
``sample`` for mass, ice fraction and start temperature, the plant's otherwise),
``<section>.<key>`` for any other real-valued plant parameter (``trap.cryo_lift_w_at_ref``,
``power.bus_cap_w``, see ``hal.sim.backend.plant_parameters``), or ``noise.<role>`` /
``noise.*`` for the 1-sigma noise of one sensor or all of them. ``mode: scale``
multiplies the nominal value (what the mission and hardware YAMLs give), ``mode: set``
replaces it. A parameter with named values (``sample.ice_texture``) is drawn with
``dist: choice`` from ``values`` (equally likely, or by ``weights``) and set. Values
are drawn per seed from ``numpy.random.default_rng([dispersion_seed, seed])``, so a
seed is one dispersed payload whatever fault it flies with, and a run depends only on
its recorded values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from common.errors import ConfigError
from common.schema import param as _param  # Dispersion has a field named 'param'
from hal.sim.backend import mission_samples, resolved_sample

if TYPE_CHECKING:
    from ground.harness.run import Inputs

MISSION_SAMPLE_KEYS = ("mass_kg", "ice_mass_fraction", "initial_temp_k")


@dataclass(frozen=True)
class Dispersion:
    """A Monte-Carlo dispersion of one parameter, drawn once per seed."""

    param: str = _param(doc="sample.<key>, <plant section>.<key> or noise.<role> / noise.*")
    dist: str = _param("uniform", choices=("uniform", "normal", "choice"), doc="distribution")
    low: float | None = _param(None, doc="uniform: lower end; normal: truncate below")
    high: float | None = _param(None, doc="uniform: upper end; normal: truncate above")
    mean: float | None = _param(None, doc="normal: mean")
    sigma: float | None = _param(None, 0.0, None, "normal: standard deviation")
    mode: str = _param("scale", choices=("scale", "set"), doc="multiply the nominal value, "
                      "or set it")
    values: list[str] = _param([], doc="choice: the values to draw from")
    weights: list[float] = _param([], doc="choice: their relative weights (default equal)")


@dataclass(frozen=True)
class Targets:
    """Nominal value and valid range of everything a dispersion may name."""

    #: param name -> (nominal, lo, hi)
    params: dict[str, tuple[float, float | None, float | None]]
    #: param name -> (nominal, its choices), for a parameter with named values
    choices: dict[str, tuple[str, tuple[str, ...]]] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, inputs: Inputs) -> Targets:
        """The targets of a loaded mission + sim hardware, at their configured values."""
        from hal.sim.backend import plant_choices, plant_parameters

        out: dict[str, tuple[float, float | None, float | None]] = {}
        overrides = inputs.hardware.plant
        named: dict[str, tuple[str, tuple[str, ...]]] = {}
        for section, choices in plant_choices().items():
            given = overrides.get(section, {}) if isinstance(overrides, dict) else {}
            for key, (name, options) in choices.items():
                named[f"{section}.{key}"] = (str(given.get(key, name)), options)
        for section, fields in plant_parameters().items():
            given = overrides.get(section, {}) if isinstance(overrides, dict) else {}
            for key, (default, lo, hi) in fields.items():
                out[f"{section}.{key}"] = (float(given.get(key, default)), lo, hi)
        for key, value in inputs.mission.sample.items():  # the mission's sample wins
            _, lo, hi = out[f"sample.{key}"]
            out[f"sample.{key}"] = (float(value), lo, hi)
        for role, dev in inputs.hardware.devices.items():
            if dev.noise > 0.0:
                out[f"noise.{role}"] = (dev.noise, 0.0, 1e9)
        return cls(out, named)

    def names(self, param: str) -> list[str]:
        """The concrete parameters ``param`` stands for (``noise.*``: every noisy sensor)."""
        if param == "noise.*":
            return sorted(k for k in self.params if k.startswith("noise."))
        return [param]

    def check(self, d: Dispersion, where: str) -> None:
        """Validate one dispersion entry against the targets.

        Raises:
            ConfigError: naming ``where`` and the field that is wrong.
        """
        if d.dist == "choice" or d.param in self.choices:
            self._check_choice(d, where)
            return
        if d.param != "noise.*" and d.param not in self.params:
            section = d.param.split(".", 1)[0]
            known = sorted(k for k in self.params if k.startswith(section + "."))
            known = known or sorted({k.split(".", 1)[0] + ".<key>" for k in self.params})
            raise ConfigError(f"{where}.param", f"unknown parameter {d.param!r}; known: "
                              f"{', '.join(known)}")
        if d.param == "noise.*" and d.mode != "scale":
            raise ConfigError(f"{where}.mode", "noise.* scales every sensor's noise: "
                              "mode must be scale")
        if d.dist == "uniform":
            if d.low is None or d.high is None or not d.low <= d.high:
                raise ConfigError(f"{where}", "uniform needs low <= high")
            if d.mean is not None or d.sigma is not None:
                raise ConfigError(f"{where}", "uniform takes low and high, not mean/sigma")
        else:
            if d.mean is None or d.sigma is None:
                raise ConfigError(f"{where}", "normal needs mean and sigma")
            if d.low is not None and d.high is not None and not d.low < d.high:
                raise ConfigError(f"{where}", "normal: truncation needs low < high")


    def _check_choice(self, d: Dispersion, where: str) -> None:
        """A ``dist: choice`` entry: a parameter with named values, drawn from them."""
        if d.param not in self.choices:
            known = ", ".join(sorted(self.choices)) or "none"
            raise ConfigError(f"{where}.param", f"{d.param!r} has no named values to choose "
                              f"from (dist: choice is for {known})")
        if d.dist != "choice":
            raise ConfigError(f"{where}.dist", f"{d.param} has named values: dist must be "
                              "choice, with values")
        options = self.choices[d.param][1]
        if not d.values or any(v not in options for v in d.values):
            raise ConfigError(f"{where}.values", f"choose among {', '.join(options)}; "
                              f"got {d.values}")
        if d.weights and (len(d.weights) != len(d.values) or min(d.weights) < 0.0
                          or not sum(d.weights) > 0.0):
            raise ConfigError(f"{where}.weights", "one weight >= 0 per value, not all 0")
        if d.mode != "scale" or any(x is not None for x in (d.low, d.high, d.mean, d.sigma)):
            raise ConfigError(f"{where}", "choice takes values (and weights) only")


def _draw_one(d: Dispersion, rng: np.random.Generator) -> float | str:
    if d.dist == "choice":
        p = np.asarray(d.weights, dtype=float) / sum(d.weights) if d.weights else None
        return str(d.values[int(rng.choice(len(d.values), p=p))])
    if d.dist == "uniform":
        assert d.low is not None and d.high is not None
        return float(rng.uniform(d.low, d.high))
    assert d.mean is not None and d.sigma is not None
    lo = -np.inf if d.low is None else d.low
    hi = np.inf if d.high is None else d.high
    for _ in range(1000):  # truncated normal by rejection (bounds are a few sigma wide)
        x = float(rng.normal(d.mean, d.sigma))
        if lo <= x <= hi:
            return x
    return float(np.clip(d.mean, lo, hi))


def draw(dispersions: Sequence[Dispersion], targets: Targets, dispersion_seed: int,
         seed: int, where: str) -> dict[str, float | str]:
    """The dispersed values of one seed: parameter -> value (absolute, in its unit; a
    named value for a ``choice``).

    Raises:
        ConfigError: a drawn value is outside its parameter's valid range (naming the
            dispersion entry, the seed and the value).
    """
    rng = np.random.default_rng([dispersion_seed, seed])
    out: dict[str, float | str] = {}
    for i, d in enumerate(dispersions):
        x = _draw_one(d, rng)
        if isinstance(x, str):
            out[d.param] = x
            continue
        for name in targets.names(d.param):
            nominal, lo, hi = targets.params[name]
            value = nominal * x if d.mode == "scale" else x
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise ConfigError(f"{where} dispersions[{i}]", f"seed {seed} draws {name} = "
                                  f"{value:g}, outside its range [{lo}, {hi}]")
            out[name] = value
    return out


def apply(inputs: Inputs, values: dict[str, float | str]) -> Inputs:
    """``inputs`` with the dispersed values in place (mission sample, plant overrides,
    device noise). Nothing is written to disk."""
    mission, hardware = inputs.mission, inputs.hardware
    sample = {k[len("sample."):]: v for k, v in values.items()
              if k.split(".", 1)[0] == "sample" and k.split(".", 1)[1] in MISSION_SAMPLE_KEYS}
    if sample:
        # the later scoops (``samples:``) that give a dispersed key of their own move by
        # the same ratio as the first: a dispersed payload's scoops are dispersed alike
        base = resolved_sample(hardware.plant, mission.sample)
        later = [{k: (v * sample[k] / base[k] if k in sample and base[k] else v)
                  for k, v in entry.items()} for entry in mission.samples]
        mission = dataclasses.replace(mission, sample={**mission.sample, **sample},
                                      samples=later)
    plant: dict[str, Any] = {k: dict(v) for k, v in hardware.plant.items()}
    devices = dict(hardware.devices)
    for name, value in values.items():
        section, key = name.split(".", 1)
        if section == "noise":
            devices[key] = dataclasses.replace(devices[key], noise=float(value))
        elif not (section == "sample" and key in MISSION_SAMPLE_KEYS):
            plant.setdefault(section, {})[key] = value
    hardware = dataclasses.replace(hardware, plant=plant, devices=devices)
    samples = mission_samples(mission.sample, mission.samples, hardware.plant,
                              f"{inputs.mission_path}:")  # (scoops 2.. over the new ones)
    return dataclasses.replace(inputs, mission=mission, hardware=hardware, samples=samples)
