"""Experiment tracking beside the JSONL log: TensorBoard event files (``train.tensorboard: true``).

TensorBoard is optional and not a dependency: :func:`tensorboard_logger` returns ``None`` with one
warning when neither ``torch.utils.tensorboard`` nor its ``tensorboard`` backend is importable, and
training goes on with ``metrics.jsonl`` only. The event files go to ``OUT/tensorboard/``; view them
with ``tensorboard --logdir OUT/tensorboard``. The same scalars as the JSONL log are written, tagged
``train/<metric>`` (``train/lr`` included) and ``val/<metric>``, against the optimizer step.

MLflow and Weights & Biases are not wired in: both read TensorBoard event directories
(``mlflow.tensorflow`` / ``wandb.init(sync_tensorboard=True)``), so the event files serve them too.

Example:
    >>> import tempfile
    >>> board = TensorBoardLogger(tempfile.mkdtemp(), writer=None)
    >>> board.every
    50
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caloforge.training.callbacks import Callback

if TYPE_CHECKING:
    from caloforge.training.trainer import Trainer

__all__ = ["TensorBoardLogger", "tensorboard_logger"]

logger = logging.getLogger(__name__)


class TensorBoardLogger(Callback):
    """Writes training and validation scalars as TensorBoard events (rank 0 only).

    Arguments:
        directory: Event-file directory.
        every_n_steps: Interval of training scalars (validation: every epoch).
        writer: An object with ``add_scalar(tag, value, step)``, ``flush()`` and ``close()``
            (``None``: a ``torch.utils.tensorboard.SummaryWriter`` opened at the first event).
    """

    def __init__(self, directory: str | Path, every_n_steps: int = 50, writer: Any = None) -> None:
        self.directory, self.every = Path(directory), max(every_n_steps, 1)
        self.writer = writer

    def _open(self) -> Any:
        if self.writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=str(self.directory))
        return self.writer

    def _scalars(self, trainer: Trainer, prefix: str, values: dict[str, float]) -> None:
        if not trainer.dist.is_main:
            return
        writer = self._open()
        for key, value in values.items():
            tag = key if key.startswith(f"{prefix}/") else f"{prefix}/{key}"
            writer.add_scalar(tag, float(value), trainer.step)

    def on_step_end(self, trainer: Trainer, group: str, metrics: dict[str, float]) -> None:
        """Training scalars every ``every_n_steps`` steps."""
        if trainer.step % self.every == 0:
            self._scalars(trainer, "train", {"lr": trainer.lr(group), **metrics})

    def on_epoch_end(self, trainer: Trainer, val_metrics: dict[str, float]) -> None:
        """Validation scalars."""
        if val_metrics:
            self._scalars(trainer, "val", val_metrics)
            self.writer.flush()

    def on_fit_end(self, trainer: Trainer) -> None:  # noqa: ARG002
        """Flushes and closes the event file."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def tensorboard_logger(directory: str | Path, every_n_steps: int = 50) -> TensorBoardLogger | None:
    """A :class:`TensorBoardLogger`, or ``None`` (with a warning) when TensorBoard is not installed."""
    try:
        import torch.utils.tensorboard  # noqa: F401  (needs the tensorboard package)
    except ImportError:
        logger.warning(
            "train.tensorboard is set but TensorBoard is not installed (pip install tensorboard); "
            "writing metrics.jsonl only"
        )
        return None
    return TensorBoardLogger(directory, every_n_steps)
