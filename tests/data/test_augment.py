"""Angular symmetry augmentation: every image is a permutation within layers that keeps the physics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from caloforge.data.augment import AngularSymmetry
from caloforge.geometry import Geometry, get_geometry
from tests.conftest import make_showers


def test_images_are_rotations_and_mirrors_within_each_layer(tiny_geometry: Geometry) -> None:
    sym = AngularSymmetry(tiny_geometry)
    assert sym.n_images == 2 * 4
    x = torch.arange(tiny_geometry.n_voxels, dtype=torch.float32)[None].repeat(sym.n_images, 1)
    images = sym.image(x, torch.arange(sym.n_images)).reshape(sym.n_images, 3, 4, 5)
    grid = x[0].reshape(3, 4, 5)
    for k in range(4):
        assert torch.equal(images[k], torch.roll(grid, k, dims=1))
        assert torch.equal(images[4 + k], torch.roll(torch.flip(grid, dims=[1]), k, dims=1))
    assert len({tuple(im.flatten().tolist()) for im in images}) == sym.n_images


def test_augmentation_keeps_layer_energies_radial_profiles_and_sparsity(tiny_geometry: Geometry) -> None:
    data = make_showers(tiny_geometry, 50)
    x = torch.as_tensor(data.showers)
    y = AngularSymmetry(tiny_geometry)(x, torch.Generator().manual_seed(1))
    assert not torch.equal(x, y)
    grid_x, grid_y = x.reshape(50, 3, 4, 5), y.reshape(50, 3, 4, 5)
    assert torch.allclose(grid_x.sum(dim=2), grid_y.sum(dim=2))  # energy per (layer, radius)
    assert torch.equal((grid_x > 0).sum(dim=(2, 3)), (grid_y > 0).sum(dim=(2, 3)))


def test_mirror_is_exact_for_bins_centred_on_minus_pi_to_pi() -> None:
    g = get_geometry("calochallenge-2")
    sym = AngularSymmetry(g)
    assert sym.n_images == 32
    mirror, rotate = sym.images[16].numpy(), sym.images[1].numpy()
    assert np.allclose(g.alpha_centres[mirror], -g.alpha_centres, atol=1e-9)
    assert np.allclose(g.r_centres[mirror], g.r_centres)
    step = 2 * np.pi / 16
    assert np.allclose(np.angle(np.exp(1j * (g.alpha_centres - g.alpha_centres[rotate] - step))), 0, atol=1e-9)


def test_refuses_geometries_without_the_symmetry() -> None:
    mixed = Geometry.regular("a", n_layers=1, n_alpha=4, r_edges=[0, 1])
    other = Geometry.regular("b", n_layers=1, n_alpha=3, r_edges=[0, 1])
    with pytest.raises(ValueError, match="angular bins"):
        AngularSymmetry(Geometry("mixed", mixed.layers + other.layers))
