"""Validation of generated showers against a reference (the CaloChallenge evaluation, streamed).

* :mod:`.features` — high-level features (CaloChallenge definitions); :mod:`.scan` — one streaming pass.
* :mod:`.histograms` / :mod:`.binning` — histograms with the CaloChallenge binning rules.
* :mod:`.metrics` — separation power, χ²/NDF, FPD, KPD (``METRICS`` registry); :mod:`.classifier` — AUC/JSD test.
* :mod:`.diagnosis` — what gives a sample away (:class:`Diagnosis`); :mod:`.importance` — permutation importance.
* :mod:`.compare` — histogram comparisons (:class:`ComparisonSummary`), response tables.
* :mod:`.uncertainty` — bootstrap errors of every histogram metric; :mod:`.ensemble` — spread over seeded trainings.
* :mod:`.results` — the typed results (:class:`EvaluationReport`, one :class:`SampleReport` per generated
  file), turned into the ``metrics.json`` layout only when written.
* :mod:`.report` — :func:`evaluate` → :class:`EvaluationReport`, ``metrics.json``, figures, ``report.html``.
* :mod:`.plots` — figures and HTML (matplotlib: the ``plot`` extra, imported only when drawing).
"""

from __future__ import annotations

from caloforge.evaluation.binning import dataset_kind, default_threshold
from caloforge.evaluation.classifier import ClassifierConfig, ClassifierResult, TrainedClassifier, classifier_test
from caloforge.evaluation.compare import ComparisonSummary, HistComparison, ResponseTable, WorstFeature
from caloforge.evaluation.config import EvaluationConfig
from caloforge.evaluation.diagnosis import Diagnosis, FamilyGiveaway, diagnose
from caloforge.evaluation.ensemble import EnsembleSummary, MetricSpread
from caloforge.evaluation.features import FeatureTable, compute_features, features_of, hlf_groups, hlf_vector
from caloforge.evaluation.importance import PermutationImportance, permutation_importance
from caloforge.evaluation.metrics import METRICS, chi2_ndf, fpd, kpd, separation_power
from caloforge.evaluation.report import evaluate, run_evaluation
from caloforge.evaluation.results import BaselineReport, EvaluationReport, ReferenceInfo, SampleReport, SkippedTest
from caloforge.evaluation.scan import InvalidShowersError, SampleScan, scan_showers
from caloforge.evaluation.uncertainty import BootstrapErrors, bootstrap_errors

__all__ = [
    "METRICS",
    "BaselineReport",
    "BootstrapErrors",
    "ClassifierConfig",
    "ClassifierResult",
    "ComparisonSummary",
    "Diagnosis",
    "EnsembleSummary",
    "EvaluationConfig",
    "EvaluationReport",
    "FamilyGiveaway",
    "FeatureTable",
    "HistComparison",
    "InvalidShowersError",
    "MetricSpread",
    "PermutationImportance",
    "ReferenceInfo",
    "ResponseTable",
    "SampleReport",
    "SampleScan",
    "SkippedTest",
    "TrainedClassifier",
    "WorstFeature",
    "bootstrap_errors",
    "chi2_ndf",
    "classifier_test",
    "compute_features",
    "dataset_kind",
    "default_threshold",
    "diagnose",
    "evaluate",
    "features_of",
    "fpd",
    "hlf_groups",
    "hlf_vector",
    "kpd",
    "permutation_importance",
    "run_evaluation",
    "scan_showers",
    "separation_power",
]
