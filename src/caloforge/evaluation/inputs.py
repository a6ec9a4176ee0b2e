"""Classifier inputs, as CaloChallenge prepares them (``prepare_low_data_for_classifier`` / ``..._high_...``).

* ``"low"`` (``cls-low``): log10 E_inc, then every voxel divided by E_inc.
* ``"low-normed"`` (``cls-low-normed``): log10 E_inc, every voxel divided by its layer energy
  (+1e-16), then log10(E_layer + 1e-8) per layer. Unlike the official script, the voxel threshold is
  applied here too (the official script thresholds only the layer energies in this mode).
* ``"high"`` (``cls-high``): the high-level feature vector :func:`~caloforge.evaluation.features.hlf_vector`.

Example:
    >>> import numpy as np
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> x = classifier_inputs("low-normed", np.array([[1.0, 3.0, 2.0, 0.0]]), np.array([100.0]), g)
    >>> x.astype(float).round(3).tolist()
    [[2.0, 0.25, 0.75, 1.0, 0.0, 0.602, 0.301]]
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from caloforge.evaluation.features import FeatureTable, hlf_vector
from caloforge.geometry import Geometry

__all__ = ["INPUT_KINDS", "InputKind", "classifier_inputs"]

InputKind = Literal["low", "low-normed", "high"]
#: The three classifier inputs, in report order.
INPUT_KINDS: tuple[InputKind, ...] = ("low", "low-normed", "high")


def classifier_inputs(
    kind: InputKind,
    voxels: NDArray[np.floating] | None,
    e_inc: NDArray[np.floating] | None,
    geometry: Geometry,
    table: FeatureTable | None = None,
) -> NDArray[np.float32]:
    """The classifier input matrix for ``kind``.

    Arguments:
        kind: ``"low"``, ``"low-normed"`` or ``"high"``.
        voxels: Thresholded showers, (N, n_voxels), MeV (``low`` kinds).
        e_inc: Incident energies, (N,), MeV (``low`` kinds).
        geometry: Readout geometry.
        table: Features of the same showers (``high``).

    Returns:
        (N, D) float32.
    """
    if kind not in INPUT_KINDS:  # a str from an untyped caller
        msg = f"unknown classifier input {kind!r}; choices are: {', '.join(INPUT_KINDS)}"
        raise ValueError(msg)
    if kind == "high":
        if table is None:
            msg = "the 'high' classifier input needs the feature table"
            raise ValueError(msg)
        return hlf_vector(table).astype(np.float32)
    if voxels is None or e_inc is None:
        msg = f"the {kind!r} classifier input needs voxels and incident energies"
        raise ValueError(msg)
    e = np.asarray(e_inc, dtype=np.float64).reshape(-1, 1)
    log_e = np.log10(e)
    if kind == "low":
        return np.concatenate([log_e, voxels / e], axis=1).astype(np.float32)
    e_layer = geometry.layer_energies(voxels.astype(np.float64))  # "low-normed"
    rep = np.repeat(e_layer, geometry.layer_sizes, axis=1)
    return np.concatenate([log_e, voxels / (rep + 1e-16), np.log10(e_layer + 1e-8)], axis=1).astype(np.float32)
