"""Validate plain YAML data against dataclasses, naming the file and key path on error.

A schema is an ordinary (frozen) dataclass. A field's ``metadata`` may carry ``min`` and
``max`` (inclusive bounds), ``choices`` and ``doc``; a field without a default is
required. Nested dataclasses, ``list[X]``, ``dict[str, X]``, ``X | None`` and
``Literal``-free scalars (``bool``, ``int``, ``float``, ``str``) are understood.

    params = load(PlantParams, yaml.safe_load(text), "configs/hardware/sim.yaml: plant")
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from common.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")
_YAML11_EXP = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def param(default: Any = dataclasses.MISSING, lo: float | None = None, hi: float | None = None,
          doc: str = "", choices: tuple[str, ...] | None = None) -> Any:
    """A dataclass field with bounds/choices for :func:`load`. No default: required."""
    meta = {"min": lo, "max": hi, "doc": doc, "choices": choices}
    if isinstance(default, list | dict):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping with ``yaml.safe_load``.

    Raises:
        ConfigError: the file is missing, is not YAML, or is not a mapping.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(p), f"cannot read: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(str(p), f"not valid YAML{at}: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(str(p), f"expected a mapping at the top level, got {type(data).__name__}")
    return data


def load(cls: type[T], data: Any, where: str) -> T:
    """Build dataclass ``cls`` from ``data``; ``where`` is 'file: key.path' for messages.

    Raises:
        ConfigError: unknown key (with a suggestion), missing required key, wrong type,
            value out of range or not among the choices.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(where, f"expected a mapping, got {_kind(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            near = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            allowed = ", ".join(sorted(fields))
            raise ConfigError(_join(where, key), f"unknown key{hint}; allowed keys: {allowed}")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        path = _join(where, name)
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(path, f"required key is missing ({_doc(f)})")
            continue
        kwargs[name] = _value(hints[name], data[name], path, f.metadata)
    return cls(**kwargs)


def _value(tp: Any, value: Any, path: str, meta: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _value(inner, value, path, meta)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):  # (a hint is a class)
        return load(tp, value, path)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(path, f"expected a list, got {_kind(value)}")
        return [_value(args[0], v, f"{path}[{i}]", {}) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(path, f"expected a mapping, got {_kind(value)}")
        return {str(k): _value(args[1], v, _join(path, k), {}) for k, v in value.items()}
    if tp is Any:
        return value
    return _scalar(tp, value, path, meta)


def _scalar(tp: Any, value: Any, path: str, meta: Any) -> Any:
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, f"expected true or false, got {_kind(value)}")
        return value
    if tp in (int, float):
        if tp is float and isinstance(value, str) and _YAML11_EXP.fullmatch(value.strip()):
            value = float(value)  # PyYAML (YAML 1.1) reads 3.0e6 as a string; mean a number
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(path, f"expected a number, got {_kind(value)}")
        if tp is int and not float(value).is_integer():
            raise ConfigError(path, f"expected a whole number, got {value!r}")
        value = tp(value)
        lo, hi = meta.get("min"), meta.get("max")
        if value != value or (lo is not None and value < lo) or (hi is not None and value > hi):
            doc = meta.get("doc", "")
            raise ConfigError(path, f"{value!r} is out of range [{lo}, {hi}] ({doc})")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(path, f"expected a string, got {_kind(value)}")
        choices = meta.get("choices")
        if choices and value not in choices:
            raise ConfigError(path, f"{value!r} is not one of {', '.join(choices)}")
        return value
    raise TypeError(f"schema type {tp!r} at {path} is not supported")  # a schema bug


def _join(where: str, key: Any) -> str:
    """'file.yaml:' + 'plant' -> 'file.yaml: plant'; 'file.yaml: plant' + 'x' -> '...plant.x'."""
    return f"{where} {key}" if where.endswith(":") else f"{where}.{key}"


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if not isinstance(value, dict | list) else type(
        value
    ).__name__


def _doc(f: dataclasses.Field[Any]) -> str:
    return f.metadata.get("doc") or "no default"
