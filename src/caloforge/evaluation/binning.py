"""CaloChallenge conventions: which dataset a geometry is, its voxel threshold and histogram binning rules.

The rules follow the official evaluation (``code/evaluate.py`` and ``code/evaluate_plotting_helper.py`` of
the CaloChallenge/homepage repository):

* voxel threshold: voxels with energy **below** it are set to zero before anything else (1 MeV for
  dataset 1, 0.5 keV / 0.033 = 15.15 keV for datasets 2 and 3);
* E_tot/E_inc: 100 equal bins on 0.5..1.5;
* energy per layer: 39 log bins from the threshold to the reference maximum of that layer;
* centre of energy in x (CaloChallenge "eta") and y ("phi"): 100 bins on ±30 mm (datasets 2/3),
  ±500 mm (dataset 1, layer ids 12 and 13) or ±100 mm (other dataset-1 layers);
* widths in x and y: 0..30 mm (datasets 2/3), 0..400 mm (dataset 1, layers 12/13), 0..100 mm;
* centre of energy in r: 0..42 mm (datasets 2/3), 0..1500 mm (dataset 1, layers 12–14), 0..500 mm;
* width in r: 0..20 mm (datasets 2/3), 0..1500 mm (dataset 1, layers 12–14), 0..500 mm;
* sparsity: 20 bins on 0..1; voxel energies: 49 log bins from the threshold to the reference maximum.

Geometries that are not a CaloChallenge dataset (``par04`` shares the dataset-3 binning and is treated as
dataset 3) get data-driven ranges: the 0.5 %–99.5 % quantiles of the reference, widened by 10 %.

Example:
    >>> from caloforge.geometry import get_geometry
    >>> dataset_kind(get_geometry("calochallenge-2")), round(default_threshold(get_geometry("par04")), 5)
    ('calochallenge-2', 0.01515)
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from caloforge.geometry import Geometry, get_geometry

__all__ = [
    "DatasetKind",
    "dataset_kind",
    "default_threshold",
    "feature_range",
    "log_edges",
    "quantile_range",
]

DatasetKind = Literal["calochallenge-1", "calochallenge-2", "calochallenge-3", "other"]

#: Voxel threshold of datasets 2/3 in MeV: 0.5 keV readout threshold divided by the 0.033 sampling fraction.
THRESHOLD_DS23_MEV = 0.5e-3 / 0.033
#: Voxel threshold of dataset 1 in MeV.
THRESHOLD_DS1_MEV = 1.0

_LINEAR_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    # feature family → (low, high) for datasets 2/3
    "ds23": {
        "ec_x": (-30.0, 30.0),
        "ec_y": (-30.0, 30.0),
        "width_x": (0.0, 30.0),
        "width_y": (0.0, 30.0),
        "ec_r": (0.0, 42.0),
        "width_r": (0.0, 20.0),
    },
}


def dataset_kind(geometry: Geometry) -> DatasetKind:
    """Which CaloChallenge dataset a geometry's binning is (``"other"`` if none).

    Arguments:
        geometry: Any geometry; compared by binning, not by name.
    """
    for name, kind in (
        ("calochallenge-2", "calochallenge-2"),
        ("calochallenge-3", "calochallenge-3"),
        ("calochallenge-1-photons", "calochallenge-1"),
        ("calochallenge-1-pions", "calochallenge-1"),
    ):
        if geometry.same_binning(get_geometry(name)):
            return kind  # type: ignore[return-value]
    return "other"


def default_threshold(geometry: Geometry) -> float:
    """The CaloChallenge voxel threshold in MeV for ``geometry`` (0 for non-CaloChallenge binnings)."""
    kind = dataset_kind(geometry)
    if kind == "calochallenge-1":
        return THRESHOLD_DS1_MEV
    if kind in ("calochallenge-2", "calochallenge-3"):
        return THRESHOLD_DS23_MEV
    return 0.0


def log_edges(low: float, high: float, n_edges: int) -> NDArray[np.float64]:
    """``n_edges`` log-spaced edges from ``low`` to ``high`` (as ``np.logspace(log10 low, log10 high, n)``).

    Degenerate inputs (``high <= low``) widen ``high`` to ``10 * low`` so the edges still increase.
    """
    if not (low > 0 and np.isfinite(low)):
        msg = f"log binning needs a positive lower edge, got {low}"
        raise ValueError(msg)
    if not (np.isfinite(high) and high > low):
        high = 10.0 * low
    return np.logspace(np.log10(low), np.log10(high), n_edges)


def quantile_range(values: NDArray[np.floating], *, nonnegative: bool = False) -> tuple[float, float]:
    """Data-driven histogram range: the 0.5 %–99.5 % quantiles of finite ``values``, widened by 10 %."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return (0.0, 1.0)
    lo, hi = np.quantile(finite, [0.005, 0.995])
    pad = 0.1 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
    lo, hi = float(lo - pad), float(hi + pad)
    if nonnegative:
        lo = max(lo, 0.0)
    return (lo, hi)


def feature_range(
    family: str, layer_id: int, kind: DatasetKind, reference: NDArray[np.floating]
) -> tuple[float, float]:
    """Histogram range of a per-layer spatial feature (``ec_x``, ``ec_y``, ``width_x``, ``width_y``,
    ``ec_r``, ``width_r``) by the CaloChallenge rule for ``kind``.

    Arguments:
        family: Feature family name.
        layer_id: The layer's CaloChallenge id (the XML ``id``), which selects the dataset-1 ranges.
        kind: Dataset kind from :func:`dataset_kind`.
        reference: Reference values of that feature, (N,), mm (used for ``"other"`` geometries only).
    """
    if kind in ("calochallenge-2", "calochallenge-3"):
        return _LINEAR_RANGES["ds23"][family]
    if kind == "calochallenge-1":
        outer = layer_id in (12, 13)
        if family in ("ec_x", "ec_y"):
            return (-500.0, 500.0) if outer else (-100.0, 100.0)
        if family in ("width_x", "width_y"):
            return (0.0, 400.0) if outer else (0.0, 100.0)
        return (0.0, 1500.0) if layer_id in (12, 13, 14) else (0.0, 500.0)
    return quantile_range(reference, nonnegative=family.startswith("width") or family == "ec_r")
