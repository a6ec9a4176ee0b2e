"""A tune config: the base run config, the search space, the objective, the budget and the study's storage.

The YAML file (``caloforge tune --config tune.yaml``) looks like::

    base: vae-smoke.yaml            # a run config file (relative to this file) or an inline run config
    search_space:                   # dotted run-config keys, as --set takes them
      train.lr: {low: 1.0e-4, high: 3.0e-3, log: true}
      model.config.latent_dim: {low: 4, high: 16}
      model.config.hidden: {choices: [[64, 32], [128, 64]]}
    objective: {metric: val_loss}   # or fidelity (E_tot/E_inc separation power + fast classifier AUC)
    direction: minimize
    n_trials: 20
    budget: {max_wall_s: 60, max_steps: 400}   # per trial: sets train.max_wall_s / train.max_steps
    pruner: {kind: median, n_startup_trials: 3, n_warmup_steps: 1}
    seed: 0
    out: runs/tune                  # OUT/trial-N/, OUT/best.yaml, OUT/report.html, OUT/study.json
    storage: null                   # null: sqlite:///OUT/study.db
    study_name: null                # null: the file's name without .yaml

Example:
    >>> cfg = tune_config_from_dict({"base": {"model": {"name": "vae"}, "data": {"geometry": "calochallenge-2",
    ...     "simulate": {"n": 64}}}, "search_space": {"train.lr": {"low": 1e-4, "high": 1e-2, "log": True}}})
    >>> cfg.objective.metric, cfg.n_trials, cfg.storage_url
    ('val_loss', 20, 'sqlite:///runs/tune/study.db')
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from caloforge.config import ConfigError, apply_overrides, from_dict, load_config_file
from caloforge.training.config import DataConfig, RunConfig, run_config_from_dict
from caloforge.tuning.space import Param, parse_space

__all__ = [
    "BudgetConfig",
    "ObjectiveConfig",
    "PrunerConfig",
    "TuneConfig",
    "load_tune_config",
    "tune_config_from_dict",
]


@dataclass(frozen=True)
class ObjectiveConfig:
    """What a trial is scored by.

    Attributes:
        metric: ``val_loss`` (the last validation loss) or ``fidelity``: the separation power of the
            E_tot/E_inc histograms plus |AUC − 0.5| of the fast classifier, generated vs held-out showers.
        n_holdout: Held-out showers ``fidelity`` compares with (simulated with ``holdout_seed``).
        holdout: Where the held-out showers come from (``None``: the base config's simulator settings
            with ``n_holdout`` showers and ``holdout_seed``; required when the base trains on a file).
        holdout_seed: Simulator seed of the default held-out showers (differs from the training seed).
        classifier_inputs: Inputs of the fast classifier (``high``, ``low``, ``low-normed``).
        prune_showers: Showers generated at each epoch for the intermediate value of ``fidelity``
            (their E_tot/E_inc separation power); ``val_loss`` reports the epoch's validation loss.
        seeds: Train every trial once per ``train.seed`` listed (``OUT/trial-N/seed-S``) and score the
            mean, so that the ranking is not one seed's luck; the pruner sees the first seed's run, and
            a pruned trial trains no further seed. Empty: one run with the base config's seed.
    """

    metric: Literal["val_loss", "fidelity"] = "val_loss"
    n_holdout: int = 2000
    holdout: DataConfig | None = None
    holdout_seed: int = 12345
    classifier_inputs: Literal["high", "low", "low-normed"] = "high"
    prune_showers: int = 500
    seeds: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if len(set(self.seeds)) != len(self.seeds):
            msg = f"objective.seeds: {list(self.seeds)} repeats a seed"
            raise ValueError(msg)
        for name in ("n_holdout", "prune_showers"):
            if getattr(self, name) < 20:
                msg = f"objective.{name} must be at least 20, got {getattr(self, name)}"
                raise ValueError(msg)


@dataclass(frozen=True)
class BudgetConfig:
    """The per-trial training budget, applied over the base config.

    Attributes:
        max_wall_s: Sets ``train.max_wall_s`` (``None``: keep the base config's).
        max_steps: Sets ``train.max_steps`` (``None``: keep the base config's).
    """

    max_wall_s: float | None = None
    max_steps: int | None = None

    def overrides(self) -> list[str]:
        """The ``train.*`` overrides of this budget."""
        out = [] if self.max_wall_s is None else [f"train.max_wall_s={float(self.max_wall_s)!r}"]
        return out + ([] if self.max_steps is None else [f"train.max_steps={int(self.max_steps)}"])


@dataclass(frozen=True)
class PrunerConfig:
    """The pruner that stops unpromising trials from their intermediate values (one per epoch).

    Attributes:
        kind: ``median`` (Optuna's MedianPruner), ``hyperband`` (HyperbandPruner) or ``none``.
        n_startup_trials: ``median``: trials that are never pruned, before comparisons start.
        n_warmup_steps: ``median``: epochs of a trial that are never pruned.
        min_resource: ``hyperband``: epochs every trial gets.
        reduction_factor: ``hyperband``: the fraction 1/η of trials promoted at each rung.
    """

    kind: Literal["median", "hyperband", "none"] = "median"
    n_startup_trials: int = 3
    n_warmup_steps: int = 1
    min_resource: int = 1
    reduction_factor: int = 3


@dataclass(frozen=True)
class TuneConfig:
    """A hyper-parameter study.

    Attributes:
        base: The base run config, as a plain dict (validated into a ``RunConfig``).
        search_space: The dimensions (:func:`caloforge.tuning.space.parse_space`).
        objective: The score of a trial.
        direction: ``minimize`` or ``maximize`` the score (both objectives: lower is better).
        n_trials: Finished (complete or pruned) trials the study aims for, earlier sessions included.
        budget: Per-trial training budget.
        pruner: The pruner.
        seed: Seed of the TPE sampler.
        n_startup_trials: Random trials before TPE models the space.
        out: Output directory.
        storage: Optuna storage URL (``None``: ``sqlite:///OUT/study.db``).
        study_name: The study's name in the storage.
    """

    base: dict[str, Any]
    search_space: tuple[Param, ...]
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    direction: Literal["minimize", "maximize"] = "minimize"
    n_trials: int = 20
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    pruner: PrunerConfig = field(default_factory=PrunerConfig)
    seed: int = 0
    n_startup_trials: int = 4
    out: str = "runs/tune"
    storage: str | None = None
    study_name: str = "caloforge-tune"

    @property
    def storage_url(self) -> str:
        """The storage URL; the default is a SQLite file in ``out``."""
        return self.storage or f"sqlite:///{Path(self.out) / 'study.db'}"

    def trial_overrides(self, values: Mapping[str, Any]) -> list[str]:
        """All overrides of one trial: the budget, no progress bar, the trial's values."""
        from caloforge.tuning.space import to_overrides

        return [*self.budget.overrides(), "train.progress=false", *to_overrides(values)]

    def run_config(self, values: Mapping[str, Any], out: str | Path) -> RunConfig:
        """The full run config of a trial with ``values``, writing to ``out``."""
        with _quiet_overrides():
            data = apply_overrides(self.base, [*self.trial_overrides(values), f"out={Path(out)}"])
        return run_config_from_dict(data)

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the study (everything but ``n_trials``, ``out`` and ``storage``)."""
        from caloforge.config import to_dict

        data = to_dict(self)
        for name in ("n_trials", "out", "storage"):
            data.pop(name)
        return data


@contextmanager
def _quiet_overrides() -> Iterator[None]:
    """Without the info line per override: the tuner applies each trial's overrides several times."""
    config_logger = logging.getLogger("caloforge.config")
    level = config_logger.level
    config_logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        config_logger.setLevel(level)


_SCALARS = ("direction", "n_trials", "seed", "n_startup_trials", "out", "storage", "study_name")


def _base(raw: object, root: Path | None) -> dict[str, Any]:
    if isinstance(raw, str):
        path = Path(raw)
        if not path.is_absolute() and root is not None:
            path = root / path
        return load_config_file(path)
    if isinstance(raw, Mapping):
        return dict(raw)
    msg = "base: give the base run config as a file name (relative to the tune config) or inline as a mapping"
    raise ConfigError(msg)


def tune_config_from_dict(
    data: Mapping[str, Any], *, root: Path | None = None, default_name: str = "caloforge-tune"
) -> TuneConfig:
    """Validates a parsed tune config.

    Arguments:
        data: The YAML mapping.
        root: Directory a ``base:`` file name is relative to (the tune file's).
        default_name: The study name when the config gives none.

    Raises:
        ConfigError: Unknown or malformed keys (the message names them), a base run config or search
            space that does not validate.
    """
    known = {"base", "search_space", "objective", "budget", "pruner", *_SCALARS}
    unknown = sorted(set(data) - known)
    if unknown:
        msg = f"tune config: unknown key(s) {unknown}; valid keys are {sorted(known)}"
        raise ConfigError(msg)
    for required in ("base", "search_space"):
        if required not in data:
            msg = f"{required}: the tune config needs a {required!r} section"
            raise ConfigError(msg)
    base = _base(data["base"], root)
    try:
        base_config = run_config_from_dict(base)
    except ValueError as err:
        msg = f"base: {err}"
        raise ConfigError(msg) from None

    def validate(overrides: list[str]) -> None:
        with _quiet_overrides():
            run_config_from_dict(apply_overrides(base, overrides))

    space = parse_space(data["search_space"], validate=validate)
    sections: dict[str, Any] = {}
    for name, cls in (("objective", ObjectiveConfig), ("budget", BudgetConfig), ("pruner", PrunerConfig)):
        try:
            sections[name] = from_dict(cls, data.get(name) or {}, where=name)
        except ValueError as err:
            raise ConfigError(str(err) if isinstance(err, ConfigError) else f"{name}: {err}") from None
    scalars = from_dict(_Scalars, {k: data[k] for k in _SCALARS if k in data}, where="tune config")
    if scalars.n_trials < 1:
        msg = f"n_trials must be at least 1, got {scalars.n_trials}"
        raise ConfigError(msg)
    objective = sections["objective"]
    if objective.metric == "fidelity" and objective.holdout is None and base_config.data.simulate is None:
        msg = ("objective.holdout: the base config trains on a file; name the held-out showers for the fidelity "
               "objective, e.g. holdout: {path: FILE, start: N}")
        raise ConfigError(msg)
    try:
        run_config_from_dict(apply_overrides(base, sections["budget"].overrides()))
    except ValueError as err:
        msg = f"budget: {err}"
        raise ConfigError(msg) from None
    fields = dataclasses.asdict(scalars)
    fields["study_name"] = fields["study_name"] or default_name
    return TuneConfig(base=base, search_space=space, **sections, **fields)


@dataclass(frozen=True)
class _Scalars:
    direction: Literal["minimize", "maximize"] = "minimize"
    n_trials: int = 20
    seed: int = 0
    n_startup_trials: int = 4
    out: str = "runs/tune"
    storage: str | None = None
    study_name: str | None = None


def load_tune_config(path: str | Path, overrides: Sequence[str] = ()) -> TuneConfig:
    """Reads a tune config file and applies ``key=value`` overrides (e.g. ``n_trials=5``, ``out=DIR``).

    The study name defaults to the file's name without its extension.

    Raises:
        ConfigError: Unreadable file or an invalid config (the message names the file and the key).
    """
    path = Path(path)
    data = apply_overrides(load_config_file(path), overrides)
    try:
        return tune_config_from_dict(data, root=path.parent, default_name=path.stem)
    except ConfigError as err:
        msg = f"{path}: {err}"
        raise ConfigError(msg) from None
