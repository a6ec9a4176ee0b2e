"""Typed run configuration: what to train (model), on what (data), how (train) and where (out).

A run config is a YAML file validated into :class:`RunConfig`; every value can be overridden with
``--set section.key=value``. The resolved config is saved as ``config.yaml`` in the run directory.

Example:
    >>> cfg = run_config_from_dict({"model": {"name": "wgan"}, "data": {"path": "showers.h5"},
    ...                             "train": {"max_steps": 10}})
    >>> cfg.train.max_steps, cfg.data.path, cfg.model.name
    (10, 'showers.h5', 'wgan')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from caloforge.config import ConfigError, apply_overrides, from_dict, load_config_file, to_dict

if TYPE_CHECKING:
    from caloforge.models import GenerativeModel

__all__ = [
    "DataConfig",
    "ModelSpec",
    "RunConfig",
    "SimulateConfig",
    "TrainConfig",
    "load_run_config",
    "run_config_from_dict",
]


@dataclass(frozen=True)
class TrainConfig:
    """How to train.

    Attributes:
        max_epochs: Upper bound on passes over the training set.
        max_steps: Upper bound on optimizer steps (``None``: only ``max_epochs``).
        batch_size: Showers per step (per process under DDP).
        lr: AdamW learning rate of every group; ``None``: the model's recommendation, else 1e-3.
        betas: AdamW betas; ``None``: the model's recommendation, else (0.9, 0.999).
        weight_decay: AdamW weight decay.
        scheduler: Learning-rate schedule after warm-up (``cosine`` decays to ``min_lr_factor``·lr).
        warmup_steps: Linear warm-up steps.
        min_lr_factor: Final fraction of the learning rate for ``cosine``.
        grad_clip: Clip the gradient norm of the stepped group to this value (``None``: off).
        ema_decay: Keep an exponential moving average of the weights (``None``: off); generation
            from a checkpoint uses it.
        val_fraction: Fraction of the showers held out for the validation loss.
        early_stopping_patience: Stop after this many epochs without a better validation loss.
        checkpoint_every: Write a checkpoint every N steps (0: only at the end and on interrupt).
        keep_checkpoints: Step checkpoints kept on disk (``last.pt`` is always kept).
        log_every: Write training metrics every N steps.
        limit_batches: Train at most this many batches per epoch (smoke runs).
        limit_val_batches: Validate on at most this many batches.
        seed: Seed of initialisation, shuffling, the split and the model's noise.
        init_from: Start from the weights and fitted preprocessing of this checkpoint or saved
            model (EMA weights when it has them) instead of a fresh initialisation, with fresh
            optimizers and schedule: fine-tuning, e.g. on Geant4 showers after pre-training on
            the built-in simulator. The model name and config must match.
        device: ``auto`` picks CUDA when available.
        precision: ``auto``: bf16 autocast on CUDA if supported (else fp16 with loss scaling),
            fp32 on CPU.
        progress: Show progress bars.
        threads: Torch CPU threads (``None``: the free cores, ``max(1, cores - round(load))``, or
            ``OMP_NUM_THREADS`` when set; see :mod:`caloforge.threads`).
        max_wall_s: Wall-clock budget of one training call, s (``None``: none): training stops
            cleanly at the limit with a checkpoint, and a resume continues from there.
        tensorboard: Also write TensorBoard event files to ``OUT/tensorboard/`` (needs the
            ``tensorboard`` package; without it a warning and the JSONL log only).
    """

    max_epochs: int = 100
    max_steps: int | None = None
    batch_size: int = 256
    lr: float | None = None
    betas: tuple[float, float] | None = None
    weight_decay: float = 0.0
    scheduler: Literal["constant", "cosine"] = "cosine"
    warmup_steps: int = 0
    min_lr_factor: float = 0.01
    grad_clip: float | None = 5.0
    ema_decay: float | None = None
    val_fraction: float = 0.1
    early_stopping_patience: int | None = None
    checkpoint_every: int = 1000
    keep_checkpoints: int = 2
    log_every: int = 50
    limit_batches: int | None = None
    limit_val_batches: int | None = 20
    seed: int = 0
    init_from: str | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["auto", "32", "bf16", "16"] = "auto"
    progress: bool = True
    threads: int | None = None
    max_wall_s: float | None = None
    tensorboard: bool = False

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.max_epochs < 1:
            msg = f"batch_size and max_epochs must be positive, got {self.batch_size}, {self.max_epochs}"
            raise ValueError(msg)
        if not 0.0 <= self.val_fraction < 1.0:
            msg = f"val_fraction must be in [0, 1), got {self.val_fraction}"
            raise ValueError(msg)
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            msg = f"ema_decay must be in (0, 1), got {self.ema_decay}"
            raise ValueError(msg)
        at_least = {"max_steps": 1, "limit_batches": 1, "limit_val_batches": 1, "log_every": 1, "warmup_steps": 0,
                    "checkpoint_every": 0, "keep_checkpoints": 0, "early_stopping_patience": 1, "threads": 1}
        for name, low in at_least.items():
            value = getattr(self, name)
            if value is not None and value < low:
                msg = f"train.{name} must be at least {low}" + (" (or null: no limit)" if low == 1 else "")
                msg += f", got {value}"
                raise ValueError(msg)
        for name in ("lr", "grad_clip", "max_wall_s"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                msg = f"train.{name} must be positive (or null), got {value}"
                raise ValueError(msg)


@dataclass(frozen=True)
class SimulateConfig:
    """Training showers from the built-in simulator (:mod:`caloforge.simulate`).

    Attributes:
        n: Number of showers.
        energy: Incident-energy spec in GeV, e.g. ``log-uniform:1:100``.
        seed: Simulator seed.
    """

    n: int = 10_000
    energy: str = "log-uniform:1:100"
    seed: int = 1


@dataclass(frozen=True)
class DataConfig:
    """Where the training showers come from: a file (``path``) or the simulator (``simulate``).

    Attributes:
        path: CaloChallenge or Par04 HDF5 file (relative to the working directory), or Par04 per-angle
            files ``<geo>_angle_<A>.h5``: their directory or a glob (:func:`caloforge.data.read_par04_angles`).
        geometry: Geometry name (required with ``simulate``; optional check for files).
        simulate: Simulator settings, used when ``path`` is not set.
        start: First event of the file used.
        stop: One past the last event used (hold the rest out for evaluation).
        use_angles: Condition on the incidence angle when the data have one.
    """

    path: str | None = None
    geometry: str | None = None
    simulate: SimulateConfig | None = None
    start: int = 0
    stop: int | None = None
    use_angles: bool = True


@dataclass(frozen=True)
class ModelSpec:
    """A registered model name and its config, validated once when the spec is built.

    ``config`` may be given as the family's config dataclass, as a mapping of its fields (overrides
    of the defaults, as read from YAML) or as ``None`` (the defaults); the spec always holds the
    frozen config dataclass, the model's ``config_class``.

    Attributes:
        name: Registry name (``caloforge inspect --models`` lists them).
        config: The model's config dataclass.

    Raises:
        ConfigError: Unknown model name, or a config that does not fit the model's ``config_class``.

    Example:
        >>> spec = ModelSpec("vae", {"latent_dim": 6})
        >>> type(spec.config).__name__, spec.config.latent_dim, spec.to_dict()["config"]["latent_dim"]
        ('VAEConfig', 6, 6)
    """

    name: str
    config: Any = None

    def __post_init__(self) -> None:
        config_class = self.model_class.config_class
        config = self.config
        if config is None:
            config = config_class()
        elif isinstance(config, Mapping):
            try:
                config = from_dict(config_class, config, where="model.config")
            except ValueError as err:
                if isinstance(err, ConfigError):
                    raise
                msg = f"model.config: {err}"
                raise ConfigError(msg) from None
        elif not isinstance(config, config_class):
            msg = (
                f"model.config: model {self.name!r} takes a {config_class.__name__} (or a mapping of its fields), "
                f"got {type(config).__name__}"
            )
            raise ConfigError(msg)
        object.__setattr__(self, "config", config)

    @property
    def model_class(self) -> type[GenerativeModel]:
        """The registered model class.

        Raises:
            ConfigError: Unknown model name (the message lists the choices).
        """
        from caloforge.models import MODELS

        try:
            return MODELS.get(self.name)
        except KeyError as err:
            msg = f"model.name: {err.args[0]}"
            raise ConfigError(msg) from None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (YAML-able): ``{"name": ..., "config": {...every field of the config...}}``."""
        return to_dict(self)


@dataclass(frozen=True)
class RunConfig:
    """A complete training run.

    Attributes:
        model: Model name and config.
        data: Training data.
        train: Trainer settings.
        out: Run directory (checkpoints, ``metrics.jsonl``, ``config.yaml``).
    """

    model: ModelSpec
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    out: str = "runs/default"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (YAML-able)."""
        return to_dict(self)


def run_config_from_dict(data: Mapping[str, Any]) -> RunConfig:
    """Validates a dict (parsed YAML) into a :class:`RunConfig`, including the model's own config.

    Raises:
        ConfigError: Unknown keys, wrong types, invalid values, unknown model or missing data source.
    """
    if isinstance(data, Mapping) and "model" not in data:
        msg = "model: the config names no model; add 'model: {name: NAME}' (or pass --model NAME)"
        raise ConfigError(msg)
    try:
        config = from_dict(RunConfig, data)
    except ValueError as err:
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(str(err)) from None
    if config.data.path is None and config.data.simulate is None:
        msg = "data: set either path (a CaloChallenge file) or simulate (built-in simulator settings)"
        raise ConfigError(msg)
    if config.data.path is None and config.data.geometry is None:
        msg = "data.geometry is required when training on simulated showers"
        raise ConfigError(msg)
    return config


def load_run_config(path: str | Path | None = None, overrides: Sequence[str] = (), **base: Any) -> RunConfig:
    """Reads a YAML run config, applies ``key=value`` overrides and validates it.

    Arguments:
        path: YAML/JSON file (``None``: start from ``base`` only).
        overrides: ``section.key=value`` strings (values parsed as YAML), applied in order.
        base: Top-level sections merged under the file's (e.g. ``model={"name": "vae"}``).

    Raises:
        ConfigError: See :func:`run_config_from_dict`.
    """
    data: dict[str, Any] = {key: value for key, value in base.items() if value is not None}
    if path is not None:
        data.update(load_config_file(path))
    return run_config_from_dict(apply_overrides(data, overrides))
