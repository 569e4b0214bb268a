"""The SIL platform: the plant, its simulated clock and the sim devices over it, and the
mission's scoops (the first in the plant, the others for :meth:`SimPlatform.load_sample`)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from common.clock import SteppedClock
from common.errors import ConfigError
from common.schema import load
from hal.sim import devices as dev
from sims.faults import param_catalogue
from sims.params import PlantParams, SampleParams
from sims.plant import Plant

#: plant fault kinds a plan may name: kind -> parameter -> (default, lo, hi)
PLANT_FAULT_KINDS = param_catalogue()


#: the truth entries the platform adds to the plant's own
_OWN_TRUTH = frozenset({"ice_initial_kg", "mass_balance_error_kg"})


class SimPlatform:
    """Devices backed by :class:`sims.plant.Plant`; :attr:`advance` steps the plant.

    ``samples`` are the parameters of the scoops after the first (scoop 2, 3, ...), for
    :meth:`load_sample` (a :class:`hal.interfaces.SampleExchange`); past them, the first
    scoop's parameters come again."""

    def __init__(self, plant: Plant, devices: Mapping[str, object],
                 samples: Sequence[SampleParams] = ()) -> None:
        self.plant = plant
        self.devices = dict(devices)
        self.samples = tuple(samples)
        self._first_sample = plant.params.sample
        self.clock: SteppedClock = plant.clock  # mission time is the plant's time
        self._ledger_keys = tuple(plant.water_ledger_kg())
        #: ``advance(dt_s)``: step the plant by ``dt_s`` (its clock is the mission clock);
        #: the plant's own method, not a wrapper around it (it runs every cycle)
        self.advance: Callable[[float], None] = plant.step

    def truth(self, keys: Collection[str] | None = None) -> dict[str, float]:
        """The plant's truth (:meth:`sims.plant.Plant.truth`) with its water balance
        (``ice_initial_kg``, ``mass_balance_error_kg``); only ``keys`` if given.

        Raises:
            KeyError: naming a key the plant's truth does not have.
        """
        if keys is not None:
            if _OWN_TRUTH.isdisjoint(keys):
                return self.plant.truth(keys)
            t = self.truth()
            return {k: t[k] for k in keys}
        t = self.plant.truth()
        t["ice_initial_kg"] = self.plant.ice_initial_kg
        # Plant.mass_balance_error_kg(), from the ledger truth() already holds
        t["mass_balance_error_kg"] = self.plant.ice_initial_kg - math.fsum(
            t[k] for k in self._ledger_keys)
        return t

    def load_sample(self) -> int:
        """The next scoop in the plant's crucible (:meth:`sims.plant.Plant.load_sample`):
        scoop ``k + 2`` is ``samples[k]``, past them the first scoop again; returns the
        number of the scoop now in the crucible (2 after the first exchange)."""
        k = self.plant.samples_loaded - 1
        self.plant.load_sample(self.samples[k] if k < len(self.samples)
                               else self._first_sample)
        return self.plant.samples_loaded

    def diagnostics(self) -> dict[str, float]:
        """No link in simulation."""
        return {}

    def close(self) -> None:
        """Nothing to release in simulation."""


def mission_sample(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A mission's ``sample:`` validated against the one sample schema
    (:class:`sims.params.SampleParams`): the keys it gives, typed.

    Raises:
        ConfigError: an unknown key (with a suggestion), a wrong type or a value out of range.
    """
    typed = load(SampleParams, dict(raw), where)
    return {key: getattr(typed, key) for key in raw}


def resolved_sample(plant_cfg: Mapping[str, Any], sample: Mapping[str, Any]) -> dict[str, Any]:
    """Every sample parameter the plant will have: the schema's defaults, then the hardware
    YAML's ``plant.sample``, then the mission's ``sample`` (a build-time fault changes it
    before the plant is built)."""
    given = plant_cfg.get("sample") if isinstance(plant_cfg, Mapping) else None
    base = dataclasses.asdict(SampleParams())
    return {**base, **(given if isinstance(given, Mapping) else {}), **sample}


def mission_samples(sample: Mapping[str, Any], samples: Sequence[Any],
                    plant_cfg: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    """A mission's ``samples:`` (the scoops after the first) validated against the one
    sample schema, each entry as :func:`mission_sample` does, and resolved
    (:func:`resolved_sample`: the schema's defaults, the hardware YAML's
    ``plant.sample``, the mission's ``sample``, then the entry): the parameter dicts of
    scoops 2, 3, ... for :func:`build`'s ``samples``.

    ``where`` is ``'mission.yaml:'`` (errors name ``mission.yaml: samples[k].key``) or
    ``'mission.yaml: samples'`` (the same).

    Raises:
        ConfigError: naming ``samples[k]`` (not a mapping) or ``samples[k].key`` (an
            unknown key, a wrong type or a value out of range).
    """
    base = f"{where} samples" if where.endswith(":") else where
    out = []
    for k, raw in enumerate(samples):
        at = f"{base}[{k}]"
        if not isinstance(raw, Mapping):
            raise ConfigError(at, f"expected a mapping of sample parameters, got "
                              f"{type(raw).__name__} {raw!r}")
        out.append(resolved_sample(plant_cfg, {**sample, **mission_sample(raw, at)}))
    return out


def build(where: str, plant_cfg: Mapping[str, Any], devices: Mapping[str, Any],
          sample: Mapping[str, Any], seed: int, *,
          samples: Sequence[Mapping[str, Any]] = ()) -> SimPlatform:
    """Build the SIL platform.

    ``plant_cfg`` overrides :class:`sims.params.PlantParams`; ``sample`` (from the
    mission) overrides its ``sample`` section; ``devices`` maps role -> DeviceConfig.
    ``samples`` are the parameters of scoops 2, 3, ... (:func:`mission_samples` gives
    them resolved; an entry with fewer keys is taken over the first scoop's).

    Raises:
        ConfigError: a plant parameter, a sample (``mission: samples[k].key``) or a
            device channel is wrong.
    """
    params = load(PlantParams, dict(plant_cfg), f"{where} plant")
    merged = {**dataclasses.asdict(params.sample), **sample}
    params = dataclasses.replace(params, sample=load(SampleParams, merged, "mission: sample"))
    first = dataclasses.asdict(params.sample)
    later = []
    for k, s in enumerate(samples):
        if not isinstance(s, Mapping):
            raise ConfigError(f"mission: samples[{k}]", f"expected a mapping of sample "
                              f"parameters, got {type(s).__name__} {s!r}")
        later.append(load(SampleParams, {**first, **s}, f"mission: samples[{k}]"))
    plant = Plant(params)
    built: dict[str, object] = {}
    for role, d in devices.items():
        at = f"{where} devices.{role}.channel"
        noise = dev.Noise(seed, role, d.noise)
        if d.kind in ("thermometer", "pressure_gauge", "mass_gauge"):
            if d.channel not in dev.SENSOR_CHANNELS:
                raise ConfigError(at, f"unknown sim channel {d.channel!r}; known: "
                                  f"{', '.join(sorted(dev.SENSOR_CHANNELS))}")
            built[role] = dev.SimSensor(plant, d.channel, d.noise, noise)
        elif d.kind == "heater":
            if d.channel not in dev.HEATER_CHANNELS:
                raise ConfigError(at, f"unknown heater channel {d.channel!r}; known: "
                                  f"{', '.join(sorted(dev.HEATER_CHANNELS))}")
            built[role] = dev.SimHeater(plant, d.channel)
        elif d.kind == "valve":
            built[role] = dev.SimValve(plant)
        elif d.kind == "cryocooler":
            built[role] = dev.SimCryocooler(plant)
        elif d.kind == "electrolyzer":
            built[role] = dev.SimElectrolyzer(plant, d.noise, noise)
        else:  # power_monitor
            built[role] = dev.SimPowerMonitor(plant, d.noise, noise)
    return SimPlatform(plant, built, later)


def plant_choices() -> dict[str, dict[str, tuple[str, tuple[str, ...]]]]:
    """The sim plant's parameters with named values: section -> name -> (default, the
    choices), e.g. ``["sample"]["ice_texture"] == ("granular", ("granular", ...))``; what
    a campaign may draw with ``dist: choice``."""
    out: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {}
    for section in dataclasses.fields(PlantParams):
        cls = type(getattr(PlantParams(), section.name))
        named = {f.name: (str(f.default), tuple(map(str, f.metadata["choices"])))
                 for f in dataclasses.fields(cls) if f.metadata.get("choices")}
        if named:
            out[section.name] = named
    return out


def plant_parameters() -> dict[str, dict[str, tuple[float, float | None, float | None]]]:
    """The sim plant's real-valued parameters: section -> name -> (default, lo, hi), e.g.
    ``["trap"]["cryo_lift_w_at_ref"] == (2.0, 0.0, 100.0)``; what a hardware YAML's
    ``plant:`` may override and a campaign may disperse."""
    out: dict[str, dict[str, tuple[float, float | None, float | None]]] = {}
    for section in dataclasses.fields(PlantParams):
        cls = type(getattr(PlantParams(), section.name))
        out[section.name] = {
            f.name: (f.default, f.metadata.get("min"), f.metadata.get("max"))
            for f in dataclasses.fields(cls)
            if isinstance(f.default, float)}
    return out
