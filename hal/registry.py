"""The registry: a hardware YAML -> a platform of devices behind the ports.

    backend: sim            # or serial (the payload board or its emulator)
    plant: {...}            # sim only: overrides of sims.params.PlantParams
    serial: {url: ...}      # serial only: hal.serial.backend.SerialConfig
    devices:
      heater_temp: {kind: thermometer, channel: heater_temp_k, noise: 0.1}

A device's ``kind`` is one of :data:`hal.interfaces.KINDS`; its ``channel`` says which
plant quantity (sim) or board channel (serial, see ``hal.serial.board.CHANNELS``) it is;
``noise`` is the 1-sigma sensor noise in the reading's unit (sim only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.errors import ConfigError
from common.schema import load, param, read_yaml
from hal.interfaces import KINDS, Platform

BACKENDS = ("sim", "serial")


@dataclass(frozen=True)
class DeviceConfig:
    kind: str = param(choices=tuple(KINDS), doc="device kind")
    channel: str = param("", doc="plant channel (sim) or board channel (serial)")
    noise: float = param(0.0, 0.0, 1e9, "1-sigma sensor noise, reading's unit (sim)")


@dataclass(frozen=True)
class HardwareConfig:
    backend: str = param(choices=BACKENDS, doc="which backend stands behind the ports")
    devices: dict[str, DeviceConfig] = param(doc="role -> device")
    plant: dict[str, Any] = param({}, doc="sim only: plant parameter overrides")
    serial: dict[str, Any] = param({}, doc="serial only: port, baud rate, timeouts, time mode")


def load_hardware(path: str | Path, required: Mapping[str, str]) -> HardwareConfig:
    """Read and validate a hardware YAML; ``required`` maps role -> kind flight needs.

    Raises:
        ConfigError: naming the file and key of the first problem.
    """
    cfg = load(HardwareConfig, read_yaml(path), f"{path}:")
    for role, kind in required.items():
        if role not in cfg.devices:
            raise ConfigError(f"{path}: devices", f"missing device {role!r} (a {kind})")
        if cfg.devices[role].kind != kind:
            raise ConfigError(f"{path}: devices.{role}.kind",
                              f"flight uses {role!r} as a {kind}, not a {cfg.devices[role].kind}")
    return cfg


def build_platform(path: str | Path, cfg: HardwareConfig, sample: Mapping[str, Any],
                   seed: int, capture_dir: Path | None = None, *,
                   samples: Sequence[Mapping[str, Any]] = ()) -> Platform:
    """Build the devices of ``cfg`` on its backend.

    ``sample``, ``samples`` (the resolved parameters of scoops 2, 3, ...:
    :func:`hal.sim.backend.mission_samples`) and ``seed`` feed the sim plant; on the
    serial backend the plant (if any) is the emulator's, so they are not used.
    ``capture_dir`` (serial, with ``serial.capture: true``) receives the raw bytes on the
    wire. Both backends' platforms have the :class:`hal.interfaces.SampleExchange`
    capability.

    Raises:
        ConfigError: the backend's section, a sample or a device channel is wrong.
        HalError: (serial) the port cannot be opened or the board does not answer.
    """
    if cfg.backend == "sim":
        from hal.sim.backend import build

        return build(f"{path}:", cfg.plant, cfg.devices, sample, seed, samples=samples)
    if cfg.plant:
        raise ConfigError(f"{path}: plant", "sim only: on the serial backend the plant (if "
                          "any) belongs to the board emulator; remove this section")
    from hal.serial.backend import build as build_serial

    return build_serial(f"{path}:", cfg.serial, cfg.devices, capture_dir)
