"""The one training loop for every :class:`~caloforge.models.GenerativeModel`.

The trainer knows only the model interface: it fits the preprocessing once, then for each step
asks ``model.group_for_step(step)`` which parameter group to update, computes
``model.loss(batch, group)``, and steps that group's AdamW and LR schedule (with gradient clipping,
mixed precision on GPU and gradient averaging across data-parallel processes). Validation losses
are computed every epoch; EMA, early stopping, periodic checkpoints and the metrics log are
callbacks, and so is the wall-clock budget (``max_wall_s``: a clean stop with a checkpoint). After the
last step the model's ``fit_after_training`` runs once (with the EMA weights), before the final
checkpoint, for what needs the trained network (a latent KDE). The
number of torch threads is chosen from the free cores once per fit (:mod:`caloforge.threads`). A run
can be resumed from any checkpoint and continues bit-identically (same batches,
same noise, same updates) on the same device.

Example:
    >>> import numpy as np
    >>> from caloforge.data import ShowerData
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models import build_model
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> rng = np.random.default_rng(0)
    >>> data = ShowerData(np.full(32, 1e4), rng.gamma(2.0, 10.0, (32, 4)), g)
    >>> model = build_model("wgan", g, {"latent_dim": 4, "generator_hidden": [8], "critic_hidden": [8]})
    >>> trainer = Trainer(model, TrainConfig(max_steps=3, batch_size=8, progress=False, device="cpu"))
    >>> result = trainer.fit(data)
    >>> result.steps
    3
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from caloforge.data import ShowerData
from caloforge.device import resolve_device
from caloforge.models.base import GenerativeModel, ShowerBatch
from caloforge.models.serialization import CheckpointError, load_model, registered_name
from caloforge.threads import apply_threads
from caloforge.training.callbacks import (
    EMA,
    Callback,
    CheckpointEvery,
    EarlyStopping,
    MetricLogger,
    WallClockLimit,
    averaged_weights,
)
from caloforge.training.checkpoint import load_checkpoint, restore_training_state, save_checkpoint
from caloforge.training.config import TrainConfig
from caloforge.training.data import ShowerTensors
from caloforge.training.distributed import (
    DistributedContext,
    all_reduce_gradients,
    broadcast_module,
    init_distributed,
)
from caloforge.training.optim import build_optimizers, build_scheduler

__all__ = ["FitResult", "Trainer"]

logger = logging.getLogger(__name__)


@dataclass
class FitResult:
    """What :meth:`Trainer.fit` did.

    Attributes:
        steps: Optimizer steps taken in total (including those before a resume).
        epochs: Completed epochs.
        seconds: Wall time of this call's training loop, s.
        showers_per_second: Training throughput of this call (all processes together).
        val_metrics: Last validation metrics.
        checkpoint: Path of the final checkpoint (``None`` without an output directory).
        planned_steps: The step count the run was configured for (``max_steps`` / ``max_epochs``).
        stop_reason: Why it ended before ``planned_steps`` (``"wall-clock limit"``,
            ``"early stopping"``), ``None`` when it ran to the end.
    """

    steps: int
    epochs: int
    seconds: float
    showers_per_second: float
    val_metrics: dict[str, float] = field(default_factory=dict)
    checkpoint: Path | None = None
    planned_steps: int = 0
    stop_reason: str | None = None

    @property
    def cut_by_budget(self) -> bool:
        """Training stopped at its wall-clock limit."""
        return self.stop_reason == "wall-clock limit"


class Trainer:
    """Trains a model; owns optimizers, schedules, callbacks, checkpoints and the device.

    Arguments:
        model: The model to train (its preprocessing is fitted on the training data).
        config: Train settings.
        out_dir: Run directory for ``checkpoints/`` and ``metrics.jsonl`` (``None``: write nothing).
        callbacks: Extra callbacks, called after the built-in ones (checkpointing comes last).
        run_config: The resolved run config as a dict, stored in checkpoints.
    """

    def __init__(
        self,
        model: GenerativeModel,
        config: TrainConfig,
        *,
        out_dir: str | Path | None = None,
        callbacks: Sequence[Callback] = (),
        run_config: dict[str, Any] | None = None,
    ) -> None:
        self.model, self.config, self.run_config = model, config, run_config
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.device = resolve_device(config.device)
        self.dist = DistributedContext()
        self.step = self.epoch = self.batch_in_epoch = 0
        self.should_stop = False
        self.stop_reason: str | None = None
        self.callbacks = self._default_callbacks() + list(callbacks)
        if self.out_dir is not None and config.checkpoint_every > 0:
            ckpt = CheckpointEvery(self.out_dir / "checkpoints", config.checkpoint_every, config.keep_checkpoints)
            self.callbacks.append(ckpt)
        self.amp_dtype = self._amp_dtype()
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype == torch.float16)
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.schedulers: dict[str, torch.optim.lr_scheduler.LRScheduler] = {}

    def _default_callbacks(self) -> list[Callback]:
        c = self.config
        out: list[Callback] = []
        if c.ema_decay is not None:
            out.append(EMA(c.ema_decay))
        if self.out_dir is not None:
            out.append(MetricLogger(self.out_dir / "metrics.jsonl", c.log_every))
        if c.early_stopping_patience is not None:
            out.append(EarlyStopping(c.early_stopping_patience))
        if c.max_wall_s is not None:
            out.append(WallClockLimit(c.max_wall_s))
        if c.tensorboard and self.out_dir is not None:
            from caloforge.training.tracking import tensorboard_logger

            board = tensorboard_logger(self.out_dir / "tensorboard", c.log_every)
            if board is not None:
                out.append(board)
        return out

    def _amp_dtype(self) -> torch.dtype | None:
        precision = self.config.precision
        if precision == "auto":
            if self.device.type != "cuda":
                return None
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return {"32": None, "bf16": torch.bfloat16, "16": torch.float16}[precision]

    # ------------------------------------------------------------------ set-up
    def _total_steps(self, n_batches: int) -> int:
        per_epoch = min(n_batches, self.config.limit_batches or n_batches)
        total = self.config.max_epochs * per_epoch
        return min(total, self.config.max_steps) if self.config.max_steps is not None else total

    def _setup(self, train: ShowerTensors, resume: str | Path | None) -> int:
        """Fits preprocessing (or restores a checkpoint), builds optimizers; returns batches per epoch."""
        apply_threads(self.config.threads, what="training")
        torch.manual_seed(self.config.seed)
        self.dist = init_distributed(self.device)
        state = load_checkpoint(resume, map_location="cpu") if resume is not None else None
        if state is None and self.config.init_from is not None:
            self._init_from(self.config.init_from)
        elif state is None:
            self.model.fit_preprocessing(train.showers, train.conditions)
        self.model.to(self.device)
        if self.dist.enabled and state is None:
            broadcast_module(self.model)
        n_batches = train.n_batches(self.config.batch_size, world_size=self.dist.world_size)
        n_batches = min(n_batches, self.config.limit_batches or n_batches)
        total = self._total_steps(n_batches)
        groups = self.model.optimizer_groups()
        self.optimizers = build_optimizers(groups, self.model.optimizer_settings(), self.config)
        group_steps: dict[str, int] = defaultdict(int)
        for s in range(total):
            group_steps[self.model.group_for_step(s)] += 1
        self.schedulers = {
            g: build_scheduler(opt, self.config, total_steps=group_steps[g]) for g, opt in self.optimizers.items()
        }
        self._group_params = groups
        if state is not None:
            restore_training_state(self, state, str(resume))
            logger.info("resumed from %s at step %d (epoch %d)", resume, self.step, self.epoch)
        return n_batches

    def _init_from(self, path: str) -> None:
        """Copies weights and fitted preprocessing of the model saved at ``path`` (fine-tuning).

        Raises:
            caloforge.models.CheckpointError: Unreadable file, or a model of another name or config.
        """
        source = load_model(path)
        if registered_name(source) != registered_name(self.model) or source.config != self.model.config:
            msg = f"{path}: init_from holds model {registered_name(source)!r} with another config than this run's"
            raise CheckpointError(msg)
        if not source.geometry.same_binning(self.model.geometry):
            msg = f"{path}: init_from was trained on geometry {source.geometry.name!r}, not {self.model.geometry.name!r}"
            raise CheckpointError(msg)
        self.model.load_state_dict(source.state_dict())  # the fitted flag is a buffer and comes along
        logger.info("initialised from %s", path)

    def lr(self, group: str) -> float:
        """Current learning rate of ``group``."""
        return float(self.optimizers[group].param_groups[0]["lr"])

    def save_checkpoint(self, path: str | Path) -> Path:
        """Writes a resumable checkpoint of the current state."""
        return save_checkpoint(self, path)

    # ------------------------------------------------------------------ loop
    def fit(
        self,
        train: ShowerData | ShowerTensors,
        val: ShowerData | ShowerTensors | None = None,
        *,
        resume: str | Path | None = None,
    ) -> FitResult:
        """Trains until ``max_steps``/``max_epochs`` or early stopping.

        Arguments:
            train: Training showers.
            val: Validation showers (optional).
            resume: Training checkpoint to continue from.

        Returns:
            A :class:`FitResult`.

        Raises:
            caloforge.models.CheckpointError: Unreadable or incompatible ``resume`` checkpoint.
            FloatingPointError: The loss became NaN or infinite.
        """
        train_t = train if isinstance(train, ShowerTensors) else ShowerTensors.from_data(train)
        val_t = val if val is None or isinstance(val, ShowerTensors) else ShowerTensors.from_data(val)
        self.should_stop, self.stop_reason = False, None
        n_batches = self._setup(train_t, resume)
        total = self._total_steps(n_batches)
        start_step, start = self.step, time.perf_counter()
        for cb in self.callbacks:
            cb.on_fit_start(self)
        val_metrics: dict[str, float] = {}
        try:
            with tqdm(
                total=total,
                initial=self.step,
                disable=not (self.config.progress and self.dist.is_main),
                desc="train",
                unit="step",
            ) as bar:
                while self.step < total and self.epoch < self.config.max_epochs and not self.should_stop:
                    self._run_epoch(train_t, n_batches, total, bar)
                    if self.batch_in_epoch >= n_batches:
                        val_metrics = self.validate(val_t) if val_t is not None else {}
                        for cb in self.callbacks:
                            cb.on_epoch_end(self, val_metrics)
                        self.epoch, self.batch_in_epoch = self.epoch + 1, 0
        except KeyboardInterrupt:
            if self.out_dir is not None and self.dist.is_main:
                path = self.save_checkpoint(self.out_dir / "checkpoints" / "last.pt")
                logger.warning("interrupted at step %d; checkpoint written to %s", self.step, path)
            raise
        seconds = time.perf_counter() - start
        if self.should_stop and self.stop_reason is None and self.step < total:
            self.stop_reason = "early stopping"
        if self.stop_reason == "wall-clock limit":
            if self.step >= total:  # the budget ran out with the last step: nothing was cut
                self.stop_reason = None
            else:
                logger.warning(
                    "stopped at the wall-clock limit (%.0f s) after %d of %d steps; resume from "
                    "checkpoints/last.pt to continue", self.config.max_wall_s, self.step, total,
                )
        if getattr(self.model.fit_after_training, "__func__", None) is not GenerativeModel.fit_after_training:
            self.model.eval()
            with torch.no_grad(), averaged_weights(self.callbacks, self.model):
                self.model.fit_after_training(train_t.showers.to(self.device), train_t.conditions.to(self.device))
        return self._finish(start_step, seconds, val_metrics, val_t, total)

    def _run_epoch(self, train: ShowerTensors, n_batches: int, total: int, bar: tqdm[Any]) -> None:
        batches = train.batches(
            self.config.batch_size,
            epoch=self.epoch,
            seed=self.config.seed,
            rank=self.dist.rank,
            world_size=self.dist.world_size,
            start=self.batch_in_epoch,
        )
        for batch in batches:
            if self.batch_in_epoch >= n_batches or self.step >= total or self.should_stop:
                break
            group, metrics = self.train_step(batch)
            self.batch_in_epoch += 1
            bar.update(1)
            if self.step % max(self.config.log_every, 1) == 0:
                bar.set_postfix(loss=f"{metrics['loss']:.4g}", group=group, refresh=False)
            for cb in self.callbacks:
                cb.on_step_end(self, group, metrics)

    def train_step(self, batch: ShowerBatch) -> tuple[str, dict[str, float]]:
        """One optimizer step of the group scheduled for the current step; returns (group, metrics)."""
        group = self.model.group_for_step(self.step)
        opt, params = self.optimizers[group], self._group_params[group]
        batch = batch.to(self.device)
        self.model.train()
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
            out = self.model.loss(batch, group)
        if not torch.isfinite(out.loss):
            msg = f"non-finite {group} loss {float(out.loss.detach())} at step {self.step}; lower the learning rate"
            raise FloatingPointError(msg)
        self.model.zero_grad(set_to_none=True)
        torch.autograd.backward(self.scaler.scale(out.loss))
        if self.dist.enabled:
            all_reduce_gradients(params, self.dist.world_size)
        metrics = {"loss": float(out.loss.detach()), **out.metrics}
        if self.config.grad_clip is not None:
            self.scaler.unscale_(opt)
            metrics["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip))
        self.scaler.step(opt)
        self.scaler.update()
        self.schedulers[group].step()
        self.step += 1
        return group, metrics

    def validate(self, val: ShowerTensors) -> dict[str, float]:
        """Mean loss of every group (and the models' metrics) on the validation showers.

        Gradients stay enabled because some losses (a gradient penalty) differentiate internally;
        no parameter is updated.
        """
        self.model.eval()
        sums: dict[str, float] = defaultdict(float)
        n = 0
        limit = self.config.limit_val_batches
        for i, batch in enumerate(
            val.batches(
                self.config.batch_size,
                epoch=0,
                seed=0,
                shuffle=False,
                rank=self.dist.rank,
                world_size=self.dist.world_size,
                drop_last=False,
            )
        ):
            if limit is not None and i >= limit:
                break
            on_device = batch.to(self.device)
            for group in self._group_params:
                with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
                    out = self.model.loss(on_device, group)
                sums[f"val/{group}"] += float(out.loss.detach())
                sums["val/loss"] += float(out.loss.detach())
                for key, value in out.metrics.items():
                    sums[f"val/{key}"] += value
            n += 1
        self.model.zero_grad(set_to_none=True)
        return {k: v / max(n, 1) for k, v in sums.items()}

    def _finish(
        self,
        start_step: int,
        seconds: float,
        val_metrics: dict[str, float],
        val: ShowerTensors | None,
        total: int,
    ) -> FitResult:
        checkpoint = None
        if self.out_dir is not None and self.dist.is_main:  # before the final validation draws any noise,
            checkpoint = self.save_checkpoint(self.out_dir / "checkpoints" / "last.pt")  # so a resume matches
        if not val_metrics and val is not None and self.step > start_step:
            val_metrics = self.validate(val)
        for cb in self.callbacks:
            cb.on_fit_end(self)
        steps = self.step - start_step
        rate = steps * self.config.batch_size * self.dist.world_size / max(seconds, 1e-9)
        logger.info("trained %d steps in %.1f s (%.0f showers/s)", steps, seconds, rate)
        return FitResult(self.step, self.epoch, seconds, rate, val_metrics, checkpoint, total, self.stop_reason)
