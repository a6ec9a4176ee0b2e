"""High-level features against hand-computed values and the CaloChallenge conventions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from caloforge.data import ShowerData
from caloforge.evaluation import compute_features, dataset_kind, default_threshold, hlf_vector
from caloforge.evaluation.scan import InvalidShowersError, scan_showers
from caloforge.geometry import Geometry, Layer, get_geometry


@pytest.fixture
def two_layer() -> Geometry:
    """Layer 0: 4 angular × 2 radial bins (r centres 1, 3); layer 5: 1 angular × 2 radial bins (r centres 5, 15)."""
    return Geometry("hand", (Layer(r_edges=(0, 2, 4), n_alpha=4, layer_id=0), Layer(r_edges=(0, 10, 20), n_alpha=1, layer_id=5)))


def test_features_by_hand(two_layer: Geometry) -> None:
    # layer 0 voxel order: (α0,r0) (α0,r1) (α1,r0) (α1,r1) (α2,r0) (α2,r1) (α3,r0) (α3,r1)
    shower = np.zeros((1, 10), dtype=np.float32)
    shower[0, 0] = 1.0  # α0 = -3π/4, r = 1
    shower[0, 5] = 2.0  # α2 = +π/4, r = 3
    shower[0, 6] = 0.4  # below the threshold of 0.5 → zero
    shower[0, 8] = 3.0  # layer 5, r = 5
    shower[0, 9] = 1.0  # layer 5, r = 15
    t = compute_features([ShowerData(np.array([20.0]), shower, two_layer)], two_layer, threshold=0.5)
    x = (1 * math.cos(-3 * math.pi / 4) + 2 * 3 * math.cos(math.pi / 4)) / 3
    y = (1 * math.sin(-3 * math.pi / 4) + 2 * 3 * math.sin(math.pi / 4)) / 3
    x2 = (1 * math.cos(-3 * math.pi / 4) ** 2 + 2 * 9 * math.cos(math.pi / 4) ** 2) / 3
    assert t.e_layer[0].tolist() == pytest.approx([3.0, 4.0])
    assert t.e_tot[0] == pytest.approx(7.0)
    assert t.response[0] == pytest.approx(7.0 / 20.0)
    assert t.angular_layers == (0,)
    assert t.ec_x.shape == (1, 1)
    assert t.ec_x[0, 0] == pytest.approx(x)
    assert t.ec_y[0, 0] == pytest.approx(y)
    assert t.width_x[0, 0] == pytest.approx(math.sqrt(x2 - x**2))
    assert t.ec_r[0].tolist() == pytest.approx([7.0 / 3.0, 7.5])
    assert t.width_r[0, 1] == pytest.approx(math.sqrt((3 * 25 + 225) / 4 - 7.5**2))
    assert t.sparsity[0].tolist() == pytest.approx([6 / 8, 0.0])  # fraction of zero voxels


def test_empty_layer_gives_zero_centre_and_width(two_layer: Geometry) -> None:
    t = compute_features([ShowerData(np.array([1.0]), np.zeros((1, 10)), two_layer)], two_layer, threshold=0.0)
    assert t.ec_r[0].tolist() == [0.0, 0.0]
    assert t.width_x[0, 0] == 0.0
    assert t.sparsity[0].tolist() == [1.0, 1.0]


def test_streaming_equals_one_chunk(tiny_geometry: Geometry) -> None:
    from tests.conftest import make_showers

    data = make_showers(tiny_geometry, 50)
    whole = compute_features([data.subset(slice(None))], tiny_geometry, 1.0)
    parts = compute_features([data.subset(slice(0, 17)), data.subset(slice(17, 50))], tiny_geometry, 1.0)
    np.testing.assert_allclose(hlf_vector(whole), hlf_vector(parts))


def test_hlf_vector_width(tiny_geometry: Geometry) -> None:
    from tests.conftest import make_showers

    t = compute_features([make_showers(tiny_geometry, 5)], tiny_geometry, 0.0)
    n_l, n_a = tiny_geometry.n_layers, len(tiny_geometry.layers_with_angular_bins)
    assert hlf_vector(t).shape == (5, 1 + n_l + 4 * n_a + 1 + n_l + 2 * n_l)


def test_thresholds_and_kinds() -> None:
    assert dataset_kind(get_geometry("calochallenge-3")) == "calochallenge-3"
    assert dataset_kind(get_geometry("par04")) == "calochallenge-3"
    assert dataset_kind(get_geometry("calochallenge-1-pions")) == "calochallenge-1"
    assert default_threshold(get_geometry("calochallenge-1-photons")) == 1.0
    assert default_threshold(get_geometry("calochallenge-2")) == pytest.approx(0.5e-3 / 0.033)
    assert default_threshold(get_geometry("ild-30x30x30")) == 0.0


def test_angular_centres_match_calochallenge() -> None:
    """XMLHandler: α centres are the midpoints of linspace(-π, π, n+1), radial fastest, x = r cos α."""
    g = get_geometry("calochallenge-2")
    sl = g.layer_slice(3)
    alpha = np.linspace(-math.pi, math.pi, 17)
    centres = 0.5 * (alpha[1:] + alpha[:-1])
    r = 0.5 * (np.arange(9) * 4.65 + np.arange(1, 10) * 4.65)
    expected_x = (r[None, :] * np.cos(centres[:, None])).ravel()
    np.testing.assert_allclose(g.x_centres[sl], expected_x, atol=1e-9)


def test_scan_flags_nan_and_negative(tiny_geometry: Geometry) -> None:
    from tests.conftest import make_showers

    data = make_showers(tiny_geometry, 20)
    data.showers[3, 0] = np.nan
    data.showers[5, 1] = -2.0
    scan = scan_showers([data], tiny_geometry, 0.0)
    assert (scan.n_events, scan.n_invalid, scan.n_negative_voxels, len(scan.features)) == (20, 1, 1, 19)
    with pytest.raises(InvalidShowersError, match="NaN or inf"):
        scan_showers([make_showers(tiny_geometry, 4), data], tiny_geometry, 0.0, invalid="error")
