"""Turn a fault plan into injectors on a built platform (before the run binds its ports).

Device faults wrap the named port (ground.harness.faults.wrap_device); link faults wrap the serial
transport (ground.harness.faults.install_link_faults); plant faults flip the plant's fault switches
(simulation only, reached through the platform, never by importing sims).
"""

from __future__ import annotations

from typing import Any

from common.errors import ConfigError
from ground.harness import faults as hal_faults
from ground.harness.faultplan import (
    BUILD_TIME_FAULTS,
    FaultConfig,
    FaultPlan,
    FaultScheduler,
    Injector,
)
from ground.harness.oracles import Oracles
from hal.interfaces import Platform, truth_of


def catalogues() -> dict[str, dict[str, dict[str, tuple[Any, float, float]]]]:
    """Every fault kind a plan may name, per layer, with its parameters' (default, lo, hi)."""
    from hal.sim.backend import PLANT_FAULT_KINDS

    return {"plant": dict(PLANT_FAULT_KINDS), "device": dict(hal_faults.DEVICE_FAULT_KINDS),
            "link": dict(hal_faults.LINK_FAULT_KINDS)}


def build_injectors(plan: FaultPlan, platform: Platform, seed: int,
                    where: str) -> dict[str, Injector]:
    """Install what the plan needs on ``platform`` and return fault id -> injector.

    Raises:
        ConfigError: a plant fault on a platform without a plant, a link fault on one
            without a serial link, or parameters a device does not take.
    """
    injectors: dict[str, Injector] = {}
    link = None
    for i, f in enumerate(plan.faults):
        at = f"{where} faults[{i}]"
        if f.kind in BUILD_TIME_FAULTS:
            injectors[f.id] = Injector(lambda: None, lambda: None)  # applied at build
        elif f.layer == "plant":
            injectors[f.id] = _plant(f, platform, at)
        elif f.layer == "device":
            injectors[f.id] = _device(f, platform, seed, at)
        else:
            if link is None:
                try:
                    link = hal_faults.install_link_faults(
                        platform, platform.board.link.clock,  # type: ignore[attr-defined]
                        hal_faults.fault_rng(seed, "link"))
                except (TypeError, AttributeError):
                    raise ConfigError(f"{at}.layer", "link faults need backend: serial "
                                      "(the board emulator)") from None
            injectors[f.id] = _link(f, link, at)
    return injectors


def _plant(f: FaultConfig, platform: Platform, at: str) -> Injector:
    plant_faults = getattr(getattr(platform, "plant", None), "faults", None)
    if plant_faults is None:
        raise ConfigError(f"{at}.layer", "plant faults need backend: sim (there is no plant "
                          "to fault on real hardware; on the bench emulator run the emulator "
                          "with the fault instead)")
    params = dict(f.params)
    return Injector(lambda: plant_faults.activate(f.kind, **params),
                    lambda: plant_faults.clear(f.kind))


def _device(f: FaultConfig, platform: Platform, seed: int, at: str) -> Injector:
    devices = platform.devices
    dev = devices[f.target]
    if not isinstance(dev, hal_faults.FaultableDevice):
        dev = hal_faults.wrap_device(dev, f.target)
        devices[f.target] = dev  # type: ignore[index]
    params = dict(f.params)  # as given: the device fills in the defaults itself
    try:
        hal_faults.validate_device_fault(f.kind, params)
    except ValueError as exc:
        raise ConfigError(f"{at}.params", str(exc)) from None
    rng = hal_faults.fault_rng(seed, f.id)
    clock = platform.clock

    def activate() -> None:
        dev.activate(f.kind, params, clock=clock, rng=rng)

    try:  # refuse at load what the device cannot take (ignore on a thermometer, ...)
        dev.activate(f.kind, params, clock=clock, rng=rng)
        dev.clear(f.kind)
    except ValueError as exc:
        raise ConfigError(f"{at}.kind", f"{f.target}: {exc}") from None
    return Injector(activate, lambda: dev.clear(f.kind))


def _link(f: FaultConfig, link: Any, at: str) -> Injector:
    try:
        params = hal_faults.validate_link_fault(f.kind, dict(f.params))
    except ValueError as exc:
        raise ConfigError(f"{at}.params", str(exc)) from None
    return Injector(lambda: link.activate(f.kind, params), lambda: link.clear(f.kind))


class FaultSession:
    """A run's fault plan at work: the scheduler, and the oracles on plant truth.

    :meth:`observe` is called once per cycle by the executive; the oracles look at the
    truth every ``truth_every`` cycles (truth is a whole-plant snapshot, not free).
    """

    def __init__(self, scheduler: FaultScheduler | None, platform: Platform,
                 truth_every: int) -> None:
        self.scheduler = scheduler
        self.platform = platform
        self.oracles = Oracles()
        self.truth_every = max(1, truth_every)
        self._n = 0

    def observe(self, now_s: float, state: str, readings: dict[str, Any]) -> None:
        if self.scheduler is not None:
            self.scheduler.tick(now_s, state, readings)
        if self._n % self.truth_every == 0:
            self.oracles.check(now_s, truth_of(self.platform, self.oracles.keys))
        self._n += 1

    def finish(self, now_s: float, final_state: str, complete: bool) -> dict[str, Any]:
        """``faults`` and ``violations`` for summary.json (last truth checked too)."""
        self.oracles.check(now_s, truth_of(self.platform))
        faults = [] if self.scheduler is None else self.scheduler.finish(final_state, complete)
        return {"faults": faults, "violations": self.oracles.summary()}
