"""The Par04 export translates Par04's polar angle (90° = perpendicular) to caloforge's θ from the normal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from caloforge.export.graph import Par04Graph, Par04Settings
from caloforge.export.onnx import export_onnx
from caloforge.export.par04 import macro_for_graph
from caloforge.export.runtime import onnx_session
from caloforge.models import GenerativeModel


def _par04_input(noise: np.ndarray, energy_mev: float, polar_deg: float, s: Par04Settings) -> np.ndarray:
    """The input row Par04InferenceSetup builds: latent, E / fMaxEnergy, θ_polar / fMaxAngle, geometry one-hot."""
    n = len(noise)
    cond = np.array([[energy_mev / s.max_energy_mev, polar_deg / s.max_angle_deg, *s.geometry_onehot]] * n)
    return np.concatenate([noise, cond], axis=1).astype(np.float32)


def test_head_on_par04_input_gives_the_model_at_theta_zero(
    fitted_model: Callable[..., GenerativeModel], tmp_path: Path
) -> None:
    model = fitted_model(n_conditions=2)
    settings = Par04Settings(max_energy_mev=2e5)
    export_onnx(model, tmp_path / "m.onnx", signature="par04", par04=settings)
    session = onnx_session(tmp_path / "m.onnx", threads=1)
    noise = np.random.default_rng(4).standard_normal((3, model.noise_dim)).astype(np.float32)
    energy = 2e4
    out = session.run(None, {"input": _par04_input(noise, energy, 90.0, settings)})[0]
    n_z, n_phi, n_r = model.geometry.shape
    showers = out.reshape(-1, n_r, n_phi, n_z).transpose(0, 3, 2, 1).reshape(3, -1) * energy
    with torch.no_grad():
        head_on = model.decode(torch.tensor([[energy, 0.0]] * 3), torch.from_numpy(noise)).numpy()
        at_half_pi = model.decode(torch.tensor([[energy, np.pi / 2]] * 3), torch.from_numpy(noise)).numpy()
    np.testing.assert_allclose(showers, head_on, rtol=1e-3, atol=1e-2)
    assert not np.allclose(head_on, at_half_pi, rtol=1e-3, atol=1e-2)  # the angle matters to this model
    # 50° polar is 40° from the normal
    out50 = session.run(None, {"input": _par04_input(noise, energy, 50.0, settings)})[0]
    with torch.no_grad():
        at_40 = model.decode(torch.tensor([[energy, np.radians(40.0)]] * 3), torch.from_numpy(noise)).numpy()
    np.testing.assert_allclose(out50.reshape(-1, n_r, n_phi, n_z).transpose(0, 3, 2, 1).reshape(3, -1) * energy,
                               at_40, rtol=1e-3, atol=1e-2)


def test_macro_gives_the_trained_angles_in_par04_convention(fitted_model: Callable[..., GenerativeModel]) -> None:
    graph = Par04Graph(fitted_model(n_conditions=2))
    text = macro_for_graph(graph, "./m.onnx", graph.model.geometry.n_voxels)
    line = next(x for x in text.splitlines() if "Trained on polar angles" in x)
    lo, hi = (float(v) for v in line.split("angles ")[1].split(" deg")[0].split("-"))
    assert 0.0 < lo < hi <= 90.0  # θ ≥ 0 from the normal is a polar angle ≤ 90°
