"""Named one-number-per-shower observables of a :class:`~caloforge.evaluation.features.FeatureTable`.

Names (layers are 0-based indices into the geometry's layers):

* ``response`` — E_tot/E_inc; ``e_tot`` — E_tot in MeV; ``n_hits`` — voxels above the threshold;
* ``e_layer:K``, ``ec_r:K``, ``width_r:K``, ``sparsity:K``, ``n_hits:K`` — per layer K;
* ``ec_x:K``, ``ec_y:K``, ``width_x:K``, ``width_y:K`` — per layer K with angular bins.

:func:`default_observables` picks E_tot/E_inc, three layer energies around the shower maximum, the centre
and width in r of the maximum layer and the number of hits, from the reference.

Example:
    >>> from caloforge.evaluation.features import features_of
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> t = features_of(np.array([[1.0, 0.0, 2.0, 2.0]]), np.array([10.0]), g)
    >>> float(observable(t, "response", g)[0]), float(observable(t, "n_hits", g)[0])
    (0.5, 3.0)
    >>> default_observables(t)
    ('response', 'e_layer:0', 'e_layer:1', 'ec_r:1', 'width_r:1', 'n_hits')
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

from caloforge.evaluation.features import FeatureTable
from caloforge.geometry import Geometry

__all__ = ["OBSERVABLE_NAMES", "default_observables", "observable", "observable_values"]

_WHOLE = ("response", "e_tot", "n_hits")
_PER_LAYER = ("e_layer", "ec_r", "width_r", "sparsity", "n_hits")
_ANGULAR = ("ec_x", "ec_y", "width_x", "width_y")
#: The observable name patterns, for help texts.
OBSERVABLE_NAMES = (*_WHOLE, *(f"{n}:K" for n in (*_PER_LAYER, *_ANGULAR)))


def _unknown(name: str) -> ValueError:
    return ValueError(f"unknown observable {name!r}; choices are: {', '.join(OBSERVABLE_NAMES)}")


def observable(table: FeatureTable, name: str, geometry: Geometry) -> NDArray[np.float64]:
    """The values of observable ``name`` for every shower of ``table``, (N,).

    Raises:
        ValueError: On an unknown name or a layer the geometry does not have (or without angular bins).
    """
    family, sep, layer_text = name.partition(":")
    if not sep:
        if family == "response":
            return np.asarray(table.response, dtype=np.float64)
        if family == "e_tot":
            return table.e_tot
        if family == "n_hits":
            hits = ((1.0 - table.sparsity) * np.asarray(geometry.layer_sizes)).sum(axis=1)
            return np.asarray(hits.round(), dtype=np.float64)
        raise _unknown(name)
    if family not in (*_PER_LAYER, *_ANGULAR) or not layer_text.strip().isdigit():
        raise _unknown(name)
    layer = int(layer_text)
    if layer >= geometry.n_layers:
        msg = f"observable {name!r}: geometry {geometry.name!r} has layers 0..{geometry.n_layers - 1}"
        raise ValueError(msg)
    if family in _ANGULAR:
        if layer not in table.angular_layers:
            msg = f"observable {name!r}: layer {layer} has no angular bins"
            raise ValueError(msg)
        return np.asarray(getattr(table, family)[:, table.angular_layers.index(layer)])
    if family == "n_hits":
        return ((1.0 - table.sparsity[:, layer]) * geometry.layer_sizes[layer]).round()
    return np.asarray(getattr(table, family)[:, layer])


def observable_values(table: FeatureTable, names: Iterable[str], geometry: Geometry) -> dict[str, NDArray[np.float64]]:
    """``{name: values}`` for every name (see :func:`observable`)."""
    return {name: observable(table, name, geometry) for name in names}


def default_observables(reference: FeatureTable) -> tuple[str, ...]:
    """E_tot/E_inc, layer energies at half, once and twice the depth of the mean shower maximum p, centre
    and width in r of layer p, and the number of hits."""
    n_layers = reference.e_layer.shape[1]
    peak = int(np.argmax(reference.e_layer.mean(axis=0)))
    layers = sorted({peak // 2, peak, min(2 * peak, n_layers - 1)})
    return ("response", *(f"e_layer:{k}" for k in layers), f"ec_r:{peak}", f"width_r:{peak}", "n_hits")
