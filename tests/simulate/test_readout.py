"""Tests of the deposit → voxel mapping (pure numpy, no Geant4)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from caloforge.geometry import Geometry, Layer
from caloforge.simulate.readout import Deposits, deposits_to_showers, layer_voxel_index


def _deposits(event, layer, x, y, energy) -> Deposits:  # type: ignore[no-untyped-def]
    return Deposits(np.asarray(event), np.asarray(layer), np.asarray(x, float), np.asarray(y, float), np.asarray(energy, float))


def test_cylindrical_bins_follow_calochallenge_order(tiny_geometry: Geometry) -> None:
    layer = tiny_geometry.layers[0]  # 4 angular bins from -pi, radial edges 0,2,4,8,16,32
    # one point in the middle of every (angular, radial) voxel, placed at the voxel centres
    xs, ys = layer.centres()
    assert np.array_equal(layer_voxel_index(layer, xs, ys), np.arange(layer.n_voxels))
    # angle just above -pi is angular bin 0 (r = 3 mm: radial bin 1); beyond the last radial edge is outside
    index = layer_voxel_index(layer, np.array([-3.0, 40.0]), np.array([-1e-9, 0.0]))
    assert index[0] == 0 * 5 + 1
    assert index[1] == -1


def test_alpha_plus_pi_goes_to_last_bin() -> None:
    layer = Layer(r_edges=(0.0, 10.0), n_alpha=8)
    assert layer_voxel_index(layer, np.array([-1.0]), np.array([0.0]))[0] == 7
    assert layer_voxel_index(layer, np.array([math.cos(-3.0)]), np.array([math.sin(-3.0)]))[0] == 0


def test_cartesian_layer() -> None:
    g = Geometry.cartesian("cart", n_layers=1, nx=2, ny=3, cell_mm=1.0)
    index = layer_voxel_index(g.layers[0], np.array([-0.5, 0.5, 0.5, 2.0]), np.array([-1.2, 0.0, 1.4, 0.0]))
    assert index.tolist() == [0, 4, 5, -1]


def test_layers_are_summed_scaled_and_thresholded(tiny_geometry: Geometry) -> None:
    dep = _deposits(
        event=[0, 0, 0, 1, 1, 1],
        layer=[0, 1, 5, 2, 6, 3],  # physical layers 0,1 -> readout 0; 5 -> 2; 6 -> 3 (dropped)
        x=[1.0, 1.0, 0.0, 0.0, 0.0, 0.0],
        y=[0.5, 0.5, 3.0, 0.1, 0.1, 30.0],
        energy=[1.0, 2.0, 0.5, 0.2, 9.0, 0.01],
    )
    showers = deposits_to_showers(dep, tiny_geometry, n_events=3, pairs_per_readout=2, scale=10.0, threshold_mev=1.0)
    assert showers.shape == (3, tiny_geometry.n_voxels)
    assert showers.dtype == np.float32
    first = layer_voxel_index(tiny_geometry.layers[0], np.array([1.0]), np.array([0.5]))[0]
    assert showers[0, first] == pytest.approx(30.0)
    third = tiny_geometry.layer_offsets[2] + layer_voxel_index(tiny_geometry.layers[2], np.array([0.0]), np.array([3.0]))[0]
    assert showers[0, third] == pytest.approx(5.0)
    assert showers[0].sum() == pytest.approx(35.0)
    # event 1: 0.2 MeV in readout layer 1 -> 2.0; 9 MeV behind the stack dropped; 0.1 MeV below threshold
    assert showers[1].sum() == pytest.approx(2.0)
    assert showers[2].sum() == 0.0


def test_inclined_axis_is_followed(tiny_geometry: Geometry) -> None:
    depth = np.array([10.0, 20.0])
    slope = np.array([[0.5, 0.0]])
    on_axis = _deposits([0, 0], [0, 1], [5.0, 10.0], [0.0, 0.0], [1.0, 1.0])
    showers = deposits_to_showers(on_axis, tiny_geometry, n_events=1, axis_slope=slope, layer_depth_mm=depth)
    centre = layer_voxel_index(tiny_geometry.layers[0], np.array([0.0]), np.array([0.0]))[0]
    assert showers[0, centre] == pytest.approx(1.0)
    assert showers[0, tiny_geometry.layer_offsets[1] + centre] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="layer_depth_mm"):
        deposits_to_showers(on_axis, tiny_geometry, n_events=1, axis_slope=slope)


def test_mismatched_columns_raise() -> None:
    with pytest.raises(ValueError, match="differ"):
        _deposits([0], [0, 1], [0.0], [0.0], [1.0])
