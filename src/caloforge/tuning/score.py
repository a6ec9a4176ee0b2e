"""The fidelity score of a trial: generated vs held-out showers, with the functions of :mod:`caloforge.evaluation`.

``fidelity = SP(E_tot/E_inc) + |AUC − 0.5|``: the separation power of the response histograms (binned by the
CaloChallenge rule of the geometry, :func:`~caloforge.evaluation.histograms.histogram_specs`) plus the
distance from chance of the fast classifier's AUC (:func:`~caloforge.evaluation.classifier_test`, ``fast``
recipe). Both terms are 0 for a perfect generator, so lower is better. The intermediate value reported at
each epoch is the cheap first term alone (:func:`response_separation`).

Example:
    >>> import numpy as np
    >>> from caloforge.data import ShowerData
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> rng = np.random.default_rng(0)
    >>> a = ShowerData(np.full(200, 100.0), rng.uniform(20, 30, (200, 4)), g)
    >>> round(response_separation(a, a), 6)
    0.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from caloforge.data import ShowerData
from caloforge.evaluation import ClassifierConfig, classifier_test, dataset_kind, default_threshold, features_of
from caloforge.evaluation.features import FeatureTable, apply_threshold
from caloforge.evaluation.histograms import fill, histogram_specs
from caloforge.evaluation.inputs import InputKind, classifier_inputs
from caloforge.evaluation.metrics import separation_power

__all__ = ["FidelityScore", "fidelity_score", "response_separation"]


@dataclass(frozen=True)
class FidelityScore:
    """How close generated showers are to the held-out ones.

    Attributes:
        response_sp: Separation power of the E_tot/E_inc histograms (0: identical).
        auc: Fast-classifier ROC AUC, generated vs held-out (0.5: indistinguishable).
        score: ``response_sp + |auc − 0.5|`` (lower is better).
    """

    response_sp: float
    auc: float
    score: float


def _table(data: ShowerData) -> tuple[FeatureTable, np.ndarray]:
    threshold = default_threshold(data.geometry)
    voxels = apply_threshold(np.array(data.showers, dtype=np.float64), threshold)
    return features_of(voxels, data.energies, data.geometry), voxels


def _response_sp(generated: FeatureTable, reference: FeatureTable, data: ShowerData) -> float:
    kind = dataset_kind(data.geometry)
    spec = next(s for s in histogram_specs(reference, kind, default_threshold(data.geometry)) if s.name == "response")
    sp = separation_power(fill(generated.response, spec.edges).counts, fill(reference.response, spec.edges).counts)
    return 1.0 if np.isnan(sp) else sp  # no generated shower in range: the worst separation


def response_separation(generated: ShowerData, reference: ShowerData) -> float:
    """Separation power of the E_tot/E_inc histograms of two shower samples (after the voxel threshold)."""
    return _response_sp(_table(generated)[0], _table(reference)[0], reference)


def fidelity_score(
    generated: ShowerData, reference: ShowerData, *, inputs: InputKind = "high", seed: int = 0
) -> FidelityScore:
    """The fidelity score (module docstring) of ``generated`` against ``reference``.

    Arguments:
        generated: Generated showers, ideally one per reference incident energy.
        reference: Held-out showers of the same geometry.
        inputs: Classifier inputs (:func:`~caloforge.evaluation.inputs.classifier_inputs`).
        seed: Seed of the classifier.

    Raises:
        ValueError: Geometries that differ, or too few showers for the classifier.
    """
    if not generated.geometry.same_binning(reference.geometry):
        msg = f"generated showers are in {generated.geometry.name!r}, the held-out ones in {reference.geometry.name!r}"
        raise ValueError(msg)
    gen_table, gen_voxels = _table(generated)
    ref_table, ref_voxels = _table(reference)
    sp = _response_sp(gen_table, ref_table, reference)
    x_gen = classifier_inputs(inputs, gen_voxels, gen_table.e_inc, generated.geometry, gen_table)
    x_ref = classifier_inputs(inputs, ref_voxels, ref_table.e_inc, reference.geometry, ref_table)
    finite = np.isfinite(x_gen).all(axis=1)
    if not finite.all():  # a broken generator: its non-finite showers are what gives it away
        x_gen = np.where(np.isfinite(x_gen), x_gen, 1e6).astype(np.float32)
    result = classifier_test(x_gen, x_ref, ClassifierConfig.preset("fast", seed=seed))
    return FidelityScore(sp, float(result.auc), float(sp + abs(result.auc - 0.5)))
