"""Settings of an evaluation run (:class:`EvaluationConfig`) and the FPD/KPD presets.

Example:
    >>> cfg = EvaluationConfig(classifier="none", distances="fast")
    >>> fpd_kw, kpd_kw = cfg.distance_settings(100_000)
    >>> fpd_kw["max_samples"], kpd_kw["batch_size"]
    (10000, 2000)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from caloforge.evaluation.classifier import ClassifierConfig
from caloforge.evaluation.inputs import INPUT_KINDS, InputKind

__all__ = ["EvaluationConfig"]


@dataclass(frozen=True)
class EvaluationConfig:
    """Everything that determines an evaluation (stored in ``metrics.json``).

    Attributes:
        geometry: Geometry name; default: stored in the files or guessed from the voxel count.
        threshold: Voxel threshold in MeV; default: the CaloChallenge value of the dataset
            (1 MeV for dataset 1, 15.15 keV for datasets 2/3, 0 otherwise).
        classifier: ``"fast"`` (CPU default), ``"official"`` (CaloChallenge recipe) or ``"none"``.
        classifier_inputs: Which classifier tests to run (``"low"``, ``"low-normed"``, ``"high"``).
        classifier_max_events: Showers per sample for the classifier (default: the recipe's).
        classifier_memory_mb: Voxels kept per sample for the low-level classifier inputs, MiB at most
            (caps the showers used on large geometries: 256 MiB is 10k dataset-2 or 1.6k dataset-3 showers).
        classifier_epochs: Override of the recipe's epoch count.
        classifier_repeats: Runs of each classifier test on re-drawn splits (seeds ``seed``, ``seed + 1``,
            …); more than 1 reports the mean AUC/JSD ± their standard deviation.
        distances: FPD/KPD settings: ``"fast"``, ``"official"`` (the CaloChallenge/jetnet call) or ``"none"``.
        kpd_degree: Polynomial kernel degree of KPD (4, as jetnet computes it for the CaloChallenge).
        baseline: Also compare two random halves of the reference (needs ≥ 1000 showers).
        min_distance_events: FPD and KPD are computed only when both samples hold at least this many
            showers (below, they are left out and the report is flagged).
        min_classifier_events: The classifier tests run only when both samples hold at least this many
            showers (below, they are skipped and flagged: a handful of validation showers gives any AUC).
        bootstrap: Bootstrap resamplings of both samples behind the ``*_err`` uncertainties of separation
            powers, χ²/NDF and response (:mod:`.uncertainty`); 0 computes no errors.
        seed: Seed of every random choice.
        chunk_size: Showers read per chunk.
        invalid: ``"flag"`` drops and reports generated showers with NaN/inf; ``"error"`` stops.
        plots: Write figures (PNG/PDF) and embed them in the HTML report.
        plot_formats: File formats of the figures (PNG by default; PDF as well nearly doubles the drawing time, so it is on request).
        progress: Show tqdm progress bars.
        cell_threshold: Cell threshold of the hit-level observables in MeV (:mod:`.hits`); default: the
            geometry's, else ½ MIP where a MIP is known, else the voxel threshold.
    """

    geometry: str | None = None
    threshold: float | None = None
    classifier: Literal["fast", "official", "none"] = "fast"
    classifier_inputs: tuple[InputKind, ...] = INPUT_KINDS
    classifier_max_events: int | None = None
    classifier_epochs: int | None = None
    classifier_repeats: int = 1
    classifier_memory_mb: int = 256
    distances: Literal["fast", "official", "none"] = "fast"
    kpd_degree: int = 4
    baseline: bool = True
    min_distance_events: int = 100
    min_classifier_events: int = 100
    bootstrap: int = 100
    seed: int = 0
    chunk_size: int = 5_000
    invalid: Literal["flag", "error"] = "flag"
    plots: bool = True
    plot_formats: tuple[str, ...] = ("png",)
    progress: bool = False
    cell_threshold: float | None = None

    def __post_init__(self) -> None:
        for kind in self.classifier_inputs:
            if kind not in INPUT_KINDS:
                msg = f"unknown classifier input {kind!r}; choices are: {', '.join(INPUT_KINDS)}"
                raise ValueError(msg)
        if self.threshold is not None and self.threshold < 0:
            msg = f"threshold must be non-negative, got {self.threshold}"
            raise ValueError(msg)
        if self.cell_threshold is not None and not self.cell_threshold >= 0:
            msg = f"cell_threshold must be a non-negative number of MeV, got {self.cell_threshold}"
            raise ValueError(msg)
        repeats = self.classifier_repeats
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
            msg = f"classifier_repeats must be an integer of at least 1, got {repeats!r}"
            raise ValueError(msg)
        if isinstance(self.bootstrap, bool) or not isinstance(self.bootstrap, int) or self.bootstrap < 0 \
                or self.bootstrap == 1:
            msg = f"bootstrap must be 0 (no errors) or at least 2 resamplings, got {self.bootstrap!r}"
            raise ValueError(msg)
        if self.chunk_size < 1:
            msg = f"chunk_size must be positive, got {self.chunk_size}"
            raise ValueError(msg)
        if self.min_distance_events < 20 or self.min_classifier_events < 10:
            msg = (
                "min_distance_events must be at least 20 and min_classifier_events at least 10, got "
                f"{self.min_distance_events} and {self.min_classifier_events}"
            )
            raise ValueError(msg)

    def classifier_config(self) -> ClassifierConfig | None:
        """The classifier settings (``None`` when disabled)."""
        if self.classifier == "none" or not self.classifier_inputs:
            return None
        overrides: dict[str, Any] = {"seed": self.seed, "repeats": self.classifier_repeats}
        if self.classifier_max_events is not None:
            overrides["max_events"] = self.classifier_max_events
        if self.classifier_epochs is not None:
            overrides["epochs"] = self.classifier_epochs
        return ClassifierConfig.preset(self.classifier, **overrides)

    def small_sample(self, n_min: int) -> dict[str, str]:
        """Why FPD/KPD (``"distances"``) or the classifier tests (``"classifier"``) cannot run on ``n_min`` showers.

        Example:
            >>> EvaluationConfig().small_sample(50)["classifier"]
            'needs at least 100 showers per sample, got 50'
        """
        out = {}
        if self.distances != "none" and n_min < self.min_distance_events:
            out["distances"] = f"needs at least {self.min_distance_events} showers per sample, got {n_min}"
        cls = self.classifier_config()
        n_cls = min(n_min, cls.max_events or n_min) if cls is not None else n_min
        if cls is not None and n_cls < self.min_classifier_events:
            out["classifier"] = f"needs at least {self.min_classifier_events} showers per sample, got {n_cls}"
        return out

    def distance_settings(self, n_min: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Keyword arguments of :func:`~caloforge.evaluation.metrics.fpd` and ``kpd``.

        Arguments:
            n_min: Size of the smaller sample (the fast preset scales its batches down to it).
        """
        if self.distances == "official":
            return (
                {"min_samples": 10_000, "max_samples": 50_000, "num_batches": 20, "num_points": 10, "seed": self.seed},
                {"batch_size": 10_000, "num_batches": 10, "degree": self.kpd_degree, "seed": self.seed},
            )
        top = max(min(10_000, n_min), 20)
        return (
            {"min_samples": max(min(2_000, top // 2), 10), "max_samples": top, "num_batches": 10, "num_points": 5,
             "seed": self.seed},
            {"batch_size": max(min(2_000, n_min), 10), "num_batches": 10, "degree": self.kpd_degree, "seed": self.seed},
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        out = asdict(self)
        out["classifier_inputs"] = list(self.classifier_inputs)
        out["plot_formats"] = list(self.plot_formats)
        return out
