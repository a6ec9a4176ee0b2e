"""The trainer callback that feeds a trial's pruner: one intermediate value per epoch, and a clean stop.

After every epoch's validation :class:`PruningCallback` reports a value through ``trial.report(value,
step=epoch)`` — the epoch's validation loss, or any score of the model being trained (``score=``) — and
asks ``trial.should_prune()``. When the pruner says so, the trainer stops as it does at its wall-clock
limit (``stop_reason = "pruned"``, a final checkpoint) and the tuner then ends the trial as pruned.

Example:
    >>> class FakeTrial:
    ...     reported = []
    ...     def report(self, value, step): self.reported.append((step, value))
    ...     def should_prune(self): return len(self.reported) >= 2
    >>> class FakeTrainer:
    ...     epoch, should_stop, stop_reason = 0, False, None
    >>> trial, trainer = FakeTrial(), FakeTrainer()
    >>> cb = PruningCallback(trial)
    >>> cb.on_epoch_end(trainer, {"val/loss": 3.0}); trainer.epoch = 1
    >>> cb.on_epoch_end(trainer, {"val/loss": 2.5})
    >>> trial.reported, trainer.should_stop, cb.pruned_at
    ([(0, 3.0), (1, 2.5)], True, 1)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from caloforge.training.callbacks import Callback

if TYPE_CHECKING:
    from caloforge.training.trainer import Trainer

__all__ = ["PRUNED", "PruningCallback", "ReportsToPruner"]

logger = logging.getLogger(__name__)

#: The trainer's ``stop_reason`` when a pruner stopped the trial.
PRUNED = "pruned"


class ReportsToPruner(Protocol):
    """The part of ``optuna.Trial`` the callback uses."""

    def report(self, value: float, step: int) -> None:
        """Records an intermediate value."""

    def should_prune(self) -> bool:
        """Whether the pruner stops the trial now."""


class PruningCallback(Callback):
    """Reports an intermediate value per epoch to ``trial`` and stops training when it is pruned.

    Arguments:
        trial: An Optuna trial (or anything with ``report`` / ``should_prune``).
        monitor: The validation metric reported when no ``score`` is given.
        score: Computes the value from the trainer instead (e.g. a fast fidelity score of
            ``trainer.model``); lower or higher is better as the study's direction says.

    Attributes:
        values: The reported values, one per epoch.
        pruned_at: The epoch the pruner stopped the trial at (``None``: it did not).
    """

    def __init__(
        self,
        trial: ReportsToPruner,
        *,
        monitor: str = "val/loss",
        score: Callable[[Trainer], float] | None = None,
    ) -> None:
        self.trial, self.monitor, self.score = trial, monitor, score
        self.values: list[float] = []
        self.pruned_at: int | None = None

    def on_epoch_end(self, trainer: Trainer, val_metrics: dict[str, float]) -> None:
        """Reports this epoch's value and stops the trainer when the trial is pruned."""
        value: Any = self.score(trainer) if self.score is not None else val_metrics.get(self.monitor)
        if value is None or not math.isfinite(float(value)):
            return
        self.values.append(float(value))
        self.trial.report(float(value), step=trainer.epoch)
        if self.pruned_at is None and self.trial.should_prune():
            self.pruned_at = trainer.epoch
            trainer.should_stop = True
            trainer.stop_reason = PRUNED
            logger.info("trial pruned after epoch %d (intermediate value %.5g)", trainer.epoch, float(value))
