from __future__ import annotations

import math

import numpy as np
import pytest

from caloforge.geometry import GEOMETRIES, Geometry, Layer, get_geometry, guess_geometry


def test_tiny_shape_and_offsets(tiny_geometry: Geometry) -> None:
    assert tiny_geometry.n_voxels == 60
    assert tiny_geometry.shape == (3, 4, 5)
    assert list(tiny_geometry.layer_offsets) == [0, 20, 40, 60]
    assert tiny_geometry.layer_slice(1) == slice(20, 40)


def test_ravel_unravel_round_trip(tiny_geometry: Geometry) -> None:
    seen = set()
    for layer in range(3):
        for a in range(4):
            for r in range(5):
                idx = tiny_geometry.ravel(layer, a, r)
                assert tiny_geometry.unravel(idx) == (layer, a, r)
                seen.add(idx)
    assert seen == set(range(60))
    # radial index runs fastest
    assert tiny_geometry.ravel(0, 0, 1) == 1
    assert tiny_geometry.ravel(0, 1, 0) == 5


def test_ravel_rejects_out_of_range(tiny_geometry: Geometry) -> None:
    with pytest.raises(IndexError):
        tiny_geometry.ravel(0, 4, 0)
    with pytest.raises(IndexError):
        tiny_geometry.unravel(60)


def test_centres_match_reshape_order(tiny_geometry: Geometry) -> None:
    r = tiny_geometry.reshape(tiny_geometry.r_centres[None])[0]
    assert np.allclose(r[1, 2], [1, 3, 6, 12, 24])
    alpha = tiny_geometry.reshape(tiny_geometry.alpha_centres[None])[0]
    assert np.allclose(alpha[0, :, 0], -math.pi + (np.arange(4) + 0.5) * math.pi / 2)
    x = tiny_geometry.x_centres
    assert np.allclose(x, tiny_geometry.r_centres * np.cos(tiny_geometry.alpha_centres))
    assert np.allclose(tiny_geometry.y_centres, tiny_geometry.r_centres * np.sin(tiny_geometry.alpha_centres))


def test_layer_energies(tiny_geometry: Geometry) -> None:
    showers = np.arange(120, dtype=float).reshape(2, 60)
    e = tiny_geometry.layer_energies(showers)
    assert e.shape == (2, 3)
    assert np.allclose(e[0], [sum(range(20)), sum(range(20, 40)), sum(range(40, 60))])


def test_irregular_geometry_has_no_shape() -> None:
    g = get_geometry("calochallenge-1-photons")
    assert not g.is_regular
    with pytest.raises(ValueError, match="not regular"):
        _ = g.shape


def test_dict_round_trip() -> None:
    for name in GEOMETRIES:
        g = get_geometry(name)
        assert Geometry.from_dict(g.to_dict()) == g


@pytest.mark.parametrize(
    ("name", "n_voxels"),
    [
        ("calochallenge-1-photons", 368),
        ("calochallenge-1-pions", 533),
        ("calochallenge-2", 6480),
        ("calochallenge-3", 40500),
        ("par04", 40500),
        ("ild-30x30x30", 27000),
        ("ild-48x25x25", 30000),
    ],
)
def test_builtin_voxel_counts(name: str, n_voxels: int) -> None:
    assert get_geometry(name).n_voxels == n_voxels


def test_par04_is_the_dataset_3_binning() -> None:
    par04, ds3 = get_geometry("par04"), get_geometry("calochallenge-3")
    assert par04.name == "par04"
    assert par04.same_binning(ds3)
    assert par04 == ds3.renamed("par04")
    assert (par04.shape, par04.layer_thickness_mm, par04.particle) == ((45, 50, 18), 3.4, "electron")


def test_cartesian_centres_symmetric() -> None:
    g = get_geometry("ild-30x30x30")
    assert g.is_cartesian
    assert g.shape == (30, 30, 30)
    assert abs(g.x_centres.mean()) < 1e-9
    assert np.isclose(g.x_centres.max(), 14.5 * 5.088)


def test_guess_and_unknown() -> None:
    assert guess_geometry(6480).name == "calochallenge-2"
    assert guess_geometry(40500).name == "calochallenge-3"
    assert guess_geometry(7) is None
    with pytest.raises(KeyError, match="choices are"):
        get_geometry("nope")


def test_invalid_layers() -> None:
    with pytest.raises(ValueError, match="increase"):
        Layer(r_edges=(0.0, 2.0, 1.0))
    with pytest.raises(ValueError, match="no layers"):
        Geometry("empty", ())
