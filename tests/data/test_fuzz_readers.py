"""Fuzzing the readers: truncated and bit-flipped shower files and checkpoints.

Whatever the damage, a command never crashes or prints a traceback: it exits 2 with one line, or it
reads the file correctly. Files caloforge wrote carry checksums (HDF5 1.10 metadata, Fletcher-32 data,
SHA-256 in checkpoints), so for them "correctly" means exactly the original content; the external
Par04 converter layout has no checksums, so there a successful read only has to complete. The default
run uses a fixed seed and takes a few seconds; ``--runslow`` runs many more cases.
"""

from __future__ import annotations

import random
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from caloforge.cli.main import main
from caloforge.data import ShowerData, ShowerFile, write_par04, write_showers
from caloforge.geometry import Geometry, get_geometry
from caloforge.models import build_model, save_model
from caloforge.models.integrity import state_digest
from caloforge.models.serialization import load_state
from tests.conftest import make_showers

_SEEDS = {"calochallenge": 1, "par04": 2, "converter": 3}


def _mutants(original: bytes, n: int, seed: int) -> list[bytes]:
    """``n`` damaged copies: a third truncated at a random length, the rest with 1-4 flipped bits."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        data = bytearray(original)
        if i % 3 == 0:
            data = data[: rng.randrange(len(data))]
        else:
            for _ in range(rng.choice((1, 1, 2, 4))):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        out.append(bytes(data))
    return out


def _content(path: Path) -> tuple[object, ...]:
    """What the file holds: showers, energies, angles, geometry (free-text provenance attributes aside)."""
    with ShowerFile(path) as f:
        data = f.read()
        return (data.showers.tobytes(), data.energies.tobytes(), None if data.angles is None else data.angles.tobytes(),
                f.geometry)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> int:
    try:
        code = main(args)
    except BaseException as err:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{args[1]} raised {type(err).__name__}: {err}")
    err = capsys.readouterr().err.strip()
    if code == 2:  # one error line, after any warnings
        errors = [line for line in err.splitlines() if not line.startswith("WARNING ")]
        assert len(errors) == 1, err
        assert errors[0].startswith(f"caloforge {args[1]}: error: "), err
    assert "Traceback" not in err
    assert code in (0, 2), err
    return code


@pytest.fixture
def originals(tmp_path: Path, tiny_geometry: Geometry) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    cc = tmp_path / "calochallenge.h5"
    write_showers(cc, make_showers(tiny_geometry, 48, angles=True))
    par04 = get_geometry("par04")
    sparse = (rng.random((3, par04.n_voxels)) < 0.01).astype(np.float32) * 50.0
    per_energy = tmp_path / "par04.h5"
    write_par04(per_energy, ShowerData(np.array([1e3, 1e3, 5e4], np.float32), sparse, par04))
    converter = tmp_path / "converter.h5"
    with h5py.File(converter, "w") as f:
        f["incident_energy"] = np.array([1e3, 2e4])
        f["showers"] = (rng.random((2, 18, 50, 45)) < 0.01).astype(np.float32)
    data = make_showers(tiny_geometry, 32)
    model = build_model("wgan", tiny_geometry, {"latent_dim": 4, "generator_hidden": [16], "critic_hidden": [8]})
    model.fit_preprocessing(torch.as_tensor(data.showers), torch.as_tensor(data.conditions()))
    ckpt = tmp_path / "model.pt"
    save_model(model, ckpt)
    return {"calochallenge": cc, "par04": per_energy, "converter": converter, "checkpoint": ckpt}


def _fuzz_shower_file(name: str, originals: dict[str, Path], n: int, capsys: pytest.CaptureFixture[str]) -> None:
    source = originals[name]
    expected = _content(source)
    damaged = source.with_name(f"damaged-{source.name}")
    outcomes = {0: 0, 2: 0}
    for i, data in enumerate(_mutants(source.read_bytes(), n, seed=_SEEDS[name])):
        damaged.write_bytes(data)
        code = _run(["-q", "inspect", str(damaged)], capsys)
        outcomes[code] += 1
        if code == 0 and name != "converter":  # checksummed: a successful read is the original
            assert _content(damaged) == expected, f"{name} mutant {i} read back different content"
    assert outcomes[2] > 0


def _fuzz_checkpoint(originals: dict[str, Path], n: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = originals["checkpoint"]
    digest = state_digest(load_state(source))
    damaged, out = tmp_path / "damaged.pt", tmp_path / "gen.h5"
    for i, data in enumerate(_mutants(source.read_bytes(), n, seed=7)):
        damaged.write_bytes(data)
        out.unlink(missing_ok=True)
        code = _run(["-q", "generate", "--checkpoint", str(damaged), "--energies", "fixed:10", "--n", "2", "-o",
                     str(out), "--device", "cpu", "--no-progress"], capsys)
        if code == 0:
            assert state_digest(load_state(damaged)) == digest, f"checkpoint mutant {i} loaded different weights"
        else:
            assert not out.exists()


@pytest.mark.parametrize("name", ["calochallenge", "par04", "converter"])
def test_damaged_shower_files(name: str, originals: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _fuzz_shower_file(name, originals, 40, capsys)


def test_damaged_checkpoints(originals: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fuzz_checkpoint(originals, 40, tmp_path, capsys)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["calochallenge", "par04", "converter", "checkpoint"])
def test_many_damaged_files(name: str, originals: dict[str, Path], tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    if name == "checkpoint":
        _fuzz_checkpoint(originals, 600, tmp_path, capsys)
    else:
        _fuzz_shower_file(name, originals, 600, capsys)


def test_mutants_are_reproducible() -> None:
    assert _mutants(bytes(range(256)) * 4, 10, seed=3) == _mutants(bytes(range(256)) * 4, 10, seed=3)
