"""Typed exceptions of the hardware layer (a config error is common.errors.ConfigError)."""

from __future__ import annotations


class HalError(Exception):
    """Base class of every error the hardware layer raises on purpose."""


class DeviceError(HalError):
    """A device answered, but with a fault or an impossible value."""

    def __init__(self, device: str, message: str) -> None:
        super().__init__(f"device '{device}': {message}")
        self.device = device


class DeviceTimeout(DeviceError):
    """A device did not answer within its timeout."""
