"""Few-step sampling by reflow: retrain the flow on its own noise → sample couplings so its paths straighten.

A trained flow-matching model (the teacher) defines a deterministic map from noise z to showers
x = Φ(z). Reflow draws pairs (z, Φ(z)) with an accurate many-step solver and fine-tunes a copy of
the model (the student) with the same flow-matching loss on the straight line from z to Φ(z).
The student's trajectories become nearly straight, so 1–4 Euler steps land close to where the
teacher's many-step solve lands. An optional second phase (``distill_steps``, the "k-rectified
flow + distillation" of Liu et al.) then trains the student's own k-step solve, back-propagated
through its k network evaluations, to land on Φ(z) directly.

Why reflow rather than progressive or consistency distillation: it reuses the model's own loss,
networks, preprocessing and solvers unchanged (the student *is* a ``FlowMatching`` model, so it
trains, saves, exports and samples like any other, with any solver), it needs one round of
teacher solves instead of the log2(N) rounds of progressive distillation, and it has no extra
schedule or target network to tune as consistency distillation has. Both stages (layer energies
and shapes) are reflowed; the shape stage is conditioned on the teacher's generated layer energies,
exactly as it is at generation time.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models.diffusion import FlowMatching
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> teacher = FlowMatching(g, FlowMatching.smoke_config())
    >>> teacher.fit_preprocessing(torch.rand(16, 4) * 50, torch.full((16, 1), 1e4))
    >>> student = reflow(teacher, torch.full((32, 1), 1e4), ReflowConfig(train_steps=2, n_pairs=32, teacher_steps=4))
    >>> student.config.solver, student.config.n_steps
    ('euler', 1)

References:
    Liu, Gong, Liu, "Flow Straight and Fast: Learning to Generate and Transfer Data with Rectified
    Flow", https://arxiv.org/abs/2209.03003
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from tqdm.auto import tqdm

from caloforge.data import read_showers
from caloforge.models.diffusion.config import SolverName
from caloforge.models.diffusion.flow_matching import FlowMatching
from caloforge.models.serialization import load_model, save_model
from caloforge.solvers import check_solver

__all__ = [
    "ReflowConfig",
    "ReflowPairs",
    "endpoint_loss",
    "make_reflow_pairs",
    "reflow",
    "reflow_checkpoint",
    "reflow_loss",
]

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
        train_steps: Optimizer steps of the student (0: no reflow, only the sampler changes).
        distill_steps: Optimizer steps of the second phase, which regresses the student's own
            ``student_solver``/``student_steps`` solve onto the teacher's end points (0: none).
        batch_size: Pairs per optimizer step.
        generation_batch_size: Pairs generated per teacher batch.
        lr: Adam learning rate of the student.
        seed: Seed of the noise and of the mini-batch order.
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
    seed: int = 0

    def __post_init__(self) -> None:
        check_solver(self.teacher_solver, "teacher_solver")
        check_solver(self.student_solver, "student_solver")
        if min(self.n_pairs, self.teacher_steps, self.student_steps, self.batch_size, self.generation_batch_size) < 1:
            msg = f"pair, step and batch counts must be positive: {self}"
            raise ValueError(msg)
        if min(self.train_steps, self.distill_steps) < 0:
            msg = f"train_steps and distill_steps must be non-negative, got {self.train_steps}, {self.distill_steps}"
            raise ValueError(msg)


@dataclass
class ReflowPairs:
    """Teacher couplings in model space.

    Attributes:
        conditions: Raw conditions, (N, C).
        noise: Initial noise of both stages, (N, noise_dim).
        layers: Teacher's model-space stage-1 variables at t = 1, (N, n_stage1).
        voxels: Teacher's model-space voxel fractions at t = 1, (N, n_voxels).
    """

    conditions: Tensor
    noise: Tensor
    layers: Tensor
    voxels: Tensor

    def __len__(self) -> int:
        return int(self.noise.shape[0])

    def subset(self, index: Tensor) -> ReflowPairs:
        """The pairs at ``index`` (a 1-d index tensor)."""
        return ReflowPairs(self.conditions[index], self.noise[index], self.layers[index], self.voxels[index])


@torch.no_grad()
def make_reflow_pairs(
    teacher: FlowMatching,
    conditions: Tensor,
    config: ReflowConfig,
    *,
    generator: torch.Generator | None = None,
    progress: bool = False,
) -> ReflowPairs:
    """Solves the teacher's ODE from fresh noise for ``config.n_pairs`` conditions.

    Arguments:
        teacher: A fitted flow-matching model.
        conditions: Raw conditions to draw from, (M, C); cycled to ``n_pairs`` rows.
        config: Pair count, teacher solver and batch size.
        generator: Random generator of the noise.
        progress: Show a progress bar.

    Returns:
        The couplings, on the teacher's device.
    """
    device = teacher._device()
    index = torch.arange(config.n_pairs) % conditions.shape[0]
    cond = conditions[index].to(device).float()
    noise = torch.randn(config.n_pairs, teacher.noise_dim, generator=generator).to(device)
    layers, voxels = [], []
    teacher.eval()
    starts = range(0, config.n_pairs, config.generation_batch_size)
    for start in tqdm(starts, desc="reflow pairs", disable=not progress):
        sl = slice(start, start + config.generation_batch_size)
        y_layers, y_voxels = teacher.integrate(
            cond[sl], noise[sl], solver=config.teacher_solver, n_steps=config.teacher_steps
        )
        layers.append(y_layers)
        voxels.append(y_voxels)
    return ReflowPairs(cond, noise, torch.cat(layers), torch.cat(voxels))


def reflow_loss(student: FlowMatching, pairs: ReflowPairs) -> tuple[Tensor, dict[str, float]]:
    """Flow-matching loss of both stages on the straight lines between paired noise and teacher samples.

    Returns:
        The scalar loss and its parts (``layer_loss``, ``shape_loss``).
    """
    encoded = student.condition_encoder(pairs.conditions)
    n_stage1 = pairs.layers.shape[1]
    layer_loss = student.velocity_loss(student.layer_net, pairs.layers, encoded, x0=pairs.noise[:, :n_stage1])
    context = student.shape_context(encoded, pairs.layers, pairs.conditions)
    shape_loss = student.velocity_loss(student.shape_net, pairs.voxels, context, x0=pairs.noise[:, n_stage1:])
    out = student.combine_losses(layer_loss, shape_loss)
    return out.loss, out.metrics


def endpoint_loss(student: FlowMatching, pairs: ReflowPairs) -> tuple[Tensor, dict[str, float]]:
    """Mean squared distance between the student's own few-step solve and the teacher's end points.

    The student integrates both stages from the paired noise with its configured solver and
    number of steps (gradients flow through every network evaluation); the shape stage is
    conditioned on the teacher's layer energies, as in :func:`reflow_loss`.

    Returns:
        The scalar loss and its parts (``layer_loss``, ``shape_loss``).
    """
    layers, voxels = student.integrate(pairs.conditions, pairs.noise, shape_layers=pairs.layers)
    out = student.combine_losses(torch.mean((layers - pairs.layers) ** 2), torch.mean((voxels - pairs.voxels) ** 2))
    return out.loss, out.metrics


def reflow(
    teacher: FlowMatching,
    conditions: Tensor,
    config: ReflowConfig | None = None,
    *,
    pairs: ReflowPairs | None = None,
    progress: bool = False,
) -> FlowMatching:
    """Distils ``teacher`` into a few-step student by one round of reflow.

    Arguments:
        teacher: A fitted flow-matching model (left unchanged).
        conditions: Raw conditions of the couplings, (M, C), e.g. the training conditions.
        config: Reflow settings.
        pairs: Precomputed couplings (skips the teacher solves).
        progress: Show progress bars.

    Returns:
        The student: a copy of the teacher, fine-tuned, whose config decodes with
        ``config.student_solver`` in ``config.student_steps`` steps.
    """
    config = config if config is not None else ReflowConfig()
    generator = torch.Generator().manual_seed(config.seed)
    trains = config.train_steps + config.distill_steps > 0
    if pairs is None and trains:
        pairs = make_reflow_pairs(teacher, conditions, config, generator=generator, progress=progress)
    sampler = dataclasses.replace(teacher.config, solver=config.student_solver, n_steps=config.student_steps)
    student = copy.deepcopy(teacher)
    student.config = sampler
    if pairs is not None:
        _fit_student(student, pairs, reflow_loss, config.train_steps, config, generator, progress=progress)
        _fit_student(student, pairs, endpoint_loss, config.distill_steps, config, generator, progress=progress)
    return student.eval()


def _fit_student(
    student: FlowMatching,
    pairs: ReflowPairs,
    loss_fn: Callable[[FlowMatching, ReflowPairs], tuple[Tensor, dict[str, float]]],
    n_steps: int,
    config: ReflowConfig,
    generator: torch.Generator,
    *,
    progress: bool,
) -> None:
    """``n_steps`` Adam steps of ``loss_fn`` on random mini-batches of ``pairs``."""
    if n_steps == 0:
        return
    student.train()
    optimizer = torch.optim.Adam([p for p in student.parameters() if p.requires_grad], lr=config.lr)
    metrics: dict[str, float] = {}
    name = loss_fn.__name__.removesuffix("_loss")
    for _ in tqdm(range(n_steps), desc=name, disable=not progress):
        index = torch.randint(len(pairs), (config.batch_size,), generator=generator).to(pairs.noise.device)
        loss, metrics = loss_fn(student, pairs.subset(index))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        optimizer.step()
    logger.info("%s: %d steps on %d pairs, last losses %s", name, n_steps, len(pairs), metrics)
    student.eval()


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
    progress: bool = False,
) -> FlowMatching:
    """Reflows a saved flow-matching model on the conditions of a shower file and saves the student.

    Arguments:
        checkpoint: Training checkpoint or saved model of a ``"flow-matching"`` model.
        data: CaloChallenge file whose incident energies (and angles) condition the couplings.
        output: Where the student is saved (a model state, see :func:`caloforge.models.save_model`).
        config: Reflow settings (``train_steps=0`` only rewrites the sampler).
        start: First event of ``data`` used.
        stop: One past the last event used (keep held-out events out).
        use_ema: Start from the EMA weights of a training checkpoint.
        overwrite: Replace an existing ``output``.
        progress: Show progress bars.

    Returns:
        The student.

    Raises:
        FileExistsError: ``output`` exists and ``overwrite`` is false.
        ValueError: The checkpoint is not a flow-matching model.
    """
    output = Path(output)
    if output.exists() and not overwrite:
        msg = f"{output} exists; pass overwrite=True (--force) to replace it"
        raise FileExistsError(msg)
    teacher = load_model(checkpoint, use_ema=use_ema)
    if not isinstance(teacher, FlowMatching):
        msg = f"{checkpoint} holds a {type(teacher).__name__}, reflow needs a flow-matching model"
        raise ValueError(msg)  # noqa: TRY004  (a bad input file, reported by the CLI like other bad inputs)
    showers = read_showers(data, teacher.geometry, start=start, stop=stop)
    conditions = torch.as_tensor(showers.conditions()[:, : teacher.n_conditions])
    student = reflow(teacher, conditions, config, progress=progress)
    save_model(student, output)
    return student
