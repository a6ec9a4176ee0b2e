"""Model states: round trip, geometry check, and clear errors for bad checkpoint files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from caloforge.geometry import Geometry
from caloforge.models import CheckpointError, build_model, load_model, model_state, save_model
from caloforge.models.serialization import load_state, save_state

from ..conftest import make_showers


def _fitted(geometry: Geometry) -> torch.nn.Module:
    data = make_showers(geometry, 32)
    m = build_model("wgan", geometry, {"latent_dim": 4, "generator_hidden": [16], "critic_hidden": [8]})
    m.fit_preprocessing(torch.as_tensor(data.showers), torch.as_tensor(data.conditions()))
    return m


def test_round_trip_same_samples(tiny_geometry: Geometry, tmp_path: Path) -> None:
    model = _fitted(tiny_geometry)
    path = tmp_path / "m.pt"
    save_model(model, path)
    loaded = load_model(path)
    assert loaded.is_fitted
    assert loaded.config == model.config
    c = torch.full((5, 1), 1e4)
    a = model.sample(c, generator=torch.Generator().manual_seed(0))
    b = loaded.sample(c, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    state = torch.load(path, weights_only=True)
    assert state["name"] == "wgan"
    assert state["n_conditions"] == 1


def test_geometry_mismatch(tiny_geometry: Geometry, tmp_path: Path) -> None:
    save_model(_fitted(tiny_geometry), tmp_path / "m.pt")
    other = Geometry.regular("other", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    with pytest.raises(CheckpointError, match="trained on geometry 'tiny'"):
        load_model(tmp_path / "m.pt", geometry=other)


def test_missing_truncated_and_corrupted_files(tiny_geometry: Geometry, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_model(tmp_path / "absent.pt")
    good = tmp_path / "m.pt"
    save_model(_fitted(tiny_geometry), good)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"truncated\.pt: cannot read checkpoint"):
        load_model(truncated)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all" * 10)
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load_model(garbage)


def test_unknown_model_and_missing_keys(tiny_geometry: Geometry, tmp_path: Path) -> None:
    state = model_state(_fitted(tiny_geometry))
    state["name"] = "no-such-model"
    save_state(state, tmp_path / "x.pt")
    with pytest.raises(CheckpointError, match="unknown model 'no-such-model'"):
        load_model(tmp_path / "x.pt")
    save_state({"step": 3}, tmp_path / "y.pt")
    with pytest.raises(CheckpointError, match="missing"):
        load_model(load_state(tmp_path / "y.pt"))


def test_arbitrary_objects_are_not_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"name": "wgan", "payload": Path("/etc")}, path)
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load_model(path)
