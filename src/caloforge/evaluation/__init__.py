"""Validation of generated showers against a reference (the CaloChallenge evaluation, streamed).

* :mod:`.features` — high-level features (CaloChallenge definitions); :mod:`.scan` — one streaming pass.
* :mod:`.histograms` / :mod:`.binning` — histograms with the CaloChallenge binning rules.
* :mod:`.metrics` — separation power, χ²/NDF, FPD, KPD (``METRICS`` registry); :mod:`.classifier` — AUC/JSD test.
* :mod:`.report` — :func:`evaluate` → :class:`EvaluationReport`, ``metrics.json``, figures, ``report.html``.
"""

from __future__ import annotations

from caloforge.evaluation.binning import dataset_kind, default_threshold
from caloforge.evaluation.classifier import ClassifierConfig, ClassifierResult, classifier_test
from caloforge.evaluation.config import EvaluationConfig
from caloforge.evaluation.features import FeatureTable, compute_features, features_of, hlf_vector
from caloforge.evaluation.metrics import METRICS, chi2_ndf, fpd, kpd, separation_power
from caloforge.evaluation.report import EvaluationReport, evaluate, run_evaluation
from caloforge.evaluation.scan import InvalidShowersError, SampleScan, scan_showers

__all__ = [
    "METRICS",
    "ClassifierConfig",
    "ClassifierResult",
    "EvaluationConfig",
    "EvaluationReport",
    "FeatureTable",
    "InvalidShowersError",
    "SampleScan",
    "chi2_ndf",
    "classifier_test",
    "compute_features",
    "dataset_kind",
    "default_threshold",
    "evaluate",
    "features_of",
    "fpd",
    "hlf_vector",
    "kpd",
    "run_evaluation",
    "scan_showers",
    "separation_power",
]
