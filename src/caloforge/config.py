"""Typed configuration: frozen dataclasses that round-trip to dicts, JSON and YAML.

Every configurable component mirrors its constructor arguments in a frozen ``@dataclass``. This
module converts such dataclasses from plain dicts (as read from YAML) with type checking, back to
dicts, and applies explicit ``key.sub=value`` overrides from the command line.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Opt:
    ...     lr: float = 1e-3
    ...     name: str = "adam"
    >>> from_dict(Opt, {"lr": 0.01})
    Opt(lr=0.01, name='adam')
    >>> apply_overrides({"opt": {"lr": 0.1}}, ["opt.lr=0.5"])
    {'opt': {'lr': 0.5}}
"""

from __future__ import annotations

import dataclasses
import json
import logging
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

__all__ = [
    "ConfigError",
    "apply_overrides",
    "from_dict",
    "load_config_file",
    "save_config_file",
    "to_dict",
]

logger = logging.getLogger(__name__)
C = TypeVar("C")


class ConfigError(ValueError):
    """A configuration value has the wrong key, type or choice."""


def to_dict(config: Any) -> dict[str, Any]:
    """Converts a (nested) config dataclass to plain JSON/YAML-able data."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        msg = f"expected a dataclass instance, got {type(config).__name__}"
        raise TypeError(msg)
    return typing.cast("dict[str, Any]", _plain(config))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def _did_you_mean(unknown: list[str], valid: Iterable[str]) -> str:
    """``" (did you mean 'max_steps'?)"`` for misspelt keys that are close to a valid one, else ``""``."""
    import difflib

    choices = list(valid)
    hints = [
        f"{key!r} → {match[0]!r}" if len(unknown) > 1 else repr(match[0])
        for key in unknown
        if (match := difflib.get_close_matches(str(key), choices, n=1, cutoff=0.6))
    ]
    return f" (did you mean {', '.join(hints)}?)" if hints else ""


def from_dict(cls: type[C], data: object, *, where: str = "") -> C:
    """Builds the dataclass ``cls`` from ``data``, checking keys, types and ``Literal`` choices.

    Arguments:
        cls: A dataclass type.
        data: Mapping of field names to values (e.g. parsed YAML); anything else is refused.
        where: Dotted prefix used in error messages.

    Raises:
        ConfigError: On unknown keys, missing required fields or values of the wrong type.
    """
    if not isinstance(data, Mapping):
        msg = f"{where or cls.__name__}: expected a mapping, got {type(data).__name__}"
        raise ConfigError(msg)
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        msg = f"{where or cls.__name__}: unknown key(s) {unknown}{_did_you_mean(unknown, fields)}; valid keys are {sorted(fields)}"
        raise ConfigError(msg)
    missing = [
        name for name, f in fields.items()
        if name not in data and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        msg = f"{where or cls.__name__}: missing required key(s) {missing}"
        raise ConfigError(msg)
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _coerce(hints[name], value, f"{where}.{name}" if where else name)
    try:
        return cls(**kwargs)
    except TypeError as err:
        msg = f"{where or cls.__name__}: {err}"
        raise ConfigError(msg) from None


def _coerce(tp: Any, value: Any, where: str) -> Any:
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        errors = []
        for option in get_args(tp):
            if option is type(None) and value is None:
                return None
            if option is type(None):
                continue
            try:
                return _coerce(option, value, where)
            except ConfigError as err:
                errors.append(str(err))
        msg = f"{where}: {value!r} matches none of {tp}"
        raise ConfigError(msg)
    if origin is Literal:
        if value not in get_args(tp):
            msg = f"{where}: {value!r} is not one of {list(get_args(tp))}"
            raise ConfigError(msg)
        return value
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where=where)  # type: ignore[arg-type]
    if origin in (tuple, list, Sequence):
        if not isinstance(value, list | tuple):
            msg = f"{where}: expected a list, got {value!r}"
            raise ConfigError(msg)
        args = get_args(tp)
        item = args[0] if args else Any
        items = [_coerce(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            msg = f"{where}: expected a mapping, got {value!r}"
            raise ConfigError(msg)
        return dict(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            msg = f"{where}: expected a number, got {value!r}"
            raise ConfigError(msg)
        try:
            return float(value)
        except ValueError:
            msg = f"{where}: expected a number, got {value!r}"
            raise ConfigError(msg) from None
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            msg = f"{where}: expected an integer, got {value!r}"
            raise ConfigError(msg)
        return value
    if tp is bool:
        if not isinstance(value, bool):
            msg = f"{where}: expected true/false, got {value!r}"
            raise ConfigError(msg)
        return value
    if tp is str:
        if not isinstance(value, str):
            msg = f"{where}: expected a string, got {value!r}"
            raise ConfigError(msg)
        return value
    return value


def _parse_scalar(text: str, item: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        reason = (str(err).splitlines() or ["invalid YAML"])[0]
        msg = f"override {item!r}: the value {text!r} is not valid YAML ({reason})"
        raise ConfigError(msg) from None


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Applies ``dotted.key=value`` overrides (values parsed as YAML) to a nested dict.

    Each override is logged so that a run's log shows what differs from its config file.

    Raises:
        ConfigError: If an override has no ``=``.
    """
    out: dict[str, Any] = json.loads(json.dumps(data))
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            msg = f"override {item!r} must look like key.sub=value"
            raise ConfigError(msg)
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                msg = f"override {item!r}: {part!r} is not a section"
                raise ConfigError(msg)
        node[parts[-1]] = _parse_scalar(raw, item)
        logger.info("config override %s = %r", key, node[parts[-1]])
    return out


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Reads a YAML or JSON config file into a dict.

    Raises:
        ConfigError: If the file cannot be read or does not hold a mapping.
    """
    import yaml

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        msg = f"{path}: cannot read config file ({err.strerror})"
        raise ConfigError(msg) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        msg = f"{path}: invalid YAML: {err}"
        raise ConfigError(msg) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        msg = f"{path}: a config file must hold a mapping at top level"
        raise ConfigError(msg)
    return data


def save_config_file(config: Any, path: str | Path) -> None:
    """Writes a config dataclass (or dict) as YAML (``.yaml``/``.yml``) or JSON, atomically (replacing ``path``).

    Raises:
        caloforge.atomic.OutputError: The file cannot be written.
    """
    import yaml

    from caloforge.atomic import atomic_write_text

    path = Path(path)
    data = to_dict(config) if dataclasses.is_dataclass(config) else config
    text = yaml.safe_dump(data, sort_keys=False) if path.suffix in {".yaml", ".yml"} else json.dumps(data, indent=2)
    atomic_write_text(path, text, overwrite=True)
