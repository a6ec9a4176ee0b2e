"""Classifier reweighting of generated showers (DCTR): per-shower weights ``w = p / (1 − p)``.

A classifier trained to tell reference (label 1) from generated (label 0) showers, with calibrated
output ``p(x)``, estimates the density ratio ``p_ref(x) / p_gen(x) ∝ p / (1 − p)`` (the likelihood-ratio
trick). Weighting every generated shower by it turns the generated distribution into the reference one
wherever the generator populates the space: weights cannot create showers where the generator has none
(there the classifier saturates and the weights are clipped).

The classifier is the fully connected network of :mod:`.classifier` (its ``_network``/``_train``), run on
the CaloChallenge high-level features (:func:`~caloforge.evaluation.features.hlf_vector`, whose first
column is log10 E_inc) plus the incidence angle when present: the weights are conditioned on the
incident conditions. The showers of each sample are split at random into disjoint parts:

* training (60 % by default): the network's weights;
* validation (20 %): the epoch with the best accuracy, and the held-out AUC reported;
* calibration (the rest): Platt scaling (default), temperature scaling or isotonic regression of the
  network output, so that ``p`` is a calibrated probability.

Weights are normalised to mean 1 and clipped at ``clip`` times their median (then normalised again),
so that no shower outweighs ``clip`` typical ones: :func:`normalise_weights`.

References:
    A. Andreassen, B. Nachman, "Neural Networks for Full Phase-space Reweighting and Parameter Tuning",
    arXiv:1907.08209 (DCTR). Applied to generative models: S. Diefenbacher et al., "DCTRGAN: Improving
    the Precision of Generative Models with Reweighting", arXiv:2009.03796.

Example:
    >>> import numpy as np
    >>> w, n_clipped = normalise_weights(np.array([1.0, 1.0, 2.0, 100.0]), clip=10.0)
    >>> n_clipped, round(float(w.mean()), 6), round(float(w.max() / np.median(w)), 4)
    (1, 1.0, 10.0)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from numpy.typing import NDArray
from scipy import special

from caloforge.evaluation.calibration import platt_fit, roc_auc
from caloforge.evaluation.classifier import ClassifierConfig, _logits, _network, _train, isotonic_fit
from caloforge.evaluation.features import FeatureTable, hlf_vector
from caloforge.evaluation.weighted import effective_sample_size

__all__ = [
    "FitInfo",
    "ReweightConfig",
    "Reweighter",
    "effective_sample_size",
    "fit_reweighter",
    "normalise_weights",
    "reweight_inputs",
]

logger = logging.getLogger(__name__)

Calibration = Literal["platt", "temperature", "isotonic"]
_CALIBRATIONS = ("platt", "temperature", "isotonic")


def _default_classifier() -> ClassifierConfig:
    return ClassifierConfig(recipe="reweight", hidden=(64, 64), batch_size=128, epochs=30, patience=5, max_events=None)


@dataclass(frozen=True)
class ReweightConfig:
    """Settings of the reweighting classifier.

    Attributes:
        classifier: Network and training settings (``hidden``, ``lr``, ``batch_size``, ``epochs``,
            ``patience``, ``standardise``, ``max_events``: showers per sample used at most); default
            2 × 64, batch 128, 30 epochs, patience 5, every shower.
        calibration: ``"platt"`` (σ(a z + b), default), ``"temperature"`` (σ(a z)) or ``"isotonic"``.
        clip: Largest weight in units of the median weight (> 1; default 10).
        train_fraction: Fraction of each sample for training.
        validation_fraction: Fraction for epoch selection and the held-out AUC; the rest calibrates.
        threshold: Voxel threshold in MeV before the features (``None``: the dataset's CaloChallenge value).
        seed: Seed of the split, the initialisation and the batch order.
    """

    classifier: ClassifierConfig = field(default_factory=_default_classifier)
    calibration: Calibration = "platt"
    clip: float = 10.0
    train_fraction: float = 0.6
    validation_fraction: float = 0.2
    threshold: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.calibration not in _CALIBRATIONS:
            msg = f"unknown calibration {self.calibration!r}; choices are: {', '.join(_CALIBRATIONS)}"
            raise ValueError(msg)
        if not self.clip > 1.0:
            msg = f"clip must be larger than 1 (largest weight / median weight), got {self.clip}"
            raise ValueError(msg)
        fractions = (self.train_fraction, self.validation_fraction, 1.0 - self.train_fraction - self.validation_fraction)
        if min(fractions) <= 0.0:
            msg = (f"train_fraction {self.train_fraction} and validation_fraction {self.validation_fraction} must be "
                   "positive and leave a calibration part")
            raise ValueError(msg)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


@dataclass(frozen=True)
class FitInfo:
    """How the reweighting classifier was fitted.

    Attributes:
        n_reference: Reference showers used (all parts).
        n_generated: Generated showers used (all parts).
        n_train: Training showers (reference + generated).
        n_validation: Validation showers.
        n_calibration: Calibration showers.
        best_epoch: Epoch kept (best validation accuracy).
        validation_auc: AUC of the network on the validation part (0.5: indistinguishable).
        validation_auc_weighted: The same AUC with the generated showers weighted (→ 0.5 when the
            weights close the gap this classifier sees).
        history: Validation accuracy per epoch.
    """

    n_reference: int
    n_generated: int
    n_train: int
    n_validation: int
    n_calibration: int
    best_epoch: int
    validation_auc: float
    validation_auc_weighted: float
    history: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


@dataclass
class Reweighter:
    """A fitted reweighting classifier: inputs → calibrated p → unnormalised ratio p / (1 − p).

    Attributes:
        network: The trained network (inputs → one logit).
        mean: Input means subtracted before the network, (D,).
        std: Input scales divided by, (D,).
        calibrate: Logits → calibrated probabilities that a shower is a reference one.
    """

    network: torch.nn.Module
    mean: NDArray[np.float32]
    std: NDArray[np.float32]
    calibrate: Callable[[NDArray[np.floating]], NDArray[np.float64]]

    def logits(self, inputs: NDArray[np.floating]) -> NDArray[np.float64]:
        """Raw network outputs, (N,), for inputs (N, D)."""
        x = (np.asarray(inputs, dtype=np.float32) - self.mean) / self.std
        return _logits(self.network, torch.from_numpy(np.ascontiguousarray(x)))

    def probability(self, inputs: NDArray[np.floating]) -> NDArray[np.float64]:
        """Calibrated probability that each shower is a reference shower, (N,), in (0, 1)."""
        return np.clip(self.calibrate(self.logits(inputs)), 1e-6, 1.0 - 1e-6)

    def ratio(self, inputs: NDArray[np.floating]) -> NDArray[np.float64]:
        """Unnormalised density ratio p / (1 − p), (N,) (normalise with :func:`normalise_weights`)."""
        p = self.probability(inputs)
        return p / (1.0 - p)


def normalise_weights(raw: NDArray[np.floating], clip: float = 10.0) -> tuple[NDArray[np.float32], int]:
    """Weights of mean 1 with none above ``clip`` × their median.

    Arguments:
        raw: Unnormalised non-negative weights, (N,).
        clip: Largest weight / median weight (> 1).

    Returns:
        The weights (N,) float32, and how many were clipped.

    Raises:
        ValueError: If the weights are empty, not finite, negative or all zero.
    """
    w = np.asarray(raw, dtype=np.float64).reshape(-1)
    if w.size == 0 or not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
        msg = "weights must be finite, non-negative and not all zero"
        raise ValueError(msg)
    cap = clip * float(np.median(w))
    n_clipped = int(np.count_nonzero(w > cap)) if cap > 0 else 0
    if cap > 0:
        w = np.minimum(w, cap)
    return (w / w.mean()).astype(np.float32), n_clipped


def reweight_inputs(table: FeatureTable, angles: NDArray[np.floating] | None = None) -> NDArray[np.float32]:
    """The classifier inputs: the high-level feature vector (log10 E_inc first), then the angle, (N, D)."""
    x = hlf_vector(table)
    if angles is not None:
        x = np.concatenate([x, np.asarray(angles, dtype=np.float64).reshape(-1, 1)], axis=1)
    return x.astype(np.float32)


def _split(n: int, cfg: ReweightConfig, rng: np.random.Generator) -> list[NDArray[np.int64]]:
    perm = rng.permutation(n)
    a = round(cfg.train_fraction * n)
    b = a + round(cfg.validation_fraction * n)
    return [perm[:a], perm[a:b], perm[b:]]


def _calibrator(cfg: ReweightConfig, z: NDArray[np.float64], y: NDArray[np.float64]) -> Callable[
    [NDArray[np.floating]], NDArray[np.float64]
]:
    if cfg.calibration == "isotonic":
        iso = isotonic_fit(special.expit(z), y, y_min=1e-6, y_max=1.0 - 1e-6)
        return lambda logits: iso(special.expit(logits))
    return platt_fit(z, y, temperature_only=cfg.calibration == "temperature")


def fit_reweighter(
    generated: NDArray[np.floating], reference: NDArray[np.floating], config: ReweightConfig | None = None
) -> tuple[Reweighter, FitInfo]:
    """Trains and calibrates the reweighting classifier on two input matrices.

    Arguments:
        generated: Inputs of generated showers, (N₁, D) (label 0), e.g. :func:`reweight_inputs`.
        reference: Inputs of reference showers, (N₂, D) (label 1).
        config: Settings (default :class:`ReweightConfig`).

    Raises:
        ValueError: If the inputs differ in width, contain NaN/inf, or a part would hold fewer than 10 showers.
    """
    cfg = config or ReweightConfig()
    cls = cfg.classifier
    gen, ref = np.asarray(generated, dtype=np.float32), np.asarray(reference, dtype=np.float32)
    if gen.ndim != 2 or ref.ndim != 2 or gen.shape[1] != ref.shape[1]:
        msg = f"reweighting inputs differ in shape: {gen.shape} vs {ref.shape}"
        raise ValueError(msg)
    if not (np.isfinite(gen).all() and np.isfinite(ref).all()):
        msg = "reweighting inputs contain NaN or inf"
        raise ValueError(msg)
    rng = np.random.default_rng(cfg.seed)
    if cls.max_events is not None:
        gen, ref = (a[np.sort(rng.choice(len(a), min(len(a), cls.max_events), replace=False))] for a in (gen, ref))
    splits = [_split(len(a), cfg, rng) for a in (gen, ref)]
    if min(len(part) for s in splits for part in s) < 10:
        msg = f"reweighting needs at least 10 showers per part and sample, got {len(gen)} generated, {len(ref)} reference"
        raise ValueError(msg)
    sets = []
    for k in range(3):
        x = np.concatenate([gen[splits[0][k]], ref[splits[1][k]]])
        y = np.concatenate([np.zeros(len(splits[0][k])), np.ones(len(splits[1][k]))]).astype(np.float32)
        sets.append((x, y))
    mean = sets[0][0].mean(0) if cls.standardise else np.zeros(gen.shape[1], np.float32)
    std = sets[0][0].std(0) if cls.standardise else np.ones(gen.shape[1], np.float32)
    std = np.where(std > 0, std, 1.0).astype(np.float32)
    tensors = [(torch.from_numpy((x - mean) / std), torch.from_numpy(y)) for x, y in sets]
    with torch.random.fork_rng():
        torch.manual_seed(cfg.seed)
        network = _network(gen.shape[1], tuple(cls.hidden))
    best_epoch, history = _train(network, (*tensors[0], *tensors[1]), cls, torch.Generator().manual_seed(cfg.seed))
    z_cal = _logits(network, tensors[2][0])
    reweighter = Reweighter(network, mean.astype(np.float32), std, _calibrator(cfg, z_cal, sets[2][1].astype(np.float64)))
    x_val, y_val = sets[1]
    z_val = reweighter.logits(x_val)
    w_val = np.where(y_val > 0.5, 1.0, 0.0)
    gen_val = y_val < 0.5
    w_val[gen_val] = normalise_weights(reweighter.ratio(x_val[gen_val]), cfg.clip)[0]
    info = FitInfo(
        n_reference=len(ref), n_generated=len(gen), n_train=len(sets[0][1]), n_validation=len(y_val),
        n_calibration=len(sets[2][1]), best_epoch=best_epoch, validation_auc=roc_auc(y_val, z_val),
        validation_auc_weighted=roc_auc(y_val, z_val, w_val), history=history,
    )
    logger.info("reweighting classifier: validation AUC %.4f (%.4f with the weights), best epoch %d",
                info.validation_auc, info.validation_auc_weighted, best_epoch)
    return reweighter, info
