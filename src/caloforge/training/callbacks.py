"""Trainer callbacks: EMA weights, early stopping, a wall-clock budget, periodic checkpoints, the JSONL log.

A callback overrides named hooks; the :class:`~caloforge.training.Trainer` calls them in order.
Callbacks with state (EMA weights, the best validation loss) implement ``state_dict`` /
``load_state_dict`` so that a resumed run continues exactly.

Example:
    >>> import torch
    >>> ema = EMA(decay=0.5)
    >>> net = torch.nn.Linear(1, 1, bias=False)
    >>> ema.attach(net)
    >>> with torch.no_grad():
    ...     _ = net.weight.fill_(1.0)
    >>> ema.update(net)
    >>> sorted(ema.shadow)
    ['weight']
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from caloforge.oserrors import output_error
from caloforge.training.distributed import any_rank

if TYPE_CHECKING:
    from caloforge.training.trainer import Trainer

__all__ = ["EMA", "Callback", "CheckpointEvery", "EarlyStopping", "MetricLogger", "WallClockLimit", "averaged_weights"]

logger = logging.getLogger(__name__)


class Callback:
    """Base class; every hook does nothing by default."""

    def on_fit_start(self, trainer: Trainer) -> None:
        """Before the first step (also when resuming)."""

    def on_step_end(self, trainer: Trainer, group: str, metrics: dict[str, float]) -> None:
        """After each optimizer step; ``trainer.step`` already counts it."""

    def on_epoch_end(self, trainer: Trainer, val_metrics: dict[str, float]) -> None:
        """After each epoch's validation."""

    def on_fit_end(self, trainer: Trainer) -> None:
        """After the last step."""

    def state_dict(self) -> dict[str, Any]:
        """State saved in checkpoints."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores :meth:`state_dict`."""


class EMA(Callback):
    """Exponential moving average of the model's floating-point parameters.

    shadow ← d·shadow + (1 − d)·θ after every step, with d = min(decay, (1 + n) / (10 + n)) so the
    average is not dominated by the random initialisation early on.

    Arguments:
        decay: Asymptotic decay d.
    """

    def __init__(self, decay: float = 0.999) -> None:
        self.decay = decay
        self.n_updates = 0
        self.shadow: dict[str, Tensor] = {}

    def attach(self, model: nn.Module) -> None:
        """Starts the average at the current weights (unless restored from a checkpoint)."""
        if not self.shadow:
            self.shadow = {k: p.detach().clone() for k, p in model.named_parameters() if p.is_floating_point()}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """One averaging step."""
        d = min(self.decay, (1 + self.n_updates) / (10 + self.n_updates))
        for name, p in model.named_parameters():
            if name in self.shadow:
                self.shadow[name].lerp_(p.detach(), 1.0 - d)
        self.n_updates += 1

    def on_fit_start(self, trainer: Trainer) -> None:
        """Attaches to the trainer's model."""
        self.attach(trainer.model)

    def on_step_end(self, trainer: Trainer, group: str, metrics: dict[str, float]) -> None:  # noqa: ARG002
        """Updates the average."""
        self.update(trainer.model)

    @contextmanager
    def swapped_in(self, model: nn.Module) -> Iterator[None]:
        """Within the block the model holds the averaged weights; its own are restored afterwards."""
        own = {k: p.detach().clone() for k, p in model.named_parameters() if k in self.shadow}
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name in self.shadow:
                    p.copy_(self.shadow[name])
        try:
            yield
        finally:
            with torch.no_grad():
                for name, p in model.named_parameters():
                    if name in own:
                        p.copy_(own[name])

    def state_dict(self) -> dict[str, Any]:
        """Decay, update count and the averaged weights."""
        return {"decay": self.decay, "n_updates": self.n_updates, "shadow": dict(self.shadow)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores the average."""
        self.decay = float(state["decay"])
        self.n_updates = int(state["n_updates"])
        self.shadow = {k: v.clone() for k, v in state["shadow"].items()}


def averaged_weights(callbacks: list[Callback], model: nn.Module) -> contextlib.AbstractContextManager[None]:
    """The EMA weights swapped into ``model`` for a block, when one of ``callbacks`` is an :class:`EMA`."""
    for cb in callbacks:
        if isinstance(cb, EMA) and cb.shadow:
            return cb.swapped_in(model)
    return nullcontext()


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved for ``patience`` epochs.

    Arguments:
        patience: Epochs without improvement tolerated.
        monitor: Validation metric (lower is better).
        min_delta: Improvement smaller than this does not count.
    """

    def __init__(self, patience: int = 10, monitor: str = "val/loss", min_delta: float = 0.0) -> None:
        self.patience, self.monitor, self.min_delta = patience, monitor, min_delta
        self.best = math.inf
        self.bad_epochs = 0

    def on_epoch_end(self, trainer: Trainer, val_metrics: dict[str, float]) -> None:
        """Counts epochs without improvement; asks the trainer to stop after ``patience``."""
        value = val_metrics.get(self.monitor)
        if value is None:
            return
        if value < self.best - self.min_delta:
            self.best, self.bad_epochs = value, 0
            return
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            logger.info("early stopping: %s has not improved for %d epochs", self.monitor, self.patience)
            trainer.should_stop = True

    def state_dict(self) -> dict[str, Any]:
        """Best value and the count of bad epochs."""
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores the counters."""
        self.best, self.bad_epochs = float(state["best"]), int(state["bad_epochs"])


class WallClockLimit(Callback):
    """Stops training once this call of ``fit`` has run ``max_seconds`` of wall-clock time.

    The trainer then finishes as usual (final validation, ``checkpoints/last.pt``), so a later
    ``fit(..., resume=last.pt)`` continues where the budget cut the run; each call has its own budget.
    The stop is recorded as ``trainer.stop_reason = "wall-clock limit"``.

    Arguments:
        max_seconds: The budget, s.
        clock: Monotonic clock in seconds (``None``: this module's ``monotonic``, i.e. ``time.monotonic``).
    """

    def __init__(self, max_seconds: float, clock: Callable[[], float] | None = None) -> None:
        self.max_seconds = float(max_seconds)
        self.clock = clock if clock is not None else monotonic
        self._start = 0.0

    def on_fit_start(self, trainer: Trainer) -> None:  # noqa: ARG002
        """Starts the clock."""
        self._start = self.clock()

    def on_step_end(self, trainer: Trainer, group: str, metrics: dict[str, float]) -> None:  # noqa: ARG002
        """Asks the trainer to stop when the budget is spent."""
        spent = self.clock() - self._start >= self.max_seconds
        if trainer.dist.enabled:  # every process stops at the same step
            spent = any_rank(spent, trainer.device)
        if spent and not trainer.should_stop:
            trainer.should_stop = True
            trainer.stop_reason = "wall-clock limit"


class CheckpointEvery(Callback):
    """Writes ``checkpoints/step-NNNNNNN.pt`` every ``every_n_steps`` steps (rank 0 only).

    Arguments:
        directory: Checkpoint directory.
        every_n_steps: Interval in steps.
        keep: Number of step checkpoints kept (older ones are deleted).
    """

    def __init__(self, directory: str | Path, every_n_steps: int, keep: int = 2) -> None:
        self.directory, self.every, self.keep = Path(directory), every_n_steps, keep

    def on_step_end(self, trainer: Trainer, group: str, metrics: dict[str, float]) -> None:  # noqa: ARG002
        """Saves on multiples of the interval and prunes old files."""
        if self.every <= 0 or trainer.step % self.every or not trainer.dist.is_main:
            return
        trainer.save_checkpoint(self.directory / f"step-{trainer.step:07d}.pt")
        trainer.save_checkpoint(self.directory / "last.pt")
        old = sorted(self.directory.glob("step-*.pt"))[: -self.keep or None] if self.keep > 0 else []
        for path in old:
            path.unlink(missing_ok=True)


class MetricLogger(Callback):
    """Appends training and validation metrics as JSON lines to ``path`` (rank 0 only).

    Every line carries ``cpu_s``, the CPU seconds (all threads of this process) the run has used
    so far, summed over resumed sessions, which is what model cards and quality-per-compute
    curves quote.

    Arguments:
        path: The ``metrics.jsonl`` file.
        every_n_steps: Interval of training-metric lines.
    """

    def __init__(self, path: str | Path, every_n_steps: int = 50) -> None:
        self.path, self.every = Path(path), max(every_n_steps, 1)
        self._cpu_before, self._cpu_start = 0.0, time.process_time()

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds of the run so far, earlier (resumed) sessions included."""
        return self._cpu_before + time.process_time() - self._cpu_start

    def on_fit_start(self, trainer: Trainer) -> None:  # noqa: ARG002
        """Starts this session's CPU clock."""
        self._cpu_start = time.process_time()

    def state_dict(self) -> dict[str, Any]:
        """The CPU seconds used so far."""
        return {"cpu_s": self.cpu_seconds}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continues the CPU clock of a resumed run."""
        self._cpu_before = float(state.get("cpu_s", 0.0))

    def _write(self, trainer: Trainer, record: dict[str, Any]) -> None:
        if not trainer.dist.is_main:
            return
        line = {"step": trainer.step, "epoch": trainer.epoch, **record, "cpu_s": round(self.cpu_seconds, 1)}
        try:  # an append-only log: a failed write leaves the earlier lines intact
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as f:
                f.write(json.dumps(line) + "\n")
        except OSError as err:
            raise output_error(err, self.path) from None

    def on_step_end(self, trainer: Trainer, group: str, metrics: dict[str, float]) -> None:
        """Logs every ``every_n_steps`` steps."""
        if trainer.step % self.every == 0:
            self._write(trainer, {"split": "train", "group": group, "lr": trainer.lr(group), **metrics})

    def on_epoch_end(self, trainer: Trainer, val_metrics: dict[str, float]) -> None:
        """Logs the validation metrics."""
        if val_metrics:
            self._write(trainer, {"split": "val", **val_metrics})
