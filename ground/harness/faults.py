"""Fault injectors that wrap any device or the serial link (DESIGN.md, "Faults").

- device faults (:mod:`ground.harness.device_faults`): :func:`wrap_device` gives a
  transparent proxy of a port; ``stuck``, ``bias``, ``drift``, ``noise``, ``dropout`` on
  readings and ``ignore`` on commands (:data:`DEVICE_FAULT_KINDS`);
- link faults (:mod:`ground.harness.link_faults`): :class:`FaultyTransport` around the byte pipe;
  ``corrupt``, ``drop``, ``delay``, ``disconnect`` (:data:`LINK_FAULT_KINDS`), installed in a
  serial platform by :func:`install_link_faults`.

Flight code cannot tell it is being faulted: it holds the same ports and sees the same
errors as with failing hardware. Random effects draw from a generator seeded from
(run seed, fault id) (:func:`fault_rng`); time comes from an injected clock.
"""

from ground.harness.device_faults import (
    DEVICE_FAULT_KINDS,
    PORT_METHODS,
    Catalogue,
    FaultableDevice,
    ParamSpec,
    check_params,
    fault_rng,
    validate_device_fault,
    wrap_device,
    wrap_devices,
)
from ground.harness.link_faults import (
    LINK_FAULT_KINDS,
    TRANSPORT_PATH,
    FaultyTransport,
    LinkFaultStats,
    install_link_faults,
    validate_link_fault,
)

__all__ = [
    "DEVICE_FAULT_KINDS",
    "LINK_FAULT_KINDS",
    "PORT_METHODS",
    "TRANSPORT_PATH",
    "Catalogue",
    "FaultableDevice",
    "FaultyTransport",
    "LinkFaultStats",
    "ParamSpec",
    "check_params",
    "fault_rng",
    "install_link_faults",
    "validate_device_fault",
    "validate_link_fault",
    "wrap_device",
    "wrap_devices",
]
