"""Tests of the exported generation graphs and their signatures."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from caloforge.export.graph import GenerationGraph, Par04Graph, Par04Settings, build_graph
from caloforge.geometry import Geometry
from caloforge.models import MODELS, GenerativeModel, build_model


def test_energy_only_model_has_no_angle_input(fitted_model: Callable[..., GenerativeModel]) -> None:
    graph = GenerationGraph(fitted_model())
    assert graph.input_names == ("incident_energy", "noise")
    energy, noise = graph.example_inputs(6)
    assert energy.shape == (6, 1)
    assert noise.shape == (6, graph.noise_dim)
    assert bool(((energy >= 1e3) & (energy <= 1e5)).all())


def test_graph_equals_decode(fitted_model: Callable[..., GenerativeModel]) -> None:
    model = fitted_model(n_conditions=2)
    graph = GenerationGraph(model)
    assert graph.input_names == ("incident_energy", "angle", "noise")
    energy, angle, noise = graph.example_inputs(5, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = model.decode(torch.cat([energy, angle], 1), noise)
        torch.testing.assert_close(graph(energy, angle, noise), expected)


def test_par04_graph_encodes_conditions_and_reorders(fitted_model: Callable[..., GenerativeModel]) -> None:
    model = fitted_model(n_conditions=2)
    settings = Par04Settings(max_energy_mev=2e5, max_angle_deg=45.0)
    par04 = Par04Graph(model, settings)
    energy = torch.tensor([[5e3], [4e4]])
    angle_rad = torch.tensor([[0.1], [0.2]])
    noise = torch.randn(2, model.noise_dim)
    polar_deg = 90.0 - torch.rad2deg(angle_rad)  # Par04 feeds the global polar angle: 90° − θ
    x = torch.cat([noise, energy / 2e5, polar_deg / 45.0, torch.tensor([[0.0, 1.0]] * 2)], 1)
    with torch.no_grad():
        out = par04(x)
        flat = model.decode(torch.cat([energy, angle_rad], 1), noise)
    n_z, n_phi, n_r = model.geometry.shape
    assert out.shape == (2, n_r * n_phi * n_z)
    # r outermost, z fastest, normalised to the incident energy
    r, phi, z = 4, 2, 1
    expected = flat[:, model.geometry.ravel(z, phi, r)] / energy[:, 0]
    torch.testing.assert_close(out[:, (r * n_phi + phi) * n_z + z], expected, rtol=1e-4, atol=1e-7)


def test_par04_needs_a_regular_cylindrical_geometry() -> None:
    cart = Geometry.cartesian("cart", n_layers=2, nx=3, ny=3, cell_mm=5.0)
    model = build_model("wgan", cart, MODELS.get("wgan").smoke_config())
    with pytest.raises(ValueError, match="regular cylindrical"):
        Par04Graph(model)


def test_build_graph_refuses_unfitted_model(tiny_geometry: Geometry) -> None:
    model = build_model("wgan", tiny_geometry, MODELS.get("wgan").smoke_config())
    with pytest.raises(ValueError, match="not fitted"):
        build_graph(model)
