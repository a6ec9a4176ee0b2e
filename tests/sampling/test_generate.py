"""Generation: shapes, non-negativity, threshold, seeding, batching, streaming to file, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from caloforge.data import Conditions, ShowerProducer, produce_to_file, read_showers
from caloforge.geometry import Geometry
from caloforge.models import GenerativeModel, build_model
from caloforge.sampling import ExtrapolationWarning, ModelProducer, generate

from ..conftest import make_showers


@pytest.fixture
def model(tiny_geometry: Geometry) -> GenerativeModel:
    data = make_showers(tiny_geometry, 64)
    m = build_model("wgan", tiny_geometry, {"latent_dim": 4, "generator_hidden": [16], "critic_hidden": [8]})
    m.fit_preprocessing(torch.as_tensor(data.showers), torch.as_tensor(data.conditions()))
    return m


def test_generate_shapes_seed_and_batching(model: GenerativeModel) -> None:
    energies = np.geomspace(2e3, 5e4, 7).astype(np.float32)
    a = generate(model, energies, batch_size=3, seed=1, device="cpu")
    b = generate(model, energies, batch_size=3, seed=1, device="cpu")
    c = generate(model, energies, batch_size=3, seed=2, device="cpu")
    assert a.showers.shape == (7, model.geometry.n_voxels)
    assert (a.showers >= 0).all()
    np.testing.assert_array_equal(a.energies, energies)
    np.testing.assert_array_equal(a.showers, b.showers)
    assert not np.array_equal(a.showers, c.showers)


def test_threshold_zeroes_small_voxels(model: GenerativeModel) -> None:
    energies = np.full(20, 1e4, dtype=np.float32)
    raw = generate(model, energies, seed=0, device="cpu").showers
    cut = float(np.median(raw[raw > 0]))
    thresholded = generate(model, energies, seed=0, device="cpu", threshold=cut).showers
    assert (thresholded[(thresholded > 0)] >= cut).all()
    np.testing.assert_array_equal(thresholded[raw >= cut], raw[raw >= cut])
    assert (thresholded[raw < cut] == 0).all()


def test_extrapolation_warns(model: GenerativeModel) -> None:
    with pytest.warns(ExtrapolationWarning, match="outside the training range"):
        generate(model, np.array([1e7], dtype=np.float32), seed=0, device="cpu")


def test_bad_conditions(model: GenerativeModel) -> None:
    with pytest.raises(ValueError, match="condition column"):
        generate(model, np.ones((3, 2), dtype=np.float32) * 1e4, device="cpu")
    with pytest.raises(ValueError, match="positive"):
        generate(model, np.array([1e4, -1.0], dtype=np.float32), device="cpu")


def test_unfitted_model_refused(tiny_geometry: Geometry) -> None:
    m = build_model("wgan", tiny_geometry, {"latent_dim": 4})
    with pytest.raises(ValueError, match="not fitted"):
        generate(m, np.array([1e4], dtype=np.float32), device="cpu")


def test_produce_to_file_matches_in_memory(model: GenerativeModel, tmp_path: Path) -> None:
    energies = np.geomspace(2e3, 5e4, 9).astype(np.float32)
    path = tmp_path / "gen.h5"
    producer = ModelProducer(model=model, batch_size=4, device="cpu")
    assert isinstance(producer, ShowerProducer)
    run = produce_to_file(producer, Conditions(energies), path, seed=3)
    assert run.n == 9
    assert run.ms_per_shower > 0
    assert run.label == "WGAN"
    assert run.seed == 3
    on_disk = read_showers(path)
    in_memory = generate(model, energies, batch_size=4, seed=3, device="cpu")
    np.testing.assert_array_equal(on_disk.showers, in_memory.showers)
    assert on_disk.geometry.same_binning(model.geometry)
    assert on_disk.attrs["generator"] == "WGAN"
    assert on_disk.attrs["seed"] == 3
    with pytest.raises(FileExistsError, match="already exists"):
        produce_to_file(producer, Conditions(energies), path, seed=3)
    produce_to_file(producer, Conditions(energies[:2]), path, seed=3, overwrite=True)
    assert len(read_showers(path)) == 2


def test_model_producer_loads_a_checkpoint_once_and_pickles_without_it(model: GenerativeModel, tmp_path: Path) -> None:
    import pickle

    from caloforge.models import save_model

    save_model(model, tmp_path / "m.pt")
    producer = ModelProducer(tmp_path / "m.pt", batch_size=4, device="cpu")
    conditions = Conditions(np.full(6, 1e4, np.float32))
    first = list(producer.batches(producer.accept(conditions), 1))
    loaded = producer._state
    assert producer.model is loaded[0]
    clone = pickle.loads(pickle.dumps(producer))
    assert clone._state is None
    again = list(clone.batches(conditions, 1))
    np.testing.assert_array_equal(np.concatenate([d.showers for d in first]), np.concatenate([d.showers for d in again]))
    with pytest.raises(RuntimeError, match="in-memory model"):
        _ = pickle.loads(pickle.dumps(ModelProducer(model=model))).model


def test_angle_conditioned_model_needs_angles(tiny_geometry: Geometry) -> None:
    from tests.export.conftest import fitted

    data = make_showers(tiny_geometry, 8)
    m = fitted("wgan", tiny_geometry, n_conditions=2)
    producer = ModelProducer(model=m, device="cpu")
    with pytest.raises(ValueError, match="pass --angle"):
        producer.accept(Conditions(data.energies))
    out = producer.accept(Conditions(data.energies).with_angle(0.1))
    assert out.angles is not None
