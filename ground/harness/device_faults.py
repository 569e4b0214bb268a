"""Device fault injectors: a transparent proxy around any port (DESIGN.md, "Faults").

:func:`wrap_device` returns a :class:`FaultableDevice` that has exactly the port methods
(``read_*``, ``set_*`` of :data:`hal.interfaces.KINDS`) the wrapped device has, each
defined on the proxy's class, so ``isinstance(proxy, Thermometer)`` (and every other
runtime-checkable port) holds exactly when it holds for the device. Until a fault is
active every call is passed through unchanged; flight code cannot tell it holds a proxy.

Faults (:meth:`FaultableDevice.activate` / :meth:`FaultableDevice.clear`), several may be
active at once; a reading is transformed in this order:

- ``dropout`` (sensors): the read raises :class:`hal.errors.DeviceTimeout` naming the role,
  with ``probability`` per read (default 1);
- ``stuck`` (sensors): the reading is frozen at ``value``, or, without it, at the last value
  the device returned before activation (the first one after, if it was never read);
- ``bias`` (float readings): adds ``offset`` [the reading's unit];
- ``drift`` (float readings): adds ``rate_per_s * (now - t_activation)`` [unit/s * s] on
  the injected clock;
- ``noise`` (float readings): adds ``sigma * N(0, 1)`` [unit] from the injected generator;
- ``ignore`` (actuators): ``set_*`` commands are silently not passed on; read-back ports
  (``read_open``) keep reporting the real device.

The wrapped device is always read first, also while a fault is active, so its own state
(e.g. a sim sensor's noise stream) evolves exactly as in an unfaulted run and its errors
pass up unchanged. ``read_open`` (a bool) is affected by ``dropout`` and ``stuck`` only.

Randomness comes from a ``numpy.random.Generator`` the caller seeds from (run seed, fault
id) (see :func:`fault_rng`); time from an injected clock (anything with ``now_s()``).
"""

from __future__ import annotations

import math
import numbers
import typing
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from common.clock import Clock
from hal.errors import DeviceTimeout
from hal.interfaces import KINDS

#: (default, lo, hi) of one fault parameter; bounds are inclusive unless listed as open
ParamSpec = tuple[float | None, float, float]
Catalogue = dict[str, dict[str, ParamSpec]]

#: kind -> allowed params -> (default, lo, hi). A default of None means the parameter is
#: required, except ``stuck.value`` (absent: freeze the last reading).
DEVICE_FAULT_KINDS: Catalogue = {
    "stuck": {"value": (None, -1e12, 1e12)},
    "bias": {"offset": (None, -1e12, 1e12)},
    "drift": {"rate_per_s": (None, -1e9, 1e9)},
    "noise": {"sigma": (None, 0.0, 1e12)},
    "dropout": {"probability": (1.0, 0.0, 1.0)},
    "ignore": {},
}
#: (kind, param) that may be left out although their default is None
DEVICE_OPTIONAL: frozenset[tuple[str, str]] = frozenset({("stuck", "value")})
#: (kind, param) whose low bound is excluded: the range is (lo, hi]
DEVICE_OPEN_LO: frozenset[tuple[str, str]] = frozenset({("dropout", "probability")})

#: every port method of hal.interfaces, and which of them read a bool
PORT_METHODS: tuple[str, ...] = tuple(sorted(
    {n for proto in KINDS.values() for n in vars(proto) if n.startswith(("read_", "set_"))}))
READ_METHODS: tuple[str, ...] = tuple(n for n in PORT_METHODS if n.startswith("read_"))
SET_METHODS: tuple[str, ...] = tuple(n for n in PORT_METHODS if n.startswith("set_"))
BOOL_READS: frozenset[str] = frozenset(
    n for proto in KINDS.values() for n in vars(proto)
    if n in READ_METHODS and typing.get_type_hints(getattr(proto, n)).get("return") is bool)
_READ_KINDS = ("dropout", "stuck", "bias", "drift", "noise")
_FLOAT_KINDS = ("bias", "drift", "noise")


def fault_rng(seed: int, fault_id: str) -> np.random.Generator:
    """The generator of one fault: seeded from (run seed, crc32 of the fault id), so adding a
    fault to a plan leaves every other fault's draws unchanged."""
    return np.random.default_rng([int(seed), zlib.crc32(fault_id.encode())])


def check_params(catalogue: Catalogue, kind: str, params: Mapping[str, Any] | None, *,
                 what: str, optional: frozenset[tuple[str, str]] = frozenset(),
                 open_lo: frozenset[tuple[str, str]] = frozenset()) -> dict[str, float | None]:
    """Validate ``params`` of fault ``kind`` against ``catalogue``; defaults filled in.

    Raises:
        ValueError: naming the unknown kind, the unknown parameter, a value that is not a
            finite number, out of its range, or a required parameter that is missing.
    """
    if kind not in catalogue:
        raise ValueError(f"unknown {what} kind {kind!r}; known: {', '.join(catalogue)}")
    spec = catalogue[kind]
    given = dict(params or {})
    for name in given:
        if name not in spec:
            allowed = ", ".join(spec) or "none"
            raise ValueError(f"{what} {kind!r}: unknown param {name!r}; allowed: {allowed}")
    out: dict[str, float | None] = {}
    for name, (default, lo, hi) in spec.items():
        if name not in given:
            if default is None and (kind, name) not in optional:
                raise ValueError(f"{what} {kind!r}: needs params.{name}")
            out[name] = default
            continue
        raw = given[name]
        if isinstance(raw, bool) or not isinstance(raw, numbers.Real) or not math.isfinite(raw):
            raise ValueError(f"{what} {kind!r}: {name}={raw!r} is not a finite number")
        v = float(raw)
        is_open = (kind, name) in open_lo
        if not ((lo < v) if is_open else (lo <= v)) or v > hi:
            rng = f"({lo:g}, {hi:g}]" if is_open else f"[{lo:g}, {hi:g}]"
            raise ValueError(f"{what} {kind!r}: {name}={v:g} out of range {rng}")
        out[name] = v
    return out


def validate_device_fault(kind: str, params: Mapping[str, Any] | None = None
                          ) -> dict[str, float | None]:
    """Check one device fault of a plan; returns its params with defaults.

    Raises:
        ValueError: unknown kind or param, value out of range, required param missing.
    """
    return check_params(DEVICE_FAULT_KINDS, kind, params, what="device fault",
                        optional=DEVICE_OPTIONAL, open_lo=DEVICE_OPEN_LO)


@dataclass
class _Active:
    """One active fault on one device."""

    params: dict[str, float | None]
    methods: frozenset[str]
    clock: Clock | None
    rng: np.random.Generator | None
    t0_s: float = 0.0
    frozen: dict[str, Any] = field(default_factory=dict)  # stuck: method -> value


class FaultableDevice:
    """A proxy around one device (role ``role``); build it with :func:`wrap_device`.

    Attributes:
        inner: the wrapped device.
        role: the device role (named in the DeviceTimeout of a dropout).
        counts: per fault kind, how many reads/commands it changed.
    """

    def __init__(self, inner: object, role: str) -> None:
        self.inner = inner
        self.role = role
        self.counts: dict[str, int] = dict.fromkeys(DEVICE_FAULT_KINDS, 0)
        self._calls: dict[str, Callable[..., Any]] = {
            n: getattr(inner, n) for n in PORT_METHODS if callable(getattr(inner, n, None))}
        self._faults: dict[str, _Active] = {}
        self._last: dict[str, Any] = {}  # method -> last value the inner device returned

    def __repr__(self) -> str:
        return (f"<FaultableDevice {self.role!r} around {type(self.inner).__name__}"
                f"{' faults=' + ','.join(self._faults) if self._faults else ''}>")

    @property
    def methods(self) -> tuple[str, ...]:
        """The port methods of the wrapped device (and so of this proxy)."""
        return tuple(self._calls)

    @property
    def active(self) -> dict[str, dict[str, float | None]]:
        """kind -> params of every active fault (a copy)."""
        return {k: dict(a.params) for k, a in self._faults.items()}

    def activate(self, kind: str, params: Mapping[str, Any] | None = None,
                 clock: Clock | None = None, rng: np.random.Generator | None = None,
                 *, methods: Iterable[str] | None = None) -> None:
        """Start fault ``kind`` (replacing an active one of the same kind).

        Args:
            kind: one of :data:`DEVICE_FAULT_KINDS`.
            params: the kind's parameters (see the catalogue), in the reading's unit.
            clock: time source [s]; needed by ``drift`` (``t_activation`` is now).
            rng: seeded generator; needed by ``noise`` and by ``dropout`` below 1.
            methods: restrict the fault to these port methods (default: every method of
                the device the kind applies to).

        Raises:
            ValueError: bad kind/params (see :func:`validate_device_fault`), a kind this
                device has no method for (e.g. ``ignore`` on a thermometer, ``bias`` on a
                valve), an unknown method, or a missing clock/rng.
        """
        p = validate_device_fault(kind, params)
        if kind == "ignore":
            applicable = [n for n in self._calls if n in SET_METHODS]
        elif kind in _FLOAT_KINDS:
            applicable = [n for n in self._calls if n in READ_METHODS and n not in BOOL_READS]
        else:
            applicable = [n for n in self._calls if n in READ_METHODS]
        if methods is None:
            targets = frozenset(applicable)
        else:
            targets = frozenset(methods)
            bad = sorted(targets - set(applicable))
            if bad:
                raise ValueError(f"device {self.role!r}: fault {kind!r} cannot act on "
                                 f"{', '.join(bad)}; applicable: {', '.join(applicable)}")
        if not targets:
            raise ValueError(f"device {self.role!r} ({type(self.inner).__name__}) has no "
                             f"method fault {kind!r} applies to")
        if kind == "drift" and clock is None:
            raise ValueError(f"device {self.role!r}: fault 'drift' needs a clock")
        needs_rng = kind == "noise" or (kind == "dropout" and (p["probability"] or 0) < 1.0)
        if needs_rng and rng is None:
            raise ValueError(f"device {self.role!r}: fault {kind!r} needs an rng")
        t0 = clock.now_s() if clock is not None else 0.0
        self._faults[kind] = _Active(p, targets, clock, rng, t0)

    def clear(self, kind: str | None = None) -> None:
        """End fault ``kind`` (every fault when None); clearing an inactive kind is a no-op.

        Raises:
            ValueError: ``kind`` is not a device fault kind.
        """
        if kind is None:
            self._faults.clear()
            return
        if kind not in DEVICE_FAULT_KINDS:
            raise ValueError(f"unknown device fault kind {kind!r}; "
                             f"known: {', '.join(DEVICE_FAULT_KINDS)}")
        self._faults.pop(kind, None)

    # ---- the port methods call these ---------------------------------------------------
    def _read(self, name: str) -> Any:
        value = self._calls[name]()
        if not self._faults:
            self._last[name] = value
            return value
        last = self._last.get(name, value)
        self._last[name] = value
        return self._faulted(name, value, last)

    def _faulted(self, name: str, value: Any, last: Any) -> Any:
        f = self._faults
        a = f.get("dropout")
        if a is not None and name in a.methods:
            prob = a.params["probability"]
            if prob is None or prob >= 1.0 or (a.rng is not None and a.rng.random() < prob):
                self.counts["dropout"] += 1
                raise DeviceTimeout(self.role, f"{name}: no answer")
        out = value
        a = f.get("stuck")
        if a is not None and name in a.methods:
            if name not in a.frozen:
                given = a.params["value"]
                if given is None:
                    a.frozen[name] = last
                else:
                    a.frozen[name] = given >= 0.5 if name in BOOL_READS else given
            out = a.frozen[name]
            self.counts["stuck"] += 1
        if name in BOOL_READS:
            return out
        a = f.get("bias")
        if a is not None and name in a.methods:
            out = out + (a.params["offset"] or 0.0)
            self.counts["bias"] += 1
        a = f.get("drift")
        if a is not None and name in a.methods and a.clock is not None:
            out = out + (a.params["rate_per_s"] or 0.0) * (a.clock.now_s() - a.t0_s)
            self.counts["drift"] += 1
        a = f.get("noise")
        if a is not None and name in a.methods and a.rng is not None:
            out = out + (a.params["sigma"] or 0.0) * float(a.rng.standard_normal())
            self.counts["noise"] += 1
        return out

    def _set(self, name: str, value: Any) -> None:
        a = self._faults.get("ignore")
        if a is not None and name in a.methods:
            self.counts["ignore"] += 1
            return
        self._calls[name](value)


def _make_read(name: str) -> Callable[[FaultableDevice], Any]:
    def read(self: FaultableDevice) -> Any:
        return self._read(name)

    read.__name__ = read.__qualname__ = name
    read.__doc__ = f"The wrapped device's ``{name}``, through any active fault."
    return read


def _make_set(name: str) -> Callable[[FaultableDevice, Any], None]:
    def set_(self: FaultableDevice, value: Any) -> None:
        self._set(name, value)

    set_.__name__ = set_.__qualname__ = name
    set_.__doc__ = f"The wrapped device's ``{name}``, unless an ``ignore`` fault drops it."
    return set_


_CLASSES: dict[frozenset[str], type[FaultableDevice]] = {}


def _proxy_class(methods: frozenset[str]) -> type[FaultableDevice]:
    """A FaultableDevice subclass defining exactly ``methods`` (cached per method set)."""
    cls = _CLASSES.get(methods)
    if cls is None:
        ns: dict[str, Any] = {"__module__": __name__}
        for n in sorted(methods):
            ns[n] = _make_read(n) if n in READ_METHODS else _make_set(n)
        cls = type("FaultableDevice", (FaultableDevice,), ns)
        _CLASSES[methods] = cls
    return cls


def wrap_device(device: object, role: str) -> FaultableDevice:
    """A transparent, faultable proxy of ``device`` (role ``role``).

    The proxy defines exactly the port methods the device has, so runtime protocol checks
    (``isinstance(proxy, hal.interfaces.Valve)``) give the same answer as for ``device``.
    Wrapping a proxy again wraps the proxy (its faults stay where they were set).
    """
    methods = frozenset(n for n in PORT_METHODS if callable(getattr(device, n, None)))
    return _proxy_class(methods)(device, role)


def wrap_devices(devices: Mapping[str, object]) -> dict[str, FaultableDevice]:
    """role -> :func:`wrap_device` of every device (e.g. ``platform.devices``)."""
    return {role: wrap_device(d, role) for role, d in devices.items()}
