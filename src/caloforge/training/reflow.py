"""Reflow distillation of a flow-matching teacher, trained by the one :class:`~caloforge.training.Trainer`.

:func:`reflow` draws the teacher couplings (:func:`~caloforge.training.pairs.make_reflow_pairs`),
copies the teacher into a :class:`~caloforge.models.diffusion.distill.ReflowStudent` and fits it
with :meth:`Trainer.fit <caloforge.training.Trainer.fit>`: ``train_steps`` steps of group
``"reflow"``, then ``distill_steps`` steps of group ``"distill"``. EMA, periodic checkpoints,
resuming, data parallelism and the metrics log therefore come from the trainer; a reflow run
directory holds ``checkpoints/`` (which :func:`caloforge.models.load_model` reads as the student)
and ``metrics.jsonl``. :func:`reflow_checkpoint` is the file-level entry point behind
``caloforge reflow``: it loads the teacher, reads the conditioning energies (and angles) of a
shower file, runs :func:`reflow` and saves the student with :func:`caloforge.models.save_model`.

A resumed run redraws the same couplings from the seed and continues bit for bit (same device).

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models.diffusion import FlowMatching
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> teacher = FlowMatching(g, FlowMatching.smoke_config())
    >>> teacher.fit_preprocessing(torch.rand(16, 4) * 50, torch.full((16, 1), 1e4))
    >>> config = ReflowConfig(train_steps=2, n_pairs=32, teacher_steps=4, device="cpu")
    >>> student = reflow(teacher, torch.full((32, 1), 1e4), config)
    >>> type(student).__name__, student.config.solver, student.config.n_steps
    ('FlowMatching', 'euler', 1)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from caloforge.atomic import prepare_target
from caloforge.config import to_dict
from caloforge.data import ShowerFile
from caloforge.device import resolve_device
from caloforge.models.diffusion.config import SolverName
from caloforge.models.diffusion.distill import ReflowStudent
from caloforge.models.diffusion.flow_matching import FlowMatching, with_sampler
from caloforge.models.serialization import CheckpointError, load_model, save_model
from caloforge.solvers import check_solver
from caloforge.training.callbacks import EMA, Callback
from caloforge.training.checkpoint import load_checkpoint
from caloforge.training.config import TrainConfig
from caloforge.training.pairs import ReflowPairs, make_reflow_pairs
from caloforge.training.run import claim_run_directory
from caloforge.training.trainer import Trainer

__all__ = ["ReflowConfig", "reflow", "reflow_checkpoint"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReflowConfig:
    """Settings of :func:`reflow`.

    Attributes:
        n_pairs: Number of (noise, teacher sample) pairs; conditions are cycled to reach it.
        teacher_solver: Solver of the teacher's solves.
        teacher_steps: Steps of the teacher's solves.
        student_solver: Solver the student decodes with (written into its config).
        student_steps: Steps the student decodes with.
        train_steps: Optimizer steps of the reflow phase (0 with ``distill_steps`` 0: no training,
            only the sampler changes).
        distill_steps: Optimizer steps of the second phase, which regresses the student's own
            ``student_solver``/``student_steps`` solve onto the teacher's end points (0: none).
        batch_size: Pairs per optimizer step (per process under data parallelism).
        generation_batch_size: Pairs generated per teacher batch.
        lr: Learning rate of the student (constant; gradients clipped at norm 1).
        ema_decay: Keep an EMA of the student's weights and save it (``None``: off).
        seed: Seed of the noise, the mini-batch order and the flow-matching times.
        checkpoint_every: With a run directory, write a checkpoint every N steps (0: only at the
            end and on interrupt).
        device: Training device; ``auto`` picks CUDA when available (:func:`reflow_checkpoint`
            loads the teacher there, so its solves run there too).
        progress: Show progress bars.
    """

    n_pairs: int = 4096
    teacher_solver: SolverName = "midpoint"
    teacher_steps: int = 16
    student_solver: SolverName = "euler"
    student_steps: int = 1
    train_steps: int = 1000
    distill_steps: int = 0
    batch_size: int = 128
    generation_batch_size: int = 512
    lr: float = 2e-4
    ema_decay: float | None = None
    seed: int = 0
    checkpoint_every: int = 1000
    device: Literal["auto", "cpu", "cuda"] = "auto"
    progress: bool = False

    def __post_init__(self) -> None:
        check_solver(self.teacher_solver, "teacher_solver")
        check_solver(self.student_solver, "student_solver")
        if min(self.n_pairs, self.teacher_steps, self.student_steps, self.batch_size, self.generation_batch_size) < 1:
            msg = f"pair, step and batch counts must be positive: {self}"
            raise ValueError(msg)
        if min(self.train_steps, self.distill_steps) < 0:
            msg = f"train_steps and distill_steps must be non-negative, got {self.train_steps}, {self.distill_steps}"
            raise ValueError(msg)
        if not self.lr > 0:
            msg = f"lr must be positive, got {self.lr}"
            raise ValueError(msg)
        # the trainer's own checks (ema_decay, checkpoint_every), reported before any teacher solve
        self.train_config()

    @property
    def total_steps(self) -> int:
        """Optimizer steps of both phases."""
        return self.train_steps + self.distill_steps

    def train_config(self) -> TrainConfig:
        """The trainer settings of the run (constant learning rate, fp32, no validation split)."""
        steps = max(self.total_steps, 1)
        return TrainConfig(
            max_epochs=steps,  # every epoch has at least one batch, so max_steps is what stops
            max_steps=steps,
            batch_size=self.batch_size,
            lr=self.lr,
            scheduler="constant",
            grad_clip=1.0,
            ema_decay=self.ema_decay,
            val_fraction=0.0,
            checkpoint_every=self.checkpoint_every,
            log_every=max(1, min(50, steps // 20)),
            seed=self.seed,
            device=self.device,
            precision="32",
            progress=self.progress,
        )

    def identity(self) -> dict[str, Any]:
        """The settings that determine the student (all but device, progress and checkpoint interval)."""
        return {k: v for k, v in to_dict(self).items() if k not in {"device", "progress", "checkpoint_every"}}


def reflow(
    teacher: FlowMatching,
    conditions: Tensor,
    config: ReflowConfig | None = None,
    *,
    pairs: ReflowPairs | None = None,
    out_dir: str | Path | None = None,
    resume: str | Path | None = None,
    callbacks: Sequence[Callback] = (),
    run_config: dict[str, Any] | None = None,
) -> FlowMatching:
    """Distils ``teacher`` into a few-step student by one round of reflow (then optional end-point distillation).

    Arguments:
        teacher: A fitted flow-matching model (left unchanged).
        conditions: Raw conditions of the couplings, (M, C), e.g. the training conditions.
        config: Reflow settings.
        pairs: Precomputed couplings (skips the teacher solves).
        out_dir: Run directory for ``checkpoints/`` and ``metrics.jsonl`` (``None``: write nothing).
        resume: Checkpoint of an interrupted run with the same teacher and settings.
        callbacks: Extra trainer callbacks.
        run_config: Extra provenance stored in the checkpoints (the settings are added under ``"reflow"``).

    Returns:
        The student: a :class:`FlowMatching` with the teacher's preprocessing (and the EMA weights
        when ``ema_decay`` is set) that decodes with ``config.student_solver`` in
        ``config.student_steps`` steps, in eval mode.

    Raises:
        caloforge.models.CheckpointError: ``resume`` is unreadable or belongs to other settings.
    """
    config = config if config is not None else ReflowConfig()
    if config.total_steps == 0:
        return with_sampler(teacher, config.student_solver, config.student_steps).eval()
    stored = {**(run_config or {}), "reflow": config.identity()}
    if resume is not None:
        saved = (load_checkpoint(resume).get("run_config") or {}).get("reflow")
        if saved != stored["reflow"]:
            msg = f"{resume}: checkpoint of a reflow run with other settings ({saved}); it cannot resume this one"
            raise CheckpointError(msg)
    if pairs is None:
        pairs = make_reflow_pairs(
            teacher,
            conditions,
            n_pairs=config.n_pairs,
            solver=config.teacher_solver,
            n_steps=config.teacher_steps,
            batch_size=config.generation_batch_size,
            generator=torch.Generator().manual_seed(config.seed),
            progress=config.progress,
        )
    student = ReflowStudent.from_teacher(
        teacher, solver=config.student_solver, n_steps=config.student_steps, train_steps=config.train_steps
    )
    trainer = Trainer(student, config.train_config(), out_dir=out_dir, callbacks=callbacks, run_config=stored)
    result = trainer.fit(pairs, resume=resume)
    ema = next((cb for cb in trainer.callbacks if isinstance(cb, EMA)), None)
    if ema is not None:
        with torch.no_grad():
            for name, p in student.named_parameters():
                if name in ema.shadow:
                    p.copy_(ema.shadow[name])
    logger.info(
        "reflow: %d steps (%d reflow, %d distill) on %d pairs",
        result.steps,
        config.train_steps,
        config.distill_steps,
        len(pairs),
    )
    return student.as_flow_matching()


def _file_conditions(path: str | Path, teacher: FlowMatching, start: int, stop: int | None) -> Tensor:
    """The raw conditions (N, n_conditions) of events ``start:stop`` of a shower file (no showers are read).

    Raises:
        caloforge.data.ShowerFileError: Unreadable file or another geometry than the teacher's.
        ValueError: No events selected, or the teacher needs angles the file does not have.
    """
    with ShowerFile(path, teacher.geometry) as f:
        energies = f.energies[start:stop]
        angles = None if f.angles is None else f.angles[start:stop]
        n_events = len(f)
    if len(energies) == 0:
        msg = f"{path}: events {start}:{stop} select none of its {n_events} showers"
        raise ValueError(msg)
    columns = [energies] if angles is None else [energies, angles]
    if len(columns) < teacher.n_conditions:
        msg = f"{path}: the teacher is conditioned on energy and angle, but the file has no incident angles"
        raise ValueError(msg)
    return torch.from_numpy(np.stack(columns, axis=1).astype(np.float32)[:, : teacher.n_conditions])


def reflow_checkpoint(
    checkpoint: str | Path,
    data: str | Path,
    output: str | Path,
    config: ReflowConfig | None = None,
    *,
    start: int = 0,
    stop: int | None = None,
    use_ema: bool = True,
    overwrite: bool = False,
    out_dir: str | Path | None = None,
    resume: str | Path | None = None,
) -> FlowMatching:
    """Reflows a saved flow-matching model on the conditions of a shower file and saves the student.

    Arguments:
        checkpoint: Training checkpoint or saved model of a ``"flow-matching"`` model (the teacher).
        data: CaloChallenge file whose incident energies (and angles) condition the couplings.
        output: Where the student is saved (a model state, see :func:`caloforge.models.save_model`).
        config: Reflow settings (``train_steps=0`` and ``distill_steps=0`` only rewrite the sampler).
        start: First event of ``data`` used.
        stop: One past the last event used (keep held-out events out).
        use_ema: Start from the EMA weights of a training checkpoint.
        overwrite: Replace an existing ``output`` and an earlier reflow run in ``out_dir``.
        out_dir: Run directory for the trainer's checkpoints and ``metrics.jsonl`` (``None``: none).
        resume: A checkpoint in ``out_dir`` of an interrupted run of the same command.

    Returns:
        The student.

    Raises:
        FileExistsError: ``output`` exists, or ``out_dir`` holds another run, and ``overwrite`` is
            false (checked before any work).
        caloforge.models.CheckpointError: Unreadable teacher or ``resume`` checkpoint.
        caloforge.data.ShowerFileError: Unreadable ``data``.
        ValueError: The checkpoint is not a flow-matching model, or no usable conditions.
    """
    config = config if config is not None else ReflowConfig()
    output = prepare_target(output, overwrite=overwrite)
    if out_dir is not None:
        claim_run_directory(Path(out_dir), resume=resume, force=overwrite)
    teacher = load_model(checkpoint, use_ema=use_ema, map_location=resolve_device(config.device))
    if not isinstance(teacher, FlowMatching):
        msg = f"{checkpoint} holds a {type(teacher).__name__}, reflow needs a flow-matching model"
        raise ValueError(msg)  # noqa: TRY004  (a bad input file, reported by the CLI like other bad inputs)
    conditions = _file_conditions(data, teacher, start, stop)
    provenance = {"teacher": str(checkpoint), "data": str(data), "start": start, "stop": stop, "use_ema": use_ema}
    student = reflow(teacher, conditions, config, out_dir=out_dir, resume=resume, run_config=provenance)
    save_model(student, output)
    return student
