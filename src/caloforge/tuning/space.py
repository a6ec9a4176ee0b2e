"""The search space of a study: ``--set``-style dotted config keys → ranges or choices.

A search space is a YAML mapping from a dotted run-config key (the keys ``caloforge train --set`` takes,
applied with :func:`caloforge.config.apply_overrides`) to one of

* ``{low: L, high: H}``: an integer range when both bounds are integers, else a float range;
  ``log: true`` samples it log-uniformly, ``step: S`` on a grid (not with ``log``);
* ``{choices: [A, B, ...]}``: one of the listed values (numbers, strings, booleans, null or lists, e.g.
  hidden-layer widths ``[[64, 32], [128, 64]]``).

A sampled point becomes ``key=value`` overrides of the base run config (:func:`to_overrides`).

Example:
    >>> space = parse_space({"train.lr": {"low": 1e-4, "high": 1e-2, "log": True},
    ...                      "model.config.hidden": {"choices": [[32], [64, 32]]}})
    >>> [(p.key, p.kind) for p in space]
    [('train.lr', 'float'), ('model.config.hidden', 'choice')]
    >>> to_overrides({"train.lr": 0.001, "model.config.hidden": [64, 32]})
    ['train.lr=0.001', 'model.config.hidden=[64, 32]']
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from caloforge.config import ConfigError

__all__ = ["Param", "SuggestsParams", "from_labels", "parse_space", "suggest", "to_overrides", "yaml_literal"]

_RANGE_KEYS = {"low", "high", "log", "step"}
_PRIMITIVE = (str, int, float, bool, type(None))


class SuggestsParams(Protocol):
    """The part of ``optuna.Trial`` the search space uses."""

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = ..., log: bool = ...) -> float:
        """A float in [low, high]."""

    def suggest_int(self, name: str, low: int, high: int, *, step: int = ..., log: bool = ...) -> int:
        """An integer in [low, high]."""

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """One of ``choices``."""


@dataclass(frozen=True)
class Param:
    """One dimension of the search space.

    Attributes:
        key: Dotted run-config key, e.g. ``train.lr`` or ``model.config.latent_dim``.
        kind: ``"float"`` / ``"int"`` (a range) or ``"choice"`` (a list of values).
        low: Lower bound of a range (``None`` for choices).
        high: Upper bound of a range.
        log: Sample the range log-uniformly.
        step: Grid step of a range (``None``: continuous, or 1 for integers).
        choices: The values of a ``"choice"`` parameter.
    """

    key: str
    kind: Literal["float", "int", "choice"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def candidates(self) -> list[Any]:
        """Values that bound the parameter (both ends of a range, every choice): what validation tries."""
        if self.kind == "choice":
            return list(self.choices)
        return [self.low, self.high]

    def labels(self) -> list[Any]:
        """The choices as Optuna stores them: primitives as they are, lists and mappings as JSON text."""
        return [c if isinstance(c, _PRIMITIVE) else json.dumps(c) for c in self.choices]


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _parse_param(key: object, spec: object) -> Param:
    where = f"search_space.{key}"
    if not isinstance(key, str) or not key or any(not part for part in key.split(".")) or "=" in key:
        msg = f"search_space: {key!r} is not a dotted config key like train.lr or model.config.latent_dim"
        raise ConfigError(msg)
    if not isinstance(spec, Mapping):
        msg = f"{where}: expected {{low: ..., high: ...}} or {{choices: [...]}}, got {spec!r}"
        raise ConfigError(msg)
    if "choices" in spec:
        extra = sorted(set(spec) - {"choices"})
        choices = spec["choices"]
        if extra:
            msg = f"{where}: 'choices' cannot be combined with {extra}"
            raise ConfigError(msg)
        if not isinstance(choices, list) or not choices:
            msg = f"{where}: choices must be a non-empty list, got {choices!r}"
            raise ConfigError(msg)
        labels = [c if isinstance(c, _PRIMITIVE) else json.dumps(c) for c in choices]
        if len(set(map(repr, labels))) != len(labels):
            msg = f"{where}: choices {choices!r} repeat a value"
            raise ConfigError(msg)
        return Param(key, "choice", choices=tuple(choices))
    unknown = sorted(set(spec) - _RANGE_KEYS)
    if unknown or "low" not in spec or "high" not in spec:
        found = f"unknown key(s) {unknown}" if unknown else f"missing {sorted({'low', 'high'} - set(spec))}"
        msg = f"{where}: {found}; a range is {{low, high, log, step}}, a list is {{choices: [...]}}"
        raise ConfigError(msg)
    low, high, log, step = spec["low"], spec["high"], spec.get("log", False), spec.get("step")
    if not (_number(low) and _number(high)):
        msg = f"{where}: low and high must be numbers, got {low!r} and {high!r}"
        raise ConfigError(msg)
    if not low < high:
        msg = f"{where}: low ({low}) must be below high ({high})"
        raise ConfigError(msg)
    if not isinstance(log, bool):
        msg = f"{where}: log must be true or false, got {log!r}"
        raise ConfigError(msg)
    if log and low <= 0:
        msg = f"{where}: a log range needs low > 0, got {low}"
        raise ConfigError(msg)
    if step is not None and (not _number(step) or step <= 0 or log):
        msg = f"{where}: step must be a positive number and cannot be combined with log, got {step!r}"
        raise ConfigError(msg)
    kind: Literal["float", "int"] = "int" if isinstance(low, int) and isinstance(high, int) else "float"
    if kind == "int" and step is not None and not isinstance(step, int):
        kind = "float"
    return Param(key, kind, float(low) if kind == "float" else low, float(high) if kind == "float" else high,
                 log, step)


def parse_space(
    raw: object, *, validate: Callable[[list[str]], None] | None = None
) -> tuple[Param, ...]:
    """Parses and checks the ``search_space`` mapping of a tune config.

    Arguments:
        raw: The mapping as read from YAML.
        validate: Called with the overrides of every bound and every choice, one parameter at a time
            (e.g. building the run config from them); a :class:`~caloforge.config.ConfigError` or
            ``ValueError`` it raises is reported under the parameter's key.

    Raises:
        ConfigError: Not a mapping, an empty space, a malformed entry, or a value the config refuses;
            the message names the key (``search_space.train.lr: ...``).
    """
    if not isinstance(raw, Mapping) or not raw:
        msg = "search_space: expected a non-empty mapping of dotted config keys to {low, high} or {choices}"
        raise ConfigError(msg)
    params = tuple(_parse_param(key, spec) for key, spec in raw.items())
    if validate is not None:
        for param in params:
            for value in param.candidates():
                try:
                    validate(to_overrides({param.key: value}))
                except ValueError as err:
                    msg = f"search_space.{param.key}: the value {value!r} gives an invalid run config: {err}"
                    raise ConfigError(msg) from None
    return params


def suggest(trial: SuggestsParams, space: Sequence[Param]) -> dict[str, Any]:
    """Draws one point of ``space`` from an Optuna trial; returns key → config value."""
    out: dict[str, Any] = {}
    for p in space:
        if p.kind == "choice":
            label = trial.suggest_categorical(p.key, p.labels())
            out[p.key] = p.choices[p.labels().index(label)]
        elif p.kind == "int":
            out[p.key] = trial.suggest_int(p.key, int(p.low or 0), int(p.high or 0), step=int(p.step or 1), log=p.log)
        else:
            out[p.key] = trial.suggest_float(p.key, float(p.low or 0.0), float(p.high or 0.0), step=p.step, log=p.log)
    return out


def from_labels(space: Sequence[Param], params: Mapping[str, Any]) -> dict[str, Any]:
    """Config values of a finished trial's ``params`` (Optuna's stored labels → the choices)."""
    out: dict[str, Any] = {}
    for p in space:
        if p.key not in params:
            continue
        value = params[p.key]
        out[p.key] = p.choices[p.labels().index(value)] if p.kind == "choice" and value in p.labels() else value
    return out


def to_overrides(values: Mapping[str, Any]) -> list[str]:
    """``key=value`` overrides (values as YAML literals, :func:`yaml_literal`) for :func:`~caloforge.config.apply_overrides`."""
    return [f"{key}={yaml_literal(value)}" for key, value in values.items()]


def yaml_literal(value: Any) -> str:
    """``value`` written so that YAML reads it back unchanged (floats always with a ``.``: ``1.0e-05``).

    Example:
        >>> yaml_literal([1e-05, "a", None, True])
        '[1.0e-05, "a", null, true]'
    """
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else text
    if isinstance(value, int | str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {yaml_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_literal(v) for v in value) + "]"
    msg = f"cannot write {value!r} as a config value"
    raise ConfigError(msg)
