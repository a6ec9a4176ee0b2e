"""Tests of ONNX Runtime generation, including on an interpreter where torch cannot be imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from caloforge.data import Conditions, ShowerProducer, produce_to_file, read_showers
from caloforge.export.graph import Par04Settings
from caloforge.export.metadata import ModelCardError
from caloforge.export.onnx import export_onnx
from caloforge.export.runtime import OnnxGenerator, OnnxProducer
from caloforge.models import GenerativeModel


@pytest.fixture
def exported(fitted_model: Callable[..., GenerativeModel], tmp_path: Path) -> Callable[..., tuple[Path, GenerativeModel]]:
    def factory(n_conditions: int = 1, signature: str = "caloforge") -> tuple[Path, GenerativeModel]:
        model = fitted_model(n_conditions=n_conditions)
        path = tmp_path / f"m{n_conditions}{signature}.onnx"
        export_onnx(model, path, signature=signature, par04=Par04Settings(max_energy_mev=2e5))  # type: ignore[arg-type]
        return path, model

    return factory


def test_runtime_matches_torch_decode(exported: Callable[..., tuple[Path, GenerativeModel]]) -> None:
    path, model = exported(n_conditions=2)
    gen = OnnxGenerator(path, threads=1)
    rng = np.random.default_rng(1)
    energies = rng.uniform(1e3, 1e5, 9).astype(np.float32)
    angles = rng.uniform(0, 0.3, 9).astype(np.float32)
    noise = rng.standard_normal((9, model.noise_dim), dtype=np.float32)
    out = gen.decode(energies, noise, angles)
    with torch.no_grad():
        ref = model.decode(torch.from_numpy(np.stack([energies, angles], 1)), torch.from_numpy(noise)).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-3, atol=1e-2)


def test_par04_signature_round_trips_to_calochallenge_order(
    exported: Callable[..., tuple[Path, GenerativeModel]],
) -> None:
    path, model = exported(n_conditions=2, signature="par04")
    gen = OnnxGenerator(path, threads=1)
    assert gen.input_names == ["input"]
    assert gen.card.signature == "par04"
    energies = np.array([2e3, 5e4], np.float32)
    angles = np.array([0.05, 0.25], np.float32)
    noise = np.random.default_rng(2).standard_normal((2, model.noise_dim), dtype=np.float32)
    with torch.no_grad():
        ref = model.decode(torch.from_numpy(np.stack([energies, angles], 1)), torch.from_numpy(noise)).numpy()
    np.testing.assert_allclose(gen.decode(energies, noise, angles), ref, rtol=1e-3, atol=1e-2)


def test_generate_is_seeded_and_needs_angles(exported: Callable[..., tuple[Path, GenerativeModel]]) -> None:
    path, _ = exported(n_conditions=2)
    gen = OnnxGenerator(path, threads=1)
    energies = np.full(30, 1e4, np.float32)
    angles = np.zeros(30, np.float32)
    a = gen.generate(energies, angles, batch_size=7, seed=3)
    b = gen.generate(energies, angles, batch_size=7, seed=3)
    assert a.showers.shape == (30, gen.geometry.n_voxels)
    assert np.array_equal(a.showers, b.showers)
    assert not np.array_equal(a.showers[0], a.showers[1])
    assert (a.showers >= 0).all()
    with pytest.raises(ValueError, match="angle"):
        gen.generate(energies)


def test_foreign_onnx_model_is_rejected(exported: Callable[..., tuple[Path, GenerativeModel]], tmp_path: Path) -> None:
    import onnx

    path, _ = exported()
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    onnx.save(proto, str(tmp_path / "bare.onnx"))
    with pytest.raises(ModelCardError, match="caloforge export"):
        OnnxGenerator(tmp_path / "bare.onnx")


_NO_TORCH = """
import sys
sys.modules["torch"] = None  # any `import torch` now raises ImportError
from caloforge.data import Conditions, produce_to_file, read_showers
from caloforge.export.runtime import OnnxProducer
producer = OnnxProducer(sys.argv[1], batch_size=10, threads=1)
run = produce_to_file(producer, Conditions.from_spec("log-uniform:1:100", 25, 4), sys.argv[2], seed=4)
data = read_showers(sys.argv[2])
assert data.showers.shape[0] == 25 and (data.showers >= 0).all()
from caloforge.cli.main import main
code = main(["generate", "--model", sys.argv[1], "--like", sys.argv[2], "--n", "7", "-o", sys.argv[3], "--no-progress"])
assert code == 0
assert read_showers(sys.argv[3]).energies.tolist() == data.energies[:7].tolist()
assert not any(name == "torch" or name.startswith("torch.") for name, mod in sys.modules.items() if mod is not None)
print("ok", run.n)
"""


def test_generation_works_without_torch(exported: Callable[..., tuple[Path, GenerativeModel]], tmp_path: Path) -> None:
    path, _ = exported()
    out = tmp_path / "gen.h5"
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_NO_TORCH), str(path), str(out), str(tmp_path / "cli.h5")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok 25" in proc.stdout
    producer = OnnxProducer(path, batch_size=10)
    assert isinstance(producer, ShowerProducer)
    in_process = produce_to_file(producer, Conditions.from_spec("log-uniform:1:100", 25, 4), tmp_path / "again.h5", seed=4)
    assert in_process.n == 25
    np.testing.assert_array_equal(read_showers(out).showers, read_showers(tmp_path / "again.h5").showers)


def test_producer_needs_angles_and_pickles_without_its_session(
    exported: Callable[..., tuple[Path, GenerativeModel]], tmp_path: Path
) -> None:
    import pickle

    path, _ = exported(n_conditions=2)
    producer = OnnxProducer(path, batch_size=4, threads=1)
    energies = Conditions(np.full(6, 1e4, np.float32))
    with pytest.raises(ValueError, match="pass --angle"):
        producer.accept(energies)
    run = produce_to_file(producer, energies.with_angle(0.1), tmp_path / "a.h5", seed=2)
    assert run.label.endswith("(ONNX Runtime)")
    clone = pickle.loads(pickle.dumps(producer))
    assert clone._state is None
    produce_to_file(clone, energies.with_angle(0.1), tmp_path / "b.h5", seed=2)
    a, b = read_showers(tmp_path / "a.h5"), read_showers(tmp_path / "b.h5")
    np.testing.assert_array_equal(a.showers, b.showers)
    np.testing.assert_array_equal(a.angles, np.full(6, 0.1, np.float32))
