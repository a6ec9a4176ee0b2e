"""Classifier two-sample test, as in the CaloChallenge evaluation (``cls-low``, ``cls-low-normed``, ``cls-high``).

A fully connected network learns to tell generated (label 0) from reference (label 1) showers. Each
sample is split 60/20/20 into train/test/validation; the epoch with the best test accuracy is kept; the
test-set probabilities calibrate an isotonic regression (clipped to [1e-6, 1 − 1e-6]); on the
validation set the calibrated probabilities give the ROC AUC and the JSD estimate
``(ln 2 − BCE) / ln 2`` (0 for indistinguishable samples, 1 for a perfect classifier).

With a few thousand showers the AUC of one split can move by 0.01–0.02 from seed to seed. With
``ClassifierConfig(repeats=k)`` the whole test runs ``k`` times with seeds ``seed, seed + 1, …`` (a new
subsample, split, initialisation and batch order each time); the result holds the mean of every score,
the sample standard deviation of AUC and JSD, and the scores of each run. ``repeats=1`` (the default)
is the single CaloChallenge test, unchanged.

With ``generated_weights`` (per-shower weights of a reweighted sample, :mod:`.reweight`) every step
counts a generated shower ``w`` times: the training loss, the epoch selection, the isotonic calibration,
the AUC and the JSD (the weights are rescaled to mean 1 on the generated subsample).

A classifier that did not learn proves nothing (too few epochs can leave the official network at AUC 0.5
on separable samples): a run whose test accuracy never rose above the first epoch's while its AUC is 0.5
(the raw network output's) within noise is marked ``learned = False`` (:func:`did_learn`), and its result says "did not learn".

Recipes: ``"official"`` is the CaloChallenge network (input → 2048, then 2 more hidden layers of 2048,
LeakyReLU, no dropout; Adam 2e-4, batch 1000, 50 epochs, all showers); ``"fast"`` is a CPU default
(2 × 64, Adam 1e-3, batch 256, at most 15 epochs with patience 4 on test accuracy, at most 10k showers
per sample, inputs standardised on the training split).

Calibration: :mod:`.isotonic` (``isotonic_fit`` re-exported); threads: :func:`caloforge.threads.apply_threads`.

Example:
    >>> ClassifierConfig.preset("official").hidden
    (2048, 2048, 2048)
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
import torch
from numpy.typing import NDArray
from scipy import special

from caloforge.evaluation.calibration import binary_cross_entropy, roc_auc
from caloforge.evaluation.isotonic import isotonic_fit
from caloforge.evaluation.phases import report_epoch
from caloforge.threads import apply_threads

__all__ = [
    "ClassifierConfig", "ClassifierResult", "TrainedClassifier", "classifier_test", "did_learn", "isotonic_fit", "roc_auc",
]

logger = logging.getLogger(__name__)

Recipe = Literal["fast", "official"]


@dataclass(frozen=True)
class ClassifierConfig:
    """Network and training settings of the classifier test.

    Attributes:
        recipe: Name of the preset these values came from.
        hidden: Hidden layer widths.
        lr: Adam learning rate.
        batch_size: Training batch size.
        epochs: Maximum epochs.
        patience: Stop after this many epochs without a better test accuracy (``None``: never).
        max_events: Showers per sample used at most (random subset), ``None`` for all.
        standardise: Scale every input to zero mean and unit variance on the training split (the
            official recipe feeds the raw inputs).
        seed: Seed of the split, the initialisation and the batch order (run ``i`` of a repeated
            test uses ``seed + i``).
        repeats: Number of independent runs on re-drawn subsamples and splits (at least 1); the
            result reports their mean and spread.
    """

    recipe: str = "fast"
    hidden: tuple[int, ...] = (64, 64)
    lr: float = 1e-3
    batch_size: int = 256
    epochs: int = 15
    patience: int | None = 4
    max_events: int | None = 10_000
    standardise: bool = True
    seed: int = 0
    repeats: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.repeats, bool) or not isinstance(self.repeats, int) or self.repeats < 1:
            msg = f"classifier repeats must be an integer of at least 1, got {self.repeats!r}"
            raise ValueError(msg)

    @classmethod
    def preset(cls, recipe: Recipe, **overrides: Any) -> ClassifierConfig:
        """The ``"fast"`` or ``"official"`` recipe, with explicit overrides."""
        presets = {"official": cls("official", (2048, 2048, 2048), 2e-4, 1000, 50, None, None, standardise=False),
                   "fast": cls()}
        if recipe not in presets:  # a str from an untyped caller
            msg = f"unknown classifier recipe {recipe!r}; choices are: fast, official"
            raise ValueError(msg)
        base = presets[recipe]
        return base.__class__(**{**asdict(base), **overrides})

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


@dataclass
class ClassifierResult:
    """Outcome of a classifier test; the scores are means over ``repeats`` runs (one run by default).

    Attributes:
        auc: ROC AUC on the validation split after calibration.
        jsd: (ln 2 − BCE)/ln 2 on the validation split after calibration, clipped to [0, 1].
        accuracy: Validation accuracy after calibration.
        auc_uncalibrated: AUC of the raw network output.
        jsd_uncalibrated: JSD estimate from the raw network output.
        best_epoch: Epoch (1-based) with the best test accuracy (of the first run).
        n_train: Training showers per class.
        n_validation: Validation showers per class.
        history: Test accuracy per epoch (of the first run).
        auc_std: Sample standard deviation of the AUC over the runs (0 for a single run).
        jsd_std: Sample standard deviation of the JSD over the runs (0 for a single run).
        repeats: Number of runs averaged.
        runs: One entry per run, also for a single run: its ``seed``, ``auc``, ``jsd`` and ``best_epoch``.
        recipe: Name of the recipe (:attr:`ClassifierConfig.recipe`) the test ran with.
        learned: ``False`` when the network did not learn (every run, for a repeated test, must have
            learned): its test accuracy never rose above the first epoch's and its AUC stayed at 0.5
            within noise; the AUC then does not show that the samples are indistinguishable.
    """

    auc: float
    jsd: float
    accuracy: float
    auc_uncalibrated: float
    jsd_uncalibrated: float
    best_epoch: int
    n_train: int
    n_validation: int
    history: list[float] = field(default_factory=list)
    auc_std: float = 0.0
    jsd_std: float = 0.0
    repeats: int = 1
    runs: list[dict[str, Any]] = field(default_factory=list)
    recipe: str | None = None
    learned: bool = True

    @property
    def verdict(self) -> str | None:
        """``None`` for a classifier that learned, else the sentence to show beside its AUC."""
        if self.learned:
            return None
        return (f"did not learn (test accuracy never rose above its first epoch's, network AUC "
                f"{self.auc_uncalibrated:.3f} is chance level): this does not show the samples are indistinguishable; train it longer "
                "(more epochs or showers)")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``recipe`` first, left out when unknown)."""
        out = asdict(self)
        recipe = out.pop("recipe")
        return out if recipe is None else {"recipe": recipe, **out}


@dataclass(frozen=True)
class TrainedClassifier:
    """The network of one classifier run with its held-out validation split (for diagnostics).

    The validation split takes part in neither training nor epoch selection nor calibration.

    Attributes:
        network: The trained network at its best epoch; it maps inputs to one logit.
        inputs: Validation inputs as the network sees them (standardised when the recipe standardises),
            (M, D) float32.
        labels: Their labels, (M,): 0 generated, 1 reference.
        seed: Seed of the run.
    """

    network: torch.nn.Module
    inputs: NDArray[np.float32]
    labels: NDArray[np.float64]
    seed: int

    def scores(self, inputs: NDArray[np.floating] | None = None) -> NDArray[np.float64]:
        """Raw network outputs (logits), (M,), for ``inputs`` (default: the validation inputs)."""
        x = self.inputs if inputs is None else inputs
        return _logits(self.network, torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))


def _jsd(p: NDArray[np.float64], labels: NDArray[np.float64], weights: NDArray[np.float64] | None = None) -> float:
    """JSD estimate (ln 2 − BCE)/ln 2, clipped to its range [0, 1] (on few showers the BCE can exceed ln 2)."""
    ln2 = math.log(2.0)
    return float(np.clip((ln2 - binary_cross_entropy(p, labels, weights)) / ln2, 0.0, 1.0))


def _network(n_in: int, hidden: tuple[int, ...]) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    width = n_in
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.LeakyReLU()]
        width = h
    layers.append(torch.nn.Linear(width, 1))
    return torch.nn.Sequential(*layers)


def _split(n: int, rng: np.random.Generator) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    perm = rng.permutation(n)
    a, b = int(0.6 * n), int(0.8 * n)
    return perm[:a], perm[a:b], perm[b:]


def _logits(model: torch.nn.Module, x: torch.Tensor, batch: int = 4096) -> NDArray[np.float64]:
    model.eval()
    with torch.no_grad():
        out = [model(x[i : i + batch]).reshape(-1) for i in range(0, len(x), batch)]
    return torch.cat(out).double().numpy()


def _accuracy(logits: NDArray[np.float64], labels: NDArray[np.float64], weights: NDArray[np.float64] | None = None) -> float:
    return float(np.average((logits > 0) == (labels > 0.5), weights=weights))


def _train(
    model: torch.nn.Module, data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], cfg: ClassifierConfig,
    gen: torch.Generator, weights: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[int, list[float]]:
    """Trains ``model``, keeping the epoch of best test accuracy; ``weights``: per-event (train, test) weights."""
    x_train, y_train, x_test, y_test = data
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    best_acc, best_epoch, best_state, history = -1.0, 0, copy.deepcopy(model.state_dict()), []
    y_test_np = y_test.numpy()
    w_train = torch.ones(len(x_train)) if weights is None else weights[0]
    w_test = None if weights is None else weights[1].double().numpy()
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        perm = torch.randperm(len(x_train), generator=gen)
        for i in range(0, len(perm), cfg.batch_size):
            idx = perm[i : i + cfg.batch_size]
            loss = (loss_fn(model(x_train[idx]).reshape(-1), y_train[idx]) * w_train[idx]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        acc = _accuracy(_logits(model, x_test), y_test_np, w_test)
        history.append(acc)
        report_epoch(epoch, cfg.epochs, acc)
        if acc > best_acc:
            best_acc, best_epoch, best_state = acc, epoch, copy.deepcopy(model.state_dict())
        if acc == 1.0 or (cfg.patience is not None and epoch - best_epoch >= cfg.patience):
            break
    model.load_state_dict(best_state)
    return best_epoch, history


def classifier_test(
    generated: NDArray[np.floating],
    reference: NDArray[np.floating],
    config: ClassifierConfig | None = None,
    *,
    on_trained: Callable[[TrainedClassifier], None] | None = None,
    generated_weights: NDArray[np.floating] | None = None,
) -> ClassifierResult:
    """Trains the classifier on ``generated`` vs ``reference`` inputs and scores it on held-out data.

    With ``config.repeats = k > 1`` the test runs ``k`` times with seeds ``config.seed + i`` and the
    scores are averaged (``auc_std``/``jsd_std``: their sample standard deviation).

    Arguments:
        generated: Inputs of generated showers, (N₁, D) (label 0).
        reference: Inputs of reference showers, (N₂, D) (label 1). The larger sample is subsampled
            to the smaller one so the classes are balanced, as CaloChallenge requires.
        config: Settings (default: the fast recipe).
        on_trained: Called once per run with the trained network and its validation split (e.g. for
            :func:`~caloforge.evaluation.importance.permutation_importance`); it does not change the result.
        generated_weights: Per-shower weights of ``generated``, (N₁,): the test compares the weighted
            generated distribution with the reference (see the module docstring).

    Raises:
        ValueError: If the inputs disagree in width, contain NaN/inf, or have fewer than 10 rows.
    """
    cfg = config or ClassifierConfig()
    apply_threads(None, what="classifier", level=logging.DEBUG)
    if generated_weights is not None and len(generated_weights) != len(generated):
        msg = f"{len(generated_weights)} weights for {len(generated)} generated showers"
        raise ValueError(msg)
    results = [_single_test(generated, reference, replace(cfg, seed=cfg.seed + i), on_trained, generated_weights)
               for i in range(cfg.repeats)]
    runs = [{"seed": cfg.seed + i, "auc": r.auc, "jsd": r.jsd, "best_epoch": r.best_epoch, "learned": r.learned}
            for i, r in enumerate(results)]
    first = results[0]
    if cfg.repeats == 1:
        first.runs, first.recipe = runs, cfg.recipe
        logger.info("classifier: AUC %.4f, JSD %.4f (best epoch %d)", first.auc, first.jsd, first.best_epoch)
        if not first.learned:
            logger.warning("classifier (%s recipe): %s", cfg.recipe, first.verdict)
        return first

    def mean(name: str) -> float:
        return float(np.mean([getattr(r, name) for r in results]))
    def std(name: str) -> float:
        return float(np.std([getattr(r, name) for r in results], ddof=1))

    result = ClassifierResult(
        auc=mean("auc"), jsd=mean("jsd"), accuracy=mean("accuracy"), auc_uncalibrated=mean("auc_uncalibrated"),
        jsd_uncalibrated=mean("jsd_uncalibrated"), best_epoch=first.best_epoch, n_train=first.n_train,
        n_validation=first.n_validation, history=first.history, auc_std=std("auc"), jsd_std=std("jsd"),
        repeats=cfg.repeats, runs=runs, recipe=cfg.recipe, learned=all(r.learned for r in results),
    )
    logger.info("classifier: AUC %.4f ± %.4f, JSD %.4f ± %.4f (%d runs)", result.auc, result.auc_std, result.jsd,
                result.jsd_std, cfg.repeats)
    if not result.learned:
        n_bad = sum(not r.learned for r in results)
        logger.warning("classifier (%s recipe), %d of %d runs: %s", cfg.recipe, n_bad, cfg.repeats, result.verdict)
    return result


def did_learn(history: list[float], auc_uncalibrated: float, n_validation: int) -> bool:
    """Whether a run learned: its test accuracy rose after the first epoch, or its network's AUC is off chance.

    Chance level is 0.5 within two standard errors of the AUC of two equal samples of
    ``n_validation`` showers, ``sqrt((2n + 1) / (12 n²))``, and at least 0.01.

    Example:
        >>> did_learn([0.5, 0.5, 0.5], 0.499, 2000), did_learn([0.5, 0.55], 0.5, 2000)
        (False, True)
    """
    rose = any(a > history[0] for a in history[1:]) if history else False
    n = max(n_validation, 1)
    tolerance = max(0.01, 2.0 * math.sqrt((2 * n + 1) / (12.0 * n * n)))
    at_chance = abs(auc_uncalibrated - 0.5) < tolerance
    return rose or not at_chance


def _single_test(
    generated: NDArray[np.floating], reference: NDArray[np.floating], cfg: ClassifierConfig,
    on_trained: Callable[[TrainedClassifier], None] | None = None, gen_weights: NDArray[np.floating] | None = None,
) -> ClassifierResult:
    """One run of the test with ``cfg.seed`` (``cfg.repeats`` is ignored)."""
    if generated.shape[1] != reference.shape[1]:
        msg = f"classifier inputs differ in width: {generated.shape[1]} vs {reference.shape[1]}"
        raise ValueError(msg)
    rng = np.random.default_rng(cfg.seed)
    n = min(len(generated), len(reference), cfg.max_events or math.inf)
    if n < 10:
        msg = f"classifier test needs at least 10 showers per sample, got {n}"
        raise ValueError(msg)
    n = int(n)
    rows = [rng.choice(len(a), n, replace=False) for a in (generated, reference)]
    parts = [np.asarray(a, dtype=np.float32)[r] for a, r in zip((generated, reference), rows, strict=True)]
    w_parts = [np.ones(n), np.ones(n)]
    if gen_weights is not None:
        w_gen = np.asarray(gen_weights, dtype=np.float64)[rows[0]]
        w_parts[0] = w_gen / max(float(w_gen.mean()), 1e-300)
    if not all(np.isfinite(p).all() for p in parts):
        msg = "classifier inputs contain NaN or inf"
        raise ValueError(msg)
    splits = [_split(n, rng) for _ in parts]
    sets, w_sets = [], []
    for k in range(3):
        x_k = np.concatenate([parts[0][splits[0][k]], parts[1][splits[1][k]]])
        y_k = np.concatenate([np.zeros(len(splits[0][k])), np.ones(len(splits[1][k]))]).astype(np.float32)
        sets.append((torch.from_numpy(x_k), torch.from_numpy(y_k)))
        w_sets.append(np.concatenate([w_parts[0][splits[0][k]], w_parts[1][splits[1][k]]]))
    if cfg.standardise:
        mean, std = sets[0][0].mean(0), sets[0][0].std(0)
        std = torch.where(std > 0, std, torch.ones_like(std))
        for x, _ in sets:
            x.sub_(mean).div_(std)
    with torch.random.fork_rng():
        torch.manual_seed(cfg.seed)
        model = _network(parts[0].shape[1], tuple(cfg.hidden))
    gen = torch.Generator().manual_seed(cfg.seed)
    w_train = (torch.from_numpy(w_sets[0]).float(), torch.from_numpy(w_sets[1]).float())
    best_epoch, history = _train(model, (*sets[0], *sets[1]), cfg, gen, None if gen_weights is None else w_train)
    p_test = special.expit(_logits(model, sets[1][0]))  # no overflow warning for very confident logits
    p_val = special.expit(_logits(model, sets[2][0]))
    y_test, y_val = sets[1][1].double().numpy(), sets[2][1].double().numpy()
    if on_trained is not None:
        on_trained(TrainedClassifier(model, sets[2][0].numpy(), y_val, cfg.seed))
    w_test, w_val = (None, None) if gen_weights is None else (w_sets[1], w_sets[2])
    calibrated = isotonic_fit(p_test, y_test, y_min=1e-6, y_max=1.0 - 1e-6, sample_weight=w_test)(p_val)
    auc, auc_raw = roc_auc(y_val, calibrated, w_val), roc_auc(y_val, p_val, w_val)
    return ClassifierResult(
        auc=auc,
        jsd=_jsd(calibrated, y_val, w_val),
        accuracy=float(np.average(np.round(calibrated) == y_val, weights=w_val)),
        auc_uncalibrated=auc_raw,
        jsd_uncalibrated=_jsd(p_val, y_val, w_val),
        best_epoch=best_epoch,
        n_train=len(splits[0][0]),
        n_validation=len(splits[0][2]),
        history=history,
        learned=did_learn(history, auc_raw, len(splits[0][2])),
    )
